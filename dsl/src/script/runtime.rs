//! What built-in functions share with the session that runs them: the output channel, the
//! interrupt flag and the data configuration. Built-ins capture an `Arc<Runtime>`.

use crate::cancel::Cancel;
use crate::data::config::Config;
use crate::display::Emitter;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Shared by every built-in of one session.
pub struct Runtime {
    pub cancel: Cancel,
    pub emitter: Emitter,
    pub config: Config,
    /// Set once a cell of this session has called `shift(n)` with n < 0 (a series that reads
    /// later bars): `lint` and backtests warn about look-ahead from then on.
    pub lookahead: AtomicBool,
    /// LLM settings when set by the host (tests, embedders); else read from the environment
    /// when a model is first needed.
    pub llm: std::sync::RwLock<Option<crate::llm::LlmConfig>>,
}

impl Runtime {
    pub fn new(config: Config) -> Arc<Runtime> {
        Arc::new(Runtime {
            cancel: Cancel::new(),
            emitter: Emitter::default(),
            config,
            lookahead: AtomicBool::new(false),
            llm: std::sync::RwLock::new(None),
        })
    }

    /// The LLM settings: the host's if it set them, else the environment's.
    pub fn llm_config(&self) -> crate::llm::LlmConfig {
        self.llm
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(crate::llm::LlmConfig::from_env)
    }
}
