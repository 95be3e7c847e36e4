//! The engine's rules (listed in [`super`]), each checked on a few hand-made bars: market orders
//! fill at the next open, fees and slippage, stop-loss / take-profit / trailing stop, resting limit
//! and stop orders, shorts and reversals, leverage, the risk manager's halt; and runs that repeat
//! bit for bit, on the quiet-bar short path as on full steps. The harness (scripted orders, one
//! call to run a token) also serves the clock's own tests in [`super::clock`].

use super::clock::run;
use super::config::BacktestConfig;
use super::result::BacktestResult;
use crate::backtest::sink::Action as Act;
use crate::bars::Bars;
use crate::error::Result;
use crate::interval::Interval;
use crate::order::{ExitReason, Exits, OrderKind, Side, Size};
use crate::series::Series;
use crate::strategy::{BarLogic, Ctx, Signals, StrategyOptions};
use crate::testing::{flat, ohlc_bars};

/// Daily bars from time 0.
pub(super) fn bars(id: &str, ohlc: &[(f64, f64, f64, f64)]) -> Bars {
    ohlc_bars(id, Interval::D1, 0, ohlc)
}

/// Places scripted orders at given bars.
pub(super) type Action = fn(&mut Ctx<'_>);

pub(super) struct Script(pub(super) Vec<(usize, Action)>);

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

pub(super) fn go(b: &Bars, logic: &mut dyn BarLogic, cfg: BacktestConfig) -> BacktestResult {
    go_with(b, logic, StrategyOptions::default(), cfg)
}

pub(super) fn go_with(
    b: &Bars,
    logic: &mut dyn BarLogic,
    opts: StrategyOptions,
    cfg: BacktestConfig,
) -> BacktestResult {
    run(&[b], &mut [logic], &[opts], &cfg, None).unwrap()
}

pub(super) fn cash(c: f64) -> BacktestConfig {
    BacktestConfig {
        cash: c,
        ..Default::default()
    }
}

pub(super) fn close_enough(a: f64, b: f64) -> bool {
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
