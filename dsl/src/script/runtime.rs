//! What built-in functions share with the session that runs them: the output channel, the
//! interrupt flag and the data configuration. Built-ins capture an `Arc<Runtime>`.

use crate::cancel::Cancel;
use crate::data::config::Config;
use crate::display::Emitter;
use crate::memory::{self, Budget};
use crate::script::rust_api::ForeignFns;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

/// Shared by every built-in of one session.
pub struct Runtime {
    pub cancel: Cancel,
    pub emitter: Emitter,
    pub config: Config,
    /// The memory budget (`STRATBOOK_MAX_MEMORY`), checked between script operations.
    pub budget: Budget,
    /// Functions compiled in Rust cells, installed by the kernel (see `rust_api`).
    foreign: RwLock<Option<Arc<dyn ForeignFns>>>,
    /// Set once a cell of this session has called `shift(n)` with n < 0 (a series that reads
    /// later bars): `lint` and backtests warn about look-ahead from then on.
    pub lookahead: AtomicBool,
    /// LLM settings when set by the host (tests, embedders); else read from the environment
    /// when a model is first needed.
    pub llm: RwLock<Option<crate::llm::LlmConfig>>,
    /// Said on stderr at the first cell (a setting that could not be read).
    pub startup_warning: std::sync::Mutex<Option<String>>,
    /// Cached LLM answers read from the store, kept for the session's later runs.
    pub llm_answers: Arc<crate::store::llm::AnswerMemo>,
}

impl Runtime {
    pub fn new(config: Config) -> Arc<Runtime> {
        // A setting that cannot be read is said once, at the first cell, never ignored quietly.
        let (budget, warning) = match memory::budget_from_env() {
            Ok(b) => (b, None),
            Err(e) => {
                let d = memory::default_budget();
                (
                    d,
                    Some(format!(
                        "warning: {e}; the default budget of {} MB is used\n",
                        d >> 20
                    )),
                )
            }
        };
        Arc::new(Runtime {
            startup_warning: std::sync::Mutex::new(warning),
            cancel: Cancel::new(),
            emitter: Emitter::default(),
            config,
            budget: Budget::new(budget),
            foreign: RwLock::new(None),
            lookahead: AtomicBool::new(false),
            llm: RwLock::new(None),
            llm_answers: Arc::default(),
        })
    }

    /// Installs (or, with `None`, removes) the bridge `rust(...)` calls go through.
    pub fn set_foreign(&self, bridge: Option<Arc<dyn ForeignFns>>) {
        *self.foreign.write().unwrap_or_else(|e| e.into_inner()) = bridge;
    }

    /// The installed bridge, if any.
    pub fn foreign(&self) -> Option<Arc<dyn ForeignFns>> {
        self.foreign
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
