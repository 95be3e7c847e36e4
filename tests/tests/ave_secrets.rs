//! The API key never leaks: notebook sessions fetch with a key set (successes, a 401, retries,
//! missing prices, errors), and every output, displayed value and error message is searched for it.

use dsl::data::config::{ApiKey, Config};
use dsl::display::Output;
use dsl::script::Session;
use std::sync::{Arc, Mutex};
use stratbook_tests::{Fault, MOCK_KEY, MockAve, mock_config};

/// Runs cells in a session whose outputs are all captured; returns everything a user could see.
fn run_cells(cfg: Config, cells: &[&str]) -> Vec<String> {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut s = Session::new(cfg.clone());
    let sink = seen.clone();
    s.set_sink(move |o: Output| sink.lock().unwrap().push(format!("{o:?}")));
    let mut out = vec![format!("{cfg:?}")];
    for code in cells {
        match s.execute(code) {
            Ok(r) => out.push(format!("{r:?}")),
            Err(e) => out.push(format!("{e:?} / {e}")),
        }
    }
    out.extend(seen.lock().unwrap().iter().cloned());
    out
}

fn assert_clean(texts: &[String], secret: &str) {
    assert!(texts.len() >= 2, "config and at least one cell");
    for t in texts {
        assert!(!t.contains(secret), "the key leaked into: {t}");
    }
}

const TOKEN: &str = "0x1111111111111111111111111111111111111111-bsc";

#[test]
fn the_key_appears_in_no_output_error_or_log() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    // Retries on the way: a 500, a throttle with Retry-After, truncated JSON.
    mock.push_fault(Fault::status(500, None));
    mock.push_fault(Fault::status(429, Some(0)));
    mock.push_fault(Fault::Truncated);
    let texts = run_cells(
        mock_config(dir.path(), &mock),
        &[
            &format!(
                r#"let b = klines("{TOKEN}", "5m", #{{ from: "2025-05-01", to: "2025-05-20" }}); b"#
            ),
            "b.tail(3)",
            &format!(r#"prices(["{TOKEN}", "0xunknown-bsc", "demo:BTC"])"#),
            r#"search_tokens("pepe")"#,
            r#"token("0xunknown-bsc")"#,
            r#"klines("0xunknown-bsc", "1h")"#,
            "chains()",
        ],
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("no price for 0xunknown-bsc")),
        "the missing-price warning was shown"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Bars 0x1111111111111111111111111111111111111111-bsc 5m"))
    );
    assert_eq!(mock.pending_faults(), 0, "every retry path ran");
    assert_clean(&texts, MOCK_KEY);
    assert!(
        mock.request_log().iter().all(|l| !l.contains(MOCK_KEY)),
        "the key travels in a header, never the URL"
    );
}

#[test]
fn a_rejected_key_is_not_echoed() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    let secret = "sk-live-9d8c7b6a5f4e3d2c1b0a";
    let mut cfg = mock_config(dir.path(), &mock);
    cfg.api_key = Some(ApiKey::new(secret));
    let texts = run_cells(
        cfg,
        &[
            &format!(r#"klines("{TOKEN}", "1h")"#),
            &format!(r#"prices(["{TOKEN}"])"#),
            r#"search_tokens("pepe")"#,
        ],
    );
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("AVE rejected the API key"))
            .count(),
        3,
        "{texts:?}"
    );
    assert_clean(&texts, secret);
}

#[test]
fn a_server_echoing_the_key_is_scrubbed() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    mock.push_fault(Fault::Status {
        code: 400,
        body: serde_json::json!({"code": 1, "msg": format!("bad request for key {MOCK_KEY}"), "data": {}}),
        retry_after: None,
    });
    let texts = run_cells(
        mock_config(dir.path(), &mock),
        &[&format!(r#"klines("{TOKEN}", "1h")"#)],
    );
    assert!(
        texts.iter().any(|t| t.contains("bad request for key ***")),
        "{texts:?}"
    );
    assert_clean(&texts, MOCK_KEY);
}
