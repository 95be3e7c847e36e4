//! Backtest benchmarks (rerun with `cargo bench -p stratbook-dsl --bench backtest`). Prints a table:
//! one vectorized SMA-cross backtest on 1M bars (target ≤ 30 ms), a 10×10 sweep on 100k bars
//! (target ≤ 0.2 s, signals included) and the per-bar `on_bar` SMA cross (target ≤ 0.9 µs per bar),
//! compiled (the default) and interpreted (`interpret: true`). Each case reports the best of
//! several runs. One group only:
//! `backtest 1m | sweep | onbar | onbar-detail` (the last splits the cost of one `on_bar` call);
//! `STRATBOOK_BENCH_BARS=10000` shrinks the `on_bar` runs (e.g. under valgrind).

use dsl::Interval;
use dsl::backtest::optimize::{Job, sweep, sweep_with};
use dsl::backtest::{BacktestConfig, run};
use dsl::bars::Bars;
use dsl::cancel::Cancel;
use dsl::data::config::Config;
use dsl::indicators::{crossover, sma};
use dsl::script::Session;
use dsl::series::Series;
use dsl::strategy::{Signals, StrategyOptions};
use dsl::testing::random_walk_bars;
use std::time::Instant;

/// `n` one-minute bars of a seeded random walk.
fn bars(n: usize) -> Bars {
    random_walk_bars("bench", Interval::M1, n, 0x2545_f491_4f6c_dd1d)
}

fn cross_signals(b: &Bars, fast: usize, slow: usize) -> Signals {
    let f = sma(b.close.values(), fast).expect("period");
    let s = sma(b.close.values(), slow).expect("period");
    Signals {
        entry: Some(Series::from_bools(crossover(&f, &s))),
        exit: Some(Series::from_bools(crossover(&s, &f))),
        ..Default::default()
    }
}

fn best_of(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    // `backtest [1m|sweep|onbar]` runs one group (for profiling); no argument runs all.
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let want = |g: &str| only.as_deref().is_none_or(|o| o == g);
    let cfg = BacktestConfig {
        fee_pct: 0.1,
        ..Default::default()
    };
    let opts = [StrategyOptions::default()];
    println!("{:<46} {:>12} {:>12}", "case", "measured", "target");

    if want("1m") {
        one_million(&cfg, &opts);
    }
    if want("sweep") {
        sweep_100k(&cfg);
    }
    if want("onbar") || only.as_deref() == Some("onbar-detail") {
        on_bar();
    }
}

fn one_million(cfg: &BacktestConfig, opts: &[StrategyOptions]) {
    let b1m = bars(1_000_000);
    let sig = cross_signals(&b1m, 10, 30);
    let once = || {
        let mut s = sig.clone();
        let r = run(&[&b1m], &mut [&mut s], opts, cfg, None).expect("run");
        std::hint::black_box(r.stats.final_equity);
    };
    // The first run maps its result buffers fresh; later ones reuse those of dropped results.
    let first = best_of(1, once);
    let t = best_of(5, once);
    println!(
        "{:<46} {:>9.1} ms {:>9} ms",
        "sma cross backtest, 1M bars",
        t * 1e3,
        30
    );
    println!(
        "{:<46} {:>9.1} ms {:>12}",
        "  first run in the process (fresh pages)",
        first * 1e3,
        "-"
    );
    let t = best_of(5, || {
        let mut s = cross_signals(&b1m, 10, 30);
        let r = run(&[&b1m], &mut [&mut s], opts, cfg, None).expect("run");
        std::hint::black_box(r.stats.final_equity);
    });
    println!(
        "{:<46} {:>9.1} ms {:>12}",
        "  the same incl. sma + crossover",
        t * 1e3,
        "-"
    );
}

fn sweep_100k(cfg: &BacktestConfig) {
    let b100k = bars(100_000);
    let grid: Vec<(usize, usize)> = (0..10)
        .flat_map(|i| (0..10).map(move |j| (5 + i * 2, 30 + j * 5)))
        .collect();
    // As `optimize` does: each combination's signals are built on this thread while the workers
    // backtest the ones already built.
    let t = best_of(3, || {
        let r = sweep_with(&b100k, cfg, &Cancel::new(), grid.len(), |k| {
            let (f, s) = grid[k];
            Ok(Job {
                signals: cross_signals(&b100k, f, s),
                opts: StrategyOptions::default(),
            })
        })
        .expect("sweep");
        std::hint::black_box(r.len());
    });
    println!(
        "{:<46} {:>9.1} ms {:>9} ms",
        "10x10 sweep, 100k bars (signals included)",
        t * 1e3,
        200
    );
    let jobs: Vec<Job> = grid
        .iter()
        .map(|&(f, s)| Job {
            signals: cross_signals(&b100k, f, s),
            opts: StrategyOptions::default(),
        })
        .collect();
    let t_build = best_of(3, || {
        for &(f, s) in &grid {
            std::hint::black_box(cross_signals(&b100k, f, s));
        }
    });
    let t_sweep = best_of(3, || {
        let r = sweep(&b100k, &jobs, cfg, &Cancel::new()).expect("sweep");
        std::hint::black_box(r.len());
    });
    println!(
        "{:<46} {:>9.1} ms {:>12}",
        "  the signals alone (2 sma + 2 crossovers each)",
        t_build * 1e3,
        "-"
    );
    println!(
        "{:<46} {:>9.1} ms {:>12}",
        "  the sweep alone (100 prebuilt jobs)",
        t_sweep * 1e3,
        "-"
    );
}

