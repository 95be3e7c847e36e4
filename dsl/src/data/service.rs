//! `DataService`: what scripts call. It routes `demo:` ids to the demo feed and AVE ids through
//! the cache and the client: only ranges the cache does not cover are fetched, in pages of at
//! most `page_limit` bars, and each page is stored with its coverage in one transaction.
//!
//! Ranges are in bar open times. A request without `to` runs up to now; the still-forming last
//! bar is returned but never stored (and its range never marked covered), so it is fetched again
//! next time. Offline (`STRATBOOK_OFFLINE=1`) never touches the network: a request without `to`
//! is served up to the newest cached bar, and anything missing is named in the error.

use super::cache::{Cache, Span, missing};
use super::client::{AveClient, Request, block_on};
use super::config::Config;
use super::ids::{DataId, Kind, parse_ave};
use super::resample::{bucket_end, bucket_start};
use super::{demo, wire};
use crate::bars::{Bars, Candle, Source};
use crate::cancel::Cancel;
use crate::error::{DslError, Result};
use crate::interval::Interval;
use crate::time::format_time;
use std::sync::{Arc, Mutex};

/// A klines request: times in unix seconds; `limit` caps the number of bars.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KlineQuery {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: Option<usize>,
}

/// Interrupt flag and page progress `(done, total)` for long fetches.
#[derive(Default)]
pub struct Hooks<'a> {
    pub cancel: Option<&'a Cancel>,
    pub progress: Option<&'a mut dyn FnMut(u64, u64)>,
}

pub struct DataService {
    config: Config,
    client: Mutex<Option<Arc<AveClient>>>,
    cache: Mutex<Option<Cache>>,
}

/// Bars a default request asks for.
pub const DEFAULT_LIMIT: usize = 1000;

impl DataService {
    pub fn new(config: Config) -> DataService {
        DataService {
            config,
            client: Mutex::new(None),
            cache: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// HTTP requests sent so far by this service (retries included).
    pub fn http_requests(&self) -> u64 {
        self.client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |c| c.requests_sent())
    }

    pub(crate) fn client(&self, what: &str) -> Result<Arc<AveClient>> {
        if self.config.offline {
            return Err(DslError::data(format!(
                "offline (STRATBOOK_OFFLINE=1): {what} needs the network; unset STRATBOOK_OFFLINE to fetch"
            )));
        }
        let mut c = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if c.is_none() {
            *c = Some(Arc::new(AveClient::new(&self.config)?));
        }
        Ok(c.as_ref().map(Arc::clone).expect("client set above"))
    }

    fn with_cache<T>(&self, f: impl FnOnce(&mut Cache) -> Result<T>) -> Result<T> {
        let mut guard = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(Cache::open(&self.config.cache_path())?);
        }
        f(guard.as_mut().expect("cache opened above"))
    }

    /// Klines for a token (`Kind::Token`) or pair id, or a `demo:` id.
    pub fn klines(
        &self,
        id: &str,
        kind: Kind,
        iv: Interval,
        q: &KlineQuery,
        hooks: Hooks<'_>,
    ) -> Result<Bars> {
        match DataId::parse(id)? {
            DataId::Demo(name) => {
                let candles = demo::demo_bars(&name, iv, q.from, q.to, q.limit)?;
                Bars::from_candles(&format!("demo:{name}"), iv, Source::Demo, &candles)
            }
            DataId::Ave(_) => self.ave_klines(id, kind, iv, q, hooks),
        }
    }

