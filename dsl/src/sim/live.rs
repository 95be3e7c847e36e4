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
use std::time::{Duration, Instant};

/// Wall-clock time, optionally accelerated (`speed` simulated seconds per real second: tests and
/// demos only; a live simulation of a real market runs at 1).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start_real: Instant,
    start: i64,
    speed: f64,
}

impl Clock {
    /// A clock reading `start` (unix seconds) now, running `speed` times faster than real time.
    pub fn new(start: i64, speed: f64) -> Clock {
        Clock {
            start_real: Instant::now(),
            start,
            speed: speed.max(1e-9),
        }
    }
    /// The current time (unix seconds, fractional).
    pub fn now(&self) -> f64 {
        self.start as f64 + self.start_real.elapsed().as_secs_f64() * self.speed
    }
    /// Real time until the clock reads `t` (zero when it already has).
    pub fn until(&self, t: i64) -> Duration {
        let left = (t as f64 - self.now()) / self.speed;
        Duration::from_secs_f64(left.max(0.0))
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
        })
    }

    /// The source column of the simulation: `live demo:BTC 1m` (with the clock's speed when
    /// accelerated).
    pub fn describe(&self) -> String {
        let mut d = format!("live {} {}", self.id, self.interval.name());
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

impl Feed for LiveFeed {
    fn next_step(&mut self, present: &mut Vec<Present>) -> Next {
        let step = self.interval.seconds();
        let close = self.next_open + step;
        if self.end.is_some_and(|e| close > e) {
            return Next::End;
        }
        if (close as f64) > self.clock.now() {
            let wait = self.clock.until(close);
            let wait = match self.end {
                Some(e) => wait.min(self.clock.until(e)),
                None => wait,
            };
            return Next::Wait(wait);
        }
        let got = match self
            .source
            .bars(self.interval, self.next_open, self.next_open)
        {
            Ok(b) => b,
            Err(_) => return Next::Wait(Duration::from_millis(200)),
        };
        let Some(c) = got.into_iter().find(|c| c.time == self.next_open) else {
            // No bar for this interval (no trade): nothing to step.
            self.next_open = close;
            return Next::Wait(Duration::ZERO);
        };
        self.candles.push(c);
        match Bars::from_candles(&self.id, self.interval, self.source.source(), &self.candles) {
            Ok(b) => self.bars = b,
            Err(_) => {
                self.candles.pop();
                self.next_open = close;
                return Next::Wait(Duration::ZERO);
            }
        }
        self.next_open = close;
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
}
