//! A two-parameter sweep as a heatmap: one cell per (x, y) pair coloured by the metric on a
//! viridis scale (readable on light and dark themes, and in grey), a colour bar, the best cell
//! outlined, and the values written in the cells when they fit.

use super::canvas::{self, PanelSpec};
use super::lines::titled;
use super::theme::{self, TEXT};
use super::{Chart, ChartOpts};
use crate::error::{DslError, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Viridis at 0, .25, .5, .75, 1.
const VIRIDIS: [(f64, f64, f64); 5] = [
    (68.0, 1.0, 84.0),
    (59.0, 82.0, 139.0),
    (33.0, 145.0, 140.0),
    (94.0, 201.0, 98.0),
    (253.0, 231.0, 37.0),
];

/// The viridis colour at `u` in [0, 1] (clamped).
pub fn viridis(u: f64) -> RGBColor {
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = u * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn luminance(c: RGBColor) -> f64 {
    (0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64) / 255.0
}

/// A parameter value as a short label: whole numbers without decimals.
fn param(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A metric value with three significant digits.
fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-4..6).contains(&mag) {
        return format!("{v:.2e}");
    }
    format!("{:.*}", (2 - mag).max(0) as usize, v)
}

/// Draws `values[yi * xs.len() + xi]` (the metric for `x_name = xs[xi]`, `y_name = ys[yi]`).
pub fn heatmap(
    x_name: &str,
    xs: &[f64],
    y_name: &str,
    ys: &[f64],
    values: &[f64],
    metric: &str,
    opts: &ChartOpts,
) -> Result<Chart> {
    let (nx, ny) = (xs.len(), ys.len());
    if nx == 0 || ny == 0 || values.len() != nx * ny {
        return Err(DslError::invalid(format!(
            "a heatmap needs {nx} × {ny} = {} values, got {}; pass one value per parameter pair",
            nx * ny,
            values.len()
        )));
    }
    let finite: Vec<(usize, f64)> = values
        .iter()
        .copied()
        .enumerate()
        .filter(|v| v.1.is_finite())
        .collect();
    let best = finite.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1));
    let worst = finite.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
    let (vmin, vmax) = match (worst, best) {
        (Some(w), Some(b)) => super::axis::padded(w.1, b.1, 0.0),
        _ => (0.0, 1.0),
    };
    let norm = |v: f64| (v - vmin) / (vmax - vmin);
    let title = if opts.title.is_empty() {
        format!("{metric} by {x_name} and {y_name}")
    } else {
        opts.title.clone()
    };
    let x_ticks: Vec<(f64, String)> = xs
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as f64, param(v)))
        .collect();
    let y_ticks: Vec<(f64, String)> = ys
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as f64, param(v)))
        .collect();
    let at = |i: usize| {
        format!(
            "{x_name}={}, {y_name}={}",
            param(xs[i % nx]),
            param(ys[i / nx])
        )
    };
    let subtitle = best.map_or(String::new(), |(i, v)| {
        format!("best {metric} {} at {}", sig3(v), at(i))
    });
    let bar_ticks = canvas::y_ticks(vmin, vmax, 5, "");
    let y_w = canvas::y_label_width(&[&y_ticks]);
    let bar_w = canvas::y_label_width(&[&bar_ticks]) + 40;

    let svg = canvas::render(opts.width, opts.height, &title, |root| {
        let body = canvas::header(root, &title, &subtitle, &[])?;
        let (bw, bh) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(bw.saturating_sub(bar_w as u32));
        let mut chart = canvas::panel(
            &left,
            &PanelSpec {
                x: (-0.5, nx as f64 - 0.5),
                y: (-0.5, ny as f64 - 0.5),
                x_ticks: &x_ticks,
                y_ticks: &y_ticks,
                y_label_width: y_w,
                show_x_labels: true,
                x_desc: x_name,
                y_desc: y_name,
            },
        )?;
        let cell = |i: usize| ((i % nx) as f64, (i / nx) as f64);
        chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
            let (x, y) = cell(i);
            let style = if v.is_finite() {
                viridis(norm(v)).filled()
            } else {
                theme::GRID.mix(0.15).filled()
            };
            Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], style)
        }))?;
        let plot_w = bw as i32 - bar_w - y_w - 36;
        let (cw, ch) = (plot_w / nx as i32, (bh as i32 - 60) / ny as i32);
        let widest = values
            .iter()
            .map(|&v| theme::text_width(&sig3(v), 11.0))
            .max()
            .unwrap_or(0);
        if nx * ny <= 150 && cw >= widest + 6 && ch >= 14 {
            chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
                let dark = v.is_finite() && luminance(viridis(norm(v))) > 0.55;
                let color = if dark {
                    RGBColor(0x1f, 0x29, 0x37)
                } else if v.is_finite() {
                    WHITE
                } else {
                    TEXT
                };
                let style = theme::text(11.0, color).pos(Pos::new(HPos::Center, VPos::Center));
                Text::new(sig3(v), cell(i), style)
            }))?;
        }
        if let Some((i, _)) = best {
            let (x, y) = cell(i);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.48, y - 0.48), (x + 0.48, y + 0.48)],
                RGBColor(0xff, 0x3d, 0x7f).stroke_width(3),
            )))?;
        }
        // The colour bar: same height as the cells (the x label rows are trimmed off).
        let strip = right.margin(0, 38, 0, 0);
        let mut bar = canvas::panel(
            &strip,
            &PanelSpec {
                x: (0.0, 1.0),
                y: (vmin, vmax),
                x_ticks: &[],
                y_ticks: &bar_ticks,
                y_label_width: bar_w - 40,
                show_x_labels: false,
                x_desc: "",
                y_desc: "",
            },
        )?;
        let steps = 48;
        bar.draw_series((0..steps).map(|k| {
            let a = vmin + (vmax - vmin) * k as f64 / steps as f64;
            let b = vmin + (vmax - vmin) * (k + 1) as f64 / steps as f64;
            Rectangle::new(
                [(0.0, a), (1.0, b)],
                viridis((k as f64 + 0.5) / steps as f64).filled(),
            )
        }))?;
        Ok(())
    })?;

    let list = |name: &str, v: &[f64]| {
        let shown: Vec<String> = v.iter().map(|&x| param(x)).collect();
        format!("{name} ({} values: {})", v.len(), shown.join(", "))
    };
    let mut text = format!(
        "Sweep heatmap{} of {metric} over {} × {}",
        titled(&opts.title),
        list(x_name, xs),
        list(y_name, ys)
    );
    if let (Some(b), Some(w)) = (best, worst) {
        text.push_str(&format!(
            "\n  best {metric} {} at {}; worst {} at {}",
            sig3(b.1),
            at(b.0),
            sig3(w.1),
            at(w.0)
        ));
    }
    let nan = values.len() - finite.len();
    if nan > 0 {
        text.push_str(&format!("\n  {nan} cells have no value"));
    }
    if nx * ny <= 400 {
        text.push_str(&format!("\n  {y_name} \\ {x_name}:"));
        text.push_str(&format!(
            "\n  {:>8} {}",
            "",
            xs.iter()
                .map(|&x| format!("{:>8}", param(x)))
                .collect::<String>()
        ));
        for (yi, &y) in ys.iter().enumerate() {
            let row: String = values[yi * nx..(yi + 1) * nx]
                .iter()
                .map(|&v| format!("{:>8}", sig3(v)))
                .collect();
            text.push_str(&format!("\n  {:>8} {row}", param(y)));
        }
    }
    Ok(Chart { svg, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_dark_purple_to_yellow() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert!(luminance(viridis(0.9)) > luminance(viridis(0.1)));
    }

    #[test]
    fn cell_and_parameter_labels_are_short() {
        assert_eq!(sig3(1.23456), "1.23");
        assert_eq!(sig3(-12.345), "-12.3");
        assert_eq!(sig3(1234.5), "1234");
        assert_eq!(sig3(f64::NAN), "–");
        assert_eq!(param(20.0), "20");
        assert_eq!(param(0.25), "0.25");
    }

    #[test]
    fn heatmap_names_the_best_and_worst_cells_and_lists_the_grid() {
        let xs = [5.0, 10.0, 20.0];
        let ys = [30.0, 50.0];
        let v = [0.1, 0.9, 0.3, -0.2, f64::NAN, 0.5];
        let c = heatmap(
            "fast",
            &xs,
            "slow",
            &ys,
            &v,
            "sharpe",
            &ChartOpts::default(),
        )
        .unwrap();
        assert!(
            c.text
                .contains("fast (3 values: 5, 10, 20) × slow (2 values: 30, 50)")
        );
        assert!(
            c.text
                .contains("best sharpe 0.900 at fast=10, slow=30; worst -0.200 at fast=5, slow=50")
        );
        assert!(c.text.contains("1 cells have no value"));
        assert!(c.svg.contains(">\n0.900\n</text>"), "cell labels drawn");
    }

    #[test]
    fn heatmap_rejects_a_grid_of_the_wrong_size() {
        let e = heatmap(
            "a",
            &[1.0, 2.0],
            "b",
            &[1.0],
            &[1.0],
            "m",
            &ChartOpts::default(),
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("needs 2 × 1 = 2 values")
        );
    }
}
