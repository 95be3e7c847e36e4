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
    /// The request each recent display id was shown under (newest last), so an update made
    /// after its cell ended goes to that cell (JupyterLab routes iopub by parent).
    displays:
        std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<(String, JupyterMessage)>>>,
}

/// Display ids remembered for updates from outside a cell.
const DISPLAYS_KEPT: usize = 256;

impl Publisher {
    /// Starts the task that owns the socket.
    pub fn start(conn: PubSocket, session: &str) -> Publisher {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(publish_loop(conn, rx));
        Publisher {
            tx,
            session: session.to_string(),
            displays: Default::default(),
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
        if c.msg_type == "display_data"
            && let Some(id) = c.content["transient"]["display_id"].as_str()
        {
            let mut d = self.displays.lock().unwrap_or_else(|e| e.into_inner());
            d.retain(|(k, _)| k != id);
            if d.len() >= DISPLAYS_KEPT {
                d.pop_front();
            }
            d.push_back((id.to_string(), parent.clone()));
        }
        self.publish(Some(parent), c.msg_type, c.content);
    }

    /// An update of a display made outside any cell, sent as from the cell that showed it.
    pub fn background(&self, out: &dsl::display::Output) {
        if let dsl::display::Output::UpdateDisplay { bundle, display_id } = out {
            let parent = self
                .displays
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|(k, _)| k == display_id)
                .map(|(_, p)| p.clone());
            let c = crate::outputs::display(bundle, Some(display_id), true);
            self.publish(parent.as_ref(), c.msg_type, c.content);
        }
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
