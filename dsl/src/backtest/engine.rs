//! The engine: one step per timestamp. A clock decides which tokens have a bar at that time (the
//! backtest clock walks the union of the bars' timestamps; a live clock, for the simulations still
//! to come, would feed bars as they arrive) and [`Engine::step`] is the same for any clock:
//!
//! 1. for each token with a bar: fill its resting orders (placed at an earlier close) against the
//!    bar, then check the position's stop-loss / take-profit / trailing stop inside the bar, then
//!    mark the position at the close;
//! 2. compute equity; the risk manager halts the run when the drawdown limit is reached;
//! 3. report the equity point;
//! 4. call the strategy for each token with a bar; its orders rest until the next bar.
//!
//! A vectorized strategy tells the engine ([`BarLogic::next_active`]) which bars can place orders,
//! so quiet bars cost only the marking and the equity point. The sink is a type parameter, so the
//! recorder's pushes inline into the step.

use super::broker::Account;
use super::config::BacktestConfig;
use super::fills::{BarPrices, check_exits, fill_price};
use super::sink::{Action, Signal, Sink};
use crate::bars::Bars;
use crate::error::Result;
use crate::order::{ExitReason, Order, OrderKind, Side, Size};
use crate::strategy::{BarLogic, Ctx, StrategyOptions};

/// State that carries from one step to the next.
pub struct Engine {
    pub account: Account,
    /// Resting orders in placement order.
    book: Vec<Order>,
    scratch: Vec<Order>,
    /// Per token: the strategy is not called before this bar (see [`BarLogic::next_active`]).
    next_call: Vec<usize>,
    peak: f64,
    max_drawdown: Option<f64>,
    /// Set by the risk manager: no more strategy calls.
    pub halted: bool,
}

/// A token with a bar in this step: its index in the run and the bar's index in its bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Present {
    pub asset: usize,
    pub bar: usize,
}

impl Engine {
    pub fn new(cfg: &BacktestConfig, assets: usize) -> Engine {
        Engine {
            account: Account::new(cfg, assets),
            book: Vec::new(),
            scratch: Vec::new(),
            next_call: vec![0; assets],
            peak: cfg.cash,
            max_drawdown: cfg.max_drawdown_pct.map(|p| p / 100.0),
            halted: false,
        }
    }

    /// Processes one timestamp. `bars[a]` holds token `a`'s bars up to (at least) the present
    /// one; `logics[a]` and `opts[a]` decide for token `a` (a single entry serves every token).
    #[inline]
    pub fn step<S: Sink + ?Sized>(
        &mut self,
        time: i64,
        present: &[Present],
        bars: &[&Bars],
        logics: &mut [&mut dyn BarLogic],
        opts: &[StrategyOptions],
        sink: &mut S,
    ) -> Result<()> {
        let mut exposed = false;
        for &Present { asset, bar } in present {
            let b = bars[asset];
            let prices = BarPrices {
                open: b.open.values()[bar],
                high: b.high.values()[bar],
                low: b.low.values()[bar],
                close: b.close.values()[bar],
            };
            exposed |= self.account.positions[asset].qty != 0.0;
            if !self.book.is_empty() {
                self.fill_orders(asset, bar, time, &prices, sink);
            }
            let pos = &self.account.positions[asset];
            if pos.qty != 0.0 {
                exposed = true;
                if pos.armed_from <= bar {
                    self.check_protect(asset, bar, time, &prices, sink);
                }
                self.account.update_best(asset, &prices);
            }
            self.account.positions[asset].mark = prices.close;
        }
        let equity = self.account.equity();
        if equity > self.peak {
            self.peak = equity;
        }
        if let Some(limit) = self.max_drawdown
            && !self.halted
            && self.peak > 0.0
            && 1.0 - equity / self.peak >= limit
        {
            self.halt(time, equity, limit, sink);
        }
        sink.on_equity(time, equity, exposed);
        if self.halted {
            return Ok(());
        }
        for &Present { asset, bar } in present {
            if bar < self.next_call[asset] {
                continue;
            }
            let n = logics.len();
            let logic = &mut *logics[if n == 1 { 0 } else { asset }];
            let next = logic.next_active(bar);
            if next > bar {
                self.next_call[asset] = next;
                continue;
            }
            let b = bars[asset];
            let o = if opts.len() == 1 {
                &opts[0]
            } else {
                &opts[asset]
            };
            let pos = &self.account.positions[asset];
            let mut ctx = Ctx {
                asset,
                id: &b.id[..],
                bars: b,
                i: bar,
                position: pos.qty,
                avg_price: pos.avg_price,
                cash: self.account.cash,
                equity,
                default_size: o.size,
                default_exits: o.exits,
                orders: &mut self.scratch,
                cancel_resting: false,
            };
            logic.on_bar(&mut ctx)?;
            if ctx.cancel_resting {
                self.book.retain(|o| o.asset != asset);
            }
            if !self.scratch.is_empty() {
                let close = b.close.values()[bar];
                for order in self.scratch.drain(..) {
                    sink.on_signal(&Signal {
                        asset,
                        time,
                        action: match order.side {
                            Side::Buy => Action::Buy,
                            Side::Sell => Action::Sell,
                        },
                        reason: order.reason.to_string(),
                        price: close,
                    });
                    self.book.push(order);
                }
            }
        }
        Ok(())
    }

