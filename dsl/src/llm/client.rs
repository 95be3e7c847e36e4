//! The Anthropic Messages client: `POST {base}/v1/messages` with `x-api-key` and
//! `anthropic-version`, client-side pacing (requests per minute), bounded retries with backoff that
//! honour `Retry-After` on 429 (rate limited) and 529 (overloaded), a whole-request timeout, no
//! redirects, a cap on the answer's size, and an interrupt that cuts any wait short.
//!
//! The key goes into the `x-api-key` header and nowhere else: error text never carries headers or
//! URLs with credentials, and messages quoted from the server are scrubbed of the key.

use super::config::{ANTHROPIC_VERSION, LlmConfig};
use crate::cancel::Cancel;
use crate::data::client::block_on;
use crate::error::{DslError, Result};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Who speaks a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// One request to the model. `model: None` uses the config's model.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub system: String,
    pub messages: Vec<Message>,
    pub max_tokens: u32,
    pub model: Option<String>,
    /// `None` leaves the API's default.
    pub temperature: Option<f64>,
}

impl Request {
    /// A system prompt and one user message.
    pub fn user(system: impl Into<String>, prompt: impl Into<String>, max_tokens: u32) -> Request {
        Request {
            system: system.into(),
            messages: vec![Message::user(prompt)],
            max_tokens,
            model: None,
            temperature: None,
        }
    }

    /// The JSON body the Messages API takes.
    pub fn body(&self, model: &str) -> Value {
        let mut body = json!({
            "model": model,
            "max_tokens": self.max_tokens.max(1),
            "messages": self.messages.iter().map(|m| json!({
                "role": m.role.as_str(),
                "content": m.content,
            })).collect::<Vec<_>>(),
        });
        if !self.system.is_empty() {
            body["system"] = Value::String(self.system.clone());
        }
        if let Some(t) = self.temperature {
            body["temperature"] = json!(t);
        }
        body
    }
}

/// The model's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The `text` blocks of `content`, joined.
    pub text: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The model that answered (as the API reports it).
    pub model: String,
    /// `end_turn`, `max_tokens`, `stop_sequence`, … (empty when the API gave none).
    pub stop_reason: String,
    /// Wall time of the successful attempt (pacing and retries excluded).
    pub latency: Duration,
}

/// A Messages API client. Cheap to share (`&Client` across threads); one per session is the intent,
/// so the rate limit spans every caller.
pub struct Client {
    http: reqwest::Client,
    cfg: LlmConfig,
    min_gap: Duration,
    next_slot: Mutex<Instant>,
    sent: AtomicU64,
}

enum Fault {
    /// Worth another attempt after `wait` (None: the usual backoff).
    Retry {
        why: String,
        wait: Option<Duration>,
    },
    Fail(DslError),
}

impl Client {
    pub fn new(cfg: LlmConfig) -> Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("stratbook/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry x-api-key to wherever it points: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| DslError::data("cannot start the HTTP client (TLS setup failed)"))?;
        let rpm = if cfg.requests_per_minute.is_finite() && cfg.requests_per_minute > 0.0 {
            cfg.requests_per_minute
        } else {
            50.0
        };
        Ok(Client {
            http,
            min_gap: Duration::from_secs_f64(60.0 / rpm),
            next_slot: Mutex::new(Instant::now()),
            sent: AtomicU64::new(0),
            cfg,
        })
    }

    /// The process's client for `cfg`: one per distinct config, so every caller with the same
    /// settings (every backtest of a session, `%ai`) shares one rate limit.
    pub fn shared(cfg: &LlmConfig) -> Result<Arc<Client>> {
        static CLIENTS: OnceLock<Mutex<Vec<Arc<Client>>>> = OnceLock::new();
        let mut all = CLIENTS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(c) = all.iter().find(|c| c.cfg == *cfg) {
            return Ok(c.clone());
        }
        let c = Arc::new(Client::new(cfg.clone())?);
        all.push(c.clone());
        Ok(c)
    }

    pub fn config(&self) -> &LlmConfig {
        &self.cfg
    }

    /// The model a request goes to: its own, else the config's.
    pub fn model_for<'a>(&'a self, req: &'a Request) -> &'a str {
        req.model
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(&self.cfg.model)
    }