fn on_bar() {
    let dir = std::env::temp_dir().join(format!("stratbook-bench-{}", std::process::id()));
    let mut session = Session::new(Config::for_home(&dir));
    // STRATBOOK_BENCH_BARS shrinks the run (e.g. under valgrind).
    let n: usize = std::env::var("STRATBOOK_BENCH_BARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    session
        .execute(&format!(
            "let bars = klines(\"demo:BTC\", \"1m\", #{{ limit: {n} }}); let fast = sma(bars.close, 10); let slow = sma(bars.close, 30);\
             let s = strategy(#{{ on_bar: |ctx| {{ let f = ctx.value(fast); let s = ctx.value(slow); \
             if ctx.position == 0 {{ if f > s {{ ctx.buy(); }} }} else if f < s {{ ctx.exit(); }} }} }});\
             let si = strategy(#{{ interpret: true, on_bar: |ctx| {{ let f = ctx.value(fast); let s = ctx.value(slow); \
             if ctx.position == 0 {{ if f > s {{ ctx.buy(); }} }} else if f < s {{ ctx.exit(); }} }} }});\
             let e = strategy(#{{ on_bar: |ctx| {{ }} }});\
             let ei = strategy(#{{ interpret: true, on_bar: |ctx| {{ }} }});"
        ))
        .expect("setup cell");
    let len: i64 = session
        .variable("bars")
        .and_then(|b| b.read_lock::<Bars>().map(|b| b.len() as i64))
        .unwrap_or(0);
    let per_bar = |session: &mut Session, var: &str| {
        best_of(3, || {
            session
                .execute(&format!("backtest(bars, {var}, #{{ save: false }});"))
                .expect("backtest cell");
        }) / len.max(1) as f64
    };
    // Compiled: the body lowered out of the interpreter (script/backtest_api/on_bar_compiler/);
    // interpreted: `interpret: true`, every bar through Rhai (what a body outside the lowered
    // subset costs).
    let t_empty = per_bar(&mut session, "e");
    let t_cross = per_bar(&mut session, "s");
    let t_empty_i = per_bar(&mut session, "ei");
    let t_cross_i = per_bar(&mut session, "si");
    println!(
        "{:<46} {:>9.3} µs {:>12}",
        format!("on_bar empty closure, per bar ({len} bars)"),
        t_empty * 1e6,
        "-"
    );
    println!(
        "{:<46} {:>9.3} µs {:>9} µs",
        "on_bar sma cross, per bar",
        t_cross * 1e6,
        0.9
    );
    println!(
        "{:<46} {:>9.3} µs {:>12}",
        "  interpreted: empty closure",
        t_empty_i * 1e6,
        "-"
    );
    println!(
        "{:<46} {:>9.3} µs {:>12}",
        "  interpreted: sma cross",
        t_cross_i * 1e6,
        "-"
    );
    // Where the time of one call goes (`backtest onbar-detail`).
    if std::env::args().nth(1).as_deref() == Some("onbar-detail") {
        for (name, body) in [
            ("ctx.position", "ctx.position;"),
            ("ctx.value(fast)", "ctx.value(fast);"),
            ("ctx.close()", "ctx.close();"),
            ("let x = 1.0; x > 0.5", "let x = 1.0; x > 0.5;"),
            ("fn on_bar(ctx) cell fn, empty", ""),
        ] {
            let def = if body.is_empty() {
                "fn on_bar_e(ctx) { } let d = \"on_bar_e\";".to_string()
            } else {
                format!("let d = strategy(#{{ on_bar: |ctx| {{ {body} }} }});")
            };
            session.execute(&def).expect("detail cell");
            let t = per_bar(&mut session, "d");
            println!(
                "{:<46} {:>9.3} µs {:>12}",
                format!("  on_bar {{ {name} }}"),
                t * 1e6,
                "-"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
