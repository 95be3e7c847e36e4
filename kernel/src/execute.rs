//! The executor: one dedicated OS thread that owns the [`Session`] and runs jobs in order. The
//! kernel's socket tasks and `stratbook run` talk to it through channels and never evaluate code
//! themselves; interrupts go through the session's [`Cancel`] handle from any thread.

use crate::rust_cells::{RustCells, RustInterrupt, rust_body};
use dsl::cancel::Cancel;
use dsl::display::{MimeBundle, Output};
use dsl::script::errors::CellError;
use dsl::script::{Completeness, Completion, ExecResult, Session};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc as tmpsc, oneshot};

/// Rhai recursion and deep expressions need more than the default 2 MiB thread stack.
const STACK_SIZE: usize = 64 << 20;

/// What a running cell sends back, in order: its outputs, then `Done`.
#[derive(Debug)]
pub enum ExecEvent {
    Output(Output),
    Done {
        result: Result<ExecResult, CellError>,
        /// `user_expressions`, evaluated after a successful cell (empty after an error).
        expressions: Vec<(String, Result<MimeBundle, CellError>)>,
    },
}

/// A cell to run.
pub struct ExecJob {
    pub code: String,
    /// Silent cells produce no outputs (Jupyter `silent`).
    pub silent: bool,
    pub user_expressions: Vec<(String, String)>,
    pub events: tmpsc::UnboundedSender<ExecEvent>,
}

pub enum Job {
    Execute(ExecJob),
    /// Installs the channel for outputs made outside any cell (a simulation's live card).
    Background(dsl::display::BackgroundSink),
    Complete {
        code: String,
        cursor: usize,
        reply: oneshot::Sender<Completion>,
    },
    Inspect {
        code: String,
        cursor: usize,
        reply: oneshot::Sender<Option<String>>,
    },
    IsComplete {
        code: String,
        reply: oneshot::Sender<Completeness>,
    },
}

/// A handle to the executor thread. Cloning shares the same thread.
#[derive(Clone)]
pub struct Executor {
    jobs: mpsc::Sender<Job>,
    cancel: Arc<OnceLock<Cancel>>,
    rust: Arc<OnceLock<RustInterrupt>>,
}

impl Executor {
    /// Starts the thread. The session is built on it, so this returns at once.
    pub fn spawn() -> std::io::Result<Executor> {
        let (tx, rx) = mpsc::channel::<Job>();
        let cancel = Arc::new(OnceLock::new());
        let slot = cancel.clone();
        let rust_slot = Arc::new(OnceLock::new());
        let rust_handle = rust_slot.clone();
        std::thread::Builder::new()
            .name("stratbook-executor".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let mut session = Session::from_env();
                let mut rust = RustCells::default();
                let _ = slot.set(session.interrupt_handle());
                let _ = rust_slot.set(rust.interrupt_handle());
                for job in rx {
                    run_job(&mut session, &mut rust, job);
                }
            })?;
        Ok(Executor {
            jobs: tx,
            cancel,
            rust: rust_handle,
        })
    }

    /// Queues a job; false if the executor thread is gone.
    pub fn submit(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }

    /// Stops the running cell (the session stays as it was before the interrupted statement).
    pub fn interrupt(&self) {
        if let Some(c) = self.cancel.get() {
            c.cancel();
        }
        if let Some(r) = self.rust.get() {
            r.interrupt();
        }
    }

    /// Runs a cell and collects everything it produced (for callers without an event loop).
    pub fn execute_blocking(&self, code: &str) -> (Vec<Output>, Result<ExecResult, CellError>) {
        let mut outputs = Vec::new();
        let result = self.execute_with(code, &mut |o| outputs.push(o));
        (outputs, result)
    }

    /// Runs a cell, handing each output to `on_output` as it is produced (a script's prints
    /// appear while it runs).
    pub fn execute_with(
        &self,
        code: &str,
        on_output: &mut dyn FnMut(Output),
    ) -> Result<ExecResult, CellError> {
        let (tx, mut rx) = tmpsc::unbounded_channel();
        let job = ExecJob {
            code: code.to_string(),
            silent: false,
            user_expressions: vec![],
            events: tx,
        };
        if !self.submit(Job::Execute(job)) {
            return Err(executor_gone());
        }
        while let Some(ev) = rx.blocking_recv() {
            match ev {
                ExecEvent::Output(o) => on_output(o),
                ExecEvent::Done { result, .. } => return result,
            }
        }
        Err(executor_gone())
    }
}