    /// HTTP requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Asks the model, blocking until it answers, fails for good, or `cancel` is set.
    pub fn complete(&self, req: &Request, cancel: &Cancel) -> Result<Response> {
        block_on(self.complete_async(req, cancel))
    }

    /// [`Client::complete`] for callers already inside async code.
    pub async fn complete_async(&self, req: &Request, cancel: &Cancel) -> Result<Response> {
        if self.cfg.api_key.is_none() {
            return Err(DslError::data(
                "no LLM API key; set STRATBOOK_LLM_API_KEY (or ANTHROPIC_API_KEY) to an Anthropic \
                 key, and STRATBOOK_LLM_BASE_URL for an Anthropic-compatible server",
            ));
        }
        if req.messages.is_empty() {
            return Err(DslError::invalid(
                "an LLM request needs at least one message",
            ));
        }
        let model = self.model_for(req).to_string();
        let body = req.body(&model);
        let mut attempt = 0u32;
        loop {
            cancel.check()?;
            self.pace(cancel).await?;
            match self.attempt(&body).await {
                Ok(r) => return Ok(r),
                Err(Fault::Fail(e)) => return Err(e),
                Err(Fault::Retry { why, wait }) => {
                    if attempt >= self.cfg.max_retries {
                        return Err(DslError::data(format!(
                            "the model did not answer after {} attempts: {why}",
                            attempt + 1
                        )));
                    }
                    let backoff = self
                        .cfg
                        .backoff
                        .saturating_mul(1u32 << attempt.min(16))
                        .min(self.cfg.max_wait);
                    sleep(wait.unwrap_or(backoff), cancel).await?;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, body: &Value) -> Result<Response, Fault> {
        let key = self.cfg.api_key.as_ref().map(|k| k.expose()).unwrap_or("");
        let url = format!("{}/v1/messages", self.cfg.base_url);
        self.sent.fetch_add(1, Ordering::Relaxed);
        let t0 = Instant::now();
        let resp = self
            .http
            .post(&url)
            .header("x-api-key", key)
            .header("anthropic-version", ANTHROPIC_VERSION)
            .header("content-type", "application/json")
            .json(body)
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
            return Err(Fault::Fail(DslError::data(format!(
                "the LLM server answered with a redirect (HTTP {status}); the key is never sent \
                 across a redirect: set STRATBOOK_LLM_BASE_URL to the address that answers"
            ))));
        }
        let text = self.read_body(resp).await?;
        let latency = t0.elapsed();
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if !(200..300).contains(&status) {
            return Err(self.api_error(status, json.as_ref(), retry_after));
        }
        let Some(json) = json else {
            return Err(Fault::Retry {
                why: "the answer was not JSON".into(),
                wait: None,
            });
        };
        parse_response(&json, latency).map_err(|why| Fault::Fail(DslError::data(why)))
    }

    /// An HTTP error status, with the server's `{"type":"error","error":{type,message}}` quoted.
    fn api_error(&self, status: u16, json: Option<&Value>, retry_after: Option<Duration>) -> Fault {
        let err = json.and_then(|j| j.get("error"));
        let etype = err
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let msg = err
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(|m| short(&self.scrub(m)))
            .unwrap_or_default();
        let said = if msg.is_empty() {
            String::new()
        } else {
            format!(": {msg}")
        };
        match status {
            401 => Fault::Fail(DslError::data(
                "the LLM server rejected the API key (HTTP 401); check STRATBOOK_LLM_API_KEY \
                 (or ANTHROPIC_API_KEY)",
            )),
            403 => Fault::Fail(DslError::data(format!(
                "the LLM server refused the request (HTTP 403 {etype}){said}; check the key's permissions"
            ))),
            429 | 529 => {
                let what = if status == 429 {
                    "rate limited"
                } else {
                    "overloaded"
                };
                if let Some(w) = retry_after.filter(|w| *w > self.cfg.max_wait) {
                    return Fault::Fail(DslError::data(format!(
                        "the LLM server is {what} (HTTP {status}, retry after {} s); wait and run \
                         again, or lower STRATBOOK_LLM_RPM",
                        w.as_secs()
                    )));
                }
                Fault::Retry {
                    why: format!("the LLM server is {what} (HTTP {status}){said}"),
                    wait: retry_after,
                }
            }
            400..=499 => Fault::Fail(DslError::data(format!(
                "the LLM server rejected the request (HTTP {status} {etype}){said}; check the model \
                 name (STRATBOOK_LLM_MODEL) and max_tokens"
            ))),
            _ => Fault::Retry {
                why: format!("server error {status}{said}"),
                wait: retry_after.filter(|w| *w <= self.cfg.max_wait),
            },
        }
    }

    async fn read_body(&self, mut resp: reqwest::Response) -> Result<String, Fault> {
        let cap = self.cfg.max_body_bytes;
        let too_big = || {
            Fault::Fail(DslError::data(format!(
                "the LLM answer is larger than {} KiB; lower max_tokens",
                cap >> 10
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
            format!("timed out after {:.1} s", self.cfg.timeout.as_secs_f64())
        } else if e.is_connect() {
            format!("cannot connect to {}", self.cfg.base_url)
        } else if e.is_body() || e.is_decode() {
            "the answer was cut short".to_string()
        } else {
            "the connection failed".to_string()
        };
        Fault::Retry { why, wait: None }
    }

    /// Waits for the next request slot (client-side requests-per-minute limit).
    async fn pace(&self, cancel: &Cancel) -> Result<()> {
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
        match &self.cfg.api_key {
            Some(k) if !k.expose().is_empty() => s.replace(k.expose(), "***"),
            _ => s.to_string(),
        }
    }
}

/// Reads a Messages API success body: `content[].text`, `usage`, `model`, `stop_reason`.
pub fn parse_response(json: &Value, latency: Duration) -> Result<Response, String> {
    let Some(content) = json.get("content").and_then(Value::as_array) else {
        return Err(
            "the LLM answer has no `content` array (is the base URL an Anthropic Messages API?)"
                .into(),
        );
    };
    let text = content
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("");
    let usage = json.get("usage");
    let tokens = |k: &str| {
        usage
            .and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Ok(Response {
        text,
        input_tokens: tokens("input_tokens"),
        output_tokens: tokens("output_tokens"),
        model: json
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        stop_reason: json
            .get("stop_reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        latency,
    })
}

fn short(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(199).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Sleeps in small steps so an interrupt cuts a long wait short.
async fn sleep(d: Duration, cancel: &Cancel) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        cancel.check()?;
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
    fn a_missing_key_fails_before_any_request_and_says_what_to_set() {
        let c = Client::new(LlmConfig::for_mock("http://127.0.0.1:9", None)).unwrap();
        let e = c
            .complete(&Request::user("", "hi", 10), &Cancel::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("STRATBOOK_LLM_API_KEY") && e.contains("ANTHROPIC_API_KEY"),
            "{e}"
        );
        assert_eq!(c.requests_sent(), 0);
    }

    #[test]
    fn the_body_is_the_messages_api_shape() {
        let mut r = Request::user("be brief", "hello", 64);
        r.messages.push(Message::assistant("hi"));
        let b = r.body("m1");
        assert_eq!(b["model"], "m1");
        assert_eq!(b["max_tokens"], 64);
        assert_eq!(b["system"], "be brief");
        assert_eq!(b["messages"][0]["role"], "user");
        assert_eq!(b["messages"][1]["role"], "assistant");
        assert!(b.get("temperature").is_none());
    }

    #[test]
    fn text_blocks_are_joined_and_usage_read() {
        let j = json!({"type":"message","model":"m","stop_reason":"end_turn",
            "content":[{"type":"text","text":"a"},{"type":"tool_use","id":"x","input":{}},{"type":"text","text":"b"}],
            "usage":{"input_tokens":12,"output_tokens":3}});
        let r = parse_response(&j, Duration::ZERO).unwrap();
        assert_eq!(
            (r.text.as_str(), r.input_tokens, r.output_tokens),
            ("ab", 12, 3)
        );
        assert_eq!(r.stop_reason, "end_turn");
        assert!(parse_response(&json!({"x":1}), Duration::ZERO).is_err());
    }

    #[test]
    fn the_rate_limit_spaces_requests_per_minute() {
        let mut cfg = LlmConfig::for_mock("http://127.0.0.1:9", Some("k"));
        cfg.requests_per_minute = 3000.0; // one per 20 ms
        let c = Client::new(cfg).unwrap();
        let t = Instant::now();
        block_on(async {
            for _ in 0..6 {
                c.pace(&Cancel::new()).await.unwrap();
            }
        });
        assert!(
            t.elapsed() >= Duration::from_millis(95),
            "{:?}",
            t.elapsed()
        );
    }
}
