//! Timeframes: bucketing times by interval, `Bars::resample` to a coarser interval, and aligning a
//! higher timeframe onto a lower one without look-ahead.
//!
//! Buckets are UTC: fixed steps from the unix epoch for 1m … 3d, weeks starting Monday 00:00,
//! calendar months for 1M.
//!
//! **No look-ahead in `align`.** A bar's values are known at its close. A higher-timeframe (HTF) bar
//! `[T, T+H)` becomes visible on a lower-timeframe (LTF) bar `[t, t+L)` only when `T+H <= t+L`, i.e.
//! once the HTF bar has closed by the LTF bar's close. With 4h and 1h bars, the 00:00–04:00 4h bar
//! appears on the 03:00 1h bar (which closes at 04:00) and stays until the 07:00 bar; earlier LTF
//! bars see the previous 4h bar (NaN before the first one closed).

use super::demo::aggregate;
use crate::bars::{Bars, Candle, Source};
use crate::error::{DslError, Result};
use crate::interval::Interval;
use crate::series::Series;
use chrono::{DateTime, Datelike, NaiveDate};
use std::sync::Arc;

const MONDAY_1970_01_05: i64 = 4 * 86_400;
const WEEK: i64 = 7 * 86_400;

/// The start of the bucket containing `t`.
pub fn bucket_start(iv: Interval, t: i64) -> i64 {
    match iv {
        Interval::W1 => (t - MONDAY_1970_01_05).div_euclid(WEEK) * WEEK + MONDAY_1970_01_05,
        Interval::Mo1 => DateTime::from_timestamp(t, 0)
            .and_then(|d| NaiveDate::from_ymd_opt(d.year(), d.month(), 1))
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(t, |d| d.and_utc().timestamp()),
        _ => t.div_euclid(iv.seconds()) * iv.seconds(),
    }
}

/// The end (exclusive) of the bucket that starts at `start`: the next bucket's start.
pub fn bucket_end(iv: Interval, start: i64) -> i64 {
    match iv {
        Interval::Mo1 => DateTime::from_timestamp(start, 0)
            .and_then(|d| {
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1)
            })
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(start + iv.seconds(), |d| d.and_utc().timestamp()),
        _ => start + iv.seconds(),
    }
}

/// True when bars of `from` aggregate exactly into bars of `to`.
pub fn is_coarser_multiple(from: Interval, to: Interval) -> bool {
    if to.minutes() <= from.minutes() {
        return false;
    }
    match to {
        Interval::Mo1 => 1440 % from.minutes() == 0,
        Interval::W1 => 1440 % from.minutes() == 0,
        _ => to.minutes() % from.minutes() == 0,
    }
}

impl Bars {
    /// OHLCV bars of a coarser interval: first open, max high, min low, last close, summed volume,
    /// bucketed by interval start in UTC. Empty buckets (no bars) produce no bar.
    pub fn resample(&self, to: Interval) -> Result<Bars> {
        if to == self.interval {
            return Ok(self.clone());
        }
        if !is_coarser_multiple(self.interval, to) {
            let ok: Vec<&str> = crate::interval::ALL
                .iter()
                .filter(|&&i| is_coarser_multiple(self.interval, i))
                .map(|i| i.name())
                .collect();
            return Err(DslError::invalid(format!(
                "cannot resample {} bars to {to}: only to a coarser interval that is a whole multiple ({})",
                self.interval,
                if ok.is_empty() {
                    "none".to_string()
                } else {
                    ok.join(" ")
                }
            )));
        }
        let candles = self.candles();
        let mut out: Vec<Candle> = Vec::with_capacity(candles.len() / 2 + 1);
        let mut i = 0;
        while i < candles.len() {
            let start = bucket_start(to, candles[i].time);
            let end = bucket_end(to, start);
            let j = i + candles[i..].partition_point(|c| c.time < end);
            out.push(aggregate(start, &candles[i..j]));
            i = j;
        }
        let mut b = Bars::from_candles(&self.id, to, self.source.clone(), &out)?;
        if matches!(self.source, Source::Ave | Source::File(_)) {
            b.source = Source::Derived(format!(
                "{}, resampled {} → {to}",
                self.source.label(),
                self.interval
            ));
        }
        Ok(b)
    }

    /// When each bar closes (the next bucket start).
    pub fn close_times(&self) -> Vec<i64> {
        self.time
            .iter()
            .map(|&t| bucket_end(self.interval, t))
            .collect()
    }

