//! `%ai` against the mock Anthropic server: the next cell is offered (never run), checked in a
//! scratch copy of the session and repaired from its error (at most twice), offered with its
//! error when it still fails; what the model is sent (reference, variables, cells, conversation);
//! API faults; no key; and the key absent from every output.

use dsl::data::config::Config;
use dsl::script::{ExecResult, Session};
use std::path::Path;
use std::sync::{Arc, Mutex};
use stratbook_tests::{MOCK_LLM_KEY, MockLlm, Reply, mock_llm_config};

fn session(home: &Path, mock: &MockLlm) -> (Session, Arc<Mutex<String>>) {
    let s = Session::new(Config::for_home(home));
    s.set_llm_config(mock_llm_config(mock));
    let log = Arc::new(Mutex::new(String::new()));
    let l = log.clone();
    s.set_sink(move |o| l.lock().unwrap().push_str(&format!("{o:?}\n")));
    (s, log)
}

const GOOD: &str = "An SMA cross on the PEPE bars.\n\n```rhai\nlet r = backtest(pepe, std::strategies::sma_cross(pepe, 10, 30), #{ save: false });\nr\n```\n\nIt shows a tear sheet.";
const BROKEN: &str =
    "Here.\n```rhai\nlet r = backtest(pepe, std::strategies::sma_crosss(pepe, 10, 30));\nr\n```";
const NO_EXIT: &str = "Dip buyer.\n```rhai\nlet s = strategy(#{ entry: roc(pepe.close, 1) <= -2.0 });\nbacktest(pepe, s, #{ save: false })\n```";

fn ai(s: &mut Session, prompt: &str) -> ExecResult {
    s.execute(prompt)
        .unwrap_or_else(|e| panic!("{prompt}: {}", e.traceback.join("\n")))
}

#[test]
fn a_good_cell_is_offered_as_the_next_input_and_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    let (mut s, log) = session(dir.path(), &mock);
    s.execute("let pepe = klines(\"demo:PEPE\", \"1h\", #{ limit: 500 });")
        .unwrap();
    mock.push(Reply::text(GOOD));
    let r = ai(&mut s, "%ai an sma cross on pepe");
    let cell = r.next_input.unwrap();
    assert!(
        cell.starts_with("let r = backtest(pepe") && cell.ends_with("\nr"),
        "{cell}"
    );
    assert!(r.value.is_none());
    assert!(s.variable("r").is_none(), "%ai never runs the cell");
    let out = log.lock().unwrap().clone();
    assert!(
        out.contains("text/markdown") && out.contains("An SMA cross on the PEPE bars."),
        "{out}"
    );
    let sent = mock.recorded();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].key_ok);
    let system = sent[0].system();
    assert!(
        system.contains("```rhai")
            && system.contains("### sma")
            && system.contains("### percent_drop")
    );
    let prompt = sent[0].prompt();
    assert!(
        prompt.contains("- pepe: Bars = 500 bars of demo:PEPE at 1h"),
        "{prompt}"
    );
    assert!(prompt.contains("In [1]:\nlet pepe = klines"), "{prompt}");
    assert!(
        prompt.ends_with("Request: an sma cross on pepe"),
        "{prompt}"
    );
    // A follow-up carries the conversation, so it can edit the previous answer.
    mock.push(Reply::text(GOOD));
    ai(&mut s, "%%ai\nnow make the stop 5 %");
    let sent = mock.recorded();
    let msgs = sent[1].body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[1]["role"], "assistant");
    assert_eq!(msgs[1]["content"], GOOD);
    assert!(sent[1].prompt().ends_with("Request: now make the stop 5 %"));
    assert!(!out.contains(MOCK_LLM_KEY));
}

#[test]
fn a_broken_cell_goes_back_with_its_error_and_the_repair_is_offered() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    let (mut s, log) = session(dir.path(), &mock);
    s.execute("let pepe = klines(\"demo:PEPE\", \"1h\", #{ limit: 500 });")
        .unwrap();
    mock.push(Reply::text(BROKEN));
    mock.push(Reply::text(NO_EXIT));
    mock.push(Reply::text(GOOD));
    let r = ai(&mut s, "%ai an sma cross on pepe");
    assert!(r.next_input.unwrap().contains("sma_cross(pepe, 10, 30)"));
    let sent = mock.recorded();
    assert_eq!(sent.len(), 3);
    let first_fix = sent[1].prompt();
    assert!(
        first_fix.contains("sma_crosss") && first_fix.contains("Fix it"),
        "{first_fix}"
    );
    // The strategy check is part of the check: an entry with no exit goes back too.
    assert!(
        sent[2].prompt().contains("warning (no_exit)"),
        "{}",
        sent[2].prompt()
    );
    let out = log.lock().unwrap().clone();
    assert!(!out.contains("still fails"), "{out}");
    // Nothing of the scratch runs reached the session.
    assert!(s.variable("r").is_none() && s.variable("s").is_none());
}

