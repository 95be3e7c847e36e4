//! `Bars`: an OHLCV table of one token at one interval, with `Series` columns.
//!
//! Columns are contiguous `f64` (times `i64`) so indicators and the backtest engine read them as
//! slices; polars frames are built from them only at the edges: files (`data::files`) and tables
//! (`frame`).

use crate::error::{DslError, Result};
use crate::interval::Interval;
use crate::series::Series;
use std::sync::Arc;

/// Where bars came from; shown in every display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The embedded deterministic demo feed: synthetic prices.
    Demo,
    /// The AVE Cloud API (possibly served from the local cache).
    Ave,
    /// A CSV or Parquet file the user read.
    File(String),
    /// Computed from other bars (resample, slice).
    Derived(String),
}

impl Source {
    pub fn label(&self) -> String {
        match self {
            Source::Demo => "demo feed (synthetic data)".into(),
            Source::Ave => "AVE Cloud".into(),
            Source::File(p) => format!("file {p}"),
            Source::Derived(how) => how.clone(),
        }
    }

    pub fn is_synthetic(&self) -> bool {
        matches!(self, Source::Demo)
    }
}

#[derive(Clone, Debug)]
pub struct Bars {
    pub id: Arc<str>,
    pub interval: Interval,
    pub source: Source,
    /// Bar open times, unix seconds, strictly ascending.
    pub time: Arc<Vec<i64>>,
    pub open: Series,
    pub high: Series,
    pub low: Series,
    pub close: Series,
    pub volume: Series,
    /// Missing bars found when loading (start time, number of bars missing); not filled.
    pub gaps: Arc<Vec<(i64, i64)>>,
}

/// One row, for building bars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candle {
    pub time: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Bars {
    /// Builds bars from candles, which must be ascending by time with no duplicates.
    pub fn from_candles(
        id: &str,
        interval: Interval,
        source: Source,
        candles: &[Candle],
    ) -> Result<Bars> {
        for w in candles.windows(2) {
            if w[1].time <= w[0].time {
                return Err(DslError::data(format!(
                    "bars for {id} are not in ascending time order at {}",
                    crate::time::format_time(w[1].time)
                )));
            }
        }
        let col = |f: fn(&Candle) -> f64| Series::new(candles.iter().map(f).collect());
        let gaps = find_gaps(
            &candles.iter().map(|c| c.time).collect::<Vec<_>>(),
            interval,
        );
        Ok(Bars {
            id: id.into(),
            interval,
            source,
            time: Arc::new(candles.iter().map(|c| c.time).collect()),
            open: col(|c| c.open),
            high: col(|c| c.high),
            low: col(|c| c.low),
            close: col(|c| c.close),
            volume: col(|c| c.volume),
            gaps: Arc::new(gaps),
        })
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    pub fn candle(&self, i: usize) -> Candle {
        Candle {
            time: self.time[i],
            open: self.open.values()[i],
            high: self.high.values()[i],
            low: self.low.values()[i],
            close: self.close.values()[i],
            volume: self.volume.values()[i],
        }
    }

    pub fn candles(&self) -> Vec<Candle> {
        (0..self.len()).map(|i| self.candle(i)).collect()
    }

    /// Rows `[start, end)`.
    pub fn slice(&self, start: usize, end: usize) -> Bars {
        let end = end.min(self.len());
        let start = start.min(end);
        Bars {
            id: self.id.clone(),
            interval: self.interval,
            source: self.source.clone(),
            time: Arc::new(self.time[start..end].to_vec()),
            open: self.open.slice(start, end),
            high: self.high.slice(start, end),
            low: self.low.slice(start, end),
            close: self.close.slice(start, end),
            volume: self.volume.slice(start, end),
            gaps: Arc::new(
                self.gaps
                    .iter()
                    .copied()
                    .filter(|(t, _)| {
                        self.time.get(start).is_some_and(|s| t >= s)
                            && self.time.get(end.saturating_sub(1)).is_some_and(|e| t <= e)
                    })
                    .collect(),
            ),
        }
    }

    pub fn head(&self, n: usize) -> Bars {
        self.slice(0, n)
    }

    pub fn tail(&self, n: usize) -> Bars {
        self.slice(self.len().saturating_sub(n), self.len())
    }

    /// The time column as a Series (unix seconds as f64).
    pub fn time_series(&self) -> Series {
        Series::new(self.time.iter().map(|&t| t as f64).collect())
    }

    /// Bars from `from` (inclusive) to `to` (inclusive), unix seconds.
    pub fn between(&self, from: Option<i64>, to: Option<i64>) -> Bars {
        let start = from.map_or(0, |f| self.time.partition_point(|&t| t < f));
        let end = to.map_or(self.len(), |t| self.time.partition_point(|&x| x <= t));
        self.slice(start, end)
    }
}

/// Missing bars between consecutive times: `(time of the first missing bar, count)`.
pub fn find_gaps(times: &[i64], interval: Interval) -> Vec<(i64, i64)> {
    let step = interval.seconds();
    if matches!(interval, Interval::Mo1) {
        return Vec::new(); // calendar months are not a fixed step
    }
    times
        .windows(2)
        .filter_map(|w| {
            let missing = (w[1] - w[0]) / step - 1;
            (missing > 0).then_some((w[0] + step, missing))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(t: i64, c: f64) -> Candle {
        Candle {
            time: t,
            open: c,
            high: c,
            low: c,
            close: c,
            volume: 1.0,
        }
    }

    #[test]
    fn gaps_are_reported_not_filled() {
        let cs = [candle(0, 1.0), candle(60, 2.0), candle(240, 3.0)];
        let b = Bars::from_candles("x", Interval::M1, Source::Demo, &cs).unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b.gaps.as_slice(), &[(120, 2)]);
    }

    #[test]
    fn out_of_order_bars_are_rejected() {
        let cs = [candle(60, 1.0), candle(0, 2.0)];
        assert!(Bars::from_candles("x", Interval::M1, Source::Demo, &cs).is_err());
    }

    #[test]
    fn between_is_inclusive() {
        let cs: Vec<_> = (0..10).map(|i| candle(i * 60, i as f64)).collect();
        let b = Bars::from_candles("x", Interval::M1, Source::Demo, &cs).unwrap();
        let s = b.between(Some(120), Some(300));
        assert_eq!(s.time.as_slice(), &[120, 180, 240, 300]);
    }
}

// `Render for Bars` (the HTML table and its text twin) lives in data/render.rs.
