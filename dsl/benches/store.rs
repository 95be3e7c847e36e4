//! The run store's cost on the cell's path (rerun with `cargo bench -p stratbook-dsl --bench store`):
//! a 1M-bar vectorized SMA cross backtested unsaved, then saved as `backtest()` does by default:
//! queued for the store's writer thread (`store::background`), which hashes the data, encodes
//! trades and signals and commits them off the cell's path. Target: saved ≤ 1.3 × unsaved. The
//! write itself is timed too (what the writer does per run). Best of 5.

use dsl::Interval;
use dsl::backtest::{BacktestConfig, run};
use dsl::indicators::{crossover, sma};
use dsl::series::Series;
use dsl::store::{Store, data_hash};
use dsl::strategy::{Signals, StrategyOptions};
use dsl::testing::random_walk_bars;
use std::time::Instant;

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
    let b = random_walk_bars("bench", Interval::M1, 1_000_000, 0x2545_f491_4f6c_dd1d);
    let f = sma(b.close.values(), 10).expect("period");
    let s = sma(b.close.values(), 30).expect("period");
    let sig = Signals {
        entry: Some(Series::from_bools(crossover(&f, &s))),
        exit: Some(Series::from_bools(crossover(&s, &f))),
        ..Default::default()
    };
    let cfg = BacktestConfig {
        fee_pct: 0.1,
        ..Default::default()
    };
    let opts = [StrategyOptions::default()];
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("stratbook.db");
    let unsaved = best_of(5, || {
        let mut s = sig.clone();
        let r = run(&[&b], &mut [&mut s], &opts, &cfg, None).expect("run");
        std::hint::black_box(r.stats.final_equity);
    });
    let (mut hash_t, mut open_t, mut save_t) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let (mut close_t, mut drop_t) = (f64::INFINITY, f64::INFINITY);
    let mut run_t = f64::INFINITY;
    let saved = best_of(5, || {
        let t = Instant::now();
        let mut s = sig.clone();
        let r = run(&[&b], &mut [&mut s], &opts, &cfg, None).expect("run");
        run_t = run_t.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut st = Store::open(&db).expect("store");
        open_t = open_t.min(t.elapsed().as_secs_f64());
        // As `backtest()` saves: the input hashed beside the encoding of trades and signals.
        let t = Instant::now();
        st.save_hashing(&r, &serde_json::json!({"cash": cfg.cash}), &[&b])
            .expect("save");
        save_t = save_t.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        drop(st);
        close_t = close_t.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        drop(r);
        drop_t = drop_t.min(t.elapsed().as_secs_f64());
    });
    // As `backtest()` does: the run is handed to the writer; the cell goes on.
    let mut queued = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let mut s = sig.clone();
        let r = run(&[&b], &mut [&mut s], &opts, &cfg, None).expect("run");
        let ticket = dsl::store::background::save(
            db.clone(),
            std::sync::Arc::new(r),
            serde_json::json!({"cash": cfg.cash}),
            vec![b.clone()],
        );
        queued = queued.min(t.elapsed().as_secs_f64());
        assert!(ticket.wait().is_some(), "the writer stored the run");
    }
    hash_t = hash_t.min(best_of(5, || {
        std::hint::black_box(data_hash(&[&b]));
    }));
    let mut s = sig.clone();
    let r = run(&[&b], &mut [&mut s], &opts, &cfg, None).expect("run");
    let json_t = best_of(3, || {
        std::hint::black_box(dsl::store::result_json(&r).to_string());
    });
    println!("{:<46} {:>12} {:>12}", "case", "measured", "target");
    println!(
        "{:<46} {:>9.1} ms   ({} signals, {} trades)",
        "  result JSON",
        json_t * 1e3,
        r.signals.len(),
        r.trades.len()
    );
    println!(
        "{:<46} {:>9.1} ms {:>12}",
        "backtest 1M bars, unsaved",
        unsaved * 1e3,
        ""
    );
    println!(
        "{:<46} {:>9.1} ms {:>12}",
        "backtest 1M bars, saved (queued for the writer)",
        queued * 1e3,
        ""
    );
    println!(
        "{:<46} {:>9.1} ms {:>12}",
        "backtest 1M bars + the write, on one thread",
        saved * 1e3,
        ""
    );
    println!(
        "{:<46} {:>9.1} ms {:>12}",
        "  the data hash alone (hidden in the save)",
        hash_t * 1e3,
        ""
    );
    println!(
        "{:<46} {:>9.1} ms",
        "  of which opening the store",
        open_t * 1e3
    );
    println!(
        "{:<46} {:>9.1} ms",
        "  of which hash + encode + one transaction",
        save_t * 1e3
    );
    println!(
        "{:<46} {:>9.1} ms",
        "  of which closing the store",
        close_t * 1e3
    );
    println!(
        "{:<46} {:>9.1} ms",
        "  of which dropping the result",
        drop_t * 1e3
    );
    println!(
        "{:<46} {:>11.2}x {:>12}",
        "saved / unsaved",
        queued / unsaved,
        "<= 1.30x"
    );
}
