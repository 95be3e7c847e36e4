//! What built-in functions share with the session that runs them: the output channel, the
//! interrupt flag and the data configuration. Built-ins capture an `Arc<Runtime>`.

use crate::cancel::Cancel;
use crate::data::config::Config;
use crate::display::Emitter;
use crate::memory::{self, Budget};
use std::sync::Arc;

/// Shared by every built-in of one session.
pub struct Runtime {
    pub cancel: Cancel,
    pub emitter: Emitter,
    pub config: Config,
    /// The memory budget (`STRATBOOK_MAX_MEMORY`), checked between script operations.
    pub budget: Budget,
}

impl Runtime {
    pub fn new(config: Config) -> Arc<Runtime> {
        Arc::new(Runtime {
            cancel: Cancel::new(),
            emitter: Emitter::default(),
            config,
            budget: Budget::new(
                memory::budget_from_env().unwrap_or_else(|_| memory::default_budget()),
            ),
        })
    }
}
