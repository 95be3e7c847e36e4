//! AVE's kline stream (the Pro plan, shared/ave-api.md §6) as a [`BarSource`].
//!
//! A reader thread holds the WebSocket: it subscribes to the token's main pair
//! (`["kline", <pair address>, "k<minutes>", <chain>]`, with `X-API-KEY` on the upgrade), keeps
//! the latest push of each bar (a push carries the bar's state so far; its last one before the
//! bar closes is the bar), answers the server's pings, sends a JSON-RPC `ping` when the line is
//! quiet and reconnects with a growing backoff when the stream drops, is refused or goes silent.
//!
//! The live feed asks for bars once they closed on the clock. While one connection has been up
//! since before the first bar asked for, the answer comes from the pushes; otherwise (at the
//! start, after a drop, while reconnecting) it comes from REST, the same request a REST feed
//! makes, so bars missed while the stream was down are backfilled in order, none lost or
//! repeated. Each drop and each backfill is an event, recorded as a `gap` row.

use super::live::{AveSource, BarSource, Clock};
use crate::bars::{Candle, Source};
use crate::data::config::ApiKey;
use crate::data::resample::bucket_start;
use crate::data::wire;
use crate::error::{DslError, Result};
use crate::interval::Interval;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The kline intervals AVE streams, in minutes (`k1` … `k10080`).
const STREAMED: [i64; 9] = [1, 5, 15, 30, 60, 120, 240, 1440, 10080];

/// Whether AVE streams klines of `interval`.
pub fn streamed(interval: Interval) -> bool {
    STREAMED.contains(&interval.minutes())
}

