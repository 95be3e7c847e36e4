//! Properties of series arithmetic and of backtest windows, checked on generated inputs
//! (proptest): element-wise results line up with their inputs (NaN included) or the lengths are
//! refused; a `from`/`to` window of a vectorized strategy equals the same bars and signals cut by
//! hand.

use dsl::Series;
use dsl::data::config::Config;
use dsl::script::Session;
use proptest::prelude::*;

fn session() -> Session {
    Session::new(Config::for_home(std::env::temp_dir()))
}

/// A Rhai literal for a value (`parse_float("NaN")` for NaN).
fn lit(v: f64) -> String {
    if v.is_nan() {
        "parse_float(\"NaN\")".into()
    } else {
        format!("{v:?}")
    }
}

fn series_lit(vs: &[f64]) -> String {
    format!(
        "series([{}])",
        vs.iter().map(|v| lit(*v)).collect::<Vec<_>>().join(", ")
    )
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -1e6..1e6f64,
        1 => Just(f64::NAN),
        1 => Just(0.0),
    ]
}

fn same(x: f64, y: f64) -> bool {
    (x.is_nan() && y.is_nan()) || x == y
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn series_arithmetic_lines_up_or_names_both_lengths(
        a in prop::collection::vec(value(), 0..12),
        b in prop::collection::vec(value(), 0..12),
        op in prop::sample::select(vec!["+", "-", "*", "/", ">", "<"]),
    ) {
        let mut s = session();
        let code = format!("let r = {} {op} {};", series_lit(&a), series_lit(&b));
        match s.execute(&code) {
            Ok(_) => {
                prop_assert_eq!(a.len(), b.len());
                let r = s.variable("r").unwrap().try_cast::<Series>().unwrap();
                prop_assert_eq!(r.len(), a.len());
                for i in 0..a.len() {
                    let (x, y) = (a[i], b[i]);
                    let want = match op {
                        "+" => x + y,
                        "-" => x - y,
                        "*" => x * y,
                        "/" => x / y,
                        ">" => f64::from(u8::from(x > y)),
                        _ => f64::from(u8::from(x < y)),
                    };
                    prop_assert!(same(r.values()[i], want), "{} {op} {} at {i}: {} vs {want}", x, y, r.values()[i]);
                }
            }
            Err(e) => {
                prop_assert_ne!(a.len(), b.len(), "{}", e);
                prop_assert!(e.evalue.contains(&a.len().to_string()) && e.evalue.contains(&b.len().to_string()), "{}", e);
            }
        }
    }

    #[test]
    fn series_scalar_arithmetic_keeps_the_length_and_nan(
        a in prop::collection::vec(value(), 0..12),
        k in -100.0..100.0f64,
    ) {
        let mut s = session();
        s.execute(&format!("let r = {} * {k:?} + 1.0;", series_lit(&a))).unwrap();
        let r = s.variable("r").unwrap().try_cast::<Series>().unwrap();
        prop_assert_eq!(r.len(), a.len());
        for (i, x) in a.iter().enumerate() {
            prop_assert!(same(r.values()[i], x * k + 1.0));
        }
    }

    #[test]
    fn a_from_to_window_equals_the_bars_and_signals_cut_by_hand(
        start in 0usize..250,
        len in 1usize..200,
        fast in 2i64..10,
        slow in 11i64..30,
    ) {
        let n = 300usize;
        let end = (start + len).min(n);
        let mut s = session();
        s.execute(&format!(
            "let bars = klines(\"demo:BTC\", \"1h\", #{{ limit: {n} }});
             let f = sma(bars.close, {fast}); let sl = sma(bars.close, {slow});
             let e = crossover(f, sl); let x = crossunder(f, sl);
             let from = bars.time[{start}].to_int(); let to = bars.time[{last}].to_int();
             let windowed = backtest(bars, strategy(#{{ entry: e, exit: x }}), #{{ from: from, to: to }}).stats;
             let cut = bars.tail({tail}).head({len});
             let by_hand = backtest(cut, strategy(#{{ entry: e.slice({start}, {end}), exit: x.slice({start}, {end}) }})).stats;",
            last = end - 1,
            tail = n - start,
            len = end - start,
        )).unwrap();
        let w = s.execute("[windowed.final_equity, windowed.n_trades, windowed.total_return_pct]").unwrap().value.unwrap();
        let h = s.execute("[by_hand.final_equity, by_hand.n_trades, by_hand.total_return_pct]").unwrap().value.unwrap();
        prop_assert_eq!(w.plain(), h.plain());
    }
}
