//! The kernel binary driven over real ZeroMQ sockets by a client written with jupyter-zmq-client:
//! signed requests on shell and control, a forged signature (never executed), every request type,
//! interrupts (message and SIGINT) with state kept, stop_on_error aborts and shutdown.
//!
//! Replies are read as raw frames and their HMAC verified with the same key, so these tests also
//! check that the kernel signs what it sends.

mod common;

use bytes::Bytes;
use common::*;
use jupyter_zmq_client::create_client_heartbeat_connection;
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::time::timeout;
use zeromq::{SocketRecv, SocketSend, ZmqMessage};

#[tokio::test]
async fn execute_streams_results_and_errors_follow_the_spec() {
    let k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;

    let (reply, outs) = c.execute("print(\"hello\"); debug(\"warn\");").await;
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(reply.content["user_expressions"], json!({}));
    assert_eq!(outs[0].msg_type, "execute_input");
    assert_eq!(outs[0].content["execution_count"], 1);
    let streams: Vec<_> = outs.iter().filter(|m| m.msg_type == "stream").collect();
    assert_eq!(streams[0].content["name"], "stdout");
    assert_eq!(streams[0].content["text"], "hello\n");
    assert_eq!(streams[1].content["name"], "stderr");

    let (reply, outs) = c.execute("let x = 40; x + 2").await;
    assert_eq!(reply.content["execution_count"], 2);
    assert_eq!(result_text(&outs).as_deref(), Some("42"));
    let result = outs
        .iter()
        .find(|m| m.msg_type == "execute_result")
        .unwrap();
    assert_eq!(result.content["transient"], json!({}));

    let (reply, outs) = c.execute("x * nope").await;
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["user_expressions"], json!({}));
    let tb = reply.content["traceback"].as_array().unwrap();
    assert!(
        tb.iter().any(|l| l.as_str().unwrap().contains("x * nope")),
        "{tb:?}"
    );
    let err = outs.iter().find(|m| m.msg_type == "error").unwrap();
    assert_eq!(err.content["ename"], reply.content["ename"]);

    // Silent: no execute_input, no outputs, no new execution count.
    let id = c
        .send_shell(
            "execute_request",
            json!({"code": "print(\"shh\"); 5", "silent": true,
            "store_history": false, "user_expressions": {"y": "x * 2"}}),
        )
        .await;
    let reply = c.shell_reply(&id).await;
    assert_eq!(reply.content["execution_count"], 3);
    assert_eq!(
        reply.content["user_expressions"]["y"]["data"]["text/plain"],
        "80"
    );
    assert!(c.outputs(&id).await.is_empty());

    // A pager cell returns a page payload.
    let (reply, _) = c.execute("?display").await;
    assert_eq!(reply.content["payload"][0]["source"], "page");
    assert!(
        reply.content["payload"][0]["data"]["text/plain"]
            .as_str()
            .unwrap()
            .contains("display")
    );
}

#[tokio::test]
async fn forged_signatures_and_garbage_are_dropped_without_killing_the_kernel() {
    let k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;

    // A correctly framed execute_request with a wrong signature: must not run.
    let forged = request("execute_request", execute_content("let forged = 1;"));
    let parts: Vec<Bytes> = vec![
        Bytes::from_static(b"<IDS|MSG>"),
        Bytes::from("0".repeat(64)),
        Bytes::from(serde_json::to_vec(&forged.header).unwrap()),
        Bytes::from_static(b"{}"),
        Bytes::from_static(b"{}"),
        Bytes::from(execute_content("let forged = 1;").to_string()),
    ];
    c.shell
        .socket
        .send(ZmqMessage::try_from(parts).unwrap())
        .await
        .unwrap();
    // Garbage: no delimiter at all, and a frame set that is too short.
    c.shell
        .socket
        .send(ZmqMessage::from(b"nonsense".to_vec()))
        .await
        .unwrap();
    let short = vec![Bytes::from_static(b"<IDS|MSG>"), Bytes::from_static(b"sig")];
    c.shell
        .socket
        .send(ZmqMessage::try_from(short).unwrap())
        .await
        .unwrap();

    let (reply, outs) = c.execute("forged").await;
    assert_eq!(
        reply.content["status"], "error",
        "the forged cell must not have run"
    );
    let err = outs.iter().find(|m| m.msg_type == "error").unwrap();
    assert!(err.content["evalue"].as_str().unwrap().contains("forged"));

    // Requests jupyter-protocol cannot type still get replies (lenient reads).
    let r = c
        .shell_request(
            "history_request",
            json!({"hist_access_type": "search", "pattern": "forg*",
            "output": false, "raw": true}),
        )
        .await;
    assert_eq!(r.content["history"][0][2], "forged");

    // Heartbeat echoes what it gets.
    let mut hb = create_client_heartbeat_connection(&k.info).await.unwrap();
    hb.socket
        .send(ZmqMessage::from(b"ping-42".to_vec()))
        .await
        .unwrap();
    let echo = timeout(WAIT, hb.socket.recv()).await.unwrap().unwrap();
    assert_eq!(echo.get(0).unwrap().as_ref(), b"ping-42");
}

