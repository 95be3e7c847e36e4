//! Equity vs buy & hold, with the drawdown beneath on the same time axis: the picture at the top
//! of every tear sheet.

use super::canvas::{self, PanelSpec, Swatch};
use super::downsample::downsample;
use super::lines::{span, titled};
use super::summary::{finite_range, series_line, time_range};
use super::theme::{BLUE, ORANGE, RED};
use super::{Chart, ChartOpts};
use crate::error::{DslError, Result};
use plotters::prelude::*;

/// Draws equity (and the buy & hold `benchmark`, same currency) over `times`, with the drawdown
/// panel beneath. `drawdown` is in percent (0 at a peak, -25 for 25 % below it); when `None` it
/// is computed from `equity`.
pub fn equity_chart(
    times: &[i64],
    equity: &[f64],
    benchmark: Option<&[f64]>,
    drawdown: Option<&[f64]>,
    opts: &ChartOpts,
) -> Result<Chart> {
    let n = times.len().min(equity.len());
    if n == 0 {
        return Err(DslError::invalid(
            "nothing to plot: the equity curve is empty; run a backtest over more bars",
        ));
    }
    let (times, equity) = (&times[..n], &equity[..n]);
    let computed;
    let dd = match drawdown {
        Some(d) => &d[..d.len().min(n)],
        None => {
            computed = drawdown_pct(equity);
            &computed[..]
        }
    };
    let bench = benchmark.map(|b| &b[..b.len().min(n)]);
    let (lo, hi) = finite_range([equity, bench.unwrap_or(&[])])
        .ok_or_else(|| DslError::invalid("nothing to plot: the equity curve is all NaN"))?;
    let dd_min = finite_range([dd]).map_or(0.0, |r| r.0.min(0.0));
    let (t0, t1) = (times[0], times[n - 1]);

    let mut legend = vec![("equity".to_string(), Swatch::Line(BLUE))];
    if bench.is_some() {
        legend.push(("buy & hold".to_string(), Swatch::Line(ORANGE)));
    }
    legend.push(("drawdown".to_string(), Swatch::Band(RED.mix(0.45))));

    let (ylo, yhi) = super::axis::padded(lo, hi, 0.05);
    let main_h = (opts.height as f64 * 0.5) as usize;
    let top_ticks = canvas::y_ticks(ylo, yhi, (main_h / 50).max(3), "");
    let dd_lo = if dd_min < 0.0 { dd_min * 1.08 } else { -1.0 };
    let dd_ticks = canvas::y_ticks(dd_lo, 0.0, 3, "%");
    let y_w = canvas::y_label_width(&[&top_ticks, &dd_ticks]);
    let plot_w = opts.width.saturating_sub(y_w as u32 + 20).max(10);
    let x_ticks = canvas::x_ticks(t0 as f64, t1 as f64, true, plot_w);
    let grid_only: Vec<(f64, String)> = x_ticks.iter().map(|t| (t.0, String::new())).collect();
    let range = time_range(t0, t1);
    let (x0, x1) = (t0 as f64, t1 as f64);
    let cols = plot_w as usize;

    let svg = canvas::render(opts.width, opts.height, &opts.title, |root| {
        let body = canvas::header(root, &opts.title, &range, &legend)?;
        let (_, h) = body.dim_in_pixel();
        let (top, bottom) = body.split_vertically((h as f64 * 0.7) as u32);
        let mut chart = canvas::panel(
            &top,
            &PanelSpec {
                x: span(t0, t1),
                y: (ylo, yhi),
                x_ticks: &grid_only,
                y_ticks: &top_ticks,
                y_label_width: y_w,
                show_x_labels: false,
                x_desc: "",
                y_desc: "",
            },
        )?;
        if let Some(b) = bench {
            for seg in downsample(times, b, x0, x1, cols) {
                chart.draw_series(LineSeries::new(seg, ORANGE.stroke_width(2)))?;
            }
        }
        for seg in downsample(times, equity, x0, x1, cols) {
            chart.draw_series(LineSeries::new(seg, BLUE.stroke_width(2)))?;
        }
        let mut lower = canvas::panel(
            &bottom,
            &PanelSpec {
                x: span(t0, t1),
                y: (dd_lo, 0.0),
                x_ticks: &x_ticks,
                y_ticks: &dd_ticks,
                y_label_width: y_w,
                show_x_labels: true,
                x_desc: "",
                y_desc: "",
            },
        )?;
        for seg in downsample(times, dd, x0, x1, cols) {
            lower.draw_series(
                AreaSeries::new(seg, 0.0, RED.mix(0.3)).border_style(RED.stroke_width(1)),
            )?;
        }
        Ok(())
    })?;

    let mut text = format!("Equity chart{}: {range}, {n} bars", titled(&opts.title));
    text.push_str("\n  ");
    text.push_str(&series_line("equity", equity));
    if let Some(b) = bench {
        text.push_str("\n  ");
        text.push_str(&series_line("buy & hold", b));
    }
    text.push_str(&format!("\n  max drawdown {dd_min:.2}%"));
    Ok(Chart { svg, text })
}

/// Drawdown in percent below the running peak of `equity` (0 at a new high, NaN before the first
/// finite value).
pub fn drawdown_pct(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::NAN;
    equity
        .iter()
        .map(|&e| {
            if !e.is_finite() {
                return f64::NAN;
            }
            if peak.is_nan() || e > peak {
                peak = e;
            }
            if peak > 0.0 {
                (e / peak - 1.0) * 100.0
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_is_percent_below_the_running_peak() {
        let dd = drawdown_pct(&[100.0, 110.0, 99.0, 121.0, f64::NAN, 60.5]);
        assert_eq!(dd[0], 0.0);
        assert_eq!(dd[1], 0.0);
        assert!((dd[2] + 10.0).abs() < 1e-9);
        assert_eq!(dd[3], 0.0);
        assert!(dd[4].is_nan());
        assert!((dd[5] + 50.0).abs() < 1e-9);
    }

    #[test]
    fn equity_chart_summary_carries_the_numbers() {
        let t: Vec<i64> = (0..50).map(|i| 1_700_000_000 + i * 86_400).collect();
        let eq: Vec<f64> = (0..50)
            .map(|i| 10_000.0 + (i as f64 * 0.5).sin() * 500.0)
            .collect();
        let bh: Vec<f64> = (0..50).map(|i| 10_000.0 + i as f64 * 10.0).collect();
        let c = equity_chart(&t, &eq, Some(&bh), None, &ChartOpts::titled("SMA cross")).unwrap();
        assert!(c.text.starts_with("Equity chart \"SMA cross\": 2023-11-14"));
        assert!(c.text.contains("equity: first 10000.00"));
        assert!(c.text.contains("buy & hold: first 10000.00, last 10490.00"));
        assert!(c.text.contains("max drawdown -"));
        assert!(c.svg.contains("<polygon"), "drawdown area drawn");
        assert!(c.svg.contains(">\nbuy &amp; hold\n</text>"), "legend drawn");
    }

    #[test]
    fn empty_equity_is_an_error() {
        assert!(equity_chart(&[], &[], None, None, &ChartOpts::default()).is_err());
    }
}
