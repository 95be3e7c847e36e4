//! What the engine reports: fills, closed trades, signals and one equity point per step, sent to a
//! [`Sink`]. The engine imports no consumer; [`Recorder`] keeps everything for results and metrics,
//! a future live simulation could stream the same events to a display or the store, and a sweep keeps only
//! what its statistics need in a [`Tally`] reused from one combination to the next.

use crate::order::{ExitReason, Side};

/// One execution.
#[derive(Clone, Debug, PartialEq)]
pub struct Fill {
    pub asset: usize,
    pub time: i64,
    pub bar: usize,
    pub side: Side,
    pub qty: f64,
    pub price: f64,
    pub fee: f64,
    pub reason: &'static str,
}

/// A closed (or, at the end, still open) round trip.
#[derive(Clone, Debug, PartialEq)]
pub struct Trade {
    pub asset: usize,
    /// `Buy` for a long trade, `Sell` for a short one.
    pub side: Side,
    pub entry_time: i64,
    pub exit_time: i64,
    /// Bar indices in the token's own bars.
    pub entry_bar: usize,
    pub exit_bar: usize,
    /// Average entry price (fills included slippage).
    pub entry_price: f64,
    pub exit_price: f64,
    pub qty: f64,
    /// Net of entry and exit fees.
    pub pnl: f64,
    /// `pnl` over the entry notional, in percent.
    pub pnl_pct: f64,
    pub fees: f64,
    pub exit_reason: ExitReason,
}

impl Trade {
    pub fn bars_held(&self) -> usize {
        self.exit_bar.saturating_sub(self.entry_bar)
    }
}

/// What a signal records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Buy,
    Sell,
    Hold,
    Halt,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Buy => "buy",
            Action::Sell => "sell",
            Action::Hold => "hold",
            Action::Halt => "halt",
        }
    }
}

/// A decision: an order placed at a bar's close, a protective exit inside a bar, a rejection or
/// the risk manager's halt.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    pub asset: usize,
    pub time: i64,
    pub action: Action,
    pub reason: String,
    pub price: f64,
}

/// Receives the engine's events.
pub trait Sink {
    fn on_fill(&mut self, _fill: &Fill) {}
    fn on_trade(&mut self, _trade: &Trade) {}
    fn on_signal(&mut self, _signal: &Signal) {}
    /// One point per step: total equity at the close, and whether any position was held during
    /// the step (for exposure).
    fn on_equity(&mut self, _time: i64, _equity: f64, _exposed: bool) {}
}

/// Keeps every event (the backtest's own consumer).
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    pub time: Vec<i64>,
    pub equity: Vec<f64>,
    pub exposed: Vec<bool>,
    pub fills: Vec<Fill>,
    pub trades: Vec<Trade>,
    pub signals: Vec<Signal>,
}

impl Recorder {
    /// Room for `n` steps, in recycled buffers when there are some ([`super::recycle`]).
    pub fn with_capacity(n: usize) -> Self {
        use super::recycle::{BOOL, F64, I64};
        Recorder {
            time: I64.take(n),
            equity: F64.take(n),
            exposed: BOOL.take(n),
            ..Default::default()
        }
    }
}

impl Sink for Recorder {
    fn on_fill(&mut self, fill: &Fill) {
        self.fills.push(fill.clone());
    }
    fn on_trade(&mut self, trade: &Trade) {
        self.trades.push(trade.clone());
    }
    fn on_signal(&mut self, signal: &Signal) {
        self.signals.push(signal.clone());
    }
    #[inline]
    fn on_equity(&mut self, time: i64, equity: f64, exposed: bool) {
        self.time.push(time);
        self.equity.push(equity);
        self.exposed.push(exposed);
    }
}

/// Keeps only what the statistics need: the equity curve, closed trades and counts. A sweep reuses
/// one per thread ([`Tally::reset`] keeps the allocations).
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub equity: Vec<f64>,
    pub exposed_steps: usize,
    pub trades: Vec<Trade>,
    pub buy_signals: usize,
    pub sell_signals: usize,
    /// Σ fill fees in fill order (as `Iterator::sum` over the fills).
    pub fees_paid: f64,
}

impl Tally {
    /// Empties the tally for a new run of up to `steps` steps, keeping its buffers.
    pub fn reset(&mut self, steps: usize) {
        self.equity.clear();
        self.equity.reserve(steps);
        self.trades.clear();
        self.exposed_steps = 0;
        self.buy_signals = 0;
        self.sell_signals = 0;
        self.fees_paid = std::iter::empty::<f64>().sum();
    }
}

impl Sink for Tally {
    fn on_fill(&mut self, fill: &Fill) {
        self.fees_paid += fill.fee;
    }
    fn on_trade(&mut self, trade: &Trade) {
        self.trades.push(trade.clone());
    }
    fn on_signal(&mut self, signal: &Signal) {
        match signal.action {
            Action::Buy => self.buy_signals += 1,
            Action::Sell => self.sell_signals += 1,
            Action::Hold | Action::Halt => {}
        }
    }
    #[inline]
    fn on_equity(&mut self, _time: i64, equity: f64, exposed: bool) {
        self.equity.push(equity);
        self.exposed_steps += exposed as usize;
    }
}
