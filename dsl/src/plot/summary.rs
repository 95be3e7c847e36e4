//! The `text/plain` side of charts: time ranges and per-series numbers, written for a reader who
//! cannot see the picture.

use crate::display::fmt_num;
use crate::time::format_time;

/// `2024-01-01 00:00 → 2024-01-31 23:00 UTC`.
pub fn time_range(t0: i64, t1: i64) -> String {
    format!("{} → {} UTC", format_time(t0), format_time(t1))
}

/// The x range of a chart for its summary: times, or bar numbers.
pub fn x_range(t0: i64, t1: i64, time_axis: bool) -> String {
    if time_axis {
        time_range(t0, t1)
    } else {
        format!("bars {t0} → {t1}")
    }
}

/// `close: first 1.0000, last 1.2345, min 0.9000, max 1.4000` over the finite values; the
/// number of NaN values is noted when there are any.
pub fn series_line(label: &str, values: &[f64]) -> String {
    let mut finite = values.iter().copied().filter(|v| v.is_finite());
    let Some(first) = finite.next() else {
        return format!("{label}: no values ({} NaN)", values.len());
    };
    let (mut lo, mut hi, mut last) = (first, first, first);
    for v in finite {
        lo = lo.min(v);
        hi = hi.max(v);
        last = v;
    }
    let nan = values.iter().filter(|v| !v.is_finite()).count();
    let mut s = format!(
        "{label}: first {}, last {}, min {}, max {}",
        fmt_num(first),
        fmt_num(last),
        fmt_num(lo),
        fmt_num(hi)
    );
    if nan > 0 {
        s.push_str(&format!(" ({nan} NaN)"));
    }
    s
}

/// Smallest and largest finite value over several slices, if any.
pub fn finite_range<'a>(slices: impl IntoIterator<Item = &'a [f64]>) -> Option<(f64, f64)> {
    let mut out: Option<(f64, f64)> = None;
    for s in slices {
        for &v in s {
            if v.is_finite() {
                out = Some(match out {
                    None => (v, v),
                    Some((lo, hi)) => (lo.min(v), hi.max(v)),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_line_reports_first_last_extremes_and_nan_count() {
        let s = series_line("sma", &[f64::NAN, 2.0, 5.0, 1.0, 3.0]);
        assert_eq!(
            s,
            "sma: first 2.0000, last 3.0000, min 1.0000, max 5.0000 (1 NaN)"
        );
        assert_eq!(series_line("x", &[f64::NAN]), "x: no values (1 NaN)");
    }

    #[test]
    fn finite_range_skips_nan_and_infinities() {
        let a = [f64::NAN, 1.0, f64::INFINITY];
        let b = [-2.0, 0.5];
        assert_eq!(finite_range([&a[..], &b[..]]), Some((-2.0, 1.0)));
        assert_eq!(finite_range([&[f64::NAN][..]]), None);
    }
}
