//! The stdlib templates, the AVE bot config, tables and the tear sheet, as a notebook uses them.

use dsl::data::config::Config;
use dsl::display::Output;
use dsl::script::Session;
use std::sync::{Arc, Mutex};

fn session() -> (Session, Arc<Mutex<Vec<Output>>>) {
    let dir = tempfile::tempdir().unwrap().keep();
    let s = Session::new(Config::for_home(dir));
    let out = Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    s.set_sink(move |x| o.lock().unwrap().push(x));
    (s, out)
}

fn value(s: &mut Session, code: &str) -> String {
    let r = s.execute(code).unwrap_or_else(|e| panic!("{code}:\n{e}"));
    r.value
        .map(|v| v.plain().unwrap_or_default().to_string())
        .unwrap_or_default()
}

#[test]
fn every_stdlib_template_backtests_on_demo_data() {
    let (mut s, _) = session();
    s.execute(
        "let bars = klines(\"demo:ETH\", \"4h\", #{ from: \"2024-01-01\", to: \"2025-01-01\" });",
    )
    .unwrap();
    for call in [
        "sma_cross(bars, 10, 30)",
        "ema_cross(bars, 12, 26)",
        "rsi_reversion(bars, 14, 30, 70)",
        "bollinger_breakout(bars, 20, 2.0)",
        "macd_trend(bars, 12, 26, 9)",
        "donchian_breakout(bars, 20, 10)",
    ] {
        let n = value(
            &mut s,
            &format!("backtest(bars, std::strategies::{call}, #{{ save: false }}).stats.n_trades"),
        );
        let n: f64 = n.parse().unwrap_or_else(|_| panic!("{call}: {n}"));
        assert!(n > 0.0, "{call} made no trades");
    }
    // The options form puts stops on every entry.
    let r = value(
        &mut s,
        "let r = backtest(bars, std::strategies::sma_cross(bars, 10, 30, #{ stop_loss_pct: 1 }), #{ save: false });\n\
         r.trades.column(\"exit_reason\").filter(|x| x == \"stop_loss\").len() > 0",
    );
    assert_eq!(r, "true");
}

#[test]
fn the_pepe_bot_buys_ten_percent_on_each_one_hour_drop_with_stops() {
    let (mut s, _) = session();
    s.execute(
        r#"
        let bars = klines("demo:PEPE", "5m", #{ from: "2025-03-01", to: "2025-06-01" });
        let bot = strategy_from_config(#{
            conditions: [#{ type: "price_drop", token: "PEPE", chain: "bsc", threshold: 5, timeframe: "1h" }],
            actions: [#{ type: "buy", amount_percent: 10, token: "PEPE" }],
            risk_management: #{ stop_loss_percent: 3, take_profit_percent: "10" },
        });
        let r = backtest(bars, bot, #{ cash: 1000, save: false });
        let drop = (bars.close / bars.close.shift(12) - 1) * 100 <= -5;
        let events = (drop & !drop.shift(1)).count();
        "#,
    )
    .unwrap();
    let n_trades: f64 = value(&mut s, "r.stats.n_trades + r.stats.open_trades")
        .parse()
        .unwrap();
    let events: f64 = value(&mut s, "events").parse().unwrap();
    assert!(events > 0.0);
    // One buy per drop event (a fill may merge into an open position, so trades <= events).
    assert!(
        n_trades >= 1.0 && n_trades <= events,
        "{n_trades} trades for {events} events"
    );
    // Each buy spends 10 % of the cash at the signal: the first entry is ~100 of 1000.
    let first = value(&mut s, "let t = r.trades.row(0); t.qty * t.entry_price");
    let first: f64 = first.parse().unwrap();
    assert!((90.0..=101.0).contains(&first), "first buy {first}");
    let reasons = value(&mut s, "r.trades.column(\"exit_reason\")");
    assert!(
        reasons.contains("stop_loss") || reasons.contains("take_profit"),
        "{reasons}"
    );

    let json = value(
        &mut s,
        r#"strategy_from_config(`{"conditions":[{"type":"price_level","price":"1.5","direction":"below"}],
            "actions":[{"type":"sell","amount_percent":50}]}`)"#,
    );
    assert!(json.contains("ave_bot"), "{json}");
    let e = s.execute("strategy_from_config(#{ conditions: [#{ type: \"price_dip\", threshold: 5 }], actions: [] })").unwrap_err();
    assert!(e.evalue.contains("use price_drop, price_rise"), "{e}");
}

#[test]
fn a_result_as_the_cell_value_is_a_stats_table_then_a_chart() {
    let (mut s, out) = session();
    s.execute("let bars = klines(\"demo:BTC\", \"1h\"); let r = backtest(bars, std::strategies::sma_cross(bars, 10, 30));").unwrap();
    out.lock().unwrap().clear();
    let res = s.execute("r").unwrap();
    let shown = out.lock().unwrap();
    let Output::Display { bundle, .. } = &shown[0] else {
        panic!("{shown:?}")
    };
    assert!(bundle.data.contains_key("text/html"));
    assert!(bundle.plain().unwrap().contains("sharpe"));
    let chart = res.value.unwrap();
    assert!(chart.data.contains_key("image/svg+xml"));
    assert!(chart.plain().unwrap().contains("equity: first"));
}

#[test]
fn tables_and_frames_from_scripts() {
    let (mut s, _) = session();
    let t = value(
        &mut s,
        "table([#{ name: \"a\", n: 2, x: 1.5 }, #{ name: \"b\", n: 3, x: 0.25 }]).sort(\"x\", false)",
    );
    let header = t.lines().next().unwrap();
    assert!(header.starts_with("name"), "{t}");
    let first: Vec<&str> = t.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(first, ["b", "3", "0.250000"], "{t}");
    s.execute("let bars = klines(\"demo:BTC\", \"1h\"); let r = backtest(bars, std::strategies::sma_cross(bars, 10, 30));").unwrap();
    assert_eq!(value(&mut s, "r.trades.len() == r.stats.n_trades"), "true");
    assert!(value(&mut s, "r.trades.columns").contains("exit_reason"));
    assert!(value(&mut s, "r.trades[\"pnl\"]").starts_with("Series"));
    let e = s.execute("r.trades[\"profit\"]").unwrap_err();
    assert!(e.evalue.contains("columns are:"), "{e}");
}