    fn ave_klines(
        &self,
        id: &str,
        kind: Kind,
        iv: Interval,
        q: &KlineQuery,
        mut hooks: Hooks<'_>,
    ) -> Result<Bars> {
        let wire_id = parse_ave(id)?.wire();
        let key = format!("{}:{wire_id}", kind.name());
        let m = iv.minutes();
        let step = iv.seconds();
        let now = chrono::Utc::now().timestamp();
        let n = q.limit.unwrap_or(DEFAULT_LIMIT).max(1) as i64;
        let first_at_or_after = |t: i64| {
            let b = bucket_start(iv, t);
            if b < t { bucket_end(iv, b) } else { b }
        };
        let forming = bucket_start(iv, now);
        // The last closed bar: bars up to it are final; the forming one is never stored.
        let final_hi = bucket_start(iv, forming - 1);
        let coverage = self.with_cache(|c| c.coverage(&key, m))?;
        let mut hi = match (q.to, q.from, q.limit) {
            (Some(t), _, _) => bucket_start(iv, t),
            (None, Some(f), Some(_)) => (first_at_or_after(f) + (n - 1) * step).min(forming),
            _ => forming,
        };
        if self.config.offline && q.to.is_none() {
            hi = coverage.last().map_or(hi, |s| hi.min(s.1));
        }
        let lo = match q.from {
            Some(f) => first_at_or_after(f),
            None => hi - (n - 1) * step,
        };
        if hi < lo {
            return Err(DslError::invalid(format!(
                "empty range: from {} is after to {}",
                format_time(lo),
                format_time(hi)
            )));
        }
        let todo = missing(&coverage, lo, hi, step);
        if !todo.is_empty() && self.config.offline {
            let list: Vec<String> = todo
                .iter()
                .take(3)
                .map(|(a, b)| format!("{} to {}", format_time(*a), format_time(*b)))
                .collect();
            return Err(DslError::data(format!(
                "offline (STRATBOOK_OFFLINE=1) and the cache lacks {wire_id} {iv} for {}{}; unset STRATBOOK_OFFLINE to fetch it",
                list.join(", "),
                if todo.len() > 3 {
                    format!(" and {} more ranges", todo.len() - 3)
                } else {
                    String::new()
                }
            )));
        }
        let mut live: Vec<Candle> = Vec::new();
        if !todo.is_empty() {
            let client = self.client("klines")?;
            let page = client.options().page_limit.clamp(1, 1000) as i64;
            let windows: Vec<Span> = todo
                .iter()
                .flat_map(|&(a, b)| {
                    let mut w = Vec::new();
                    let mut s = a;
                    while s <= b {
                        let e = (s + (page - 1) * step).min(b);
                        w.push((s, e));
                        s = e + step;
                    }
                    w
                })
                .collect();
            let total = windows.len() as u64;
            let path = format!("{}{wire_id}", kind.path());
            for (done, &(s, e)) in windows.iter().enumerate() {
                if let Some(c) = hooks.cancel {
                    c.check()?;
                }
                let query = vec![
                    ("interval".to_string(), m.to_string()),
                    ("from_time".to_string(), s.to_string()),
                    ("to_time".to_string(), (e + step - 1).to_string()),
                    ("limit".to_string(), page.to_string()),
                ];
                let data = block_on(client.call(&path, &Request::Get(query), hooks.cancel))?;
                let mut bars = wire::klines(&data).map_err(|why| {
                    DslError::data(format!("AVE sent malformed klines for {path}: {why}"))
                })?;
                let bars = tidy(&mut bars, s, e);
                let (done_bars, forming_bars): (Vec<Candle>, Vec<Candle>) =
                    bars.into_iter().partition(|c| c.time <= final_hi);
                live.extend(forming_bars);
                if s <= final_hi {
                    self.with_cache(|c| c.store(&key, m, step, (s, e.min(final_hi)), &done_bars))?;
                }
                if let Some(p) = hooks.progress.as_mut() {
                    p(done as u64 + 1, total);
                }
            }
        }
        let mut candles = self.with_cache(|c| c.load(&key, m, lo, hi.min(final_hi)))?;
        candles.extend(live.into_iter().filter(|c| c.time >= lo && c.time <= hi));
        if let Some(l) = q.limit {
            if q.from.is_some() && q.to.is_none() {
                candles.truncate(l);
            } else if candles.len() > l {
                candles.drain(..candles.len() - l);
            }
        }
        if candles.is_empty() {
            return Err(DslError::data(format!(
                "AVE has no {iv} klines for {wire_id} from {} to {}; check the id with search_tokens(\"SYMBOL\") or widen the range",
                format_time(lo),
                format_time(hi)
            )));
        }
        Bars::from_candles(&wire_id, iv, Source::Ave, &candles)
    }
}

/// Sorts, dedups (the later copy wins) and trims points to the window `[s, e]`: the server may
/// send more points than asked for, out of the window or repeated.
fn tidy(bars: &mut [Candle], s: i64, e: i64) -> Vec<Candle> {
    bars.sort_by_key(|c| c.time);
    let mut out: Vec<Candle> = Vec::with_capacity(bars.len());
    for c in bars.iter().filter(|c| c.time >= s && c.time <= e) {
        match out.last_mut() {
            Some(last) if last.time == c.time => *last = *c,
            _ => out.push(*c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(t: i64, v: f64) -> Candle {
        Candle {
            time: t,
            open: v,
            high: v,
            low: v,
            close: v,
            volume: v,
        }
    }

    #[test]
    fn tidy_sorts_dedups_and_trims_to_the_window() {
        let mut v = vec![c(180, 1.0), c(0, 2.0), c(60, 3.0), c(60, 4.0), c(600, 5.0)];
        let t = tidy(&mut v, 60, 300);
        assert_eq!(t.iter().map(|c| c.time).collect::<Vec<_>>(), vec![60, 180]);
        assert_eq!(t[0].close, 4.0);
    }

    #[test]
    fn demo_ids_need_no_key_and_no_network() {
        let dir = tempfile::tempdir().unwrap();
        let svc = DataService::new(Config::for_home(dir.path()));
        let q = KlineQuery {
            limit: Some(50),
            ..Default::default()
        };
        let b = svc
            .klines("demo:WIF", Kind::Token, Interval::H4, &q, Hooks::default())
            .unwrap();
        assert_eq!(b.len(), 50);
        assert!(b.source.is_synthetic());
        assert_eq!(svc.http_requests(), 0);
    }

    #[test]
    fn offline_with_an_empty_cache_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let svc = DataService::new(Config::for_home(dir.path()));
        let q = KlineQuery {
            from: Some(1_748_000_000),
            to: Some(1_748_003_600),
            limit: None,
        };
        let e = svc
            .klines("0xabc-bsc", Kind::Token, Interval::M1, &q, Hooks::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("offline") && e.contains("0xabc-bsc 1m") && e.contains("2025-05-23"),
            "{e}"
        );
    }
}
