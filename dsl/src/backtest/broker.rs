//! The account: shared cash, one net position per token, sizing under the leverage and position
//! caps, fees and slippage, and the trades that closing produces.
//!
//! Accounting is cash-based: a buy pays `qty × price + fee` out of cash, a sell (closing a long or
//! opening a short) receives `qty × price − fee`; equity is cash plus every position marked at its
//! token's last price (`qty` is negative for shorts). Sizing happens at fill time, on equity marked
//! at the fill price.

use super::config::BacktestConfig;
use super::fills::{BarPrices, Protect};
use super::sink::{Fill, Trade};
use crate::order::{ExitReason, Exits, Side, Size};

/// One token's net position.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Position {
    /// Signed quantity: positive long, negative short.
    pub qty: f64,
    pub avg_price: f64,
    pub entry_time: i64,
    pub entry_bar: usize,
    /// Entry fees not yet charged to a closed trade.
    pub open_fees: f64,
    pub protect: Protect,
    /// Protective exits apply from this bar on (an entry filled inside a bar arms them next bar).
    pub armed_from: usize,
    /// Last known price (close, or the latest fill).
    pub mark: f64,
}

impl Position {
    pub fn side(&self) -> Option<Side> {
        if self.qty > 0.0 {
            Some(Side::Buy)
        } else if self.qty < 0.0 {
            Some(Side::Sell)
        } else {
            None
        }
    }
}

/// Cash and positions, with the run's cost model.
#[derive(Clone, Debug)]
pub struct Account {
    pub cash: f64,
    pub positions: Vec<Position>,
    fee_rate: f64,
    fee_fixed: f64,
    slip: f64,
    leverage: f64,
    lot: f64,
    max_position: Option<f64>,
}

/// Why an order did not execute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    NoBuyingPower,
    NoPosition,
}

impl Account {
    pub fn new(cfg: &BacktestConfig, assets: usize) -> Account {
        Account {
            cash: cfg.cash,
            positions: vec![Position::default(); assets],
            fee_rate: cfg.fee_rate(),
            fee_fixed: cfg.fee_fixed,
            slip: cfg.slip_rate(),
            leverage: cfg.leverage,
            lot: cfg.lot_size,
            max_position: cfg.max_position_pct.map(|p| p / 100.0),
        }
    }

    /// Cash plus every position at its mark.
    pub fn equity(&self) -> f64 {
        let mut e = self.cash;
        for p in &self.positions {
            if p.qty != 0.0 {
                e += p.qty * p.mark;
            }
        }
        e
    }

    /// Sum of |position notional| at marks.
    pub fn gross_exposure(&self) -> f64 {
        self.positions.iter().map(|p| (p.qty * p.mark).abs()).sum()
    }

    pub fn is_flat(&self) -> bool {
        self.positions.iter().all(|p| p.qty == 0.0)
    }

    /// The price a fill at `price` really gets: slippage is adverse (`market = true` for market
    /// orders, stops and gaps; limit fills get their price).
    pub fn slipped(&self, price: f64, side: Side, market: bool) -> f64 {
        if market && self.slip > 0.0 {
            price * (1.0 + side.sign() * self.slip)
        } else {
            price
        }
    }

    fn fee(&self, qty: f64, price: f64) -> f64 {
        qty.abs() * price * self.fee_rate + self.fee_fixed
    }

    /// Units an opening order of `size` buys at `price`, after the leverage cap, the position cap
    /// and lot rounding. 0 when nothing is affordable.
    pub fn open_qty(&self, asset: usize, size: Size, price: f64) -> f64 {
        let equity = self.equity_marked(asset, price);
        if equity <= 0.0 || price <= 0.0 {
            return 0.0;
        }
        let per_unit = price * (1.0 + self.fee_rate);
        let wanted = match size {
            Size::Pct(p) => (equity * p / 100.0 - self.fee_fixed) / per_unit,
            Size::Cash(c) => (c - self.fee_fixed) / per_unit,
            Size::Qty(q) => q,
            Size::Risk { risk_pct, distance } => {
                if distance > 0.0 {
                    equity * risk_pct / 100.0 / distance
                } else {
                    0.0
                }
            }
            Size::OfPosition(_) => 0.0,
        };
        // Gross exposure may not pass equity × leverage.
        let others: f64 = self
            .positions
            .iter()
            .enumerate()
            .map(|(j, p)| (p.qty * if j == asset { price } else { p.mark }).abs())
            .sum();
        let room = equity * self.leverage - others - self.fee_fixed;
        let mut qty = wanted.min(room / per_unit);
        if let Some(cap) = self.max_position {
            let held = (self.positions[asset].qty * price).abs();
            qty = qty.min((equity * cap - held) / per_unit);
        }
        if self.lot > 0.0 {
            qty = (qty / self.lot).floor() * self.lot;
        }
        if qty.is_finite() && qty > 0.0 {
            qty
        } else {
            0.0
        }
    }