/// The intervals AVE streams, for messages: `1m, 5m, 15m, ...`.
pub fn streamed_names() -> String {
    STREAMED
        .iter()
        .filter_map(|m| Interval::from_minutes(*m))
        .map(|i| i.name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A quiet line gets a JSON-RPC ping after this long, and is dropped after [`DEAD_AFTER`].
const PING_AFTER: Duration = Duration::from_secs(30);
const DEAD_AFTER: Duration = Duration::from_secs(45);
/// How long a read waits before the reader checks for a stop or a ping due.
const READ_SLICE: Duration = Duration::from_millis(100);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the reader thread and the feed share.
#[derive(Default)]
struct State {
    /// The latest push of each bar, by open time.
    candles: BTreeMap<i64, Candle>,
    /// Open time of the first bar pushed on the current connection: every push of the bars
    /// from there on was seen. `None` while disconnected.
    covered_from: Option<i64>,
    /// Open time of the newest bar pushed.
    latest: i64,
    /// The stream dropped since the last answer: the next answer is a REST backfill.
    dropped: bool,
    events: Vec<String>,
}

struct Shared {
    st: Mutex<State>,
    pushed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Klines of one AVE token from the stream, with REST for history and backfill.
pub struct WsSource {
    rest: AveSource,
    url: String,
    key: Option<ApiKey>,
    interval: Interval,
    clock: Clock,
    shared: Arc<Shared>,
    started: bool,
    /// While the stream is down, REST is asked at most this often (the feed's `poll_s`).
    rest_every: Duration,
    last_rest: Option<Instant>,
    events: Vec<String>,
    /// The newest push last reported by `mark` (open time, close).
    marked: Option<(i64, f64)>,
}

impl WsSource {
    /// A stream at `url` (`AVE_WSS_BASE`) for the token `rest` reads; REST, while the stream
    /// is down, at most every `rest_every`.
    pub fn new(
        rest: AveSource,
        url: &str,
        key: Option<ApiKey>,
        interval: Interval,
        clock: Clock,
        rest_every: Duration,
    ) -> WsSource {
        WsSource {
            rest,
            url: url.to_string(),
            key,
            interval,
            clock,
            shared: Arc::new(Shared {
                st: Mutex::new(State::default()),
                pushed: Condvar::new(),
                stop: AtomicBool::new(false),
            }),
            started: false,
            rest_every,
            last_rest: None,
            events: Vec::new(),
            marked: None,
        }
    }

    /// Starts the reader once REST has named the token's pair.
    fn start(&mut self) {
        if self.started {
            return;
        }
        let Some((pair, chain)) = self
            .rest
            .pair_id
            .as_deref()
            .and_then(|p| p.rsplit_once('-'))
            .map(|(a, c)| (a.to_string(), c.to_string()))
        else {
            return;
        };
        self.started = true;
        let sub = json!({"jsonrpc": "2.0", "method": "subscribe",
            "params": ["kline", pair, format!("k{}", self.interval.minutes()), chain], "id": 1})
        .to_string();
        let reader = Reader {
            url: self.url.clone(),
            key: self.key.clone(),
            sub,
            interval: self.interval,
            shared: self.shared.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("ave-stream".into())
            .spawn(move || reader.run());
        if let Err(e) = spawned {
            self.events.push(format!(
                "the WebSocket stream cannot start ({e}); the feed stays on REST"
            ));
        }
    }

    /// How long the feed waits, once the clock closed a bar, for the stream to show it closed
    /// (a push of a later bar): a quarter of a bar on the clock, at most 2 s.
    fn grace(&self) -> Duration {
        Duration::from_secs_f64(self.interval.seconds() as f64 / self.clock.speed() / 4.0)
            .min(Duration::from_secs(2))
    }
}

impl Drop for WsSource {
    fn drop(&mut self) {
        // The reader sees it within one read slice and closes the connection.
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

impl BarSource for WsSource {
    fn bars(&mut self, interval: Interval, from: i64, to: i64) -> Result<Vec<Candle>> {
        if self.started {
            let deadline = Instant::now() + self.grace();
            let mut st = self.shared.lock();
            while st.covered_from.is_some_and(|c| c <= from) && st.latest <= to {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                st = self
                    .shared
                    .pushed
                    .wait_timeout(st, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            if st.covered_from.is_some_and(|c| c <= from) {
                let got: Vec<Candle> = st.candles.range(from..=to).map(|(_, c)| *c).collect();
                // Bars before the ones asked for are stepped already.
                st.candles = st.candles.split_off(&from);
                return Ok(got);
            }
            // Down, or reconnected after bars it did not see: REST, which waits for `rest_every`
            // only while the stream is down.
            let reconnected = st.covered_from.is_some();
            drop(st);
            if !reconnected
                && self
                    .last_rest
                    .is_some_and(|t| t.elapsed() < self.rest_every)
            {
                return Ok(Vec::new());
            }
        }
        self.last_rest = Some(Instant::now());
        let got = self.rest.bars(interval, from, to)?;
        self.start();
        let mut st = self.shared.lock();
        if st.dropped && (st.covered_from.is_some() || !got.is_empty()) {
            st.dropped = false;
            let n = got.len();
            drop(st);
            self.events.push(format!(
                "{n} closed bar(s) from {} backfilled over REST (the WebSocket stream had dropped)",
                crate::time::format_time(from)
            ));
        }
        Ok(got)
    }

    fn source(&self) -> Source {
        Source::Ave
    }

    fn label(&self) -> Option<String> {
        Some(format!(
            "WebSocket k{}, REST backfill",
            self.interval.minutes()
        ))
    }

    fn mark(&mut self) -> Option<(i64, f64)> {
        let newest = {
            let st = self.shared.lock();
            st.candles.get(&st.latest).map(|c| (c.time, c.close))
        }?;
        if self.marked == Some(newest) {
            return None;
        }
        self.marked = Some(newest);
        Some((self.clock.now() as i64, newest.1))
    }
    fn take_events(&mut self) -> Vec<String> {
        let mut out = std::mem::take(&mut self.events);
        out.append(&mut self.shared.lock().events);
        out
    }
}

/// The thread that holds the connection.
struct Reader {
    url: String,
    key: Option<ApiKey>,
    sub: String,
    interval: Interval,
    shared: Arc<Shared>,
}

impl Reader {
    fn run(self) {
        let mut failures = 0u32;
        while !self.shared.stop.load(Ordering::SeqCst) {
            let why = match self.connect() {
                Ok(ws) => {
                    let (why, pushed) = self.read(ws);
                    if pushed {
                        failures = 0;
                    }
                    why
                }
                Err(e) => e,
            };
            if self.shared.stop.load(Ordering::SeqCst) {
                return;
            }
            failures += 1;
            let wait = Duration::from_millis(500)
                .saturating_mul(1 << (failures - 1).min(6))
                .min(MAX_BACKOFF);
            {
                let mut st = self.shared.lock();
                let was_up = st.covered_from.take().is_some();
                st.dropped = true;
                if was_up || failures == 1 {
                    st.events.push(format!(
                        "gap: the WebSocket stream dropped ({why}); reconnecting in {:.1} s, bars closing meanwhile come over REST",
                        wait.as_secs_f64()
                    ));
                }
                self.shared.pushed.notify_all();
            }
            let until = Instant::now() + wait;
            while Instant::now() < until && !self.shared.stop.load(Ordering::SeqCst) {
                std::thread::sleep(READ_SLICE.min(until - Instant::now()));
            }
        }
    }

    /// Opens the connection (TCP with a timeout, TLS for `wss://`, the upgrade with the key)
    /// and subscribes.
    fn connect(&self) -> std::result::Result<WebSocket<MaybeTlsStream<TcpStream>>, String> {
        use tungstenite::client::IntoClientRequest;
        let mut req = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("bad stream address: {e}"))?;
        if let Some(k) = &self.key {
            req.headers_mut().insert(
                "X-API-KEY",
                k.expose()
                    .parse()
                    .map_err(|_| "the API key is not a valid header value".to_string())?,
            );
        }
        let uri = req.uri().clone();
        let host = uri.host().unwrap_or_default().to_string();
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("wss") {
                443
            } else {
                80
            });
        let addrs = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?;
        let mut last = format!("no address for {host}");
        let mut tcp = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = format!("cannot connect to {host}:{port}: {e}"),
            }
        }
        let tcp = tcp.ok_or(last)?;
        let _ = tcp.set_read_timeout(Some(CONNECT_TIMEOUT));
        let _ = tcp.set_write_timeout(Some(CONNECT_TIMEOUT));
        let _ = tcp.set_nodelay(true);
        let conf = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(1 << 20))
            .max_frame_size(Some(1 << 20));
        let (mut ws, _) = tungstenite::client_tls_with_config(req, tcp, Some(conf), None).map_err(
            |e| match e {
                tungstenite::HandshakeError::Failure(e) => format!("upgrade failed: {e}"),
                tungstenite::HandshakeError::Interrupted(_) => "upgrade timed out".to_string(),
            },
        )?;
        let sock = match ws.get_ref() {
            MaybeTlsStream::Plain(s) => Some(s),
            MaybeTlsStream::Rustls(s) => Some(s.get_ref()),
            _ => None,
        };
        if let Some(s) = sock {
            let _ = s.set_read_timeout(Some(READ_SLICE));
        }
        ws.send(Message::text(self.sub.clone()))
            .map_err(|e| format!("subscribe failed: {e}"))?;
        Ok(ws)
    }

    /// Reads pushes until the connection ends or the source is dropped: why it ended, and
    /// whether it carried any bar.
    fn read(&self, mut ws: WebSocket<MaybeTlsStream<TcpStream>>) -> (String, bool) {
        let mut heard = Instant::now();
        let mut pinged = false;
        let mut pushed = false;
        let mut id = 1u64;
        loop {
            if self.shared.stop.load(Ordering::SeqCst) {
                let _ = ws.close(None);
                let _ = ws.flush();
                return ("stopped".into(), pushed);
            }
            match ws.read() {
                Ok(Message::Text(t)) => {
                    heard = Instant::now();
                    pinged = false;
                    let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                        continue;
                    };
                    if let Some(e) = v.get("error") {
                        let msg = e
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("an error");
                        return (format!("AVE answered: {msg}"), pushed);
                    }
                    if let Some(c) = parse_push(&v, self.interval) {
                        pushed = true;
                        let mut st = self.shared.lock();
                        st.covered_from.get_or_insert(c.time);
                        st.latest = st.latest.max(c.time);
                        st.candles.insert(c.time, c);
                        self.shared.pushed.notify_all();
                    }
                }
                Ok(Message::Close(f)) => {
                    let why = match f {
                        Some(f) if !f.reason.is_empty() => {
                            format!("closed by AVE: {} {}", u16::from(f.code), f.reason)
                        }
                        Some(f) => format!("closed by AVE: {}", u16::from(f.code)),
                        None => "closed by AVE".into(),
                    };
                    return (why, pushed);
                }
                Ok(_) => heard = Instant::now(),
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    let quiet = heard.elapsed();
                    if quiet >= DEAD_AFTER {
                        return (format!("no message for {} s", DEAD_AFTER.as_secs()), pushed);
                    }
                    if quiet >= PING_AFTER && !pinged {
                        id += 1;
                        let ping =
                            json!({"jsonrpc": "2.0", "method": "ping", "params": [], "id": id});
                        if let Err(e) = ws.send(Message::text(ping.to_string())) {
                            return (format!("ping failed: {e}"), pushed);
                        }
                        pinged = true;
                    }
                }
                Err(e) => return (e.to_string(), pushed),
            }
        }
    }
}

/// A kline push, nested (`{"result": {"topic": "kline", "kline": {"usd": {..}}}}`, as observed)
/// or flat (`{"type": "kline", "time": .., "open": ..}`, as documented); numbers as strings or
/// numbers. `None` for anything else (the subscription's answer, a pong, another interval).
pub fn parse_push(v: &Value, interval: Interval) -> Option<Candle> {
    let r = v.get("result").unwrap_or(v);
    if !r.is_object() {
        return None;
    }
    if let Some(iv) = r.get("interval").and_then(Value::as_str)
        && iv != format!("k{}", interval.minutes())
    {
        return None;
    }
    let fields = match r.get("kline") {
        Some(k) if k.get("close").is_some() => k,
        // Keyed by quote (`usd`) or chain: the one object inside.
        Some(Value::Object(m)) => m.values().find(|x| x.get("close").is_some())?,
        Some(_) => return None,
        None if r.get("close").is_some()
            && r.get("type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "kline") =>
        {
            r
        }
        None => return None,
    };
    let f = |k: &str| fields.get(k).and_then(wire::num);
    let time = wire::seconds(fields.get("time").and_then(wire::int)?);
    let c = Candle {
        time: bucket_start(interval, time),
        open: f("open")?,
        high: f("high")?,
        low: f("low")?,
        close: f("close")?,
        volume: f("volume").unwrap_or(0.0),
    };
    (c.low <= c.high).then_some(c)
}

/// A stream that cannot be opened for a reason the user must fix (bad address).
pub fn check_url(url: &str) -> Result<()> {
    use tungstenite::client::IntoClientRequest;
    url.into_client_request().map(|_| ()).map_err(|e| {
        DslError::data(format!(
            "AVE_WSS_BASE {url:?} is not a WebSocket address: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_are_read_nested_or_flat_with_string_or_number_values() {
        let nested = json!({"jsonrpc": "2.0", "result": {"topic": "kline", "id": "pp-bsc", "interval": "k1",
            "kline": {"usd": {"open": "1.5", "high": "2", "low": "1", "close": "1.75", "volume": "10", "time": 1_710_000_030}}}});
        let c = parse_push(&nested, Interval::M1).unwrap();
        assert_eq!(
            (c.time, c.open, c.high, c.low, c.close, c.volume),
            (1_710_000_000, 1.5, 2.0, 1.0, 1.75, 10.0)
        );
        let chain_keyed = json!({"result": {"kline": {"eth": {"open": 1, "high": 1, "low": 1, "close": 1, "time": 1_710_000_000_000i64}}, "topic": "kline"}});
        let c = parse_push(&chain_keyed, Interval::M1).unwrap();
        assert_eq!((c.time, c.volume), (1_710_000_000, 0.0));
        let flat = json!({"type": "kline", "pair": "0xabc", "chain": "eth", "interval": "k1", "time": 1_710_000_000,
            "open": 0.4, "high": 0.45, "low": 0.38, "close": 0.42, "volume": 85000.0});
        assert_eq!(parse_push(&flat, Interval::M1).unwrap().close, 0.42);
        // Another interval, the subscription's answer, a pong, a price push: not bars.
        assert!(parse_push(&flat, Interval::M5).is_none());
        assert!(
            parse_push(
                &json!({"jsonrpc": "2.0", "result": true, "id": 1}),
                Interval::M1
            )
            .is_none()
        );
        assert!(
            parse_push(
                &json!({"jsonrpc": "2.0", "result": "pong", "id": 2}),
                Interval::M1
            )
            .is_none()
        );
        assert!(
            parse_push(
                &json!({"type": "price", "close": 1, "time": 1}),
                Interval::M1
            )
            .is_none()
        );
        // Inverted high and low, a missing close: refused.
        let bad = json!({"result": {"kline": {"usd": {"open": 1, "high": 1, "low": 2, "close": 1, "time": 1}}}});
        assert!(parse_push(&bad, Interval::M1).is_none());
    }

    #[test]
    fn the_streamed_intervals_are_those_ave_lists() {
        assert!(streamed(Interval::M1) && streamed(Interval::H4) && streamed(Interval::D1));
        assert!(!streamed(Interval::D3) && !streamed(Interval::Mo1));
        assert!(streamed_names().starts_with("1m, 5m, 15m"));
    }
}
