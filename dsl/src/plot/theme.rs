//! Colours, fonts and sizes shared by every chart.
//!
//! Charts are shown on JupyterLab's light and dark themes and on GitHub, so the background stays
//! transparent, text and grid lines are a neutral grey that reads on white and on near-black, and
//! series use mid-tone colours (Tailwind's 500 shades) with enough contrast on both.

use plotters::style::text_anchor::Pos;
use plotters::style::{Color, FontFamily, FontStyle, RGBAColor, RGBColor, TextStyle};

/// Default chart size: fits a JupyterLab output area without scrolling.
pub const WIDTH: u32 = 900;
pub const HEIGHT: u32 = 420;

/// Axis labels, legend text and the title.
pub const TEXT: RGBColor = RGBColor(0x8a, 0x8a, 0x8a);
/// Grid lines and axis lines (drawn with [`grid`] transparency).
pub const GRID: RGBColor = RGBColor(0x80, 0x80, 0x80);

pub const BLUE: RGBColor = RGBColor(0x3b, 0x82, 0xf6);
pub const ORANGE: RGBColor = RGBColor(0xf5, 0x9e, 0x0b);
pub const GREEN: RGBColor = RGBColor(0x22, 0xc5, 0x5e);
pub const RED: RGBColor = RGBColor(0xef, 0x44, 0x44);
pub const VIOLET: RGBColor = RGBColor(0x8b, 0x5c, 0xf6);
pub const PINK: RGBColor = RGBColor(0xec, 0x48, 0x99);
pub const TEAL: RGBColor = RGBColor(0x14, 0xb8, 0xa6);
pub const LIME: RGBColor = RGBColor(0x84, 0xcc, 0x16);
pub const SLATE: RGBColor = RGBColor(0x94, 0xa3, 0xb8);
pub const CYAN: RGBColor = RGBColor(0x06, 0xb6, 0xd4);
pub const YELLOW: RGBColor = RGBColor(0xea, 0xb3, 0x08);

/// Candle bodies: TradingView's teal and red read on both themes.
pub const UP: RGBColor = RGBColor(0x26, 0xa6, 0x9a);
pub const DOWN: RGBColor = RGBColor(0xef, 0x53, 0x50);

/// Series colours in order of use.
pub const PALETTE: [RGBColor; 8] = [BLUE, ORANGE, TEAL, PINK, VIOLET, LIME, RED, SLATE];

/// Indicator overlays on price charts: none of the candle or trade-marker hues.
pub const OVERLAYS: [RGBColor; 5] = [BLUE, CYAN, YELLOW, SLATE, LIME];

/// The `i`th overlay colour; with a close line (blue) drawn, overlays start at the second.
pub fn overlay_color(i: usize, close_line: bool) -> RGBColor {
    OVERLAYS[(i + close_line as usize) % OVERLAYS.len()]
}

/// The `i`th series colour (cycles).
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Grid line colour: faint grey.
pub fn grid() -> RGBAColor {
    GRID.mix(0.22)
}

/// Axis line colour.
pub fn axis() -> RGBAColor {
    GRID.mix(0.55)
}

/// Pixel size of label text as the browser draws it. plotters writes `font-size = size / 1.24`
/// into the SVG, so styles are built from the wanted pixel size times 1.24.
pub const LABEL_PX: f64 = 11.0;
pub const LEGEND_PX: f64 = 12.0;
pub const TITLE_PX: f64 = 15.0;

/// A sans-serif text style of `px` pixels in `color`.
pub fn text(px: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: (FontFamily::SansSerif, px * 1.24).into(),
        color: color.to_backend_color(),
        pos: Pos::default(),
    }
}

/// The bold title style.
pub fn title() -> TextStyle<'static> {
    TextStyle {
        font: (FontFamily::SansSerif, TITLE_PX * 1.24, FontStyle::Bold).into(),
        color: TEXT.to_backend_color(),
        pos: Pos::default(),
    }
}

/// Estimated width in pixels of `s` at `px` (a sans-serif glyph averages ~0.58 em); used to lay
/// out legends and label areas, since the SVG backend cannot measure text.
pub fn text_width(s: &str, px: f64) -> i32 {
    (s.chars().count() as f64 * px * 0.58).ceil() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_colours_cycle_through_the_palette() {
        assert_eq!(series_color(0), BLUE);
        assert_eq!(series_color(PALETTE.len()), BLUE);
        assert_eq!(series_color(1), ORANGE);
    }

    #[test]
    fn text_width_grows_with_characters_not_bytes() {
        assert_eq!(text_width("▲▲", 10.0), text_width("ab", 10.0));
        assert!(text_width("equity", 12.0) > text_width("dd", 12.0));
    }
}
