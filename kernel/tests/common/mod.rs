//! What the kernel tests share: a kernel process on fresh ports (optionally under an address-space
//! limit) and a client written with jupyter-zmq-client that verifies every signature it reads.
#![allow(dead_code)]

use jupyter_protocol::{ConnectionInfo, JupyterMessage, UnknownMessage};
use jupyter_zmq_client::{
    ClientControlConnection, ClientIoPubConnection, ClientShellConnection, Connection, RawMessage,
    create_client_control_connection, create_client_iopub_connection,
    create_client_shell_connection_with_identity, peer_identity_for_session,
};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::time::timeout;
use zeromq::SocketRecv;

// Generous: a Rust cell compiles with rustc on two busy cores. A hang still fails.
pub const WAIT: Duration = Duration::from_secs(180);

pub struct Kernel {
    pub child: Child,
    pub info: ConnectionInfo,
    pub _dir: tempfile::TempDir,
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_kernel() -> Kernel {
    start_kernel_with(&[], None).await
}

/// A kernel with extra environment, under an address-space limit (`prlimit --as`) when given
/// and prlimit exists, so a regression that eats memory fails the test instead of the machine.
pub async fn start_kernel_with(env: &[(&str, &str)], address_space: Option<u64>) -> Kernel {
    let dir = tempfile::tempdir().unwrap();
    let ip = "127.0.0.1".parse().unwrap();
    let ports = jupyter_zmq_client::peek_ports(ip, 5).await.unwrap();
    let conn = json!({
        "ip": "127.0.0.1", "transport": "tcp", "signature_scheme": "hmac-sha256",
        "key": uuid::Uuid::new_v4().to_string(),
        "shell_port": ports[0], "iopub_port": ports[1], "stdin_port": ports[2],
        "control_port": ports[3], "hb_port": ports[4], "kernel_name": "stratbook",
    });
    let path = dir.path().join("kernel.json");
    std::fs::write(&path, conn.to_string()).unwrap();
    let info: ConnectionInfo = serde_json::from_value(conn).unwrap();
    let bin = env!("CARGO_BIN_EXE_stratbook");
    let prlimit = std::path::Path::new("/usr/bin/prlimit");
    let mut cmd = match address_space {
        // prlimit sets the limit on itself and execs the kernel: same process, same pid.
        Some(bytes) if prlimit.exists() => {
            let mut c = Command::new(prlimit);
            c.arg(format!("--as={bytes}")).arg("--").arg(bin);
            c
        }
        _ => Command::new(bin),
    };
    let child = cmd
        .args(["kernel", "--connection-file"])
        .arg(&path)
        .env("STRATBOOK_HOME", dir.path().join("home"))
        .envs(env.iter().copied())
        .current_dir(dir.path())
        // Rust cells' `:dep`s resolve from the local cargo cache only: tests never reach the network.
        .env("CARGO_NET_OFFLINE", "true")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    Kernel {
        child,
        info,
        _dir: dir,
    }
}

/// A received message: type, parent msg_id and content.
#[derive(Debug, Clone)]
pub struct Msg {
    pub msg_type: String,
    pub parent: String,
    pub content: Value,
}

/// Reads one message and checks its signature with the connection's key.
pub async fn recv<S: SocketRecv>(conn: &mut Connection<S>) -> Msg {
    let frames = timeout(WAIT, conn.socket.recv())
        .await
        .expect("a message within the timeout")
        .unwrap();
    let raw = RawMessage::from_multipart(frames, &conn.mac).expect("a validly signed message");
    let header: Value = serde_json::from_slice(&raw.jparts[0]).unwrap();
    let parent: Value = serde_json::from_slice(&raw.jparts[1]).unwrap();
    Msg {
        msg_type: header["msg_type"].as_str().unwrap().to_string(),
        parent: parent["msg_id"].as_str().unwrap_or("").to_string(),
        content: serde_json::from_slice(&raw.jparts[3]).unwrap(),
    }
}

pub fn request(msg_type: &str, content: Value) -> JupyterMessage {
    JupyterMessage::new(
        UnknownMessage {
            msg_type: msg_type.into(),
            content,
        },
        None,
    )
}

pub fn execute_content(code: &str) -> Value {
    json!({"code": code, "silent": false, "store_history": true, "user_expressions": {},
        "allow_stdin": false, "stop_on_error": true})
}

pub struct Client {
    pub shell: ClientShellConnection,
    pub control: ClientControlConnection,
    pub iopub: ClientIoPubConnection,
}

impl Client {
    /// Connects and waits until the kernel answers and iopub delivers (jupyter_client's nudge).
    pub async fn connect(info: &ConnectionInfo) -> Client {
        let session = uuid::Uuid::new_v4().to_string();
        let id = peer_identity_for_session(&session).unwrap();
        let shell = create_client_shell_connection_with_identity(info, &session, id)
            .await
            .unwrap();
        let control = create_client_control_connection(info, &session)
            .await
            .unwrap();
        let iopub = create_client_iopub_connection(info, "", &session)
            .await
            .unwrap();
        let mut c = Client {
            shell,
            control,
            iopub,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "kernel never became ready");
            let id = c.send_shell("kernel_info_request", json!({})).await;
            let reply = c.shell_reply(&id).await;
            assert_eq!(reply.content["language_info"]["name"], "rhai");
            if let Ok(Ok(_)) = timeout(Duration::from_millis(200), c.iopub.socket.recv()).await {
                // Drain the rest of that exchange.
                while timeout(Duration::from_millis(50), c.iopub.socket.recv())
                    .await
                    .is_ok()
                {}
                return c;
            }
        }
    }

