//! Axis ticks and their labels: UTC time axes that pick calendar-aligned steps, and value axes
//! with "nice" 1-2-2.5-5 steps whose labels show just enough decimals.
//!
//! Time labels follow the step: `HH:MM` for steps under a day (a tick at midnight shows `MM-DD`
//! instead, so the day is never lost), `MM-DD` for day and week steps (the first tick of a new
//! year shows `YYYY-MM-DD`), `YYYY-MM` for month steps and `YYYY` for year steps. The chart
//! header shows the full time range.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// 1970-01-05, a Monday: weekly and fortnightly ticks fall on Mondays.
const MONDAY: i64 = 4 * DAY;

/// Fixed steps in seconds, then calendar steps in months.
const FIXED: [i64; 15] = [
    MIN,
    2 * MIN,
    5 * MIN,
    10 * MIN,
    15 * MIN,
    30 * MIN,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
];
const MONTHS: [i32; 10] = [1, 2, 3, 6, 12, 24, 60, 120, 240, 600];

/// Tick positions (unix seconds) with their labels for a time axis over `[t0, t1]`, at most
/// `max_ticks` of them.
pub fn time_ticks(t0: f64, t1: f64, max_ticks: usize) -> Vec<(f64, String)> {
    let (a, b) = (t0.ceil() as i64, t1.floor() as i64);
    if b < a {
        return Vec::new();
    }
    let span = (b - a).max(1);
    let max_ticks = max_ticks.max(2) as i64;
    if let Some(&step) = FIXED.iter().find(|&&s| span / s < max_ticks) {
        let offset = if step >= 7 * DAY { MONDAY } else { 0 };
        let first = (a - offset).div_euclid(step) * step + offset;
        let first = if first < a { first + step } else { first };
        let times: Vec<i64> = (0..)
            .map(|k| first + k * step)
            .take_while(|&t| t <= b)
            .collect();
        return label_fixed(&times, step);
    }
    let months_span = span / (30 * DAY);
    let k = MONTHS
        .iter()
        .copied()
        .find(|&m| months_span / m as i64 + 1 < max_ticks)
        .unwrap_or(1200);
    let Some(start) = DateTime::<Utc>::from_timestamp(a, 0) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut m = start.year() * 12 + start.month0() as i32;
    loop {
        let (y, mo) = (m.div_euclid(12), m.rem_euclid(12) as u32 + 1);
        let Some(t) = NaiveDate::from_ymd_opt(y, mo, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp())
        else {
            break;
        };
        if t > b {
            break;
        }
        if t >= a && m % k == 0 {
            let label = if k >= 12 {
                format!("{y}")
            } else {
                format!("{y}-{mo:02}")
            };
            out.push((t as f64, label));
        }
        m += 1;
    }
    out
}

fn label_fixed(times: &[i64], step: i64) -> Vec<(f64, String)> {
    let mut prev_year = None;
    times
        .iter()
        .filter_map(|&t| {
            let d = DateTime::<Utc>::from_timestamp(t, 0)?;
            let label = if step < DAY {
                if d.hour() == 0 && d.minute() == 0 {
                    d.format("%m-%d").to_string()
                } else {
                    d.format("%H:%M").to_string()
                }
            } else if prev_year.is_some_and(|y| y != d.year()) {
                d.format("%Y-%m-%d").to_string()
            } else {
                d.format("%m-%d").to_string()
            };
            prev_year = Some(d.year());
            Some((t as f64, label))
        })
        .collect()
}

/// A "nice" step (1, 2, 2.5 or 5 times a power of ten) giving about `target` ticks over the range.
pub fn nice_step(lo: f64, hi: f64, target: usize) -> f64 {
    let span = (hi - lo).abs();
    if !span.is_finite() || span == 0.0 {
        return 1.0;
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|&c| c >= norm - 1e-9)
        .unwrap_or(10.0);
    nice * mag
}

/// Tick values on `[lo, hi]` at multiples of `step`.
pub fn value_ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if step.is_nan() || step <= 0.0 || !lo.is_finite() || !hi.is_finite() {
        return Vec::new();
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).take(50).map(|k| k as f64 * step).collect()
}