    fn equity_marked(&self, asset: usize, price: f64) -> f64 {
        let p = &self.positions[asset];
        self.equity() + p.qty * (price - p.mark)
    }

    /// Opens or adds to a position on `side` (the position must be flat or on the same side).
    #[allow(clippy::too_many_arguments)] // one fill's full description; a struct would only rename them
    pub fn open(
        &mut self,
        asset: usize,
        side: Side,
        qty: f64,
        price: f64,
        exits: &Exits,
        time: i64,
        bar: usize,
        armed_from: usize,
        reason: &'static str,
    ) -> Fill {
        let fee = self.fee(qty, price);
        self.cash -= side.sign() * qty * price + fee;
        let p = &mut self.positions[asset];
        let old = p.qty.abs();
        if old == 0.0 {
            p.entry_time = time;
            p.entry_bar = bar;
            p.avg_price = price;
            p.open_fees = fee;
            p.protect = Protect {
                best: price,
                ..Protect::default()
            };
            p.armed_from = armed_from;
        } else {
            p.avg_price = (old * p.avg_price + qty * price) / (old + qty);
            p.open_fees += fee;
        }
        p.qty += side.sign() * qty;
        p.mark = price;
        if !exits.is_empty() {
            let (sl, tp) = exits.levels(side, p.avg_price);
            p.protect.stop_loss = sl.or(p.protect.stop_loss);
            p.protect.take_profit = tp.or(p.protect.take_profit);
            if let Some(t) = exits.trailing_stop_pct {
                p.protect.trail = Some(t / 100.0);
            }
        }
        Fill {
            asset,
            time,
            bar,
            side,
            qty,
            price,
            fee,
            reason,
        }
    }

    /// Closes `qty` (at most the position) at `price`; returns the fill and the trade record.
    pub fn close(
        &mut self,
        asset: usize,
        qty: f64,
        price: f64,
        time: i64,
        bar: usize,
        why: ExitReason,
    ) -> Option<(Fill, Trade)> {
        let p = &self.positions[asset];
        let side = p.side()?;
        let held = p.qty.abs();
        let qty = qty.min(held);
        if qty <= 0.0 {
            return None;
        }
        let fee = self.fee(qty, price);
        // Closing trades the other way: a long sells (cash in), a short buys back (cash out).
        self.cash += side.sign() * qty * price - fee;
        let p = &mut self.positions[asset];
        let share = qty / held;
        let entry_fees = p.open_fees * share;
        p.open_fees -= entry_fees;
        let gross = side.sign() * qty * (price - p.avg_price);
        let pnl = gross - entry_fees - fee;
        let notional = qty * p.avg_price;
        let trade = Trade {
            asset,
            side,
            entry_time: p.entry_time,
            exit_time: time,
            entry_bar: p.entry_bar,
            exit_bar: bar,
            entry_price: p.avg_price,
            exit_price: price,
            qty,
            pnl,
            pnl_pct: if notional > 0.0 {
                pnl / notional * 100.0
            } else {
                f64::NAN
            },
            fees: entry_fees + fee,
            exit_reason: why,
        };
        p.qty -= side.sign() * qty;
        p.mark = price;
        if (p.qty.abs()) <= held * 1e-12 {
            *p = Position {
                mark: price,
                ..Position::default()
            };
        }
        let fill = Fill {
            asset,
            time,
            bar,
            side: side.opposite(),
            qty,
            price,
            fee,
            reason: why.name(),
        };
        Some((fill, trade))
    }

    /// The trade an open position would be if closed at its mark (no exit fee): for reporting.
    pub fn open_trade(&self, asset: usize, time: i64, bar: usize) -> Option<Trade> {
        let p = &self.positions[asset];
        let side = p.side()?;
        let qty = p.qty.abs();
        let pnl = side.sign() * qty * (p.mark - p.avg_price) - p.open_fees;
        Some(Trade {
            asset,
            side,
            entry_time: p.entry_time,
            exit_time: time,
            entry_bar: p.entry_bar,
            exit_bar: bar,
            entry_price: p.avg_price,
            exit_price: p.mark,
            qty,
            pnl,
            pnl_pct: pnl / (qty * p.avg_price) * 100.0,
            fees: p.open_fees,
            exit_reason: ExitReason::Open,
        })
    }