    pub async fn send_shell(&mut self, msg_type: &str, content: Value) -> String {
        let m = request(msg_type, content);
        let id = m.header.msg_id.clone();
        self.shell.send(m).await.unwrap();
        id
    }

    pub async fn send_control(&mut self, msg_type: &str, content: Value) -> String {
        let m = request(msg_type, content);
        let id = m.header.msg_id.clone();
        self.control.send(m).await.unwrap();
        id
    }

    pub async fn shell_reply(&mut self, id: &str) -> Msg {
        loop {
            let m = recv(&mut self.shell).await;
            if m.parent == id {
                return m;
            }
        }
    }

    pub async fn control_reply(&mut self, id: &str) -> Msg {
        loop {
            let m = recv(&mut self.control).await;
            if m.parent == id {
                return m;
            }
        }
    }

    /// iopub messages of a request, from busy to idle (both excluded).
    pub async fn outputs(&mut self, id: &str) -> Vec<Msg> {
        let mut out = Vec::new();
        let mut busy = false;
        loop {
            let m = recv(&mut self.iopub).await;
            if m.parent != id {
                continue;
            }
            match (m.msg_type.as_str(), m.content["execution_state"].as_str()) {
                ("status", Some("busy")) => busy = true,
                ("status", Some("idle")) => {
                    assert!(busy, "idle without busy");
                    return out;
                }
                _ => out.push(m),
            }
        }
    }

    pub async fn execute(&mut self, code: &str) -> (Msg, Vec<Msg>) {
        let id = self
            .send_shell("execute_request", execute_content(code))
            .await;
        let reply = self.shell_reply(&id).await;
        let outs = self.outputs(&id).await;
        (reply, outs)
    }

    pub async fn shell_request(&mut self, msg_type: &str, content: Value) -> Msg {
        let id = self.send_shell(msg_type, content).await;
        let reply = self.shell_reply(&id).await;
        self.outputs(&id).await;
        reply
    }
}

pub fn result_text(outs: &[Msg]) -> Option<String> {
    outs.iter()
        .find(|m| m.msg_type == "execute_result")
        .map(|m| {
            m.content["data"]["text/plain"]
                .as_str()
                .unwrap()
                .to_string()
        })
}
