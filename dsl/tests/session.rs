//! The Session as the kernel drives it: state across cells, errors, completion, interrupts.

use dsl::data::config::Config;
use dsl::display::Output;
use dsl::script::{Completeness, Session};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn session() -> (Session, Arc<Mutex<Vec<Output>>>) {
    let dir = std::env::temp_dir().join(format!("stratbook-session-{}", std::process::id()));
    let s = Session::new(Config::for_home(dir));
    let out = Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    s.set_sink(move |x| o.lock().unwrap().push(x));
    (s, out)
}

fn plain(s: &mut Session, code: &str) -> String {
    let r = s.execute(code).unwrap_or_else(|e| panic!("{code}: {e}"));
    r.value
        .map(|v| v.plain().unwrap_or_default().to_string())
        .unwrap_or_default()
}

#[test]
fn variables_functions_and_closures_persist_across_cells() {
    let (mut s, _) = session();
    s.execute("let x = 10; fn double(a) { a * 2 }").unwrap();
    assert_eq!(plain(&mut s, "double(x)"), "20");
    s.execute("let k = 5; let add = |v| v + k;").unwrap();
    assert_eq!(plain(&mut s, "add.call(1)"), "6");
    s.execute("fn double(a) { a * 3 }").unwrap();
    assert_eq!(plain(&mut s, "double(x)"), "30");
}

#[test]
fn rerunning_a_cell_does_not_grow_the_scope() {
    let (mut s, _) = session();
    for _ in 0..5 {
        s.execute("let big = series([1, 2, 3]); let y = 1;")
            .unwrap();
    }
    assert_eq!(s.variable_names().len(), 2);
}

#[test]
fn trailing_semicolon_suppresses_the_value() {
    let (mut s, _) = session();
    assert_eq!(plain(&mut s, "1 + 1"), "2");
    assert_eq!(plain(&mut s, "1 + 1;"), "");
}

#[test]
fn series_arithmetic_accepts_ints_on_either_side() {
    let (mut s, _) = session();
    s.execute("let a = series([1, 2, 3]);").unwrap();
    assert!(plain(&mut s, "(a * 2 + 1)[-1]").starts_with("7"));
    assert!(plain(&mut s, "(10 - a)[0]").starts_with("9"));
    assert!(plain(&mut s, "(a > 1).count()").starts_with("2"));
    assert!(plain(&mut s, "((a > 1) & (a < 3)).count()").starts_with("1"));
    assert!(plain(&mut s, "a.shift(1)[0]").contains("NaN"));
}

#[test]
fn errors_carry_line_column_caret_and_hint() {
    let (mut s, _) = session();
    s.execute("let close_px = 1;").unwrap();
    let e = s.execute("let a = 1;\nlet b = close_pxx + 1;").unwrap_err();
    assert_eq!(e.ename, "SyntaxError");
    assert_eq!(e.line, Some(2));
    let tb = e.traceback.join("\n");
    assert!(tb.contains("cell[") && tb.contains(":2:9"), "{tb}");
    assert!(
        tb.contains("let b = close_pxx + 1;") && tb.contains("^"),
        "{tb}"
    );
    assert!(tb.contains("did you mean 'close_px'"), "{tb}");

    let e = s.execute("seriess([1])").unwrap_err();
    assert!(
        e.traceback.join("\n").contains("did you mean 'series'"),
        "{e}"
    );

    let e = s.execute("series(1, 2, 3)").unwrap_err();
    assert_eq!(e.ename, "TypeError", "{e}");
    assert!(
        e.traceback
            .join("\n")
            .contains("series(values: array) -> Series"),
        "{e}"
    );

    // && on series (a model's habit from Python): the hint says & and |.
    let e = s
        .execute("let c = series([1.0, 2.0]);\nlet e = c > 1.0 && c < 3.0;")
        .unwrap_err();
    let tb = e.traceback.join("\n");
    assert_eq!(e.ename, "TypeError", "{tb}");
    assert!(e.evalue.contains("expected bool, got Series"), "{tb}");
    assert!(tb.contains("combine them with & and |"), "{tb}");

    let e = s.execute("let q = series([1]);\nq[5]").unwrap_err();
    assert!(
        e.evalue.contains("out of range") && e.line == Some(2),
        "{e}"
    );
}

