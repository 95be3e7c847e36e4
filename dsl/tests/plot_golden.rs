//! Golden-file tests for charts: each chart is drawn from fixed synthetic data and compared with
//! `tests/golden/<name>.svg`. After an intended change, regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p stratbook-dsl --test plot_golden` and LOOK at the new files
//! (`rsvg-convert -w 900 tests/golden/x.svg -o /tmp/x.png`) before committing them.

use dsl::plot::{
    self, Chart, ChartOpts, Line, MarkerKind, Signal, TradeMarker, candles_chart, equity_chart,
    heatmap, lines_chart, signals_chart,
};
use dsl::testing::{Columns, JAN_2024, Walk, XorShift, times, walk};
use std::path::PathBuf;

/// Bars of a random walk from `price` (charts' shape: see `Walk::TRENDING`); the noise is
/// xorshift, so goldens never depend on a crate's RNG.
fn walk_bars(n: usize, start: i64, step: i64, price: f64, seed: u64) -> Columns {
    Columns::random_walk(n, start, step, price, seed, &Walk::TRENDING)
}

fn sma(v: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; v.len()];
    let mut sum = 0.0;
    for i in 0..v.len() {
        sum += v[i];
        if i >= n {
            sum -= v[i - n];
        }
        if i + 1 >= n {
            out[i] = sum / n as f64;
        }
    }
    out
}

fn check(name: &str, chart: &Chart) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let path = dir.join(format!("{name}.svg"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&dir).expect("create tests/golden");
        std::fs::write(&path, &chart.svg).expect("write golden");
        std::fs::write(dir.join(format!("{name}.txt")), &chart.text).expect("write golden text");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing {}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    let want_text = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap_or_default();
    if want != chart.svg || want_text != chart.text {
        let out = std::env::temp_dir().join(format!("{name}.actual.svg"));
        std::fs::write(&out, &chart.svg).ok();
        panic!(
            "{name} differs from its golden (actual written to {}); if intended, rerun with \
             UPDATE_GOLDEN=1 and review the picture\n--- text now:\n{}",
            out.display(),
            chart.text
        );
    }
}

#[test]
fn equity_vs_buy_and_hold_with_drawdown() {
    let b = walk_bars(900, JAN_2024, 86_400, 100.0, 7);
    let bench: Vec<f64> = b.c.iter().map(|c| 10_000.0 * c / b.c[0]).collect();
    let mut w = XorShift::new(99);
    let mut e = 10_000.0;
    let equity: Vec<f64> = bench
        .windows(2)
        .map(|x| {
            e *= 1.0 + (x[1] / x[0] - 1.0) * 0.6 + w.noise() * 0.004;
            e
        })
        .collect();
    let equity = [&[10_000.0][..], &equity].concat();
    let opts = ChartOpts::titled("SMA cross on demo:PEPE 1d");
    check(
        "equity",
        &equity_chart(&b.t, &equity, Some(&bench), None, &opts).unwrap(),
    );
}

#[test]
fn candles_with_overlays_and_every_marker_kind() {
    let b = walk_bars(140, JAN_2024 + 9 * 3600, 3600, 0.0000123, 3);
    let fast = sma(&b.c, 10);
    let slow = sma(&b.c, 30);
    let m = |i: usize, kind| TradeMarker {
        time: b.t[i],
        price: b.o[i],
        kind,
    };
    let markers = [
        m(32, MarkerKind::Entry { long: true }),
        m(45, MarkerKind::StopLoss),
        m(60, MarkerKind::Entry { long: true }),
        m(85, MarkerKind::TakeProfit),
        m(95, MarkerKind::Entry { long: false }),
        m(120, MarkerKind::Exit),
    ];
    let overlays = [
        Line {
            label: "sma(close, 10)",
            times: &b.t,
            values: &fast,
        },
        Line {
            label: "sma(close, 30)",
            times: &b.t,
            values: &slow,
        },
    ];
    let opts = ChartOpts::titled("demo:PEPE 1h");
    check(
        "candles",
        &candles_chart(&b.ohlc(), &overlays, &markers, &opts).unwrap(),
    );
}

