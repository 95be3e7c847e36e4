//! Crash safety of simulations: `stratbook sim start` is killed with SIGKILL at random moments,
//! 25 times, each time resuming the same simulation. After every kill the database holds a
//! consistent prefix (one equity point per committed bar, times strictly increasing, no fill past
//! the committed bars, every fill with its signal), the simulation reads as `interrupted`, and the
//! finished run equals an uninterrupted one bar for bit: no bar lost or repeated.

use dsl::store::sim::{SimStore, SimTable};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = r#"
// parameters
let resume = 0;
let speed = 150;
let name = "crash";

let bars = klines("demo:BTC", "1h", #{ limit: 2500 });
let s = strategy(#{ entry: crossover(sma(bars.close, 10), sma(bars.close, 30)),
                    exit: crossover(sma(bars.close, 30), sma(bars.close, 10)),
                    stop_loss_pct: 3 });
let o = #{ fee_pct: 0.1, name: name };
if speed > 0 { o.speed = speed; } else { o.speed = "max"; }
if resume > 0 { o.resume = resume; }
simulate(bars, s, o).wait();
"#;

fn start(home: &Path, script: &Path, params: &[String]) -> std::process::Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stratbook"));
    c.arg("sim").arg("start").arg(script);
    for p in params {
        c.arg("-p").arg(p);
    }
    c.env("STRATBOOK_HOME", home)
        .env("STRATBOOK_OFFLINE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start stratbook sim")
}

/// xorshift64: the kill moments, reproducible from the printed seed.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn consistent(store: &SimStore, id: i64, what: &str) -> i64 {
    let [
        steps,
        points,
        _signals,
        _fills,
        _trades,
        fills_ahead,
        orphan_fills,
    ] = store.audit(id).expect("audit");
    assert_eq!(steps, points, "{what}: one equity point per committed bar");
    assert_eq!(fills_ahead, 0, "{what}: a fill past the committed bars");
    assert_eq!(orphan_fills, 0, "{what}: a fill without its signal");
    let (t, _) = store.equity(id).expect("equity");
    assert!(
        t.windows(2).all(|w| w[0] < w[1]),
        "{what}: a bar repeated or out of order"
    );
    steps
}

/// The first differing row of two columns of equal length (NaN equals NaN: NULL confidences).
fn diff(a: &dsl::store::columns::Col, b: &dsl::store::columns::Col) -> Option<String> {
    use dsl::store::columns::Col;
    let n = a.len().min(b.len());
    for i in 0..n {
        let (x, y) = match (a, b) {
            (Col::F64(a), Col::F64(b)) => (a[i].to_bits().to_string(), b[i].to_bits().to_string()),
            (Col::I64(a), Col::I64(b)) => (format!("{}", a[i]), format!("{}", b[i])),
            (Col::Str(a), Col::Str(b)) => (a[i].clone(), b[i].clone()),
            _ => return Some("types differ".into()),
        };
        if x != y {
            return Some(format!("row {i}: {x} vs {y}"));
        }
    }
    None
}

#[test]
fn killed_simulations_keep_a_consistent_prefix_and_resume_exactly() {
    let home = tempfile::tempdir().expect("home");
    let script = home.path().join("crash.rhai");
    std::fs::write(&script, SCRIPT).expect("script");
    let db = home.path().join("stratbook.sqlite");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("seed {seed}");
    let mut id = 0i64;
    let mut kills = 0;
    let mut last_steps = 0;
    let started = Instant::now();
    while kills < 25 {
        let params = vec![format!("resume={id}")];
        let mut child = start(home.path(), &script, &params);
        let wait = Duration::from_millis(150 + next(&mut seed) % 900);
        std::thread::sleep(wait);
        if let Some(st) = child.try_wait().expect("status") {
            assert!(st.success(), "run {} failed: {st}", kills + 1);
            break; // it finished before the kill
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        kills += 1;
        let Ok(store) = SimStore::open(&db) else {
            continue;
        };
        let Some(row) = store
            .list()
            .expect("list")
            .into_iter()
            .find(|r| r.name == "crash")
        else {
            continue; // killed before the simulation was registered
        };
        id = row.id;
        if row.status == "finished" {
            // It ended in the moment between the last look and the kill (the process was
            // on its way out): nothing left to resume.
            consistent(&store, id, &format!("kill {kills}"));
            break;
        }
        assert_eq!(row.status, "interrupted", "kill {kills}");
        let steps = consistent(&store, id, &format!("kill {kills}"));
        assert!(
            steps >= last_steps,
            "kill {kills}: committed bars went back"
        );
        last_steps = steps;
        assert!(started.elapsed() < Duration::from_secs(240), "too slow");
    }
    assert!(
        kills >= 20,
        "only {kills} kills before the simulation ended"
    );
    // Let it finish (unless it already has: a finished simulation does not resume), then run
    // the same simulation uninterrupted.
    let done = SimStore::open(&db)
        .expect("store")
        .get(id)
        .expect("row")
        .is_some_and(|r| r.status == "finished");
    if !done {
        let st = start(home.path(), &script, &[format!("resume={id}")])
            .wait()
            .expect("finish");
        assert!(st.success());
    }
    let st = start(
        home.path(),
        &script,
        &["speed=0".into(), "name=reference".into()],
    )
    .wait()
    .expect("reference");
    assert!(st.success());
    let store = SimStore::open(&db).expect("store");
    let rows = store.list().expect("list");
    let crash = rows.iter().find(|r| r.id == id).expect("crash row");
    // Newest first: the reference run is the last one started.
    let reference = &rows[0];
    assert_ne!(reference.id, id);
    assert_eq!(reference.name, "reference", "{rows:?}");
    assert_eq!(crash.status, "finished");
    assert_eq!(reference.status, "finished");
    let n = consistent(&store, crash.id, "finished");
    assert_eq!(n, reference.steps);
    assert_eq!(
        store.equity(crash.id).expect("equity"),
        store.equity(reference.id).expect("equity"),
        "equity after {kills} kills"
    );
    for t in [SimTable::Fills, SimTable::Trades, SimTable::Signals] {
        let a = store.table(crash.id, t).expect("table");
        let b = store.table(reference.id, t).expect("table");
        for ((name, ca), (_, cb)) in a.iter().zip(&b) {
            assert_eq!(ca.len(), cb.len(), "{t:?}.{name} rows after {kills} kills");
            assert_eq!(diff(ca, cb), None, "{t:?}.{name} after {kills} kills");
        }
        assert!(
            !a.is_empty() && a[0].1.len() > 3,
            "{t:?}: a run that trades"
        );
    }
}

const LIVE_SCRIPT: &str = r#"
// parameters
let resume = 0;
let origin = 0;
let name = "live-crash";

let o = #{ interval: "1m", warmup: 30, clock_speed: 600, clock_origin: origin, max_duration: "90m",
           fee_pct: 0.1, name: name };
