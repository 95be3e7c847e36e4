//! What built-in functions share with the session that runs them: the output channel, the
//! interrupt flag and the data configuration. Built-ins capture an `Arc<Runtime>`.

use crate::cancel::Cancel;
use crate::data::config::Config;
use crate::display::{Emitter, MimeBundle};
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
    /// Displays that keep updating after their cell ended (a running simulation's card).
    live: std::sync::Mutex<LiveDisplays>,
}

/// What a live display shows now, and whether it goes on changing.
pub type LiveRender = Box<dyn FnMut() -> (MimeBundle, bool) + Send>;

struct LiveDisplay {
    id: String,
    shown: String,
    render: LiveRender,
}

#[derive(Default)]
struct LiveDisplays {
    list: Vec<LiveDisplay>,
    /// The updater thread runs (it ends when the list empties).
    running: bool,
}

/// How often live displays are re-rendered (and at most how often each is updated).
pub const LIVE_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

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
            live: Default::default(),
        })
    }

    /// Keeps the display `id` (already shown, its text `shown`) up to date after its cell ends:
    /// once a [`LIVE_PERIOD`] a background thread renders it and, when the text changed, sends it
    /// through the host's background channel; it stops when `render` says it no longer changes
    /// (after sending that last state).
    pub fn add_live_display(self: &Arc<Self>, id: String, shown: String, render: LiveRender) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.list.push(LiveDisplay { id, shown, render });
        if live.running {
            return;
        }
        live.running = true;
        let rt = self.clone();
        let spawned = std::thread::Builder::new()
            .name("stratbook-live-displays".into())
            .spawn(move || rt.update_live_displays());
        if spawned.is_err() {
            live.running = false;
        }
    }

    fn update_live_displays(&self) {
        loop {
            std::thread::sleep(LIVE_PERIOD);
            let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
            live.list.retain_mut(|d| {
                // A display whose rendering panics is dropped, never the thread.
                let Ok((bundle, goes_on)) =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (d.render)()))
                else {
                    return false;
                };
                let text = bundle.plain().unwrap_or_default().to_string();
                if text != d.shown {
                    self.emitter.update_background(bundle, &d.id);
                    d.shown = text;
                }
                goes_on
            });
            if live.list.is_empty() {
                live.running = false;
                return;
            }
        }
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
