//! The backtest clock: walks the union of the tokens' timestamps and hands each step to the
//! [`Engine`]. A token without a bar at a time does not trade at that time (its position keeps its
//! last close). Checks the interrupt flag every few thousand steps.

use super::config::BacktestConfig;
use super::engine::{Engine, Present};
use super::result::BacktestResult;
use super::sink::{Recorder, Sink};
use crate::bars::Bars;
use crate::cancel::Cancel;
use crate::error::{DslError, Result};
use crate::strategy::{BarLogic, StrategyOptions};

/// Steps between interrupt checks.
const CANCEL_EVERY: usize = 4096;

/// Runs a backtest of `bars` (one or more tokens, shared cash) and returns the full result.
pub fn run(
    bars: &[&Bars],
    logics: &mut [&mut dyn BarLogic],
    opts: &[StrategyOptions],
    cfg: &BacktestConfig,
    cancel: Option<&Cancel>,
) -> Result<BacktestResult> {
    let rec = run_to_recorder(bars, logics, opts, cfg, cancel)?;
    Ok(BacktestResult::build(rec.0, &rec.1, bars, opts, cfg))
}

/// Runs and returns the raw events plus the final engine state.
pub fn run_to_recorder(
    bars: &[&Bars],
    logics: &mut [&mut dyn BarLogic],
    opts: &[StrategyOptions],
    cfg: &BacktestConfig,
    cancel: Option<&Cancel>,
) -> Result<(Recorder, Engine)> {
    let mut rec = Recorder::with_capacity(steps_hint(bars, cfg));
    let engine = run_into(bars, logics, opts, cfg, cancel, &mut rec)?;
    Ok((rec, engine))
}

/// Upper bound of the steps of a run (for pre-sizing sinks).
pub fn steps_hint(bars: &[&Bars], cfg: &BacktestConfig) -> usize {
    let n = bars.iter().map(|b| b.len()).max().unwrap_or(0);
    let end = cfg.end.unwrap_or(usize::MAX);
    if bars.len() == 1 {
        end.min(n).saturating_sub(cfg.start)
    } else {
        n
    }
}

/// Runs into any sink (a [`Recorder`], a sweep's stats-only tally, ...); returns the final
/// engine state.
pub fn run_into<S: Sink>(
    bars: &[&Bars],
    logics: &mut [&mut dyn BarLogic],
    opts: &[StrategyOptions],
    cfg: &BacktestConfig,
    cancel: Option<&Cancel>,
    rec: &mut S,
) -> Result<Engine> {
    cfg.validate()?;
    if bars.is_empty() || bars.iter().all(|b| b.is_empty()) {
        return Err(DslError::invalid(
            "no bars to backtest; load some with klines(...)",
        ));
    }
    if logics.is_empty() || (logics.len() != 1 && logics.len() != bars.len()) {
        return Err(DslError::invalid(
            "one strategy per token (or one for all) is needed",
        ));
    }
    let mut engine = Engine::new(cfg, bars.len());
    let start = cfg.start;
    let end = cfg.end.unwrap_or(usize::MAX);
    if bars.len() == 1 {
        let b = bars[0];
        let end = end.min(b.len());
        let mut present = [Present { asset: 0, bar: 0 }];
        let mut i = start;
        let mut next_check = start;
        while i < end {
            if i >= next_check {
                if let Some(c) = cancel {
                    c.check()?;
                }
                next_check = i + CANCEL_EVERY;
            }
            present[0].bar = i;
            engine.step(b.time[i], &present, bars, logics, opts, rec)?;
            // Bars where nothing can happen take the short path.
            i = engine.run_quiet(b, i + 1, end.min(next_check), rec);
        }
        return Ok(engine);
    }
    // Several tokens: merge timestamps with one cursor per token.
    let mut cursor = vec![0usize; bars.len()];
    let mut present: Vec<Present> = Vec::with_capacity(bars.len());
    let mut step = 0usize;
    loop {
        let next = bars
            .iter()
            .zip(&cursor)
            .filter_map(|(b, &c)| b.time.get(c).copied())
            .min();
        let Some(t) = next else { break };
        present.clear();
        for (a, b) in bars.iter().enumerate() {
            if b.time.get(cursor[a]) == Some(&t) {
                present.push(Present {
                    asset: a,
                    bar: cursor[a],
                });
                cursor[a] += 1;
            }
        }
        if step >= end {
            break;
        }
        if step >= start {
            if (step - start).is_multiple_of(CANCEL_EVERY)
                && let Some(c) = cancel
            {
                c.check()?;
            }
            engine.step(t, &present, bars, logics, opts, rec)?;
        }
        step += 1;
    }
    Ok(engine)
}

