//! The Rhai layer: registering documented built-ins, the `Session` that runs cells, rendering
//! values as MIME bundles, completion, inspection and `help()`. The engine's core types
//! (series, bars, indicators, backtests) know nothing of Rhai; this layer mirrors them.

pub mod ai;
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
pub mod reference;
pub mod render;
pub mod runtime;
pub mod rust_api;
pub mod series_api;
pub mod session;
pub mod sim_api;
pub mod stdlib;

pub use session::{Completeness, Completion, ExecResult, Session};

use api::Api;
use runtime::Runtime;
use std::sync::Arc;

/// Whether `name` can name a variable (`let NAME = …;`): an identifier that is not one of Rhai's
/// keywords or reserved words (`fn`, `let`, `true`, `this`, ...). Parameters injected into a
/// notebook or a script must be.
pub fn is_variable_name(name: &str) -> bool {
    let ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ident
        && rhai::Engine::new_raw()
            .compile(format!("let {name} = 0; {name}"))
            .is_ok()
}

/// Registers every family of built-ins. Each family lives beside the core module it exposes.
pub fn register_all(api: &mut Api, rt: &Arc<Runtime>) {
    series_api::register(api, rt);
    display_api::register(api, rt);
    frame_api::register(api, rt);
    indicators_api::register(api, rt);
    data_api::register(api, rt);
    backtest_api::register(api, rt);
    sim_api::register(api, rt);
    config_api::register(api, rt);
    plot_api::register(api, rt);
    rust_api::register(api, rt);
    render::register_to_string(api.engine);
}