#[tokio::test]
async fn complete_inspect_is_complete_history_and_comms_answer() {
    let k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;
    c.execute("let alpha_beta = 1;").await;
    c.execute("alpha_beta + 1").await;

    let r = c
        .shell_request(
            "complete_request",
            json!({"code": "alpha_b", "cursor_pos": 7}),
        )
        .await;
    assert_eq!(r.content["matches"], json!(["alpha_beta"]));
    assert_eq!(
        (
            r.content["cursor_start"].as_u64(),
            r.content["cursor_end"].as_u64()
        ),
        (Some(0), Some(7))
    );

    let r = c
        .shell_request(
            "inspect_request",
            json!({"code": "display(1)", "cursor_pos": 3, "detail_level": 0}),
        )
        .await;
    assert_eq!(r.content["found"], true);
    assert!(
        r.content["data"]["text/plain"]
            .as_str()
            .unwrap()
            .contains("display")
    );
    let r = c
        .shell_request("inspect_request", json!({"code": "zzz", "cursor_pos": 3}))
        .await;
    assert_eq!(r.content["found"], false);

    for (code, status) in [
        ("fn f(x) {", "incomplete"),
        ("1 +* 2", "invalid"),
        ("let y = 2;", "complete"),
    ] {
        let r = c
            .shell_request("is_complete_request", json!({"code": code}))
            .await;
        assert_eq!(r.content["status"], status, "{code}");
    }

    let r = c
        .shell_request(
            "history_request",
            json!({"hist_access_type": "tail", "n": 1, "output": true, "raw": true}),
        )
        .await;
    assert_eq!(
        r.content["history"],
        json!([[1, 2, ["alpha_beta + 1", "2"]]])
    );
    let r = c
        .shell_request(
            "history_request",
            json!({"hist_access_type": "range", "session": 0, "start": 1, "stop": 2,
            "output": false, "raw": true}),
        )
        .await;
    assert_eq!(r.content["history"], json!([[1, 1, "let alpha_beta = 1;"]]));

    let r = c.shell_request("comm_info_request", json!({})).await;
    assert_eq!(r.content["comms"], json!({}));
    let id = c
        .send_shell(
            "comm_open",
            json!({"comm_id": "c1", "target_name": "nothing", "data": {}}),
        )
        .await;
    let outs = c.outputs(&id).await;
    assert_eq!(outs[0].msg_type, "comm_close");

    let id = c.send_control("kernel_info_request", json!({})).await;
    let r = c.control_reply(&id).await;
    assert_eq!(r.content["implementation"], "stratbook");
}