    /// This (higher-timeframe) table shown on `ltf`'s bars, without look-ahead (see the module doc).
    pub fn align_to(&self, ltf: &Bars) -> Result<Bars> {
        let idx = align_index(self, ltf)?;
        let pick = |s: &Series| {
            Series::new(
                idx.iter()
                    .map(|j| j.map_or(f64::NAN, |j| s.values()[j]))
                    .collect(),
            )
        };
        Ok(Bars {
            id: self.id.clone(),
            interval: ltf.interval,
            // Demo bars stay labelled synthetic wherever they are shown.
            source: if self.source.is_synthetic() {
                Source::Demo
            } else {
                Source::Derived(format!(
                    "{} {} aligned to {}",
                    self.id, self.interval, ltf.interval
                ))
            },
            time: ltf.time.clone(),
            open: pick(&self.open),
            high: pick(&self.high),
            low: pick(&self.low),
            close: pick(&self.close),
            volume: pick(&self.volume),
            gaps: Arc::new(Vec::new()),
        })
    }
}

/// For each LTF bar, the index of the last HTF bar closed by the LTF bar's close.
pub fn align_index(htf: &Bars, ltf: &Bars) -> Result<Vec<Option<usize>>> {
    if htf.interval.minutes() < ltf.interval.minutes() {
        return Err(DslError::invalid(format!(
            "align needs the higher timeframe first: {} is finer than {}; swap the arguments",
            htf.interval, ltf.interval
        )));
    }
    let htf_close = htf.close_times();
    Ok(ltf
        .time
        .iter()
        .map(|&t| {
            let ltf_close = bucket_end(ltf.interval, t);
            htf_close
                .partition_point(|&c| c <= ltf_close)
                .checked_sub(1)
        })
        .collect())
}

/// A series computed on `htf` bars (e.g. `sma(h4.close, 20)`) shown on `ltf`'s bars, no look-ahead.
pub fn align_series(values: &Series, htf: &Bars, ltf: &Bars) -> Result<Series> {
    if values.len() != htf.len() {
        return Err(DslError::invalid(format!(
            "align: the series has {} values but the {} bars have {}; pass the bars it was computed from",
            values.len(),
            htf.interval,
            htf.len()
        )));
    }
    let idx = align_index(htf, ltf)?;
    let v = values.values();
    let out = Series::new(idx.iter().map(|j| j.map_or(f64::NAN, |j| v[j])).collect());
    Ok(if values.is_bool() {
        out.into_bool()
    } else {
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(iv: Interval, times: &[i64]) -> Bars {
        let cs: Vec<Candle> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| Candle {
                time: t,
                open: i as f64,
                high: i as f64 + 1.0,
                low: i as f64 - 1.0,
                close: i as f64 + 0.5,
                volume: 1.0,
            })
            .collect();
        Bars::from_candles("x", iv, Source::Demo, &cs).unwrap()
    }

    #[test]
    fn weeks_start_monday_and_months_are_calendar_months() {
        // 2025-06-01 is a Sunday; its week starts Monday 2025-05-26.
        assert_eq!(bucket_start(Interval::W1, 1_748_736_000), 1_748_217_600);
        assert_eq!(
            bucket_start(Interval::Mo1, 1_748_736_000 + 86_400 * 10),
            1_748_736_000
        );
        assert_eq!(bucket_end(Interval::Mo1, 1_748_736_000), 1_751_328_000); // 2025-07-01
    }

    #[test]
    fn resample_aggregates_ohlcv_by_bucket() {
        let b = bars(Interval::M15, &[0, 900, 1800, 2700, 3600, 7200]);
        let h = b.resample(Interval::H1).unwrap();
        assert_eq!(h.time.as_slice(), &[0, 3600, 7200]);
        assert_eq!(h.open.values()[0], 0.0);
        assert_eq!(h.high.values()[0], 4.0);
        assert_eq!(h.low.values()[0], -1.0);
        assert_eq!(h.close.values()[0], 3.5);
        assert_eq!(h.volume.values()[0], 4.0);
    }

    #[test]
    fn resample_refuses_finer_or_uneven_intervals() {
        let b = bars(Interval::H1, &[0, 3600]);
        let e = b.resample(Interval::M30).unwrap_err().to_string();
        assert!(e.contains("coarser") && e.contains("4h"), "{e}");
        assert!(bars(Interval::D3, &[0]).resample(Interval::W1).is_err());
    }

    #[test]
    fn htf_values_appear_only_after_the_htf_bar_closes() {
        let h4 = bars(Interval::H4, &[0, 14_400]);
        let h1 = bars(Interval::H1, &(0..8).map(|i| i * 3600).collect::<Vec<_>>());
        let a = align_series(&h4.close, &h4, &h1).unwrap();
        let v = a.values();
        assert!(v[..3].iter().all(|x| x.is_nan()));
        assert_eq!(&v[3..7], &[0.5, 0.5, 0.5, 0.5]);
        assert_eq!(v[7], 1.5);
        assert!(align_index(&h1, &h4).is_err());
    }
}
