//! `BacktestConfig`: cash, costs, leverage, sizing defaults and the risk manager, checked once.
//!
//! Percentages are percent numbers (`fee_pct: 0.1` is 0.1 %); the engine converts them to fractions.

use crate::error::{DslError, Result};

/// The largest leverage accepted (`leverage: 10`).
pub const MAX_LEVERAGE: f64 = 10.0;

/// Everything that shapes a run except the strategy and the bars.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestConfig {
    /// Starting cash in quote currency.
    pub cash: f64,
    /// Fee in percent of each fill's notional.
    pub fee_pct: f64,
    /// Fixed fee per fill in quote currency.
    pub fee_fixed: f64,
    /// Adverse slippage in percent of the price, on every fill (buys pay more, sells get less).
    pub slippage_pct: f64,
    /// Gross exposure cap as a multiple of equity (1 = no borrowing), at most [`MAX_LEVERAGE`].
    pub leverage: f64,
    /// Quantities are rounded down to a multiple of this (0 = fractional).
    pub lot_size: f64,
    /// One token's position may not exceed this percent of equity at entry (orders are clipped).
    pub max_position_pct: Option<f64>,
    /// A drawdown from peak equity of this percent closes everything and halts the run.
    pub max_drawdown_pct: Option<f64>,
    /// Annual risk-free rate in percent, for Sharpe and Sortino (default 0).
    pub risk_free_pct: f64,
    /// Bars before this index are skipped (indicators may still read them): walk-forward windows.
    pub start: usize,
    /// Bars from this index on are skipped (`None` = to the end).
    pub end: Option<usize>,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig {
            cash: 10_000.0,
            fee_pct: 0.0,
            fee_fixed: 0.0,
            slippage_pct: 0.0,
            leverage: 1.0,
            lot_size: 0.0,
            max_position_pct: None,
            max_drawdown_pct: None,
            risk_free_pct: 0.0,
            start: 0,
            end: None,
        }
    }
}

impl BacktestConfig {
    /// Checks ranges; every error names the fix.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(DslError::invalid(m));
        if !(self.cash.is_finite() && self.cash > 0.0) {
            return bad(format!("cash must be a positive number, not {}", self.cash));
        }
        for (name, v) in [
            ("fee_pct", self.fee_pct),
            ("fee_fixed", self.fee_fixed),
            ("slippage_pct", self.slippage_pct),
            ("lot_size", self.lot_size),
            ("risk_free_pct", self.risk_free_pct),
        ] {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("{name} must be 0 or more, not {v}"));
            }
        }
        if self.fee_pct >= 10.0 || self.slippage_pct >= 10.0 {
            return bad(
                "fee_pct and slippage_pct are percent numbers below 10 (0.1 is 0.1 %)".into(),
            );
        }
        if !(self.leverage.is_finite() && self.leverage >= 1.0 && self.leverage <= MAX_LEVERAGE) {
            return bad(format!(
                "leverage must be between 1 and {MAX_LEVERAGE}, not {}",
                self.leverage
            ));
        }
        for (name, v) in [
            ("max_position_pct", self.max_position_pct),
            ("max_drawdown_pct", self.max_drawdown_pct),
        ] {
            if let Some(v) = v
                && !(v > 0.0 && v <= 100.0 * MAX_LEVERAGE)
            {
                return bad(format!("{name} must be a percent above 0, not {v}"));
            }
        }
        Ok(())
    }

    /// Fee as a fraction of notional.
    pub fn fee_rate(&self) -> f64 {
        self.fee_pct / 100.0
    }

    /// Slippage as a fraction of price.
    pub fn slip_rate(&self) -> f64 {
        self.slippage_pct / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leverage_above_ten_is_refused_with_the_range() {
        let c = BacktestConfig {
            leverage: 11.0,
            ..Default::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("between 1 and 10"), "{e}");
        assert!(BacktestConfig::default().validate().is_ok());
    }

    #[test]
    fn negative_fees_and_zero_cash_are_refused() {
        let c = BacktestConfig {
            fee_pct: -1.0,
            ..Default::default()
        };
        assert!(c.validate().is_err());
        let c = BacktestConfig {
            cash: 0.0,
            ..Default::default()
        };
        assert!(c.validate().is_err());
    }
}
