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
    use super::*;
    use crate::backtest::sink::Action as Act;
    use crate::bars::{Candle, Source};
    use crate::interval::Interval;
    use crate::order::{ExitReason, Exits, OrderKind, Side, Size};
    use crate::series::Series;
    use crate::strategy::{Ctx, Signals};

    fn bars(id: &str, ohlc: &[(f64, f64, f64, f64)]) -> Bars {
        bars_at(id, ohlc, 0)
    }

    fn bars_at(id: &str, ohlc: &[(f64, f64, f64, f64)], t0: i64) -> Bars {
        let c: Vec<Candle> = ohlc
            .iter()
            .enumerate()
            .map(|(i, &(open, high, low, close))| Candle {
                time: t0 + i as i64 * 86_400,
                open,
                high,
                low,
                close,
                volume: 1.0,
            })
            .collect();
        Bars::from_candles(id, Interval::D1, Source::Demo, &c).unwrap()
    }

    fn flat(prices: &[f64]) -> Vec<(f64, f64, f64, f64)> {
        prices.iter().map(|&p| (p, p, p, p)).collect()
    }

    /// Places scripted orders at given bars.
    type Action = fn(&mut Ctx<'_>);

    struct Script(Vec<(usize, Action)>);

    impl BarLogic for Script {
        fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<()> {
            for (i, f) in &self.0 {
                if *i == ctx.i {
                    f(ctx);
                }
            }
            Ok(())
        }
    }

    fn go(b: &Bars, logic: &mut dyn BarLogic, cfg: BacktestConfig) -> BacktestResult {
        go_with(b, logic, StrategyOptions::default(), cfg)
    }

    fn go_with(
        b: &Bars,
        logic: &mut dyn BarLogic,
        opts: StrategyOptions,
        cfg: BacktestConfig,
    ) -> BacktestResult {
        run(&[b], &mut [logic], &[opts], &cfg, None).unwrap()
    }

    fn cash(c: f64) -> BacktestConfig {
        BacktestConfig {
            cash: c,
            ..Default::default()
        }
    }

    fn close_enough(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn market_orders_fill_at_the_next_open() {
        let b = bars(
            "x",
            &[
                (10.0, 10.0, 10.0, 10.0),
                (10.0, 11.0, 9.0, 10.5),
                (11.0, 12.0, 10.0, 11.5),
                (12.0, 13.0, 11.0, 12.5),
                (13.0, 14.0, 12.0, 13.5),
            ],
        );
        let mut s = Script(vec![(1, |c| c.buy_default()), (3, |c| c.exit("exit"))]);
        let r = go(&b, &mut s, cash(1100.0));
        assert_eq!(r.trades.len(), 1);
        let t = &r.trades[0];
        assert_eq!(
            (t.entry_price, t.exit_price, t.entry_bar, t.exit_bar),
            (11.0, 13.0, 2, 4)
        );
        assert!(close_enough(t.qty, 100.0));
        assert!(close_enough(t.pnl, 200.0));
        assert!(close_enough(r.stats.final_equity, 1300.0));
        // Equity at bar 2 close: 100 units × 11.5.
        assert!(close_enough(r.equity[2], 1150.0));
        assert_eq!(r.stats.buy_signals, 1);
        assert_eq!(r.stats.sell_signals, 1);
    }

    #[test]
    fn fees_and_slippage_are_charged_on_both_fills() {
        let b = bars("x", &flat(&[100.0, 100.0, 110.0, 110.0]));
        let mut s = Script(vec![(0, |c| c.buy_default()), (1, |c| c.exit("exit"))]);
        let cfg = BacktestConfig {
            cash: 1000.0,
            fee_pct: 1.0,
            slippage_pct: 1.0,
            ..Default::default()
        };
        let r = go(&b, &mut s, cfg);
        let qty = 1000.0 / (101.0 * 1.01);
        let t = &r.trades[0];
        assert!(close_enough(t.qty, qty));
        assert!(close_enough(t.entry_price, 101.0));
        assert!(close_enough(t.exit_price, 108.9));
        let want = qty * 108.9 * 0.99;
        assert!(
            close_enough(r.stats.final_equity, want),
            "{}",
            r.stats.final_equity
        );
        assert!(close_enough(t.pnl, want - 1000.0));
    }

    #[test]
    fn bar_touching_stop_and_target_exits_at_the_stop() {
        let b = bars(
            "x",
            &[
                (100.0, 100.0, 100.0, 100.0),
                (100.0, 111.0, 94.0, 105.0),
                (105.0, 105.0, 105.0, 105.0),
            ],
        );
        let mut s = Signals {
            entry: Some(Series::from_bools([true, false, false])),
            ..Default::default()
        };
        let opts = StrategyOptions {
            exits: Exits {
                stop_loss_pct: Some(5.0),
                take_profit_pct: Some(10.0),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = go_with(&b, &mut s, opts, cash(1000.0));
        let t = &r.trades[0];
        assert_eq!(t.exit_reason, ExitReason::StopLoss);
        assert_eq!((t.entry_bar, t.exit_bar, t.exit_price), (1, 1, 95.0));
        assert!(close_enough(r.stats.final_equity, 950.0));
    }

    #[test]
    fn gap_through_the_stop_fills_at_the_open() {
        let b = bars(
            "x",
            &[
                (100.0, 100.0, 100.0, 100.0),
                (100.0, 101.0, 99.0, 100.0),
                (90.0, 91.0, 85.0, 88.0),
            ],
        );
        let mut s = Signals {
            entry: Some(Series::from_bools([true, false, false])),
            ..Default::default()
        };
        let opts = StrategyOptions {
            exits: Exits {
                stop_loss_pct: Some(5.0),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = go_with(&b, &mut s, opts, cash(1000.0));
        let t = &r.trades[0];
        assert_eq!(
            (t.exit_bar, t.exit_price, t.exit_reason),
            (2, 90.0, ExitReason::StopLoss)
        );
    }

    #[test]
    fn trailing_stop_follows_the_high() {
        let b = bars(
            "x",
            &[
                (100.0, 100.0, 100.0, 100.0),
                (100.0, 100.0, 100.0, 100.0),
                (100.0, 120.0, 100.0, 118.0),
                (118.0, 119.0, 110.0, 112.0),
            ],
        );
        let mut s = Signals {
            entry: Some(Series::from_bools([true, false, false, false])),
            ..Default::default()
        };
        let opts = StrategyOptions {
            exits: Exits {
                trailing_stop_pct: Some(5.0),
                ..Default::default()
            },
            ..Default::default()
        };
        let r = go_with(&b, &mut s, opts, cash(1000.0));
        let t = &r.trades[0];
        assert_eq!(t.exit_reason, ExitReason::TrailingStop);
        assert!(close_enough(t.exit_price, 114.0));
        assert_eq!(t.exit_bar, 3);
    }

    #[test]
    fn limit_buy_waits_for_its_price() {
        let b = bars(
            "x",
            &[
                (100.0, 100.0, 100.0, 100.0),
                (100.0, 101.0, 99.0, 100.0),
                (99.0, 99.5, 94.0, 96.0),
                (96.0, 97.0, 95.0, 96.0),
            ],
        );
        let mut s = Script(vec![(0, |c| {
            c.place(
                Side::Buy,
                OrderKind::Limit(95.0),
                Size::Qty(2.0),
                Exits::default(),
                false,
                "limit",
            )
        })]);
        let r = go(&b, &mut s, cash(1000.0));
        assert_eq!(r.fills.len(), 1);
        assert_eq!(
            (r.fills[0].bar, r.fills[0].price, r.fills[0].qty),
            (2, 95.0, 2.0)
        );
        assert!(close_enough(
            r.stats.final_equity,
            1000.0 + 2.0 * (96.0 - 95.0)
        ));
        assert_eq!(r.open_trades.len(), 1);
        assert!(close_enough(r.stats.open_trade_pnl, 2.0));
    }

    #[test]
    fn stop_buy_fills_on_the_breakout() {
        let b = bars(
            "x",
            &[
                (100.0, 100.0, 100.0, 100.0),
                (100.0, 104.0, 99.0, 103.0),
                (103.0, 108.0, 102.0, 107.0),
            ],
        );
        let mut s = Script(vec![(0, |c| {
            c.place(
                Side::Buy,
                OrderKind::Stop(105.0),
                Size::Qty(1.0),
                Exits::default(),
                false,
                "stop",
            )
        })]);
        let r = go(&b, &mut s, cash(1000.0));
        assert_eq!((r.fills[0].bar, r.fills[0].price), (2, 105.0));
    }

    #[test]
    fn short_trade_profits_from_a_fall() {
        let b = bars("x", &flat(&[100.0, 100.0, 80.0, 80.0]));
        let mut s = Script(vec![(0, |c| c.sell_default()), (1, |c| c.exit("exit"))]);
        let r = go(&b, &mut s, cash(1000.0));
        let t = &r.trades[0];
        assert_eq!(t.side, Side::Sell);
        assert!(close_enough(t.pnl, 200.0));
        assert!(close_enough(r.stats.final_equity, 1200.0));
    }

    #[test]
    fn reversal_closes_then_opens_the_other_side() {
        let b = bars("x", &flat(&[100.0, 100.0, 110.0, 110.0]));
        let mut s = Script(vec![(0, |c| c.buy_default()), (1, |c| c.sell_default())]);
        let r = go(&b, &mut s, cash(1000.0));
        assert_eq!(r.trades[0].exit_reason, ExitReason::Reverse);
        assert_eq!(r.open_trades[0].side, Side::Sell);
        assert!(close_enough(r.open_trades[0].qty, 1100.0 / 110.0));
    }

    #[test]
    fn leverage_multiplies_the_position() {
        let b = bars("x", &flat(&[100.0, 100.0, 110.0]));
        let opts = StrategyOptions {
            size: Size::Pct(300.0),
            ..Default::default()
        };
        let mut s = Script(vec![(0, |c| c.buy_default())]);
        let cfg = BacktestConfig {
            cash: 1000.0,
            leverage: 2.0,
            ..Default::default()
        };
        let r = go_with(&b, &mut s, opts, cfg);
        assert!(close_enough(r.open_trades[0].qty, 20.0)); // capped at 2× equity
        assert!(close_enough(r.stats.final_equity, 1200.0));
    }

    #[test]
    fn risk_manager_halts_on_drawdown_and_records_why() {
        let b = bars("x", &flat(&[100.0, 100.0, 85.0, 80.0, 90.0, 95.0]));
        let mut s = Signals {
            entry: Some(Series::from_bools([true, false, false, false, true, false])),
            ..Default::default()
        };
        let cfg = BacktestConfig {
            cash: 1000.0,
            max_drawdown_pct: Some(10.0),
            ..Default::default()
        };
        let r = go_with(&b, &mut s, StrategyOptions::default(), cfg);
        let halt: Vec<_> = r.signals.iter().filter(|s| s.action == Act::Halt).collect();
        assert_eq!(halt.len(), 1);
        assert!(
            halt[0].reason.contains("max_drawdown_pct 10"),
            "{}",
            halt[0].reason
        );
        assert_eq!(r.trades.len(), 1);
        assert_eq!(r.trades[0].exit_reason, ExitReason::Halt);
        assert_eq!((r.trades[0].exit_bar, r.trades[0].exit_price), (3, 80.0));
        // The entry at bar 4 is ignored after the halt.
        assert!(r.open_trades.is_empty());
        assert!(close_enough(r.stats.final_equity, 800.0));
    }

    #[test]
    fn portfolio_shares_cash_and_skips_tokens_without_a_bar() {
        let a = bars("a", &flat(&[10.0, 10.0, 12.0, 12.0]));
        // b has no bar at day 1.
        let c: Vec<Candle> = [(0, 20.0), (2, 20.0), (3, 25.0)]
            .iter()
            .map(|&(d, p)| Candle {
                time: d * 86_400,
                open: p,
                high: p,
                low: p,
                close: p,
                volume: 1.0,
            })
            .collect();
        let bb = Bars::from_candles("b", Interval::D1, Source::Demo, &c).unwrap();
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
    fn same_inputs_give_bit_identical_results() {
        let prices: Vec<f64> = (0..500)
            .map(|i| 100.0 + (i as f64 * 0.37).sin() * 10.0)
            .collect();
        let b = bars("x", &flat(&prices));
        let up = b.close.zip_bool(&b.close.shift(1), |a, p| a > p);
        let mk = || Signals {
            entry: Some(up.clone()),
            exit: Some(up.map_bool(|x| x == 0.0)),
            ..Default::default()
        };
        let cfg = BacktestConfig {
            fee_pct: 0.1,
            ..Default::default()
        };
        let r1 = go(&b, &mut mk(), cfg.clone());
        let r2 = go(&b, &mut mk(), cfg);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&r1.equity), bits(&r2.equity));
        assert_eq!(r1.trades, r2.trades);
        assert!(r1.trades.len() > 10);
    }

    /// Signals without the `next_active` hint: every bar takes the full step.
    struct EveryBar(Signals);

    impl BarLogic for EveryBar {
        fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<()> {
            self.0.on_bar(ctx)
        }
    }

    #[test]
    fn quiet_bar_short_path_matches_full_steps_bit_for_bit() {
        let prices: Vec<(f64, f64, f64, f64)> = (0..3000)
            .map(|i| {
                let p = 100.0 + (i as f64 * 0.05).sin() * 10.0 + (i as f64 * 0.31).cos() * 2.0;
                (p - 0.3, p + 1.0, p - 1.2, p)
            })
            .collect();
        let b = bars("x", &prices);
        let fast = crate::indicators::sma(b.close.values(), 5).unwrap();
        let slow = crate::indicators::sma(b.close.values(), 20).unwrap();
        let up = Series::from_bools(crate::indicators::crossover(&fast, &slow));
        let down = Series::from_bools(crate::indicators::crossover(&slow, &fast));
        let sig = Signals {
            entry: Some(up.clone()),
            exit: Some(down.clone()),
            short_entry: Some(down),
            short_exit: Some(up),
            ..Default::default()
        };
        let trailing = Exits {
            trailing_stop_pct: Some(3.0),
            take_profit_pct: Some(5.0),
            ..Default::default()
        };
        for exits in [Exits::default(), trailing] {
            let opts = StrategyOptions {
                exits,
                ..Default::default()
            };
            let cfg = BacktestConfig {
                fee_pct: 0.1,
                start: 7,
                end: Some(2900),
                ..Default::default()
            };
            let fast_path = go_with(&b, &mut sig.clone(), opts.clone(), cfg.clone());
            let full = go_with(&b, &mut EveryBar(sig.clone()), opts, cfg);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert!(full.trades.len() > 20);
            assert_eq!(bits(&fast_path.equity), bits(&full.equity));
            assert_eq!(fast_path.time, full.time);
            assert_eq!(fast_path.exposed, full.exposed);
            assert_eq!(fast_path.trades, full.trades);
            assert_eq!(fast_path.open_trades, full.open_trades);
            assert_eq!(fast_path.signals, full.signals);
        }
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
