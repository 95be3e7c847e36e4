//! `Ctx`: what a strategy sees at the close of bar `i` of one token: prices of bars `0..=i` (never a
//! later one), the account, and order methods. Orders placed here are queued and fill from the
//! next bar on.

use crate::bars::Bars;
use crate::order::{Exits, Order, OrderKind, Side, Size};

/// OHLCV field selector for [`Ctx::price`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Open,
    High,
    Low,
    Close,
    Volume,
    Time,
}

pub struct Ctx<'a> {
    /// Token index in the run (0 for one token) and its id.
    pub asset: usize,
    pub id: &'a str,
    pub bars: &'a Bars,
    /// Current bar index in `bars`.
    pub i: usize,
    /// Signed position in units (negative when short).
    pub position: f64,
    pub avg_price: f64,
    pub cash: f64,
    pub equity: f64,
    /// Defaults from the strategy (size and exits).
    pub default_size: Size,
    pub default_exits: Exits,
    /// New orders (drained by the engine after the call).
    pub orders: &'a mut Vec<Order>,
    /// Set to cancel this token's resting orders before the new ones are queued.
    pub cancel_resting: bool,
}

impl Ctx<'_> {
    /// `field` `n` bars ago (`n = 0` is the current bar); `None` before the first bar.
    #[inline]
    pub fn price(&self, field: Field, n: usize) -> Option<f64> {
        let j = self.i.checked_sub(n)?;
        let b = self.bars;
        Some(match field {
            Field::Open => b.open.values()[j],
            Field::High => b.high.values()[j],
            Field::Low => b.low.values()[j],
            Field::Close => b.close.values()[j],
            Field::Volume => b.volume.values()[j],
            Field::Time => b.time[j] as f64,
        })
    }

    /// Queues an order for this token.
    pub fn place(
        &mut self,
        side: Side,
        kind: OrderKind,
        size: Size,
        exits: Exits,
        reduce_only: bool,
        reason: &'static str,
    ) {
        self.orders.push(Order {
            asset: self.asset,
            side,
            kind,
            size,
            reduce_only,
            exits,
            reason,
        });
    }

    /// A market buy with the strategy's default size and exits.
    pub fn buy_default(&mut self) {
        let (s, e) = (self.default_size, self.default_exits);
        self.place(Side::Buy, OrderKind::Market, s, e, false, "entry");
    }

    /// A market sell (short entry or reversal) with the defaults.
    pub fn sell_default(&mut self) {
        let (s, e) = (self.default_size, self.default_exits);
        self.place(Side::Sell, OrderKind::Market, s, e, false, "entry");
    }

    /// Closes the whole position at the next open (nothing when flat).
    pub fn exit(&mut self, reason: &'static str) {
        self.exit_part(1.0, reason);
    }

    /// Closes `fraction` (0..=1) of the position at the next open.
    pub fn exit_part(&mut self, fraction: f64, reason: &'static str) {
        let side = if self.position > 0.0 {
            Side::Sell
        } else if self.position < 0.0 {
            Side::Buy
        } else {
            return;
        };
        self.place(
            side,
            OrderKind::Market,
            Size::OfPosition(fraction.clamp(0.0, 1.0)),
            Exits::default(),
            true,
            reason,
        );
    }
}
