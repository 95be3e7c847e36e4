//! The AVE client against the mock server: quirks, every fault path, and the cache after each.

use dsl::cancel::Cancel;
use dsl::data::cache::Cache;
use dsl::data::config::Config;
use dsl::data::{DataService, Hooks, Kind, KlineQuery};
use dsl::interval::Interval;
use std::time::{Duration, Instant};
use stratbook_tests::{Fault, MockAve, mock_config};

const ID: &str = "0xAbCdEf0000000000000000000000000000000001-bsc";
const WIRE: &str = "0xabcdef0000000000000000000000000000000001-bsc";
/// 2025-05-10 00:00 UTC and two hours later: 121 one-minute bars, one page.
const FROM: i64 = 1_746_835_200;
const TO: i64 = FROM + 7200;

fn q(from: i64, to: i64) -> KlineQuery {
    KlineQuery {
        from: Some(from),
        to: Some(to),
        limit: None,
    }
}

fn fetch(svc: &DataService, from: i64, to: i64) -> dsl::Result<dsl::Bars> {
    svc.klines(
        ID,
        Kind::Token,
        Interval::M1,
        &q(from, to),
        Hooks::default(),
    )
}

struct Env {
    mock: MockAve,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            mock: MockAve::start(),
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn config(&self) -> Config {
        mock_config(self.dir.path(), &self.mock)
    }
    fn svc(&self) -> DataService {
        DataService::new(self.config())
    }
    fn cache(&self) -> Cache {
        Cache::open(&self.config().cache_path()).unwrap()
    }
    fn cached_rows(&self) -> i64 {
        self.cache().count(&format!("token:{WIRE}"), 1).unwrap()
    }
}

#[test]
fn klines_are_trimmed_deduped_ascending_and_cached() {
    let env = Env::new();
    let svc = env.svc();
    let b = fetch(&svc, FROM, TO).unwrap();
    // The mock sends 3 points before from_time beyond the limit: trimmed away.
    assert_eq!(b.len(), 121);
    assert_eq!(b.time[0], FROM);
    assert_eq!(*b.time.last().unwrap(), TO);
    assert!(b.time.windows(2).all(|w| w[1] - w[0] == 60));
    assert_eq!(&*b.id, WIRE);
    assert_eq!(env.mock.requests(), 1);
    let log = env.mock.request_log();
    assert!(
        log[0].contains(&format!("/v2/klines/token/{WIRE}?"))
            && log[0].contains("interval=1")
            && log[0].contains("limit=1000"),
        "{log:?}"
    );
    assert_eq!(env.cached_rows(), 121);
    assert_eq!(
        env.cache().coverage(&format!("token:{WIRE}"), 1).unwrap(),
        vec![(FROM, TO)]
    );
    // A sub-range is served from the cache.
    let sub = fetch(&svc, FROM + 600, FROM + 1200).unwrap();
    assert_eq!(sub.len(), 11);
    assert_eq!(sub.close.values()[0], b.close.values()[10]);
    assert_eq!(env.mock.requests(), 1);
}

#[test]
fn gaps_are_reported_not_filled_and_not_refetched() {
    let env = Env::new();
    env.mock.set_gap_every(9);
    let svc = env.svc();
    let b = fetch(&svc, FROM, TO).unwrap();
    assert!(
        b.len() < 121 && !b.gaps.is_empty(),
        "{} bars, {} gaps",
        b.len(),
        b.gaps.len()
    );
    let missing: i64 = b.gaps.iter().map(|g| g.1).sum();
    assert_eq!(
        b.len() as i64 + missing + (b.time[0] - FROM) / 60 + (TO - b.time.last().unwrap()) / 60,
        121
    );
    let again = fetch(&svc, FROM, TO).unwrap();
    assert_eq!(again.gaps, b.gaps);
    assert_eq!(
        env.mock.requests(),
        1,
        "a gap in trading must not force a refetch"
    );
}