/// The range `[lo, hi]` widened by `pad` (a fraction of its span) on each side; a flat range is
/// widened around its value so the line sits mid-chart.
pub fn padded(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(1.0) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.01 };
        return (lo - d, hi + d);
    }
    (lo - span * pad, hi + span * pad)
}

/// A tick label for `v` on an axis stepping by `step`: as many decimals as the step needs,
/// `k`/`M`/`B` suffixes for large values, scientific notation for tiny steps.
pub fn fmt_tick(v: f64, step: f64) -> String {
    if v.abs() < step.abs() * 1e-6 {
        return "0".into();
    }
    let a = v.abs().max(step.abs());
    let (div, suffix) = if a >= 1e9 {
        (1e9, "B")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e5 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let s = step / div;
    let Some(dec) = (0..=12usize).find(|&d| {
        let x = s * 10f64.powi(d as i32);
        x >= 0.999 && (x - x.round()).abs() < 1e-6 * x
    }) else {
        return format!("{v:.3e}");
    };
    if dec > 8 {
        let sig = (v.abs().log10().floor() - s.log10().floor()).clamp(0.0, 6.0) as usize;
        return format!("{v:.sig$e}");
    }
    format!("{:.*}{suffix}", dec, v / div)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;

    fn t(s: &str) -> f64 {
        parse_time(s).expect("test time") as f64
    }

    fn labels(ticks: &[(f64, String)]) -> Vec<&str> {
        ticks.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn intraday_axis_shows_hours_and_marks_midnight_with_the_date() {
        let ticks = time_ticks(t("2024-03-01 18:00"), t("2024-03-02 06:00"), 8);
        assert_eq!(
            labels(&ticks),
            [
                "18:00", "20:00", "22:00", "03-02", "02:00", "04:00", "06:00"
            ]
        );
    }

    #[test]
    fn weeks_fall_on_mondays_and_a_new_year_shows_its_year() {
        let ticks = time_ticks(t("2023-11-20"), t("2024-01-20"), 10);
        assert_eq!(ticks[0].1, "11-20"); // 2023-11-20 was a Monday
        assert!(labels(&ticks).contains(&"2024-01-01"));
        assert!(
            ticks
                .windows(2)
                .all(|w| w[1].0 - w[0].0 == (7 * DAY) as f64)
        );
    }

    #[test]
    fn long_ranges_use_months_then_years() {
        let ticks = time_ticks(t("2023-01-15"), t("2023-12-31"), 8);
        assert_eq!(
            labels(&ticks),
            ["2023-03", "2023-05", "2023-07", "2023-09", "2023-11"]
        );
        let ticks = time_ticks(t("2015-01-01"), t("2024-06-01"), 8);
        assert_eq!(labels(&ticks), ["2016", "2018", "2020", "2022", "2024"]);
    }

    #[test]
    fn nice_steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0.0, 100.0, 5), 20.0);
        assert_eq!(nice_step(0.0, 1.0, 4), 0.25);
        assert!((nice_step(0.00001, 0.00002, 5) - 0.000002).abs() < 1e-12);
    }

    #[test]
    fn tick_labels_show_the_decimals_the_step_needs() {
        assert_eq!(fmt_tick(10_500.0, 500.0), "10500");
        assert_eq!(fmt_tick(1.25, 0.25), "1.25");
        assert_eq!(fmt_tick(0.000012, 0.000002), "0.000012");
        assert_eq!(fmt_tick(250_000.0, 50_000.0), "250k");
        assert_eq!(fmt_tick(1_500_000.0, 500_000.0), "1.5M");
        assert_eq!(fmt_tick(1e-13, 0.5), "0");
        assert_eq!(fmt_tick(3e-10, 1e-10), "3e-10");
    }

    #[test]
    fn flat_ranges_are_widened_around_the_value() {
        assert_eq!(padded(5.0, 5.0, 0.05), (4.95, 5.05));
        assert_eq!(padded(0.0, 0.0, 0.05), (-1.0, 1.0));
        assert_eq!(padded(0.0, 10.0, 0.1), (-1.0, 11.0));
    }
}
