//! Live demo simulations (`simulate("demo:BTC", .., #{ interval: "1m", clock_speed: .. })`): the
//! demo series continued on an accelerated clock, fed only closed bars, recomputing a vectorized
//! strategy on the growing bars, ending at `max_duration` as `finished`.

use dsl::data::config::Config;
use dsl::data::demo::Synth;
use dsl::interval::Interval;
use dsl::script::Session;
use dsl::store::columns::Col;
use dsl::store::sim::{SimStore, SimTable};
use std::path::PathBuf;

fn home(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("stratbook-live-{tag}-{}", std::process::id()))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn col<'a>(t: &'a [(String, Col)], name: &str) -> &'a Col {
    &t.iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .1
}

fn ints(c: &Col) -> &[i64] {
    match c {
        Col::I64(v) => v,
        _ => panic!("not ints"),
    }
}
fn floats(c: &Col) -> &[f64] {
    match c {
        Col::F64(v) => v,
        _ => panic!("not floats"),
    }
}
fn strs(c: &Col) -> &[String] {
    match c {
        Col::Str(v) => v,
        _ => panic!("not strings"),
    }
}

/// The store id of the `Sim` held in the session variable `name`.
fn sim_id(s: &Session, name: &str) -> i64 {
    match s
        .variable(name)
        .unwrap()
        .read_lock::<dsl::script::sim_api::SimValue>()
    {
        Some(v) => v.id,
        None => panic!("{name} is not a Sim"),
    }
}

#[test]
fn a_demo_live_feed_steps_closed_bars_and_recomputes_signals_without_look_ahead() {
    let h = home("demo");
    let mut s = Session::new(Config::for_home(h.clone()));
    let started = now();
    // 600 simulated seconds per second: a 1m bar closes every 0.1 s; 20 minutes take 2 s.
    s.execute(
        "let sm = simulate(\"demo:BTC\", |b| strategy(#{ entry: (b.close > b.open) & (b.close > sma(b.close, 2)), exit: b.close < b.open }),
             #{ interval: \"1m\", warmup: 50, clock_speed: 600, max_duration: \"20m\", name: \"live demo\" });
         let first = sm.status;
         sm.wait();",
    )
    .expect("live simulation");
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"finished\""));
    // The report and stats cover the live bars (the warm-up history is not traded).
    let n = s
        .execute("let rep = sm.report(); sm.stats.final_equity == rep.stats.final_equity && rep.equity.len() == sm.equity().len()")
        .unwrap()
        .value
        .unwrap();
    assert_eq!(n.plain(), Some("true"));
    let id = sim_id(&s, "sm");
    let store = SimStore::open(&h.join("stratbook.sqlite")).unwrap();
    let row = store.get(id).unwrap().unwrap();
    assert_eq!(row.source, "live demo:BTC 1m (clock x600)");
    // One equity point per closed bar: the bar forming at the start (its open is the start's
    // minute) and every minute after, while it closes within the 20 minutes: exactly 20.
    let (t, _) = store.equity(id).unwrap();
    let first = started - started.rem_euclid(60);
    assert!(
        t.len() == 20 || t.len() == 21 && first + 60 <= started + 1,
        "{} bars: {t:?}",
        t.len()
    );
    assert!(
        t[0] == first || t[0] == first + 60,
        "first live bar {} vs start {started}",
        t[0]
    );
    for w in t.windows(2) {
        assert_eq!(w[1] - w[0], 60, "bars neither lost nor repeated");
    }
    // The bars are the demo generator's for those times, and each signal is the strategy's rule
    // on the bars up to and including its bar (never a later one).
    let synth = Synth::demo("BTC").unwrap();
    let candles = synth.bars(
        Interval::parse("1m").unwrap(),
        t[0] - 50 * 60,
        *t.last().unwrap(),
    );
    let close: Vec<f64> = candles.iter().map(|c| c.close).collect();
    let sig = store.table(id, SimTable::Signals).unwrap();
    let (st, sa, sp) = (
        ints(col(&sig, "time")),
        strs(col(&sig, "action")),
        floats(col(&sig, "price")),
    );
    assert!(!st.is_empty(), "a green-candle rule trades within 20 bars");
    for k in 0..st.len() {
        let i = candles
            .iter()
            .position(|c| c.time == st[k])
            .expect("signal on a demo bar");
        assert!(st[k] >= t[0], "no signal on warm-up bars");
        assert_eq!(sp[k], close[i], "signal price is its bar's close");
        // The rule reads this bar and the one before (a 2-bar mean): never a later one.
        let (open, m) = (candles[i].open, (close[i - 1] + close[i]) / 2.0);
        match sa[k].as_str() {
            "buy" => assert!(
                close[i] > open && close[i] > m,
                "buy at {} without the rule",
                st[k]
            ),
            "sell" => assert!(close[i] < open, "sell at {} without the rule", st[k]),
            other => panic!("unexpected action {other}"),
        }
    }
    // Fills happen at the next bar's open, from the demo series.
    let fills = store.table(id, SimTable::Fills).unwrap();
    for (ft, fp) in ints(col(&fills, "time"))
        .iter()
        .zip(floats(col(&fills, "price")))
    {
        let c = candles
            .iter()
            .find(|c| c.time == *ft)
            .expect("fill on a demo bar");
        assert_eq!(*fp, c.open, "fill at {ft}");
    }
}

