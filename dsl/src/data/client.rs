//! The AVE Cloud HTTP client: auth header, client-side rate limiting per plan, bounded retries with
//! backoff (honouring `Retry-After`), and faults turned into short errors that name the endpoint
//! path and the fix. The key goes into the `X-API-KEY` header and nowhere else: error text never
//! carries headers or URLs, and server messages are scrubbed of the key before they are quoted.
//!
//! The script engine is synchronous, so the data layer keeps one lazily created tokio runtime
//! ([`block_on`]) and drives the async client from there.

use super::config::{ApiKey, ClientOptions, Config};
use super::wire;
use crate::cancel::Cancel;
use crate::error::{DslError, Result};
use serde_json::Value;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The data layer's tokio runtime, created on first use.
fn tokio_rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("stratbook-data")
            .enable_all()
            .build()
            .expect("the data layer's tokio runtime starts")
    })
}

/// Runs a future to completion on the data runtime. Safe to call from a thread that is itself
/// inside a tokio runtime: the wait then happens on a scoped helper thread.
pub fn block_on<F>(f: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(|| tokio_rt().block_on(f))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    } else {
        tokio_rt().block_on(f)
    }
}

/// A request: `GET path?query` or `POST path` with a JSON body.
#[derive(Clone, Debug)]
pub enum Request {
    Get(Vec<(String, String)>),
    Post(Value),
}

pub struct AveClient {
    http: reqwest::Client,
    base: String,
    key: Option<ApiKey>,
    opts: ClientOptions,
    min_gap: Duration,
    next_slot: Mutex<Instant>,
    sent: AtomicU64,
}

enum Fault {
    /// Worth another attempt after `wait` (None: the usual backoff).
    Retry { why: String, wait: Option<Duration> },
    /// Final.
    Fail(DslError),
}

