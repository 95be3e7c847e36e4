//! The evcxr context behind Rust cells, created on first use and replaced after a crash.

use super::bridge::Bridge;
use super::signature;
use super::{RustInterrupt, error};
use dsl::display::MimeBundle;
use dsl::script::errors::CellError;
use dsl::script::rust_api::{ForeignFnInfo, ForeignFns};
use dsl::script::{ExecResult, Session};
use std::path::PathBuf;
use std::sync::Arc;

struct Context {
    cc: evcxr::CommandContext,
    bridge: Arc<Bridge>,
    /// Holds the sockets of this context's servers.
    dir: tempfile::TempDir,
    servers: usize,
}

#[derive(Default)]
pub struct Engine {
    ctx: Option<Context>,
    /// The previous context died: say so when the next one starts.
    crashed: bool,
}

const NO_TOOLCHAIN: &str = "Rust cells need a Rust toolchain (cargo and rustc) on the kernel's \
PATH, and none was found: install one with rustup (https://rustup.rs), make sure `cargo` is on the \
PATH the kernel starts with, then run the cell again. Rhai cells keep working without it.";

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

impl Engine {
    pub fn execute(
        &mut self,
        session: &mut Session,
        body: &str,
        interrupt: &RustInterrupt,
    ) -> Result<ExecResult, CellError> {
        if self.ctx.as_ref().is_some_and(|c| c.bridge.is_dead()) {
            self.drop_context(session);
        }
        interrupt.take_killed();
        if self.ctx.is_none() {
            self.ctx = Some(self.start(session, interrupt)?);
        }
        let ctx = self.ctx.as_mut().expect("started above");
        let outputs = match ctx.cc.execute(body) {
            Ok(o) => o,
            Err(e) => {
                let crashed = matches!(e, evcxr::Error::SubprocessTerminated(_));
                let err = to_cell_error(&e, body);
                if crashed {
                    self.drop_context(session);
                    let mut err = err;
                    if interrupt.take_killed() {
                        err.ename = "Interrupted".into();
                        err.evalue =
                            "the Rust cell was interrupted (its process was stopped)".into();
                        err.traceback = vec![format!("Interrupted: {}", err.evalue)];
                    }
                    err.evalue = format!(
                        "{}\nThe Rust process stopped: Rust variables and functions are gone; the next \
                         %%rust cell starts a fresh Rust context. Rhai variables are kept.",
                        err.evalue
                    );
                    err.traceback.push(
                        "The Rust process stopped: the next %%rust cell starts a fresh Rust context; \
                         Rhai variables are kept."
                            .into(),
                    );
                    return Err(err);
                }
                return Err(err);
            }
        };
        let mut value = None;
        if !outputs.content_by_mime_type.is_empty() {
            let mut b = MimeBundle::default();
            for (mime, content) in &outputs.content_by_mime_type {
                let v = if mime.contains("json") {
                    serde_json::from_str(content)
                        .unwrap_or_else(|_| serde_json::Value::String(content.clone()))
                } else {
                    serde_json::Value::String(content.clone())
                };
                b = b.with(mime, v);
            }
            value = Some(b);
        }
        self.serve_public_fns(session, body)?;
        Ok(ExecResult {
            value,
            page: None,
            next_input: None,
        })
    }

    fn start(
        &mut self,
        session: &mut Session,
        interrupt: &RustInterrupt,
    ) -> Result<Context, CellError> {
        if !on_path("cargo") || !on_path("rustc") {
            return Err(error("RustError", NO_TOOLCHAIN.into(), vec![]));
        }
        let emitter = session.runtime().clone();
        if std::mem::take(&mut self.crashed) {
            emitter.emitter.stderr(
                "Starting a fresh Rust context (the previous one stopped): Rust variables and \
                 functions of earlier %%rust cells are gone until those cells run again.\n",
            );
        }
        let (cc, outputs) = evcxr::CommandContext::new().map_err(|e| {
            error(
                "RustError",
                format!("could not start the Rust context (evcxr): {e}"),
                vec![],
            )
        })?;
        for (rx, is_err) in [(outputs.stdout, false), (outputs.stderr, true)] {
            let rt = emitter.clone();
            std::thread::Builder::new()
                .name("stratbook-rust-output".into())
                .spawn(move || {
                    for line in rx.iter() {
                        if is_err {
                            rt.emitter.stderr(format!("{line}\n"));
                        } else {
                            rt.emitter.stdout(format!("{line}\n"));
                        }
                    }
                })
                .map_err(|e| error("RustError", e.to_string(), vec![]))?;
        }
        interrupt.set_child(Some(cc.process_handle()));
        let bridge = Arc::new(Bridge::new(interrupt.clone()));
        session
            .runtime()
            .set_foreign(Some(bridge.clone() as Arc<dyn ForeignFns>));
        let dir = tempfile::Builder::new()
            .prefix("stratbook-rust-")
            .tempdir()
            .map_err(|e| {
                error(
                    "RustError",
                    format!("a temp dir for Rust calls: {e}"),
                    vec![],
                )
            })?;
        Ok(Context {
            cc,
            bridge,
            dir,
            servers: 0,
        })
    }