#[test]
fn many_bars_become_a_close_line_with_markers() {
    let b = walk_bars(6000, JAN_2024, 900, 2500.0, 11);
    let markers: Vec<TradeMarker> = (0..40)
        .map(|k| TradeMarker {
            time: b.t[100 + k * 140],
            price: b.o[100 + k * 140],
            kind: if k % 2 == 0 {
                MarkerKind::Entry { long: true }
            } else {
                MarkerKind::Exit
            },
        })
        .collect();
    let opts = ChartOpts::titled("demo:ETH 15m");
    check(
        "candles_line",
        &candles_chart(&b.ohlc(), &[], &markers, &opts).unwrap(),
    );
}

#[test]
fn signals_as_markers_and_shaded_states() {
    let b = walk_bars(240, JAN_2024, 4 * 3600, 42.0, 5);
    let fast = sma(&b.c, 8);
    let slow = sma(&b.c, 21);
    let cross: Vec<f64> = (0..b.c.len())
        .map(|i| (i > 0 && fast[i] > slow[i] && fast[i - 1] <= slow[i - 1]) as u8 as f64)
        .collect();
    let under: Vec<f64> = (0..b.c.len())
        .map(|i| (i > 0 && fast[i] < slow[i] && fast[i - 1] >= slow[i - 1]) as u8 as f64)
        .collect();
    let above: Vec<f64> = (0..b.c.len())
        .map(|i| (b.c[i] > slow[i]) as u8 as f64)
        .collect();
    let sigs = [
        Signal {
            label: "crossover",
            values: &cross,
        },
        Signal {
            label: "crossunder",
            values: &under,
        },
        Signal {
            label: "close > slow",
            values: &above,
        },
    ];
    let overlays = [Line {
        label: "slow",
        times: &b.t,
        values: &slow,
    }];
    let opts = ChartOpts::titled("signals on demo:SOL 4h");
    check(
        "signals",
        &signals_chart(&b.ohlc(), &sigs, &overlays, &opts).unwrap(),
    );
}

#[test]
fn sweep_heatmap_with_cell_labels() {
    let xs: [f64; 5] = [5.0, 10.0, 15.0, 20.0, 30.0];
    let ys: [f64; 4] = [40.0, 60.0, 100.0, 150.0];
    let values: Vec<f64> = ys
        .iter()
        .flat_map(|&y| {
            xs.iter()
                .map(move |&x| ((x / 12.0).sin() + (y / 70.0).cos()) * 0.9)
        })
        .collect();
    let opts = ChartOpts::default();
    check(
        "heatmap",
        &heatmap("fast", &xs, "slow", &ys, &values, "sharpe", &opts).unwrap(),
    );
}

#[test]
fn intraday_lines_use_hours() {
    let b = walk_bars(288, JAN_2024 + 3 * 86_400, 300, 1.02, 21);
    let s = sma(&b.c, 24);
    let lines = [
        Line {
            label: "close",
            times: &b.t,
            values: &b.c,
        },
        Line {
            label: "sma(close, 24)",
            times: &b.t,
            values: &s,
        },
    ];
    check(
        "lines",
        &lines_chart(&lines, &ChartOpts::titled("demo:USDC 5m")).unwrap(),
    );
}

#[test]
fn million_point_equity_stays_small() {
    let n = 1_000_000;
    let t = times(n, JAN_2024, 60);
    let eq = walk(n, 10_000.0, 0.002, 1);
    let c = equity_chart(&t, &eq, Some(&eq), None, &ChartOpts::default()).unwrap();
    assert!(c.svg.len() <= 300 * 1024, "{} bytes", c.svg.len());
    assert!(c.svg.matches("<polyline").count() < 40);
}

#[test]
fn tear_sheet_outputs_table_then_chart() {
    let b = walk_bars(50, JAN_2024, 86_400, 1.0, 2);
    let chart = equity_chart(&b.t, &b.c, None, None, &ChartOpts::default()).unwrap();
    let stats = vec![
        ("total_return_pct".to_string(), 12.5),
        ("sharpe".to_string(), 1.1),
    ];
    let sheet = plot::tear_sheet("demo", &stats, chart);
    let bundles = sheet.bundles();
    assert!(bundles[0].data.contains_key("text/html"));
    assert!(bundles[1].data.contains_key("image/svg+xml"));
}
