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

/// An AVE bot config runs on a live feed: its condition is computed on the bars so far as each
/// closes, and it fires on exactly the bars where the same config fires on the whole series.
#[test]
fn an_ave_bot_config_runs_live_and_fires_where_it_fires_on_the_whole_series() {
    let h = home("bot");
    let mut s = Session::new(Config::for_home(h.clone()));
    let json = r#"{"name": "dip buyer", "conditions": [{"type": "price_drop", "threshold": 0.02, "timeframe": "1m"}], "actions": [{"type": "buy", "amount_percent": 10}]}"#;
    s.execute(&format!(
        "let sm = simulate(\"demo:ETH\", strategy_from_config(`{json}`),
             #{{ interval: \"1m\", warmup: 20, clock_speed: 600, max_duration: \"30m\" }});
         sm.wait();"
    ))
    .expect("a bot config on a live feed");
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"finished\""));
    let id = sim_id(&s, "sm");
    let store = SimStore::open(&h.join("stratbook.sqlite")).unwrap();
    let (t, _) = store.equity(id).unwrap();
    assert!(t.len() >= 29, "{} bars", t.len());
    let candles = Synth::demo("ETH").unwrap().bars(
        Interval::parse("1m").unwrap(),
        t[0] - 20 * 60,
        *t.last().unwrap(),
    );
    let bars = dsl::bars::Bars::from_candles(
        "demo:ETH",
        Interval::parse("1m").unwrap(),
        dsl::bars::Source::Demo,
        &candles,
    )
    .unwrap();
    let cfg = dsl::strategy::ave_config::BotConfig::from_json(&serde_json::from_str(json).unwrap())
        .unwrap();
    let fire = cfg.logic(&bars).unwrap().fire;
    let want: Vec<i64> = candles
        .iter()
        .zip(&fire)
        .filter(|(c, f)| **f && c.time >= t[0])
        .map(|(c, _)| c.time)
        .collect();
    let sig = store.table(id, SimTable::Signals).unwrap();
    let got: Vec<i64> = ints(col(&sig, "time"))
        .iter()
        .zip(strs(col(&sig, "action")))
        .filter(|(_, a)| *a == "buy")
        .map(|(t, _)| *t)
        .collect();
    assert!(!want.is_empty(), "the dip rule fires within 30 bars");
    assert_eq!(got, want);
}

