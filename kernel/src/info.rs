//! What the kernel says about itself: `kernel_info_reply` content and the notebook metadata
//! (`kernelspec`, `language_info`) that `stratbook run` writes, so both describe Rhai the same way.

use serde_json::{Value, json};

/// The kernelspec directory name (also `metadata.kernelspec.name` in notebooks).
pub const KERNEL_NAME: &str = "stratbook";
/// Shown in the launcher and the kernel picker.
pub const DISPLAY_NAME: &str = "Stratbook (Rhai)";
/// The language name papermill and nbconvert key on.
pub const LANGUAGE: &str = "rhai";
/// The Rhai release the DSL is built on (the workspace pins rhai 1.27).
pub const RHAI_VERSION: &str = "1.27";
/// The messaging protocol version we speak (jupyter-protocol's headers say 5.3).
pub const PROTOCOL_VERSION: &str = "5.3";

/// `language_info` for kernel_info replies and notebook metadata. Pygments has no Rhai lexer and
/// CodeMirror no Rhai mode, so both borrow Rust's (close enough for braces, `let`, `fn`, `//`).
pub fn language_info() -> Value {
    json!({
        "name": LANGUAGE,
        "version": RHAI_VERSION,
        "mimetype": "text/x-rhai",
        "file_extension": ".rhai",
        "pygments_lexer": "rust",
        "codemirror_mode": "rust",
        "nbconvert_exporter": "script",
    })
}

/// `metadata.kernelspec` for notebooks.
pub fn kernelspec_metadata() -> Value {
    json!({"name": KERNEL_NAME, "display_name": DISPLAY_NAME, "language": LANGUAGE})
}

pub fn banner() -> String {
    format!(
        "Stratbook {} (Rhai {RHAI_VERSION}): a trading-strategy notebook kernel.\n\
         help() lists the built-ins; ?name or name? shows one; Tab completes, Shift-Tab inspects.",
        env!("CARGO_PKG_VERSION")
    )
}

/// The full `kernel_info_reply` content.
pub fn kernel_info_reply() -> Value {
    json!({
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": "stratbook",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": language_info(),
        "banner": banner(),
        "debugger": false,
        "help_links": [
            {"text": "Rhai book", "url": "https://rhai.rs/book/"},
            {"text": "Stratbook DSL reference", "url": "https://github.com/stratbook/stratbook/blob/main/docs/dsl.md"},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_info_names_rhai_with_a_dotted_extension() {
        let li = language_info();
        assert_eq!(li["name"], "rhai");
        assert_eq!(li["file_extension"], ".rhai");
        assert_eq!(li["codemirror_mode"], "rust");
    }

    #[test]
    fn kernel_info_reply_has_the_fields_clients_require() {
        let r = kernel_info_reply();
        for key in [
            "status",
            "protocol_version",
            "implementation",
            "language_info",
            "banner",
        ] {
            assert!(r.get(key).is_some(), "missing {key}");
        }
        assert_eq!(r["implementation"], "stratbook");
    }
}
