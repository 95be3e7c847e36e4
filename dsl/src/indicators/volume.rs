//! Volume indicators: `obv` (TA-Lib) and `vwap` (Pine's anchored VWAP).

use super::{all_finite, for_each_run, min_len, nans};
use crate::error::{DslError, Result};
use chrono::{DateTime, Datelike};

/// Where an anchored VWAP restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Each UTC day (Pine's default session anchor for crypto).
    Day,
    /// Each week, starting Monday 00:00 UTC.
    Week,
    /// Each calendar month (UTC).
    Month,
    /// Never: cumulative over all bars.
    All,
}

impl Anchor {
    /// `"1d"`, `"1w"`, `"1M"` or `"all"`.
    pub fn parse(s: &str) -> Result<Anchor> {
        match s {
            "1d" | "day" | "D" => Ok(Anchor::Day),
            "1w" | "week" | "W" => Ok(Anchor::Week),
            "1M" | "month" | "M" => Ok(Anchor::Month),
            "all" | "none" => Ok(Anchor::All),
            other => Err(DslError::invalid(format!(
                "unknown vwap anchor '{other}'; use \"1d\", \"1w\", \"1M\" or \"all\""
            ))),
        }
    }

    /// The anchor period a bar opening at unix second `t` belongs to.
    fn key(self, t: i64) -> i64 {
        const DAY: i64 = 86_400;
        match self {
            Anchor::Day => t.div_euclid(DAY),
            // 1970-01-01 was a Thursday; Mondays are 4 days later.
            Anchor::Week => (t - 4 * DAY).div_euclid(7 * DAY),
            Anchor::Month => DateTime::from_timestamp(t, 0).map_or(t.div_euclid(30 * DAY), |d| {
                i64::from(d.year()) * 12 + i64::from(d.month0())
            }),
            Anchor::All => 0,
        }
    }
}

/// Volume-weighted average price of the typical price `(high + low + close) / 3` (Pine
/// `ta.vwap(hlc3)`), restarting at each `anchor` period of the bar open `time`:
/// `sum(tp * volume) / sum(volume)` since the period began. NaN while the period has no volume
/// yet; a bar with a missing value is NaN and adds nothing.
pub fn vwap(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    time: &[i64],
    anchor: Anchor,
) -> Vec<f64> {
    let cols = [high, low, close, volume];
    let n = min_len(&cols).min(time.len());
    let mut out = nans(n);
    let (mut pv, mut vol) = (0.0, 0.0);
    let mut period = None;
    for i in 0..n {
        let key = anchor.key(time[i]);
        if period != Some(key) {
            period = Some(key);
            (pv, vol) = (0.0, 0.0);
        }
        if !all_finite(&cols, i) {
            continue;
        }
        pv += (high[i] + low[i] + close[i]) / 3.0 * volume[i];
        vol += volume[i];
        if vol != 0.0 {
            out[i] = pv / vol;
        }
    }
    out
}

/// On-balance volume (TA-Lib `OBV`): starts at the first bar's volume, then adds the volume when
/// the close rises, subtracts it when it falls, and keeps it when unchanged.
pub fn obv(close: &[f64], volume: &[f64]) -> Vec<f64> {
    let cols = [close, volume];
    let mut out = nans(min_len(&cols));
    for_each_run(
        out.len(),
        |i| all_finite(&cols, i),
        |r| {
            let mut total = volume[r.start];
            out[r.start] = total;
            for i in r.start + 1..r.end {
                if close[i] > close[i - 1] {
                    total += volume[i];
                } else if close[i] < close[i - 1] {
                    total -= volume[i];
                }
                out[i] = total;
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obv_adds_volume_on_up_closes() {
        let o = obv(&[1.0, 2.0, 2.0, 1.0], &[10.0, 5.0, 7.0, 3.0]);
        assert_eq!(o, [10.0, 15.0, 15.0, 12.0]);
        assert!(obv(&[], &[]).is_empty());
    }

    #[test]
    fn vwap_restarts_each_utc_day() {
        let day = 86_400;
        let t = [0, 3_600, day, day + 3_600];
        let p = [10.0, 20.0, 30.0, 40.0];
        let v = vwap(&p, &p, &p, &[1.0, 3.0, 2.0, 2.0], &t, Anchor::Day);
        assert_eq!(v, [10.0, 17.5, 30.0, 35.0]);
        let all = vwap(&p, &p, &p, &[1.0, 3.0, 2.0, 2.0], &t, Anchor::All);
        assert_eq!(all[3], (10.0 + 60.0 + 60.0 + 80.0) / 8.0);
    }

    #[test]
    fn vwap_is_nan_until_volume_trades() {
        let v = vwap(
            &[1.0, 2.0],
            &[1.0, 2.0],
            &[1.0, 2.0],
            &[0.0, 1.0],
            &[0, 60],
            Anchor::Day,
        );
        assert!(v[0].is_nan());
        assert_eq!(v[1], 2.0);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2024-01-07 is a Sunday, 2024-01-08 a Monday.
        let sun = 1_704_585_600;
        assert_ne!(Anchor::Week.key(sun), Anchor::Week.key(sun + 86_400));
        assert_eq!(
            Anchor::Week.key(sun + 86_400),
            Anchor::Week.key(sun + 7 * 86_400 - 1 + 86_400)
        );
        let jan31 = 1_706_659_200;
        assert_ne!(Anchor::Month.key(jan31), Anchor::Month.key(jan31 + 86_400));
        assert!(
            Anchor::parse("2h")
                .unwrap_err()
                .to_string()
                .contains("\"1d\"")
        );
    }
}
