//! The demo feed: deterministic synthetic klines for `demo:<NAME>` ids (no key, no network).
//!
//! How a price is made, so that a bar at a given time has the same value whatever range is asked:
//! - **Days.** The log price at each UTC midnight is a random-access function of the day index:
//!   a drift, fractal value noise over scales of 1 to 512 days (a random-walk look), crashes that
//!   recover slowly and, for meme tokens, pumps that fade. Nothing depends on earlier requests.
//! - **Minutes.** Inside a day, a Brownian bridge seeded by (token, day) joins the two midnights,
//!   so 1m closes chain into opens and the day's last close is the next day's first open. Wicks
//!   and volumes (with spikes, stronger around crashes and pumps) come from the same stream.
//! - **Intervals.** Every interval is aggregated from these 1m bars (up to 1d in one pass; daily
//!   summaries are memoised for 3d, 1w and 1M), so `resample` of 1m demo bars equals the demo
//!   feed at the coarser interval exactly.
//! - **Anchor.** History ends at 2025-06-01 00:00 UTC (`DEMO_END`) where each token's price is
//!   calibrated to a plausible level; it starts at 2021-06-01. Outputs are reproducible forever.
//!
//! The same generator (seeded by any string) feeds the mock AVE server in the tests.

use super::resample::{bucket_end, bucket_start};
use crate::bars::Candle;
use crate::error::{DslError, Result};
use crate::interval::Interval;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// 2025-06-01 00:00 UTC: the demo history ends here (exclusive).
pub const DEMO_END: i64 = 1_748_736_000;
/// 2021-06-01 00:00 UTC: the demo history starts here.
pub const DEMO_START: i64 = 1_622_505_600;
const DAY: i64 = 86_400;

/// How a synthetic token behaves.
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    pub name: &'static str,
    pub description: &'static str,
    /// Close at `DEMO_END`.
    pub end_price: f64,
    /// Daily log-return volatility.
    pub vol: f64,
    /// Log drift per day.
    pub drift: f64,
    /// Chance of a crash per 60-day block, and its size (log).
    pub crash_p: f64,
    pub crash: f64,
    /// Chance of a pump per 30-day block, and its size (log); meme tokens only.
    pub pump_p: f64,
    pub pump: f64,
    /// Typical volume per minute (quote currency).
    pub volume: f64,
    /// Reported TVL for `prices()`.
    pub tvl: f64,
}

pub const PROFILES: [Profile; 6] = [
    Profile {
        name: "BTC",
        description: "bitcoin-like: steady uptrend, 3% daily moves, rare deep crashes",
        end_price: 104_600.0,
        vol: 0.03,
        drift: 0.0007,
        crash_p: 0.12,
        crash: 0.30,
        pump_p: 0.0,
        pump: 0.0,
        volume: 2.0e6,
        tvl: 9.0e8,
    },
    Profile {
        name: "ETH",
        description: "ether-like: choppy range with bigger swings than BTC",
        end_price: 2_530.0,
        vol: 0.04,
        drift: 0.0001,
        crash_p: 0.15,
        crash: 0.35,
        pump_p: 0.0,
        pump: 0.0,
        volume: 1.0e6,
        tvl: 6.0e8,
    },
    Profile {
        name: "SOL",
        description: "high-beta large cap: strong trends and sharp drawdowns",
        end_price: 155.6,
        vol: 0.055,
        drift: 0.0009,
        crash_p: 0.2,
        crash: 0.45,
        pump_p: 0.0,
        pump: 0.0,
        volume: 4.0e5,
        tvl: 3.9e8,
    },
    Profile {
        name: "DOGE",
        description: "old meme coin: long downtrend with sudden squeezes",
        end_price: 0.19,
        vol: 0.06,
        drift: -0.0004,
        crash_p: 0.15,
        crash: 0.4,
        pump_p: 0.08,
        pump: 0.5,
        volume: 1.5e5,
        tvl: 4.0e7,
    },
    Profile {
        name: "PEPE",
        description: "meme token: 9% daily moves, pumps that fade, volume spikes",
        end_price: 0.000_011_8,
        vol: 0.09,
        drift: 0.0015,
        crash_p: 0.25,
        crash: 0.6,
        pump_p: 0.15,
        pump: 0.9,
        volume: 8.0e4,
        tvl: 2.5e7,
    },
    Profile {
        name: "WIF",
        description: "young meme token: 10% daily moves, violent pumps and crashes",
        end_price: 0.86,
        vol: 0.10,
        drift: 0.001,
        crash_p: 0.3,
        crash: 0.7,
        pump_p: 0.2,
        pump: 1.0,
        volume: 5.0e4,
        tvl: 1.2e7,
    },
];

