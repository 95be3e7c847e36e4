//! Benchmark (rerun with `cargo bench -p stratbook-dsl --bench script`): naive scripts and large
//! cells must cost linear time. Each case runs at n and 2n; the ratio column should stay near 2
//! (it was 6 for `push` and far more for arrays of maps and `table` while Rhai's size limits
//! re-measured whole containers on every call, and for cells of many pure statements while Rhai's
//! optimizer removed them one `Vec::remove` at a time).

use dsl::data::config::Config;
use dsl::script::Session;
use std::time::{Duration, Instant};

fn run(code: &str) -> Duration {
    let home = std::env::temp_dir();
    let mut s = Session::new(Config::for_home(home));
    let t = Instant::now();
    s.execute(code).unwrap_or_else(|e| panic!("{e}"));
    t.elapsed()
}

fn case(name: &str, n: usize, make: impl Fn(usize) -> String) {
    let a = run(&make(n));
    let b = run(&make(2 * n));
    println!(
        "{name:<40} {n:>9} {:>10.1} ms {:>10.1} ms {:>7.2}",
        a.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        b.as_secs_f64() / a.as_secs_f64()
    );
}

fn main() {
    println!(
        "{:<40} {:>9} {:>13} {:>13} {:>7}",
        "case", "n", "time(n)", "time(2n)", "ratio"
    );
    case("x.push(i) in a loop", 200_000, |n| {
        format!("let x = []; for i in 0..{n} {{ x.push(i); }} x.len()")
    });
    case("array of maps", 60_000, |n| {
        format!("let a = []; for i in 0..{n} {{ a.push(#{{ i: i, x: i * 2.0 }}); }} a.len()")
    });
    case("table of rows", 50_000, |n| {
        format!("let a = []; for i in 0..{n} {{ a.push(#{{ i: i, x: i * 2.0 }}); }} table(a).len()")
    });
    case("map by index assignment", 50_000, |n| {
        format!("let m = #{{}}; for i in 0..{n} {{ m[\"k\" + i] = i; }} m.len()")
    });
    case("string +=", 100_000, |n| {
        format!("let s = \"\"; for i in 0..{n} {{ s += \"ab\"; }} s.len()")
    });
    case("cell of pure statements (1; 2; ...)", 60_000, |n| {
        "1; 2; 3; 4;\n".repeat(n / 4)
    });
    case("cell of assignments (4 a line)", 40_000, |n| {
        format!(
            "let x = 0;\n{}",
            "x = 1; x = 2; x = 3; x = 4;\n".repeat(n / 4)
        )
    });
    case("cell of 5,000 declarations", 2_500, |n| {
        (0..n).map(|i| format!("let v{i} = {i};\n")).collect()
    });
}
