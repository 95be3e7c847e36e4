//! `llm_decide` in backtests against the mock Anthropic server: a scripted agent whose decisions
//! give known trades; faults mid-run (invalid answer, timeout, 529) become `hold` with the reason;
//! the risk layer clipping leverage and refusing entries after a halt; a rerun served entirely
//! from the cache (zero requests at the mock) with identical trades; replay and live modes; the
//! call budget; and the key absent from outputs, logs and the database.

use dsl::data::config::Config;
use dsl::frame::Frame;
use dsl::script::Session;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratbook_tests::{MOCK_LLM_KEY, MockLlm, Reply, mock_llm_config};

/// An online session (no AVE key needed: the bars are the demo feed) talking to `mock`.
fn session(home: &Path, mock: &MockLlm) -> (Session, Arc<Mutex<String>>) {
    let mut cfg = Config::for_home(home);
    cfg.offline = false;
    let s = Session::new(cfg);
    s.set_llm_config(mock_llm_config(mock));
    let log = Arc::new(Mutex::new(String::new()));
    let l = log.clone();
    s.set_sink(move |o| l.lock().unwrap().push_str(&format!("{o:?}\n")));
    (s, log)
}

fn run(s: &mut Session, code: &str) -> String {
    match s.execute(code) {
        Ok(r) => r
            .value
            .and_then(|v| v.plain().map(str::to_string))
            .unwrap_or_default(),
        Err(e) => panic!("cell failed: {}\n{code}", e.traceback.join("\n")),
    }
}

fn frame(s: &Session, name: &str) -> Frame {
    s.variable(name)
        .unwrap()
        .read_lock::<Frame>()
        .map(|f| f.clone())
        .unwrap()
}

/// The scripted agent: buy when flat, close when long; its reasoning names the bar.
fn scripted(req: &Value) -> Reply {
    let p = req["messages"][0]["content"].as_str().unwrap_or("");
    let action = if p.contains("position: flat") {
        "buy"
    } else {
        "close"
    };
    Reply::text(format!(
        "```json\n{{\"action\": \"{action}\", \"size_pct\": 50, \"leverage\": 1, \"confidence\": 0.8, \"reasoning\": \"scripted\"}}\n```"
    ))
}

const AGENT: &str = r#"
let bars = klines("demo:BTC", "1h", #{ limit: 200 });
let rsi14 = rsi(bars.close, 14);
let agent = strategy(#{ name: "agent", on_bar: |ctx| {
    let d = llm_decide(ctx, #{ instructions: "Alternate.", every: "4h", indicators: #{ rsi14: rsi14 },
        timeframes: ["4h"], lookback: 8 });
    ctx.act(d);
} });
"#;

fn trades(s: &mut Session) -> String {
    run(
        s,
        "let t = r.trades; [t.entry_time, t.exit_time, t.pnl, r.stats.final_equity]",
    )
}

