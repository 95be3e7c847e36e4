//! Rust cells: a cell whose first line is `%%rust` is Rust, evaluated by evcxr (the engine of
//! the Rust Jupyter kernel) in a context created on first use. Public functions a cell defines
//! become callable from Rhai (`rust("name", …)` or `name(…)`), served by code compiled once in
//! evcxr's child process (see [`signature`] and [`bridge`]).
//!
//! A crash of the child process (a panic that aborts, `std::process::abort()`) is an error of
//! the cell; the Rhai session is untouched and the next Rust cell starts a fresh context.

#[cfg(feature = "rust-cells")]
mod bridge;
#[cfg(feature = "rust-cells")]
mod engine;
#[cfg(feature = "rust-cells")]
pub mod signature;

use dsl::script::ExecResult;
use dsl::script::Session;
use dsl::script::errors::CellError;

/// The cell's Rust source when `code` is a Rust cell (the line after `%%rust` is line 1).
pub fn rust_body(code: &str) -> Option<&str> {
    let trimmed = code.trim_start_matches(['\n', '\r']);
    let (first, rest) = trimmed.split_once('\n').unwrap_or((trimmed, ""));
    (first.trim() == "%%rust").then_some(rest)
}

pub(crate) fn error(ename: &str, evalue: String, traceback: Vec<String>) -> CellError {
    let traceback = if traceback.is_empty() {
        vec![format!("{ename}: {evalue}")]
    } else {
        traceback
    };
    CellError {
        ename: ename.into(),
        evalue,
        traceback,
        line: None,
        column: None,
    }
}

/// Stops running Rust code from another thread (Jupyter's interrupt, `--timeout`): Rust cannot
/// be stopped mid-loop, so while Rust runs (a cell, or a call from Rhai) an interrupt kills evcxr's
/// child process; the cell fails and the next Rust cell starts a fresh context. Idle, it does nothing.
#[derive(Clone, Default)]
pub struct RustInterrupt {
    inner: std::sync::Arc<InterruptInner>,
}

#[derive(Default)]
struct InterruptInner {
    child: std::sync::Mutex<Option<std::sync::Arc<std::sync::Mutex<std::process::Child>>>>,
    busy: std::sync::atomic::AtomicUsize,
    /// Set when an interrupt killed the child, so the error can say so.
    killed: std::sync::atomic::AtomicBool,
}

impl RustInterrupt {
    pub fn interrupt(&self) {
        use std::sync::atomic::Ordering;
        if self.inner.busy.load(Ordering::SeqCst) == 0 {
            return;
        }
        let child = self
            .inner
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(child) = child {
            self.inner.killed.store(true, Ordering::SeqCst);
            let _ = child.lock().unwrap_or_else(|e| e.into_inner()).kill();
        }
    }

    /// Whether an interrupt killed the child since the last call.
    #[cfg(feature = "rust-cells")]
    pub(crate) fn take_killed(&self) -> bool {
        self.inner
            .killed
            .swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    #[cfg(feature = "rust-cells")]
    pub(crate) fn set_child(
        &self,
        child: Option<std::sync::Arc<std::sync::Mutex<std::process::Child>>>,
    ) {
        *self.inner.child.lock().unwrap_or_else(|e| e.into_inner()) = child;
    }

    /// Marks Rust as running until the guard drops.
    #[cfg(feature = "rust-cells")]
    pub(crate) fn busy(&self) -> BusyGuard {
        self.inner
            .busy
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        BusyGuard(self.clone())
    }
}

#[cfg(feature = "rust-cells")]
pub(crate) struct BusyGuard(RustInterrupt);

#[cfg(feature = "rust-cells")]
impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0
            .inner
            .busy
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The Rust side of a session: nothing until the first Rust cell.
#[derive(Default)]
pub struct RustCells {
    #[cfg(feature = "rust-cells")]
    engine: engine::Engine,
    interrupt: RustInterrupt,
}

impl RustCells {
    /// The handle that stops running Rust code from another thread.
    pub fn interrupt_handle(&self) -> RustInterrupt {
        self.interrupt.clone()
    }

    /// Runs the Rust cell `body` (without its `%%rust` line).
    #[cfg(feature = "rust-cells")]
    pub fn execute(&mut self, session: &mut Session, body: &str) -> Result<ExecResult, CellError> {
        let _busy = self.interrupt.busy();
        self.engine.execute(session, body, &self.interrupt)
    }

    #[cfg(not(feature = "rust-cells"))]
    pub fn execute(&mut self, _: &mut Session, _: &str) -> Result<ExecResult, CellError> {
        Err(error(
            "RustError",
            "this stratbook was built without Rust cells: reinstall it with the default features \
             (`cargo install stratbook`, feature `rust-cells`)"
                .into(),
            vec![],
        ))
    }
}

/// Called first thing in `main`: evcxr runs this binary again as its child process (which loads
/// and runs compiled cells) and as a rustc wrapper; in those roles control never comes back.
pub fn runtime_hook() {
    #[cfg(feature = "rust-cells")]
    evcxr::runtime_hook();
}

#[cfg(test)]
mod tests {
    use super::rust_body;

    #[test]
    fn a_rust_cell_starts_with_the_magic_line() {
        assert_eq!(rust_body("%%rust\nlet x = 1;"), Some("let x = 1;"));
        assert_eq!(rust_body("\n%%rust  \n1"), Some("1"));
        assert_eq!(rust_body("%%rust"), Some(""));
        assert_eq!(rust_body("let x = 1; // %%rust"), None);
        assert_eq!(rust_body("%%rusty\n1"), None);
    }
}