    /// Moves the trailing reference after a bar has been checked.
    pub fn update_best(&mut self, asset: usize, bar: &BarPrices) {
        let p = &mut self.positions[asset];
        match p.side() {
            Some(Side::Buy) if bar.high > p.protect.best => p.protect.best = bar.high,
            Some(Side::Sell) if bar.low < p.protect.best => p.protect.best = bar.low,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(cfg: BacktestConfig) -> Account {
        Account::new(&cfg, 1)
    }

    #[test]
    fn full_equity_buy_pays_the_fee_out_of_cash() {
        let mut a = acct(BacktestConfig {
            cash: 1000.0,
            fee_pct: 1.0,
            ..Default::default()
        });
        let q = a.open_qty(0, Size::Pct(100.0), 10.0);
        assert!((q - 1000.0 / 10.1).abs() < 1e-12);
        a.open(0, Side::Buy, q, 10.0, &Exits::default(), 0, 0, 0, "entry");
        assert!(a.cash.abs() < 1e-9);
        a.positions[0].mark = 12.0;
        assert!((a.equity() - q * 12.0).abs() < 1e-9);
    }

    #[test]
    fn round_trip_pnl_is_net_of_both_fees() {
        let mut a = acct(BacktestConfig {
            cash: 1000.0,
            fee_pct: 0.5,
            ..Default::default()
        });
        a.open(
            0,
            Side::Buy,
            10.0,
            50.0,
            &Exits::default(),
            0,
            0,
            0,
            "entry",
        );
        let (_, t) = a.close(0, 10.0, 60.0, 1, 3, ExitReason::Signal).unwrap();
        // gross 100, fees 2.5 + 3.0
        assert!((t.pnl - 94.5).abs() < 1e-9);
        assert!((t.pnl_pct - 94.5 / 500.0 * 100.0).abs() < 1e-9);
        assert!((a.cash - 1094.5).abs() < 1e-9);
        assert!(a.is_flat());
    }

    #[test]
    fn short_gains_when_price_falls() {
        let mut a = acct(BacktestConfig {
            cash: 1000.0,
            ..Default::default()
        });
        let q = a.open_qty(0, Size::Pct(100.0), 100.0);
        assert!((q - 10.0).abs() < 1e-12);
        a.open(0, Side::Sell, q, 100.0, &Exits::default(), 0, 0, 0, "entry");
        assert!((a.cash - 2000.0).abs() < 1e-9);
        a.positions[0].mark = 80.0;
        assert!((a.equity() - 1200.0).abs() < 1e-9);
        let (_, t) = a.close(0, 10.0, 80.0, 1, 1, ExitReason::Signal).unwrap();
        assert!((t.pnl - 200.0).abs() < 1e-9);
        assert_eq!(t.side, Side::Sell);
    }

    #[test]
    fn leverage_caps_gross_exposure() {
        let a = acct(BacktestConfig {
            cash: 1000.0,
            leverage: 3.0,
            ..Default::default()
        });
        assert!((a.open_qty(0, Size::Pct(500.0), 10.0) - 300.0).abs() < 1e-9);
        assert!((a.open_qty(0, Size::Pct(200.0), 10.0) - 200.0).abs() < 1e-9);
        let one = acct(BacktestConfig {
            cash: 1000.0,
            ..Default::default()
        });
        assert!((one.open_qty(0, Size::Pct(200.0), 10.0) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn lot_size_rounds_down_and_position_cap_clips() {
        let a = acct(BacktestConfig {
            cash: 1000.0,
            lot_size: 1.0,
            ..Default::default()
        });
        assert_eq!(a.open_qty(0, Size::Pct(100.0), 3.0), 333.0);
        let b = acct(BacktestConfig {
            cash: 1000.0,
            max_position_pct: Some(25.0),
            ..Default::default()
        });
        assert!((b.open_qty(0, Size::Pct(100.0), 10.0) - 25.0).abs() < 1e-9);
    }

    #[test]
    fn volatility_sizing_risks_the_given_percent() {
        let a = acct(BacktestConfig {
            cash: 10_000.0,
            ..Default::default()
        });
        let q = a.open_qty(
            0,
            Size::Risk {
                risk_pct: 1.0,
                distance: 4.0,
            },
            100.0,
        );
        assert!((q - 25.0).abs() < 1e-9); // 100 of risk over a 4-point stop
    }
}