#[test]
fn a_wrong_key_is_rejected_without_retries_and_nothing_is_cached() {
    let env = Env::new();
    let mut cfg = env.config();
    cfg.api_key = Some(dsl::data::config::ApiKey::new("wrong-key-123"));
    let svc = DataService::new(cfg);
    let e = fetch(&svc, FROM, TO).unwrap_err().to_string();
    assert!(e.starts_with("AVE rejected the API key"), "{e}");
    assert!(!e.contains("wrong-key-123"));
    assert_eq!(env.mock.requests(), 1);
    assert_eq!(env.cached_rows(), 0);
    assert!(
        env.cache()
            .coverage(&format!("token:{WIRE}"), 1)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn throttling_is_retried_honouring_retry_after() {
    let env = Env::new();
    env.mock.push_fault(Fault::limit_403(None));
    env.mock.push_fault(Fault::status(429, Some(1)));
    let t = Instant::now();
    let b = fetch(&env.svc(), FROM, TO).unwrap();
    assert_eq!(b.len(), 121);
    assert_eq!(env.mock.requests(), 3);
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured: {:?}",
        t.elapsed()
    );
    assert_eq!(env.cached_rows(), 121);
}

#[test]
fn persistent_throttling_gives_up_after_bounded_retries() {
    let env = Env::new();
    for _ in 0..10 {
        env.mock.push_fault(Fault::status(402, None));
    }
    let e = fetch(&env.svc(), FROM, TO).unwrap_err().to_string();
    assert!(
        e.contains("failed after 4 attempts")
            && e.contains("quota")
            && e.contains(&format!("/v2/klines/token/{WIRE}")),
        "{e}"
    );
    assert_eq!(env.mock.requests(), 4);
    assert_eq!(env.cached_rows(), 0);
}

#[test]
fn a_retry_after_beyond_the_bound_fails_at_once() {
    let env = Env::new();
    env.mock.push_fault(Fault::status(429, Some(3600)));
    let e = fetch(&env.svc(), FROM, TO).unwrap_err().to_string();
    assert!(e.contains("retry after 3600 s"), "{e}");
    assert_eq!(env.mock.requests(), 1);
}

#[test]
fn unknown_tokens_suggest_search_tokens() {
    let env = Env::new();
    let svc = env.svc();
    let q = q(FROM, TO);
    let e = svc
        .klines(
            "0xunknown01-bsc",
            Kind::Token,
            Interval::M1,
            &q,
            Hooks::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not found") && e.contains("search_tokens"),
        "{e}"
    );
    env.mock.push_fault(Fault::NotFoundSuccess);
    let e = fetch(&svc, FROM, TO).unwrap_err().to_string();
    assert!(
        e.contains("not found") && e.contains("search_tokens"),
        "{e}"
    );
    assert_eq!(env.mock.requests(), 2);
    assert_eq!(env.cached_rows(), 0);
}

#[test]
fn server_errors_hangs_and_truncated_json_are_retried() {
    let env = Env::new();
    let mut cfg = env.config();
    cfg.client.timeout = Duration::from_millis(400);
    let svc = DataService::new(cfg);
    env.mock.push_fault(Fault::status(500, None));
    env.mock.push_fault(Fault::Hang(Duration::from_secs(2)));
    env.mock.push_fault(Fault::Truncated);
    let b = fetch(&svc, FROM, TO).unwrap();
    assert_eq!(b.len(), 121);
    assert_eq!(env.mock.requests(), 4);
    assert_eq!(env.cached_rows(), 121);
}

#[test]
fn persistent_server_errors_name_the_endpoint() {
    let env = Env::new();
    for _ in 0..4 {
        env.mock.push_fault(Fault::status(500, None));
    }
    let e = fetch(&env.svc(), FROM, TO).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "AVE request /v2/klines/token/{WIRE} failed after 4 attempts: server error 500"
        )),
        "{e}"
    );
    assert!(
        !e.contains("127.0.0.1") && !e.contains("from_time"),
        "errors carry the path only: {e}"
    );
    for _ in 0..4 {
        env.mock.push_fault(Fault::Truncated);
    }
    let e = fetch(&env.svc(), FROM, TO).unwrap_err().to_string();
    assert!(e.contains("malformed JSON"), "{e}");
    assert_eq!(env.cached_rows(), 0);
}

