//! A mock Anthropic Messages API on 127.0.0.1 (axum): `POST /v1/messages` checks `x-api-key` and
//! `anthropic-version`, records every request, and answers from a script: first the queued
//! [`Reply`]s in order, then a responder function (by default a fixed text). Replies cover the
//! wire format's faults: 401, 429 and 529 with `retry-after`, a hang, a malformed body.
//!
//! For Python tests (the `mock-llm` binary) the script is also reachable over HTTP:
//! `POST /_mock/replies` with a JSON array of replies (`{"text": …}`, `{"status": 529, "type":
//! "overloaded_error", "message": …, "retry_after": 1}`, `{"hang_ms": 2000}`, `{"malformed": true}`)
//! appends to the queue, `GET /_mock/requests` returns the recorded requests (bodies only: the key
//! is never echoed), `POST /_mock/reset` clears both.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The key the mock accepts unless started with another.
pub const MOCK_LLM_KEY: &str = "sk-ant-mock-5e8c1f-do-not-leak";

/// One scripted answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// A 200 with one text block (tokens: a quarter of the characters, at least 1).
    Text(String),
    /// A 200 with this whole body.
    Body(Value),
    /// An API error `{"type":"error","error":{"type":…, "message":…}}` with this status, and
    /// `retry-after: secs` when given.
    Error {
        status: u16,
        etype: String,
        message: String,
        retry_after: Option<u64>,
    },
    /// Wait this long, then answer with the responder (a client with a shorter timeout gives up).
    Hang(Duration),
    /// A 200 whose body is not JSON.
    Malformed,
}

impl Reply {
    pub fn text(t: impl Into<String>) -> Reply {
        Reply::Text(t.into())
    }
    /// 529 `overloaded_error`.
    pub fn overloaded(retry_after: Option<u64>) -> Reply {
        Reply::Error {
            status: 529,
            etype: "overloaded_error".into(),
            message: "Overloaded".into(),
            retry_after,
        }
    }
    /// 429 `rate_limit_error`.
    pub fn rate_limited(retry_after: Option<u64>) -> Reply {
        Reply::Error {
            status: 429,
            etype: "rate_limit_error".into(),
            message: "Number of request tokens has exceeded your per-minute rate limit".into(),
            retry_after,
        }
    }
    /// 401 `authentication_error`.
    pub fn unauthorized() -> Reply {
        Reply::Error {
            status: 401,
            etype: "authentication_error".into(),
            message: "invalid x-api-key".into(),
            retry_after: None,
        }
    }

    /// The JSON form used by `POST /_mock/replies`.
    pub fn from_json(v: &Value) -> Option<Reply> {
        if let Some(t) = v.get("text").and_then(Value::as_str) {
            return Some(Reply::text(t));
        }
        if let Some(b) = v.get("body") {
            return Some(Reply::Body(b.clone()));
        }
        if let Some(ms) = v.get("hang_ms").and_then(Value::as_u64) {
            return Some(Reply::Hang(Duration::from_millis(ms)));
        }
        if v.get("malformed").and_then(Value::as_bool) == Some(true) {
            return Some(Reply::Malformed);
        }
        let status = v.get("status").and_then(Value::as_u64)? as u16;
        Some(Reply::Error {
            status,
            etype: v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("api_error")
                .into(),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error")
                .into(),
            retry_after: v.get("retry_after").and_then(Value::as_u64),
        })
    }
}

/// A request as the mock saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The JSON body (model, max_tokens, system, messages).
    pub body: Value,
    /// Whether `x-api-key` matched the mock's key.
    pub key_ok: bool,
    /// The `anthropic-version` header, if any.
    pub version: Option<String>,
}

impl Recorded {
    pub fn system(&self) -> &str {
        self.body["system"].as_str().unwrap_or("")
    }
    /// The last message's text.
    pub fn prompt(&self) -> &str {
        self.body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or("")
    }
    pub fn model(&self) -> &str {
        self.body["model"].as_str().unwrap_or("")
    }
}

/// Computes an answer from a request body when no reply is queued.
pub type Responder = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

struct St {
    key: String,
    requests: AtomicU64,
    recorded: Mutex<Vec<Recorded>>,
    queue: Mutex<VecDeque<Reply>>,
    responder: Mutex<Responder>,
}

/// A running mock. Dropping it stops the server.
pub struct MockLlm {
    addr: SocketAddr,
    st: Arc<St>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MockLlm {
    /// Starts on 127.0.0.1 with an OS-chosen port and [`MOCK_LLM_KEY`].
    pub fn start() -> MockLlm {
        MockLlm::start_on(MOCK_LLM_KEY, 0).expect("the mock LLM server starts")
    }

    pub fn start_on(key: &str, port: u16) -> std::io::Result<MockLlm> {
        let st = Arc::new(St {
            key: key.to_string(),
            requests: AtomicU64::new(0),
            recorded: Mutex::new(Vec::new()),
            queue: Mutex::new(VecDeque::new()),
            responder: Mutex::new(Arc::new(|_: &Value| Reply::text("mock answer"))),
        });
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new().fallback(handle).with_state(st.clone());
        std::thread::Builder::new()
            .name("mock-llm".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("mock runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("mock listener");
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = stopped => {}
                    }
                });
                rt.shutdown_background();
            })?;
        Ok(MockLlm {
            addr,
            st,
            stop: Some(stop),
        })
    }

    /// `http://127.0.0.1:PORT`, for `STRATBOOK_LLM_BASE_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a reply for the next request (replies are used in order, before the responder).
    pub fn push(&self, r: Reply) {
        lock(&self.st.queue).push_back(r);
    }

    /// Replies still queued.
    pub fn pending(&self) -> usize {
        lock(&self.st.queue).len()
    }

    /// Sets the function that answers when no reply is queued (a scripted agent, say).
    pub fn respond_with(&self, f: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        *lock(&self.st.responder) = Arc::new(f);
    }

    /// Requests to `/v1/messages` so far (rejected ones included).
    pub fn requests(&self) -> u64 {
        self.st.requests.load(Ordering::SeqCst)
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.st.recorded).clone()
    }

    /// Forgets recorded requests and queued replies.
    pub fn reset(&self) {
        self.st.requests.store(0, Ordering::SeqCst);
        lock(&self.st.recorded).clear();
        lock(&self.st.queue).clear();
    }
}

