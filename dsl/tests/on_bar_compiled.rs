//! `on_bar` bodies lowered out of the interpreter (`script/backtest_api/on_bar_compiler/`) give
//! the same backtest, bit for bit, as the Rhai interpreter (`interpret: true`), and the same
//! errors. Each case also checks which path ran, from the run's stored config.

use dsl::data::config::Config;
use dsl::script::Session;
use dsl::script::backtest_api::ResultValue;
use dsl::store::Store;
use std::path::PathBuf;

const SETUP: &str = r#"
let bars = klines("demo:BTC", "1h", #{ limit: 3000 });
let fast = sma(bars.close, 10);
let slow = sma(bars.close, 30);
let rsi14 = rsi(bars.close, 14);
let k = 40;
let thr = 2.5;
let opts = #{ size_pct: 40, stop_loss_pct: 4 };
let count = 0;
let m = macd(bars.close, 12, 26, 9);
let trend_up = ema(bars.close, 20) > ema(bars.close, 50);
let vol = atr(bars, 14);
"#;

/// (name, strategy map entries, whether it lowers)
const CASES: &[(&str, &str, bool)] = &[
    (
        "sma cross (the benchmark)",
        "on_bar: |ctx| { let f = ctx.value(fast); let s = ctx.value(slow);
            if ctx.position == 0 { if f > s { ctx.buy(); } } else if f < s { ctx.exit(); } }",
        true,
    ),
    (
        "crossover with history and exits",
        "on_bar: |ctx| {
            if ctx.value(fast) > ctx.value(slow) && ctx.value(fast, 1) <= ctx.value(slow, 1) {
                ctx.buy(#{ size_pct: 50, stop_loss_pct: 3, take_profit_pct: 6 });
            } else if ctx.value(fast) < ctx.value(slow) && ctx.position > 0 { ctx.exit(); }
        }",
        true,
    ),
    (
        "breakout with early return, ints and computed sizes",
        "on_bar: |ctx| {
            if ctx.bar_index < k { return; }
            let hi = ctx.high(1); let lo = ctx.low(1);
            if ctx.close() > hi * 1.001 && ctx.position <= 0 { ctx.buy(#{ size_pct: thr * 10 }); }
            if ctx.close() < lo || !(ctx.position >= 0) { ctx.exit(#{ pct: 50 }); }
        }",
        true,
    ),
    (
        "shorts, op-assignments, unary minus",
        "on_bar: |ctx| {
            let n = 0; n += ctx.bar_index % 7; n *= 2; n -= 1; n /= 1; n %= 100;
            let x = -ctx.close(2) + ctx.open(); let y = +x; y -= 0.5; y *= 2;
            if n > 5 && y > 0.0 { ctx.sell(#{ size_pct: 20 }); }
            else if ctx.position < 0 && ctx.value(rsi14) < 35 { ctx.exit(); }
        }",
        true,
    ),
    (
        "limit orders and cancel",
        r#"on_bar: |ctx| {
            if ctx.position == 0 {
                ctx.cancel();
                ctx.order(#{ type: "limit", side: "buy", price: ctx.close() * 0.98, size_pct: 50, take_profit_pct: 4 });
            } else if ctx.bar_index % 24 == 0 { ctx.exit(); }
        }"#,
        true,
    ),
    (
        "captured map, const, shadowing in a block",
        "on_bar: |ctx| {
            const lim = 30; let v = ctx.value(rsi14);
            { let v = v * 1.0; if v < lim && ctx.cash > 100 { ctx.buy(opts); } }
            if v > 70 { ctx.exit(); }
        }",
        true,
    ),
    (
        "integer division, float ratios, volume",
        "on_bar: |ctx| {
            let r = ctx.close() / ctx.close(1) - 1; let q = ctx.bar_index / 3;
            if q * 3 == ctx.bar_index && r > 0.002 { ctx.buy(); }
            else if r < -0.002 || ctx.volume() / ctx.volume(1) > 3 { ctx.exit(); }
        }",
        true,
    ),
    (
        "avg price, equity, time, volatility sizing",
        "on_bar: |ctx| {
            if ctx.position > 0 && ctx.close() < ctx.avg_price * 0.97 { ctx.exit(); }
            else if ctx.position == 0 && ctx.equity > 0 && ctx.time() > ctx.time(1) && ctx.close() > ctx.value(slow) {
                ctx.buy(#{ risk_pct: 1, atr_mult: 2 });
            }
        }",
        true,
    ),
    (
        "bools compared, bool locals, or-chains",
        "on_bar: |ctx| {
            let up = ctx.close() > ctx.open(); let was_up = ctx.close(1) > ctx.open(1);
            if up == was_up && up != false && (ctx.position == 0 || ctx.position < 0) { ctx.buy(); }
            else if !up && !was_up { ctx.exit(); }
        }",
        true,
    ),
    (
        "the multi-timeframe notebook's agent: map fields, bool series, stops from ATR",
        "on_bar: |ctx| {
            let up = ctx.value(trend_up) > 0.5;
            let hist = ctx.value(m.hist);
            let prev = ctx.value(m.hist, 1);
            if ctx.position == 0.0 {
                if up && prev <= 0.0 && hist > 0.0 && ctx.value(rsi14) < 70.0 {
                    ctx.buy(#{ risk_pct: 1, atr_mult: 2, atr_period: 14, stop_loss: ctx.close() - 2.0 * ctx.value(vol) });
                }
            } else if !up || hist < 0.0 {
                ctx.exit();
            }
        }",
        true,
    ),
    (
        "abs, min, max in both call styles",
        "on_bar: |ctx| {
            let body = abs(ctx.close() - ctx.open()); let range = ctx.high() - ctx.low();
            let lo = min(ctx.low(1), ctx.low(2)).min(ctx.low(3)); let big = max(range, 1) * 0.6;
            if body > big && ctx.close() > ctx.open() && ctx.position == 0 { ctx.buy(#{ stop_loss: lo }); }
            else if (ctx.close() - ctx.open()).abs() > big && ctx.close() < ctx.open() { ctx.exit(); }
        }",
        true,
    ),
    (
        "if as an expression, block values",
        "on_bar: |ctx| {
            let r = ctx.value(rsi14);
            let size = if r < 30 { 80 } else if r < 45 { 40 } else { 0 };
            let stop = { let k = 0.95; ctx.close() * k };
            let none = if r > 1000 { 1 };
            if size > 0 && ctx.position == 0 { ctx.buy(#{ size_pct: size, stop_loss: stop }); }
            else if r > 70 { ctx.exit(); }
        }",
        true,
    ),
    (
        "a return inside a valued block: interpreted",
        "on_bar: |ctx| {
            let size = if ctx.position != 0 { if ctx.value(fast) < ctx.value(slow) { ctx.exit(); } return; } else { 50 };
            if ctx.value(fast) > ctx.value(slow) { ctx.buy(#{ size_pct: size }); }
        }",
        false,
    ),
    (
        "a type Rhai compares but the tree does not: bails every bar, same result, interpreted after 64",
        "on_bar: |ctx| { if (ctx.bar_index % 5 == 0) == 1 { ctx.buy(); } else if ctx.bar_index % 7 == 0 { ctx.exit(); } }",
        true,
    ),
    (
        "a loop: interpreted",
        "on_bar: |ctx| { let s = 0.0; for i in 0..3 { s += ctx.close(i); }
            if s / 3 < ctx.close() { ctx.buy(); } else { ctx.exit(); } }",
        false,
    ),
    (
        "a captured counter assigned to: interpreted",
        "on_bar: |ctx| { count += 1; if count % 10 == 0 { ctx.buy(); } else if count % 10 == 5 { ctx.exit(); } }",
        false,
    ),
    (
        "a cell function shadowing a ctx method: interpreted",
        "on_bar: |ctx| { if ctx.position == 0 { ctx.buy(); } else { ctx.exit(); } }",
        false,
    ),
];

struct Run {
    outcome: Result<String, String>,
    on_bar: Option<String>,
    /// Bars the compiled body handed back to the interpreter.
    fallbacks: Option<u64>,
}

fn home(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("stratbook-onbar-{tag}-{}", std::process::id()))
}

fn session(tag: &str, extra: &str) -> Session {
    let mut s = Session::new(Config::for_home(home(tag)));
    s.execute(SETUP).expect("setup");
    if !extra.is_empty() {
        s.execute(extra).expect("extra cell");
    }
    s
}

fn run(s: &mut Session, tag: &str, entries: &str, interpret: bool, by_name: bool) -> Run {
    let cell = if by_name {
        "let r = backtest(bars, \"on_bar\", #{ fee_pct: 0.1 });".to_string()
    } else {
        format!(
            "let r = backtest(bars, strategy(#{{ name: \"t\", {entries}, interpret: {interpret} }}), #{{ fee_pct: 0.1 }});"
        )
    };
    match s.execute(&cell) {
        Err(e) => Run {
            outcome: Err(e.to_string()),
            on_bar: None,
            fallbacks: None,
        },
        Ok(_) => {
            let r = s.variable("r").expect("r");
            let r = r.read_lock::<ResultValue>().expect("a BacktestResult");
            let b = &r.result;
            let id = r.id().expect("saved run");
            let store = Store::open(&home(tag).join("stratbook.sqlite")).expect("store");
            let row = store
                .list(1000)
                .expect("runs")
                .into_iter()
                .find(|row| row.id == id)
                .expect("the run");
            let config: serde_json::Value = serde_json::from_str(&row.config).unwrap();
            Run {
                outcome: Ok(format!(
                    "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                    b.equity, b.trades, b.open_trades, b.fills, b.signals, b.stats
                )),
                on_bar: config["on_bar"].as_str().map(String::from),
                fallbacks: config["on_bar_fallback_bars"].as_u64(),
            }
        }
    }
}

fn same(name: &str, compiled: &Run, interpreted: &Run) {
    match (&compiled.outcome, &interpreted.outcome) {
        (Ok(a), Ok(b)) => assert!(
            a == b,
            "{name}: the compiled run differs from the interpreted one"
        ),
        (Err(a), Err(b)) => {
            // The two cells differ only in their number and in `interpret: false` / `true`.
            let norm = |e: &str| {
                let e = e.replace("interpret: false", "interpret: true");
                let at = e.find("cell[").map_or(0, |i| i + 5);
                let rest = e[at..].trim_start_matches(|c: char| c.is_ascii_digit());
                format!("{}{rest}", &e[..at])
            };
            assert_eq!(norm(a), norm(b), "{name}: different errors")
        }
        (a, b) => panic!("{name}: compiled {a:?} but interpreted {b:?}"),
    }
}

#[test]
fn lowered_on_bar_matches_the_interpreter_bit_for_bit() {
    let mut trading = 0;
    for (i, (name, entries, lowers)) in CASES.iter().enumerate() {
        let tag = format!("c{i}");
        let extra = if name.contains("shadowing a ctx method") {
            "fn value(a, b) { 0.0 }"
        } else {
            ""
        };
        let mut s = session(&tag, extra);
        let compiled = run(&mut s, &tag, entries, false, false);
        let interpreted = run(&mut s, &tag, entries, true, false);
        same(name, &compiled, &interpreted);
        // A body that keeps handing bars back to the interpreter is interpreted after 64 of them.
        let bails = name.contains("bails every bar");
        let want = if *lowers && !bails {
            "compiled"
        } else {
            "interpreted"
        };
        assert_eq!(compiled.on_bar.as_deref(), Some(want), "{name}");
        assert_eq!(interpreted.on_bar.as_deref(), Some("interpreted"), "{name}");
        // Otherwise a compiled body decides every bar itself.
        let fallbacks = if bails { 64 } else { 0 };
        assert_eq!(compiled.fallbacks, Some(fallbacks), "{name}: fallback bars");
        if let Ok(o) = &compiled.outcome
            && !o.contains("trades: []")
            && o.lines().nth(1).is_some_and(|t| t != "[]")
        {
            trading += 1;
        }
        let _ = std::fs::remove_dir_all(home(&tag));
    }
    // The comparison means something only if the strategies trade.
    assert!(trading >= CASES.len() - 1, "only {trading} cases traded");
}

#[test]
fn a_cell_function_on_bar_lowers_too() {
    let tag = "cellfn";
    let mut s = session(
        tag,
        "fn on_bar(ctx) { if ctx.bar_index % 50 == 10 { ctx.buy(#{ size_pct: 50 }); } if ctx.bar_index % 50 == 40 { ctx.exit(); } }",
    );
    let r = run(&mut s, tag, "", false, true);
    assert_eq!(r.on_bar.as_deref(), Some("compiled"));
    let trades = r.outcome.unwrap();
    assert!(trades.lines().nth(1).is_some_and(|t| t != "[]"));
    let _ = std::fs::remove_dir_all(home(tag));
}

#[test]
fn errors_are_the_interpreters_whichever_path_starts_the_bar() {
    let cases = [
        // A bad option map on bar 100.
        "on_bar: |ctx| { if ctx.bar_index == 100 { ctx.buy(#{ size_pt: 50 }); } }",
        // A future bar.
        "on_bar: |ctx| { if ctx.bar_index == 20 { let x = ctx.close(-1); } }",
        // Integer overflow.
        "on_bar: |ctx| { let big = 9223372036854775807; if ctx.bar_index == 10 { let z = big + ctx.bar_index; } }",
        // Integer division by zero.
        "on_bar: |ctx| { let z = 10 / (ctx.bar_index - 7); }",
        // A non-bool condition.
        "on_bar: |ctx| { if ctx.bar_index == 3 { let c = ctx.close(); if c { ctx.buy(); } } }",
        // A non-bool operand of &&.
        "on_bar: |ctx| { if ctx.bar_index == 3 && ctx.close() { ctx.buy(); } }",
        // A series of another length.
        "on_bar: |ctx| { if ctx.bar_index == 5 { ctx.value(short); } }",
        // A map field that is not there.
        "on_bar: |ctx| { if ctx.bar_index == 5 { ctx.value(m.histogram); } }",
    ];
    let tag = "errors";
    let mut s = session(tag, "let short = sma(bars.close.tail(50), 5);");
    for entries in cases {
        let compiled = run(&mut s, tag, entries, false, false);
        let interpreted = run(&mut s, tag, entries, true, false);
        assert!(compiled.outcome.is_err(), "{entries}: should fail");
        same(entries, &compiled, &interpreted);
        let msg = compiled.outcome.unwrap_err();
        assert!(msg.contains("line "), "{entries}: no position in {msg}");
    }
    let _ = std::fs::remove_dir_all(home(tag));
}
