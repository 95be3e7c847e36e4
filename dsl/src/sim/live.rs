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
}

impl LiveFeed {
    /// A feed of `id` at `interval` from `source`: `warmup` bars of history before the bar
    /// forming at the clock's start, then each bar as it closes, until `end` (unix seconds).
    pub fn new(
        id: &str,
        interval: Interval,
        mut source: Box<dyn BarSource>,
        clock: Clock,
        warmup: usize,
        end: Option<i64>,
        poll: Duration,
    ) -> Result<LiveFeed> {
        let step = interval.seconds();
        let forming = bucket_start(interval, clock.now().floor() as i64);
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
        })
    }

    /// The source column of the simulation: `live demo:BTC 1m` (with the clock's speed when
    /// accelerated).
    pub fn describe(&self) -> String {
        let mut d = format!("live {} {}", self.id, self.interval.name());
        if !self.poll.is_zero() {
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

impl Feed for LiveFeed {
    fn next_step(&mut self, present: &mut Vec<Present>) -> Next {
        let step = self.interval.seconds();
        if self.queue.is_empty() {
            if self.end.is_some_and(|e| self.next_open + step > e) {
                return Next::End;
            }
            let now = self.clock.now();
            let close = self.next_open + step;
            if (close as f64) > now {
                let wait = self.clock.until(close);
                let wait = match self.end {
                    Some(e) => wait.min(self.clock.until(e)),
                    None => wait,
                };
                return Next::Wait(wait);
            }
            let t = Instant::now();
            if t < self.next_poll {
                return Next::Wait(self.next_poll - t);
            }
            // The last bar closed on the clock (and within `end`).
            let mut hi = bucket_start(self.interval, now.floor() as i64) - step;
            if let Some(e) = self.end {
                hi = hi.min(e - step);
            }
            self.poll(hi);
            if self.queue.is_empty() {
                return Next::Wait(Duration::ZERO);
            }
        }
        let Some(c) = self.queue.pop_front() else {
            return Next::Wait(Duration::ZERO);
        };
        self.candles.push(c);
        match Bars::from_candles(&self.id, self.interval, self.source.source(), &self.candles) {
            Ok(b) => self.bars = b,
            Err(_) => {
                self.candles.pop();
                return Next::Wait(Duration::ZERO);
            }
        }
        present.clear();
        present.push(Present {
            asset: 0,
            bar: self.candles.len() - 1,
        });
        Next::Bar(c.time)
    }
    fn bars(&self) -> Vec<&Bars> {
        vec![&self.bars]
    }
    fn take_events(&mut self) -> Vec<(i64, String, String)> {
        self.events
            .drain(..)
            .map(|(t, m)| (t, self.id.clone(), m))
            .collect()
    }
}

/// AVE klines polled over REST through the data service's client (its pacing, retries and
/// `Retry-After` handling); what still fails after those becomes a gap event.
pub struct AveSource {
    pub client: std::sync::Arc<crate::data::client::AveClient>,
    /// `/v2/klines/token/<wire id>`.
    pub path: String,
}

impl BarSource for AveSource {
    fn bars(&mut self, interval: Interval, from: i64, to: i64) -> Result<Vec<Candle>> {
        use crate::data::client::{Request, block_on};
        let step = interval.seconds();
        let n = ((to - from) / step + 1).clamp(1, 1000);
        let from = from.max(to - (n - 1) * step);
        let query = vec![
            ("interval".to_string(), interval.minutes().to_string()),
            ("from_time".to_string(), from.to_string()),
            ("to_time".to_string(), (to + step - 1).to_string()),
            ("limit".to_string(), n.to_string()),
        ];
        let data = block_on(self.client.call(&self.path, &Request::Get(query), None))?;
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