#[test]
fn a_cell_that_keeps_failing_is_offered_with_its_error_shown() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    let (mut s, log) = session(dir.path(), &mock);
    s.execute("let pepe = klines(\"demo:PEPE\", \"1h\", #{ limit: 500 });")
        .unwrap();
    for _ in 0..3 {
        mock.push(Reply::text(BROKEN));
    }
    let r = ai(&mut s, "%ai an sma cross");
    assert!(r.next_input.unwrap().contains("sma_crosss"));
    assert_eq!(mock.recorded().len(), 3);
    let out = log.lock().unwrap().clone();
    assert!(
        out.contains("still fails its check") && out.contains("sma_crosss"),
        "{out}"
    );
}

#[test]
fn a_strategy_that_never_enters_goes_back_with_its_lint_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    let (mut s, _log) = session(dir.path(), &mock);
    s.execute("let pepe = klines(\"demo:PEPE\", \"1h\", #{ limit: 500 });")
        .unwrap();
    mock.push(Reply::text(
        "```rhai\nlet dip = strategy(#{ entry: pepe.close.pct_change(1) <= -5.0, stop_loss_pct: 3 });\n```",
    ));
    mock.push(Reply::text(GOOD));
    ai(&mut s, "%ai a dip buyer");
    let sent = mock.recorded();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].prompt().contains("never_entry"),
        "{}",
        sent[1].prompt()
    );
}

#[test]
fn fix_sends_the_last_failing_cell_and_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    let (mut s, _log) = session(dir.path(), &mock);
    assert!(
        s.execute("%ai --fix")
            .unwrap_err()
            .evalue
            .contains("no cell has failed")
    );
    s.execute("let pepe = klines(\"demo:PEPE\", \"1h\", #{ limit: 500 });")
        .unwrap();
    assert!(s.execute("let x = sma(pepe.close, \"ten\");").is_err());
    mock.push(Reply::text(GOOD));
    ai(&mut s, "%ai --fix");
    let p = mock.recorded()[0].prompt().to_string();
    assert!(
        p.contains("This cell failed:\n```rhai\nlet x = sma(pepe.close, \"ten\");")
            && p.contains("sma"),
        "{p}"
    );
}

#[test]
fn api_faults_and_a_missing_key_are_clear_errors_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    let (mut s, log) = session(dir.path(), &mock);
    // Overloaded, then an answer: the client retries.
    mock.push(Reply::overloaded(Some(0)));
    mock.push(Reply::text("```rhai\n1 + 1\n```"));
    assert_eq!(ai(&mut s, "%ai add").next_input.as_deref(), Some("1 + 1"));
    // Rate limited with retry-after, then an answer.
    mock.push(Reply::rate_limited(Some(1)));
    mock.push(Reply::text("```rhai\n2 + 2\n```"));
    assert_eq!(ai(&mut s, "%ai add").next_input.as_deref(), Some("2 + 2"));
    // A hang longer than the timeout, every try: an error, the kernel side stays usable.
    for _ in 0..3 {
        mock.push(Reply::Hang(std::time::Duration::from_secs(3)));
    }
    let e = s.execute("%ai add").unwrap_err();
    assert_eq!(e.ename, "AiError");
    mock.reset();
    mock.push(Reply::unauthorized());
    let e = s.execute("%ai add").unwrap_err();
    assert_eq!(e.ename, "AiError");
    assert!(!format!("{e:?}").contains(MOCK_LLM_KEY), "{e:?}");
    mock.push(Reply::Malformed);
    let e = s.execute("%ai add").unwrap_err();
    assert!(!format!("{e:?}").contains(MOCK_LLM_KEY));
    // No key at all.
    s.set_llm_config(dsl::llm::LlmConfig::for_mock(&mock.url(), None));
    let e = s.execute("%ai add").unwrap_err();
    assert!(e.evalue.contains("STRATBOOK_LLM_API_KEY"), "{}", e.evalue);
    assert!(!log.lock().unwrap().contains(MOCK_LLM_KEY));
}

#[test]
fn a_later_answer_without_a_cell_keeps_the_offered_cell_and_its_own_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    let (mut s, log) = session(dir.path(), &mock);
    s.execute("let pepe = klines(\"demo:PEPE\", \"1h\", #{ limit: 500 });")
        .unwrap();
    mock.push(Reply::text(BROKEN));
    mock.push(Reply::text("I cannot do better."));
    mock.push(Reply::text("Still nothing."));
    let r = ai(&mut s, "%ai an sma cross");
    assert!(r.next_input.unwrap().contains("sma_crosss"));
    let out = log.lock().unwrap().clone();
    assert!(
        out.contains("still fails its check")
            && out.contains("sma_crosss")
            && !out.contains("held no"),
        "{out}"
    );
}
