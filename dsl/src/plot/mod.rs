//! SVG charts for notebooks, drawn with plotters' SVG backend over plain data (times in unix
//! seconds, values as `f64` slices): no script types here, the Rhai layer is
//! `script/plot_api.rs`.
//!
//! Each chart function returns a [`Chart`]: the SVG text plus a `text/plain` summary carrying the
//! numbers (first/last/min/max of each series, marker counts, best sweep cell), so a reader who
//! cannot see the picture still gets the results.
//!
//! - [`equity_chart`]: equity vs buy & hold, drawdown beneath on a shared time axis.
//! - [`candles_chart`]: candles (or a close line when bars outnumber pixels / 3) with indicator
//!   overlays and trade markers: ▲ long entry, ▼ short entry / exit, ✕ stop-loss, ◆ take-profit.
//! - [`signals_chart`]: boolean signals as markers (or shaded spans when they are states) over price.
//! - [`heatmap`]: a two-parameter sweep, value → colour with a colour bar.
//! - [`lines_chart`]: any number of series as lines.
//! - [`tear_sheet`]: a backtest's stats table and equity chart as displayable bundles.
//!
//! Long series are reduced to at most four points per pixel column ([`downsample`]) and each
//! series is one `<polyline>` with integer coordinates, so a 1,000,000-point equity curve is a
//! few tens of KB of SVG.

mod axis;
mod canvas;
pub mod downsample;
mod equity;
mod heatmap;
mod lines;
mod price;
mod summary;
pub mod table;
mod tear_sheet;
pub mod theme;

pub use equity::equity_chart;
pub use heatmap::heatmap;
pub use lines::lines_chart;
pub use price::{Ohlc, Signal, candles_chart, signals_chart};
pub use tear_sheet::{TearSheet, tear_sheet, tear_sheet_html};

use crate::display::MimeBundle;

/// Size and title of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartOpts {
    pub title: String,
    pub width: u32,
    pub height: u32,
    /// X values are unix seconds (UTC date labels); false for bar numbers.
    pub time_axis: bool,
}

impl Default for ChartOpts {
    fn default() -> Self {
        ChartOpts {
            title: String::new(),
            width: theme::WIDTH,
            height: theme::HEIGHT,
            time_axis: true,
        }
    }
}

impl ChartOpts {
    pub fn titled(title: impl Into<String>) -> Self {
        ChartOpts {
            title: title.into(),
            ..ChartOpts::default()
        }
    }
}

/// A drawn chart: SVG text and the summary a reader without images gets.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub svg: String,
    pub text: String,
}

impl Chart {
    /// `image/svg+xml`, the same picture as an HTML `<img>` (a data URI), and the `text/plain`
    /// summary.
    ///
    /// Why the `<img>` twin: JupyterLab does not render `image/svg+xml` in notebooks it does not
    /// trust (any notebook you did not run yourself: a shared or committed one) and falls back to
    /// the text; sanitised HTML with an `<img>` of the same SVG is shown everywhere. Frontends that
    /// rank SVG first (or drop HTML) still get the SVG.
    pub fn bundle(&self) -> MimeBundle {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.svg.as_bytes());
        let alt = crate::display::html_escape(self.text.lines().next().unwrap_or("chart"));
        MimeBundle::text(self.text.clone())
            .with("image/svg+xml", self.svg.clone())
            .with(
                "text/html",
                format!("<img src=\"data:image/svg+xml;base64,{b64}\" alt=\"{alt}\"/>"),
            )
    }
}

/// A named series to draw as a line; `times` and `values` pair up by index.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    pub label: &'a str,
    pub times: &'a [i64],
    pub values: &'a [f64],
}

/// A trade event to mark on a price chart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TradeMarker {
    pub time: i64,
    pub price: f64,
    pub kind: MarkerKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarkerKind {
    /// Opening a position: ▲ for long (a buy), ▼ for short (a sell).
    Entry { long: bool },
    /// Closing a position by signal or at the end: ▼.
    Exit,
    /// Closed by the stop-loss or a trailing stop: ✕.
    StopLoss,
    /// Closed by the take-profit: ◆.
    TakeProfit,
}

impl MarkerKind {
    pub fn label(self) -> &'static str {
        match self {
            MarkerKind::Entry { long: true } => "long entry",
            MarkerKind::Entry { long: false } => "short entry",
            MarkerKind::Exit => "exit",
            MarkerKind::StopLoss => "stop-loss",
            MarkerKind::TakeProfit => "take-profit",
        }
    }

    /// Reads an exit reason as written in trade logs ("stop_loss", "take profit", "signal", …).
    pub fn from_exit_reason(reason: &str) -> MarkerKind {
        let r = reason.to_ascii_lowercase().replace(['-', ' '], "_");
        if r.contains("stop") || r == "sl" {
            MarkerKind::StopLoss
        } else if r.contains("take") || r.contains("profit") || r == "tp" {
            MarkerKind::TakeProfit
        } else {
            MarkerKind::Exit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_reasons_map_to_marker_kinds() {
        assert_eq!(
            MarkerKind::from_exit_reason("stop_loss"),
            MarkerKind::StopLoss
        );
        assert_eq!(
            MarkerKind::from_exit_reason("Stop loss"),
            MarkerKind::StopLoss
        );
        assert_eq!(
            MarkerKind::from_exit_reason("take-profit"),
            MarkerKind::TakeProfit
        );
        assert_eq!(MarkerKind::from_exit_reason("signal"), MarkerKind::Exit);
        assert_eq!(
            MarkerKind::from_exit_reason("trailing_stop"),
            MarkerKind::StopLoss
        );
        assert_eq!(MarkerKind::from_exit_reason("end"), MarkerKind::Exit);
    }

    #[test]
    fn chart_bundle_has_svg_and_text() {
        let c = Chart {
            svg: "<svg/>".into(),
            text: "numbers".into(),
        };
        let b = c.bundle();
        assert_eq!(b.plain(), Some("numbers"));
        assert_eq!(b.data["image/svg+xml"], "<svg/>");
    }
}
