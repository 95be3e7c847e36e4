//! The order vocabulary shared by strategies and the engine: sides, order kinds, sizes, the
//! protective exits attached to a position, and why a position closed. Strategies produce these;
//! the engine (`backtest::fills`, `backtest::broker`) decides when and at what price they execute.

/// Buy or sell; for positions and trades, long (`Buy`) or short (`Sell`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for buy / long, -1 for sell / short.
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
    /// `"buy"`/`"sell"` for orders.
    pub fn name(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
    /// `"long"`/`"short"` for positions and trades.
    pub fn direction(self) -> &'static str {
        match self {
            Side::Buy => "long",
            Side::Sell => "short",
        }
    }
}

/// How an order triggers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OrderKind {
    Market,
    Limit(f64),
    Stop(f64),
    StopLimit {
        stop: f64,
        limit: f64,
        triggered: bool,
    },
}

impl OrderKind {
    pub fn name(&self) -> &'static str {
        match self {
            OrderKind::Market => "market",
            OrderKind::Limit(_) => "limit",
            OrderKind::Stop(_) => "stop",
            OrderKind::StopLimit { .. } => "stop_limit",
        }
    }
}

/// How much an order trades. In a run's stored config: `{"pct": 100.0}`, `{"qty": 2.0}`, ...
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// Percent of equity (notional, fees included), e.g. `Pct(100.0)`.
    Pct(f64),
    /// Units of the token.
    Qty(f64),
    /// Quote currency to spend (fees included).
    Cash(f64),
    /// Volatility target: risk `risk_pct` of equity over a stop `distance` away (e.g. 2 × ATR).
    Risk { risk_pct: f64, distance: f64 },
    /// A fraction (0..=1) of the current position: exits.
    OfPosition(f64),
}

/// Protective exits attached to the position an order opens.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Exits {
    pub stop_loss_pct: Option<f64>,
    pub take_profit_pct: Option<f64>,
    pub trailing_stop_pct: Option<f64>,
    /// Absolute stop-loss price (wins over `stop_loss_pct`).
    pub stop_loss: Option<f64>,
    /// Absolute take-profit price (wins over `take_profit_pct`).
    pub take_profit: Option<f64>,
}

impl Exits {
    pub fn is_empty(&self) -> bool {
        *self == Exits::default()
    }

    /// Fills unset fields from `defaults` (the strategy's options).
    pub fn or(self, defaults: &Exits) -> Exits {
        Exits {
            stop_loss_pct: self.stop_loss_pct.or(defaults.stop_loss_pct),
            take_profit_pct: self.take_profit_pct.or(defaults.take_profit_pct),
            trailing_stop_pct: self.trailing_stop_pct.or(defaults.trailing_stop_pct),
            stop_loss: self.stop_loss.or(defaults.stop_loss),
            take_profit: self.take_profit.or(defaults.take_profit),
        }
    }

    /// Stop-loss and take-profit prices for a position entered at `entry` on `side`.
    pub fn levels(&self, side: Side, entry: f64) -> (Option<f64>, Option<f64>) {
        let s = side.sign();
        let sl = self
            .stop_loss
            .or(self.stop_loss_pct.map(|p| entry * (1.0 - s * p / 100.0)));
        let tp = self
            .take_profit
            .or(self.take_profit_pct.map(|p| entry * (1.0 + s * p / 100.0)));
        (sl, tp)
    }
}

/// An order waiting in the book.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    /// Index of the token in the run (0 for single-token runs).
    pub asset: usize,
    pub side: Side,
    pub kind: OrderKind,
    pub size: Size,
    /// Only closes (part of) the position; never opens or reverses one.
    pub reduce_only: bool,
    /// Exits for the position this order opens (merged with the strategy's).
    pub exits: Exits,
    /// Why it was placed ("entry", "exit", "limit", ...), copied to the signal and the trade.
    pub reason: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitReason {
    Signal,
    StopLoss,
    TakeProfit,
    TrailingStop,
    Reverse,
    Order,
    Halt,
    /// Closed by a simulation's `stop()` or `emergency_stop()`.
    Stopped,
    /// Still open at the end of the data (marked at the last close).
    Open,
}

impl ExitReason {
    pub fn name(self) -> &'static str {
        match self {
            ExitReason::Signal => "signal",
            ExitReason::StopLoss => "stop_loss",
            ExitReason::TakeProfit => "take_profit",
            ExitReason::TrailingStop => "trailing_stop",
            ExitReason::Reverse => "reverse",
            ExitReason::Order => "order",
            ExitReason::Halt => "halt",
            ExitReason::Stopped => "stopped",
            ExitReason::Open => "open",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_levels_from_percentages() {
        let e = Exits {
            stop_loss_pct: Some(2.0),
            take_profit_pct: Some(4.0),
            ..Default::default()
        };
        assert_eq!(e.levels(Side::Buy, 100.0), (Some(98.0), Some(104.0)));
        assert_eq!(e.levels(Side::Sell, 100.0), (Some(102.0), Some(96.0)));
    }
}