/// A live simulation stopped part-way (positions kept, as a killed process leaves them) and
/// resumed from another session steps through the same bars as one that never stopped: the
/// committed bars silently, then the bars that closed meanwhile, caught up in order, then live,
/// ending when the first run would have. Bar for bar the same equity, fills and trades.
#[test]
fn a_resumed_live_simulation_equals_one_that_never_stopped() {
    let h = home("resume");
    let origin = now();
    let strat = "|b| strategy(#{ entry: (b.close > b.open) & (b.close > sma(b.close, 3)), exit: b.close < sma(b.close, 3) })";
    let opts = format!(
        "interval: \"1m\", warmup: 30, clock_speed: 600, clock_origin: {origin}, max_duration: \"40m\""
    );
    let mut s = Session::new(Config::for_home(h.clone()));
    s.execute(&format!(
        "let whole = simulate(\"demo:SOL\", {strat}, #{{ {opts}, name: \"whole\" }});
         let part = simulate(\"demo:SOL\", {strat}, #{{ {opts}, name: \"part\" }});"
    ))
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    s.execute("part.stop(#{ close: false }); part.wait();")
        .unwrap();
    let part = sim_id(&s, "part");
    let store = SimStore::open(&h.join("stratbook.sqlite")).unwrap();
    let stopped_at = store.get(part).unwrap().unwrap().steps;
    assert!(stopped_at > 3, "{stopped_at} bars before the stop");
    // Bars close while it is stopped; another session (a new kernel) resumes it.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut s2 = Session::new(Config::for_home(h.clone()));
    s2.execute(&format!(
        "let part = simulate(\"demo:SOL\", {strat}, #{{ {opts}, name: \"part\", resume: {part} }}); part.wait();"
    ))
    .expect("resume a live simulation");
    s.execute("whole.wait();").unwrap();
    let whole = sim_id(&s, "whole");
    for id in [whole, part] {
        assert_eq!(store.get(id).unwrap().unwrap().status, "finished");
    }
    let (tw, ew) = store.equity(whole).unwrap();
    let (tp, ep) = store.equity(part).unwrap();
    assert!(tw.len() >= 39, "{} bars", tw.len());
    assert!(tw.windows(2).all(|w| w[1] - w[0] == 60));
    assert!(
        tp.len() > stopped_at as usize,
        "it carried on after the resume"
    );
    assert_eq!(tp, tw, "the same bars, none lost or repeated");
    assert_eq!(ep, ew, "the same equity");
    for t in [SimTable::Fills, SimTable::Trades] {
        assert_eq!(
            store.table(part, t).unwrap(),
            store.table(whole, t).unwrap()
        );
    }
    // The signals too, but for the stop's own row.
    let trades_of = |id| {
        let sig = store.table(id, SimTable::Signals).unwrap();
        ints(col(&sig, "time"))
            .iter()
            .zip(strs(col(&sig, "action")))
            .filter(|(_, a)| *a == "buy" || *a == "sell")
            .map(|(t, a)| (*t, a.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(trades_of(part), trades_of(whole));
    assert!(!trades_of(whole).is_empty());
    // A finished simulation has nothing left to resume.
    let e = s2
        .execute(&format!(
            "simulate(\"demo:SOL\", {strat}, #{{ {opts}, resume: {part} }})"
        ))
        .expect_err("finished");
    assert!(e.to_string().contains("nothing to resume"), "{e}");
}

/// Several tokens run live on one clock with shared cash, as a portfolio backtest of the same
/// bars: each time is stepped once both tokens' bars at it have closed, and the equity equals the
/// backtest's bar for bar.
#[test]
fn several_tokens_run_live_with_shared_cash_as_a_portfolio_backtest_of_the_same_bars() {
    let h = home("portfolio");
    let mut s = Session::new(Config::for_home(h.clone()));
    let strat = "|b| strategy(#{ entry: b.close > b.open, exit: b.close < b.open })";
    s.execute(&format!(
        "let sm = simulate(#{{ \"demo:BTC\": \"1m\", \"demo:ETH\": \"1m\" }}, {strat},
             #{{ warmup: 10, clock_speed: 600, max_duration: \"20m\", fee_pct: 0.1 }});
         sm.wait();"
    ))
    .expect("a live portfolio");
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"finished\""));
    let id = sim_id(&s, "sm");
    let store = SimStore::open(&h.join("stratbook.sqlite")).unwrap();
    let row = store.get(id).unwrap().unwrap();
    assert_eq!(row.tokens, ["demo:BTC", "demo:ETH"]);
    assert!(row.source.contains("live demo:ETH 1m"), "{}", row.source);
    let (t, eq) = store.equity(id).unwrap();
    assert!(t.len() >= 19, "{} bars", t.len());
    assert!(t.windows(2).all(|w| w[1] - w[0] == 60), "{t:?}");
    let sig = store.table(id, SimTable::Signals).unwrap();
    let tokens: Vec<&String> = strs(col(&sig, "token")).iter().collect();
    assert!(
        tokens.iter().any(|t| *t == "demo:BTC") && tokens.iter().any(|t| *t == "demo:ETH"),
        "both tokens traded: {tokens:?}"
    );
    // The same bars, from the demo generator, written where a cell may read them.
    let (from, to) = (t[0], *t.last().unwrap());
    let iv = Interval::parse("1m").unwrap();
    for name in ["BTC", "ETH"] {
        let candles = Synth::demo(name).unwrap().bars(iv, from, to);
        let b = dsl::bars::Bars::from_candles(
            &format!("demo:{name}"),
            iv,
            dsl::bars::Source::Demo,
            &candles,
        )
        .unwrap();
        dsl::data::files::write_csv_file(&b, &h.join(format!("{name}.csv")), name).unwrap();
    }
    let dir = h.display();
    s.execute(&format!(
        "let bt = backtest(#{{ \"demo:BTC\": read_csv(\"{dir}/BTC.csv\", #{{ id: \"demo:BTC\", interval: \"1m\" }}),
                               \"demo:ETH\": read_csv(\"{dir}/ETH.csv\", #{{ id: \"demo:ETH\", interval: \"1m\" }}) }},
                           {strat}, #{{ fee_pct: 0.1, save: false }});
         let want = bt.equity.to_array();"
    ))
    .expect("the portfolio backtest");
    let want: Vec<f64> = s
        .variable("want")
        .unwrap()
        .into_typed_array::<f64>()
        .unwrap();
    assert_eq!(eq, want);
}
