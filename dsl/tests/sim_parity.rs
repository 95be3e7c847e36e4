//! A replay (`simulate(bars, s, #{ speed: "max" })`) trades by the same rules as `backtest()`:
//! for each strategy style, the fills, trades and equity the simulation committed to SQLite, and
//! the result it built, equal the backtest's bit for bit.

use dsl::data::config::Config;
use dsl::script::Session;
use dsl::script::backtest_api::ResultValue;
use dsl::script::sim_api::SimValue;
use dsl::store::columns::Col;
use dsl::store::sim::{SimStore, SimTable};
use std::path::PathBuf;

const SETUP: &str = r#"
let bars = klines("demo:BTC", "1h", #{ limit: 2000 });
let eth = klines("demo:ETH", "1h", #{ limit: 1500 });
let fast = sma(bars.close, 10);
let slow = sma(bars.close, 30);
let up = crossover(fast, slow);
let down = crossover(slow, fast);
"#;

/// (name, strategy expression, options)
const CASES: &[(&str, &str, &str)] = &[
    (
        "vectorized sma cross",
        "strategy(#{ entry: up, exit: down })",
        "#{ fee_pct: 0.1 }",
    ),
    (
        "vectorized factory",
        "|b| { let f = ema(b.close, 12); let s = ema(b.close, 26); strategy(#{ entry: crossover(f, s), exit: crossover(s, f) }) }",
        "#{ fee_pct: 0.1, slippage_pct: 0.05 }",
    ),
    (
        "on_bar compiled",
        "strategy(#{ on_bar: |ctx| { let f = ctx.value(fast); let s = ctx.value(slow); if ctx.position == 0 { if f > s { ctx.buy(); } } else if f < s { ctx.exit(); } } })",
        "#{ fee_pct: 0.1 }",
    ),
    (
        "on_bar interpreted",
        "strategy(#{ interpret: true, on_bar: |ctx| { if ctx.close() > ctx.close(1) && ctx.position == 0 { ctx.buy(#{ size_pct: 50 }); } else if ctx.close() < ctx.close(2) && ctx.position > 0 { ctx.exit(); } } })",
        "#{ fee_pct: 0.2 }",
    ),
    (
        "stop-loss and take-profit",
        "strategy(#{ entry: up, exit: down, stop_loss_pct: 2, take_profit_pct: 4 })",
        "#{ fee_pct: 0.1 }",
    ),
    (
        "trailing stop",
        "strategy(#{ entry: up, trailing_stop_pct: 3 })",
        "#{ fee_pct: 0.1 }",
    ),
    (
        "limit orders",
        "strategy(#{ on_bar: |ctx| { if ctx.position == 0 && ctx.bar_index % 20 == 0 { ctx.cancel(); ctx.order(#{ type: \"limit\", side: \"buy\", price: ctx.close() * 0.99, size_pct: 50, take_profit_pct: 3 }); } } })",
        "#{ fee_pct: 0.1 }",
    ),
    (
        "shorts",
        "strategy(#{ short_entry: down, short_exit: up })",
        "#{ fee_pct: 0.1, leverage: 2 }",
    ),
    (
        "long and short with leverage",
        "strategy(#{ entry: up, exit: down, short_entry: down, short_exit: up, size_pct: 150 })",
        "#{ fee_pct: 0.05, leverage: 3 }",
    ),
    (
        "risk manager halt",
        "strategy(#{ entry: up, exit: down, size_pct: 100 })",
        "#{ fee_pct: 1.0, max_drawdown_pct: 5 }",
    ),
    (
        "AVE bot config",
        "strategy_from_config(#{ conditions: [#{ type: \"price_drop\", token: \"BTC\", chain: \"bsc\", threshold: 2, timeframe: \"1h\" }], actions: [#{ type: \"buy\", amount_percent: 10, token: \"BTC\" }], risk_management: #{ stop_loss_percent: 3, take_profit_percent: 5 } })",
        "#{ cash: 1000, fee_pct: 0.3 }",
    ),
    (
        "max position and lot size",
        "strategy(#{ entry: up, exit: down })",
        "#{ fee_pct: 0.1, max_position_pct: 40, lot_size: 0.001, fee_fixed: 1 }",
    ),
];

fn home(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("stratbook-sim-{tag}-{}", std::process::id()))
}

/// The run a script variable holds (a backtest's result or a simulation's report).
fn result(s: &Session, name: &str) -> std::sync::Arc<dsl::backtest::BacktestResult> {
    let v = s
        .variable(name)
        .unwrap_or_else(|| panic!("no variable {name}"));
    v.read_lock::<ResultValue>()
        .unwrap_or_else(|| panic!("{name} is not a BacktestResult"))
        .result
        .clone()
}

/// Runs `backtest` and a max-speed replay of `source` and checks they agree.
fn check(s: &mut Session, db: &std::path::Path, name: &str, source: &str, strat: &str, opts: &str) {
    let cell = format!(
        "let r = backtest({source}, {strat}, {opts} + #{{ save: false }});
         let sm = simulate({source}, {strat}, {opts} + #{{ speed: \"max\", name: \"{name}\" }});
         sm.wait();
         let rep = sm.report();"
    );
    s.execute(&cell).unwrap_or_else(|e| panic!("{name}: {e}"));
    let r = result(s, "r");
    let rep = result(s, "rep");
    assert!(!r.fills.is_empty(), "{name}: a case that trades");
    eprintln!(
        "{name}: {} fills, {} trades, {} steps",
        r.fills.len(),
        r.trades.len(),
        r.equity.len()
    );
    assert_eq!(r.fills, rep.fills, "{name}: fills");
    assert_eq!(r.trades, rep.trades, "{name}: trades");
    assert_eq!(r.signals, rep.signals, "{name}: signals");
    assert_eq!(r.equity, rep.equity, "{name}: equity");
    assert_eq!(
        format!("{:?}", r.stats),
        format!("{:?}", rep.stats),
        "{name}: stats"
    );
    // What the simulation committed is the same run.
    let id = s.variable("sm").expect("sm");
    let id = id.read_lock::<SimValue>().expect("a Sim").id;
    let store = SimStore::open(db).expect("store");
    let row = store.get(id).expect("row").expect("sim row");
    assert_eq!(row.status, "finished", "{name}");
    let (t, e) = store.equity(id).expect("equity");
    assert_eq!(e, r.equity, "{name}: stored equity");
    assert_eq!(t.len(), r.equity.len(), "{name}: stored times");
    let fills = store.table(id, SimTable::Fills).expect("fills");
    let Col::F64(px) = &fills[4].1 else { panic!() };
    let want: Vec<f64> = r.fills.iter().map(|f| f.price).collect();
    assert_eq!(px, &want, "{name}: stored fill prices");
    let trades = store.table(id, SimTable::Trades).expect("trades");
    let Col::F64(pnl) = &trades[7].1 else {
        panic!()
    };
    let want: Vec<f64> = r.trades.iter().map(|t| t.pnl).collect();
    assert_eq!(pnl, &want, "{name}: stored trade pnl");
    let sig = store.table(id, SimTable::Signals).expect("signals");
    assert_eq!(sig[0].1.len(), r.signals.len(), "{name}: stored signals");
    // The tail a card reads is the end of the whole table, in order.
    let tail = store.table_tail(id, SimTable::Signals, 3).expect("tail");
    let (Col::I64(all_t), Col::I64(tail_t)) = (&sig[0].1, &tail[0].1) else {
        panic!("signal times")
    };
    assert_eq!(
        tail_t[..],
        all_t[all_t.len().saturating_sub(3)..],
        "{name}: tail"
    );
    let audit = store.audit(id).expect("audit");
    assert_eq!(audit[0], audit[1], "{name}: one equity point per step");
    assert_eq!(audit[5], 0, "{name}: no fill past the committed steps");
    assert_eq!(audit[6], 0, "{name}: every fill has a signal");
}

#[test]
fn replays_equal_backtests_for_every_strategy_style() {
    let h = home("parity");
    let mut s = Session::new(Config::for_home(h.clone()));
    s.execute(SETUP).expect("setup");
    let db = h.join("stratbook.sqlite");
    let mut n = 0;
    for (name, strat, opts) in CASES {
        check(&mut s, &db, name, "bars", strat, opts);
        n += 1;
    }
    // A portfolio: two tokens, shared cash, one on_bar for both.
    check(
        &mut s,
        &db,
        "portfolio on_bar",
        "#{ \"demo:BTC\": bars, \"demo:ETH\": eth }",
        "strategy(#{ on_bar: |ctx| { if ctx.position == 0 && ctx.close() > ctx.close(3) { ctx.buy(#{ size_pct: 30, stop_loss_pct: 2 }); } else if ctx.position > 0 && ctx.close() < ctx.close(5) { ctx.exit(); } } })",
        "#{ fee_pct: 0.1 }",
    );
    assert!(n + 1 >= 13);
}

#[test]
fn watch_updates_the_card_in_place_and_an_interrupt_stops_only_the_watching() {
    use dsl::display::Output;
    use std::sync::{Arc, Mutex};
    let h = home("watch");
    let mut s = Session::new(Config::for_home(h.clone()));
    let outs: Arc<Mutex<Vec<Output>>> = Arc::default();
    let o = outs.clone();
    s.set_sink(move |x| o.lock().unwrap().push(x));
    s.execute("let bars = klines(\"demo:BTC\", \"1h\", #{ limit: 600 }); let s = std::strategies::sma_cross(bars, 10, 30);")
        .expect("setup");
    s.execute("let a = simulate(bars, s, #{ speed: 400 }); a.watch();")
        .expect("watch");
    let outs_now = outs.lock().unwrap().clone();
    let Some(Output::Display {
        display_id: Some(id),
        ..
    }) = outs_now.first()
    else {
        panic!("no card displayed: {outs_now:?}")
    };
    let updates: Vec<String> = outs_now
        .iter()
        .filter_map(|x| match x {
            Output::UpdateDisplay { display_id, bundle } if display_id == id => {
                Some(bundle.plain().unwrap_or_default().to_string())
            }
            _ => None,
        })
        .collect();
    assert!(!updates.is_empty(), "the card was never updated");
    assert!(
        updates.last().unwrap().contains(": finished |"),
        "{updates:?}"
    );
    // An interrupt during watch ends the cell; the simulation keeps running.
    let cancel = s.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(700));
        cancel.cancel();
    });
    let _ = s.execute("let b = simulate(bars, s, #{ speed: 100 }); b.watch();");
    t.join().unwrap();
    let st = s.execute("b.status").expect("status").value.expect("value");
    assert_eq!(st.plain(), Some("\"running\""));
    s.execute("b.stop(); b.wait();").expect("stop");
    let st = s.execute("b.status").expect("status").value.expect("value");
    assert_eq!(st.plain(), Some("\"stopped\""));
}