    /// Fills `asset`'s resting orders that execute in this bar, in placement order.
    fn fill_orders<S: Sink + ?Sized>(
        &mut self,
        asset: usize,
        bar: usize,
        time: i64,
        prices: &BarPrices,
        sink: &mut S,
    ) {
        let mut k = 0;
        while k < self.book.len() {
            if self.book[k].asset != asset {
                k += 1;
                continue;
            }
            let side = self.book[k].side;
            let Some(raw) = fill_price(&mut self.book[k].kind, side, prices) else {
                k += 1;
                continue;
            };
            let order = self.book.remove(k);
            let market = matches!(order.kind, OrderKind::Market | OrderKind::Stop(_));
            let price = self.account.slipped(raw, side, market);
            let at_open = raw == prices.open;
            self.execute(&order, price, at_open, bar, time, sink);
        }
    }

    fn execute<S: Sink + ?Sized>(
        &mut self,
        order: &Order,
        price: f64,
        at_open: bool,
        bar: usize,
        time: i64,
        sink: &mut S,
    ) {
        let asset = order.asset;
        let held = self.account.positions[asset].qty;
        let held_side = self.account.positions[asset].side();
        let closing_reason = if order.reason == "halt" {
            ExitReason::Halt
        } else if matches!(order.kind, OrderKind::Market) {
            ExitReason::Signal
        } else {
            ExitReason::Order
        };
        if order.reduce_only {
            if held_side == Some(order.side.opposite()) {
                let qty = match order.size {
                    Size::OfPosition(f) => held.abs() * f,
                    Size::Qty(q) => q,
                    _ => held.abs(),
                };
                self.close(asset, qty, price, time, bar, closing_reason, sink);
            }
            return;
        }
        if held_side == Some(order.side.opposite()) {
            self.close(
                asset,
                held.abs(),
                price,
                time,
                bar,
                ExitReason::Reverse,
                sink,
            );
        }
        let qty = self.account.open_qty(asset, order.size, price);
        if qty <= 0.0 {
            sink.on_signal(&Signal {
                asset,
                time,
                action: Action::Hold,
                reason: "rejected: not enough buying power".into(),
                price,
            });
            return;
        }
        let armed_from = if at_open { bar } else { bar + 1 };
        let fill = self.account.open(
            asset,
            order.side,
            qty,
            price,
            &order.exits,
            time,
            bar,
            armed_from,
            order.reason,
        );
        sink.on_fill(&fill);
    }

    #[allow(clippy::too_many_arguments)] // the fill's description, passed straight through
    fn close<S: Sink + ?Sized>(
        &mut self,
        asset: usize,
        qty: f64,
        price: f64,
        time: i64,
        bar: usize,
        why: ExitReason,
        sink: &mut S,
    ) {
        if let Some((fill, trade)) = self.account.close(asset, qty, price, time, bar, why) {
            sink.on_fill(&fill);
            sink.on_trade(&trade);
        }
    }