if resume > 0 { o.resume = resume; }
simulate("demo:BTC", |b| strategy(#{ entry: crossover(sma(b.close, 3), sma(b.close, 8)),
                                     exit: crossover(sma(b.close, 8), sma(b.close, 3)) }), o).wait();
"#;

/// A live simulation (the demo feed on a clock 600 times faster) killed at random moments and
/// resumed each time: every kill leaves a consistent prefix, the bars that closed while it was
/// down are caught up in order on resume, and it ends equal to a run on the same clock that was
/// never killed.
#[test]
fn killed_live_simulations_resume_where_they_left_off() {
    let home = tempfile::tempdir().expect("home");
    let script = home.path().join("live.rhai");
    std::fs::write(&script, LIVE_SCRIPT).expect("script");
    let db = home.path().join("stratbook.sqlite");
    let origin = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut seed = origin.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    eprintln!("seed {seed}");
    let mut reference = start(
        home.path(),
        &script,
        &[format!("origin={origin}"), "name=reference".into()],
    );
    let mut id = 0i64;
    let mut kills = 0;
    let mut last_steps = 0;
    loop {
        let params = vec![format!("origin={origin}"), format!("resume={id}")];
        let mut child = start(home.path(), &script, &params);
        std::thread::sleep(Duration::from_millis(300 + next(&mut seed) % 700));
        if let Some(st) = child.try_wait().expect("status") {
            assert!(st.success(), "run {} failed: {st}", kills + 1);
            break;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        kills += 1;
        let Ok(store) = SimStore::open(&db) else {
            continue;
        };
        let Some(row) = store
            .list()
            .expect("list")
            .into_iter()
            .find(|r| r.name == "live-crash")
        else {
            continue;
        };
        id = row.id;
        if row.status == "finished" {
            // It ended in the moment between the last look and the kill (the process was
            // on its way out): nothing left to resume.
            consistent(&store, id, &format!("kill {kills}"));
            break;
        }
        assert_eq!(row.status, "interrupted", "kill {kills}");
        let steps = consistent(&store, id, &format!("kill {kills}"));
        assert!(
            steps >= last_steps,
            "kill {kills}: committed bars went back"
        );
        last_steps = steps;
    }
    assert!(reference.wait().expect("reference").success());
    assert!(kills >= 5, "only {kills} kills before the simulation ended");
    let store = SimStore::open(&db).expect("store");
    let rows = store.list().expect("list");
    let crash = rows.iter().find(|r| r.id == id).expect("crash row");
    let reference = rows
        .iter()
        .find(|r| r.name == "reference")
        .expect("reference row");
    assert_eq!(crash.status, "finished");
    assert_eq!(reference.status, "finished");
    let n = consistent(&store, crash.id, "finished");
    assert_eq!(n, reference.steps);
    assert!(n >= 89, "{n} bars in 90 minutes");
    assert_eq!(
        store.equity(crash.id).expect("equity"),
        store.equity(reference.id).expect("equity"),
        "equity after {kills} kills"
    );
    for t in [SimTable::Fills, SimTable::Trades, SimTable::Signals] {
        let a = store.table(crash.id, t).expect("table");
        let b = store.table(reference.id, t).expect("table");
        for ((name, ca), (_, cb)) in a.iter().zip(&b) {
            assert_eq!(ca.len(), cb.len(), "{t:?}.{name} rows after {kills} kills");
            assert_eq!(diff(ca, cb), None, "{t:?}.{name} after {kills} kills");
        }
    }
}
