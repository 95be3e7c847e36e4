//! The kline cache end to end: a 30-day 1m fetch (44 pages), a refetch with zero HTTP requests,
//! the same range offline, offline errors naming what is missing, and two writers sharing the file.

use dsl::data::cache::Cache;
use dsl::data::{DataService, Hooks, Kind, KlineQuery};
use dsl::interval::Interval;
use dsl::script::Session;
use std::sync::{Arc, Mutex};
use stratbook_tests::{MockAve, mock_config};

const ID: &str = "6p6xgHyF7AeE6TZkSmFsko444wqoP15icUSqi2jfGiPN-solana";
/// 2025-05-01 00:00 UTC.
const MAY_1: i64 = 1_746_057_600;
const THIRTY_DAYS: i64 = 30 * 86_400;

fn thirty_days() -> KlineQuery {
    KlineQuery {
        from: Some(MAY_1),
        to: Some(MAY_1 + THIRTY_DAYS - 60),
        limit: None,
    }
}

#[test]
fn thirty_days_of_minutes_fetch_once_then_come_from_the_cache_then_offline() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = mock_config(dir.path(), &mock);
    let svc = DataService::new(cfg.clone());
    let mut pages = Vec::new();
    let mut progress = |done: u64, total: u64| pages.push((done, total));
    let hooks = Hooks {
        cancel: None,
        progress: Some(&mut progress),
    };
    let cold = svc
        .klines(ID, Kind::Token, Interval::M1, &thirty_days(), hooks)
        .unwrap();
    assert_eq!(cold.len(), 43_200);
    assert!(cold.gaps.is_empty());
    assert!(mock.requests() >= 44, "{} requests", mock.requests());
    assert_eq!(pages.len(), 44);
    assert_eq!(pages.last(), Some(&(44, 44)));
    let cache = Cache::open(&cfg.cache_path()).unwrap();
    assert_eq!(cache.count(&format!("token:{ID}"), 1).unwrap(), 43_200);
    assert_eq!(
        cache.coverage(&format!("token:{ID}"), 1).unwrap(),
        vec![(MAY_1, MAY_1 + THIRTY_DAYS - 60)]
    );

    mock.reset_requests();
    let warm = DataService::new(cfg.clone())
        .klines(
            ID,
            Kind::Token,
            Interval::M1,
            &thirty_days(),
            Hooks::default(),
        )
        .unwrap();
    assert_eq!(mock.requests(), 0, "a covered range makes no HTTP request");
    assert_eq!(warm.time, cold.time);
    assert_eq!(warm.close, cold.close);
    assert_eq!(warm.volume, cold.volume);

    let mut offline = cfg.clone();
    offline.offline = true;
    offline.api_base = "http://127.0.0.1:9".into(); // nothing listens there
    let off = DataService::new(offline.clone());
    let b = off
        .klines(
            ID,
            Kind::Token,
            Interval::M1,
            &thirty_days(),
            Hooks::default(),
        )
        .unwrap();
    assert_eq!(b.len(), 43_200);
    assert_eq!(b.close, cold.close);
    // Without `to`, offline serves the newest cached bars.
    let latest = off
        .klines(
            ID,
            Kind::Token,
            Interval::M1,
            &KlineQuery {
                limit: Some(100),
                ..Default::default()
            },
            Hooks::default(),
        )
        .unwrap();
    assert_eq!(latest.len(), 100);
    assert_eq!(latest.time.last(), cold.time.last());
    // From a notebook cell, with STRATBOOK_OFFLINE's config.
    let mut s = Session::new(offline);
    let v = s
        .execute(&format!(r#"let b = klines("{ID}", "1m", #{{ from: "2025-05-01", to: "2025-05-30 23:59" }}); b.len()"#))
        .unwrap();
    assert_eq!(v.value.unwrap().plain(), Some("43200"));
    assert_eq!(mock.requests(), 0);
}

#[test]
fn offline_names_the_missing_range() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = mock_config(dir.path(), &mock);
    let q = KlineQuery {
        from: Some(MAY_1),
        to: Some(MAY_1 + 3600),
        limit: None,
    };
    DataService::new(cfg.clone())
        .klines(ID, Kind::Token, Interval::M1, &q, Hooks::default())
        .unwrap();
    let mut off = cfg;
    off.offline = true;
    let wider = KlineQuery {
        from: Some(MAY_1),
        to: Some(MAY_1 + 7200),
        limit: None,
    };
    let e = DataService::new(off)
        .klines(ID, Kind::Token, Interval::M1, &wider, Hooks::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("offline")
            && e.contains("2025-05-01 01:01 to 2025-05-01 02:00")
            && e.contains("STRATBOOK_OFFLINE"),
        "{e}"
    );
    assert_eq!(mock.requests(), 1);
}

#[test]
fn two_writers_share_one_cache_file() {
    let mock = Arc::new(MockAve::start());
    let dir = tempfile::tempdir().unwrap();
    let cfg = mock_config(dir.path(), &mock);
    let errors = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..3)
        .map(|k| {
            let (cfg, errors) = (cfg.clone(), errors.clone());
            std::thread::spawn(move || {
                // Each thread has its own service, so its own SQLite connection, like a second process.
                let svc = DataService::new(cfg);
                let id = format!("0x{k:040x}-eth");
                let q = KlineQuery {
                    from: Some(MAY_1),
                    to: Some(MAY_1 + 3 * 86_400 - 60),
                    limit: None,
                };
                if let Err(e) = svc.klines(&id, Kind::Token, Interval::M1, &q, Hooks::default()) {
                    errors.lock().unwrap().push(e.to_string());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
    let cache = Cache::open(&cfg.cache_path()).unwrap();
    for k in 0..3 {
        assert_eq!(
            cache.count(&format!("token:0x{k:040x}-eth"), 1).unwrap(),
            3 * 1440
        );
    }
}

#[test]
fn long_fetches_from_a_cell_show_progress_that_finishes() {
    let mock = MockAve::start();
    let dir = tempfile::tempdir().unwrap();
    let outputs = Arc::new(Mutex::new(Vec::new()));
    let mut s = Session::new(mock_config(dir.path(), &mock));
    let sink = outputs.clone();
    s.set_sink(move |o| sink.lock().unwrap().push(o));
    let r = s
        .execute(&format!(
            r#"klines("{ID}", "1m", #{{ from: "2025-05-01", to: "2025-05-03 23:59" }}).len()"#
        ))
        .unwrap();
    assert_eq!(r.value.unwrap().plain(), Some("4320"));
    let outs = outputs.lock().unwrap();
    let first = outs.iter().find_map(|o| match o {
        dsl::display::Output::Display {
            bundle,
            display_id: Some(id),
        } => Some((bundle.plain().unwrap_or("").to_string(), id.clone())),
        _ => None,
    });
    let (text, id) = first.expect("a progress display");
    assert!(text.contains(&format!("fetching {ID} 1m")), "{text}");
    let last = outs.iter().rev().find_map(|o| match o {
        dsl::display::Output::UpdateDisplay { bundle, display_id } if *display_id == id => {
            bundle.plain().map(String::from)
        }
        _ => None,
    });
    assert!(last.expect("progress updates").contains("5/5 done"));
}
