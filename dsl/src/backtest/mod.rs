//! The backtest engine: the fill rules ([`fills`]; the order vocabulary they apply is
//! [`crate::order`]), the account ([`broker`]), the per-step engine, independent of the clock that
//! drives it ([`engine`]), the backtest clock ([`clock`]), the event sink ([`sink`]), results and
//! metrics, and parameter sweeps ([`optimize`]).
//!
//! The rules, in one place (the `backtest()` doc repeats them for users):
//! - a strategy decides at a bar's close; market orders fill at the **next bar's open**;
//! - limit / stop / stop-limit orders rest until filled (good till cancelled), see [`fills`];
//! - stop-loss, take-profit and trailing stop are checked inside each bar against its high and
//!   low, from the entry bar on when the entry filled at the open (from the next bar when it
//!   filled inside a bar); a gap beyond a level fills at the open; **a bar touching both the stop
//!   and the target exits at the stop** (conservative, as backtesting.py);
//! - fees: `fee_pct` of each fill's notional plus `fee_fixed`; slippage: `slippage_pct` against
//!   the trader on market-type fills (market and stop orders, stop-loss, trailing stops, gaps);
//!   limit fills and take-profits get their price;
//! - sizing at fill time on equity marked at the fill price, capped by `leverage` (gross
//!   exposure ≤ equity × leverage) and `max_position_pct`, rounded down to `lot_size`;
//! - the risk manager's `max_drawdown_pct` closes everything at the next open and stops calling
//!   the strategy, recording a `halt` signal with its reason.

pub mod broker;
pub mod clock;
pub mod config;
pub mod engine;
pub mod fills;
pub mod metrics;
pub mod optimize;
pub mod recycle;
pub mod result;
#[cfg(test)]
mod rules_tests;
pub mod sink;

pub use clock::run;
pub use config::BacktestConfig;
pub use result::BacktestResult;