/// The demo tokens: (id, description).
pub fn demo_tokens() -> Vec<(String, &'static str)> {
    PROFILES
        .iter()
        .map(|p| (format!("demo:{}", p.name), p.description))
        .collect()
}

pub fn profile(name: &str) -> Result<&'static Profile> {
    PROFILES
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            DslError::invalid(format!(
                "unknown demo token 'demo:{name}'; demo tokens are: {}",
                PROFILES
                    .iter()
                    .map(|p| format!("demo:{}", p.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// A synthetic series: a profile and a seed.
#[derive(Clone, Copy, Debug)]
pub struct Synth {
    pub profile: &'static Profile,
    seed: u64,
    shift: f64,
}

impl Synth {
    /// The demo token `name`, calibrated to its end price at `DEMO_END`.
    pub fn demo(name: &str) -> Result<Synth> {
        let p = profile(name)?;
        Ok(Synth::new(p, hash_str(p.name)))
    }

    /// Any seed string (the mock AVE server uses ids); the profile is picked from the seed.
    pub fn for_seed(seed: &str) -> Synth {
        let h = hash_str(seed);
        Synth::new(&PROFILES[(h % PROFILES.len() as u64) as usize], h)
    }

    fn new(profile: &'static Profile, seed: u64) -> Synth {
        let mut s = Synth {
            profile,
            seed,
            shift: 0.0,
        };
        s.shift = profile.end_price.ln() - s.day_log(DEMO_END / DAY);
        s
    }

    /// Log price at the midnight starting day `d` (before calibration).
    fn day_log(&self, d: i64) -> f64 {
        let p = self.profile;
        let mut l = p.drift * (d - DEMO_END / DAY) as f64;
        for k in 0..10u32 {
            let scale = (1i64 << k) as f64;
            l += 0.5
                * p.vol
                * scale.sqrt()
                * value_noise(self.seed ^ ((k as u64 + 1) * 0x51), d as f64 / scale);
        }
        // Crashes: a sharp drop that recovers with a 45-day time constant.
        let block = d.div_euclid(60);
        for b in block - 6..=block {
            let h = mix(self.seed ^ 0xC4A5 ^ (b as u64).wrapping_mul(0x9E37));
            if unit(h) < p.crash_p {
                let c = b * 60 + (mix(h) % 60) as i64;
                if d > c {
                    let size = p.crash * (0.6 + 0.8 * unit(mix(h ^ 7)));
                    l -= size * (-((d - c - 1) as f64) / 45.0).exp();
                }
            }
        }
        // Pumps: a fast rise that fades with a 10-day time constant.
        let block = d.div_euclid(30);
        for b in block - 8..=block {
            let h = mix(self.seed ^ 0x9A4B ^ (b as u64).wrapping_mul(0x7F4A));
            if unit(h) < p.pump_p {
                let c = b * 30 + (mix(h) % 30) as i64;
                if d > c {
                    let size = p.pump * (0.5 + unit(mix(h ^ 3)));
                    l += size * (-((d - c - 1) as f64) / 10.0).exp();
                }
            }
        }
        l + self.shift
    }

    /// Volume multiplier for day `d`: high around crashes and pumps.
    fn day_activity(&self, d: i64) -> f64 {
        let jump = (self.day_log(d + 1) - self.day_log(d)).abs() / self.profile.vol;
        1.0 + 0.6 * jump * jump
    }

    /// The 1440 one-minute bars of day `d`, appended to `out`.
    pub fn minutes_of_day(&self, d: i64, out: &mut Vec<Candle>) {
        let p = self.profile;
        let (a, b) = (self.day_log(d), self.day_log(d + 1));
        let act = self.day_activity(d);
        let mut rng = Rng(mix(
            self.seed ^ (d as u64).wrapping_mul(0xA24B_AED4_963E_E407)
        ));
        let sig = p.vol * 0.9 / (1440f64).sqrt();
        let mut walk = [0f64; 1441];
        for i in 1..=1440 {
            walk[i] = walk[i - 1] + sig * rng.normal();
        }
        let end = walk[1440];
        let log_at = |i: usize| {
            let f = i as f64 / 1440.0;
            a + (b - a) * f + walk[i] - f * end
        };
        let t0 = d * DAY;
        let mut prev = log_at(0);
        for i in 0..1440 {
            let next = log_at(i + 1);
            let (o, c) = (prev.exp(), next.exp());
            let wick_up = (sig * 0.6 * rng.normal().abs()).exp();
            let wick_dn = (-sig * 0.6 * rng.normal().abs()).exp();
            let mv = (next - prev).abs() / sig;
            let spike = if rng.unit() < 0.003 {
                6.0 + 10.0 * rng.unit()
            } else {
                1.0
            };
            let season = 1.0 + 0.35 * ((i as f64 / 1440.0 - 0.6) * std::f64::consts::TAU).cos();
            let volume =
                p.volume * act * season * spike * (0.5 * rng.normal()).exp() * (0.6 + 0.4 * mv);
            out.push(Candle {
                time: t0 + i as i64 * 60,
                open: o,
                high: o.max(c) * wick_up,
                low: o.min(c) * wick_dn,
                close: c,
                volume,
            });
            prev = next;
        }
    }

    /// The OHLCV summary of day `d` (memoised).
    fn day_bar(&self, d: i64) -> Candle {
        static MEMO: OnceLock<Mutex<HashMap<(u64, i64), Candle>>> = OnceLock::new();
        let memo = MEMO.get_or_init(Default::default);
        let key = (self.seed ^ self.shift.to_bits(), d);
        if let Some(c) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return *c;
        }
        let mut mins = Vec::with_capacity(1440);
        self.minutes_of_day(d, &mut mins);
        let c = aggregate(d * DAY, &mins);
        let mut m = memo.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 500_000 {
            m.clear();
        }
        m.insert(key, c);
        c
    }

    /// Bars of `interval` whose open time lies in `[from, to]` (any times; no clipping).
    pub fn bars(&self, interval: Interval, from: i64, to: i64) -> Vec<Candle> {
        let mut out = Vec::new();
        if to < from {
            return out;
        }
        let from_b = bucket_start(interval, from);
        let from = if from_b < from {
            bucket_end(interval, from_b)
        } else {
            from
        };
        if interval.minutes() <= 1440 {
            let per = interval.minutes() as usize;
            let mut mins = Vec::with_capacity(1440);
            for d in from.div_euclid(DAY)..=to.div_euclid(DAY) {
                mins.clear();
                self.minutes_of_day(d, &mut mins);
                for chunk in mins.chunks(per) {
                    let t = chunk[0].time;
                    if t >= from && t <= to {
                        out.push(aggregate(t, chunk));
                    }
                }
            }
        } else {
            let mut t = from;
            while t <= to {
                let end = bucket_end(interval, t);
                let days: Vec<Candle> = (t.div_euclid(DAY)..end.div_euclid(DAY))
                    .map(|d| self.day_bar(d))
                    .collect();
                if !days.is_empty() {
                    out.push(aggregate(t, &days));
                }
                t = end;
            }
        }
        out
    }
}

/// The demo feed for `name`: bars in `[from, to]` clipped to the demo history. With no range,
/// the last `limit` (default 1000) bars ending at `DEMO_END`.
pub fn demo_bars(
    name: &str,
    interval: Interval,
    from: Option<i64>,
    to: Option<i64>,
    limit: Option<usize>,
) -> Result<Vec<Candle>> {
    let synth = Synth::demo(name)?;
    let last = bucket_start(interval, DEMO_END - 1);
    let last = if bucket_end(interval, last) > DEMO_END {
        last - 1
    } else {
        last
    };
    let to_t = to.unwrap_or(last).min(last);
    let n = limit.unwrap_or(1000).max(1) as i64;
    let from_t = match (from, limit) {
        (Some(f), _) => f,
        (None, _) => to_t.saturating_sub((n - 1) * interval.seconds()),
    }
    .max(DEMO_START);
    let mut bars = synth.bars(interval, from_t, to_t);
    if let Some(l) = limit {
        if from.is_some() && to.is_none() {
            bars.truncate(l);
        } else if bars.len() > l {
            bars.drain(..bars.len() - l);
        }
    }
    if bars.is_empty() {
        return Err(DslError::invalid(format!(
            "the demo feed covers {} to {}; ask for a range inside it",
            crate::time::format_date(DEMO_START),
            crate::time::format_date(DEMO_END)
        )));
    }
    Ok(bars)
}

/// One bar from consecutive bars: first open, max high, min low, last close, summed volume.
pub fn aggregate(time: i64, bars: &[Candle]) -> Candle {
    let mut c = Candle {
        time,
        open: bars.first().map_or(f64::NAN, |b| b.open),
        high: f64::NEG_INFINITY,
        low: f64::INFINITY,
        close: bars.last().map_or(f64::NAN, |b| b.close),
        volume: 0.0,
    };
    for b in bars {
        c.high = c.high.max(b.high);
        c.low = c.low.min(b.low);
        c.volume += b.volume;
    }
    c
}

/// splitmix64's finaliser: a good 64-bit hash of an integer.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, then mixed.
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
    }
    mix(h)
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Smoothly interpolated hashed values in [-1.7, 1.7] (roughly unit variance).
fn value_noise(seed: u64, x: f64) -> f64 {
    let i = x.floor();
    let f = x - i;
    let at = |k: f64| {
        (unit(mix(
            seed ^ (k as i64 as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)
        )) * 2.0
            - 1.0)
            * 1.732
    };
    let s = f * f * (3.0 - 2.0 * f);
    at(i) + (at(i + 1.0) - at(i)) * s
}

/// splitmix64 stream with Box–Muller normals.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    fn unit(&mut self) -> f64 {
        unit(self.next())
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_is_the_same_whatever_the_range() {
        let s = Synth::demo("PEPE").unwrap();
        let t = DEMO_END - 10 * DAY + 3600 * 5;
        let a = s.bars(Interval::M5, t - 3 * DAY, t + DAY);
        let b = s.bars(Interval::M5, t, t);
        let hit = a.iter().find(|c| c.time == t).unwrap();
        assert_eq!(*hit, b[0]);
    }

    #[test]
    fn coarse_bars_equal_aggregated_minutes() {
        let s = Synth::demo("BTC").unwrap();
        let t = DEMO_END - 40 * DAY;
        let h = s.bars(Interval::H1, t, t);
        let m = s.bars(Interval::M1, t, t + 3540);
        assert_eq!(m.len(), 60);
        assert_eq!(h[0], aggregate(t, &m));
        let d = s.bars(Interval::D3, t - 6 * DAY, t);
        let days = s.bars(Interval::D1, d[0].time, d[0].time + 2 * DAY);
        assert!(
            (d[0].volume - days.iter().map(|c| c.volume).sum::<f64>()).abs() < 1e-6 * d[0].volume
        );
    }

    #[test]
    fn prices_are_continuous_and_calibrated_at_the_anchor() {
        let bars = demo_bars("ETH", Interval::M1, None, None, Some(3000)).unwrap();
        assert_eq!(bars.len(), 3000);
        assert_eq!(bars.last().unwrap().time, DEMO_END - 60);
        assert!((bars.last().unwrap().close / 2530.0 - 1.0).abs() < 1e-9);
        for w in bars.windows(2) {
            assert!((w[1].open / w[0].close - 1.0).abs() < 1e-12);
            assert!(
                w[0].high >= w[0].open.max(w[0].close) && w[0].low <= w[0].open.min(w[0].close)
            );
        }
    }

    #[test]
    fn every_interval_has_a_default_history() {
        for iv in crate::interval::ALL {
            let b = demo_bars("SOL", iv, None, None, None).unwrap();
            assert!(!b.is_empty(), "{iv}");
            assert!(b.iter().all(|c| c.close > 0.0 && c.volume > 0.0), "{iv}");
            assert!(b.last().unwrap().time < DEMO_END, "{iv}");
        }
        assert!(
            demo_bars("NOPE", Interval::H1, None, None, None)
                .unwrap_err()
                .to_string()
                .contains("demo:PEPE")
        );
    }

    #[test]
    fn meme_tokens_move_more_than_btc() {
        let range = |n: &str| {
            let b = demo_bars(n, Interval::D1, None, None, Some(365)).unwrap();
            let r: Vec<f64> = b
                .windows(2)
                .map(|w| (w[1].close / w[0].close).ln())
                .collect();
            (r.iter().map(|x| x * x).sum::<f64>() / r.len() as f64).sqrt()
        };
        assert!(range("PEPE") > 1.5 * range("BTC"));
    }
}
