//! A client that subscribes to iopub and then never reads costs the kernel a bounded amount of
//! memory: past its budget the iopub socket drops output to that client only, while a client
//! that reads gets every byte. Before the kernel had its own PUB socket, eight cells of 20 MB of
//! prints grew it by about 240 MB with such a subscriber connected (zeromq 0.7 queues 100,000
//! messages per subscriber whatever their size).

mod common;

use common::*;
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

/// Runs `cells` cells of 20 MB of prints with a reading client (and, if `stuck`, a subscriber
/// that never reads) and returns the kernel's resident memory before and after, in MB.
async fn print_heavily(cells: usize, stuck: bool) -> (f64, f64) {
    let k = start_kernel_with(&[], Some(4 << 30)).await;
    let mut c = Client::connect(&k.info).await;
    let stuck = stuck.then(|| stuck_subscriber(k.info.iopub_port));
    // The subscription reaches the kernel before the output starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.execute("let line = \"\"; for i in 0..999 { line += \"x\"; } let before = 41;")
        .await;
    let pid = k.child.id();
    let start = rss_mb(pid);
    let prints = 20_000;
    for n in 0..cells {
        let (reply, outs) = c
            .execute(&format!("for i in 0..{prints} {{ print(line); }}"))
            .await;
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
            prints * 1000,
            "cell {n}: the reading client lost output"
        );
    }
    let end = rss_mb(pid);
    // The kernel and its variables are fine, and a client that leaves is forgotten.
    drop(stuck);
    let (_, outs) = c.execute("before + 1").await;
    assert_eq!(result_text(&outs).as_deref(), Some("42"));
    (start, end)
}

/// The memory a stuck subscriber costs is what it adds to the same work without it (the
/// kernel keeps the pages of its busiest moment either way). Before the bound it kept every
/// message: about 20 MB per cell here.
#[tokio::test]
async fn a_client_that_never_reads_costs_bounded_memory_and_others_get_everything() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("no /proc here: this check reads the kernel's resident memory from it");
        return;
    }
    let cells = 10;
    let (a0, a1) = print_heavily(cells, false).await;
    let (b0, b1) = print_heavily(cells, true).await;
    let cost = (b1 - b0) - (a1 - a0);
    eprintln!(
        "kernel RSS over {cells} cells of 20 MB of prints: {a0:.0} -> {a1:.0} MB with one reading client, \
         {b0:.0} -> {b1:.0} MB with a subscriber that never reads as well: it costs {cost:.0} MB \
         (budget {} MB)",
        32
    );
    assert!(
        cost < 60.0,
        "a client that never reads cost the kernel {cost:.0} MB ({b0:.0} -> {b1:.0} MB, against {a0:.0} -> {a1:.0} MB without it)"
    );
}
