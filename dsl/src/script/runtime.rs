//! What built-in functions share with the session that runs them: the output channel, the
//! interrupt flag and the data configuration. Built-ins capture an `Arc<Runtime>`.

use crate::cancel::Cancel;
use crate::data::config::Config;
use crate::display::Emitter;
use std::sync::Arc;

/// Shared by every built-in of one session.
pub struct Runtime {
    pub cancel: Cancel,
    pub emitter: Emitter,
    pub config: Config,
}

impl Runtime {
    pub fn new(config: Config) -> Arc<Runtime> {
        Arc::new(Runtime {
            cancel: Cancel::new(),
            emitter: Emitter::default(),
            config,
        })
    }
}
