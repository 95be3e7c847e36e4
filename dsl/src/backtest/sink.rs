//! What the engine reports: fills, closed trades, signals and one equity point per step, sent to a
//! [`Sink`]. The engine imports no consumer; [`Recorder`] keeps everything for results and metrics,
//! a live simulation can stream the same events to a display or the store.

use super::order::{ExitReason, Side};

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
    pub fn with_capacity(n: usize) -> Self {
        Recorder {
            time: Vec::with_capacity(n),
            equity: Vec::with_capacity(n),
            exposed: Vec::with_capacity(n),
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
    fn on_equity(&mut self, time: i64, equity: f64, exposed: bool) {
        self.time.push(time);
        self.equity.push(equity);
        self.exposed.push(exposed);
    }
}