#[test]
fn the_older_envelope_gives_the_same_bars() {
    let env = Env::new();
    let a = fetch(&env.svc(), FROM, TO).unwrap();
    let env2 = Env::new();
    env2.mock.push_fault(Fault::OldEnvelope);
    let b = fetch(&env2.svc(), FROM, TO).unwrap();
    assert_eq!(a.time, b.time);
    assert_eq!(a.close, b.close);
}

#[test]
fn a_failed_page_keeps_earlier_pages_and_only_the_rest_is_refetched() {
    let env = Env::new();
    let to = FROM + 4999 * 60; // 5000 bars: 5 pages
    let svc = env.svc();
    let mut pages = 0;
    let mut progress = |done: u64, total: u64| {
        pages = done;
        assert_eq!(total, 5);
        if done == 2 {
            // Page 3 fails for good: 4 attempts.
            for _ in 0..4 {
                env.mock.push_fault(Fault::status(503, None));
            }
        }
    };
    let hooks = Hooks {
        cancel: None,
        progress: Some(&mut progress),
    };
    let e = svc
        .klines(ID, Kind::Token, Interval::M1, &q(FROM, to), hooks)
        .unwrap_err();
    assert!(e.to_string().contains("server error 503"), "{e}");
    assert_eq!(pages, 2);
    assert_eq!(env.cached_rows(), 2000);
    assert_eq!(
        env.cache().coverage(&format!("token:{WIRE}"), 1).unwrap(),
        vec![(FROM, FROM + 1999 * 60)]
    );
    env.mock.reset_requests();
    let b = fetch(&svc, FROM, to).unwrap();
    assert_eq!(b.len(), 5000);
    assert_eq!(
        env.mock.requests(),
        3,
        "only the 3 missing pages are fetched"
    );
}

#[test]
fn an_interrupt_stops_a_long_fetch_between_pages() {
    let env = Env::new();
    let cancel = Cancel::new();
    let svc = env.svc();
    let mut progress = |done: u64, _total: u64| {
        if done == 1 {
            cancel.cancel();
        }
    };
    let hooks = Hooks {
        cancel: Some(&cancel),
        progress: Some(&mut progress),
    };
    let e = svc
        .klines(
            ID,
            Kind::Token,
            Interval::M1,
            &q(FROM, FROM + 4999 * 60),
            hooks,
        )
        .unwrap_err();
    assert!(matches!(e, dsl::DslError::Interrupted), "{e}");
    assert_eq!(env.mock.requests(), 1);
    assert_eq!(env.cached_rows(), 1000);
}

#[test]
fn now_ranges_never_cache_the_forming_bar() {
    let env = Env::new();
    let svc = env.svc();
    let q = KlineQuery {
        from: None,
        to: None,
        limit: Some(30),
    };
    let b = svc
        .klines(ID, Kind::Token, Interval::M5, &q, Hooks::default())
        .unwrap();
    assert_eq!(b.len(), 30);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let forming = now - now % 300;
    assert!(*b.time.last().unwrap() >= forming - 300);
    let cov = env.cache().coverage(&format!("token:{WIRE}"), 5).unwrap();
    assert!(
        cov.len() == 1 && cov[0].1 < forming,
        "{cov:?} vs forming {forming}"
    );
    let rows = env
        .cache()
        .load(&format!("token:{WIRE}"), 5, 0, i64::MAX)
        .unwrap();
    assert!(rows.iter().all(|c| c.time < forming));
    env.mock.reset_requests();
    svc.klines(ID, Kind::Token, Interval::M5, &q, Hooks::default())
        .unwrap();
    assert_eq!(env.mock.requests(), 1, "only the open end is fetched again");
}

