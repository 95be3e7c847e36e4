//! What the engine shows: MIME bundles and the outputs a running cell produces.
//!
//! Every value renders itself as a [`MimeBundle`] whose `text/plain` part carries the numbers, so a
//! reader without images (an LLM reading the notebook) still gets the results. The kernel copies
//! [`Output`]s into Jupyter messages; `stratbook run` copies them into notebook outputs.

use serde_json::{Map, Value};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A MIME bundle: `{mime: data}` plus per-MIME metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MimeBundle {
    pub data: Map<String, Value>,
    pub metadata: Map<String, Value>,
}

impl MimeBundle {
    pub fn text(text: impl Into<String>) -> Self {
        let mut b = MimeBundle::default();
        b.data
            .insert("text/plain".into(), Value::String(text.into()));
        b
    }

    pub fn with(mut self, mime: &str, data: impl Into<Value>) -> Self {
        self.data.insert(mime.into(), data.into());
        self
    }

    pub fn plain(&self) -> Option<&str> {
        self.data.get("text/plain").and_then(Value::as_str)
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.data.clone())
    }
}

/// Something a running cell produced, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// `print` (stdout) or `debug`/warnings (stderr).
    Stream { stderr: bool, text: String },
    /// `display(x)`: shown now; with a `display_id`, it can be replaced later.
    Display {
        bundle: MimeBundle,
        display_id: Option<String>,
    },
    /// `update_display(x, id)`: replaces every output shown with that display id.
    UpdateDisplay {
        bundle: MimeBundle,
        display_id: String,
    },
    /// `clear_output()`.
    Clear { wait: bool },
}

/// A value that knows how to show itself: the display contract every core type (series, bars,
/// frames, results) implements, and the script layer calls to show a cell's value.
pub trait Render {
    fn render(&self) -> MimeBundle;
}

type Sink = Box<dyn FnMut(Output) + Send>;

/// The host's channel for outputs outside any cell (see [`Emitter::update_background`]).
pub type BackgroundSink = std::sync::Arc<dyn Fn(Output) + Send + Sync>;

/// Where a running cell's outputs go. Outside a cell (or with no sink) outputs are dropped.
#[derive(Default)]
pub struct Emitter {
    sink: Mutex<Option<Sink>>,
    next_id: AtomicU64,
    background: Mutex<Option<BackgroundSink>>,
}

impl Emitter {
    /// Installs the host's channel for updates made outside any cell (a kernel has one: it sends
    /// them as update_display_data to the cell that showed the display; a headless run has none).
    pub fn set_background(&self, sink: Option<BackgroundSink>) {
        *self.background.lock().unwrap_or_else(|e| e.into_inner()) = sink;
    }

    /// Whether displays can be updated after their cell ended.
    pub fn has_background(&self) -> bool {
        self.background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Replaces a display shown by an earlier cell, from outside any cell (a background thread).
    pub fn update_background(&self, bundle: MimeBundle, display_id: &str) {
        let sink = self
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(sink) = sink {
            sink(Output::UpdateDisplay {
                bundle,
                display_id: display_id.into(),
            });
        }
    }

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
        let pct = (done * 100)
            .checked_div(self.total)
            .map_or(100, |p| p as i64);
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
            html_escape(&self.label),
            self.total.max(1),
            self.total,
            html_escape(note)
        );
        MimeBundle::text(text).with("text/html", html)
    }
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Formats a number for tables: NaN as "—", large and small magnitudes readable.
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.2}")
    } else if a >= 1.0 {
        format!("{x:.4}")
    } else if a >= 1e-4 {
        format!("{x:.6}")
    } else {
        format!("{x:.4e}")
    }
}
