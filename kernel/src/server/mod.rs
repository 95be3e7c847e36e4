//! The Jupyter transport: binds the five channels of a connection file and serves them with
//! tokio tasks (shell, control, iopub, heartbeat, signals). Cells run on the [`Executor`] thread,
//! so the control channel (interrupt, shutdown) is never blocked by a running cell.

mod control;
mod iopub;
mod pub_socket;
mod shell;
pub mod wire;

use crate::execute::Executor;
use anyhow::Context as _;
use iopub::Publisher;
use jupyter_protocol::ConnectionInfo;
use jupyter_zmq_client::{
    RouterSendConnection, create_kernel_control_connection, create_kernel_heartbeat_connection,
    create_kernel_shell_connection, create_kernel_stdin_connection,
};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use wire::Request;

/// What the shell and control tasks share.
#[derive(Clone)]
struct Kernel {
    iopub: Publisher,
    executor: Executor,
    /// Notified when a shutdown_request has been answered.
    exit: Arc<Notify>,
}

impl Kernel {
    /// Replies to a shutdown request, reports idle, and asks the process to exit.
    async fn shutdown(&self, send: &mut RouterSendConnection, req: &Request) {
        let restart = req
            .content
            .get("restart")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        self.executor.interrupt();
        send_reply(
            send,
            wire::reply(req, json!({"status": "ok", "restart": restart})),
        )
        .await;
        self.iopub.status(Some(&req.msg), "idle");
        self.exit.notify_one();
    }
}

async fn send_reply(send: &mut RouterSendConnection, msg: jupyter_protocol::JupyterMessage) {
    let t = msg.header.msg_type.clone();
    if let Err(e) = send.send(msg).await {
        eprintln!("stratbook: could not send {t}: {e}");
    }
}

/// Runs the kernel for a connection file until a shutdown_request arrives.
pub fn run_kernel(connection_file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(connection_file).with_context(|| {
        format!(
            "cannot read connection file {}; pass the file jupyter wrote",
            connection_file.display()
        )
    })?;
    let info: ConnectionInfo = serde_json::from_str(&text)
        .context("connection file is not a valid Jupyter connection file")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = rt.block_on(serve(info));
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

async fn serve(info: ConnectionInfo) -> anyhow::Result<()> {
    let session = uuid::Uuid::new_v4().to_string();
    let executor = Executor::spawn().context("cannot start the executor thread")?;
    let bind = |what: &'static str| {
        move |e| {
            anyhow::anyhow!(
                "cannot bind the {what} socket: {e}; is another kernel using these ports?"
            )
        }
    };
    let shell = create_kernel_shell_connection(&info, &session)
        .await
        .map_err(bind("shell"))?;
    let control = create_kernel_control_connection(&info, &session)
        .await
        .map_err(bind("control"))?;
    // Bound so clients can connect; we never request input (allow_stdin is not supported).
    let _stdin = create_kernel_stdin_connection(&info, &session)
        .await
        .map_err(bind("stdin"))?;
    let iopub_conn =
        pub_socket::PubSocket::bind(&info.iopub_url(), &info.key, &session, iopub_budget())
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot bind the iopub socket: {e}; is another kernel using these ports?"
                )
            })?;
    let hb = create_kernel_heartbeat_connection(&info)
        .await
        .map_err(bind("heartbeat"))?;

    let iopub = Publisher::start(iopub_conn, &session);
    iopub.status(None, "starting");
    let background = iopub.clone();
    executor.submit(crate::execute::Job::Background(Arc::new(move |o| {
        background.background(&o)
    })));
    tokio::spawn(iopub::heartbeat_loop(hb));
    let kernel = Kernel {
        iopub: iopub.clone(),
        executor: executor.clone(),
        exit: Arc::new(Notify::new()),
    };
    spawn_signal_handler(executor);
    let (shell_send, shell_recv) = shell.split();
    shell::start(kernel.clone(), shell_recv, shell_send);
    let (control_send, control_recv) = control.split();
    tokio::spawn(control::serve(kernel.clone(), control_recv, control_send));

    kernel.exit.notified().await;
    iopub.drain().await;
    Ok(())
}

/// Bytes the iopub socket queues for a client that is not reading before it drops output to it
/// (`STRATBOOK_IOPUB_BUFFER_MB`, 32 by default).
fn iopub_budget() -> usize {
    match std::env::var("STRATBOOK_IOPUB_BUFFER_MB") {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(mb) if mb >= 1 => mb << 20,
            _ => {
                eprintln!(
                    "stratbook: STRATBOOK_IOPUB_BUFFER_MB={v} is not a whole number of MB (1 or more); using {}",
                    pub_socket::DEFAULT_BUDGET >> 20
                );
                pub_socket::DEFAULT_BUDGET
            }
        },
        Err(_) => pub_socket::DEFAULT_BUDGET,
    }
}

/// SIGINT (Ctrl-C, or jupyter's signal interrupt mode) stops the running cell, not the kernel.
#[cfg(unix)]
fn spawn_signal_handler(executor: Executor) {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::interrupt()) {
        Ok(mut sig) => {
            tokio::spawn(async move {
                while sig.recv().await.is_some() {
                    eprintln!("stratbook: SIGINT: interrupting the running cell");
                    executor.interrupt();
                }
            });
        }
        Err(e) => eprintln!("stratbook: cannot handle SIGINT ({e}); use interrupt_request"),
    }
}

#[cfg(not(unix))]
fn spawn_signal_handler(executor: Executor) {
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            executor.interrupt();
        }
    });
}
