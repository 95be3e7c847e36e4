//! `backtest-json BARS.csv SPEC.json`: runs one vectorized backtest with the engine and prints the
//! trades, stats and equity as JSON, for the Python cross-check against backtesting.py and
//! vectorbt (`tests/python/test_crosscheck.py`).
//!
//! The CSV has a header `time,open,high,low,close,volume,entry,exit` (entry/exit 0 or 1). The spec
//! is a JSON object: `interval` ("1h"), `cash`, `fee_pct`, `lot_size`, `stop_loss_pct`,
//! `take_profit_pct`, `trailing_stop_pct`, `size_pct`.

use anyhow::{Context, Result, bail};
use dsl::Interval;
use dsl::backtest::{BacktestConfig, run};
use dsl::bars::{Bars, Candle, Source};
use dsl::order::{Exits, Size};
use dsl::series::Series;
use dsl::strategy::{Signals, StrategyOptions};
use serde_json::{Value, json};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        bail!("usage: backtest-json BARS.csv SPEC.json");
    }
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(&args[2]).context("reading spec")?)?;
    let text = std::fs::read_to_string(&args[1]).context("reading bars")?;
    let mut candles = Vec::new();
    let (mut entry, mut exit) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 8 {
            bail!("line {}: expected 8 fields", n + 1);
        }
        let num = |i: usize| -> Result<f64> {
            f[i].trim()
                .parse::<f64>()
                .with_context(|| format!("line {}", n + 1))
        };
        candles.push(Candle {
            time: f[0]
                .trim()
                .parse()
                .with_context(|| format!("line {}", n + 1))?,
            open: num(1)?,
            high: num(2)?,
            low: num(3)?,
            close: num(4)?,
            volume: num(5)?,
        });
        entry.push(num(6)? != 0.0);
        exit.push(num(7)? != 0.0);
    }
    let interval = Interval::parse(spec["interval"].as_str().unwrap_or("1h"))?;
    let bars = Bars::from_candles("csv", interval, Source::File(args[1].clone()), &candles)?;
    let f = |k: &str| spec[k].as_f64();
    let cfg = BacktestConfig {
        cash: f("cash").unwrap_or(10_000.0),
        fee_pct: f("fee_pct").unwrap_or(0.0),
        lot_size: f("lot_size").unwrap_or(0.0),
        ..Default::default()
    };
    let opts = StrategyOptions {
        name: "crosscheck".into(),
        size: Size::Pct(f("size_pct").unwrap_or(100.0)),
        exits: Exits {
            stop_loss_pct: f("stop_loss_pct"),
            take_profit_pct: f("take_profit_pct"),
            trailing_stop_pct: f("trailing_stop_pct"),
            ..Default::default()
        },
    };
    let mut sig = Signals {
        entry: Some(Series::from_bools(entry)),
        exit: Some(Series::from_bools(exit)),
        ..Default::default()
    };
    // In-process engine time: the first run, then the best of `repeat` runs (the steady state a
    // notebook or sweep sees), so the Python bench can compare like with like.
    let repeat = spec["repeat"].as_u64().unwrap_or(1).max(1);
    let started = std::time::Instant::now();
    let r = run(
        &[&bars],
        &mut [&mut sig],
        std::slice::from_ref(&opts),
        &cfg,
        None,
    )?;
    let first_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut best_ms = first_ms;
    for _ in 1..repeat {
        let t = std::time::Instant::now();
        drop(run(
            &[&bars],
            &mut [&mut sig],
            std::slice::from_ref(&opts),
            &cfg,
            None,
        )?);
        best_ms = best_ms.min(t.elapsed().as_secs_f64() * 1e3);
    }
    let num = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
    let trades: Vec<Value> = r
        .trades
        .iter()
        .map(|t| {
            json!({ "entry_bar": t.entry_bar, "exit_bar": t.exit_bar, "entry_price": t.entry_price,
                    "exit_price": t.exit_price, "qty": t.qty, "pnl": t.pnl, "pnl_pct": t.pnl_pct,
                    "exit_reason": t.exit_reason.name(), "side": t.side.direction() })
        })
        .collect();
    let stats: serde_json::Map<String, Value> = r
        .stats
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), num(v.as_f64())))
        .collect();
    let out = json!({ "trades": trades, "stats": stats, "equity": r.equity,
                      "open_trades": r.open_trades.len(),
                      "engine_ms": { "first": first_ms, "best": best_ms, "runs": repeat } });
    println!("{out}");
    Ok(())
}
