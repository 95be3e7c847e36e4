//! A mock AVE Cloud data API on 127.0.0.1 (axum), speaking the documented wire format with its
//! quirks (shared/ave-api.md): numbers as strings, more kline points than `limit`, trading gaps,
//! the `tvl_min` filter on prices, 401 for a missing or wrong `X-API-KEY`. Faults are scripted per
//! request: throttling (403/429/402 with `Retry-After`), 500, a hang, truncated JSON, the older
//! envelope, `SUCCESS: token not found`.
//!
//! Prices come from the same deterministic generator as the demo feed, seeded by the id, so any
//! id has history at any time. Ids containing `unknown` are not found; ids containing `lowtvl`
//! have a TVL of 50 (filtered out unless `tvl_min` is 0).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use dsl::data::demo::{Synth, hash_str};
use dsl::interval::Interval;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod ws;

/// The key the mock accepts unless started with another.
pub const MOCK_KEY: &str = "mock-key-7f3a9c2e-do-not-leak";

/// A scripted misbehaviour, applied to one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and body (and `Retry-After: secs` when given).
    Status {
        code: u16,
        body: Value,
        retry_after: Option<u64>,
    },
    /// Wait this long before answering normally.
    Hang(Duration),
    /// A 200 whose JSON body is cut in half.
    Truncated,
    /// Success in the older shapes: `{code, msg, data}` for klines (with `to_time` in ms), a bare
    /// map for prices.
    OldEnvelope,
    /// `{"status":1,"msg":"SUCCESS: token not found","data":null}`.
    NotFoundSuccess,
    /// `302 Found` with this `Location`.
    Redirect(String),
    /// A 200 whose body is this many bytes of JSON whitespace around `{}`.
    Huge(usize),
}

impl Fault {
    /// AVE's documented throttle answer: 403 "The limit of this API has been reached".
    pub fn limit_403(retry_after: Option<u64>) -> Fault {
        Fault::Status {
            code: 403,
            body: json!({"code": 1, "msg": "<class 'openapi.error.ForbiddenError'> : The limit of this API has been reached today", "data": {}}),
            retry_after,
        }
    }
    pub fn status(code: u16, retry_after: Option<u64>) -> Fault {
        Fault::Status {
            code,
            body: json!({"code": 2, "msg": "<class 'decimal.InvalidOperation'> : Unknown error, check logs for more information", "data": {}}),
            retry_after,
        }
    }
}

struct St {
    key: String,
    requests: AtomicU64,
    log: Mutex<Vec<String>>,
    faults: Mutex<VecDeque<(String, Fault)>>,
    extra_points: AtomicBool,
    gap_every: AtomicU64,
    /// (origin, speed): the mock's time is `origin + (wall - origin) * speed` (see `set_clock`).
    clock: Mutex<Option<(f64, f64)>>,
    /// The WebSocket endpoint's faults and counts.
    ws: Mutex<ws::Knobs>,
    stop: AtomicBool,
}

impl St {
    /// The mock's current time: the wall clock, or the accelerated one.
    fn now(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        match *self.clock.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((origin, speed)) => (origin + (wall - origin) * speed).floor() as i64,
            None => wall.floor() as i64,
        }
    }

    /// Whether `id` traded in the bar opening at `t` (see `set_gap_every`).
    fn keeps(&self, id: &str, t: i64) -> bool {
        let gap = self.gap_every.load(Ordering::SeqCst);
        gap == 0 || !hash_str(&format!("{id}{t}")).is_multiple_of(gap)
    }
}