#[test]
fn a_missing_semicolon_points_at_the_end_of_the_line() {
    let (mut s, _) = session();
    let e = s.execute("let a = 1\nlet b = 2;").unwrap_err();
    assert_eq!((e.line, e.column), (Some(1), Some(10)), "{e}");
    assert!(
        e.traceback
            .join("\n")
            .contains("end the statement with ';'")
    );
}

#[test]
fn is_complete_follows_the_parser() {
    let (s, _) = session();
    assert_eq!(s.is_complete("let x = 1;"), Completeness::Complete);
    assert!(matches!(
        s.is_complete("fn f(x) {"),
        Completeness::Incomplete(_)
    ));
    assert!(matches!(
        s.is_complete("let a = [1, 2,"),
        Completeness::Incomplete(_)
    ));
    assert_eq!(s.is_complete("let x = 1 }"), Completeness::Invalid);
    assert_eq!(s.is_complete("let x = ;"), Completeness::Invalid);
}

#[test]
fn completion_offers_builtins_variables_and_methods() {
    let (mut s, _) = session();
    s.execute("let my_series = series([1, 2]); fn my_fn(a) { a }")
        .unwrap();
    let c = s.complete("ser", 3);
    assert!(c.matches.contains(&"series".to_string()), "{:?}", c.matches);
    assert_eq!((c.start, c.end), (0, 3));
    let c = s.complete("my_", 3);
    assert!(
        c.matches.contains(&"my_series".into()) && c.matches.contains(&"my_fn".into()),
        "{:?}",
        c.matches
    );
    let c = s.complete("my_series.sh", 12);
    assert_eq!(c.matches, vec!["shift".to_string()]);
    assert_eq!(c.start, 10);
}

#[test]
fn inspect_shows_signature_and_example() {
    let (mut s, _) = session();
    let t = s.inspect("series(", 7).unwrap();
    assert!(
        t.contains("series(values: array) -> Series") && t.contains("```rhai"),
        "{t}"
    );
    s.execute("let v = series([1, 2]);").unwrap();
    let t = s.inspect("v", 1).unwrap();
    assert!(t.starts_with("v: Series"), "{t}");
}

#[test]
fn print_debug_and_help_stream_out() {
    let (mut s, out) = session();
    s.execute("print(\"hello\"); debug(42); help(\"series\");")
        .unwrap();
    let o = out.lock().unwrap();
    assert!(matches!(&o[0], Output::Stream { stderr: false, text } if text == "hello\n"));
    assert!(matches!(&o[1], Output::Stream { stderr: true, text } if text.contains("42")));
    assert!(
        matches!(&o[2], Output::Stream { stderr: false, text } if text.contains("series(values: array)"))
    );
}

#[test]
fn display_with_id_then_update() {
    let (mut s, out) = session();
    s.execute("display(1, #{ id: \"p\" }); update_display(2, \"p\");")
        .unwrap();
    let o = out.lock().unwrap();
    assert!(matches!(&o[0], Output::Display { display_id: Some(id), .. } if id == "p"));
    assert!(matches!(&o[1], Output::UpdateDisplay { display_id, .. } if display_id == "p"));
}

#[test]
fn an_infinite_loop_is_interrupted_and_state_survives() {
    let (mut s, _) = session();
    s.execute("let kept = 7;").unwrap();
    let cancel = s.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        cancel.cancel();
    });
    let start = Instant::now();
    let e = s.execute("let i = 0; loop { i += 1; }").unwrap_err();
    t.join().unwrap();
    assert_eq!(e.ename, "Interrupted");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(plain(&mut s, "kept"), "7");
}

