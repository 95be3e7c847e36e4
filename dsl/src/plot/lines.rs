//! `plot(series…)`: any number of series as lines on one time (or bar-number) axis.

use super::canvas::{self, PanelSpec, Swatch};
use super::downsample::downsample;
use super::summary::{finite_range, series_line, x_range};
use super::theme::series_color;
use super::{Chart, ChartOpts, Line};
use crate::error::{DslError, Result};
use plotters::prelude::*;

/// Draws `lines` (each with its own times) as one chart with a legend.
pub fn lines_chart(lines: &[Line<'_>], opts: &ChartOpts) -> Result<Chart> {
    let (t0, t1) = time_span(lines).ok_or_else(nothing)?;
    let (lo, hi) = finite_range(lines.iter().map(|l| l.values)).ok_or_else(nothing)?;
    let legend: Vec<(String, Swatch)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.label.to_string(), Swatch::Line(series_color(i))))
        .collect();
    let range = x_range(t0, t1, opts.time_axis);
    let (ylo, yhi) = super::axis::padded(lo, hi, 0.05);
    let y_ticks = canvas::y_ticks(ylo, yhi, (opts.height as usize / 60).max(3), "");
    let y_w = canvas::y_label_width(&[&y_ticks]);
    let plot_w = opts.width.saturating_sub(y_w as u32 + 20).max(10);
    let x_ticks = canvas::x_ticks(t0 as f64, t1 as f64, opts.time_axis, plot_w);
    let svg = canvas::render(opts.width, opts.height, &opts.title, |root| {
        let body = canvas::header(root, &opts.title, &range, &legend)?;
        let mut chart = canvas::panel(
            &body,
            &PanelSpec {
                x: span(t0, t1),
                y: (ylo, yhi),
                x_ticks: &x_ticks,
                y_ticks: &y_ticks,
                y_label_width: y_w,
                show_x_labels: true,
                x_desc: "",
                y_desc: "",
            },
        )?;
        for (i, l) in lines.iter().enumerate() {
            let style = series_color(i).stroke_width(2);
            for seg in downsample(l.times, l.values, t0 as f64, t1 as f64, plot_w as usize) {
                chart.draw_series(LineSeries::new(seg, style))?;
            }
        }
        Ok(())
    })?;
    let mut text = format!(
        "Line chart{}: {} series, {range}",
        titled(&opts.title),
        lines.len()
    );
    for l in lines {
        text.push_str("\n  ");
        text.push_str(&series_line(l.label, l.values));
    }
    Ok(Chart { svg, text })
}

fn nothing() -> DslError {
    DslError::invalid("nothing to plot: every series is empty or NaN")
}

/// First and last time over all lines.
fn time_span(lines: &[Line<'_>]) -> Option<(i64, i64)> {
    let firsts = lines
        .iter()
        .filter_map(|l| l.times.first().copied())
        .min()?;
    let lasts = lines.iter().filter_map(|l| l.times.last().copied()).max()?;
    Some((firsts, lasts))
}

/// The x range as floats, widened when it is a single instant.
pub(super) fn span(t0: i64, t1: i64) -> (f64, f64) {
    if t1 > t0 {
        (t0 as f64, t1 as f64)
    } else {
        (t0 as f64 - 1.0, t1 as f64 + 1.0)
    }
}

/// ` "title"` for summaries, or nothing.
pub(super) fn titled(title: &str) -> String {
    if title.is_empty() {
        String::new()
    } else {
        format!(" \"{title}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_chart_draws_one_polyline_per_series_and_summarises_them() {
        let t: Vec<i64> = (0..100).map(|i| 1_700_000_000 + i * 3600).collect();
        let a: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..100)
            .map(|i| if i < 10 { f64::NAN } else { 50.0 })
            .collect();
        let lines = [
            Line {
                label: "a",
                times: &t,
                values: &a,
            },
            Line {
                label: "b",
                times: &t,
                values: &b,
            },
        ];
        let c = lines_chart(&lines, &ChartOpts::titled("two")).unwrap();
        let blue = c
            .svg
            .matches("stroke=\"#3B82F6\" stroke-width=\"2\"")
            .count();
        let orange = c
            .svg
            .matches("stroke=\"#F59E0B\" stroke-width=\"2\"")
            .count();
        assert_eq!((blue, orange), (1, 1), "one polyline per series");
        assert!(c.text.contains("2 series"));
        assert!(
            c.text
                .contains("a: first 0, last 99.0000, min 0, max 99.0000")
        );
        assert!(c.text.contains("(10 NaN)"));
    }

    #[test]
    fn all_nan_input_is_an_error_not_an_empty_picture() {
        let t = [1, 2];
        let v = [f64::NAN, f64::NAN];
        let e = lines_chart(
            &[Line {
                label: "x",
                times: &t,
                values: &v,
            }],
            &ChartOpts::default(),
        );
        assert!(e.unwrap_err().to_string().contains("nothing to plot"));
    }
}
