//! The fill rules: when an order (or a protective stop) executes inside a bar, and at what price.
//! Pure functions of the order and the bar's open/high/low, so every rule has a hand-computed test.
//!
//! Rules (the `backtest()` doc repeats them):
//! - market: the next bar's open.
//! - limit buy at `p`: the open if it is at or below `p` (a gap), else `p` if the low reaches it.
//!   Sells mirror (open at or above `p`, else `p` if the high reaches it).
//! - stop buy at `p`: the open if it is at or above `p` (a gap), else `p` if the high reaches it.
//!   Sells mirror.
//! - stop-limit buy (stop `s`, limit `l`): triggers like a stop; on the trigger bar it fills at the
//!   trigger price (the open on a gap, else `s`) when that is within the limit, otherwise it rests
//!   as a limit order from the next bar (the order of prices inside a bar is unknown).
//! - protective exits of a long: a stop (stop-loss or trailing) fills at the open when the bar
//!   opens beyond it, a take-profit likewise; otherwise the stop fills at its level when the low
//!   reaches it, the take-profit when the high does. **A bar that touches both is assumed to hit
//!   the stop first** (the conservative rule backtesting.py also uses). Shorts mirror.

use crate::order::{ExitReason, OrderKind, Side};

/// One bar's prices as the fill rules see them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarPrices {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

/// The fill price of `kind` on `side` within `bar`, or `None` if it does not execute.
/// A stop-limit that triggers without filling is marked triggered (it then rests as a limit).
pub fn fill_price(kind: &mut OrderKind, side: Side, bar: &BarPrices) -> Option<f64> {
    let buy = side == Side::Buy;
    match *kind {
        OrderKind::Market => Some(bar.open),
        OrderKind::Limit(p) => limit_fill(p, buy, bar),
        OrderKind::Stop(p) => stop_fill(p, buy, bar),
        OrderKind::StopLimit {
            stop,
            limit,
            triggered,
        } => {
            if triggered {
                return limit_fill(limit, buy, bar);
            }
            let trigger = stop_fill(stop, buy, bar)?;
            let within = if buy {
                trigger <= limit
            } else {
                trigger >= limit
            };
            if within {
                Some(trigger)
            } else if trigger == bar.open {
                // Triggered by the open: every later price of this bar comes after the trigger.
                *kind = OrderKind::StopLimit {
                    stop,
                    limit,
                    triggered: true,
                };
                limit_fill(limit, buy, bar)
            } else {
                *kind = OrderKind::StopLimit {
                    stop,
                    limit,
                    triggered: true,
                };
                None
            }
        }
    }
}

fn limit_fill(p: f64, buy: bool, bar: &BarPrices) -> Option<f64> {
    if buy {
        if bar.open <= p {
            Some(bar.open)
        } else if bar.low <= p {
            Some(p)
        } else {
            None
        }
    } else if bar.open >= p {
        Some(bar.open)
    } else if bar.high >= p {
        Some(p)
    } else {
        None
    }
}

fn stop_fill(p: f64, buy: bool, bar: &BarPrices) -> Option<f64> {
    if buy {
        if bar.open >= p {
            Some(bar.open)
        } else if bar.high >= p {
            Some(p)
        } else {
            None
        }
    } else if bar.open <= p {
        Some(bar.open)
    } else if bar.low <= p {
        Some(p)
    } else {
        None
    }
}

/// Protective levels of a position, in prices.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Protect {
    pub stop_loss: Option<f64>,
    pub take_profit: Option<f64>,
    /// Trailing distance as a fraction of the best price since entry.
    pub trail: Option<f64>,
    /// Best price since entry (highest high for longs, lowest low for shorts) before this bar.
    pub best: f64,
}

impl Protect {
    /// The stop in force for a position on `side`: the tighter of the fixed and the trailing
    /// one (the one that fires), with which it is.
    pub fn stop_in_force(&self, side: Side) -> Option<(f64, ExitReason)> {
        let long = side == Side::Buy;
        let trail = self.trail.map(|t| {
            if long {
                self.best * (1.0 - t)
            } else {
                self.best * (1.0 + t)
            }
        });
        match (self.stop_loss, trail) {
            (Some(s), Some(t)) => {
                let trail_wins = if long { t > s } else { t < s };
                Some(if trail_wins {
                    (t, ExitReason::TrailingStop)
                } else {
                    (s, ExitReason::StopLoss)
                })
            }
            (Some(s), None) => Some((s, ExitReason::StopLoss)),
            (None, Some(t)) => Some((t, ExitReason::TrailingStop)),
            (None, None) => None,
        }
    }
}

