//! Trade metrics over **closed** trades (an open trade at the end is reported separately):
//!
//! - win rate = trades with `pnl > 0` ÷ trades × 100;
//! - profit factor = Σ winning `pnl` ÷ |Σ losing `pnl`| (vectorbt's definition; backtesting.py
//!   sums percent returns instead); NaN with no losing trade;
//! - expectancy_pct = mean of the trades' `pnl_pct` (backtesting.py's "Expectancy [%]");
//! - avg_trade_pct = geometric mean of `pnl_pct` (backtesting.py's "Avg. Trade [%]");
//! - best / worst trade = max / min `pnl_pct`;
//! - SQN = `√n × mean(pnl) / std(pnl, ddof=1)` (Van Tharp; backtesting.py's formula).

use super::returns::{mean, std};
use crate::backtest::sink::Trade;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TradeStats {
    pub n_trades: usize,
    pub win_rate_pct: f64,
    pub profit_factor: f64,
    pub expectancy_pct: f64,
    pub avg_trade_pct: f64,
    pub best_trade_pct: f64,
    pub worst_trade_pct: f64,
    pub sqn: f64,
    pub avg_bars_held: f64,
}

pub fn trade_stats(trades: &[Trade]) -> TradeStats {
    let n = trades.len();
    if n == 0 {
        return TradeStats {
            n_trades: 0,
            win_rate_pct: f64::NAN,
            profit_factor: f64::NAN,
            expectancy_pct: f64::NAN,
            avg_trade_pct: f64::NAN,
            best_trade_pct: f64::NAN,
            worst_trade_pct: f64::NAN,
            sqn: f64::NAN,
            avg_bars_held: f64::NAN,
        };
    }
    let pnl: Vec<f64> = trades.iter().map(|t| t.pnl).collect();
    let pct: Vec<f64> = trades.iter().map(|t| t.pnl_pct).collect();
    let wins: f64 = pnl.iter().filter(|&&p| p > 0.0).sum();
    let losses: f64 = pnl.iter().filter(|&&p| p < 0.0).sum();
    let geo = if pct.iter().any(|&p| p <= -100.0) {
        -100.0
    } else {
        let log_mean = mean(
            &pct.iter()
                .map(|p| (1.0 + p / 100.0).ln())
                .collect::<Vec<_>>(),
        );
        (log_mean.exp() - 1.0) * 100.0
    };
    let sd = std(&pnl, 1);
    TradeStats {
        n_trades: n,
        win_rate_pct: pnl.iter().filter(|&&p| p > 0.0).count() as f64 / n as f64 * 100.0,
        profit_factor: if losses < 0.0 {
            wins / -losses
        } else {
            f64::NAN
        },
        expectancy_pct: mean(&pct),
        avg_trade_pct: geo,
        best_trade_pct: pct.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        worst_trade_pct: pct.iter().copied().fold(f64::INFINITY, f64::min),
        sqn: if sd > 0.0 {
            (n as f64).sqrt() * mean(&pnl) / sd
        } else {
            f64::NAN
        },
        avg_bars_held: trades.iter().map(|t| t.bars_held() as f64).sum::<f64>() / n as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{ExitReason, Side};

    fn t(pnl: f64, pnl_pct: f64) -> Trade {
        Trade {
            asset: 0,
            side: Side::Buy,
            entry_time: 0,
            exit_time: 60,
            entry_bar: 0,
            exit_bar: 2,
            entry_price: 1.0,
            exit_price: 1.0,
            qty: 1.0,
            pnl,
            pnl_pct,
            fees: 0.0,
            exit_reason: ExitReason::Signal,
        }
    }

    #[test]
    fn win_rate_and_profit_factor_by_hand() {
        let s = trade_stats(&[t(30.0, 3.0), t(-10.0, -1.0), t(20.0, 2.0), t(-5.0, -0.5)]);
        assert_eq!(s.n_trades, 4);
        assert_eq!(s.win_rate_pct, 50.0);
        assert!((s.profit_factor - 50.0 / 15.0).abs() < 1e-12);
        assert!((s.expectancy_pct - 0.875).abs() < 1e-12);
        assert_eq!(s.best_trade_pct, 3.0);
        assert_eq!(s.worst_trade_pct, -1.0);
        let geo = ((1.03f64 * 0.99 * 1.02 * 0.995).powf(0.25) - 1.0) * 100.0;
        assert!((s.avg_trade_pct - geo).abs() < 1e-9);
    }

    #[test]
    fn no_trades_give_nan_not_zero() {
        let s = trade_stats(&[]);
        assert_eq!(s.n_trades, 0);
        assert!(s.win_rate_pct.is_nan());
    }
}
