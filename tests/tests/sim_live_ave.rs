//! Live simulations of an AVE token against the mock server on an accelerated clock, over REST
//! and over the Pro plan's WebSocket stream: bars are stepped as they close, and faults mid-run
//! (500s, a hang, 429 with `Retry-After`, truncated JSON, the stream dropped and the server
//! refusing connections) leave the simulation running, recorded as `gap` rows, with no bar lost
//! or repeated.

use dsl::data::demo::Synth;
use dsl::interval::Interval;
use dsl::script::Session;
use dsl::script::sim_api::SimValue;
use dsl::store::columns::Col;
use dsl::store::sim::{SimStore, SimTable};
use std::time::Duration;
use stratbook_tests::{Fault, MockAve, mock_config};

const ID: &str = "0xAbCdEf0000000000000000000000000000000001-bsc";
const WIRE: &str = "0xabcdef0000000000000000000000000000000001-bsc";

fn col<'a>(t: &'a [(String, Col)], name: &str) -> &'a Col {
    &t.iter().find(|(n, _)| n == name).expect("column").1
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_rest_live_feed_survives_faults_records_gaps_and_loses_no_bar() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    let origin = now();
    // 120 simulated seconds per second: a 1m bar closes every 0.5 s; 12 minutes take 6 s.
    mock.set_clock(origin, 120.0);
    let mut s = Session::new(mock_config(dir.path(), &mock));
    s.execute(&format!(
        "let sm = simulate(\"{ID}\", |b| strategy(#{{ entry: b.close > b.open, exit: b.close < b.open }}),
             #{{ interval: \"1m\", feed: \"rest\", warmup: 30, poll_s: 30, clock_speed: 120, clock_origin: {origin}, max_duration: \"12m\" }});"
    ))
    .expect("start");
    std::thread::sleep(Duration::from_millis(1200));
    // Each feed request is tried 4 times by the client (3 retries): four 500s fail one. The faults
    // are for the klines requests (the prices asked between bar closes only mark the position).
    let klines = "/v2/klines";
    for _ in 0..4 {
        mock.push_fault_for(klines, Fault::status(500, None));
    }
    mock.push_fault_for(klines, Fault::Hang(Duration::from_secs(3)));
    mock.push_fault_for(klines, Fault::status(429, Some(1)));
    for _ in 0..4 {
        mock.push_fault_for(klines, Fault::Truncated);
    }
    s.execute("sm.wait();")
        .expect("the simulation survives the faults");
    assert_eq!(mock.pending_faults(), 0, "every fault was served");
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"finished\""));
    let id = sim_id(&s);
    let store = SimStore::open(&dir.path().join("stratbook.sqlite")).unwrap();
    let row = store.get(id).unwrap().unwrap();
    assert!(
        row.source.starts_with(&format!("live {WIRE} 1m (REST")),
        "{}",
        row.source
    );
    // Every bar closed within the 12 minutes, in order, none lost or repeated.
    let (t, _) = store.equity(id).unwrap();
    assert_eq!(t.len(), 12, "{t:?}");
    // The first live bar is the one forming when the simulation started (the session's start
    // takes a moment of real time, minutes on this clock; 1200 s is 10 s of real time).
    assert!(
        t[0] >= origin - 60 && t[0] <= origin + 1200,
        "first bar {} vs {origin}",
        t[0]
    );
    assert!(t.windows(2).all(|w| w[1] - w[0] == 60), "{t:?}");
    let sig = store.table(id, SimTable::Signals).unwrap();
    let (Col::I64(times), Col::Str(action), Col::Str(why)) = (
        col(&sig, "time"),
        col(&sig, "action"),
        col(&sig, "reasoning"),
    ) else {
        panic!("signal columns")
    };
    let gaps: Vec<&String> = action
        .iter()
        .zip(why)
        .filter(|(a, _)| *a == "gap")
        .map(|(_, w)| w)
        .collect();
    assert!(
        gaps.iter().filter(|w| w.starts_with("gap:")).count() >= 2,
        "the 500s and the truncated bodies each failed a request: {gaps:?}"
    );
    assert!(
        gaps.iter().any(|w| w.starts_with("feed recovered")),
        "{gaps:?}"
    );
    assert!(
        !gaps.iter().any(|w| w.contains(dsl_key())),
        "no key in events"
    );
    // The bars are the mock's (its generator seeded by the id), and each trade signal is the rule
    // on its own bar (a green candle buys, a red one sells: in 12 random bars one of each is all but
    // certain, where a 5-bar average rule could stay silent through a falling stretch).
    let candles = Synth::for_seed(WIRE).bars(Interval::M1, t[0] - 30 * 60, *t.last().unwrap());
    let mut trades = 0;
    for (k, a) in action.iter().enumerate() {
        if a == "gap" {
            continue;
        }
        trades += 1;
        let c = candles.iter().find(|c| c.time == times[k]).unwrap();
        match a.as_str() {
            "buy" => assert!(c.close > c.open, "buy at {} on a red candle", times[k]),
            "sell" => assert!(c.close < c.open, "sell at {} on a green candle", times[k]),
            other => panic!("unexpected action {other}"),
        }
    }
    assert!(trades > 0, "the rule traded");
}