async fn interrupt_loop(how: &str) {
    let k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;
    c.execute("let kept = 7;").await;
    let id = c
        .send_shell("execute_request", execute_content("loop { }"))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let asked = Instant::now();
    match how {
        "message" => {
            let iid = c.send_control("interrupt_request", json!({})).await;
            let r = c.control_reply(&iid).await;
            assert_eq!(r.content["status"], "ok");
        }
        _ => {
            let status = Command::new("kill")
                .args(["-INT", &k.child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    let reply = c.shell_reply(&id).await;
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(1), "interrupt took {took:?}");
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "Interrupted");
    c.outputs(&id).await;
    let (reply, outs) = c.execute("kept * 6").await;
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(result_text(&outs).as_deref(), Some("42"));
}

#[tokio::test]
async fn interrupt_request_stops_an_infinite_loop_and_keeps_state() {
    interrupt_loop("message").await;
}

#[cfg(unix)]
#[tokio::test]
async fn sigint_stops_an_infinite_loop_and_keeps_state() {
    interrupt_loop("signal").await;
}

#[tokio::test]
async fn a_failed_cell_aborts_the_queued_ones() {
    let k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;
    // The first cell runs a moment, so the next two are queued when it fails.
    let first = c
        .send_shell(
            "execute_request",
            execute_content("let t = 0; for i in 0..20000 { t += i; } throw \"stop\""),
        )
        .await;
    let second = c
        .send_shell("execute_request", execute_content("let after = 1;"))
        .await;
    let third = c.send_shell("execute_request", execute_content("2")).await;
    assert_eq!(c.shell_reply(&first).await.content["status"], "error");
    assert_eq!(c.shell_reply(&second).await.content["status"], "aborted");
    assert_eq!(c.shell_reply(&third).await.content["status"], "aborted");
    // Later requests run normally, and the aborted cell never ran.
    let (reply, _) = c.execute("after").await;
    assert_eq!(reply.content["status"], "error");
}

#[tokio::test]
async fn runaway_and_failing_builtins_become_error_replies() {
    // The pad of 10^8 elements (1.6 GB) is refused by the memory budget, not a size limit.
    let k = start_kernel_with(&[("STRATBOOK_MAX_MEMORY", "512M")], None).await;
    let mut c = Client::connect(&k.info).await;
    for code in [
        "fn f(n) { f(n + 1) } f(0)",
        "1 / 0",
        "let a = []; a.pad(100000000, 0); a.len()",
        "[1, 2][9]",
    ] {
        let (reply, outs) = c.execute(code).await;
        assert_eq!(reply.content["status"], "error", "{code}");
        assert!(outs.iter().any(|m| m.msg_type == "error"), "{code}");
    }
    let (_, outs) = c.execute("1 + 1").await;
    assert_eq!(result_text(&outs).as_deref(), Some("2"));
}

#[tokio::test]
async fn shutdown_replies_then_the_process_exits() {
    let mut k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;
    // `restart` missing on purpose: the lenient read defaults it to false.
    let id = c.send_control("shutdown_request", json!({})).await;
    let r = c.control_reply(&id).await;
    assert_eq!(r.content["status"], "ok");
    assert_eq!(r.content["restart"], false);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if let Some(status) = k.child.try_wait().unwrap() {
            assert!(status.success(), "kernel exited with {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "kernel did not exit after shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Frames of a signed request, as a client sends them (the signature computed here with ring).
fn signed_frames(key: &str, msg_type: &str, content: Value) -> Vec<Bytes> {
    let m = request(msg_type, content.clone());
    let parts = [
        serde_json::to_vec(&m.header).unwrap(),
        b"{}".to_vec(),
        b"{}".to_vec(),
        serde_json::to_vec(&content).unwrap(),
    ];
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&k);
    for p in &parts {
        ctx.update(p);
    }
    let sig: String = ctx
        .sign()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut frames = vec![Bytes::from_static(b"<IDS|MSG>"), Bytes::from(sig)];
    frames.extend(parts.into_iter().map(Bytes::from));
    frames
}

#[tokio::test]
async fn a_replayed_execute_request_runs_once() {
    let k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;
    c.execute("let n = 0;").await;
    let frames = signed_frames(&k.info.key, "execute_request", execute_content("n += 1;"));
    // The same bytes three times: the first is a request, the others replays.
    for _ in 0..3 {
        c.shell
            .socket
            .send(ZmqMessage::try_from(frames.clone()).unwrap())
            .await
            .unwrap();
    }
    let (_, outs) = c.execute("n").await;
    assert_eq!(result_text(&outs).as_deref(), Some("1"));
    // A fresh request (new msg_id, new signature) with the same code still runs.
    let fresh = signed_frames(&k.info.key, "execute_request", execute_content("n += 1;"));
    c.shell
        .socket
        .send(ZmqMessage::try_from(fresh).unwrap())
        .await
        .unwrap();
    let (_, outs) = c.execute("n").await;
    assert_eq!(result_text(&outs).as_deref(), Some("2"));
}

/// Hostile and careless cells through the real kernel, under an address-space limit: each ends in
/// a clear error within a generous bound, and the kernel keeps a variable set before.
#[tokio::test]
async fn hostile_cells_end_in_clear_errors_and_the_kernel_keeps_its_state() {
    let k = start_kernel_with(&[("STRATBOOK_MAX_MEMORY", "256M")], Some(4 << 30)).await;
    let mut c = Client::connect(&k.info).await;
    c.execute("let before = 41;").await;
    let six_mb = "x=1;\n".repeat(1_250_000);
    let line_80001 = format!("{}x = = 1;", "let x = 0;\n".repeat(80_000));
    let cases: Vec<(&str, String, &str, &str)> = vec![
        // (name, cell, ename, a word the message must hold)
        (
            "map bomb by index assignment",
            r#"let m = #{}; let i = 0; loop { m["k" + i] = i; i += 1; }"#.into(),
            "MemoryError",
            "STRATBOOK_MAX_MEMORY",
        ),
        (
            "string doubling",
            r#"let s = "x"; loop { s += s; }"#.into(),
            "MemoryError",
            "STRATBOOK_MAX_MEMORY",
        ),
        (
            "array of arrays",
            "let a = []; loop { a.push([1, 2, 3, 4, 5, 6, 7, 8]); }".into(),
            "MemoryError",
            "STRATBOOK_MAX_MEMORY",
        ),
        (
            "one huge pad",
            "let a = []; a.pad(100000000, 0); a.len()".into(),
            "MemoryError",
            "STRATBOOK_MAX_MEMORY",
        ),
        (
            "recursion bomb",
            "fn f(n) { f(n + 1) } f(0)".into(),
            "LimitError",
            "call stack",
        ),
        (
            "huge optimize grid",
            r#"let bars = klines("demo:BTC", "1h", #{ limit: 100 }); let v = []; for i in 1..151 { v.push(i); }
            optimize(bars, |p| strategy(#{ entry: bars.close > sma(bars.close, p.a), exit: bars.close < sma(bars.close, p.b) }), #{ a: v, b: v, c: v })"#
                .into(),
            "Error",
            "100000",
        ),
        ("a 6 MB cell", six_mb, "LimitError", "1024 KB"),
        ("line 80,001", line_80001, "LimitError", "65535"),
        (
            "absolute path outside",
            r#"read_csv("/etc/passwd")"#.into(),
            "Error",
            "STRATBOOK_DATA_DIRS",
        ),
        (
            "dotdot escape",
            r#"read_csv("../../../../../../../../etc/hostname")"#.into(),
            "Error",
            "STRATBOOK_DATA_DIRS",
        ),
        (
            "write outside",
            r#"klines("demo:BTC", "1h", #{ limit: 3 }).to_csv("/tmp/stratbook-escape.csv");"#.into(),
            "Error",
            "STRATBOOK_DATA_DIRS",
        ),
    ];
    for (name, code, ename, word) in cases {
        let started = Instant::now();
        let (reply, outs) = timeout(Duration::from_secs(120), c.execute(&code))
            .await
            .unwrap_or_else(|_| panic!("{name}: no reply within 120 s"));
        assert_eq!(reply.content["status"], "error", "{name}");
        let err = outs
            .iter()
            .find(|m| m.msg_type == "error")
            .unwrap_or_else(|| panic!("{name}: no error output"));
        let evalue = err.content["evalue"].as_str().unwrap_or("");
        assert_eq!(err.content["ename"], ename, "{name}: {evalue}");
        assert!(evalue.contains(word), "{name}: {evalue}");
        let (_, outs) = c.execute("before + 1").await;
        assert_eq!(result_text(&outs).as_deref(), Some("42"), "{name}");
        eprintln!("{name}: {:.2} s", started.elapsed().as_secs_f64());
    }
    assert!(!std::path::Path::new("/tmp/stratbook-escape.csv").exists());
}

#[cfg(feature = "rust-cells")]
fn stream_text(outs: &[Msg]) -> String {
    outs.iter()
        .filter(|m| m.msg_type == "stream")
        .map(|m| m.content["text"].as_str().unwrap_or(""))
        .collect()
}

#[cfg(feature = "rust-cells")]
fn traceback_text(reply: &Msg) -> String {
    reply.content["traceback"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|l| l.as_str().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Rust cells through the kernel, with as few Rust compilations as the checks allow: a `:dep`, a
/// function called from Rhai on 1M bars and checked against the same formula in Rhai, rustc's
/// error, a panic and an abort that leave the kernel and its Rhai variables alive.
#[cfg(feature = "rust-cells")]
#[tokio::test]
async fn rust_cells_define_functions_rhai_calls_on_a_million_bars() {
    let k = start_kernel().await;
    let mut c = Client::connect(&k.info).await;
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sbfix");
    let cell = format!(
        "%%rust\n:dep sbfix = {{ path = {fixture:?} }}\n\
         pub fn kalman(close: &[f64], q: f64, r: f64) -> Vec<f64> {{\n\
             let (mut x, mut p) = (close[0], 1.0);\n\
             close.iter().map(|&z| {{ p += q; let k = p / (p + r); x += k * (z - x); p *= 1.0 - k; x }}).collect()\n\
         }}\n\
         pub fn scaled(x: &[f64], k: f64) -> Vec<f64> {{ x.iter().map(|v| sbfix::double(*v) * k).collect() }}\n\
         pub fn boom(x: f64) -> f64 {{ if x > 0.0 {{ panic!(\"positive!\") }} x }}\n\
         println!(\"from rust\");\n\
         sbfix::double(21.0)"
    );
    let (reply, outs) = c.execute(&cell).await;
    assert_eq!(reply.content["status"], "ok", "{}", traceback_text(&reply));
    assert_eq!(result_text(&outs).as_deref(), Some("42.0"));
    let text = stream_text(&outs);
    assert!(text.contains("from rust"), "{text}");
    assert!(
        text.contains("Rhai can call: kalman(close: &[f64], q: f64, r: f64) -> Vec<f64>"),
        "{text}"
    );

    // The compiled filter on 1M bars, both ways of calling it, against the formula in Rhai (on a
    // prefix: the filter is causal, and a Rhai loop over 1M values is what this feature avoids).
    let (reply, outs) = c
        .execute(
            "let bars = klines(\"demo:BTC\", \"1m\", #{ limit: 1000000 });\n\
             let k = kalman(bars.close, 0.01, 1.0);\n\
             let k2 = rust(\"kalman\", bars.close, 0.01, 1.0);\n\
             fn kalman_rhai(c, q, r) { let x = c[0]; let p = 1.0; let out = [];\n\
               for z in c.to_array() { p += q; let g = p / (p + r); x += g * (z - x); p *= 1.0 - g; out.push(x); }\n\
               series(out) }\n\
             let n = 3000;\n\
             let kr = kalman_rhai(bars.close.head(n), 0.01, 1.0);\n\
             [bars.len(), k.len(), (k2 - k).abs().max(), (k.head(n) - kr).abs().max() < 1e-9, k.last() == k.last(),\n\
              rust(\"scaled\", [1.0, 2.5], 3.0).to_array()]",
        )
        .await;
    assert_eq!(reply.content["status"], "ok", "{}", traceback_text(&reply));
    assert_eq!(
        result_text(&outs).as_deref(),
        Some("[1000000, 1000000, 0.0, true, true, [6.0, 15.0]]")
    );

    // A Rust panic in a call from Rhai is an error of that cell; the Rust process lives on.
    let (reply, _) = c.execute("rust(\"boom\", 1.0)").await;
    assert_eq!(reply.content["status"], "error");
    assert!(
        traceback_text(&reply).contains("positive!"),
        "{}",
        traceback_text(&reply)
    );
    let (reply, _) = c.execute("boom(-2.0)").await;
    assert_eq!(reply.content["status"], "ok", "{}", traceback_text(&reply));

    // rustc's own message, with the cell's line.
    let (reply, _) = c.execute("%%rust\nlet a = 1;\nlet y: i32 = \"x\";").await;
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "CompileError");
    let tb = traceback_text(&reply);
    assert!(tb.contains("error[E0308]: mismatched types"), "{tb}");
    assert!(tb.contains("line 2"), "{tb}");

    // An abort kills evcxr's child process, not the kernel: Rhai keeps its variables, calls say
    // what happened, and the next Rust cell starts afresh.
    let (reply, _) = c.execute("%%rust\nstd::process::abort();").await;
    assert_eq!(reply.content["status"], "error");
    assert!(
        traceback_text(&reply).contains("fresh Rust context"),
        "{}",
        traceback_text(&reply)
    );
    let (reply, outs) = c.execute("bars.len()").await;
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(result_text(&outs).as_deref(), Some("1000000"));
    let (reply, _) = c.execute("kalman(bars.close, 0.01, 1.0)").await;
    assert_eq!(reply.content["status"], "error");
    assert!(
        traceback_text(&reply).contains("Rust process stopped"),
        "{}",
        traceback_text(&reply)
    );
    let (reply, outs) = c.execute("%%rust\n40 + 2").await;
    assert_eq!(reply.content["status"], "ok", "{}", traceback_text(&reply));
    assert_eq!(result_text(&outs).as_deref(), Some("42"));
    assert!(stream_text(&outs).contains("fresh Rust context"));

    // An endless Rust loop stops on interrupt (the child process is killed); Rhai lives on.
    let id = c
        .send_shell(
            "execute_request",
            execute_content("%%rust\nloop { std::hint::spin_loop(); }"),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let iid = c.send_control("interrupt_request", json!({})).await;
    assert_eq!(c.control_reply(&iid).await.content["status"], "ok");
    let reply = c.shell_reply(&id).await;
    assert_eq!(reply.content["status"], "error");
    assert_eq!(
        reply.content["ename"],
        "Interrupted",
        "{}",
        traceback_text(&reply)
    );
    assert!(traceback_text(&reply).contains("fresh Rust context"));
    c.outputs(&id).await;
    let (reply, outs) = c.execute("bars.len()").await;
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(result_text(&outs).as_deref(), Some("1000000"));
}
