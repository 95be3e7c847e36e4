//! Replay throughput (rerun with `cargo bench -p stratbook-dsl --bench sim`): a 1M-bar
//! vectorized SMA cross replayed at max speed through `sim::run`, every step's signals, fills,
//! trades and equity committed to a SQLite file (batches of whole steps), next to the same
//! backtest in memory. Target: ≥ 200,000 bars/s. Best of 3.

use dsl::Interval;
use dsl::backtest::{BacktestConfig, run};
use dsl::indicators::{crossover, sma};
use dsl::series::Series;
use dsl::sim::{Control, Pace, ReplayFeed, Setup};
use dsl::store::sim::{NewSim, SimStore};
use dsl::strategy::{Signals, StrategyOptions};
use dsl::testing::random_walk_bars;
use std::time::Instant;

fn main() {
    let n = 1_000_000;
    let b = random_walk_bars("bench", Interval::M1, n, 0x2545_f491_4f6c_dd1d);
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
    let db = dir.path().join("stratbook.sqlite");
    let mut best_bt = f64::INFINITY;
    let mut best_sim = f64::INFINITY;
    let mut rows = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let mut l = sig.clone();
        let r = run(&[&b], &mut [&mut l], &opts, &cfg, None).expect("run");
        best_bt = best_bt.min(t.elapsed().as_secs_f64());
        rows = r.signals.len() + r.fills.len() + r.trades.len();
        let mut store = SimStore::open(&db).expect("store");
        let tokens = vec!["bench".to_string()];
        let id = store
            .create(&NewSim {
                name: "bench",
                source: "replay",
                tokens: &tokens,
                config: &serde_json::json!({}),
                strategy: "sma cross",
                provenance: "bench",
            })
            .expect("create");
        let setup = Setup {
            id,
            tokens,
            opts: &opts,
            cfg: &cfg,
            pace: Pace::Max,
            skip: 0,
            closed: None,
            first_bar: vec![0],
        };
        let mut l = sig.clone();
        let t = Instant::now();
        let mut feed = ReplayFeed::new(vec![&b]);
        dsl::sim::run(
            &mut feed,
            &mut [&mut l],
            &setup,
            &mut store,
            &Control::default(),
            &mut |_| {},
        )
        .expect("replay");
        best_sim = best_sim.min(t.elapsed().as_secs_f64());
    }
    println!("{:<52} {:>14} {:>14}", "case", "measured", "target");
    println!(
        "{:<52} {:>11.0} k/s {:>14}",
        "backtest 1M bars in memory (bars/s)",
        n as f64 / best_bt / 1e3,
        ""
    );
    println!(
        "{:<52} {:>11.0} k/s {:>14}",
        format!("replay 1M bars at max speed, durable ({rows} rows)"),
        n as f64 / best_sim / 1e3,
        ">= 200 k/s"
    );
}