impl Drop for MockLlm {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn error_body(etype: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": etype, "message": message}})
}

fn tokens(s: &str) -> u64 {
    (s.chars().count() as u64 / 4).max(1)
}

/// A success body as the Messages API sends it.
pub fn message_body(model: &str, text: &str, input_tokens: u64) -> Value {
    json!({
        "id": "msg_mock",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": tokens(text)},
    })
}

async fn handle(
    State(st): State<Arc<St>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    match (method.as_str(), path) {
        ("POST", "/_mock/replies") => {
            let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&body) else {
                return (StatusCode::BAD_REQUEST, "expected a JSON array").into_response();
            };
            let replies: Option<Vec<Reply>> = items.iter().map(Reply::from_json).collect();
            let Some(replies) = replies else {
                return (StatusCode::BAD_REQUEST, "unknown reply shape").into_response();
            };
            lock(&st.queue).extend(replies);
            return StatusCode::NO_CONTENT.into_response();
        }
        ("GET", "/_mock/requests") => {
            let list: Vec<Value> = lock(&st.recorded)
                .iter()
                .map(|r| json!({"body": r.body, "key_ok": r.key_ok, "version": r.version}))
                .collect();
            return axum::Json(Value::Array(list)).into_response();
        }
        ("POST", "/_mock/reset") => {
            st.requests.store(0, Ordering::SeqCst);
            lock(&st.recorded).clear();
            lock(&st.queue).clear();
            return StatusCode::NO_CONTENT.into_response();
        }
        ("POST", "/v1/messages") => {}
        _ => {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(error_body("not_found_error", "Not found")),
            )
                .into_response();
        }
    }
    st.requests.fetch_add(1, Ordering::SeqCst);
    let key_ok = headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(st.key.as_str());
    let version = headers
        .get("anthropic-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    lock(&st.recorded).push(Recorded {
        body: req.clone(),
        key_ok,
        version: version.clone(),
    });
    if !key_ok {
        return answer(Reply::unauthorized(), &req);
    }
    if version.is_none() {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(error_body(
                "invalid_request_error",
                "anthropic-version: header is required",
            )),
        )
            .into_response();
    }
    if req["model"].as_str().is_none() || req["max_tokens"].as_u64().is_none() {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(error_body(
                "invalid_request_error",
                "model and max_tokens are required",
            )),
        )
            .into_response();
    }
    let mut reply = lock(&st.queue).pop_front();
    if let Some(Reply::Hang(d)) = reply {
        tokio::time::sleep(d).await;
        reply = None;
    }
    let reply = reply.unwrap_or_else(|| {
        let f = lock(&st.responder).clone();
        f(&req)
    });
    answer(reply, &req)
}

fn answer(reply: Reply, req: &Value) -> Response {
    let model = req["model"].as_str().unwrap_or("mock");
    match reply {
        Reply::Text(t) => {
            let input = tokens(&req.to_string());
            axum::Json(message_body(model, &t, input)).into_response()
        }
        Reply::Body(b) => axum::Json(b).into_response(),
        Reply::Error {
            status,
            etype,
            message,
            retry_after,
        } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = (code, axum::Json(error_body(&etype, &message))).into_response();
            if let Some(s) = retry_after {
                r.headers_mut().insert("retry-after", HeaderValue::from(s));
            }
            r
        }
        Reply::Hang(_) => axum::Json(message_body(model, "late", 1)).into_response(),
        Reply::Malformed => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"type\":\"message\",\"content\":[{\"type\":\"te",
        )
            .into_response(),
    }
}

/// A scripted trading agent for `llm_decide` prompts (the `mock-llm --agent rsi` responder, and
/// the source of the gallery's cached answers): reads the last `rsi14` value and the position
/// from the prompt; flat and RSI below 40 → buy 50 % with a 4 % stop and an 8 % target; long and
/// RSI above 60 → close; otherwise hold. Not a model: a rule that answers in the model's format.
pub fn rsi_agent(req: &Value) -> Reply {
    let p = req["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let rsi = p
        .lines()
        .find_map(|l| l.strip_prefix("rsi14: "))
        .and_then(|vals| vals.rsplit(", ").next())
        .and_then(|v| v.trim().parse::<f64>().ok());
    let flat = p.contains("position: flat");
    let (action, conf, why) = match rsi {
        Some(r) if flat && r < 40.0 => (
            "buy",
            0.7,
            format!("RSI {r:.1} is low while flat: buy the dip"),
        ),
        Some(r) if !flat && r > 60.0 => ("close", 0.65, format!("RSI {r:.1} is high: take profit")),
        Some(r) => ("hold", 0.5, format!("RSI {r:.1}: no edge")),
        None => ("hold", 0.0, "no rsi14 in the prompt".to_string()),
    };
    Reply::text(format!(
        "```json\n{{\"action\": \"{action}\", \"size_pct\": 50, \"leverage\": 1, \"stop_loss_pct\": 4, \"take_profit_pct\": 8, \"confidence\": {conf}, \"reasoning\": \"{why}\"}}\n```"
    ))
}
