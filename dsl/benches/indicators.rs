//! Indicator throughput on 1,000,000 bars, against plain Rust loops computing an SMA, so the claim
//! "indicators run within a small factor of a plain Rust loop" can be checked.
//!
//! Rerun with `cargo bench -p stratbook-dsl --bench indicators`. Each row is the fastest of
//! several runs (the machine is shared; the minimum is the least noisy figure).

use dsl::indicators::{self as ind, Anchor, patterns};
use dsl::testing::{Columns, Walk};
use std::hint::black_box;
use std::time::{Duration, Instant};

const N: usize = 1_000_000;
const RUNS: usize = 5;

/// A deterministic random walk (xorshift), hourly bars with volume.
fn bars() -> Columns {
    Columns::random_walk(
        N,
        1_700_000_000,
        3600,
        100.0,
        0x9E37_79B9_7F4A_7C15,
        &Walk::VOLUME,
    )
}

fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// The baseline: an SMA(20) with a running sum, as a plain loop over a slice.
fn plain_sma(x: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    let mut sum = 0.0;
    for i in 0..x.len() {
        sum += x[i];
        if i >= p {
            sum -= x[i - p];
        }
        if i + 1 >= p {
            out[i] = sum / p as f64;
        }
    }
    out
}

/// The naive SMA(20): re-sum the window at every bar (O(n * period)).
fn naive_sma(x: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    for i in p - 1..x.len() {
        out[i] = x[i + 1 - p..=i].iter().sum::<f64>() / p as f64;
    }
    out
}

fn main() {
    let b = bars();
    let (h, l, c, v) = (&b.h[..], &b.l[..], &b.c[..], &b.v[..]);
    let ohlc = patterns::Ohlc {
        open: &b.o,
        high: h,
        low: l,
        close: c,
    };
    let sma20 = ind::sma(c, 20).unwrap_or_default();
    type Case<'a> = (&'a str, Box<dyn Fn() -> usize + 'a>);
    let cases: Vec<Case> = vec![
        (
            "plain loop: running-sum sma(20)",
            Box::new(|| plain_sma(c, 20).len()),
        ),
        (
            "plain loop: naive sma(20), O(n*p)",
            Box::new(|| naive_sma(c, 20).len()),
        ),
        (
            "sma(20)",
            Box::new(|| ind::sma(c, 20).map_or(0, |x| x.len())),
        ),
        (
            "sma(200)",
            Box::new(|| ind::sma(c, 200).map_or(0, |x| x.len())),
        ),
        (
            "ema(20)",
            Box::new(|| ind::ema(c, 20).map_or(0, |x| x.len())),
        ),
        (
            "wma(20)",
            Box::new(|| ind::wma(c, 20).map_or(0, |x| x.len())),
        ),
        (
            "rma(14)",
            Box::new(|| ind::rma(c, 14).map_or(0, |x| x.len())),
        ),
        (
            "rsi(14)",
            Box::new(|| ind::rsi(c, 14).map_or(0, |x| x.len())),
        ),
        (
            "macd(12,26,9)",
            Box::new(|| ind::macd(c, 12, 26, 9).map_or(0, |x| x.macd.len())),
        ),
        (
            "roc(10)",
            Box::new(|| ind::roc(c, 10).map_or(0, |x| x.len())),
        ),
        (
            "pct_change(1)",
            Box::new(|| ind::pct_change(c, 1).map_or(0, |x| x.len())),
        ),
        (
            "stdev(20)",
            Box::new(|| ind::stdev(c, 20).map_or(0, |x| x.len())),
        ),
        (
            "zscore(20)",
            Box::new(|| ind::zscore(c, 20).map_or(0, |x| x.len())),
        ),
        (
            "bbands(20,2)",
            Box::new(|| ind::bbands(c, 20, 2.0).map_or(0, |x| x.upper.len())),
        ),
        (
            "highest(20)",
            Box::new(|| ind::highest(c, 20).map_or(0, |x| x.len())),
        ),
        (
            "highest(500)",
            Box::new(|| ind::highest(c, 500).map_or(0, |x| x.len())),
        ),
        (
            "lowest(20)",
            Box::new(|| ind::lowest(c, 20).map_or(0, |x| x.len())),
        ),
        ("true_range", Box::new(|| ind::true_range(h, l, c).len())),
        (
            "atr(14)",
            Box::new(|| ind::atr(h, l, c, 14).map_or(0, |x| x.len())),
        ),
        (
            "adx(14)",
            Box::new(|| ind::adx(h, l, c, 14).map_or(0, |x| x.len())),
        ),
        (
            "stoch(14,3,3)",
            Box::new(|| ind::stoch(h, l, c, 14, 3, 3).map_or(0, |x| x.k.len())),
        ),
        (
            "williams_r(14)",
            Box::new(|| ind::williams_r(h, l, c, 14).map_or(0, |x| x.len())),
        ),
        (
            "cci(20) (O(n*p) mean deviation)",
            Box::new(|| ind::cci(h, l, c, 20).map_or(0, |x| x.len())),
        ),
        (
            "mfi(14)",
            Box::new(|| ind::mfi(h, l, c, v, 14).map_or(0, |x| x.len())),
        ),
        (
            "donchian(20)",
            Box::new(|| ind::donchian(h, l, 20).map_or(0, |x| x.upper.len())),
        ),
        (
            "keltner(20,2)",
            Box::new(|| ind::keltner(h, l, c, 20, 2.0).map_or(0, |x| x.upper.len())),
        ),
        (
            "vwap (daily anchor)",
            Box::new(|| ind::vwap(h, l, c, v, &b.t, Anchor::Day).len()),
        ),
        ("obv", Box::new(|| ind::obv(c, v).len())),
        (
            "crossover(close, sma20)",
            Box::new(|| ind::crossover(c, &sma20).len()),
        ),
        (
            "rising(3)",
            Box::new(|| ind::rising(c, 3).map_or(0, |x| x.len())),
        ),
        ("cum", Box::new(|| ind::cum(v).len())),
        ("doji", Box::new(|| patterns::doji(ohlc).len())),
        (
            "bullish_engulfing",
            Box::new(|| patterns::bullish_engulfing(ohlc).len()),
        ),
        (
            "strong_bull",
            Box::new(|| patterns::strong_bull(ohlc).len()),
        ),
    ];

    let mut baseline = None;
    println!("indicators over {N} bars, fastest of {RUNS} runs\n");
    println!(
        "{:<36} {:>9} {:>9} {:>12} {:>10}",
        "indicator", "ms", "ns/bar", "Mbars/s", "x plain"
    );
    println!("{}", "-".repeat(80));
    for (name, f) in &cases {
        assert_eq!(f(), N, "{name} output length");
        let d = time(f);
        let base = *baseline.get_or_insert(d);
        println!(
            "{:<36} {:>9.2} {:>9.2} {:>12.1} {:>10.2}",
            name,
            d.as_secs_f64() * 1e3,
            d.as_nanos() as f64 / N as f64,
            N as f64 / d.as_secs_f64() / 1e6,
            d.as_secs_f64() / base.as_secs_f64()
        );
    }
}
