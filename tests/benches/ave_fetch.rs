//! Fetching 30 days of 1m klines (43,200 bars) from the mock AVE server: cold (44 pages over HTTP
//! into an empty cache) and cached (served from SQLite, no request). Target: cached ≤ 20 ms.
//! Also the demo feed at 1M bars. Run: `cargo bench -p stratbook-tests --bench ave_fetch`.

use dsl::data::{DataService, Hooks, Kind, KlineQuery};
use dsl::interval::Interval;
use std::time::{Duration, Instant};
use stratbook_tests::{MockAve, mock_config};

const ID: &str = "0x2222222222222222222222222222222222222222-bsc";
const MAY_1: i64 = 1_746_057_600;

fn stats(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[0]), ms(v[v.len() / 2]), ms(v[v.len() - 1]))
}

fn row(name: &str, runs: usize, bars: usize, v: Vec<Duration>) {
    let (min, med, max) = stats(v);
    println!("{name:<34} {runs:>5} {bars:>9} {min:>10.2} {med:>10.2} {max:>10.2}");
}

fn main() {
    let mock = MockAve::start();
    let q = KlineQuery {
        from: Some(MAY_1),
        to: Some(MAY_1 + 30 * 86_400 - 60),
        limit: None,
    };
    println!(
        "{:<34} {:>5} {:>9} {:>10} {:>10} {:>10}",
        "case", "runs", "bars", "min ms", "median ms", "max ms"
    );

    let mut cold = Vec::new();
    let mut homes = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().expect("temp dir");
        let svc = DataService::new(mock_config(dir.path(), &mock));
        let t = Instant::now();
        let b = svc
            .klines(ID, Kind::Token, Interval::M1, &q, Hooks::default())
            .expect("cold fetch");
        cold.push(t.elapsed());
        assert_eq!(b.len(), 43_200);
        homes.push(dir);
    }
    row("cold: 44 pages over HTTP + store", 3, 43_200, cold);

    let before = mock.requests();
    let svc = DataService::new(mock_config(homes[0].path(), &mock));
    let mut warm = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let b = svc
            .klines(ID, Kind::Token, Interval::M1, &q, Hooks::default())
            .expect("cached fetch");
        warm.push(t.elapsed());
        assert_eq!(b.len(), 43_200);
    }
    assert_eq!(
        mock.requests(),
        before,
        "cached fetches must not touch the network"
    );
    row("cached: SQLite → Bars", 20, 43_200, warm);

    let mut demo = Vec::new();
    let dq = KlineQuery {
        limit: Some(1_000_000),
        ..Default::default()
    };
    for _ in 0..3 {
        let t = Instant::now();
        let b = svc
            .klines(
                "demo:PEPE",
                Kind::Token,
                Interval::M1,
                &dq,
                Hooks::default(),
            )
            .expect("demo");
        demo.push(t.elapsed());
        assert_eq!(b.len(), 1_000_000);
    }
    row("demo feed: 1M one-minute bars", 3, 1_000_000, demo);
}