/// `on_bar` reads the bars as they grow: `ctx.close()` is the bar that just closed (a snapshot
/// of the warm-up would be read past its end), and its orders follow the rule bar for bar.
#[test]
fn on_bar_reads_the_growing_bars_of_a_live_feed() {
    let h = home("onbar");
    let mut s = Session::new(Config::for_home(h.clone()));
    s.execute(
        "let sm = simulate(\"demo:BTC\", strategy(#{ on_bar: |ctx| {
                 if ctx.position == 0 && ctx.close() > ctx.close(1) { ctx.buy(); }
                 else if ctx.position > 0 && ctx.close() < ctx.close(1) { ctx.exit(); }
             } }), #{ interval: \"1m\", warmup: 20, clock_speed: 600, max_duration: \"15m\" });
         sm.wait();",
    )
    .expect("live on_bar simulation");
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"finished\""));
    let id = sim_id(&s, "sm");
    let store = SimStore::open(&h.join("stratbook.sqlite")).unwrap();
    let (t, _) = store.equity(id).unwrap();
    assert!(t.len() >= 14, "{} live bars", t.len());
    let synth = Synth::demo("BTC").unwrap();
    let candles = synth.bars(
        Interval::parse("1m").unwrap(),
        t[0] - 60,
        *t.last().unwrap(),
    );
    let sig = store.table(id, SimTable::Signals).unwrap();
    let (stime, sa) = (ints(col(&sig, "time")), strs(col(&sig, "action")));
    assert!(
        !stime.is_empty(),
        "a rise-and-fall rule trades within 15 bars"
    );
    for k in 0..stime.len() {
        let i = candles
            .iter()
            .position(|c| c.time == stime[k])
            .expect("signal on a demo bar");
        let (now, before) = (candles[i].close, candles[i - 1].close);
        match sa[k].as_str() {
            "buy" => assert!(now > before, "buy at {} without a rise", stime[k]),
            "sell" => assert!(now < before, "exit at {} without a fall", stime[k]),
            other => panic!("unexpected action {other}"),
        }
    }
}

#[test]
fn the_forming_bar_never_reaches_the_strategy_and_stop_ends_a_live_feed() {
    let h = home("forming");
    let mut s = Session::new(Config::for_home(h.clone()));
    // At real time a 1h bar will not close during this test.
    s.execute(
        "let sm = simulate(\"demo:ETH\", strategy(#{ on_bar: |ctx| { if ctx.position == 0 { ctx.buy(); } } }),
             #{ interval: \"1h\", warmup: 10 });",
    )
    .expect("start");
    std::thread::sleep(std::time::Duration::from_millis(600));
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"running\""));
    let n = s.execute("sm.equity().len()").unwrap().value.unwrap();
    assert_eq!(n.plain(), Some("0"), "no bar has closed, so none was fed");
    let n = s.execute("sm.signals().len()").unwrap().value.unwrap();
    assert_eq!(n.plain(), Some("0"), "no order on warm-up bars");
    s.execute("sm.stop(); sm.wait();").expect("stop");
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"stopped\""));
}

#[test]
fn live_options_are_checked() {
    let mut s = Session::new(Config::for_home(home("opts")));
    let cases = [
        (
            "let b = klines(\"demo:BTC\", \"1h\", #{ limit: 50 }); simulate(\"demo:BTC\", strategy(#{ entry: b.close > sma(b.close, 5) }), #{ max_duration: 60 })",
            "must be recomputed",
        ),
        (
            "simulate(\"demo:BTC\", |b| strategy(#{}), #{ speed: 10 })",
            "clock_speed",
        ),
        (
            "simulate(\"demo:NOPE\", |b| strategy(#{}))",
            "demo tokens are",
        ),
        (
            "simulate(\"demo:BTC\", |b| strategy(#{}), #{ max_duration: \"ten\" })",
            "max_duration must be",
        ),
        (
            "simulate(\"demo:BTC\", |b| strategy(#{}), #{ \"until\": \"2020-01-01\" })",
            "already passed",
        ),
        (
            "simulate(\"demo:BTC\", |b| strategy(#{}), #{ clock_speed: 0 })",
            "clock_speed must be",
        ),
        (
            "simulate(klines(\"demo:BTC\", \"1h\"), |b| strategy(#{}), #{ warmup: 5 })",
            "option of live feeds",
        ),
    ];
    for (code, want) in cases {
        let e = s.execute(code).expect_err(code);
        assert!(e.to_string().contains(want), "{code}: {e}");
    }
}