#[test]
fn pair_klines_use_the_pair_endpoint_and_their_own_cache_key() {
    let env = Env::new();
    let svc = env.svc();
    let pair = "9d9mb8kooFfaD3SctgZtkxQypkshx6ezhbKio89ixyy2-solana";
    let b = svc
        .klines(
            pair,
            Kind::Pair,
            Interval::M15,
            &q(FROM, TO),
            Hooks::default(),
        )
        .unwrap();
    assert_eq!(b.len(), 9);
    assert!(env.mock.request_log()[0].contains(&format!("/v2/klines/pair/{pair}?")));
    assert_eq!(env.cache().count(&format!("pair:{pair}"), 15).unwrap(), 9);
}

#[test]
fn prices_are_chunked_keep_low_tvl_tokens_and_report_missing_ids() {
    let env = Env::new();
    let svc = env.svc();
    let mut ids: Vec<String> = (0..450).map(|i| format!("0x{i:040x}-bsc")).collect();
    ids.push("0xlowtvl00000000000000000000000000000000-bsc".into());
    ids.push("0xunknown0000000000000000000000000000000-eth".into());
    ids.push("demo:PEPE".into());
    let p = svc.prices(&ids, None).unwrap();
    assert_eq!(
        env.mock.requests(),
        3,
        "452 AVE ids go in 3 requests of at most 200"
    );
    assert_eq!(p.found.len(), 452);
    assert_eq!(
        p.missing,
        vec!["0xunknown0000000000000000000000000000000-eth".to_string()]
    );
    let low = p
        .found
        .iter()
        .find(|(id, _)| id.contains("lowtvl"))
        .unwrap();
    assert_eq!(low.1.tvl, 50.0);
    assert!(
        p.found
            .iter()
            .all(|(_, x)| x.price > 0.0 && x.updated_at > 0)
    );
    env.mock.push_fault(Fault::OldEnvelope);
    let old = svc.prices(&ids[..2], None).unwrap();
    assert_eq!(old.found.len(), 2);
    assert!(old.found[0].1.price > 0.0 && old.found[0].1.tvl.is_nan());
}

#[test]
fn search_detail_and_chains() {
    let env = Env::new();
    let svc = env.svc();
    let found = svc.search_tokens("pepe", None).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].symbol, "PEPE");
    assert!(
        found[0].price > 0.0,
        "a price sent as a JSON number is read"
    );
    assert!(found[1].token_id.ends_with("-solana"));
    let (t, pairs) = svc.token(&found[0].token_id, None).unwrap();
    assert_eq!(t.token_id, found[0].token_id);
    assert_eq!(pairs.len(), 1);
    let e = svc.token("0xunknown-bsc", None).unwrap_err().to_string();
    assert!(e.contains("search_tokens"), "{e}");
    let chains = svc.chains(None).unwrap();
    assert!(
        chains
            .iter()
            .any(|c| c["chain"] == "solana" && c["case_sensitive"] == true)
    );
}

#[test]
fn a_redirect_is_never_followed_so_the_key_stays_home() {
    let env = Env::new();
    // Another origin that would record whatever reaches it, key included.
    let elsewhere = stratbook_tests::MockAve::start();
    env.mock.push_fault(Fault::Redirect(format!(
        "{}/v2/klines/token/{WIRE}",
        elsewhere.url()
    )));
    let e = fetch(&env.svc(), FROM, TO).unwrap_err().to_string();
    assert!(e.contains("redirect (HTTP 302 to http://127.0.0.1:"), "{e}");
    assert!(e.contains("AVE_API_BASE"), "{e}");
    assert!(!e.contains(stratbook_tests::MOCK_KEY), "{e}");
    assert_eq!(elsewhere.requests(), 0, "the redirect was followed");
    assert_eq!(env.mock.requests(), 1, "a redirect is final, not retried");
}

#[test]
fn an_oversized_answer_fails_without_being_read_whole() {
    let env = Env::new();
    let mut cfg = env.config();
    cfg.client.max_body_bytes = 1 << 20;
    env.mock.push_fault(Fault::Huge(3 << 20));
    let e = fetch(&DataService::new(cfg), FROM, TO)
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than 1 MiB"), "{e}");
    assert_eq!(env.cached_rows(), 0);
}
