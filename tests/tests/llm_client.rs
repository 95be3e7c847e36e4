//! The LLM client against the mock Anthropic server: the wire format both ways, faults (401, 429
//! and 529 with retry-after, a hang, a malformed body), pacing, interrupt, and the key kept out of
//! every error.

use dsl::cancel::Cancel;
use dsl::llm::{Client, LlmConfig, Message, Request};
use std::time::{Duration, Instant};
use stratbook_tests::{MOCK_LLM_KEY, MockLlm, Reply, mock_llm_config};

fn client(mock: &MockLlm) -> Client {
    Client::new(mock_llm_config(mock)).unwrap()
}

fn ask(c: &Client) -> dsl::Result<dsl::llm::Response> {
    c.complete(&Request::user("be brief", "say hi", 50), &Cancel::new())
}

#[test]
fn a_request_carries_the_documented_headers_and_body() {
    let mock = MockLlm::start();
    mock.push(Reply::text("hello there"));
    let c = client(&mock);
    let mut req = Request::user("sys words", "first", 77);
    req.messages.push(Message::assistant("ok"));
    req.messages.push(Message::user("second"));
    req.model = Some("claude-test-1".into());
    let r = c.complete(&req, &Cancel::new()).unwrap();
    assert_eq!(r.text, "hello there");
    assert_eq!(r.model, "claude-test-1");
    assert_eq!(r.stop_reason, "end_turn");
    assert!(r.input_tokens > 0 && r.output_tokens > 0);
    let rec = mock.recorded();
    assert_eq!(rec.len(), 1);
    assert!(rec[0].key_ok);
    assert_eq!(rec[0].version.as_deref(), Some("2023-06-01"));
    assert_eq!(rec[0].system(), "sys words");
    assert_eq!(rec[0].prompt(), "second");
    assert_eq!(rec[0].body["max_tokens"], 77);
    assert_eq!(rec[0].body["messages"].as_array().unwrap().len(), 3);
}

#[test]
fn the_default_model_comes_from_the_config() {
    let mock = MockLlm::start();
    let mut cfg = mock_llm_config(&mock);
    cfg.model = "claude-from-env".into();
    let c = Client::new(cfg).unwrap();
    ask(&c).unwrap();
    assert_eq!(mock.recorded()[0].model(), "claude-from-env");
}

#[test]
fn overloaded_and_rate_limited_answers_are_retried_honouring_retry_after() {
    let mock = MockLlm::start();
    mock.push(Reply::overloaded(None));
    mock.push(Reply::rate_limited(Some(1)));
    mock.push(Reply::text("finally"));
    let c = client(&mock);
    let t = Instant::now();
    let r = ask(&c).unwrap();
    assert_eq!(r.text, "finally");
    assert_eq!(mock.requests(), 3);
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "retry-after: 1 was honoured"
    );
}

#[test]
fn retries_are_bounded() {
    let mock = MockLlm::start();
    for _ in 0..10 {
        mock.push(Reply::overloaded(None));
    }
    let c = client(&mock);
    let e = ask(&c).unwrap_err().to_string();
    assert!(e.contains("overloaded") && e.contains("3 attempts"), "{e}");
    assert_eq!(mock.requests(), 3, "max_retries 2 → 3 attempts");
}

#[test]
fn a_retry_after_longer_than_the_longest_wait_fails_at_once() {
    let mock = MockLlm::start();
    mock.push(Reply::rate_limited(Some(600)));
    let c = client(&mock);
    let t = Instant::now();
    let e = ask(&c).unwrap_err().to_string();
    assert!(e.contains("rate limited") && e.contains("600"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(mock.requests(), 1);
}

#[test]
fn a_wrong_key_is_a_clear_error_without_the_key() {
    let mock = MockLlm::start();
    let cfg = LlmConfig::for_mock(&mock.url(), Some("sk-ant-wrong-key-0451"));
    let c = Client::new(cfg).unwrap();
    let e = ask(&c).unwrap_err().to_string();
    assert!(
        e.contains("401") && e.contains("STRATBOOK_LLM_API_KEY"),
        "{e}"
    );
    assert!(!e.contains("sk-ant-wrong-key-0451"));
    assert_eq!(mock.requests(), 1, "a 401 is not retried");
}

#[test]
fn a_server_that_echoes_the_key_is_scrubbed() {
    let mock = MockLlm::start();
    mock.push(Reply::Error {
        status: 400,
        etype: "invalid_request_error".into(),
        message: format!("bad header {MOCK_LLM_KEY} in request"),
        retry_after: None,
    });
    let e = ask(&client(&mock)).unwrap_err().to_string();
    assert!(
        e.contains("invalid_request_error") && e.contains("***"),
        "{e}"
    );
    assert!(!e.contains(MOCK_LLM_KEY), "{e}");
}

#[test]
fn a_hang_times_out_and_a_malformed_body_is_retried() {
    let mock = MockLlm::start();
    let mut cfg = mock_llm_config(&mock);
    cfg.timeout = Duration::from_millis(300);
    cfg.max_retries = 0;
    let c = Client::new(cfg).unwrap();
    mock.push(Reply::Hang(Duration::from_secs(3)));
    let e = ask(&c).unwrap_err().to_string();
    assert!(e.contains("timed out"), "{e}");

    mock.reset();
    let c = client(&mock);
    mock.push(Reply::Malformed);
    mock.push(Reply::text("fine"));
    assert_eq!(ask(&c).unwrap().text, "fine");
    assert_eq!(mock.requests(), 2);
}

#[test]
fn an_interrupt_cuts_a_retry_wait_short() {
    let mock = MockLlm::start();
    mock.push(Reply::overloaded(Some(3)));
    let c = client(&mock);
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        c2.cancel();
    });
    let t = Instant::now();
    let e = c.complete(&Request::user("", "x", 5), &cancel).unwrap_err();
    assert!(matches!(e, dsl::DslError::Interrupted), "{e}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn requests_are_paced_per_minute() {
    let mock = MockLlm::start();
    let mut cfg = mock_llm_config(&mock);
    cfg.requests_per_minute = 600.0; // one per 100 ms
    let c = Client::new(cfg).unwrap();
    let t = Instant::now();
    for _ in 0..4 {
        ask(&c).unwrap();
    }
    assert!(
        t.elapsed() >= Duration::from_millis(290),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn no_error_ever_carries_the_key() {
    let mock = MockLlm::start();
    let replies = [
        Reply::unauthorized(),
        Reply::overloaded(Some(900)),
        Reply::Error {
            status: 500,
            etype: "api_error".into(),
            message: format!("internal {MOCK_LLM_KEY}"),
            retry_after: None,
        },
        Reply::Malformed,
    ];
    let mut cfg = mock_llm_config(&mock);
    cfg.max_retries = 0;
    let c = Client::new(cfg).unwrap();
    for r in replies {
        mock.push(r);
        let e = ask(&c).unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains(MOCK_LLM_KEY), "{text}");
    }
    // The client's own Debug output is clean too.
    assert!(!format!("{:?}", c.config()).contains(MOCK_LLM_KEY));
}