#[test]
fn a_scripted_agent_trades_as_decided_and_a_rerun_comes_from_the_cache() {
    let home = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    mock.respond_with(scripted);
    let (mut s, _log) = session(home.path(), &mock);
    run(&mut s, AGENT);
    run(
        &mut s,
        "let r = backtest(bars, agent); let d = r.decisions();",
    );
    let d = frame(&s, "d");
    // 200 hourly bars, one decision per 4h period.
    let periods = run(
        &mut s,
        "let n = 0; let last = -1; for t in bars.time.to_array() { let p = (t.to_int() / 14400); if p != last { n += 1; last = p; } } n",
    );
    assert_eq!(d.len().to_string(), periods);
    assert_eq!(mock.requests() as usize, d.len());
    // Every request carried the system prompt with the schema and a prompt with the sections.
    let rec = mock.recorded();
    assert!(rec[0].system().contains("\"action\": \"hold\" | \"buy\""));
    assert!(
        rec[3]
            .prompt()
            .contains("## 1h bars (last 8, oldest first)")
    );
    assert!(rec[3].prompt().contains("rsi14: "));
    assert!(rec[3].prompt().contains("## 4h bars (last "));
    assert!(rec[3].prompt().contains("## Instructions\nAlternate."));
    // Decisions alternate buy / close; each buy fills at the next bar's open.
    let actions = d.get("action").unwrap();
    for k in 0..d.len() {
        assert_eq!(
            actions.cell(k),
            if k % 2 == 0 { "buy" } else { "close" },
            "row {k}"
        );
    }
    run(&mut s, "let t = r.trades;");
    let t = frame(&s, "t");
    assert_eq!(t.len(), d.len() / 2);
    let times = d.get("time").unwrap();
    let entries = t.get("entry_time").unwrap();
    for k in 0..t.len() {
        let decided = dsl::time::parse_time(&times.cell(2 * k)).unwrap();
        assert_eq!(
            dsl::time::format_time(decided + 3600),
            entries.cell(k),
            "trade {k}"
        );
    }
    let first = trades(&mut s);

    // A new session on the same store: every answer from the cache, identical trades.
    mock.reset();
    let (mut s2, _) = session(home.path(), &mock);
    run(&mut s2, AGENT);
    run(
        &mut s2,
        "let r = backtest(bars, agent); let d = r.decisions();",
    );
    assert_eq!(mock.requests(), 0, "the rerun asked the model");
    assert_eq!(trades(&mut s2), first);
    let d2 = frame(&s2, "d");
    assert!((0..d2.len()).all(|k| d2.get("source").unwrap().cell(k) == "cache"));

    // Replay never asks; live always does.
    run(
        &mut s2,
        "let r = backtest(bars, agent, #{ llm: \"replay\" });",
    );
    assert_eq!(trades(&mut s2), first);
    assert_eq!(mock.requests(), 0);
    run(
        &mut s2,
        "let r = backtest(bars, agent, #{ llm: \"live\" });",
    );
    assert_eq!(mock.requests() as usize, d.len());
    assert_eq!(trades(&mut s2), first);

    // Replay with other instructions: the error names the bar without an answer.
    let e = s2
        .execute(&format!(
            "{}backtest(bars, agent2, #{{ llm: \"replay\" }})",
            AGENT
                .replace("Alternate.", "Something else.")
                .replace("let agent", "let agent2")
        ))
        .unwrap_err();
    assert!(
        e.evalue.contains("replay") && e.evalue.contains("demo:BTC 20"),
        "{}",
        e.evalue
    );
}

