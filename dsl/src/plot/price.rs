//! Price charts: candles (or a close line when there are more bars than pixels / 3) with
//! indicator overlays, trade markers (▲ long entry, ▼ short entry, ▼ exit, ✕ stop-loss,
//! ◆ take-profit) or boolean signals.

use super::canvas::{self, PanelSpec, Shape, Swatch};
use super::downsample::{downsample, one_per_column};
use super::lines::{span, titled};
use super::summary::{finite_range, series_line, time_range};
use super::theme::{self, BLUE, DOWN, GREEN, ORANGE, PINK, RED, UP, VIOLET};
use super::{Chart, ChartOpts, Line, MarkerKind, TradeMarker};
use crate::display::fmt_num;
use crate::error::{DslError, Result};
use crate::time::format_time;
use plotters::prelude::*;
use plotters::style::RGBAColor;

/// OHLC columns of one bars table (equal lengths, ascending times in unix seconds).
#[derive(Clone, Copy, Debug)]
pub struct Ohlc<'a> {
    pub time: &'a [i64],
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
}

impl Ohlc<'_> {
    fn len(&self) -> usize {
        [self.open, self.high, self.low, self.close]
            .iter()
            .map(|c| c.len())
            .fold(self.time.len(), usize::min)
    }
}

/// A boolean series (non-zero, non-NaN is true) to show over price.
#[derive(Clone, Copy, Debug)]
pub struct Signal<'a> {
    pub label: &'a str,
    pub values: &'a [f64],
}

/// Markers of one kind.
struct Marks {
    label: String,
    shape: Shape,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

/// Shaded time spans (a signal that is a state, true for runs of bars).
struct Bands {
    label: String,
    color: RGBAColor,
    spans: Vec<(f64, f64)>,
}

const KINDS: [(MarkerKind, Shape, RGBColor); 5] = [
    (MarkerKind::Entry { long: true }, Shape::Up, GREEN),
    (MarkerKind::Entry { long: false }, Shape::Down, PINK),
    (MarkerKind::Exit, Shape::Down, ORANGE),
    (MarkerKind::StopLoss, Shape::Cross, RED),
    (MarkerKind::TakeProfit, Shape::Diamond, VIOLET),
];

fn symbol(shape: Shape) -> &'static str {
    match shape {
        Shape::Up => "▲",
        Shape::Down => "▼",
        Shape::Cross => "✕",
        Shape::Diamond => "◆",
        Shape::Circle => "●",
    }
}

