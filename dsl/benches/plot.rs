//! Benchmark (rerun with `cargo bench -p stratbook-dsl --bench plot`): drawing time and SVG size
//! of charts over long series. Targets: a 1,000,000-point equity chart in ≤ 100 ms and ≤ 300 KB.

use dsl::plot::{
    Chart, ChartOpts, Line, MarkerKind, Ohlc, TradeMarker, candles_chart, equity_chart, heatmap,
    lines_chart,
};
use dsl::testing::{JAN_2024, times, walk};
use std::time::{Duration, Instant};

/// Median wall time of `runs` calls, and the last chart.
fn time(runs: usize, mut f: impl FnMut() -> Chart) -> (Duration, Chart) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[runs / 2], last.expect("at least one run"))
}

fn row(name: &str, target: &str, (d, c): (Duration, Chart)) {
    println!(
        "{name:<44} {:>9.1} ms {:>9.1} KB   {target}",
        d.as_secs_f64() * 1e3,
        c.svg.len() as f64 / 1024.0
    );
}

fn main() {
    let n = 1_000_000;
    let t = times(n, JAN_2024, 60);
    let eq = walk(n, 10_000.0, 0.002, 1);
    let bh = walk(n, 10_000.0, 0.002, 2);
    let opts = ChartOpts::titled("bench");
    println!(
        "{:<44} {:>12} {:>12}   target",
        "chart", "median", "svg size"
    );
    row(
        "equity + buy&hold + drawdown, 1M points",
        "≤ 100 ms, ≤ 300 KB",
        time(9, || {
            equity_chart(&t, &eq, Some(&bh), None, &opts).expect("chart")
        }),
    );
    let (o, h, l): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        eq.clone(),
        eq.iter().map(|x| x * 1.001).collect(),
        eq.iter().map(|x| x * 0.999).collect(),
    );
    let ohlc = Ohlc {
        time: &t,
        open: &o,
        high: &h,
        low: &l,
        close: &bh,
    };
    let markers: Vec<TradeMarker> = (0..5000)
        .map(|k| TradeMarker {
            time: t[k * 199],
            price: bh[k * 199],
            kind: if k % 2 == 0 {
                MarkerKind::Entry { long: true }
            } else {
                MarkerKind::Exit
            },
        })
        .collect();
    let overlay = [Line {
        label: "eq",
        times: &t,
        values: &eq,
    }];
    row(
        "close line + overlay + 5000 markers, 1M bars",
        "",
        time(9, || {
            candles_chart(&ohlc, &overlay, &markers, &opts).expect("chart")
        }),
    );
    let small = Ohlc {
        time: &t[..250],
        open: &o[..250],
        high: &h[..250],
        low: &l[..250],
        close: &bh[..250],
    };
    row(
        "250 candles",
        "",
        time(21, || {
            candles_chart(&small, &[], &[], &opts).expect("chart")
        }),
    );
    let lines = [
        Line {
            label: "a",
            times: &t,
            values: &eq,
        },
        Line {
            label: "b",
            times: &t,
            values: &bh,
        },
    ];
    row(
        "2 lines, 1M points each",
        "",
        time(9, || lines_chart(&lines, &opts).expect("chart")),
    );
    let xs: Vec<f64> = (1..=20).map(f64::from).collect();
    let ys: Vec<f64> = (1..=20).map(|y| f64::from(y) * 5.0).collect();
    let v: Vec<f64> = (0..400).map(|i| (i as f64 * 0.37).sin()).collect();
    row(
        "heatmap 20 × 20",
        "",
        time(21, || {
            heatmap("fast", &xs, "slow", &ys, &v, "sharpe", &opts).expect("chart")
        }),
    );
}
