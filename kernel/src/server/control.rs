//! The control channel: kernel_info, interrupt and shutdown, answered even while a cell runs.

use super::shell::read_loop;
use super::wire::{self, Request};
use super::{Kernel, send_reply};
use crate::info;
use jupyter_zmq_client::{RouterRecvConnection, RouterSendConnection};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub async fn serve(kernel: Kernel, recv: RouterRecvConnection, mut send: RouterSendConnection) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Request>();
    tokio::spawn(read_loop(recv, tx, "control"));
    while let Some(req) = rx.recv().await {
        let iopub = kernel.iopub.clone();
        iopub.status(Some(&req.msg), "busy");
        match req.msg_type() {
            "kernel_info_request" => {
                send_reply(&mut send, wire::reply(&req, info::kernel_info_reply())).await
            }
            "interrupt_request" => {
                kernel.executor.interrupt();
                send_reply(&mut send, wire::reply(&req, json!({"status": "ok"}))).await;
            }
            "shutdown_request" => {
                kernel.shutdown(&mut send, &req).await;
                continue;
            }
            "debug_request" => {
                // We advertise debugger: false; answer so a frontend does not hang.
                let content: Value = json!({"status": "error", "ename": "NotSupported",
                    "evalue": "the stratbook kernel has no debugger", "traceback": []});
                send_reply(&mut send, wire::reply(&req, content)).await;
            }
            other => eprintln!("stratbook: ignoring unsupported control message '{other}'"),
        }
        iopub.status(Some(&req.msg), "idle");
    }
}
