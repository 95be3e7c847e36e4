//! Stratbook's engine: market data, indicators, strategies, backtests, metrics, plots, the SQLite
//! store and the Rhai bindings. It knows nothing about Jupyter: the kernel and `stratbook run` drive
//! a [`script::Session`] and turn its [`display::Output`]s into messages or notebook outputs.
//!
//! Data flows one way: source → bars → indicators → strategy → engine → results → metrics / plots /
//! store → display.

pub mod backtest;
pub mod bars;
pub mod cancel;
pub mod data;
pub mod display;
pub mod error;
pub mod frame;
pub mod indicators;
pub mod interval;
pub mod llm;
pub mod memory;
pub mod order;
pub mod plot;
pub mod sandbox;
pub mod script;
pub mod series;
pub mod sim;
pub mod sqlite;
pub mod store;
pub mod strategy;
/// Deterministic bars for tests and benches (plain Rust below `script`, no Rhai).
#[doc(hidden)]
pub mod testing;
pub mod time;

pub use bars::{Bars, Source};
pub use error::{DslError, Result};
pub use interval::Interval;
pub use series::Series;
