//! The mock's WebSocket endpoint, AVE's Pro-plan stream (shared/ave-api.md §6): JSON-RPC
//! `subscribe` to `["kline", <pair address>, "k<minutes>", <chain>]` with `X-API-KEY` on the
//! upgrade, then pushes in the observed nested form (`result.topic = "kline"`, OHLCV as strings
//! under `result.kline.usd`) as the mock's clock advances: each bar twice, its opening state when
//! it starts (open = high = low = close, no volume) and its whole state from half-way through,
//! the values the REST klines give for it. A missing or wrong key gets AVE's error answer and
//! close 1008. `ping` gets `pong`.
//!
//! Faults: [`super::MockAve::ws_drop_after`] cuts the connection without a close frame after a
//! number of pushes (dropped mid-stream) and refuses new connections for a while, as a server
//! restarting would.

use super::St;
use dsl::data::demo::Synth;
use dsl::data::resample::bucket_start;
use dsl::interval::Interval;
use serde_json::{Value, json};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

/// What the tests script and read.
#[derive(Default)]
pub(super) struct Knobs {
    /// Pushes before the next abrupt drop (0: never), and how long new connections are refused
    /// after it.
    pub drop_after: u64,
    pub down_for: Duration,
    pub refuse_until: Option<Instant>,
    /// Upgrades accepted, connections refused while down, pushes sent.
    pub connections: u64,
    pub refused: u64,
    pub pushes: u64,
    /// The text of each `subscribe` received.
    pub subscriptions: Vec<String>,
}

/// Accepts connections until the mock stops.
pub(super) fn serve(listener: TcpListener, st: Arc<St>) {
    let _ = listener.set_nonblocking(true);
    while !st.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let st = st.clone();
                let _ = std::thread::Builder::new()
                    .name("mock-ave-ws".into())
                    .spawn(move || connection(stream, &st));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn connection(stream: TcpStream, st: &St) {
    let _ = stream.set_nonblocking(false);
    {
        let mut k = st.ws.lock().unwrap_or_else(|e| e.into_inner());
        if k.refuse_until.is_some_and(|t| Instant::now() < t) {
            // Down: the connection closes before the upgrade.
            k.refused += 1;
            return;
        }
    }
    let mut key = None::<String>;
    use tungstenite::handshake::server::{Request, Response};
    // The signature tungstenite's callback has (its error is a whole HTTP response).
    #[allow(clippy::result_large_err)]
    let read_key = |req: &Request, resp: Response| {
        key = req
            .headers()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(resp)
    };
    let Ok(mut ws) = tungstenite::accept_hdr(stream, read_key) else {
        return;
    };
    st.ws.lock().unwrap_or_else(|e| e.into_inner()).connections += 1;
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(5)));
    // (pair id, interval) once subscribed; the next bar whose whole state is not pushed yet and
    // whether its opening state was.
    let mut sub: Option<(String, Interval)> = None;
    let mut pending = 0i64;
    let mut opened = false;
    let mut pushed = 0u64;
    loop {
        if st.stop.load(Ordering::SeqCst) {
            return;
        }
        match ws.read() {
            Ok(Message::Text(t)) => {
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                let id = v.get("id").cloned().unwrap_or(Value::Null);
                if key.as_deref() != Some(st.key.as_str()) {
                    let msg = if key.is_none() {
                        "Missing API Key"
                    } else {
                        "Unauthorized"
                    };
                    let _ = ws.send(Message::text(
                        json!({"jsonrpc": "2.0", "error": {"code": -1, "message": msg}, "id": id})
                            .to_string(),
                    ));
                    let _ = ws.close(Some(CloseFrame {
                        code: CloseCode::Policy,
                        reason: msg.into(),
                    }));
                    let _ = ws.flush();
                    return;
                }
                match v.get("method").and_then(Value::as_str) {
                    Some("ping") => {
                        let _ = ws.send(Message::text(
                            json!({"jsonrpc": "2.0", "result": "pong", "id": id}).to_string(),
                        ));
                    }
                    Some("subscribe") => {
                        st.ws
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .subscriptions
                            .push(t.as_str().to_string());
                        let p: Vec<&str> = v
                            .get("params")
                            .and_then(Value::as_array)
                            .map(|a| a.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default();
                        let iv = p
                            .get(2)
                            .and_then(|k| k.strip_prefix('k'))
                            .and_then(|m| m.parse().ok())
                            .and_then(Interval::from_minutes);
                        match (p.as_slice(), iv) {
                            (["kline", pair, _, chain], Some(iv)) => {
                                sub = Some((format!("{pair}-{chain}"), iv));
                                pending = bucket_start(iv, st.now());
                                opened = false;
                                let _ = ws.send(Message::text(
                                    json!({"jsonrpc": "2.0", "result": true, "id": id}).to_string(),
                                ));
                            }
                            _ => {
                                let _ = ws.send(Message::text(
                                    json!({"jsonrpc": "2.0", "error": {"code": -32602, "message": "invalid params"}, "id": id}).to_string(),
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Ok(Message::Close(_)) => return,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
        let Some((pair, iv)) = &sub else { continue };
        let step = iv.seconds();
        let now = st.now();
        let forming = bucket_start(*iv, now);
        let synth = Synth::for_seed(pair);
        // Closed bars whole; the forming one opening, then whole from half-way.
        while pending <= forming {
            let bar = pending;
            let whole = bar < forming || now - bar >= step / 2;
            if !whole && opened {
                break;
            }
            let c = synth
                .bars(*iv, bar, bar)
                .into_iter()
                .find(|c| c.time == bar);
            if let Some(c) = c.filter(|_| st.keeps(pair, bar)) {
                let c = if whole {
                    c
                } else {
                    dsl::bars::Candle {
                        high: c.open,
                        low: c.open,
                        close: c.open,
                        volume: 0.0,
                        ..c
                    }
                };
                let push = json!({"jsonrpc": "2.0", "result": {"topic": "kline", "id": pair, "interval": format!("k{}", iv.minutes()),
                    "kline": {"usd": {"open": c.open.to_string(), "high": c.high.to_string(), "low": c.low.to_string(),
                        "close": c.close.to_string(), "volume": c.volume.to_string(), "time": bar}}}});
                if ws.send(Message::text(push.to_string())).is_err() {
                    return;
                }
                pushed += 1;
                let mut k = st.ws.lock().unwrap_or_else(|e| e.into_inner());
                k.pushes += 1;
                if k.drop_after > 0 && pushed >= k.drop_after {
                    // Dropped mid-stream: no close frame; refused for a while after.
                    k.drop_after = 0;
                    k.refuse_until = Some(Instant::now() + k.down_for);
                    return;
                }
            }
            if whole {
                pending = bar + step;
                opened = false;
            } else {
                opened = true;
                break;
            }
        }
    }
}