fn dsl_key() -> &'static str {
    stratbook_tests::MOCK_KEY
}

fn sim_id(s: &Session) -> i64 {
    s.variable("sm")
        .unwrap()
        .read_lock::<SimValue>()
        .map(|v| v.id)
        .unwrap()
}

#[test]
fn a_websocket_feed_dropped_mid_stream_reconnects_and_backfills_what_it_missed_over_rest() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    let origin = now();
    // A 1m bar every 0.5 s, pushed twice (opening, then whole). The stream is cut without a close
    // frame after 8 pushes and the server refuses connections for 1 s (2 bars) after.
    mock.set_clock(origin, 120.0);
    mock.ws_drop_after(8, Duration::from_secs(1));
    let mut s = Session::new(mock_config(dir.path(), &mock));
    let strat = "|b| strategy(#{ entry: b.close > b.open, exit: b.close < b.open })";
    s.execute(&format!(
        "let sm = simulate(\"{ID}\", {strat},
             #{{ interval: \"1m\", warmup: 30, clock_speed: 120, clock_origin: {origin}, max_duration: \"16m\" }});"
    ))
    .expect("start");
    s.execute("sm.wait();")
        .expect("the simulation survives the drop");
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"finished\""));
    let id = sim_id(&s);
    let store = SimStore::open(&dir.path().join("stratbook.sqlite")).unwrap();
    let row = store.get(id).unwrap().unwrap();
    assert!(
        row.source
            .starts_with(&format!("live {WIRE} 1m (WebSocket k1, REST backfill)")),
        "{}",
        row.source
    );
    // The subscription: the pair the klines answer named, the interval as AVE spells it.
    let subs = mock.ws_subscriptions();
    let first: serde_json::Value = serde_json::from_str(&subs[0]).unwrap();
    assert_eq!(first["method"], "subscribe");
    assert_eq!(
        first["params"],
        serde_json::json!(["kline", WIRE.rsplit_once('-').unwrap().0, "k1", "bsc"])
    );
    let (connections, refused, pushes) = mock.ws_counts();
    assert!(
        connections >= 2 && refused >= 1,
        "dropped, refused, reconnected: {connections} upgrades, {refused} refused"
    );
    assert!(
        pushes > 8,
        "the stream carried bars after reconnecting: {pushes} pushes"
    );
    // Every bar closed within the 16 minutes, in order, none lost or repeated.
    let (t, eq) = store.equity(id).unwrap();
    assert_eq!(t.len(), 16, "{t:?}");
    assert!(t.windows(2).all(|w| w[1] - w[0] == 60), "{t:?}");
    // Most bars came over the stream: REST served the warm-up, the bars closing while the
    // stream was down (polled every 30 s of the clock) and the backfill.
    let rest = mock
        .request_log()
        .iter()
        .filter(|r| r.contains("/v2/klines/"))
        .count();
    assert!(rest <= 9, "{rest} klines requests for 16 bars");
    let sig = store.table(id, SimTable::Signals).unwrap();
    let (Col::Str(action), Col::Str(why)) = (col(&sig, "action"), col(&sig, "reasoning")) else {
        panic!("signal columns")
    };
    let gaps: Vec<&String> = action
        .iter()
        .zip(why)
        .filter(|(a, _)| *a == "gap")
        .map(|(_, w)| w)
        .collect();
    assert!(
        gaps.iter()
            .any(|w| w.starts_with("gap: the WebSocket stream dropped")),
        "{gaps:?}"
    );
    assert!(
        gaps.iter().any(|w| w.contains("backfilled over REST")),
        "{gaps:?}"
    );
    assert!(
        !gaps.iter().any(|w| w.contains(dsl_key())),
        "no key in events"
    );
    // The bars stepped are AVE's whole bars, never an opening state: the same strategy
    // backtested on the REST klines of those 16 minutes gives the same equity, bar for bar.
    s.execute(&format!(
        "let bt = backtest(klines(\"{ID}\", \"1m\", #{{ from: {}, to: {} }}), {strat}, #{{ save: false }});",
        t[0],
        t[15]
    ))
    .expect("backtest");
    s.execute("let want = bt.equity.to_array();").unwrap();
    let want: Vec<f64> = s
        .variable("want")
        .unwrap()
        .into_typed_array::<f64>()
        .unwrap();
    assert_eq!(eq, want);
}