/// Checks the protective exits of a position on `side` against `bar` (stop first, gaps at the
/// open); returns the exit price and reason. Does not move the trailing reference.
pub fn check_exits(p: &Protect, side: Side, bar: &BarPrices) -> Option<(f64, ExitReason)> {
    let long = side == Side::Buy;
    let stop = p.stop_in_force(side);
    let beyond = |level: f64, price: f64, below: bool| {
        if below {
            price <= level
        } else {
            price >= level
        }
    };
    // Gaps: the bar opens beyond a level.
    if let Some((s, why)) = stop
        && beyond(s, bar.open, long)
    {
        return Some((bar.open, why));
    }
    if let Some(tp) = p.take_profit
        && beyond(tp, bar.open, !long)
    {
        return Some((bar.open, ExitReason::TakeProfit));
    }
    if let Some((s, why)) = stop
        && beyond(s, if long { bar.low } else { bar.high }, long)
    {
        return Some((s, why));
    }
    if let Some(tp) = p.take_profit
        && beyond(tp, if long { bar.high } else { bar.low }, !long)
    {
        return Some((tp, ExitReason::TakeProfit));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(open: f64, high: f64, low: f64, close: f64) -> BarPrices {
        BarPrices {
            open,
            high,
            low,
            close,
        }
    }

    #[test]
    fn market_fills_at_the_open() {
        let mut k = OrderKind::Market;
        assert_eq!(
            fill_price(&mut k, Side::Buy, &bar(10.0, 12.0, 9.0, 11.0)),
            Some(10.0)
        );
    }

    #[test]
    fn limit_buy_fills_at_limit_or_better_gap_open() {
        let b = bar(10.0, 12.0, 8.0, 11.0);
        assert_eq!(
            fill_price(&mut OrderKind::Limit(9.0), Side::Buy, &b),
            Some(9.0)
        );
        assert_eq!(
            fill_price(&mut OrderKind::Limit(11.0), Side::Buy, &b),
            Some(10.0)
        );
        assert_eq!(fill_price(&mut OrderKind::Limit(7.0), Side::Buy, &b), None);
        assert_eq!(
            fill_price(&mut OrderKind::Limit(11.5), Side::Sell, &b),
            Some(11.5)
        );
        assert_eq!(
            fill_price(&mut OrderKind::Limit(9.5), Side::Sell, &b),
            Some(10.0)
        );
        assert_eq!(
            fill_price(&mut OrderKind::Limit(13.0), Side::Sell, &b),
            None
        );
    }

    #[test]
    fn stop_buy_fills_at_stop_or_worse_gap_open() {
        let b = bar(10.0, 12.0, 8.0, 11.0);
        assert_eq!(
            fill_price(&mut OrderKind::Stop(11.0), Side::Buy, &b),
            Some(11.0)
        );
        assert_eq!(
            fill_price(&mut OrderKind::Stop(9.0), Side::Buy, &b),
            Some(10.0)
        );
        assert_eq!(fill_price(&mut OrderKind::Stop(13.0), Side::Buy, &b), None);
        assert_eq!(
            fill_price(&mut OrderKind::Stop(9.0), Side::Sell, &b),
            Some(9.0)
        );
        assert_eq!(
            fill_price(&mut OrderKind::Stop(10.5), Side::Sell, &b),
            Some(10.0)
        );
    }

    #[test]
    fn stop_limit_outside_its_limit_rests_as_a_limit_from_the_next_bar() {
        let mut k = OrderKind::StopLimit {
            stop: 11.0,
            limit: 10.5,
            triggered: false,
        };
        // Triggers at 11 (above the 10.5 limit): not filled in this bar, but armed.
        assert_eq!(
            fill_price(&mut k, Side::Buy, &bar(10.0, 12.0, 9.0, 11.0)),
            None
        );
        assert!(matches!(
            k,
            OrderKind::StopLimit {
                triggered: true,
                ..
            }
        ));
        // Next bar dips to 10.4: the resting limit fills at 10.5.
        assert_eq!(
            fill_price(&mut k, Side::Buy, &bar(11.0, 11.2, 10.4, 10.8)),
            Some(10.5)
        );
        // Within the limit on the trigger bar: fills at the stop.
        let mut k2 = OrderKind::StopLimit {
            stop: 11.0,
            limit: 11.5,
            triggered: false,
        };
        assert_eq!(
            fill_price(&mut k2, Side::Buy, &bar(10.0, 12.0, 9.0, 11.0)),
            Some(11.0)
        );
    }

    #[test]
    fn bar_touching_stop_and_target_exits_at_the_stop() {
        let p = Protect {
            stop_loss: Some(95.0),
            take_profit: Some(110.0),
            trail: None,
            best: 100.0,
        };
        let hit = check_exits(&p, Side::Buy, &bar(100.0, 111.0, 94.0, 105.0));
        assert_eq!(hit, Some((95.0, ExitReason::StopLoss)));
        let tp_only = check_exits(&p, Side::Buy, &bar(100.0, 111.0, 96.0, 105.0));
        assert_eq!(tp_only, Some((110.0, ExitReason::TakeProfit)));
    }

    #[test]
    fn gap_through_the_stop_fills_at_the_open() {
        let p = Protect {
            stop_loss: Some(95.0),
            take_profit: Some(110.0),
            trail: None,
            best: 100.0,
        };
        assert_eq!(
            check_exits(&p, Side::Buy, &bar(90.0, 92.0, 88.0, 91.0)),
            Some((90.0, ExitReason::StopLoss))
        );
        assert_eq!(
            check_exits(&p, Side::Buy, &bar(115.0, 116.0, 112.0, 113.0)),
            Some((115.0, ExitReason::TakeProfit))
        );
    }

    #[test]
    fn short_exits_mirror_long_ones() {
        let p = Protect {
            stop_loss: Some(105.0),
            take_profit: Some(90.0),
            trail: None,
            best: 100.0,
        };
        assert_eq!(
            check_exits(&p, Side::Sell, &bar(100.0, 106.0, 89.0, 100.0)),
            Some((105.0, ExitReason::StopLoss))
        );
        assert_eq!(
            check_exits(&p, Side::Sell, &bar(100.0, 101.0, 89.0, 100.0)),
            Some((90.0, ExitReason::TakeProfit))
        );
    }

    #[test]
    fn trailing_stop_uses_the_best_price_before_the_bar() {
        let p = Protect {
            stop_loss: Some(90.0),
            take_profit: None,
            trail: Some(0.05),
            best: 120.0,
        };
        // Trail level 114 is tighter than the 90 stop.
        assert_eq!(
            check_exits(&p, Side::Buy, &bar(118.0, 119.0, 113.0, 115.0)),
            Some((114.0, ExitReason::TrailingStop))
        );
    }
}
