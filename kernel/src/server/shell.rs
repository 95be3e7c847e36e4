//! The shell channel: a reader task that never stops (bad messages are logged and dropped) and a
//! processor that answers requests in order, each between `busy` and `idle`, with the reply
//! before the idle. A failed cell with `stop_on_error` aborts the execute requests already queued
//! (what JupyterLab's Run All relies on).

use super::wire::{self, ReadError, Request};
use super::{Kernel, send_reply};
use crate::execute::{ExecEvent, ExecJob, Job, executor_gone};
use crate::history::{History, Query};
use crate::{info, outputs};
use dsl::display::Output;
use dsl::script::Completeness;
use jupyter_zmq_client::{RouterRecvConnection, RouterSendConnection};
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Stream text coalesced into one message, at most (plus the last piece added).
const STREAM_CHUNK: usize = 256 << 10;

/// Starts the reader and the processor.
pub fn start(kernel: Kernel, recv: RouterRecvConnection, send: RouterSendConnection) {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(read_loop(recv, tx, "shell"));
    let shell = Shell {
        kernel,
        send,
        queue: rx,
        pending: VecDeque::new(),
        count: 0,
        history: History::default(),
    };
    tokio::spawn(shell.serve());
}

/// Reads requests forever; a bad one is dropped with a log line, never executed.
pub async fn read_loop(
    mut recv: RouterRecvConnection,
    tx: mpsc::UnboundedSender<Request>,
    channel: &'static str,
) {
    loop {
        match wire::read(&mut recv).await {
            Ok(req) => {
                if tx.send(req).is_err() {
                    return;
                }
            }
            Err(ReadError::Rejected(why)) => {
                eprintln!("stratbook: dropped a {channel} message: {why}")
            }
            Err(ReadError::Socket(e)) => {
                eprintln!("stratbook: {channel} receive failed: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

struct Shell {
    kernel: Kernel,
    send: RouterSendConnection,
    queue: mpsc::UnboundedReceiver<Request>,
    /// Requests read while aborting, to handle next.
    pending: VecDeque<Request>,
    count: usize,
    history: History,
}

fn str_field<'a>(c: &'a Value, k: &str) -> &'a str {
    c.get(k).and_then(Value::as_str).unwrap_or("")
}

fn bool_field(c: &Value, k: &str, default: bool) -> bool {
    c.get(k).and_then(Value::as_bool).unwrap_or(default)
}

fn cursor_field(c: &Value, code: &str) -> usize {
    c.get("cursor_pos")
        .and_then(Value::as_u64)
        .map(|p| p as usize)
        .unwrap_or_else(|| code.chars().count())
}

/// Help text as Markdown: a leading paragraph of signatures becomes a Rhai code block (Markdown
/// would run its lines together); the rest is Markdown already (prose and ```rhai examples).
fn help_markdown(text: &str) -> String {
    let (head, rest) = text.split_once("\n\n").unwrap_or((text, ""));
    let signatures = head.lines().all(|l| l.contains('(') && l.contains(')'));
    if !signatures {
        return text.to_string();
    }
    format!("```rhai\n{head}\n```\n\n{rest}")
}

impl Shell {
    async fn serve(mut self) {
        loop {
            let req = match self.pending.pop_front() {
                Some(r) => r,
                None => match self.queue.recv().await {
                    Some(r) => r,
                    None => return,
                },
            };
            self.handle(req).await;
        }
    }

    async fn reply(&mut self, req: &Request, content: Value) {
        send_reply(&mut self.send, wire::reply(req, content)).await;
    }

    async fn handle(&mut self, req: Request) {
        let iopub = self.kernel.iopub.clone();
        iopub.status(Some(&req.msg), "busy");
        match req.msg_type() {
            "kernel_info_request" => self.reply(&req, info::kernel_info_reply()).await,
            "execute_request" => {
                let failed = self.execute(&req).await;
                if failed && bool_field(&req.content, "stop_on_error", true) {
                    self.abort_queued().await;
                }
            }
            "complete_request" => self.complete(&req).await,
            "inspect_request" => self.inspect(&req).await,
            "is_complete_request" => self.is_complete(&req).await,
            "history_request" => {
                let q = Query::from_content(&req.content);
                let history = self
                    .history
                    .query(&q, bool_field(&req.content, "output", false));
                self.reply(&req, json!({"status": "ok", "history": history}))
                    .await;
            }
            "comm_info_request" => self.reply(&req, json!({"status": "ok", "comms": {}})).await,
            "comm_open" => {
                // No comm targets: close it at once so the frontend does not wait on it.
                let id = req.content.get("comm_id").cloned().unwrap_or(Value::Null);
                iopub.publish(
                    Some(&req.msg),
                    "comm_close",
                    json!({"comm_id": id, "data": {}}),
                );
            }
            "comm_msg" | "comm_close" => {}
            "shutdown_request" => {
                self.kernel.clone().shutdown(&mut self.send, &req).await;
                return;
            }
            "interrupt_request" => {
                self.kernel.executor.interrupt();
                self.reply(&req, json!({"status": "ok"})).await;
            }
            other => eprintln!("stratbook: ignoring unsupported shell message '{other}'"),
        }
        iopub.status(Some(&req.msg), "idle");
    }

    /// Runs a cell; true if it failed.
    async fn execute(&mut self, req: &Request) -> bool {
        let c = &req.content;
        let code = str_field(c, "code").to_string();
        let silent = bool_field(c, "silent", false);
        let store = bool_field(c, "store_history", true) && !silent;
        let user_expressions: Vec<(String, String)> = c
            .get("user_expressions")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        if store {
            self.count += 1;
            self.history.record(self.count, &code);
        }
        let count = self.count;
        let iopub = self.kernel.iopub.clone();
        if !silent {
            iopub.publish(
                Some(&req.msg),
                "execute_input",
                json!({"code": code, "execution_count": count}),
            );
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let job = ExecJob {
            code,
            silent,
            user_expressions,
            events: tx,
        };
        let mut done = None;
        if self.kernel.executor.submit(Job::Execute(job)) {
            let mut next = rx.recv().await;
            while let Some(ev) = next.take() {
                match ev {
                    ExecEvent::Output(Output::Stream { stderr, mut text }) => {
                        // Coalesce what is already waiting into one stream message, up to a
                        // size that keeps each message a small part of a client's iopub budget.
                        while text.len() < STREAM_CHUNK
                            && let Ok(ev) = rx.try_recv()
                        {
                            match ev {
                                ExecEvent::Output(Output::Stream { stderr: s, text: t })
                                    if s == stderr =>
                                {
                                    text.push_str(&t)
                                }
                                other => {
                                    next = Some(other);
                                    break;
                                }
                            }
                        }
                        iopub.output(&req.msg, outputs::stream(stderr, &text));
                    }
                    ExecEvent::Output(o) => iopub.output(&req.msg, outputs::from_output(&o)),
                    ExecEvent::Done {
                        result,
                        expressions,
                    } => {
                        done = Some((result, expressions));
                        break;
                    }
                }
                if next.is_none() {
                    next = rx.recv().await;
                }
            }
        }
        let (result, expressions) = done.unwrap_or_else(|| (Err(executor_gone()), vec![]));
        let exprs: Map<String, Value> = expressions
            .iter()
            .map(|(k, r)| (k.clone(), outputs::expression_result(r)))
            .collect();
        let (content, failed) = match result {
            Ok(res) => {
                if let Some(value) = &res.value {
                    if !silent {
                        iopub.output(&req.msg, outputs::execute_result(count, value));
                    }
                    if store {
                        self.history.set_output(count, value.plain().unwrap_or(""));
                    }
                }
                let mut payload: Vec<Value> = res
                    .page
                    .iter()
                    .map(|p| json!({"source": "page", "data": {"text/plain": p}, "start": 0}))
                    .collect();
                // `%ai`: the model's cell becomes the next cell, below this one.
                if let Some(text) = &res.next_input {
                    payload
                        .push(json!({"source": "set_next_input", "text": text, "replace": false}));
                }
                let reply = json!({"status": "ok", "execution_count": count, "payload": payload,
                    "user_expressions": exprs});
                (reply, false)
            }
            Err(e) => {
                if !silent {
                    iopub.output(&req.msg, outputs::error(&e));
                }
                let mut reply = outputs::error_fields(&e);
                reply["status"] = json!("error");
                reply["execution_count"] = json!(count);
                reply["payload"] = json!([]);
                reply["user_expressions"] = json!({});
                (reply, true)
            }
        };
        // Outputs reach the wire before the reply, as with ipykernel.
        iopub.flush().await;
        self.reply(req, content).await;
        failed
    }

    /// Answers every execute request already queued with `aborted` (each between busy and idle);
    /// other requests are kept and handled afterwards.
    async fn abort_queued(&mut self) {
        // Let requests that are already on the wire reach the queue.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut keep = VecDeque::new();
        let mut queued: Vec<Request> = self.pending.drain(..).collect();
        while let Ok(r) = self.queue.try_recv() {
            queued.push(r);
        }
        for r in queued {
            if r.msg_type() == "execute_request" {
                let iopub = self.kernel.iopub.clone();
                iopub.status(Some(&r.msg), "busy");
                // ipykernel's exact reply: no execution_count, so frontends leave the prompt empty.
                self.reply(&r, json!({"status": "aborted"})).await;
                iopub.status(Some(&r.msg), "idle");
            } else {
                keep.push_back(r);
            }
        }
        self.pending = keep;
    }

    async fn complete(&mut self, req: &Request) {
        let code = str_field(&req.content, "code").to_string();
        let cursor = cursor_field(&req.content, &code);
        let (tx, rx) = oneshot::channel();
        let c = if self.kernel.executor.submit(Job::Complete {
            code,
            cursor,
            reply: tx,
        }) {
            rx.await.ok()
        } else {
            None
        };
        let (matches, start, end) =
            c.map(|c| (c.matches, c.start, c.end))
                .unwrap_or((vec![], cursor, cursor));
        let content = json!({"status": "ok", "matches": matches, "cursor_start": start, "cursor_end": end,
            "metadata": {}});
        self.reply(req, content).await;
    }

    async fn inspect(&mut self, req: &Request) {
        let code = str_field(&req.content, "code").to_string();
        let cursor = cursor_field(&req.content, &code);
        let (tx, rx) = oneshot::channel();
        let found = if self.kernel.executor.submit(Job::Inspect {
            code,
            cursor,
            reply: tx,
        }) {
            rx.await.ok().flatten()
        } else {
            None
        };
        let content = match found {
            Some(text) => json!({"status": "ok", "found": true, "metadata": {},
                "data": {"text/plain": text, "text/markdown": help_markdown(&text)}}),
            None => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
        };
        self.reply(req, content).await;
    }

    async fn is_complete(&mut self, req: &Request) {
        let code = str_field(&req.content, "code").to_string();
        let (tx, rx) = oneshot::channel();
        let verdict = if self
            .kernel
            .executor
            .submit(Job::IsComplete { code, reply: tx })
        {
            rx.await.ok()
        } else {
            None
        };
        let content = match verdict {
            Some(Completeness::Complete) => json!({"status": "complete"}),
            Some(Completeness::Incomplete(indent)) => {
                json!({"status": "incomplete", "indent": indent})
            }
            Some(Completeness::Invalid) => json!({"status": "invalid"}),
            None => json!({"status": "unknown"}),
        };
        self.reply(req, content).await;
    }
}

#[cfg(test)]
mod tests {
    use super::help_markdown;

    #[test]
    fn signature_lines_become_a_code_block_in_markdown_help() {
        let md = help_markdown("f(a) -> ()\nf(a, b) -> ()\n\nDoes f.");
        assert_eq!(md, "```rhai\nf(a) -> ()\nf(a, b) -> ()\n```\n\nDoes f.");
        assert_eq!(
            help_markdown("Just prose.\n\nMore."),
            "Just prose.\n\nMore."
        );
    }
}
