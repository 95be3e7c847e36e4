//! Live feeds: bars that close as a clock advances, handed to [`super::run`] only once closed.
//!
//! A [`LiveFeed`] holds one token's bars: `warmup` closed bars of history first (never stepped
//! through the engine: indicators and `on_bar` see them, no order is placed on them), then one
//! bar per interval, appended when its interval has fully passed on the [`Clock`]. The forming
//! bar is never in the table, so it never triggers a signal. The demo feed ([`DemoSource`])
//! continues the `demo:` series past its history, bar for bar the same values
//! [`crate::data::demo`] gives for those times (deterministic from the token's seed).

use super::{Feed, Next};
use crate::backtest::engine::Present;
use crate::bars::{Bars, Candle, Source};
use crate::data::demo::Synth;
use crate::data::resample::bucket_start;
use crate::error::Result;
use crate::interval::Interval;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Wall-clock time, optionally accelerated: it reads `origin + (wall - origin) * speed`, so two
/// processes given the same origin and speed (a simulation and the mock AVE server in tests)
/// agree on the time. `speed` above 1 is for tests and demos; a real market runs at 1.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    origin: f64,
    speed: f64,
}

/// Unix seconds now (fractional).
pub fn wall_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Clock {
    /// A clock that reads `origin` at wall time `origin` and runs `speed` times faster.
    pub fn new(origin: i64, speed: f64) -> Clock {
        Clock {
            origin: origin as f64,
            speed: speed.max(1e-9),
        }
    }
    /// A clock that reads the wall time now and runs `speed` times faster from here.
    pub fn starting_now(speed: f64) -> Clock {
        Clock {
            origin: wall_now(),
            speed: speed.max(1e-9),
        }
    }
    /// The current time (unix seconds, fractional).
    pub fn now(&self) -> f64 {
        self.origin + (wall_now() - self.origin) * self.speed
    }
    /// Real time until the clock reads `t` (zero when it already has).
    pub fn until(&self, t: i64) -> Duration {
        let left = (t as f64 - self.now()) / self.speed;
        Duration::from_secs_f64(left.max(0.0))
    }
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

/// Where closed bars come from.
pub trait BarSource: Send {
    /// Closed bars of `interval` with open times in `[from, to]`, ascending.
    fn bars(&mut self, interval: Interval, from: i64, to: i64) -> Result<Vec<Candle>>;
    /// The `Source` recorded on the bars table.
    fn source(&self) -> Source;
    /// How the bars arrive, for the simulation's source column (`None`: as the feed says).
    fn label(&self) -> Option<String> {
        None
    }
    /// The latest price of the bar forming now and when it was seen, if new since the last
    /// call (a stream has it; a polled source does not).
    fn mark(&mut self) -> Option<(i64, f64)> {
        None
    }
    /// Events of the source itself since the last call (a stream dropped, reconnected, bars
    /// backfilled), recorded as `gap` rows.
    fn take_events(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// The demo generator continued in time.
pub struct DemoSource(pub Synth);

impl BarSource for DemoSource {
    fn bars(&mut self, interval: Interval, from: i64, to: i64) -> Result<Vec<Candle>> {
        Ok(self.0.bars(interval, from, to))
    }
    fn source(&self) -> Source {
        Source::Demo
    }
}

/// One token's bars, closing as the clock advances.
pub struct LiveFeed {
    id: String,
    interval: Interval,
    source: Box<dyn BarSource>,
    clock: Clock,
    candles: Vec<Candle>,
    bars: Bars,
    /// Open time of the next bar to emit.
    next_open: i64,
    /// No bar closing after this time is emitted (`max_duration`, `until`).
    end: Option<i64>,
    /// History bars before the first live one.
    pub warmup: usize,
    /// Real time between two requests to the source (zero: ask as soon as a bar closes).
    poll: Duration,
    next_poll: Instant,
    /// Fetched closed bars not yet stepped, ascending.
    queue: VecDeque<Candle>,
    /// Failed requests in a row.
    failures: u32,
    /// (time on the clock, message) of feed events not yet recorded: gaps and recoveries.
    events: Vec<(i64, String)>,
    /// Open time of the last bar the source has answered for (given or known to be absent):
    /// several tokens step a time only once every feed has answered through it.
    known: i64,
    /// Prices between bar closes for the display (a polled AVE feed whose bars are longer than
    /// its polling period); see [`LiveFeed::marks_every`].
    marker: Option<Marker>,
    /// Set by the caller when this feed wants prices between bar closes this often.
    pub marks_every: Option<Duration>,
    /// Whether prices between bar closes are shown at all (`marks: false` turns them off).
    pub marks: bool,
}

/// Current prices of tokens, for the display between bar closes.
pub trait PriceSource: Send {
    /// The price of each id and when it was last updated (unix seconds; 0 when the answer does
    /// not say), `None` for no price.
    fn prices(&mut self, ids: &[String]) -> Result<Vec<Option<(i64, f64)>>>;
}

/// AVE's batch prices (`POST /v2/tokens/price`: every token of a simulation in one request).
pub struct AvePrices(pub crate::data::service::DataService);

impl PriceSource for AvePrices {
    fn prices(&mut self, ids: &[String]) -> Result<Vec<Option<(i64, f64)>>> {
        let got = self.0.prices(ids, None)?;
        Ok(ids
            .iter()
            .map(|id| {
                got.found
                    .iter()
                    .find(|(k, _)| k == id)
                    .map(|(_, p)| (p.updated_at, p.price))
                    .filter(|(_, x)| x.is_finite() && *x > 0.0)
            })
            .collect())
    }
}

/// Asks a [`PriceSource`] for the prices of a simulation's tokens at most once a period. A
/// failure is skipped silently (the display keeps the last prices; the bars, which decide
/// everything, have their own retries and gap events).
pub struct Marker {
    source: Box<dyn PriceSource>,
    ids: Vec<String>,
    every: Duration,
    next: Instant,
    clock: Clock,
}

impl Marker {
    /// The first request one period after the start (the warm-up bars are fresh then).
    pub fn new(
        source: Box<dyn PriceSource>,
        ids: Vec<String>,
        every: Duration,
        clock: Clock,
    ) -> Self {
        Marker {
            source,
            ids,
            every,
            next: Instant::now() + every,
            clock,
        }
    }

    fn due(&mut self) -> Option<(i64, Vec<Option<f64>>)> {
        if Instant::now() < self.next {
            return None;
        }
        self.next = Instant::now() + self.every;
        let asked = self.clock.now() as i64;
        let p = self.source.prices(&self.ids).ok()?;
        // The prices' own time when AVE says it (the newest of them), else when they were asked.
        let time = p
            .iter()
            .flatten()
            .map(|q| q.0)
            .max()
            .filter(|&t| t > 0)
            .unwrap_or(asked);
        p.iter()
            .any(Option::is_some)
            .then(|| (time, p.into_iter().map(|q| q.map(|q| q.1)).collect()))
    }
}

impl LiveFeed {
    /// A feed of `id` at `interval` from `source`: `warmup` bars of history before the bar
    /// forming at the clock's start (or the bar opening at `start`, a resumed simulation's
    /// first live bar: the bars closed since are caught up at once), then each bar as it
    /// closes, until `end` (unix seconds).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: &str,
        interval: Interval,
        mut source: Box<dyn BarSource>,
        clock: Clock,
        warmup: usize,
        end: Option<i64>,
        poll: Duration,
        start: Option<i64>,
    ) -> Result<LiveFeed> {
        let step = interval.seconds();
        let forming = bucket_start(
            interval,
            start.unwrap_or_else(|| clock.now().floor() as i64),
        );
        let candles = if warmup > 0 {
            let mut c = source.bars(interval, forming - warmup as i64 * step, forming - 1)?;
            c.retain(|c| c.time < forming);
            c
        } else {
            Vec::new()
        };
        let bars = Bars::from_candles(id, interval, source.source(), &candles)?;
        Ok(LiveFeed {
            id: id.to_string(),
            interval,
            warmup: candles.len(),
            source,
            clock,
            candles,
            bars,
            next_open: forming,
            end,
            poll,
            next_poll: Instant::now(),
            queue: VecDeque::new(),
            failures: 0,
            events: Vec::new(),
            known: forming - step,
            marker: None,
            marks_every: None,
            marks: true,
        })
    }

    /// The source column of the simulation: `live demo:BTC 1m` (with the clock's speed when
    /// accelerated).
    pub fn describe(&self) -> String {
        let mut d = format!("live {} {}", self.id, self.interval.name());
        if let Some(l) = self.source.label() {
            d.push_str(&format!(" ({l})"));
        } else if !self.poll.is_zero() {
            d.push_str(&format!(
                " (REST, polled every {:.0} s)",
                self.poll.as_secs_f64() * self.clock.speed
            ));
        }
        if self.clock.speed != 1.0 {
            d.push_str(&format!(" (clock x{})", self.clock.speed));
        }
        d
    }

    /// The clock the feed runs on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Asks `marker` for prices between bar closes.
    pub fn set_marker(&mut self, marker: Marker) {
        self.marker = Some(marker);
    }

    /// The marker set, taken (a portfolio's asks for every token at once).
    pub fn take_marker(&mut self) -> Option<Marker> {
        self.marker.take()
    }

    /// The token id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Open time of the first live bar, and the time no bar closes after: what a resumed
    /// simulation needs to step through the same bars and end when the first run would have.
    pub fn span(&self) -> (i64, Option<i64>) {
        let first = match self.candles.get(self.warmup) {
            Some(c) => c.time,
            None => self.next_open,
        };
        (first, self.end)
    }
}

impl LiveFeed {
    /// Asks the source for every bar closed since the last one it gave; a failure is recorded
    /// as a gap event and retried with a growing backoff, and the bars are caught up in order
    /// when the source answers again.
    fn poll(&mut self, closed_hi: i64) {
        let step = self.interval.seconds();
        let now = self.clock.now();
        match self.source.bars(self.interval, self.next_open, closed_hi) {
            Ok(mut got) => {
                got.retain(|c| c.time >= self.next_open && (c.time + step) as f64 <= now);
                got.sort_by_key(|c| c.time);
                got.dedup_by_key(|c| c.time);
                if self.failures > 0 {
                    self.events.push((
                        now as i64,
                        format!(
                            "feed recovered after {} failed request(s); {} closed bar(s) caught up in order",
                            self.failures,
                            got.len()
                        ),
                    ));
                }
                self.failures = 0;
                self.known = self.known.max(closed_hi);
                if let Some(last) = got.last() {
                    self.next_open = last.time + step;
                }
                self.queue.extend(got);
                self.next_poll = Instant::now() + self.poll;
            }
            Err(e) => {
                self.failures += 1;
                let wait = self
                    .poll
                    .max(Duration::from_millis(250))
                    .saturating_mul(1 << (self.failures - 1).min(6))
                    .min(Duration::from_secs(300));
                self.events.push((
                    now as i64,
                    format!(
                        "gap: the data feed failed ({e}); retrying in {:.1} s, missed bars will be caught up",
                        wait.as_secs_f64()
                    ),
                ));
                self.next_poll = Instant::now() + wait;
            }
        }
    }
}

impl LiveFeed {
    /// Makes sure the queue holds the next closed bar, polling the source when one is due:
    /// `None` when it does, else the end of the feed or how long to wait.
    fn refill(&mut self) -> Option<Next> {
        if !self.queue.is_empty() {
            return None;
        }
        let step = self.interval.seconds();
        if self.ended() {
            return Some(Next::End);
        }
        let now = self.clock.now();
        let close = self.next_open + step;
        if (close as f64) > now {
            let wait = self.clock.until(close);
            let wait = match self.end {
                Some(e) => wait.min(self.clock.until(e)),
                None => wait,
            };
            return Some(Next::Wait(wait));
        }
        let t = Instant::now();
        if t < self.next_poll {
            return Some(Next::Wait(self.next_poll - t));
        }
        // The last bar closed on the clock (and within `end`).
        let mut hi = bucket_start(self.interval, now.floor() as i64) - step;
        if let Some(e) = self.end {
            hi = hi.min(e - step);
        }
        self.poll(hi);
        self.queue.is_empty().then_some(Next::Wait(Duration::ZERO))
    }

    /// No bar closing within `end` is left to come.
    fn ended(&self) -> bool {
        self.queue.is_empty()
            && self
                .end
                .is_some_and(|e| self.next_open + self.interval.seconds() > e)
    }

    /// Open time of the next queued bar.
    fn front(&self) -> Option<i64> {
        self.queue.front().map(|c| c.time)
    }

    /// Moves the next queued bar into the table; its index.
    fn take(&mut self) -> Option<usize> {
        let c = self.queue.pop_front()?;
        self.candles.push(c);
        match Bars::from_candles(&self.id, self.interval, self.source.source(), &self.candles) {
            Ok(b) => {
                self.bars = b;
                Some(self.candles.len() - 1)
            }
            Err(_) => {
                self.candles.pop();
                None
            }
        }
    }

    fn drain_events(&mut self, out: &mut Vec<(i64, String, String)>) {
        let now = self.clock.now() as i64;
        for m in self.source.take_events() {
            self.events.push((now, m));
        }
        out.extend(self.events.drain(..).map(|(t, m)| (t, self.id.clone(), m)));
    }
}

impl Feed for LiveFeed {
    fn next_step(&mut self, present: &mut Vec<Present>) -> Next {
        if let Some(n) = self.refill() {
            return n;
        }
        let Some(time) = self.front() else {
            return Next::Wait(Duration::ZERO);
        };
        let Some(bar) = self.take() else {
            return Next::Wait(Duration::ZERO);
        };
        present.clear();
        present.push(Present { asset: 0, bar });
        Next::Bar(time)
    }
    fn bars(&self) -> Vec<&Bars> {
        vec![&self.bars]
    }
    fn take_events(&mut self) -> Vec<(i64, String, String)> {
        let mut out = Vec::new();
        self.drain_events(&mut out);
        out
    }
    fn marks(&mut self) -> Option<(i64, Vec<Option<f64>>)> {
        if !self.marks {
            return None;
        }
        if let Some((t, p)) = self.source.mark() {
            return Some((t, vec![Some(p)]));
        }
        self.marker.as_mut()?.due()
    }
}

/// Several tokens on one clock, with shared cash (a portfolio): a time is stepped once every
/// feed has answered through it, with the tokens that have a bar at it, as the backtest clock
/// steps the union of the tokens' times.
pub struct MultiFeed {
    pub feeds: Vec<LiveFeed>,
    /// Prices of every token in one request (AVE's batch prices), between bar closes.
    pub marker: Option<Marker>,
}

impl Feed for MultiFeed {
    fn next_step(&mut self, present: &mut Vec<Present>) -> Next {
        let mut wait: Option<Duration> = None;
        let mut ended = 0;
        for f in &mut self.feeds {
            match f.refill() {
                Some(Next::End) => ended += 1,
                Some(Next::Wait(d)) => wait = Some(wait.map_or(d, |w| w.min(d))),
                _ => {}
            }
        }
        let Some(t) = self.feeds.iter().filter_map(LiveFeed::front).min() else {
            return if ended == self.feeds.len() {
                Next::End
            } else {
                Next::Wait(wait.unwrap_or(Duration::ZERO))
            };
        };
        // A token without a bar at `t` yet must have answered through it: its bar may be late.
        if self
            .feeds
            .iter()
            .any(|f| f.front() != Some(t) && f.known < t && !f.ended())
        {
            return Next::Wait(wait.unwrap_or(Duration::ZERO));
        }
        present.clear();
        for (asset, f) in self.feeds.iter_mut().enumerate() {
            if f.front() == Some(t)
                && let Some(bar) = f.take()
            {
                present.push(Present { asset, bar });
            }
        }
        Next::Bar(t)
    }
    fn bars(&self) -> Vec<&Bars> {
        self.feeds.iter().map(|f| &f.bars).collect()
    }
    fn take_events(&mut self) -> Vec<(i64, String, String)> {
        let mut out = Vec::new();
        for f in &mut self.feeds {
            f.drain_events(&mut out);
        }
        out
    }
    fn marks(&mut self) -> Option<(i64, Vec<Option<f64>>)> {
        if let Some(m) = &mut self.marker {
            return m.due();
        }
        // Streams: each token's forming bar, as it was pushed.
        let seen: Vec<Option<(i64, f64)>> = self
            .feeds
            .iter_mut()
            .map(|f| if f.marks { f.source.mark() } else { None })
            .collect();
        let t = seen.iter().flatten().map(|m| m.0).max()?;
        Some((t, seen.iter().map(|m| m.map(|m| m.1)).collect()))
    }
}

/// AVE klines polled over REST through the data service's client (its pacing, retries and
/// `Retry-After` handling); what still fails after those becomes a gap event.
pub struct AveSource {
    pub client: std::sync::Arc<crate::data::client::AveClient>,
    /// `/v2/klines/token/<wire id>`.
    pub path: String,
    /// The token's main pair (`<pair address>-<chain>`), as the last answer named it: the
    /// WebSocket stream subscribes to pairs.
    pub pair_id: Option<String>,
}

impl AveSource {
    pub fn new(client: std::sync::Arc<crate::data::client::AveClient>, path: String) -> Self {
        AveSource {
            client,
            path,
            pair_id: None,
        }
    }
}

impl BarSource for AveSource {
    fn bars(&mut self, interval: Interval, from: i64, to: i64) -> Result<Vec<Candle>> {
        use crate::data::client::{Request, block_on};
        let step = interval.seconds();
        // At most 1000 bars an answer, the oldest first: a longer catch-up takes several polls,
        // in order.
        let to = to.min(from + 999 * step);
        let n = ((to - from) / step + 1).clamp(1, 1000);
        let query = vec![
            ("interval".to_string(), interval.minutes().to_string()),
            ("from_time".to_string(), from.to_string()),
            ("to_time".to_string(), (to + step - 1).to_string()),
            ("limit".to_string(), n.to_string()),
        ];
        let data = block_on(self.client.call(&self.path, &Request::Get(query), None))?;
        if let Some(p) = data.get("pair_id").and_then(serde_json::Value::as_str)
            && p.rsplit_once('-')
                .is_some_and(|(a, c)| !a.is_empty() && !c.is_empty())
        {
            self.pair_id = Some(p.to_string());
        }
        let mut bars = crate::data::wire::klines(&data).map_err(|why| {
            crate::error::DslError::data(format!(
                "AVE sent malformed klines for {}: {why}",
                self.path
            ))
        })?;
        bars.retain(|c| c.time >= from && c.time <= to);
        Ok(bars)
    }
    fn source(&self) -> Source {
        Source::Ave
    }
}