/// The union of timestamps of several bars tables, ascending.
pub fn union_times(bars: &[&Bars]) -> Vec<i64> {
    let mut t: Vec<i64> = bars.iter().flat_map(|b| b.time.iter().copied()).collect();
    t.sort_unstable();
    t.dedup();
    t
}

#[cfg(test)]
mod tests {
    //! The clock's own work: merging tokens' timestamps and the walk-forward window. The engine's
    //! rules are tested in `rules_tests`, whose harness these share.
    use super::*;
    use crate::backtest::rules_tests::{Script, bars, cash, close_enough, go};
    use crate::interval::Interval;
    use crate::order::{Exits, OrderKind, Side, Size};
    use crate::series::Series;
    use crate::strategy::Signals;
    use crate::testing::{DAY, bars_at, flat};

    #[test]
    fn portfolio_shares_cash_and_skips_tokens_without_a_bar() {
        let a = bars("a", &flat(&[10.0, 10.0, 12.0, 12.0]));
        // b has no bar at day 1.
        let (times, prices) = ([0, 2 * DAY, 3 * DAY], [20.0, 20.0, 25.0]);
        let bb = bars_at("b", Interval::D1, &times, &flat(&prices));
        let mut s = Script(vec![(0, |c| {
            let (s, e) = (Size::Pct(50.0), Exits::default());
            c.place(Side::Buy, OrderKind::Market, s, e, false, "entry")
        })]);
        let r = run(
            &[&a, &bb],
            &mut [&mut s],
            &[StrategyOptions::default()],
            &cash(1000.0),
            None,
        )
        .unwrap();
        assert_eq!(r.time, vec![0, 86_400, 172_800, 259_200]);
        // a: 50 units at 10 (day 1). b's order waits for its next bar (day 2) and gets half of
        // equity then: 500 of cash left / 20 = 25 units.
        let qa = r.open_trades.iter().find(|t| t.asset == 0).unwrap().qty;
        let qb = r.open_trades.iter().find(|t| t.asset == 1).unwrap().qty;
        assert!(close_enough(qa, 50.0));
        assert!(close_enough(qb, 25.0), "{qb}");
        assert!(close_enough(
            r.stats.final_equity,
            50.0 * 12.0 + 25.0 * 25.0
        ));
        // Buy and hold: 500 in each at first close: a 50×12 + b 25×25.
        assert!(close_enough(*r.benchmark.last().unwrap(), 600.0 + 625.0));
    }

    #[test]
    fn walk_forward_window_trades_only_inside_it() {
        let b = bars("x", &flat(&[10.0, 11.0, 12.0, 13.0, 14.0, 15.0]));
        let mut s = Signals {
            entry: Some(Series::from_bools([true, true, true, true, true, true])),
            ..Default::default()
        };
        let cfg = BacktestConfig {
            cash: 1000.0,
            start: 2,
            end: Some(5),
            ..Default::default()
        };
        let r = go(&b, &mut s, cfg);
        assert_eq!(r.time.len(), 3);
        assert_eq!(r.open_trades[0].entry_bar, 3);
        assert!(close_enough(
            *r.benchmark.last().unwrap(),
            1000.0 / 12.0 * 14.0
        ));
    }
}