/// The AVE server going away mid-run and coming back on the same address (a restart): the
/// requests in between fail (connection refused), are recorded as gaps, and the bars that closed
/// meanwhile are caught up in order once it answers again.
#[test]
fn a_rest_feed_survives_the_server_restarting() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    let origin = now();
    mock.set_clock(origin, 120.0);
    let port: u16 = mock.url().rsplit(':').next().unwrap().parse().unwrap();
    let mut s = Session::new(mock_config(dir.path(), &mock));
    s.execute(&format!(
        "let sm = simulate(\"{ID}\", |b| strategy(#{{ entry: b.close > b.open, exit: b.close < b.open }}),
             #{{ interval: \"1m\", feed: \"rest\", warmup: 10, poll_s: 30, clock_speed: 120, clock_origin: {origin}, max_duration: \"12m\" }});"
    ))
    .expect("start");
    std::thread::sleep(Duration::from_millis(1500));
    drop(mock);
    // Down for 2 s: four bars close with nobody answering.
    std::thread::sleep(Duration::from_secs(2));
    let mock = (0..50)
        .find_map(|_| {
            MockAve::start_on(stratbook_tests::MOCK_KEY, port)
                .map_err(|_| std::thread::sleep(Duration::from_millis(50)))
                .ok()
        })
        .expect("the mock restarts on its port");
    mock.set_clock(origin, 120.0);
    s.execute("sm.wait();").expect("the simulation survives");
    let st = s.execute("sm.status").unwrap().value.unwrap();
    assert_eq!(st.plain(), Some("\"finished\""));
    let id = sim_id(&s);
    let store = SimStore::open(&dir.path().join("stratbook.sqlite")).unwrap();
    let (t, _) = store.equity(id).unwrap();
    assert_eq!(t.len(), 12, "{t:?}");
    assert!(t.windows(2).all(|w| w[1] - w[0] == 60), "{t:?}");
    let sig = store.table(id, SimTable::Signals).unwrap();
    let (Col::Str(action), Col::Str(why)) = (col(&sig, "action"), col(&sig, "reasoning")) else {
        panic!("signal columns")
    };
    let gaps: Vec<&String> = action
        .iter()
        .zip(why)
        .filter(|(a, _)| *a == "gap")
        .map(|(_, w)| w)
        .collect();
    assert!(gaps.iter().any(|w| w.starts_with("gap:")), "{gaps:?}");
    assert!(
        gaps.iter().any(|w| w.starts_with("feed recovered")),
        "{gaps:?}"
    );
    assert!(mock.requests() > 0, "the restarted server was asked");
}