/// `sleep` pauses the cell (whole or fractional seconds) and an interrupt ends it at once, where
/// Rhai's own would hold the thread to the end.
#[test]
fn sleep_pauses_the_cell_and_an_interrupt_cuts_it_short() {
    let (mut s, _) = session();
    let start = Instant::now();
    s.execute("sleep(0.05); sleep(-1); sleep(0);").unwrap();
    assert!(start.elapsed() >= Duration::from_millis(50));
    let cancel = s.interrupt_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        cancel.cancel();
    });
    let start = Instant::now();
    let e = s.execute("sleep(30)").unwrap_err();
    t.join().unwrap();
    assert_eq!(e.ename, "Interrupted");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn pager_cells_return_help() {
    let (mut s, _) = session();
    let r = s.execute("?series").unwrap();
    assert!(r.page.unwrap().contains("series(values: array)"));
}

#[test]
fn the_sandbox_has_no_eval_and_no_file_imports() {
    let (mut s, _) = session();
    assert!(s.execute("eval(\"1\")").is_err());
    let e = s.execute("import \"/etc/passwd\" as p;").unwrap_err();
    assert!(e.ename == "ImportError", "{e}");
}

#[test]
fn a_frame_of_awkward_text_writes_standard_csv() {
    let (mut s, _) = session();
    // Inside STRATBOOK_HOME, where the sandbox lets a cell write.
    let home = std::env::temp_dir().join(format!("stratbook-session-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let path = home.join("t.csv");
    s.execute(&format!(
        r#"let t = table([#{{ a: "x\"y", b: 1 }}, #{{ a: "line\nbreak", b: 2 }}, #{{ a: "c,d", b: 3 }}]);
        t.to_csv("{}");"#,
        path.display()
    ))
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "a,b\n\"x\"\"y\",1\n\"line\nbreak\",2\n\"c,d\",3\n");
    // Cells keep the text itself, not its quoted display.
    assert_eq!(plain(&mut s, "t.column(\"a\")[0]"), "\"x\\\"y\"");
}

#[test]
fn element_wise_operations_on_series_of_different_lengths_are_errors_naming_both() {
    let (mut s, _) = session();
    s.execute("let a = series([1.0, 2.0, 3.0]); let b = series([1.0]);")
        .unwrap();
    for op in [
        "a + b",
        "a - b",
        "a * b",
        "a / b",
        "a > b",
        "a <= b",
        "a == b",
        "(a > 1) & (b > 0)",
        "(a > 1) | (b > 0)",
        "crossover(a, b)",
        "a.crossunder(b)",
        "b + a",
    ] {
        let e = s.execute(op).unwrap_err().to_string();
        let (l, r) = if op.starts_with('b') { (1, 3) } else { (3, 1) };
        assert!(
            e.contains(&format!("the left has {l} values, the right {r}")),
            "{op}: {e}"
        );
    }
    // Equal lengths still work, and a NaN stays a NaN.
    assert_eq!(
        plain(&mut s, "(a + series([1.0, 0.0/0.0, 1.0])).len()"),
        "3"
    );
    assert_eq!(
        plain(&mut s, "(a + series([1.0, 0.0/0.0, 1.0]))[1].is_nan"),
        "true"
    );
    assert_eq!(plain(&mut s, "a.len()"), "3");
}

#[test]
fn from_and_to_cut_vectorized_signals_with_the_bars() {
    let (mut s, _) = session();
    // Signals computed on the whole table, a backtest on a window of it (2025-05-20 .. 2025-05-30).
    s.execute(
        r#"let bars = klines("demo:BTC", "1h");
        let f = sma(bars.close, 10); let sl = sma(bars.close, 30);
        let entry = crossover(f, sl); let exit = crossunder(f, sl);
        let r = backtest(bars, strategy(#{ entry: entry, exit: exit }), #{ from: "2025-05-20", to: "2025-05-30", save: false });
        let start = 0; while bars.time[start] < 1747699200 { start += 1; }
        let end = start; while end < bars.len() && bars.time[end] <= 1748563200 { end += 1; }
        let by_hand = backtest(bars.head(end).tail(end - start),
            strategy(#{ entry: entry.head(end).tail(end - start), exit: exit.head(end).tail(end - start) }),
            #{ save: false });"#,
    )
    .unwrap();
    let n: usize = plain(&mut s, "r.stats.n_bars").parse().unwrap();
    assert_eq!(plain(&mut s, "end - start"), n.to_string());
    assert!(n > 100 && n < 300, "{n} bars in the window");
    assert!(plain(&mut s, "r.stats.n_trades").parse::<u64>().unwrap() > 0);
    for k in ["n_trades", "final_equity", "buy_signals"] {
        assert_eq!(
            plain(&mut s, &format!("r.stats.{k}")),
            plain(&mut s, &format!("by_hand.stats.{k}")),
            "{k}"
        );
    }
    // A window on signals of another length is still the length error.
    let e = s
        .execute(r#"backtest(bars, strategy(#{ entry: entry.tail(10) }), #{ from: "2025-05-20", save: false })"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("entry has 10 values"), "{e}");
}

#[test]
fn a_cell_function_doc_comment_of_several_lines_shows_without_markers() {
    let (mut s, _) = session();
    s.execute("/// Doubles a number.\n/// Works on floats too.\nfn double(a) { a * 2 }")
        .unwrap();
    let (_, _, doc) = s
        .script_functions()
        .into_iter()
        .find(|(n, _, _)| n == "double")
        .unwrap();
    assert_eq!(doc, "Doubles a number.\nWorks on floats too.");
    let d = s.describe("double").unwrap();
    assert!(!d.contains("///"), "{d}");
}

#[test]
fn times_format_as_utc_text() {
    let (mut s, _) = session();
    assert_eq!(
        plain(&mut s, "format_time(1622505600)"),
        "\"2021-06-01 00:00\""
    );
    assert_eq!(plain(&mut s, "format_date(1622505600.0)"), "\"2021-06-01\"");
}

#[test]
fn rhai_functions_and_keywords_complete_and_a_variable_gets_its_type_s_methods() {
    let (mut s, _) = session();
    for (prefix, want) in [
        ("prin", "print"),
        ("type_o", "type_of"),
        ("parse_i", "parse_int"),
        ("whi", "while"),
    ] {
        let c = s.complete(prefix, prefix.len());
        assert!(
            c.matches.iter().any(|m| m == want),
            "{prefix}: {:?}",
            c.matches
        );
    }
    s.execute("let xs = [1, 2, 3]; let name = \"pepe\"; let v = series([1, 2]);")
        .unwrap();
    let c = s.complete("xs.pu", 5);
    assert!(c.matches.contains(&"push".to_string()), "{:?}", c.matches);
    let c = s.complete("name.to_u", 9);
    assert_eq!(c.matches, vec!["to_upper".to_string()]);
    // A Series variable gets Series methods only, not array or string ones.
    let c = s.complete("v.", 2);
    assert!(c.matches.contains(&"shift".to_string()), "{:?}", c.matches);
    assert!(
        !c.matches
            .iter()
            .any(|m| m == "push" || m == "to_upper" || m == "trades")
    );
    // Shift-Tab on a variable: its type and value.
    let t = s.inspect("xs", 1).unwrap();
    assert!(t.starts_with("xs: array") && t.contains('3'), "{t}");
}

#[test]
fn print_and_interpolation_of_tables_show_their_text_not_the_type_name() {
    let (mut s, out) = session();
    s.execute(
        r#"let bars = klines("demo:BTC", "4h", #{ limit: 300 });
           let r = backtest(bars, std::strategies::sma_cross(bars, 5, 20), #{ save: false });
           print(r.trades.head(2));
           print(`${bars}`);
           print(r);"#,
    )
    .unwrap();
    let o = out.lock().unwrap();
    let text: String = o
        .iter()
        .filter_map(|x| match x {
            Output::Stream { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        text.contains("entry_price") && text.contains("exit_reason"),
        "{text}"
    );
    assert!(text.contains("demo:BTC"), "{text}");
    assert!(
        text.contains("n_trades") || text.contains("trades"),
        "{text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.trim() == "Frame" || l.trim() == "Bars"),
        "{text}"
    );
}

#[test]
fn error_locations_name_the_execution_count_after_help_requests() {
    let (mut s, _) = session();
    s.execute("let x = 1;").unwrap();
    s.execute("sma?").unwrap();
    let e = s.execute("x + undefined_name").unwrap_err();
    assert!(e.traceback.join("\n").contains("cell[3]"), "{e:?}");
}
