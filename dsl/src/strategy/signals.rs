//! Vectorized strategies: entry/exit (and short entry/exit) bool Series turned into market orders.
//!
//! At the close of bar `i`: when flat, `entry[i]` buys and `short_entry[i]` sells short; when long,
//! `exit[i]` closes (and `short_entry[i]` reverses into a short); when short, `short_exit[i]`
//! closes (and `entry[i]` reverses). An entry and its exit both true on the same bar cancel out
//! (vectorbt's default). NaN counts as false. Orders fill at the next bar's open.

use super::{BarLogic, Ctx};
use crate::error::{DslError, Result};
use crate::series::{Series, truthy};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signals {
    pub entry: Option<Series>,
    pub exit: Option<Series>,
    pub short_entry: Option<Series>,
    pub short_exit: Option<Series>,
    /// Volatility sizing: risk this percent of equity per entry over a stop `distance[i]` away
    /// (e.g. 2 × ATR at the signal bar). `None` uses the strategy's size.
    pub risk: Option<(f64, std::sync::Arc<Vec<f64>>)>,
}

fn at(s: &Option<Series>, i: usize) -> bool {
    s.as_ref().is_some_and(|s| s.is_true(i))
}

impl Signals {
    /// Signals must have one value per bar of the bars they trade.
    pub fn check_len(&self, bars: usize, id: &str) -> Result<()> {
        for (name, s) in [
            ("entry", &self.entry),
            ("exit", &self.exit),
            ("short_entry", &self.short_entry),
            ("short_exit", &self.short_exit),
        ] {
            if let Some(s) = s
                && s.len() != bars
            {
                return Err(DslError::invalid(format!(
                    "{name} has {} values but {id} has {bars} bars; compute signals from the same bars \
                     (for several tokens pass |bars| strategy(...))",
                    s.len()
                )));
            }
        }
        if self.entry.is_none() && self.short_entry.is_none() {
            return Err(DslError::invalid(
                "a strategy needs entry (or short_entry) signals, or an on_bar function",
            ));
        }
        Ok(())
    }

    /// The signals of bars `[start, end)`: for a backtest window (`from`/`to`) of the bars they were
    /// computed on.
    pub fn slice(&self, start: usize, end: usize) -> Signals {
        let cut = |s: &Option<Series>| s.as_ref().map(|s| s.slice(start, end));
        Signals {
            entry: cut(&self.entry),
            exit: cut(&self.exit),
            short_entry: cut(&self.short_entry),
            short_exit: cut(&self.short_exit),
            risk: self.risk.as_ref().map(|(pct, d)| {
                let end = end.min(d.len());
                (*pct, std::sync::Arc::new(d[start.min(end)..end].to_vec()))
            }),
        }
    }

    /// Counts of true bars (entry, exit, short_entry, short_exit).
    pub fn counts(&self) -> [usize; 4] {
        let c = |s: &Option<Series>| s.as_ref().map_or(0, Series::count);
        [
            c(&self.entry),
            c(&self.exit),
            c(&self.short_entry),
            c(&self.short_exit),
        ]
    }
}

impl BarLogic for Signals {
    /// Bars with no signal true place no order whatever the position.
    fn next_active(&self, i: usize) -> usize {
        fn v(s: &Option<Series>) -> &[f64] {
            s.as_ref().map_or(&[], Series::values)
        }
        let sig = [
            v(&self.entry),
            v(&self.exit),
            v(&self.short_entry),
            v(&self.short_exit),
        ];
        let len = sig.iter().map(|s| s.len()).max().unwrap_or(0);
        let on = |s: &[f64], j: usize| s.get(j).is_some_and(|&x| truthy(x));
        (i..len)
            .find(|&j| on(sig[0], j) || on(sig[1], j) || on(sig[2], j) || on(sig[3], j))
            .unwrap_or(usize::MAX)
    }

    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<()> {
        let i = ctx.i;
        let (le, lx) = (at(&self.entry, i), at(&self.exit, i));
        let (se, sx) = (at(&self.short_entry, i), at(&self.short_exit, i));
        let long_entry = le && !lx;
        let short_entry = se && !sx;
        let mut can_enter = true;
        if let Some((risk_pct, d)) = &self.risk {
            let distance = d.get(i).copied().unwrap_or(f64::NAN);
            // No volatility estimate yet (warm-up): no entry.
            can_enter = distance.is_finite() && distance > 0.0;
            ctx.default_size = crate::order::Size::Risk {
                risk_pct: *risk_pct,
                distance,
            };
        }
        let long_entry = long_entry && can_enter;
        let short_entry = short_entry && can_enter;
        let pos = ctx.position;
        if pos == 0.0 {
            if long_entry && !short_entry {
                ctx.buy_default();
            } else if short_entry && !long_entry {
                ctx.sell_default();
            }
        } else if pos > 0.0 {
            if short_entry {
                ctx.sell_default();
            } else if lx && !le {
                ctx.exit("exit");
            }
        } else if long_entry {
            ctx.buy_default();
        } else if sx && !se {
            ctx.exit("exit");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_active_skips_to_the_next_true_signal_of_any_kind() {
        let s = Signals {
            entry: Some(Series::from_bools([
                false, false, true, false, false, false,
            ])),
            short_exit: Some(Series::new(vec![0.0, f64::NAN, 0.0, 0.0, 1.0])),
            ..Default::default()
        };
        assert_eq!(s.next_active(0), 2);
        assert_eq!(s.next_active(2), 2);
        assert_eq!(s.next_active(3), 4);
        assert_eq!(s.next_active(5), usize::MAX);
    }
}