/// Three tokens polled over REST on 5m bars, with a poll every minute: between bar closes the
/// positions are marked at the latest prices, read in one batch request per poll carrying every
/// token (not a request per token), shown on the card and kept in the store; `marks: false`
/// asks for no prices at all.
#[test]
fn a_rest_portfolio_marks_its_positions_between_bar_closes_with_one_price_request_per_poll() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    let origin = now();
    // 120 simulated seconds per second: a 5m bar closes every 2.5 s, a poll every 0.5 s.
    mock.set_clock(origin, 120.0);
    let ids: Vec<String> = (2..5)
        .map(|k| format!("0xabcdef000000000000000000000000000000000{k}-bsc"))
        .collect();
    let source = ids
        .iter()
        .map(|id| format!("\"{id}\": \"5m\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = Session::new(mock_config(dir.path(), &mock));
    // Always in the market: every token is bought at the first live bar and held.
    let strat = "|b| strategy(#{ entry: b.close > 0.0, exit: b.close < 0.0 })";
    s.execute(&format!(
        "let sm = simulate(#{{ {source} }}, {strat},
             #{{ feed: \"rest\", warmup: 10, poll_s: 60, clock_speed: 120, clock_origin: {origin}, max_duration: \"20m\" }});"
    ))
    .expect("start");
    let id = sim_id(&s);
    let store = SimStore::open(&dir.path().join("stratbook.sqlite")).unwrap();
    // Wait for a mark taken after the first bar's positions were committed.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (row, marks) = loop {
        let row = store.get(id).unwrap().unwrap();
        let (t, _) = store.equity(id).unwrap();
        match (&row.marks, t.last()) {
            (Some(m), Some(&last)) if !row.positions.is_empty() && m.time > last => {
                let m = m.clone();
                break (row, m);
            }
            _ => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mark between bar closes: {:?} {:?}",
            row.marks,
            row.positions
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(marks.prices.len(), 3, "{marks:?}");
    for (token, price) in &marks.prices {
        assert!(ids.contains(token), "{token}");
        // The mark's time is the answer's `updated_at`, and the mock's price then is the close
        // of the minute forming.
        let minute = marks.time - marks.time.rem_euclid(60);
        let c = Synth::for_seed(token).bars(Interval::M1, minute, minute)[0];
        assert_eq!(c.time, minute);
        assert_eq!(c.close, *price, "{token} at {}", marks.time);
    }
    let held = &row.positions[0];
    assert_eq!(held.side, "long");
    assert!(held.qty > 0.0 && held.entry > 0.0, "{held:?}");
    // The card values the positions at the marks (a bar closing meanwhile shows its close
    // instead, until the next poll marks it again).
    let mut card = || {
        s.execute("sm")
            .unwrap()
            .value
            .unwrap()
            .plain()
            .unwrap()
            .to_string()
    };
    let mut text = card();
    while !text.contains(" | marked ") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        text = card();
    }
    assert!(text.contains(" | marked "), "{text}");
    assert!(text.contains(" | elapsed "), "{text}");
    assert!(text.contains("\n  position 0xabcdef"), "{text}");
    assert!(text.contains(" | unrealized "), "{text}");
    s.execute("sm.wait();").expect("the simulation ends");
    let (t, _) = store.equity(id).unwrap();
    assert_eq!(t.len(), 4, "{t:?}");
    let log = mock.request_log();
    let asks: Vec<&String> = log
        .iter()
        .filter(|r| r.starts_with("POST /v2/tokens/price"))
        .collect();
    assert!(
        asks.iter()
            .all(|r| ids.iter().all(|id| r.contains(id.as_str()))),
        "each price request carries every token: {asks:?}"
    );
    // One request per minute of the run at most (20 polls), never one per token per poll.
    assert!(
        (3..=21).contains(&asks.len()),
        "{} price requests in 20 minutes",
        asks.len()
    );
    // Off: the positions are valued at bar closes only, and no price is asked.
    mock.reset_requests();
    s.execute(&format!(
        "let quiet = simulate(#{{ {source} }}, {strat},
             #{{ feed: \"rest\", warmup: 10, poll_s: 60, clock_speed: 120, clock_origin: {origin}, max_duration: \"5m\", marks: false }});
         quiet.wait();"
    ))
    .expect("a simulation without marks");
    assert!(
        !mock
            .request_log()
            .iter()
            .any(|r| r.contains("/v2/tokens/price")),
        "{:?}",
        mock.request_log()
    );
}
