//! Hostile and careless cells against a Session: each stops with a clear error, and the session
//! (and a variable set before) survives. The same cases run through the real kernel in
//! `kernel/tests/hostile.rs`.

use dsl::data::config::Config;
use dsl::script::Session;

// As in the `stratbook` binary: the budget counts allocations, checked after every operation
// (without it, the resident size is read every 1024 operations: too late for `s += s`).
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

fn session() -> (Session, tempfile::TempDir) {
    dsl::memory::set_probe(|| ALLOCATOR.allocated());
    let home = tempfile::tempdir().unwrap();
    let mut s = Session::new(Config::for_home(home.path()));
    s.execute("let before = 41;").unwrap();
    (s, home)
}

fn still_alive(s: &mut Session) {
    let v = s.execute("before + 1").unwrap().value.unwrap();
    assert_eq!(v.plain(), Some("42"));
}

/// A budget this far above what the process holds now.
fn budget_above_now(s: &Session, extra: u64) {
    s.runtime().budget.set_limit(dsl::memory::in_use() + extra);
}

#[test]
fn index_assignment_cannot_grow_a_map_past_the_memory_budget() {
    let (mut s, _h) = session();
    budget_above_now(&s, 96 << 20);
    let e = s
        .execute(r#"let m = #{}; let i = 0; loop { m["k" + i] = i; i += 1; }"#)
        .unwrap_err();
    assert_eq!(e.ename, "MemoryError", "{e}");
    assert!(e.evalue.contains("STRATBOOK_MAX_MEMORY"), "{e}");
    // The cell's own variables are gone (they held the memory); earlier ones stay.
    assert!(s.variable("m").is_none());
    still_alive(&mut s);
}

#[test]
fn every_container_path_is_bounded_by_the_budget() {
    for cell in [
        r#"let s = "x"; loop { s += s; }"#,
        "let a = [1]; loop { a += a; }",
        "let a = []; loop { a.push([1, 2, 3, 4, 5, 6, 7, 8]); }",
        "let a = [[]]; loop { a[0].push(1.0); }",
        r#"let m = #{ inner: #{} }; let i = 0; loop { m.inner["k" + i] = i; i += 1; }"#,
        r#"let s = ""; loop { s += "abcdefghijklmnopqrstuvwxyz"; }"#,
        "let b = blob(); loop { b.push(1); b += b; }",
        // One operation that asks for it all at once is refused before it allocates.
        "let a = []; a.pad(2000000000, 0);",
        "let s = \"\"; s.pad(2000000000000, \"ab\");",
        "let b = blob(100000000000);",
    ] {
        let (mut s, _h) = session();
        budget_above_now(&s, 96 << 20);
        let e = s.execute(cell).unwrap_err();
        assert_eq!(e.ename, "MemoryError", "{cell}: {e}");
        still_alive(&mut s);
    }
}

#[test]
fn a_cell_that_frees_memory_can_run_after_one_that_filled_it() {
    let (mut s, _h) = session();
    s.execute("let big = []; for i in 0..200000 { big.push(i); }")
        .unwrap();
    // A budget below what the session already holds: the next cell still gets room to work.
    s.runtime().budget.set_limit(1);
    s.execute("big = (); let small = [1, 2, 3];").unwrap();
    still_alive(&mut s);
}

#[test]
fn naive_loops_over_containers_work_at_size() {
    // Once quadratic (every call re-measured the whole array); the bench is
    // `cargo bench -p stratbook-dsl --bench script`.
    let (mut s, _h) = session();
    let v = s
        .execute("let x = []; for i in 0..200000 { x.push(i); } let m = []; for i in 0..20000 { m.push(#{ i: i }); } [x.len(), m.len(), table(m).len()]")
        .unwrap()
        .value
        .unwrap();
    assert_eq!(v.plain(), Some("[200000, 20000, 20000]"));
}

#[test]
fn recursion_bombs_stop_at_the_call_limit() {
    let (mut s, _h) = session();
    for cell in [
        "fn f(n) { f(n + 1) } f(0)",
        "fn a(n) { b(n) } fn b(n) { a(n) } a(0)",
        "let f = |n| n; let g = 0; fn r(x) { r([x]) } r(1)",
    ] {
        let e = s.execute(cell).unwrap_err();
        assert_eq!(e.ename, "LimitError", "{cell}: {e}");
        assert!(e.evalue.contains("call stack"), "{e}");
    }
    let e = s.execute(&format!("{}1{}", "(".repeat(5000), ")".repeat(5000)));
    assert!(e.is_err());
    still_alive(&mut s);
}

#[test]
fn a_syntax_error_past_line_65535_is_a_limit_error_not_a_wrong_line() {
    let (mut s, _h) = session();
    let mut code = "let x = 0;\n".repeat(80_000);
    code.push_str("x = = 1;\n");
    let e = s.execute(&code).unwrap_err();
    assert_eq!(e.ename, "LimitError", "{e}");
    assert!(
        e.evalue.contains("80001 lines") && e.evalue.contains("65535"),
        "{e}"
    );
    // Below the limit the true line is reported.
    let mut code = "x = 1;\n".repeat(60_000);
    code.insert_str(0, "let x = 0;\n");
    code.push_str("x = = 1;\n");
    let e = s.execute(&code).unwrap_err();
    assert_eq!(e.line, Some(60_002), "{e}");
    still_alive(&mut s);
}

#[test]
fn huge_cells_are_refused_at_once_and_large_ones_parse() {
    let (mut s, _h) = session();
    // The 6 MB cell of 1.25M statements that once held the kernel for minutes.
    let six = "x=1;\n".repeat(1_250_000);
    let e = s.execute(&six).unwrap_err();
    assert_eq!(e.ename, "LimitError", "{e}");
    assert!(e.evalue.contains("1024 KB"), "{e}");
    // 10,000 declarations are fine, 10,001 are refused with the limit named.
    let lets: String = (0..10_000).map(|i| format!("let v{i} = {i};\n")).collect();
    s.execute(&lets).unwrap();
    let e = s.execute(&format!("{lets}let one_more = 1;")).unwrap_err();
    assert!(e.evalue.contains("at most 10000"), "{e}");
    // Just under 1 MB of pure statements (once quadratic in Rhai's optimizer) runs.
    let many = "1; 2; 3; 4; 5; 6; 7;\n".repeat(45_000);
    assert!(many.len() < 1 << 20);
    s.execute(&many).unwrap();
    still_alive(&mut s);
}

#[test]
fn a_huge_optimize_grid_is_refused_naming_its_size_and_the_limit() {
    let (mut s, _h) = session();
    // 150 × 150 × 150: once an allocation abort of the whole process.
    let e = s
        .execute(
            r#"let bars = klines("demo:BTC", "1h", #{ limit: 200 });
            let v = []; for i in 1..151 { v.push(i); }
            optimize(bars, |p| strategy(#{ entry: bars.close > sma(bars.close, p.a), exit: bars.close < sma(bars.close, p.b) }),
                #{ a: v, b: v, c: v })"#,
        )
        .unwrap_err();
    assert!(
        e.evalue.contains("3375000") && e.evalue.contains("100000"),
        "{e}"
    );
    // A grid at the limit's edge is made lazily: a 2-parameter grid still ranks in order.
    let v = s
        .execute(
            r#"let bars = klines("demo:BTC", "1h", #{ limit: 200 });
            let f = optimize(bars, |p| strategy(#{ entry: crossover(sma(bars.close, p.a), sma(bars.close, p.b)), exit: crossunder(sma(bars.close, p.a), sma(bars.close, p.b)) }),
                #{ a: [3, 5, 8], b: [20, 30] }, #{ metric: "total_return_pct" });
            [f.len(), f.column("a").len()]"#,
        )
        .unwrap()
        .value
        .unwrap();
    assert_eq!(v.plain(), Some("[6, 6]"));
    still_alive(&mut s);
}
