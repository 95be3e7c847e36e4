//! What the engine shows: MIME bundles and the outputs a running cell produces.
//!
//! Every value renders itself as a [`MimeBundle`] whose `text/plain` part carries the numbers, so a
//! reader without images (an LLM reading the notebook) still gets the results. The kernel copies
//! [`Output`]s into Jupyter messages; `stratbook run` copies them into notebook outputs.

use serde_json::{Map, Value};

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
