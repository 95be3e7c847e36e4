//! Deterministic bars for tests and benchmarks: a xorshift noise source, bars from OHLC tuples,
//! flat bars from prices, and seeded random walks (as plain columns or as [`Bars`]).
//!
//! A normal module (not `#[cfg(test)]`) so integration tests and benches can use it too. Plain Rust
//! below the Rhai layer: it builds on `bars`, `interval` and the column types of `plot`. Golden
//! files, fixture numbers and benchmark data are made with these generators: a change to any value
//! they produce changes them all, so add a variant instead of altering one.

use crate::bars::{Bars, Candle, Source};
use crate::interval::Interval;
use crate::plot::Ohlc;

/// 2024-01-01 00:00:00 UTC, unix seconds.
pub const JAN_2024: i64 = 1_704_067_200;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// One bar's (open, high, low, close).
pub type Ohlc4 = (f64, f64, f64, f64);

/// Deterministic noise in [-0.5, 0.5) from a xorshift64 generator, so test data never depends on
/// a crate's RNG.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator seeded with `seed` (not 0: xorshift stays at 0 forever).
    pub fn new(seed: u64) -> XorShift {
        assert!(seed != 0, "a xorshift seed must not be 0");
        XorShift(seed)
    }

    /// The next value, uniform in [-0.5, 0.5).
    pub fn noise(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// `n` times from `start`, `step` seconds apart.
pub fn times(n: usize, start: i64, step: i64) -> Vec<i64> {
    (0..n as i64).map(|i| start + i * step).collect()
}

/// A multiplicative random walk of `n` values: each is the previous (`price` before the first)
/// times `1 + noise × swing`.
pub fn walk(n: usize, price: f64, swing: f64, seed: u64) -> Vec<f64> {
    let mut w = XorShift::new(seed);
    let mut p = price;
    (0..n)
        .map(|_| {
            p *= 1.0 + w.noise() * swing;
            p
        })
        .collect()
}

/// Flat bars (open = high = low = close) from prices.
pub fn flat(prices: &[f64]) -> Vec<Ohlc4> {
    prices.iter().map(|&p| (p, p, p, p)).collect()
}

/// Bars of `interval` at the given times (ascending), volume 1, from the demo feed.
pub fn bars_at(id: &str, interval: Interval, times: &[i64], ohlc: &[Ohlc4]) -> Bars {
    assert_eq!(times.len(), ohlc.len(), "one time per bar");
    let c: Vec<Candle> = times
        .iter()
        .zip(ohlc)
        .map(|(&time, &(open, high, low, close))| Candle {
            time,
            open,
            high,
            low,
            close,
            volume: 1.0,
        })
        .collect();
    Bars::from_candles(id, interval, Source::Demo, &c).expect("ascending bars")
}

/// Consecutive bars of `interval` from `t0`, volume 1, from the demo feed.
pub fn ohlc_bars(id: &str, interval: Interval, t0: i64, ohlc: &[Ohlc4]) -> Bars {
    bars_at(
        id,
        interval,
        &times(ohlc.len(), t0, interval.seconds()),
        ohlc,
    )
}

/// `n` consecutive bars of `interval` from time 0, a random walk from 100 shaped as
/// [`Walk::TIGHT`].
pub fn random_walk_bars(id: &str, interval: Interval, n: usize, seed: u64) -> Bars {
    Columns::random_walk(n, 0, interval.seconds(), 100.0, seed, &Walk::TIGHT).bars(id, interval)
}

/// How far a walked bar's high and low reach beyond its body (the open-close range).
#[derive(Clone, Copy, Debug)]
pub enum Wicks {
    /// Up to this fraction of the body's top (high) and bottom (low), drawn from the noise: one
    /// draw for the high, then one for the low.
    Noisy(f64),
    /// High = top × `up`, low = bottom × `down`, without a draw.
    Fixed { up: f64, down: f64 },
}

/// The shape of a random walk of bars: each close is the previous one times
/// `1 + noise × swing + drift` (at least `floor`), then the wicks, then (with `volume`) a volume of
/// 1e5 × [1, 3] from one more draw; without it the volume is 1.
#[derive(Clone, Copy, Debug)]
pub struct Walk {
    pub swing: f64,
    pub drift: f64,
    pub floor: Option<f64>,
    pub wicks: Wicks,
    pub volume: bool,
}

impl Walk {
    /// Charts' walk (the plot goldens): ±2% a bar around a +0.04% drift, wicks up to 1%.
    pub const TRENDING: Walk = Walk {
        swing: 0.04,
        drift: 0.0004,
        floor: None,
        wicks: Wicks::Noisy(0.01),
        volume: false,
    };

    /// Indicators' walk (their benchmark): ±1% a bar, closes at least 0.01, wicks up to 1%, a
    /// volume per bar.
    pub const VOLUME: Walk = Walk {
        swing: 0.02,
        drift: 0.0,
        floor: Some(0.01),
        wicks: Wicks::Noisy(0.01),
        volume: true,
    };

    /// Backtests' walk (their benchmark, [`random_walk_bars`]): ±1% a bar, wicks 0.1%.
    pub const TIGHT: Walk = Walk {
        swing: 0.02,
        drift: 0.0,
        floor: None,
        wicks: Wicks::Fixed {
            up: 1.001,
            down: 0.999,
        },
        volume: false,
    };
}

/// Bars as plain columns, what indicator and plot functions take: times `t`, `o`pen, `h`igh,
/// `l`ow, `c`lose, `v`olume.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    pub t: Vec<i64>,
    pub o: Vec<f64>,
    pub h: Vec<f64>,
    pub l: Vec<f64>,
    pub c: Vec<f64>,
    pub v: Vec<f64>,
}

