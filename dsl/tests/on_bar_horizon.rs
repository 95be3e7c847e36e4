//! A per-bar strategy never sees a later bar, not even through the series and bars it captures:
//! while Rhai runs `on_bar` for bar i, everything as long as the tested bars ends at bar i
//! (`script/horizon.rs`).

use dsl::data::config::Config;
use dsl::script::Session;

fn session(tag: &str) -> (Session, std::path::PathBuf) {
    let home = std::env::temp_dir().join(format!("stratbook-horizon-{tag}-{}", std::process::id()));
    let mut s = Session::new(Config::for_home(&home));
    s.execute(
        r#"let bars = klines("demo:BTC", "1h", #{ limit: 800 });
           let fast = sma(bars.close, 10);"#,
    )
    .expect("setup");
    (s, home)
}

fn err(s: &mut Session, code: &str) -> String {
    match s.execute(code) {
        Ok(_) => panic!("{code}: expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn indexing_a_captured_series_past_the_current_bar_is_an_error() {
    let (mut s, home) = session("index");
    let e = err(
        &mut s,
        "backtest(bars, strategy(#{ on_bar: |ctx| {\n  if bars.close[ctx.bar_index + 1] > ctx.close() { ctx.buy(); } else { ctx.exit(); }\n} }), #{ save: false });",
    );
    assert!(e.contains("after the current bar (0)"), "{e}");
    assert!(e.contains("ctx.value(series, n)"), "{e}");
    assert!(e.contains(":2:16"), "no line:column in {e}");
    // The horizon ends with the call, even a failed one.
    let r =
        s.execute("bars.len() == 800 && fast.len == 800 && bars.close[799] == bars.close.last()");
    assert_eq!(r.unwrap().value.unwrap().plain(), Some("true"));
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn inside_on_bar_everything_as_long_as_the_bars_ends_at_the_current_bar() {
    let (mut s, home) = session("view");
    // Every check throws on failure; the backtest runs them on all 800 bars.
    let code = r#"
let checks = strategy(#{ on_bar: |ctx| {
    let i = ctx.bar_index;
    let c = bars.close;
    if bars.len() != i + 1 || c.len != i + 1 || fast.len() != i + 1 { throw `len at ${i}`; }
    if c[-1] != ctx.close() || c.last() != ctx.close() || c.last != ctx.close() { throw `last at ${i}`; }
    if i > 0 && c[-2] != ctx.close(1) { throw `previous at ${i}`; }
    if c.tail(1)[0] != ctx.close() || bars.tail(2).close[-1] != ctx.close() { throw `tail at ${i}`; }
    if bars.head(5000).len() != i + 1 || c.slice(0, 5000).len != i + 1 { throw `head/slice at ${i}`; }
    let f = ctx.value(fast);
    if (f == f || fast[-1] == fast[-1]) && fast[-1] != f { throw `fast at ${i}`; }
    let hi = 0.0;
    for x in c { if x > hi { hi = x; } }
    if c.max() != hi || bars.high.max() < hi { throw `max at ${i}`; }
    if c.to_array().len() != i + 1 || (c > 0).count() != i + 1 { throw `to_array/count at ${i}`; }
    if ctx.position == 0 { ctx.buy(); } else { ctx.exit(); }
} });
let r = backtest(bars, checks, #{ save: false });
r.stats.n_trades > 100
"#;
    let r = s.execute(code).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.value.unwrap().plain(), Some("true"));
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn indexing_by_bar_index_gives_the_same_trades_as_ctx() {
    let (mut s, home) = session("same");
    let code = r#"
let slow = sma(bars.close, 30);
let by_ctx = backtest(bars, strategy(#{ on_bar: |ctx| {
    if ctx.value(fast) > ctx.value(slow) && ctx.value(fast, 1) <= ctx.value(slow, 1) { ctx.buy(); }
    else if ctx.value(fast) < ctx.value(slow) { ctx.exit(); }
} }), #{ save: false });
let by_index = backtest(bars, strategy(#{ on_bar: |ctx| {
    let i = ctx.bar_index;
    if i < 1 { return; }
    if fast[i] > slow[i] && fast[i - 1] <= slow[i - 1] { ctx.buy(); }
    else if fast[-1] < slow[-1] { ctx.exit(); }
} }), #{ save: false });
by_ctx.stats.n_trades > 5 && by_ctx.stats.final_equity == by_index.stats.final_equity
    && by_ctx.stats.n_trades == by_index.stats.n_trades
"#;
    let r = s.execute(code).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.value.unwrap().plain(), Some("true"));
    let _ = std::fs::remove_dir_all(home);
}

#[test]
fn loading_bars_or_shifting_back_inside_on_bar_is_refused() {
    let (mut s, home) = session("load");
    let e = err(
        &mut s,
        r#"backtest(bars, strategy(#{ on_bar: |ctx| { let b = klines("demo:BTC", "1h", #{ limit: 800 }); } }), #{ save: false });"#,
    );
    assert!(e.contains("klines inside on_bar (bar 0)"), "{e}");
    let e = err(
        &mut s,
        "backtest(bars, strategy(#{ on_bar: |ctx| { let next = fast.shift(-1)[-1]; } }), #{ save: false });",
    );
    assert!(e.contains("shift(-1) inside on_bar (bar 0)"), "{e}");
    let _ = std::fs::remove_dir_all(home);
}
