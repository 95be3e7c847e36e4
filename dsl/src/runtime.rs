//! What built-in functions share with the session that runs them: the output channel, the
//! interrupt flag and the data configuration. Built-ins capture an `Arc<Runtime>`.

use crate::data::config::Config;
use crate::display::{MimeBundle, Output};
use crate::error::{DslError, Result};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The interrupt flag: set by the kernel (interrupt_request, SIGINT), read by the script engine's
/// progress hook and by long native loops (backtests, fetches, sweeps).
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Cancel::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// `Err(Interrupted)` once cancelled: call it every few thousand iterations of a long loop.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(DslError::Interrupted)
        } else {
            Ok(())
        }
    }
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

type Sink = Box<dyn FnMut(Output) + Send>;

/// Where a running cell's outputs go. Outside a cell (or with no sink) outputs are dropped.
#[derive(Default)]
pub struct Emitter {
    sink: Mutex<Option<Sink>>,
    next_id: AtomicU64,
}

impl Emitter {
    pub fn set_sink(&self, sink: Option<Sink>) {
        *self.sink.lock().unwrap_or_else(|e| e.into_inner()) = sink;
    }

    pub fn emit(&self, out: Output) {
        if let Some(sink) = self.sink.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            sink(out);
        }
    }

    pub fn stdout(&self, text: impl Into<String>) {
        self.emit(Output::Stream {
            stderr: false,
            text: text.into(),
        });
    }

    pub fn stderr(&self, text: impl Into<String>) {
        self.emit(Output::Stream {
            stderr: true,
            text: text.into(),
        });
    }

    pub fn display(&self, bundle: MimeBundle, display_id: Option<String>) {
        self.emit(Output::Display { bundle, display_id });
    }

    pub fn update(&self, bundle: MimeBundle, display_id: &str) {
        self.emit(Output::UpdateDisplay {
            bundle,
            display_id: display_id.into(),
        });
    }

    /// A fresh display id, e.g. for a progress display.
    pub fn new_display_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{}-{n}", std::process::id())
    }
}

/// Progress of long work (fetches, sweeps): shown as an updating display in a notebook.
pub struct Progress<'a> {
    emitter: &'a Emitter,
    id: String,
    label: String,
    total: u64,
    last_pct: i64,
}

impl<'a> Progress<'a> {
    pub fn new(emitter: &'a Emitter, label: &str, total: u64) -> Self {
        let id = emitter.new_display_id("progress");
        let p = Progress {
            emitter,
            id,
            label: label.into(),
            total,
            last_pct: -1,
        };
        p.emitter.display(p.bundle(0, ""), Some(p.id.clone()));
        p
    }

    /// Reports `done` of `total`; updates at most once per percent.
    pub fn set(&mut self, done: u64, note: &str) {
        let pct = if self.total == 0 {
            100
        } else {
            (done * 100 / self.total) as i64
        };
        if pct != self.last_pct {
            self.last_pct = pct;
            self.emitter.update(self.bundle(done, note), &self.id);
        }
    }

    pub fn finish(&mut self, note: &str) {
        self.last_pct = -1;
        let total = self.total;
        self.set(total, note);
    }

    fn bundle(&self, done: u64, note: &str) -> MimeBundle {
        let pct = if self.total == 0 {
            100.0
        } else {
            done as f64 * 100.0 / self.total as f64
        };
        let width = 30usize;
        let filled = ((pct / 100.0) * width as f64).round() as usize;
        let bar = format!(
            "{}{}",
            "█".repeat(filled.min(width)),
            "░".repeat(width - filled.min(width))
        );
        let text = format!("{} [{bar}] {done}/{} {note}", self.label, self.total);
        let html = format!(
            "<div style=\"font-family:monospace\">{} <progress value=\"{done}\" max=\"{}\" style=\"width:240px\"></progress> {done}/{} {}</div>",
            crate::display::html_escape(&self.label),
            self.total.max(1),
            self.total,
            crate::display::html_escape(note)
        );
        MimeBundle::text(text).with("text/html", html)
    }
}

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