/// The error a request gets when the executor thread has died.
pub fn executor_gone() -> CellError {
    CellError {
        ename: "KernelError".into(),
        evalue: "the executor thread stopped; restart the kernel".into(),
        traceback: vec!["KernelError: the executor thread stopped; restart the kernel".into()],
        line: None,
        column: None,
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

fn internal_error(what: &str, msg: String) -> CellError {
    let evalue = format!("{what} failed inside the kernel: {msg}");
    CellError {
        ename: "InternalError".into(),
        traceback: vec![format!("InternalError: {evalue}")],
        evalue,
        line: None,
        column: None,
    }
}

/// Runs one job; a panic anywhere becomes an error for that job, never a dead thread.
fn run_job(session: &mut Session, rust: &mut RustCells, job: Job) {
    match job {
        Job::Execute(job) => {
            let events = job.events.clone();
            let outcome = catch_unwind(AssertUnwindSafe(|| execute(session, rust, job)));
            if let Err(p) = outcome {
                session.set_sink(|_| {});
                let _ = events.send(ExecEvent::Done {
                    result: Err(internal_error("the cell", panic_message(p))),
                    expressions: vec![],
                });
            }
        }
        Job::Complete {
            code,
            cursor,
            reply,
        } => {
            let c = catch_unwind(AssertUnwindSafe(|| session.complete(&code, cursor)))
                .unwrap_or_else(|_| Completion {
                    matches: vec![],
                    start: cursor,
                    end: cursor,
                });
            let _ = reply.send(c);
        }
        Job::Inspect {
            code,
            cursor,
            reply,
        } => {
            let r = catch_unwind(AssertUnwindSafe(|| session.inspect(&code, cursor)));
            let _ = reply.send(r.unwrap_or(None));
        }
        Job::Background(sink) => session.runtime().emitter.set_background(Some(sink)),
        Job::IsComplete { code, reply } => {
            if rust_body(&code).is_some() {
                let _ = reply.send(Completeness::Complete);
                return;
            }
            let r = catch_unwind(AssertUnwindSafe(|| session.is_complete(&code)));
            let _ = reply.send(r.unwrap_or(Completeness::Invalid));
        }
    }
}

fn execute(session: &mut Session, rust: &mut RustCells, job: ExecJob) {
    let ExecJob {
        code,
        silent,
        user_expressions,
        events,
    } = job;
    if silent {
        session.set_sink(|_| {});
    } else {
        let tx = events.clone();
        session.set_sink(move |o| {
            let _ = tx.send(ExecEvent::Output(o));
        });
    }
    let result = match rust_body(&code) {
        Some(body) => {
            session.count_cell();
            rust.execute(session, body)
        }
        None => session.execute(&code),
    };
    let expressions = if result.is_ok() {
        user_expressions
            .into_iter()
            .map(|(name, expr)| {
                let r = session.eval_expression(&expr);
                (name, r)
            })
            .collect()
    } else {
        vec![]
    };
    // Outputs after the cell (a background task) have no request to belong to.
    session.set_sink(|_| {});
    let _ = events.send(ExecEvent::Done {
        result,
        expressions,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_persists_between_cells_on_the_executor_thread() {
        let ex = Executor::spawn().unwrap();
        let (_, r) = ex.execute_blocking("let x = 40;");
        assert!(r.is_ok());
        let (_, r) = ex.execute_blocking("x + 2");
        let value = r.unwrap().value.unwrap();
        assert_eq!(value.plain(), Some("42"));
    }

    #[test]
    fn print_arrives_as_a_stream_before_done() {
        let ex = Executor::spawn().unwrap();
        let (outs, r) = ex.execute_blocking("print(\"hi\"); 1");
        assert!(r.is_ok());
        assert_eq!(
            outs,
            vec![Output::Stream {
                stderr: false,
                text: "hi\n".into()
            }]
        );
    }

    #[test]
    fn interrupt_stops_an_infinite_loop() {
        let ex = Executor::spawn().unwrap();
        let _ = ex.execute_blocking("1");
        let handle = ex.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            handle.interrupt();
        });
        let (_, r) = ex.execute_blocking("loop { }");
        t.join().unwrap();
        assert_eq!(r.unwrap_err().ename, "Interrupted");
        let (_, r) = ex.execute_blocking("2 + 2");
        assert_eq!(r.unwrap().value.unwrap().plain(), Some("4"));
    }
}