/// Candles with `overlays` (lines over price) and trade `markers` at their fill prices.
pub fn candles_chart(
    bars: &Ohlc<'_>,
    overlays: &[Line<'_>],
    markers: &[TradeMarker],
    opts: &ChartOpts,
) -> Result<Chart> {
    let n = bars.len();
    let (t0, t1) = bounds(bars)?;
    let mut marks = Vec::new();
    let mut text = String::new();
    for (kind, shape, color) in KINDS {
        let mut pts: Vec<&TradeMarker> = markers
            .iter()
            .filter(|m| m.kind == kind && m.time >= t0 && m.time <= t1 && m.price.is_finite())
            .collect();
        if pts.is_empty() {
            continue;
        }
        pts.sort_by_key(|m| m.time);
        marks.push(Marks {
            label: kind.label().to_string(),
            shape,
            color,
            points: pts.iter().map(|m| (m.time as f64, m.price)).collect(),
        });
    }
    let shown: usize = marks.iter().map(|m| m.points.len()).sum();
    if shown > 0 {
        let counts: Vec<String> = marks
            .iter()
            .map(|m| format!("{} {} ({})", m.points.len(), m.label, symbol(m.shape)))
            .collect();
        text.push_str(&format!("\n  markers: {}", counts.join(", ")));
        let mut all: Vec<&TradeMarker> = markers
            .iter()
            .filter(|m| m.time >= t0 && m.time <= t1 && m.price.is_finite())
            .collect();
        all.sort_by_key(|m| m.time);
        for m in all.iter().take(20) {
            let shape = KINDS
                .iter()
                .find(|k| k.0 == m.kind)
                .map_or(Shape::Circle, |k| k.1);
            text.push_str(&format!(
                "\n    {} {} {} @ {}",
                format_time(m.time),
                symbol(shape),
                m.kind.label(),
                fmt_num(m.price)
            ));
        }
        if all.len() > 20 {
            text.push_str(&format!("\n    … {} more", all.len() - 20));
        }
    } else if !markers.is_empty() {
        text.push_str("\n  markers: none in the plotted range");
    }
    let head = format!(
        "Candles chart{}: {}, {n} bars",
        titled(&opts.title),
        time_range(t0, t1)
    );
    price_chart(bars, overlays, marks, Vec::new(), opts, head, text)
}

/// Close price with each signal shown where it is true: as markers (first signal ▲, second ▼,
/// others ●) when its true bars are sparse events, as shaded spans when it is a state that stays
/// true for runs of bars.
pub fn signals_chart(
    bars: &Ohlc<'_>,
    signals: &[Signal<'_>],
    overlays: &[Line<'_>],
    opts: &ChartOpts,
) -> Result<Chart> {
    let n = bars.len();
    let (t0, t1) = bounds(bars)?;
    let step = bar_step(bars.time);
    let mut marks = Vec::new();
    let mut bands = Vec::new();
    let mut text = String::new();
    for (k, s) in signals.iter().enumerate() {
        let m = s.values.len().min(n);
        let idx: Vec<usize> = (0..m).filter(|&i| truthy(s.values[i])).collect();
        let runs = runs(&idx);
        let (shape, color) = match k {
            0 => (Shape::Up, GREEN),
            1 => (Shape::Down, RED),
            _ => (Shape::Circle, theme::series_color(k + 1)),
        };
        let state = idx.len() * 100 > m * 15 && idx.len() >= 3 * runs.len();
        text.push_str(&format!("\n  {}: {} true of {m} bars", s.label, idx.len()));
        if let (Some(&a), Some(&b)) = (idx.first(), idx.last()) {
            text.push_str(&format!(
                ", first {}, last {}",
                format_time(bars.time[a]),
                format_time(bars.time[b])
            ));
        }
        if state {
            text.push_str(&format!(" ({} spans, shaded)", runs.len()));
            bands.push(Bands {
                label: s.label.to_string(),
                color: color.mix(0.14),
                spans: runs
                    .iter()
                    .map(|&(a, b)| {
                        (
                            bars.time[a] as f64 - step / 2.0,
                            bars.time[b] as f64 + step / 2.0,
                        )
                    })
                    .collect(),
            });
        } else {
            text.push_str(&format!(" ({})", symbol(shape)));
            marks.push(Marks {
                label: s.label.to_string(),
                shape,
                color,
                points: idx
                    .iter()
                    .map(|&i| (bars.time[i] as f64, bars.close[i]))
                    .filter(|p| p.1.is_finite())
                    .collect(),
            });
        }
    }
    let head = format!(
        "Signals chart{}: {}, {n} bars",
        titled(&opts.title),
        time_range(t0, t1)
    );
    price_chart(bars, overlays, marks, bands, opts, head, text)
}

fn bounds(bars: &Ohlc<'_>) -> Result<(i64, i64)> {
    let n = bars.len();
    if n == 0 {
        return Err(DslError::invalid(
            "nothing to plot: the bars are empty; widen from/to",
        ));
    }
    Ok((bars.time[0], bars.time[n - 1]))
}

/// Typical seconds between bars.
fn bar_step(time: &[i64]) -> f64 {
    match time {
        [a, .., b] => (b - a) as f64 / (time.len() - 1) as f64,
        _ => 60.0,
    }
}

/// Runs of consecutive indices as (first, last).
fn runs(idx: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &i in idx {
        match out.last_mut() {
            Some(r) if r.1 + 1 == i => r.1 = i,
            _ => out.push((i, i)),
        }
    }
    out
}

fn price_chart(
    bars: &Ohlc<'_>,
    overlays: &[Line<'_>],
    mut marks: Vec<Marks>,
    bands: Vec<Bands>,
    opts: &ChartOpts,
    head: String,
    detail: String,
) -> Result<Chart> {
    let n = bars.len();
    let (t0, t1) = bounds(bars)?;
    let (time, close) = (&bars.time[..n], &bars.close[..n]);
    let probe_w = opts.width.saturating_sub(80) as usize;
    let candles = n * 3 <= probe_w;
    let mark_prices: Vec<f64> = marks
        .iter()
        .flat_map(|m| m.points.iter().map(|p| p.1))
        .collect();
    let price_cols: Vec<&[f64]> = if candles {
        vec![&bars.high[..n], &bars.low[..n]]
    } else {
        vec![close]
    };
    let (lo, hi) = finite_range(
        price_cols
            .into_iter()
            .chain(overlays.iter().map(|l| l.values))
            .chain([&mark_prices[..]]),
    )
    .ok_or_else(|| DslError::invalid("nothing to plot: every price is NaN"))?;

    let mut legend: Vec<(String, Swatch)> = Vec::new();
    if !candles {
        legend.push(("close".into(), Swatch::Line(BLUE)));
    }
    for (i, l) in overlays.iter().enumerate() {
        legend.push((
            l.label.to_string(),
            Swatch::Line(theme::overlay_color(i, !candles)),
        ));
    }
    for b in &bands {
        legend.push((b.label.clone(), Swatch::Band(b.color.mix(2.0))));
    }
    for m in &marks {
        legend.push((m.label.clone(), Swatch::Marker(m.shape, m.color)));
    }

    let (ylo, yhi) = super::axis::padded(lo, hi, 0.04);
    let y_ticks = canvas::y_ticks(ylo, yhi, (opts.height as usize / 60).max(3), "");
    let y_w = canvas::y_label_width(&[&y_ticks]);
    let plot_w = opts.width.saturating_sub(y_w as u32 + 20).max(10);
    let step = bar_step(time);
    let (x0, x1) = if candles {
        (t0 as f64 - step / 2.0, t1 as f64 + step / 2.0)
    } else {
        span(t0, t1)
    };
    let x_ticks = canvas::x_ticks(x0, x1, true, plot_w);
    let cols = plot_w as usize;
    let total_marks: usize = marks.iter().map(|m| m.points.len()).sum();
    if total_marks > cols / 2 {
        for m in &mut marks {
            let t: Vec<i64> = m.points.iter().map(|p| p.0 as i64).collect();
            let idx: Vec<usize> = (0..t.len()).collect();
            let keep = one_per_column(&t, &idx, x0, x1, cols / 2);
            m.points = keep.iter().map(|&i| m.points[i]).collect();
        }
    }
    let radius = if total_marks > 60 { 4 } else { 6 };

    let subtitle = if candles {
        time_range(t0, t1)
    } else {
        format!("{} · close line", time_range(t0, t1))
    };
    let svg = canvas::render(opts.width, opts.height, &opts.title, |root| {
        let body = canvas::header(root, &opts.title, &subtitle, &legend)?;
        let mut chart = canvas::panel(
            &body,
            &PanelSpec {
                x: (x0, x1),
                y: (ylo, yhi),
                x_ticks: &x_ticks,
                y_ticks: &y_ticks,
                y_label_width: y_w,
                show_x_labels: true,
                x_desc: "",
                y_desc: "",
            },
        )?;
        for b in &bands {
            chart.draw_series(
                b.spans
                    .iter()
                    .map(|&(a, z)| Rectangle::new([(a, ylo), (z, yhi)], b.color.filled())),
            )?;
        }
        if candles {
            let body_w = ((plot_w as f64 / n as f64) * 0.65).floor().clamp(1.0, 14.0) as u32;
            chart.draw_series((0..n).filter(|&i| ohlc_ok(bars, i)).map(|i| {
                CandleStick::new(
                    time[i] as f64,
                    bars.open[i],
                    bars.high[i],
                    bars.low[i],
                    close[i],
                    UP.filled(),
                    DOWN.filled(),
                    body_w,
                )
            }))?;
        } else {
            for seg in downsample(time, close, x0, x1, cols) {
                chart.draw_series(LineSeries::new(seg, BLUE.stroke_width(2)))?;
            }
        }
        for (i, l) in overlays.iter().enumerate() {
            let style = theme::overlay_color(i, !candles).stroke_width(2);
            for seg in downsample(l.times, l.values, x0, x1, cols) {
                chart.draw_series(LineSeries::new(seg, style))?;
            }
        }
        for m in &marks {
            canvas::draw_markers(&mut chart, &m.points, m.shape, m.color, radius)?;
        }
        Ok(())
    })?;

    let mut text = head;
    text.push_str(if candles {
        " (candles)"
    } else {
        " (close line)"
    });
    text.push_str("\n  ");
    text.push_str(&series_line("close", close));
    for l in overlays {
        text.push_str("\n  ");
        text.push_str(&series_line(l.label, l.values));
    }
    text.push_str(&detail);
    Ok(Chart { svg, text })
}

/// Signal truth: non-zero and not NaN (as `Series` signals are stored).
fn truthy(v: f64) -> bool {
    v != 0.0 && !v.is_nan()
}

fn ohlc_ok(b: &Ohlc<'_>, i: usize) -> bool {
    b.open[i].is_finite() && b.high[i].is_finite() && b.low[i].is_finite() && b.close[i].is_finite()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Data {
        t: Vec<i64>,
        o: Vec<f64>,
        h: Vec<f64>,
        l: Vec<f64>,
        c: Vec<f64>,
    }

    fn data(n: usize) -> Data {
        let t: Vec<i64> = (0..n as i64).map(|i| 1_700_000_000 + i * 3600).collect();
        let c: Vec<f64> = (0..n)
            .map(|i| 100.0 + (i as f64 * 0.3).sin() * 5.0)
            .collect();
        let o: Vec<f64> = (0..n)
            .map(|i| if i == 0 { 100.0 } else { c[i - 1] })
            .collect();
        let h: Vec<f64> = (0..n).map(|i| o[i].max(c[i]) + 0.5).collect();
        let l: Vec<f64> = (0..n).map(|i| o[i].min(c[i]) - 0.5).collect();
        Data { t, o, h, l, c }
    }

    fn ohlc(d: &Data) -> Ohlc<'_> {
        Ohlc {
            time: &d.t,
            open: &d.o,
            high: &d.h,
            low: &d.l,
            close: &d.c,
        }
    }

    #[test]
    fn few_bars_draw_candles_many_bars_a_close_line() {
        let d = data(60);
        let c = candles_chart(&ohlc(&d), &[], &[], &ChartOpts::default()).unwrap();
        assert!(c.text.contains("(candles)"));
        assert!(c.svg.matches("<rect").count() >= 60);
        let d = data(2000);
        let c = candles_chart(&ohlc(&d), &[], &[], &ChartOpts::default()).unwrap();
        assert!(c.text.contains("(close line)"));
        assert!(c.svg.matches("<rect").count() < 10);
    }

    #[test]
    fn trade_markers_are_counted_listed_and_drawn_by_kind() {
        let d = data(60);
        let m = |i: usize, kind| TradeMarker {
            time: d.t[i],
            price: d.c[i],
            kind,
        };
        let markers = [
            m(5, MarkerKind::Entry { long: true }),
            m(9, MarkerKind::StopLoss),
            m(20, MarkerKind::Entry { long: true }),
            m(30, MarkerKind::TakeProfit),
            m(40, MarkerKind::Entry { long: false }),
            m(50, MarkerKind::Exit),
        ];
        let c = candles_chart(&ohlc(&d), &[], &markers, &ChartOpts::default()).unwrap();
        assert!(c.text.contains(
            "markers: 2 long entry (▲), 1 short entry (▼), 1 exit (▼), 1 stop-loss (✕), 1 take-profit (◆)"
        ));
        assert!(
            c.text.contains("2023-11-15 03:13 ▲ long entry @ 104.99"),
            "{}",
            c.text
        );
        // six markers plus five legend swatches, each one polygon
        assert_eq!(c.svg.matches("<polygon").count(), 6 + 5);
    }

    #[test]
    fn sparse_signals_are_markers_and_states_are_shaded_spans() {
        let d = data(100);
        let events: Vec<f64> = (0..100)
            .map(|i| if i % 25 == 3 { 1.0 } else { 0.0 })
            .collect();
        let state: Vec<f64> = (0..100)
            .map(|i| if (i / 10) % 2 == 0 { 1.0 } else { 0.0 })
            .collect();
        let sigs = [
            Signal {
                label: "cross",
                values: &events,
            },
            Signal {
                label: "above",
                values: &state,
            },
        ];
        let c = signals_chart(&ohlc(&d), &sigs, &[], &ChartOpts::default()).unwrap();
        assert!(c.text.contains("cross: 4 true of 100 bars"), "{}", c.text);
        assert!(c.text.contains("(▲)"));
        assert!(c.text.contains("above: 50 true of 100 bars"));
        assert!(c.text.contains("(5 spans, shaded)"));
    }

    #[test]
    fn runs_group_consecutive_indices() {
        assert_eq!(runs(&[1, 2, 3, 7, 9, 10]), vec![(1, 3), (7, 7), (9, 10)]);
        assert!(runs(&[]).is_empty());
    }
}
