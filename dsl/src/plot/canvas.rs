//! What every chart shares: an SVG string backend, the header (title, time range, legend), a
//! cartesian panel with our grid and axis labels, marker shapes and the final SVG clean-up.

use super::axis;
use super::theme::{self, LABEL_PX, LEGEND_PX, TEXT};
use crate::error::{DslError, Result};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::RGBAColor;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What drawing functions return; any plotters error becomes one [`DslError`] in [`render`].
pub type Draw<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub type Panel<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws a `width`×`height` chart with `f` and returns its SVG text, with `title` as the SVG's
/// accessible `<title>`.
pub fn render(
    width: u32,
    height: u32,
    title: &str,
    f: impl FnOnce(&Area<'_>) -> Draw,
) -> Result<String> {
    let mut buf = String::with_capacity(32 * 1024);
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        f(&root).map_err(|e| DslError::invalid(format!("cannot draw the chart: {e}")))?;
        root.present()
            .map_err(|e| DslError::invalid(format!("cannot draw the chart: {e}")))?;
    }
    Ok(finish(buf, title))
}

/// Drops attributes that only restate defaults and adds `<title>` for screen readers.
fn finish(svg: String, title: &str) -> String {
    let mut svg = round_font_sizes(&svg.replace(" opacity=\"1\"", ""));
    if !title.is_empty()
        && let Some(end) = svg.find(">\n")
    {
        let t = format!("\n<title>{}</title>", crate::display::html_escape(title));
        svg.insert_str(end + 1, &t);
    }
    svg
}

/// `font-size="15.000000000000002"` → `font-size="15"` (plotters divides our size by 1.24).
fn round_font_sizes(svg: &str) -> String {
    const KEY: &str = "font-size=\"";
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(i) = rest.find(KEY) {
        let (head, tail) = rest.split_at(i + KEY.len());
        out.push_str(head);
        let end = tail.find('"').unwrap_or(0);
        match tail[..end].parse::<f64>() {
            Ok(v) => out.push_str(&format!("{}", (v * 10.0).round() / 10.0)),
            Err(_) => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A legend entry's little picture.
#[derive(Clone, Copy, Debug)]
pub enum Swatch {
    Line(RGBColor),
    Marker(Shape, RGBColor),
    Band(RGBAColor),
}

/// Marker shapes, drawn centred on their point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Up,
    Down,
    Cross,
    Diamond,
    Circle,
}

/// The polygon of `shape` around (0, 0), `r` pixels from centre to tip.
pub fn shape_points(shape: Shape, r: i32) -> Vec<(i32, i32)> {
    match shape {
        Shape::Up => vec![(0, -r), (r, r * 3 / 4), (-r, r * 3 / 4)],
        Shape::Down => vec![(0, r), (r, -r * 3 / 4), (-r, -r * 3 / 4)],
        Shape::Diamond => vec![(0, -r), (r, 0), (0, r), (-r, 0)],
        Shape::Circle => (0..8)
            .map(|k| {
                let a = k as f64 * std::f64::consts::PI / 4.0;
                (
                    (a.cos() * r as f64 * 0.85).round() as i32,
                    (a.sin() * r as f64 * 0.85).round() as i32,
                )
            })
            .collect(),
        Shape::Cross => {
            // A plus sign of arm half-width t, turned 45°.
            let (s, t) = (r as f64 * 1.25, (r as f64 * 0.32).max(1.5));
            let plus = [
                (t, s),
                (t, t),
                (s, t),
                (s, -t),
                (t, -t),
                (t, -s),
                (-t, -s),
                (-t, -t),
                (-s, -t),
                (-s, t),
                (-t, t),
                (-t, s),
            ];
            let k = std::f64::consts::FRAC_1_SQRT_2;
            plus.iter()
                .map(|&(x, y)| (((x - y) * k).round() as i32, ((x + y) * k).round() as i32))
                .collect()
        }
    }
}

/// Draws markers centred on data points: the filled shape plus, when there are few, a thin light
/// outline so each stands out from candles and lines of the same hue on either theme.
pub fn draw_markers(
    chart: &mut Panel<'_, '_>,
    points: &[(f64, f64)],
    shape: Shape,
    color: RGBColor,
    r: i32,
) -> Draw {
    let pts = shape_points(shape, r);
    chart.draw_series(
        points
            .iter()
            .map(|&at| EmptyElement::at(at) + Polygon::new(pts.clone(), color.filled())),
    )?;
    if points.len() <= 300 {
        let mut ring = pts.clone();
        ring.push(pts[0]);
        chart.draw_series(points.iter().map(|&at| {
            EmptyElement::at(at) + PathElement::new(ring.clone(), WHITE.mix(0.8).stroke_width(1))
        }))?;
    }
    Ok(())
}

/// Draws the title (with an optional grey subtitle, e.g. the time range) and the legend; returns
/// the area left for the plot.
pub fn header<'a>(
    root: &Area<'a>,
    title: &str,
    subtitle: &str,
    legend: &[(String, Swatch)],
) -> Draw<Area<'a>> {
    let (w, _) = root.dim_in_pixel();
    let mut y = 6;
    if !title.is_empty() || !subtitle.is_empty() {
        root.draw(&Text::new(title.to_string(), (14, y), theme::title()))?;
        // The subtitle sits at the right end of the title row, clear of the title's end.
        let room = w as i32 - 28 - theme::text_width(title, theme::TITLE_PX * 1.15);
        if theme::text_width(subtitle, LABEL_PX) < room {
            let right = theme::text(LABEL_PX, TEXT).pos(Pos::new(HPos::Right, VPos::Top));
            root.draw(&Text::new(
                subtitle.to_string(),
                (w as i32 - 14, y + 3),
                right,
            ))?;
        }
        y += 22;
    }
    if !legend.is_empty() {
        let mut x = 14;
        for (label, swatch) in legend {
            let item_w = 22 + theme::text_width(label, LEGEND_PX) + 16;
            if x + item_w > w as i32 - 8 && x > 14 {
                x = 14;
                y += 18;
            }
            draw_swatch(root, *swatch, x, y + 7)?;
            root.draw(&Text::new(
                label.clone(),
                (x + 22, y),
                theme::text(LEGEND_PX, TEXT),
            ))?;
            x += item_w;
        }
        y += 18;
    }
    Ok(root.split_vertically(y + 4).1)
}

