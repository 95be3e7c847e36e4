//! The Rhai layer: registering documented built-ins, the `Session` that runs cells, rendering
//! values as MIME bundles, completion, inspection and `help()`. The engine's core types
//! (series, bars, indicators, backtests) know nothing of Rhai; this layer mirrors them.

pub mod api;
pub mod backtest_api;
pub mod complete;
pub mod config_api;
pub mod data_api;
pub mod display_api;
pub mod doc_source;
pub mod docs;
pub mod errors;
pub mod frame_api;
pub mod help;
pub mod horizon;
pub mod indicators_api;
pub mod plot_api;
pub mod render;
pub mod series_api;
pub mod session;
pub mod stdlib;

pub use session::{Completeness, Completion, ExecResult, Session};

use crate::runtime::Runtime;
use api::Api;
use std::sync::Arc;

/// Registers every family of built-ins. Each family lives beside the core module it exposes.
pub fn register_all(api: &mut Api, rt: &Arc<Runtime>) {
    series_api::register(api, rt);
    display_api::register(api, rt);
    frame_api::register(api, rt);
    indicators_api::register(api, rt);
    data_api::register(api, rt);
    backtest_api::register(api, rt);
    config_api::register(api, rt);
    plot_api::register(api, rt);
}