/// A running mock. Dropping it stops the server.
pub struct MockAve {
    addr: SocketAddr,
    ws_addr: SocketAddr,
    st: Arc<St>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MockAve {
    /// Starts on 127.0.0.1 with an OS-chosen port and [`MOCK_KEY`].
    pub fn start() -> MockAve {
        MockAve::start_with_key(MOCK_KEY)
    }

    pub fn start_with_key(key: &str) -> MockAve {
        MockAve::start_on(key, 0).expect("the mock AVE server starts")
    }

    pub fn start_on(key: &str, port: u16) -> std::io::Result<MockAve> {
        let st = Arc::new(St {
            key: key.to_string(),
            requests: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(VecDeque::new()),
            extra_points: AtomicBool::new(true),
            gap_every: AtomicU64::new(0),
            clock: Mutex::new(None),
            ws: Mutex::new(ws::Knobs::default()),
            stop: AtomicBool::new(false),
        });
        let ws_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        let ws_addr = ws_listener.local_addr()?;
        let ws_st = st.clone();
        std::thread::Builder::new()
            .name("mock-ave-ws".into())
            .spawn(move || ws::serve(ws_listener, ws_st))?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new().fallback(handle).with_state(st.clone());
        std::thread::Builder::new()
            .name("mock-ave".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("mock runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("mock listener");
                    let server = axum::serve(listener, app);
                    tokio::select! {
                        _ = server => {}
                        _ = stopped => {}
                    }
                });
                rt.shutdown_background();
            })?;
        Ok(MockAve {
            addr,
            ws_addr,
            st,
            stop: Some(stop),
        })
    }

    /// `http://127.0.0.1:PORT`, for `AVE_API_BASE`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT`, the kline stream, for `AVE_WSS_BASE`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_addr)
    }

    /// Cuts the stream without a close frame after `pushes` more pushes on one connection, then
    /// refuses connections for `down_for` (a server restarting).
    pub fn ws_drop_after(&self, pushes: u64, down_for: Duration) {
        let mut k = self.st.ws.lock().unwrap_or_else(|e| e.into_inner());
        k.drop_after = pushes;
        k.down_for = down_for;
    }

    /// (upgrades accepted, connections refused while down, pushes sent) on the stream.
    pub fn ws_counts(&self) -> (u64, u64, u64) {
        let k = self.st.ws.lock().unwrap_or_else(|e| e.into_inner());
        (k.connections, k.refused, k.pushes)
    }

    /// The text of each `subscribe` the stream received.
    pub fn ws_subscriptions(&self) -> Vec<String> {
        self.st
            .ws
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .subscriptions
            .clone()
    }

    /// Requests received so far (all endpoints, faults and 401s included).
    pub fn requests(&self) -> u64 {
        self.st.requests.load(Ordering::SeqCst)
    }

    pub fn reset_requests(&self) {
        self.st.requests.store(0, Ordering::SeqCst);
        self.st
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// `METHOD path?query` of each request, in order, followed by its body when it has one.
    pub fn request_log(&self) -> Vec<String> {
        self.st
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Applies `fault` to the next request.
    pub fn push_fault(&self, fault: Fault) {
        self.push_fault_for("", fault);
    }

    /// Applies `fault` to the next request whose path starts with `prefix`.
    pub fn push_fault_for(&self, prefix: &str, fault: Fault) {
        self.st
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back((prefix.to_string(), fault));
    }

    /// Scripted faults not yet used.
    pub fn pending_faults(&self) -> usize {
        self.st
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Whether klines answers carry a few points more than `limit` (before `from_time`). Default on.
    pub fn set_extra_points(&self, on: bool) {
        self.st.extra_points.store(on, Ordering::SeqCst);
    }

    /// Drops roughly one bar in `n` (no trades that minute); 0 (the default) drops none.
    /// Runs the mock on an accelerated clock: its time reads `origin + (wall - origin) * speed`,
    /// so bars appear (the forming one included, as AVE sends it) as that time advances. A
    /// simulation given the same `clock_origin` and `clock_speed` agrees on the time.
    pub fn set_clock(&self, origin: i64, speed: f64) {
        *self.st.clock.lock().unwrap_or_else(|e| e.into_inner()) = Some((origin as f64, speed));
    }

    pub fn set_gap_every(&self, n: u64) {
        self.st.gap_every.store(n, Ordering::SeqCst);
    }
}

impl Drop for MockAve {
    fn drop(&mut self) {
        self.st.stop.store(true, Ordering::SeqCst);
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn reply(code: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn err_body(class: &str, msg: &str) -> Value {
    json!({"code": 1, "msg": format!("<class 'openapi.error.{class}'> : {msg}"), "data": {}})
}

fn ok(data: Value) -> Value {
    json!({"status": 1, "msg": "SUCCESS", "data_type": 1, "data": data})
}

fn s(x: f64) -> Value {
    Value::String(format!("{x}"))
}

async fn handle(
    State(st): State<Arc<St>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    st.requests.fetch_add(1, Ordering::SeqCst);
    let path = uri.path().to_string();
    st.log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(format!(
            "{method} {path}{}{}",
            uri.query().map(|q| format!("?{q}")).unwrap_or_default(),
            if body.is_empty() {
                String::new()
            } else {
                format!(" {}", String::from_utf8_lossy(&body))
            }
        ));
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(st.key.as_str()) {
        return reply(401, err_body("UnauthorizedError", "Permission denied"));
    }
    let fault = {
        let mut f = st.faults.lock().unwrap_or_else(|e| e.into_inner());
        let pos = f.iter().position(|(p, _)| path.starts_with(p.as_str()));
        pos.and_then(|i| f.remove(i)).map(|(_, x)| x)
    };
    let mut old = false;
    match fault {
        Some(Fault::Status {
            code,
            body,
            retry_after,
        }) => {
            let mut r = reply(code, body);
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            return r;
        }
        Some(Fault::Hang(d)) => tokio::time::sleep(d).await,
        Some(Fault::NotFoundSuccess) => {
            return reply(
                200,
                json!({"status": 1, "msg": "SUCCESS: token not found", "data_type": 1, "data": null}),
            );
        }
        Some(Fault::OldEnvelope) => old = true,
        Some(Fault::Redirect(location)) => {
            return (StatusCode::FOUND, [("location", location)], String::new()).into_response();
        }
        Some(Fault::Huge(n)) => {
            let mut text = " ".repeat(n.saturating_sub(2));
            text.push_str("{}");
            return (StatusCode::OK, [("content-type", "application/json")], text).into_response();
        }
        Some(Fault::Truncated) => {
            let full = route(&st, &method, &path, &q, &body, false);
            let text = serde_json::to_string(&full.1).unwrap_or_default();
            let cut = text.len() / 2;
            return (
                StatusCode::OK,
                [("content-type", "application/json")],
                text[..cut].to_string(),
            )
                .into_response();
        }
        None => {}
    }
    let (code, body) = route(&st, &method, &path, &q, &body, old);
    reply(code, body)
}

fn route(
    st: &St,
    method: &Method,
    path: &str,
    q: &HashMap<String, String>,
    body: &[u8],
    old: bool,
) -> (u16, Value) {
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), seg.as_slice()) {
        ("GET", ["v2", "klines", "token" | "pair", id]) => klines(st, id, q, old),
        ("POST", ["v2", "tokens", "price"]) => prices(body, old, st.now()),
        ("GET", ["v2", "tokens"]) => search(q),
        ("GET", ["v2", "tokens", id]) => detail(id),
        ("GET", ["v2", "supported_chains"]) => (200, ok(chains())),
        _ => (
            404,
            err_body("NotFoundError", "Not found any matched results"),
        ),
    }
}

fn klines(st: &St, id: &str, q: &HashMap<String, String>, old: bool) -> (u16, Value) {
    if id.contains("unknown") {
        return (
            404,
            err_body("NotFoundError", "Not found any matched results"),
        );
    }
    let num = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let Some(iv) = num("interval").and_then(Interval::from_minutes) else {
        return (
            400,
            err_body("BadRequestError", "\"interval\" parameter is invalid"),
        );
    };
    let limit = num("limit").unwrap_or(300);
    if !(1..=1000).contains(&limit) {
        return (
            400,
            err_body("BadRequestError", "\"limit\" must be at most 1000"),
        );
    }
    let now = st.now();
    let to = num("to_time")
        .map(|t| if t > 100_000_000_000 { t / 1000 } else { t })
        .unwrap_or(now)
        .min(now);
    let from = num("from_time")
        .filter(|&f| f >= 0)
        .unwrap_or(to - 2000 * iv.seconds())
        .max(to - 5000 * iv.seconds());
    let synth = Synth::for_seed(id);
    let mut bars: Vec<_> = synth
        .bars(iv, from, to)
        .into_iter()
        .filter(|c| st.keeps(id, c.time))
        .collect();
    if bars.len() > limit as usize {
        bars.drain(..bars.len() - limit as usize);
    }
    if st.extra_points.load(Ordering::SeqCst) && from > iv.seconds() * 4 {
        // The quirk the official CLI trims: more points than asked, here from before from_time.
        let mut extra = synth.bars(iv, from - 3 * iv.seconds(), from - 1);
        extra.extend(bars);
        bars = extra;
    }
    let points: Vec<Value> = bars
        .iter()
        .map(|c| json!({"open": s(c.open), "high": s(c.high), "low": s(c.low), "close": s(c.close), "volume": s(c.volume), "time": c.time}))
        .collect();
    if old {
        let data = json!({"points": points, "limit": limit, "interval": iv.minutes(), "to_time": to * 1000, "pair_id": id});
        return (200, json!({"code": 0, "msg": "success", "data": data}));
    }
    let data = json!({"points": points, "total_count": bars.len(), "limit": limit, "interval": iv.minutes(), "to_time": to, "pair_id": id, "target_token_id": id});
    (200, ok(data))
}

fn tvl_of(id: &str) -> f64 {
    if id.contains("lowtvl") {
        50.0
    } else {
        Synth::for_seed(id).profile.tvl
    }
}

/// A token's price at `now` (the mock's clock): the close of the minute bar forming then, so a
/// price asked between two bar closes moves with the bars a klines request would see.
fn price_of(id: &str, now: i64) -> Value {
    let synth = Synth::for_seed(id);
    let h = synth.bars(Interval::H1, now - 25 * 3600, now);
    let minute = synth.bars(Interval::M1, now - 60, now).last().copied();
    let (p, ch) = match (h.first().copied(), minute) {
        (Some(f), Some(m)) => (m.close, (m.close / f.open - 1.0) * 100.0),
        _ => (f64::NAN, 0.0),
    };
    json!({"current_price_usd": s(p), "price_change_1d": s(ch), "price_change_24h": s((ch * 100.0).round() / 100.0),
        "tvl": s(tvl_of(id)), "tx_volume_u_24h": s(h.iter().map(|c| c.volume).sum::<f64>()), "token_id": id, "updated_at": now})
}

fn prices(body: &[u8], old: bool, now: i64) -> (u16, Value) {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return (400, err_body("BadRequestError", "body must be JSON"));
    };
    let Some(ids) = req.get("token_ids").and_then(Value::as_array) else {
        return (
            400,
            err_body("BadRequestError", "\"token_ids\" is required"),
        );
    };
    if ids.len() > 200 {
        return (400, err_body("BadRequestError", "max 200 token ids"));
    }
    let tvl_min = req.get("tvl_min").and_then(Value::as_f64).unwrap_or(1000.0);
    let mut out = serde_json::Map::new();
    for id in ids.iter().filter_map(Value::as_str) {
        if id.contains("unknown") || tvl_of(id) < tvl_min {
            continue;
        }
        let mut p = price_of(id, now);
        if old {
            p = json!({"current_price_usd": p["current_price_usd"], "price_change_1d": p["price_change_1d"], "price_change_24h": p["price_change_24h"]});
        }
        out.insert(id.to_string(), p);
    }
    (
        200,
        if old {
            Value::Object(out)
        } else {
            ok(Value::Object(out))
        },
    )
}

fn token_obj(address: &str, chain: &str, symbol: &str) -> Value {
    let id = format!("{address}-{chain}");
    let p = price_of(&id, now_secs());
    json!({"token": address, "chain": chain, "name": format!("{symbol} Token"), "symbol": symbol, "decimal": 18,
        "holders": 12345, "current_price_usd": p["current_price_usd"].as_str().and_then(|x| x.parse::<f64>().ok()),
        "price_change_24h": p["price_change_24h"], "tvl": p["tvl"], "main_pair_tvl": p["tvl"], "market_cap": "1000000",
        "main_pair": format!("{address}pair"), "tx_volume_u_24h": p["tx_volume_u_24h"], "risk_score": "55", "updated_at": p["updated_at"]})
}

fn search(q: &HashMap<String, String>) -> (u16, Value) {
    let kw = q.get("keyword").map(|s| s.trim()).unwrap_or("");
    if kw.is_empty() {
        return (
            400,
            err_body("BadRequestError", "\"keyword\" parameter must not be empty"),
        );
    }
    let h = hash_str(kw);
    let evm = format!("0x{:016x}{:016x}{:08x}", h, h.rotate_left(17), h as u32);
    let sol = format!("{:X}sol{:x}", h, h.rotate_left(9));
    (
        200,
        ok(json!([
            token_obj(&evm, "bsc", &kw.to_uppercase()),
            token_obj(&sol, "solana", &kw.to_uppercase())
        ])),
    )
}

fn detail(id: &str) -> (u16, Value) {
    let Some((addr, chain)) = id.rsplit_once('-') else {
        return (
            400,
            err_body("BadRequestError", "token id must be <address>-<chain>"),
        );
    };
    if id.contains("unknown") {
        return (
            404,
            err_body("NotFoundError", "Not found any matched results"),
        );
    }
    let tok = token_obj(addr, chain, "MOCK");
    (
        200,
        ok(
            json!({"token": tok, "pairs": [{"pair": format!("{addr}pair"), "chain": chain, "tvl": "500000", "amm": "mockswap"}], "is_audited": false}),
        ),
    )
}

fn chains() -> Value {
    json!([
        {"chain_id": "56", "name": "BSC", "chain": "bsc", "description": "Binance Smart Chain", "block_explorer_url": "https://bscscan.com", "case_sensitive": false, "only_native_coin": false},
        {"chain_id": "solana", "name": "Solana", "chain": "solana", "description": "Solana", "block_explorer_url": "https://solscan.io", "case_sensitive": true, "only_native_coin": false},
        {"chain_id": "1", "name": "Ethereum", "chain": "eth", "description": "Ethereum", "block_explorer_url": "https://etherscan.io", "case_sensitive": false, "only_native_coin": false}
    ])
}