    fn drop_context(&mut self, session: &mut Session) {
        if let Some(ctx) = self.ctx.take() {
            ctx.bridge.mark_dead();
            // Calls keep failing with the bridge's clear message until the next Rust cell.
            drop(ctx.cc);
        }
        self.crashed = true;
        let _ = session;
    }

    /// Compiles a server for the cell's public functions (once) and names them in Rhai.
    fn serve_public_fns(&mut self, session: &mut Session, body: &str) -> Result<(), CellError> {
        let (fns, notes) = signature::callable_fns(body);
        let rt = session.runtime().clone();
        for n in &notes {
            rt.emitter.stderr(format!("{n}\n"));
        }
        if fns.is_empty() {
            return Ok(());
        }
        let ctx = self.ctx.as_mut().expect("a context");
        ctx.servers += 1;
        let path: PathBuf = ctx.dir.path().join(format!("fns-{}.sock", ctx.servers));
        let code = signature::server_code(&fns, &path.to_string_lossy());
        if let Err(e) = ctx.cc.execute(&code) {
            let crashed = matches!(e, evcxr::Error::SubprocessTerminated(_));
            let err = error(
                "RustError",
                format!("making the cell's functions callable from Rhai failed: {e}"),
                vec![],
            );
            if crashed {
                self.drop_context(session);
            }
            return Err(err);
        }
        ctx.bridge.add(&fns, path);
        let infos: Vec<ForeignFnInfo> = fns
            .iter()
            .map(|f| ForeignFnInfo {
                name: f.name.clone(),
                params: f.params.iter().map(|(n, _)| n.clone()).collect(),
                signature: f.signature.clone(),
            })
            .collect();
        session.define_functions(&dsl::script::rust_api::wrappers(&infos))?;
        let sigs: Vec<&str> = fns.iter().map(|f| f.signature.as_str()).collect();
        rt.emitter
            .stdout(format!("Rhai can call: {}\n", sigs.join(", ")));
        Ok(())
    }
}

/// evcxr's error as a cell error: rustc's messages with the cell's line numbers and carets.
fn to_cell_error(e: &evcxr::Error, source: &str) -> CellError {
    let lines: Vec<&str> = source.lines().collect();
    match e {
        evcxr::Error::CompilationErrors(errors) => {
            let mut tb = Vec::new();
            let mut first: Option<(usize, usize)> = None;
            let mut evalue = Vec::new();
            for err in errors {
                let code = err.code().map(|c| format!("[{c}]")).unwrap_or_default();
                let head = format!("{}{code}: {}", err.level(), err.message());
                evalue.push(err.message());
                tb.push(head);
                for sm in err.spanned_messages() {
                    if let Some(span) = &sm.span {
                        first.get_or_insert((span.start_line, span.start_column));
                        tb.push(format!(
                            "  --> rust cell, line {}, column {}",
                            span.start_line, span.start_column
                        ));
                        if let Some(l) = lines.get(span.start_line.saturating_sub(1)) {
                            tb.push(format!("   | {l}"));
                            let width = if span.end_line == span.start_line {
                                span.end_column.saturating_sub(span.start_column).max(1)
                            } else {
                                1
                            };
                            tb.push(format!(
                                "   | {}{} {}",
                                " ".repeat(span.start_column.saturating_sub(1)),
                                "^".repeat(width),
                                sm.label
                            ));
                        }
                    } else if !sm.label.is_empty() {
                        tb.push(format!("   = {}", sm.label));
                    }
                }
                for h in err.help() {
                    tb.push(format!("   = help: {h}"));
                }
                if err.spanned_messages().is_empty() && !err.rendered().is_empty() {
                    tb.extend(err.rendered().lines().map(str::to_string));
                }
            }
            let mut ce = error("CompileError", evalue.join("\n"), tb);
            if let Some((l, c)) = first {
                ce.line = Some(l);
                ce.column = Some(c);
            }
            ce
        }
        other => error("RustError", other.to_string(), vec![]),
    }
}