impl AveClient {
    pub fn new(cfg: &Config) -> Result<AveClient> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(cfg.client.timeout)
            .connect_timeout(cfg.client.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("stratbook/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry X-API-KEY to wherever it points: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| DslError::data("cannot start the HTTP client (TLS setup failed)"))?;
        let rps = cfg.requests_per_second().max(0.001);
        Ok(AveClient {
            http,
            base: cfg.api_base.trim_end_matches('/').to_string(),
            key: cfg.api_key.clone(),
            opts: cfg.client.clone(),
            min_gap: Duration::from_secs_f64(1.0 / rps),
            next_slot: Mutex::new(Instant::now()),
            sent: AtomicU64::new(0),
        })
    }

    /// HTTP requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// Sends a request and returns the envelope's `data`, retrying what is worth retrying.
    pub async fn call(&self, path: &str, req: &Request, cancel: Option<&Cancel>) -> Result<Value> {
        let Some(key) = self.key.as_ref() else {
            return Err(DslError::data(
                "no AVE API key; set AVE_API_KEY (keys at https://cloud.ave.ai/register), \
                 or use the demo feed: klines(\"demo:PEPE\", \"1h\")",
            ));
        };
        let mut attempt = 0u32;
        loop {
            check(cancel)?;
            self.pace(cancel).await?;
            match self.attempt(path, req, key).await {
                Ok(v) => return Ok(v),
                Err(Fault::Fail(e)) => return Err(e),
                Err(Fault::Retry { why, wait }) => {
                    if attempt >= self.opts.max_retries {
                        return Err(DslError::data(format!(
                            "AVE request {path} failed after {} attempts: {why}",
                            attempt + 1
                        )));
                    }
                    let backoff = self
                        .opts
                        .backoff
                        .saturating_mul(1u32 << attempt.min(16))
                        .min(self.opts.max_wait);
                    sleep(
                        wait.unwrap_or(backoff)
                            .max(backoff.min(Duration::from_millis(1))),
                        cancel,
                    )
                    .await?;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, path: &str, req: &Request, key: &ApiKey) -> Result<Value, Fault> {
        let url = format!("{}{}", self.base, path);
        let builder = match req {
            Request::Get(q) => self.http.get(&url).query(q),
            Request::Post(body) => self.http.post(&url).json(body),
        };
        self.sent.fetch_add(1, Ordering::Relaxed);
        let resp = builder
            .header("X-API-KEY", key.expose())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| self.transport(&e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        if (300..400).contains(&status) {
            let to = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| reqwest::Url::parse(l).ok())
                .map(|u| format!(" to {}", u.origin().ascii_serialization()))
                .unwrap_or_default();
            return Err(Fault::Fail(DslError::data(format!(
                "AVE answered {path} with a redirect (HTTP {status}{to}); the API key is never sent \
                 across a redirect: set AVE_API_BASE to the address that answers"
            ))));
        }
        let text = self.read_body(resp).await?;
        let body: Option<Value> = serde_json::from_str(&text).ok();
        let server_msg = body
            .as_ref()
            .and_then(|b| b.get("msg"))
            .and_then(Value::as_str)
            .map(|m| self.scrub(m))
            .unwrap_or_default();
        let low = server_msg.to_ascii_lowercase();
        match status {
            200..=299 => {}
            401 => return Err(Fault::Fail(auth_error())),
            403 if low.contains("permission") || low.contains("denied") || low.contains("auth") => {
                return Err(Fault::Fail(auth_error()));
            }
            402 | 403 | 429 => return self.throttled(path, status, retry_after),
            404 => return Err(Fault::Fail(not_found(path))),
            400..=499 => {
                return Err(Fault::Fail(DslError::data(format!(
                    "AVE rejected the request {path} (HTTP {status}{}); check the id, interval and options",
                    if server_msg.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", short(&server_msg))
                    }
                ))));
            }
            _ => {
                return Err(Fault::Retry {
                    why: format!("server error {status}"),
                    wait: retry_after.filter(|w| *w <= self.opts.max_wait),
                });
            }
        }
        let Some(body) = body else {
            return Err(Fault::Retry {
                why: "malformed JSON in the answer".into(),
                wait: None,
            });
        };
        match wire::unwrap_envelope(body) {
            Ok(data) => {
                if wire::says_not_found(&data) || (data.is_null() && low.contains("not found")) {
                    Err(Fault::Fail(not_found(path)))
                } else {
                    Ok(data)
                }
            }
            Err(msg) => {
                let msg = self.scrub(&msg);
                let l = msg.to_ascii_lowercase();
                if l.contains("not found") {
                    Err(Fault::Fail(not_found(path)))
                } else if l.contains("permission")
                    || l.contains("api key")
                    || l.contains("unauthorized")
                {
                    Err(Fault::Fail(auth_error()))
                } else if l.contains("limit") {
                    self.throttled(path, 200, retry_after)
                } else {
                    Err(Fault::Fail(DslError::data(format!(
                        "AVE answered {path} with an error: {}",
                        short(&msg)
                    ))))
                }
            }
        }
    }

    fn throttled(
        &self,
        path: &str,
        status: u16,
        retry_after: Option<Duration>,
    ) -> Result<Value, Fault> {
        let what = if status == 402 { "quota" } else { "rate limit" };
        if let Some(w) = retry_after.filter(|w| *w > self.opts.max_wait) {
            return Err(Fault::Fail(DslError::data(format!(
                "AVE {what} reached on {path} (retry after {} s); wait and run again, or upgrade the plan (AVE_API_PLAN)",
                w.as_secs()
            ))));
        }
        Err(Fault::Retry {
            why: format!(
                "AVE {what} reached (HTTP {status}); wait and run again, or set AVE_API_PLAN to your plan"
            ),
            wait: retry_after,
        })
    }

    /// The answer's body, refusing one larger than `max_body_bytes` before reading it whole.
    async fn read_body(&self, mut resp: reqwest::Response) -> Result<String, Fault> {
        let cap = self.opts.max_body_bytes;
        let too_big = || {
            Fault::Fail(DslError::data(format!(
                "AVE's answer is larger than {} MiB; ask for a shorter window (from/to, limit)",
                cap >> 20
            )))
        };
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_big());
        }
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(&e))? {
            if buf.len() + chunk.len() > cap {
                return Err(too_big());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    fn transport(&self, e: &reqwest::Error) -> Fault {
        let why = if e.is_timeout() {
            format!("timed out after {:.1} s", self.opts.timeout.as_secs_f64())
        } else if e.is_connect() {
            format!("cannot connect to {}", self.base)
        } else if e.is_body() || e.is_decode() {
            "the answer was cut short".to_string()
        } else {
            "the connection failed".to_string()
        };
        Fault::Retry { why, wait: None }
    }

    /// Waits for the next request slot (client-side rate limit).
    async fn pace(&self, cancel: Option<&Cancel>) -> Result<()> {
        let wait = {
            let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + self.min_gap;
            at - now
        };
        if !wait.is_zero() {
            sleep(wait, cancel).await?;
        }
        Ok(())
    }

    /// Removes the key from text that came from the server, in case it echoes it.
    fn scrub(&self, s: &str) -> String {
        match &self.key {
            Some(k) if !k.expose().is_empty() => s.replace(k.expose(), "***"),
            _ => s.to_string(),
        }
    }
}

fn auth_error() -> DslError {
    DslError::data(
        "AVE rejected the API key; check AVE_API_KEY (keys at https://cloud.ave.ai/register)",
    )
}

fn not_found(path: &str) -> DslError {
    DslError::data(format!(
        "not found on AVE: {path}; check the id (\"<address>-<chain>\") with search_tokens(\"SYMBOL\")"
    ))
}

fn short(s: &str) -> String {
    // Python-style error bodies start with "<class '...'> : "; keep the human part.
    let s = s.rsplit_once("> : ").map_or(s, |(_, m)| m).trim();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(159).collect::<String>())
    } else {
        s.to_string()
    }
}

fn check(cancel: Option<&Cancel>) -> Result<()> {
    cancel.map_or(Ok(()), Cancel::check)
}

/// Sleeps in small steps so an interrupt cuts a long wait short.
async fn sleep(d: Duration, cancel: Option<&Cancel>) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        check(cancel)?;
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        tokio::time::sleep(left.min(Duration::from_millis(50))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_style_messages_keep_the_human_part() {
        assert_eq!(
            short("<class 'openapi.error.NotFoundError'> : Not found any matched results"),
            "Not found any matched results"
        );
    }

    #[test]
    fn block_on_works_from_inside_another_tokio_runtime() {
        let other = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let v = other.block_on(async { block_on(async { 41 + 1 }) });
        assert_eq!(v, 42);
    }

    #[test]
    fn a_missing_key_fails_before_any_request() {
        let cfg = Config::for_mock("/tmp/none", "http://127.0.0.1:9", None);
        let c = AveClient::new(&cfg).unwrap();
        let e = block_on(c.call("/v2/supported_chains", &Request::Get(vec![]), None)).unwrap_err();
        assert!(e.to_string().contains("AVE_API_KEY"), "{e}");
        assert_eq!(c.requests_sent(), 0);
    }

    #[test]
    fn the_rate_limiter_spaces_requests_by_plan() {
        let mut cfg = Config::for_mock("/tmp/none", "http://127.0.0.1:9", Some("k"));
        cfg.client.rps = Some(50.0);
        let c = AveClient::new(&cfg).unwrap();
        let t = Instant::now();
        block_on(async {
            for _ in 0..6 {
                c.pace(None).await.unwrap();
            }
        });
        // 6 slots at 20 ms apart: the last starts ≥ 100 ms after the first.
        assert!(
            t.elapsed() >= Duration::from_millis(95),
            "{:?}",
            t.elapsed()
        );
    }
}
