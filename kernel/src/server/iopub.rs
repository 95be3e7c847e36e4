//! The iopub publisher (one task owns the PUB socket; everyone else queues messages to it) and
//! the heartbeat echo.

use super::pub_socket::PubSocket;
use super::wire;
use crate::outputs::IopubContent;
use jupyter_protocol::JupyterMessage;
use jupyter_zmq_client::KernelHeartbeatConnection;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use zeromq::{SocketRecv, SocketSend};

enum Command {
    Publish(Box<JupyterMessage>),
    /// Acknowledged once every message queued before it is in the socket's queues.
    Flush(oneshot::Sender<()>),
    /// Acknowledged once the socket's queues are written out (at most a second).
    Drain(oneshot::Sender<()>),
}

/// Queues iopub messages for the publisher task. Cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    tx: mpsc::UnboundedSender<Command>,
    session: String,
}

impl Publisher {
    /// Starts the task that owns the socket.
    pub fn start(conn: PubSocket, session: &str) -> Publisher {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(publish_loop(conn, rx));
        Publisher {
            tx,
            session: session.to_string(),
        }
    }

    pub fn publish(&self, parent: Option<&JupyterMessage>, msg_type: &str, content: Value) {
        let m = wire::iopub(parent, &self.session, msg_type, content);
        let _ = self.tx.send(Command::Publish(Box::new(m)));
    }

    pub fn status(&self, parent: Option<&JupyterMessage>, state: &str) {
        self.publish(parent, "status", json!({"execution_state": state}));
    }

    pub fn output(&self, parent: &JupyterMessage, c: IopubContent) {
        self.publish(Some(parent), c.msg_type, c.content);
    }

    /// Waits (at most a second) until everything published so far is queued for each client.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Flush(ack)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(1), done).await;
        }
    }

    /// Waits (at most a second) until everything published so far is written to the clients
    /// (before the process exits).
    pub async fn drain(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Drain(ack)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), done).await;
        }
    }
}

async fn publish_loop(conn: PubSocket, mut rx: mpsc::UnboundedReceiver<Command>) {
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Publish(m) => {
                if let Err(e) = conn.send(*m) {
                    eprintln!("stratbook: iopub send failed: {e}");
                }
            }
            Command::Flush(ack) => {
                let _ = ack.send(());
            }
            Command::Drain(ack) => {
                conn.drain(Duration::from_secs(1)).await;
                let _ = ack.send(());
            }
        }
    }
}

/// Echoes every heartbeat back unchanged, as the spec asks (the crate's helper answers "pong").
pub async fn heartbeat_loop(mut hb: KernelHeartbeatConnection) {
    loop {
        match hb.socket.recv().await {
            Ok(ping) => {
                if let Err(e) = hb.socket.send(ping).await {
                    eprintln!("stratbook: heartbeat reply failed: {e}");
                }
            }
            // A client that goes away resets its connection; that is routine, not worth a log line.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