/// The same agent in a simulation: a replay decides as the backtest did (every answer from the
/// cache, identical trades), its decisions logged under the simulation; a live demo simulation
/// asks the model as each bar closes.
#[test]
fn an_agent_simulates_as_it_backtests_and_its_decisions_are_logged() {
    let home = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    mock.respond_with(scripted);
    let (mut s, _log) = session(home.path(), &mock);
    run(&mut s, AGENT);
    run(
        &mut s,
        "let r = backtest(bars, agent); let d = r.decisions();",
    );
    let first = trades(&mut s);
    let d = frame(&s, "d");
    assert!(d.len() > 40, "{} decisions", d.len());

    mock.reset();
    run(
        &mut s,
        "let sm = simulate(bars, agent, #{ speed: \"max\" }); sm.wait(); let sd = sm.decisions(); let r = sm.report();",
    );
    assert_eq!(mock.requests(), 0, "the replay asked the model");
    assert_eq!(trades(&mut s), first);
    let sd = frame(&s, "sd");
    assert_eq!(sd.len(), d.len());
    for col in ["time", "action", "size_pct", "confidence"] {
        for k in 0..d.len() {
            assert_eq!(
                sd.get(col).unwrap().cell(k),
                d.get(col).unwrap().cell(k),
                "{col} {k}"
            );
        }
    }
    assert!((0..sd.len()).all(|k| sd.get("source").unwrap().cell(k) == "cache"));
    // The tear sheet of the simulation counts its decisions; sim(id) reads them from the store.
    let sheet = run(&mut s, "r.to_string()");
    assert!(
        sheet.contains(&format!("LLM agent: {} decisions", d.len())),
        "{sheet}"
    );
    assert_eq!(
        run(&mut s, "sim(sm.id).decisions().len()"),
        d.len().to_string()
    );

    // Live on the demo feed (accelerated): one question per closed bar, each logged. A higher
    // timeframe follows the growing bars (it was resampled once and read past its end).
    mock.reset();
    run(
        &mut s,
        r#"let live_agent = strategy(#{ on_bar: |ctx| { ctx.act(llm_decide(ctx, #{ instructions: "Alternate.", lookback: 5, timeframes: ["5m"] })); } });
let lv = simulate("demo:BTC", live_agent, #{ interval: "1m", warmup: 30, max_duration: "10m", clock_speed: 600 });
lv.wait();
let ld = lv.decisions();"#,
    );
    let ld = frame(&s, "ld");
    assert!(ld.len() >= 9, "{} live decisions", ld.len());
    assert_eq!(mock.requests() as usize, ld.len());
    assert_eq!(run(&mut s, "lv.status"), "\"finished\"");
    // Every decision is on a live bar (none on the warm-up history).
    let bars_fed = run(&mut s, "lv.equity().len()");
    assert_eq!(bars_fed, ld.len().to_string());
}

#[test]
fn an_invalid_answer_a_timeout_and_a_529_become_hold_with_their_reason() {
    let home = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    mock.respond_with(scripted);
    let mut cfg = mock_llm_config(&mock);
    cfg.timeout = Duration::from_millis(400);
    cfg.max_retries = 1;
    mock.push(Reply::text("I would buy here, it looks great!"));
    mock.push(Reply::Hang(Duration::from_secs(3)));
    mock.push(Reply::Hang(Duration::from_secs(3)));
    mock.push(Reply::overloaded(None));
    mock.push(Reply::overloaded(None));
    let (mut s, _) = session(home.path(), &mock);
    s.set_llm_config(cfg);
    run(&mut s, AGENT);
    run(
        &mut s,
        "let r = backtest(bars, agent); let d = r.decisions();",
    );
    let d = frame(&s, "d");
    let (action, error, source) = (
        d.get("action").unwrap(),
        d.get("error").unwrap(),
        d.get("source").unwrap(),
    );
    assert_eq!(action.cell(0), "hold");
    assert!(
        error.cell(0).contains("invalid answer: no JSON object"),
        "{}",
        error.cell(0)
    );
    assert_eq!(action.cell(1), "hold");
    assert!(error.cell(1).contains("timed out"), "{}", error.cell(1));
    assert_eq!(source.cell(1), "error");
    assert_eq!(action.cell(2), "hold");
    assert!(
        error.cell(2).contains("overloaded (HTTP 529)"),
        "{}",
        error.cell(2)
    );
    // The run went on: the scripted agent trades from the fourth decision.
    assert_eq!(action.cell(3), "buy");
    assert!(error.cell(3).is_empty());
    // Failed calls are not cached: a rerun asks again for the timed-out bar, while the invalid
    // answer (what the model said) comes from the cache.
    mock.reset();
    run(&mut s, "let d2 = backtest(bars, agent).decisions();");
    let d2 = frame(&s, "d2");
    assert_eq!(d2.get("source").unwrap().cell(0), "cache");
    assert_eq!(d2.get("source").unwrap().cell(1), "model");
    assert_eq!(d2.get("action").unwrap().cell(1), "buy");
}

#[test]
fn the_risk_layer_clips_leverage_and_refuses_entries_after_a_halt() {
    let home = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    mock.respond_with(|req| {
        let p = req["messages"][0]["content"].as_str().unwrap_or("");
        let a = if p.contains("position: flat") { "buy" } else { "close" };
        Reply::text(format!(
            "{{\"action\": \"{a}\", \"size_pct\": 10, \"leverage\": 20, \"confidence\": 0.9, \"reasoning\": \"x\"}}"
        ))
    });
    let (mut s, _) = session(home.path(), &mock);
    run(
        &mut s,
        r#"
        let bars = klines("demo:ETH", "1h", #{ limit: 400 });
        let r = backtest(bars, strategy(#{ on_bar: |ctx| {
            ctx.act(llm_decide(ctx, #{ every: "2h", max_drawdown_pct: 1.0 }));
        } }), #{ leverage: 10, max_calls: 300 });
        let d = r.decisions();"#,
    );
    let d = frame(&s, "d");
    let risk = d.get("risk").unwrap();
    assert_eq!(d.get("leverage").unwrap().cell(0), "10.0000");
    assert!(
        risk.cell(0).contains("leverage 20 clipped to 10"),
        "{}",
        risk.cell(0)
    );
    assert_eq!(d.get("proposed").unwrap().cell(0), "buy");
    let halted = (0..d.len())
        .find(|&k| risk.cell(k).contains("buy refused: halted"))
        .expect("a 1 % drawdown at 10× leverage halts the agent");
    // From the halt on, no buy passes and no trade opens.
    let actions = d.get("action").unwrap();
    assert!((halted..d.len()).all(|k| actions.cell(k) != "buy"));
    let t_halt = d.get("time").unwrap().cell(halted);
    run(&mut s, "let t = r.trades;");
    let t = frame(&s, "t");
    let entries = t.get("entry_time").unwrap();
    assert!(!t.is_empty());
    assert!(
        (0..t.len()).all(|k| entries.cell(k) <= t_halt),
        "a trade opened after the halt"
    );
    let overruled = run(&mut s, "r.decisions().len()");
    assert!(overruled.parse::<usize>().unwrap() > halted);
}

#[test]
fn a_run_that_would_ask_too_often_stops_before_its_first_call() {
    let home = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    mock.respond_with(scripted);
    let (mut s, _) = session(home.path(), &mock);
    run(
        &mut s,
        "let bars = klines(\"demo:BTC\", \"1h\", #{ limit: 300 });",
    );
    let code = "backtest(bars, strategy(#{ on_bar: |ctx| { ctx.act(llm_decide(ctx, #{})); } }))";
    let e = s.execute(code).unwrap_err();
    assert!(
        e.evalue.contains("up to 300 times") && e.evalue.contains("max_calls: 300"),
        "{}",
        e.evalue
    );
    assert_eq!(mock.requests(), 0);
    run(
        &mut s,
        "let r = backtest(bars, strategy(#{ on_bar: |ctx| { ctx.act(llm_decide(ctx, #{})); } }), #{ max_calls: 300 });",
    );
    assert_eq!(mock.requests(), 300);
}

#[test]
fn no_key_offline_and_outside_on_bar_are_clear_errors() {
    let home = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    let (mut s, _) = session(home.path(), &mock);
    let mut cfg = mock_llm_config(&mock);
    cfg.api_key = None;
    s.set_llm_config(cfg);
    run(&mut s, AGENT);
    let e = s.execute("backtest(bars, agent)").unwrap_err();
    assert!(e.evalue.contains("STRATBOOK_LLM_API_KEY"), "{}", e.evalue);
    let e = s.execute("llm_decide(1, #{})").unwrap_err();
    assert!(!e.evalue.is_empty());
    assert_eq!(mock.requests(), 0);
}

#[test]
fn the_key_never_reaches_outputs_logs_or_the_database() {
    let home = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    mock.respond_with(scripted);
    mock.push(Reply::Error {
        status: 500,
        etype: "api_error".into(),
        message: format!("echo {MOCK_LLM_KEY}"),
        retry_after: None,
    });
    let mut cfg = mock_llm_config(&mock);
    cfg.max_retries = 0;
    let (mut s, log) = session(home.path(), &mock);
    s.set_llm_config(cfg);
    run(&mut s, AGENT);
    let mut out = run(&mut s, "let r = backtest(bars, agent); r");
    out += &run(&mut s, "r.decisions()");
    out += &run(&mut s, "backtests()");
    assert!(
        out.contains("echo ***"),
        "the scrubbed error is shown: {out}"
    );
    assert!(!out.contains(MOCK_LLM_KEY));
    assert!(!log.lock().unwrap().contains(MOCK_LLM_KEY));
    // Every file under the home (the store, its WAL) is free of the key.
    for e in std::fs::read_dir(home.path()).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(MOCK_LLM_KEY));
    }
    // The first decision's error was logged, scrubbed, in the store (database or its WAL).
    let all: Vec<u8> = ["stratbook.sqlite", "stratbook.sqlite-wal"]
        .iter()
        .flat_map(|f| std::fs::read(home.path().join(f)).unwrap_or_default())
        .collect();
    assert!(String::from_utf8_lossy(&all).contains("echo ***"));
}

/// A session keeps the answers it read from the store for its later runs; answers another
/// session (or process) stored after that are still found: a memo miss asks the store before the
/// model. Here a replay fails with nothing cached, another session on the same home fills the
/// cache, and the first session's replay then runs with zero requests and the same trades.
#[test]
fn answers_stored_by_another_session_are_found_by_a_session_that_read_the_cache_before() {
    let home = tempfile::tempdir().unwrap();
    let mock = MockLlm::start();
    mock.respond_with(scripted);
    let (mut first, _) = session(home.path(), &mock);
    run(&mut first, AGENT);
    let Err(err) = first.execute("let r = backtest(bars, agent, #{ llm: \"replay\" });") else {
        panic!("a replay with nothing cached fails");
    };
    assert!(
        err.evalue.contains("found no cached answer"),
        "{}",
        err.evalue
    );

    let (mut other, _) = session(home.path(), &mock);
    run(&mut other, AGENT);
    run(&mut other, "let r = backtest(bars, agent);");
    assert!(mock.requests() > 0);
    let expected = trades(&mut other);

    mock.reset();
    run(
        &mut first,
        "let r = backtest(bars, agent, #{ llm: \"replay\" });",
    );
    assert_eq!(mock.requests(), 0, "the replay asked the model");
    assert_eq!(trades(&mut first), expected);
    assert_eq!(
        run(&mut first, "r.decisions().len()"),
        run(&mut other, "r.decisions().len()")
    );
}