fn draw_swatch(root: &Area<'_>, swatch: Swatch, x: i32, cy: i32) -> Draw {
    match swatch {
        Swatch::Line(c) => {
            root.draw(&PathElement::new(
                vec![(x, cy), (x + 16, cy)],
                c.stroke_width(3),
            ))?;
        }
        Swatch::Band(c) => {
            root.draw(&Rectangle::new([(x, cy - 5), (x + 16, cy + 5)], c.filled()))?;
        }
        Swatch::Marker(shape, c) => {
            let pts: Vec<(i32, i32)> = shape_points(shape, 5)
                .into_iter()
                .map(|(px, py)| (px + x + 8, py + cy))
                .collect();
            root.draw(&Polygon::new(pts, c.filled()))?;
        }
    }
    Ok(())
}

/// How one panel's axes look.
pub struct PanelSpec<'s> {
    pub x: (f64, f64),
    pub y: (f64, f64),
    /// X ticks with labels; empty labels draw grid lines only.
    pub x_ticks: &'s [(f64, String)],
    pub y_ticks: &'s [(f64, String)],
    /// Width of the y label column (use [`y_label_width`] for panels that share an x axis).
    pub y_label_width: i32,
    pub show_x_labels: bool,
    pub x_desc: &'s str,
    pub y_desc: &'s str,
}

/// Builds a panel on `area` and draws its grid, axes and tick labels. The mesh is drawn here
/// rather than by plotters' `configure_mesh` so ticks sit exactly on our calendar-aligned times.
pub fn panel<'a, 'b>(area: &'a Area<'b>, spec: &PanelSpec<'_>) -> Draw<Panel<'a, 'b>> {
    let x_desc_h = if spec.x_desc.is_empty() { 0 } else { 16 };
    let y_desc_w = if spec.y_desc.is_empty() { 0 } else { 18 };
    let mut chart = ChartBuilder::on(area)
        .margin_right(18)
        .margin_top(4)
        .x_label_area_size(if spec.show_x_labels { 22 + x_desc_h } else { 0 })
        .y_label_area_size(spec.y_label_width + y_desc_w)
        .build_cartesian_2d(spec.x.0..spec.x.1, spec.y.0..spec.y.1)?;
    let ((x0, x1), (y0, y1)) = (spec.x, spec.y);
    let grid = theme::grid().stroke_width(1);
    chart.draw_series(
        spec.x_ticks
            .iter()
            .map(|&(x, _)| PathElement::new(vec![(x, y0), (x, y1)], grid)),
    )?;
    chart.draw_series(
        spec.y_ticks
            .iter()
            .map(|&(y, _)| PathElement::new(vec![(x0, y), (x1, y)], grid)),
    )?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x0, y1), (x0, y0), (x1, y0)],
        theme::axis().stroke_width(1),
    )))?;
    let label = theme::text(LABEL_PX, TEXT);
    if spec.show_x_labels {
        let below = label.pos(Pos::new(HPos::Center, VPos::Top));
        chart.draw_series(
            spec.x_ticks
                .iter()
                .filter(|t| !t.1.is_empty())
                .map(|(x, l)| {
                    EmptyElement::at((*x, y0)) + Text::new(l.clone(), (0, 6), below.clone())
                }),
        )?;
        if !spec.x_desc.is_empty() {
            chart.draw_series(std::iter::once(
                EmptyElement::at(((x0 + x1) / 2.0, y0))
                    + Text::new(spec.x_desc.to_string(), (0, 22), below.clone()),
            ))?;
        }
    }
    let left = label.pos(Pos::new(HPos::Right, VPos::Center));
    chart.draw_series(
        spec.y_ticks
            .iter()
            .map(|(y, l)| EmptyElement::at((x0, *y)) + Text::new(l.clone(), (-6, 0), left.clone())),
    )?;
    if !spec.y_desc.is_empty() {
        let rotated = label
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top));
        chart.draw_series(std::iter::once(
            EmptyElement::at((x0, (y0 + y1) / 2.0))
                + Text::new(
                    spec.y_desc.to_string(),
                    (-(spec.y_label_width + y_desc_w) + 2, 0),
                    rotated,
                ),
        ))?;
    }
    Ok(chart)
}

