//! A client that subscribes to iopub and then never reads costs the kernel a bounded amount of
//! memory: past its budget the iopub socket drops output to that client only, while a client
//! that reads gets every byte. Before the kernel had its own PUB socket, such a subscriber kept
//! every message (zeromq 0.7 queues 100,000 messages per subscriber whatever their size).

mod common;

use common::*;
use jupyter_zmq_client::create_client_iopub_connection;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A hand-written ZMTP 3.0 SUB that subscribes to everything and then never reads.
fn stuck_subscriber(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to iopub");
    let mut greeting = [0u8; 64];
    greeting[0] = 0xff;
    greeting[9] = 0x7f;
    greeting[10] = 3;
    greeting[12..16].copy_from_slice(b"NULL");
    s.write_all(&greeting).unwrap();
    let mut theirs = [0u8; 64];
    s.read_exact(&mut theirs).unwrap();
    assert_eq!((theirs[0], theirs[9], theirs[10]), (0xff, 0x7f, 3));
    assert_eq!(&theirs[12..16], b"NULL");
    let ready = b"\x05READY\x0bSocket-Type\x00\x00\x00\x03SUB";
    s.write_all(&[0x04, ready.len() as u8]).unwrap();
    s.write_all(ready).unwrap();
    let mut head = [0u8; 2];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 0x04, "the kernel's READY is a short command");
    let mut body = vec![0u8; head[1] as usize];
    s.read_exact(&mut body).unwrap();
    assert!(body.starts_with(b"\x05READY"), "{body:?}");
    assert!(
        body.windows(3).any(|w| w == b"PUB"),
        "Socket-Type PUB: {body:?}"
    );
    // Subscribe to every topic (ZMTP 3.0: a one-frame message, 1 then the prefix).
    s.write_all(&[0x00, 0x01, 0x01]).unwrap();
    s
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb / 1024.0
}

const PRINTS: usize = 20_000;

/// A cell of 20 MB of prints (20,000 lines of 1,000 bytes).
fn chatty_cell() -> String {
    format!("for i in 0..{PRINTS} {{ print(line); }}")
}

/// With a subscriber connected that never reads, a client that reads still gets every byte; and
/// the memory that subscriber costs is bounded. The second part runs with no reading subscriber
/// (the test client's iopub is swapped for one whose subscription matches nothing), so the
/// kernel's growth is what it keeps for the stuck one alone: before the bound, every message
/// (about 20 MB a cell here); now at most the budget (32 MB) and the socket buffers.
#[tokio::test]
async fn a_client_that_never_reads_costs_bounded_memory_and_others_get_everything() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("no /proc here: this check reads the kernel's resident memory from it");
        return;
    }
    let k = start_kernel_with(&[], Some(4 << 30)).await;
    let mut c = Client::connect(&k.info).await;
    let stuck = stuck_subscriber(k.info.iopub_port);
    // The subscription reaches the kernel before the output starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.execute("let line = \"\"; for i in 0..999 { line += \"x\"; } let before = 41;")
        .await;
    for n in 0..2 {
        let (reply, outs) = c.execute(&chatty_cell()).await;
        assert_eq!(
            reply.content["status"], "ok",
            "cell {n}: {:?}",
            reply.content
        );
        let text: usize = outs
            .iter()
            .filter(|m| m.msg_type == "stream")
            .map(|m| m.content["text"].as_str().unwrap_or("").len())
            .sum();
        assert_eq!(
            text,
            PRINTS * 1000,
            "cell {n}: the reading client lost output"
        );
    }

    // Now only the stuck subscriber takes output.
    c.iopub = create_client_iopub_connection(&k.info, "no-topic-is-this", "swap")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = k.child.id();
    let start = rss_mb(pid);
    let cells = 10;
    for n in 0..cells {
        let id = c
            .send_shell("execute_request", execute_content(&chatty_cell()))
            .await;
        let reply = c.shell_reply(&id).await;
        assert_eq!(
            reply.content["status"], "ok",
            "cell {n}: {:?}",
            reply.content
        );
    }
    let end = rss_mb(pid);
    eprintln!(
        "kernel RSS with only a subscriber that never reads: {start:.0} -> {end:.0} MB over {cells} cells of 20 MB of prints (budget 32 MB)"
    );
    assert!(
        end - start < 100.0,
        "a client that never reads cost the kernel {:.0} MB ({start:.0} -> {end:.0} MB)",
        end - start
    );
    // The kernel and its variables are fine, and a client that leaves is forgotten.
    drop(stuck);
    let id = c
        .send_shell("execute_request", execute_content("before + 1"))
        .await;
    let reply = c.shell_reply(&id).await;
    assert_eq!(reply.content["status"], "ok");
}