#[test]
fn a_replay_refuses_a_strategy_that_looks_ahead() {
    let mut s = Session::new(Config::for_home(home("lookahead")));
    s.execute("let bars = klines(\"demo:BTC\", \"1h\", #{ limit: 800 });")
        .expect("setup");
    let e = s
        .execute("simulate(bars, |b| strategy(#{ entry: b.close > b.close.mean(), exit: b.close < b.close.mean() }))")
        .expect_err("a whole-series mean looks ahead");
    assert!(e.to_string().contains("looks ahead"), "{e}");
    // The same rule on a rolling window is fine.
    s.execute("simulate(bars, |b| strategy(#{ entry: b.close > sma(b.close, 20), exit: b.close < sma(b.close, 20) })).wait()")
        .expect("a rolling window does not look ahead");
}

/// The card explains itself: an order no fill has answered is `pending` while the simulation
/// runs and `not filled` once it ended; the status is said once; the chart's box is there
/// from the first render.
#[test]
fn the_card_marks_unfilled_orders_and_says_the_status_once() {
    let mut s = Session::new(Config::for_home(home("card")));
    s.execute(
        "let bars = klines(\"demo:BTC\", \"1h\", #{ limit: 200 });
         let low = strategy(#{ on_bar: |ctx| { if ctx.bar_index == 0 { ctx.order(#{ type: \"limit\", side: \"buy\", price: ctx.close() * 0.5, size_pct: 50 }); } } });
         let p = simulate(bars, low, #{ speed: 20, name: \"low bid\" });",
    )
    .expect("start");
    let card = |s: &mut Session| {
        let v = s.execute("p").expect("p").value.expect("a card");
        (
            v.plain().unwrap_or_default().to_string(),
            v.data
                .get("text/html")
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string(),
        )
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (mut text, mut html) = card(&mut s);
    while !text.contains(" pending") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        (text, html) = card(&mut s);
    }
    assert!(text.contains(": running |"), "{text}");
    assert!(text.contains("source replay of demo:BTC 1h"), "{text}");
    assert!(text.contains("\n  recent signals:\n    "), "{text}");
    assert!(
        text.contains(" buy (") && text.contains(" pending"),
        "{text}"
    );
    assert!(
        html.contains("<svg") && html.contains("recent signals:"),
        "{html}"
    );
    s.execute("p.stop(); p.wait();").expect("stop");
    let (text, _) = card(&mut s);
    assert!(text.contains("'low bid': stopped |"), "{text}");
    assert_eq!(
        text.matches("stopped").count(),
        1,
        "the status once: {text}"
    );
    assert!(text.contains(" not filled: the run ended"), "{text}");
    assert!(!text.contains(" pending"), "{text}");
    // A stop with a reason of its own says it next to the status.
    s.execute(
        "let q = simulate(bars, low, #{ speed: 20 }); q.emergency_stop(\"drawdown alarm\"); q.wait();",
    )
    .expect("emergency stop");
    let v = s.execute("q").expect("q").value.expect("a card");
    let text = v.plain().unwrap_or_default();
    assert!(
        text.contains(": stopped (emergency stop: drawdown alarm) |"),
        "{text}"
    );
}

/// A simulation stopped with its positions closed resumes flat, as its store says it is: the
/// re-run closes them where the stop did, and the equity carries on from the cash it left.
#[test]
fn a_stop_that_closed_positions_resumes_flat() {
    let h = home("stopresume");
    let mut s = Session::new(Config::for_home(h.clone()));
    s.execute(
        "let bars = klines(\"demo:BTC\", \"1h\", #{ limit: 400 });
         let hold = strategy(#{ on_bar: |ctx| { if ctx.bar_index == 0 { ctx.buy(#{ size_pct: 50 }); } } });
         let a = simulate(bars, hold, #{ speed: 40, name: \"hold\" });",
    )
    .expect("start");
    let store = SimStore::open(&h.join("stratbook.sqlite")).expect("store");
    let id = s
        .variable("a")
        .expect("a")
        .read_lock::<SimValue>()
        .expect("a Sim")
        .id;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while store
        .get(id)
        .expect("row")
        .expect("sim")
        .positions
        .is_empty()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    s.execute("a.stop(); a.wait();").expect("stop");
    let row = store.get(id).expect("row").expect("sim");
    assert_eq!(row.status, "stopped");
    let f = store.table(id, SimTable::Fills).expect("fills");
    assert!(
        row.positions.is_empty(),
        "the stop closed the position: {:?} {f:?}",
        row.positions
    );
    let stopped_at = row.steps;
    assert!(stopped_at < 400, "stopped part-way: {stopped_at}");
    let (_, before) = store.equity(id).expect("equity");
    let cash_left = row.equity.expect("equity");
    s.execute(&format!(
        "let b = simulate(bars, hold, #{{ resume: {id} }}); b.wait(); let rep = b.report();"
    ))
    .expect("resume");
    let row = store.get(id).expect("row").expect("sim");
    assert_eq!(row.status, "finished");
    assert_eq!(row.steps, 400);
    assert!(row.positions.is_empty(), "still flat: {:?}", row.positions);
    let (_, e) = store.equity(id).expect("equity");
    assert_eq!(
        &e[..before.len()],
        &before[..],
        "the committed curve is kept"
    );
    assert!(
        e[before.len()..].iter().all(|x| *x == cash_left),
        "flat after the stop, equity stays {cash_left}: {:?}",
        &e[before.len()..before.len() + 5]
    );
    let trades = store.table(id, SimTable::Trades).expect("trades");
    assert_eq!(trades[0].1.len(), 1, "one trade: the one the stop closed");
    let audit = store.audit(id).expect("audit");
    assert_eq!(audit[0], audit[1], "one equity point per step");
    let rep = result(&s, "rep");
    assert_eq!(rep.trades.len(), 1, "the report agrees with the store");
    assert_eq!(*rep.equity.last().unwrap(), cash_left);
}

/// A resume continues the same run or is refused, naming what differs; a window of `from` /
/// `to` replays what backtest() runs on it.
#[test]
fn a_resume_must_be_the_same_run_and_from_to_slice_a_replay() {
    let h = home("resumecheck");
    let mut s = Session::new(Config::for_home(h.clone()));
    s.execute(
        "let bars = klines(\"demo:BTC\", \"1h\", #{ limit: 600 });
         let eth = klines(\"demo:ETH\", \"1h\", #{ limit: 600 });
         let s = std::strategies::sma_cross(bars, 10, 30);
         let a = simulate(bars, s, #{ fee_pct: 0.1, speed: 50 });
         sleep(0.2); a.stop(); a.wait();",
    )
    .expect("a stopped replay");
    let refused = |s: &mut Session, cell: &str, want: &str| {
        let e = s.execute(cell).expect_err(cell).to_string();
        assert!(e.contains(want), "{cell}: {e}");
    };
    refused(
        &mut s,
        "simulate(eth, s, #{ fee_pct: 0.1, resume: a.id })",
        "ran with demo:BTC, not demo:ETH",
    );
    refused(
        &mut s,
        "simulate(bars, s, #{ fee_pct: 2.0, resume: a.id })",
        "fee_pct 0.1, not 2.0",
    );
    refused(
        &mut s,
        "simulate(bars, std::strategies::sma_cross(bars, 5, 30), #{ fee_pct: 0.1, resume: a.id })",
        "another strategy",
    );
    refused(
        &mut s,
        "let t = bars.tail(300); simulate(t, std::strategies::sma_cross(t, 10, 30), #{ fee_pct: 0.1, resume: a.id })",
        "another strategy",
    );
    s.execute(
        "let ob = strategy(#{ on_bar: |ctx| { if ctx.position == 0 { ctx.buy(); } } });
         let o = simulate(bars, ob, #{ speed: 50 }); sleep(0.2); o.stop(); o.wait();",
    )
    .expect("an on_bar replay stopped");
    refused(
        &mut s,
        "simulate(bars.tail(300), ob, #{ resume: o.id })",
        "other bars (demo:BTC 1h 600 bars",
    );
    refused(
        &mut s,
        "a.stop(#{ keep: true })",
        "unknown stop option 'keep'",
    );
    refused(
        &mut s,
        "simulate(bars, s, #{ sped: 5 })",
        "(did you mean 'speed'?)",
    );
    refused(
        &mut s,
        "simulate(42, s, #{ max_duration: \"1h\" })",
        "simulate runs on a token id",
    );
    // The same run resumes, with the reason it stopped gone from its card.
    s.execute("let b = simulate(bars, s, #{ fee_pct: 0.1, resume: a.id }); b.wait();")
        .expect("the same run resumes");
    let v = s.execute("b").expect("b").value.expect("a card");
    let text = v.plain().unwrap_or_default();
    assert!(text.contains(": finished |"), "{text}");
    refused(
        &mut s,
        "simulate(bars, s, #{ fee_pct: 0.1, resume: a.id })",
        "finished",
    );
    // from / to: the replay runs on the window, as the backtest does.
    s.execute(
        "let w = #{ fee_pct: 0.1, from: \"2025-05-10\", to: \"2025-05-25\" };
         let r = backtest(bars, s, w + #{ save: false });
         let c = simulate(bars, s, w).wait().report();",
    )
    .expect("a window");
    let r = result(&s, "r");
    let c = result(&s, "c");
    assert!(
        r.equity.len() < 600 && !r.fills.is_empty(),
        "{}",
        r.equity.len()
    );
    assert_eq!(r.equity, c.equity);
    assert_eq!(r.fills, c.fills);
}

/// A paced replay resumed after a pause goes on at its pace: the paused time is not made up
/// in a burst. (A slow machine only makes fewer bars, never more.)
#[test]
fn a_paused_replay_resumes_at_its_pace() {
    let h = home("pausepace");
    let mut s = Session::new(Config::for_home(h.clone()));
    s.execute(
        "let bars = klines(\"demo:ETH\", \"1h\", #{ limit: 600 });
         let p = simulate(bars, std::strategies::sma_cross(bars, 5, 20), #{ speed: 20 });
         sleep(0.5); p.pause(); sleep(0.3);
         let before = p.equity().len();
         sleep(1.5); p.resume(); sleep(0.3);
         let after = p.equity().len();
         p.stop(); p.wait();",
    )
    .expect("pause and resume");
    let n = |v: &str| s.variable(v).expect(v).as_int().expect("an int");
    let (before, after) = (n("before"), n("after"));
    // 0.3 s at 20 bars/s is 6 bars; the 1.5 s paused would add 30 more in a burst.
    assert!(after - before < 20, "{before} -> {after}");
}