    fn check_protect<S: Sink + ?Sized>(
        &mut self,
        asset: usize,
        bar: usize,
        time: i64,
        prices: &BarPrices,
        sink: &mut S,
    ) {
        let pos = &self.account.positions[asset];
        let Some(side) = pos.side() else { return };
        let Some((raw, why)) = check_exits(&pos.protect, side, prices) else {
            return;
        };
        // Stops fill as market orders (slippage); a take-profit is a limit.
        let market = why != ExitReason::TakeProfit;
        let price = self.account.slipped(raw, side.opposite(), market);
        let qty = pos.qty.abs();
        sink.on_signal(&Signal {
            asset,
            time,
            action: match side {
                Side::Buy => Action::Sell,
                Side::Sell => Action::Buy,
            },
            reason: why.name().to_string(),
            price,
        });
        self.close(asset, qty, price, time, bar, why, sink);
    }

    /// The risk manager: cancel resting orders, close everything at each token's next open, stop
    /// calling the strategy.
    fn halt<S: Sink + ?Sized>(&mut self, time: i64, equity: f64, limit: f64, sink: &mut S) {
        self.halted = true;
        self.book.clear();
        sink.on_signal(&Signal {
            asset: 0,
            time,
            action: Action::Halt,
            reason: format!(
                "max_drawdown_pct {} reached (drawdown {:.2} %): closing all positions and halting",
                limit * 100.0,
                (1.0 - equity / self.peak) * 100.0
            ),
            price: equity,
        });
        for (asset, p) in self.account.positions.iter().enumerate() {
            if let Some(side) = p.side() {
                self.book.push(Order {
                    asset,
                    side: side.opposite(),
                    kind: OrderKind::Market,
                    size: Size::OfPosition(1.0),
                    reduce_only: true,
                    exits: Default::default(),
                    reason: "halt",
                });
            }
        }
    }

    /// Orders still resting (for reporting at the end).
    pub fn resting(&self) -> &[Order] {
        &self.book
    }

    /// Steps a one-token run through bars `from..to` while nothing can happen in them: no
    /// resting order, no protective level on the position, no risk manager, and the strategy
    /// inactive until a later bar ([`BarLogic::next_active`]). Each bar then only marks the
    /// position at the close and reports equity, computed exactly as [`Engine::step`] does.
    /// Returns the first bar not stepped (`from` when the conditions do not hold).
    pub fn run_quiet<S: Sink + ?Sized>(
        &mut self,
        b: &Bars,
        from: usize,
        to: usize,
        sink: &mut S,
    ) -> usize {
        let to = to.min(self.next_call[0]).min(b.len());
        let [pos] = &mut self.account.positions[..] else {
            return from;
        };
        let protected = pos.protect.stop_loss.is_some()
            || pos.protect.take_profit.is_some()
            || pos.protect.trail.is_some();
        if from >= to
            || !self.book.is_empty()
            || self.max_drawdown.is_some()
            || (pos.qty != 0.0 && protected)
        {
            return from;
        }
        let (cash, qty) = (self.account.cash, pos.qty);
        let exposed = qty != 0.0;
        let long = qty > 0.0;
        let mut best = pos.protect.best;
        let mut peak = self.peak;
        let time = &b.time[from..to];
        let (high, low) = (&b.high.values()[from..to], &b.low.values()[from..to]);
        let close = &b.close.values()[from..to];
        for (((&t, &h), &l), &c) in time.iter().zip(high).zip(low).zip(close) {
            let equity = if exposed {
                // `Account::update_best`, then `Account::equity` with the one position.
                if long {
                    if h > best {
                        best = h;
                    }
                } else if l < best {
                    best = l;
                }
                cash + qty * c
            } else {
                cash
            };
            if equity > peak {
                peak = equity;
            }
            sink.on_equity(t, equity, exposed);
        }
        pos.protect.best = best;
        pos.mark = close[close.len() - 1];
        self.peak = peak;
        to
    }
}