/// Value ticks with labels over `[lo, hi]`, about `target` of them, each label followed by
/// `suffix` (e.g. "%").
pub fn y_ticks(lo: f64, hi: f64, target: usize, suffix: &str) -> Vec<(f64, String)> {
    let step = axis::nice_step(lo, hi, target);
    axis::value_ticks(lo, hi, step)
        .into_iter()
        .map(|v| (v, format!("{}{suffix}", axis::fmt_tick(v, step))))
        .collect()
}

/// The y label column width that fits every label of every panel given.
pub fn y_label_width(panels: &[&[(f64, String)]]) -> i32 {
    let longest = panels
        .iter()
        .flat_map(|p| p.iter())
        .map(|(_, l)| theme::text_width(l, LABEL_PX))
        .max()
        .unwrap_or(0);
    (longest + 14).max(36)
}

/// X ticks for `[t0, t1]` on a plot `plot_w` pixels wide: UTC dates on a time axis, whole
/// numbers on a bar-number axis.
pub fn x_ticks(t0: f64, t1: f64, time_axis: bool, plot_w: u32) -> Vec<(f64, String)> {
    if time_axis {
        return axis::time_ticks(t0, t1, max_x_ticks(plot_w, "2024-01-01"));
    }
    let step = axis::nice_step(t0, t1, max_x_ticks(plot_w, "100000"))
        .max(1.0)
        .round();
    axis::value_ticks(t0, t1, step)
        .into_iter()
        .map(|v| (v, format!("{v:.0}")))
        .collect()
}

/// How many x ticks fit `width` pixels of labels like `sample`.
pub fn max_x_ticks(width: u32, sample: &str) -> usize {
    let per = theme::text_width(sample, LABEL_PX) + 36;
    ((width as i32 - 100) / per.max(1)).clamp(2, 12) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_closed_polygons_around_their_point() {
        for shape in [
            Shape::Up,
            Shape::Down,
            Shape::Cross,
            Shape::Diamond,
            Shape::Circle,
        ] {
            let pts = shape_points(shape, 6);
            assert!(pts.len() >= 3, "{shape:?}");
            let (sx, sy) = pts.iter().fold((0, 0), |a, p| (a.0 + p.0, a.1 + p.1));
            let n = pts.len() as i32;
            assert!(
                (sx / n).abs() <= 2 && (sy / n).abs() <= 3,
                "{shape:?} centred"
            );
            assert!(pts.iter().all(|p| p.0.abs() <= 8 && p.1.abs() <= 8));
        }
        assert!(shape_points(Shape::Up, 6)[0].1 < 0, "▲ tip points up");
        assert!(shape_points(Shape::Down, 6)[0].1 > 0, "▼ tip points down");
    }

    #[test]
    fn finish_drops_default_opacity_and_adds_a_title() {
        let svg = finish(
            "<svg width=\"1\">\n<rect opacity=\"1\" x=\"0\"/>\n<text font-size=\"9.677419354838\">\n</svg>\n".into(),
            "a < b",
        );
        assert_eq!(
            svg,
            "<svg width=\"1\">\n<title>a &lt; b</title>\n<rect x=\"0\"/>\n<text font-size=\"9.7\">\n</svg>\n"
        );
    }

    #[test]
    fn y_labels_carry_their_suffix() {
        let t = y_ticks(-10.0, 0.0, 5, "%");
        assert_eq!(t.first().map(|x| x.1.as_str()), Some("-10%"));
        assert_eq!(t.last().map(|x| x.1.as_str()), Some("0%"));
    }
}
