//! `stratbook run SCRIPT.rhai` on every script in `examples/`, as a user runs them: the real binary,
//! a fresh `STRATBOOK_HOME`, offline. Each must succeed and print its numbers; a failing script
//! must exit 1 and name its line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn stratbook(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratbook"))
        .args(args)
        .env("STRATBOOK_HOME", home)
        .env("STRATBOOK_OFFLINE", "1")
        .env_remove("AVE_API_KEY")
        .output()
        .expect("run stratbook")
}

fn run_example(name: &str, extra: &[&str]) -> String {
    let home = tempfile::tempdir().expect("temp dir");
    let path = examples_dir().join(name);
    let path = path.to_str().expect("utf-8 path");
    let mut args = vec!["run", path];
    args.extend_from_slice(extra);
    let out = stratbook(&args, home.path());
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

#[test]
fn every_example_is_tested() {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .expect("examples/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".rhai"))
        .collect();
    names.sort();
    let tested = [
        "backtest.rhai",
        "bot-config.rhai",
        "fetch.rhai",
        "indicators.rhai",
        "portfolio.rhai",
        "sim.rhai",
        "sweep.rhai",
    ];
    assert_eq!(names, tested, "add a test below for each new example");
}

#[test]
fn fetch_prints_bars_and_takes_a_token_parameter() {
    let out = run_example("fetch.rhai", &[]);
    assert!(out.contains("demo:BTC: 744 hourly bars"), "{out}");
    assert!(out.contains("resampled to 31 daily bars"), "{out}");
    let eth = run_example("fetch.rhai", &["-p", "token=demo:ETH"]);
    assert!(eth.contains("demo:ETH: 744 hourly bars"), "{eth}");
}

#[test]
fn indicators_print_their_last_values() {
    let out = run_example("indicators.rhai", &[]);
    for label in [
        "ema(50)",
        "rsi(14)",
        "macd",
        "bbands",
        "atr(14)",
        "oversold below",
    ] {
        assert!(out.contains(label), "{label} missing:\n{out}");
    }
    assert!(
        !out.contains("NaN"),
        "a last value is still warming up:\n{out}"
    );
}

#[test]
fn backtest_prints_whole_trade_counts_and_the_trades() {
    let out = run_example("backtest.rhai", &[]);
    let line = out
        .lines()
        .find(|l| l.starts_with("demo:BTC: "))
        .unwrap_or_else(|| panic!("no summary line:\n{out}"));
    let n: &str = line["demo:BTC: ".len()..].split(' ').next().unwrap_or("");
    assert!(
        n.parse::<u64>().is_ok_and(|n| n > 0),
        "n_trades should print as a whole number: {line}"
    );
    assert!(out.contains("exit_reason"), "{out}");
}

#[test]
fn sweep_ranks_and_walks_forward() {
    let out = run_example("sweep.rhai", &[]);
    assert!(out.contains("walk-forward out-of-sample:"), "{out}");
    assert!(out.contains("fast") && out.contains("slow"), "{out}");
}

#[test]
fn portfolio_reports_each_token() {
    let out = run_example("portfolio.rhai", &[]);
    assert!(out.contains("portfolio: "), "{out}");
    for t in ["demo:BTC", "demo:ETH", "demo:SOL"] {
        assert!(out.contains(t), "{t} missing:\n{out}");
    }
}

#[test]
fn bot_config_counts_exits_by_reason() {
    let out = run_example("bot-config.rhai", &[]);
    assert!(
        out.contains("take-profit") && out.contains("stop-loss"),
        "{out}"
    );
}

#[test]
fn a_failing_script_exits_1_and_names_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("broken.rhai");
    std::fs::write(
        &script,
        "let x = 1;\nprint(\"before\");\nlet y = sma(x, 3);\n",
    )
    .unwrap();
    let out = stratbook(&["run", script.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("before"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.rhai, line 3"), "{err}");
}

#[test]
fn the_simulation_example_runs_to_the_end_and_lists_itself() {
    let home = tempfile::tempdir().expect("temp dir");
    let path = examples_dir().join("sim.rhai");
    let path = path.to_str().expect("utf-8 path");
    let out = stratbook(&["sim", "start", path, "-p", "speed=5000"], home.path());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("simulation 1 started"), "{text}");
    assert!(text.contains("'sma cross on demo:BTC': finished"), "{text}");
    let ls = stratbook(&["sim", "ls", "--json"], home.path());
    let v: serde_json::Value = serde_json::from_slice(&ls.stdout).expect("sim ls --json");
    assert_eq!(v[0]["status"], "finished");
    assert_eq!(v[0]["bars"], 2000);

    // Exported as CSV and as Parquet: the same tables (a Parquet file read back and written as
    // CSV is byte for byte the CSV export), the equity one point per bar.
    let csv_dir = home.path().join("csv");
    let pq_dir = home.path().join("parquet");
    for (flag, dir) in [("--csv", &csv_dir), ("--parquet", &pq_dir)] {
        let out = stratbook(
            &["sim", "export", "1", flag, dir.to_str().unwrap()],
            home.path(),
        );
        assert!(
            out.status.success(),
            "{flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&pq_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "sim-1-equity.parquet",
            "sim-1-fills.parquet",
            "sim-1-signals.parquet",
            "sim-1-trades.parquet"
        ]
    );
    for name in &names {
        let stem = name.trim_end_matches(".parquet");
        let f = dsl::frame::Frame::read_parquet_file(&pq_dir.join(name)).unwrap();
        let again = home.path().join(format!("{stem}.again.csv"));
        f.to_csv(again.to_str().unwrap()).unwrap();
        let want = std::fs::read_to_string(csv_dir.join(format!("{stem}.csv"))).unwrap();
        assert_eq!(std::fs::read_to_string(&again).unwrap(), want, "{name}");
        if stem.ends_with("equity") {
            assert_eq!(f.len(), 2000);
        }
    }
}

/// `sim show` names the open position (side, size, entry, stop, take-profit) in the text and in
/// `--json`, read from the store by a process other than the one that ran the simulation.
#[test]
fn sim_show_lists_the_open_position_with_its_stop_and_take_profit() {
    let home = tempfile::tempdir().expect("temp dir");
    let script = home.path().join("hold.rhai");
    std::fs::write(
        &script,
        r#"let bars = klines("demo:BTC", "1h", #{ limit: 100 });
let s = strategy(#{ entry: bars.close > 0.0, exit: bars.close < 0.0, stop_loss_pct: 5.0, take_profit_pct: 20.0 });
simulate(bars, s, #{ speed: "max", name: "holder" }).wait();
"#,
    )
    .unwrap();
    let out = stratbook(&["sim", "start", script.to_str().unwrap()], home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let show = stratbook(&["sim", "show", "1", "--json"], home.path());
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).expect("sim show --json");
    // The stop-loss closed two trades; the last signal is the entry still open.
    assert_eq!(v["last_trades"][0]["exit_reason"], "stop_loss", "{v}");
    let sig = v["last_signals"].as_array().expect("last_signals");
    assert_eq!(sig.last().unwrap()["action"], "buy", "{v}");
    assert_eq!(sig.last().unwrap()["token"], "demo:BTC", "{v}");
    let p = &v["positions"][0];
    assert_eq!(p["token"], "demo:BTC");
    assert_eq!(p["side"], "long");
    let (entry, stop, take) = (
        p["entry"].as_f64().unwrap(),
        p["stop"].as_f64().unwrap(),
        p["take"].as_f64().unwrap(),
    );
    assert!((stop / entry - 0.95).abs() < 1e-9, "{p}");
    assert!((take / entry - 1.2).abs() < 1e-9, "{p}");
    let text =
        String::from_utf8_lossy(&stratbook(&["sim", "show", "1"], home.path()).stdout).to_string();
    assert!(text.contains("position demo:BTC long "), "{text}");
    assert!(text.contains(" | stop "), "{text}");
}

/// A simulation that fails makes `sim start` fail (CI, systemd), with its error on stderr, and
/// what it committed before the failing bar stays in the store.
#[test]
fn sim_start_fails_when_a_simulation_fails_and_keeps_the_bars_before_it() {
    let home = tempfile::tempdir().expect("temp dir");
    let script = home.path().join("boom.rhai");
    std::fs::write(
        &script,
        r#"let bars = klines("demo:BTC", "1h", #{ limit: 800 });
let s = strategy(#{ on_bar: |ctx| { if ctx.bar_index == 500 { throw "boom at 500"; } if ctx.position == 0 { ctx.buy(); } } });
simulate(bars, s, #{ speed: "max", name: "will fail" });
"#,
    )
    .unwrap();
    let out = stratbook(&["sim", "start", script.to_str().unwrap()], home.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("simulation 1 'will fail' failed: ") && err.contains("boom at 500"),
        "{err}"
    );
    let show = stratbook(&["sim", "show", "1", "--json"], home.path());
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).expect("sim show --json");
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["bars"], 500, "the 500 bars before the failing one: {v}");
    assert_eq!(v["positions"][0]["side"], "long", "{v}");
}

/// `stratbook run` of a script that leaves a simulation running stops it with its positions
/// kept and says so, instead of ending the process under it (which reads as `interrupted`).
#[test]
fn a_headless_run_stops_the_simulations_it_leaves_running_and_says_so() {
    let home = tempfile::tempdir().expect("temp dir");
    let script = home.path().join("nowait.rhai");
    std::fs::write(
        &script,
        r#"let bars = klines("demo:BTC", "1h", #{ limit: 500 });
simulate(bars, std::strategies::sma_cross(bars, 10, 30), #{ speed: 20, name: "left running" });
"#,
    )
    .unwrap();
    let out = stratbook(&["run", script.to_str().unwrap()], home.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("simulation(s) [1] still running when the run ended"),
        "{err}"
    );
    let show = stratbook(&["sim", "show", "1", "--json"], home.path());
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).expect("sim show --json");
    assert_eq!(v["status"], "stopped", "{v}");
    assert_eq!(v["reason"], "stopped, positions kept", "{v}");
}