impl Columns {
    /// `n` bars from `start`, `step` seconds apart, walking from `price` (the first open) as
    /// `shape` says, from noise seeded with `seed`.
    pub fn random_walk(
        n: usize,
        start: i64,
        step: i64,
        price: f64,
        seed: u64,
        shape: &Walk,
    ) -> Columns {
        let mut w = XorShift::new(seed);
        let mut b = Columns::with_capacity(n);
        let mut close = price;
        for i in 0..n {
            let open = close;
            close = open * (1.0 + w.noise() * shape.swing + shape.drift);
            if let Some(floor) = shape.floor {
                close = close.max(floor);
            }
            let (high, low) = match shape.wicks {
                Wicks::Noisy(x) => (
                    open.max(close) * (1.0 + w.noise().abs() * x),
                    open.min(close) * (1.0 - w.noise().abs() * x),
                ),
                Wicks::Fixed { up, down } => (open.max(close) * up, open.min(close) * down),
            };
            let volume = if shape.volume {
                1e5 * (1.0 + w.noise().abs() * 4.0)
            } else {
                1.0
            };
            b.t.push(start + i as i64 * step);
            b.o.push(open);
            b.h.push(high);
            b.l.push(low);
            b.c.push(close);
            b.v.push(volume);
        }
        b
    }

    /// Flat bars (open = high = low = close) at `prices`, from `start`, `step` seconds apart, each
    /// with `volume`.
    pub fn flat(prices: Vec<f64>, start: i64, step: i64, volume: f64) -> Columns {
        let n = prices.len();
        Columns {
            t: times(n, start, step),
            o: prices.clone(),
            h: prices.clone(),
            l: prices.clone(),
            c: prices,
            v: vec![volume; n],
        }
    }

    fn with_capacity(n: usize) -> Columns {
        Columns {
            t: Vec::with_capacity(n),
            o: Vec::with_capacity(n),
            h: Vec::with_capacity(n),
            l: Vec::with_capacity(n),
            c: Vec::with_capacity(n),
            v: Vec::with_capacity(n),
        }
    }

    /// Bars `r` of these.
    pub fn slice(&self, r: std::ops::Range<usize>) -> Columns {
        Columns {
            t: self.t[r.clone()].to_vec(),
            o: self.o[r.clone()].to_vec(),
            h: self.h[r.clone()].to_vec(),
            l: self.l[r.clone()].to_vec(),
            c: self.c[r.clone()].to_vec(),
            v: self.v[r].to_vec(),
        }
    }

    /// The OHLC view charts draw.
    pub fn ohlc(&self) -> Ohlc<'_> {
        Ohlc {
            time: &self.t,
            open: &self.o,
            high: &self.h,
            low: &self.l,
            close: &self.c,
        }
    }

    /// These columns as [`Bars`] of `interval`, from the demo feed.
    pub fn bars(&self, id: &str, interval: Interval) -> Bars {
        let c: Vec<Candle> = (0..self.t.len())
            .map(|i| Candle {
                time: self.t[i],
                open: self.o[i],
                high: self.h[i],
                low: self.l[i],
                close: self.c[i],
                volume: self.v[i],
            })
            .collect();
        Bars::from_candles(id, interval, Source::Demo, &c).expect("ascending bars")
    }
}
