//! Drawdowns: the underwater curve, the deepest fall and the longest time below a peak.
//!
//! - drawdown[t] = `(equity[t] / max(equity[..=t]) − 1) × 100`, in percent, 0 or negative;
//! - max drawdown = the deepest fall, reported as a **positive** percent (25 = equity fell 25 %
//!   below its peak; backtesting.py and vectorbt print it negative);
//! - max drawdown duration = the most bars (and time) from a peak until equity first regains it,
//!   or until the end if it never does.

/// The drawdown curve in percent (≤ 0), with the initial cash as the first peak.
pub fn drawdown_curve(equity: &[f64], start: f64) -> Vec<f64> {
    let mut peak = start;
    equity
        .iter()
        .map(|&e| {
            if e > peak {
                peak = e;
            }
            if peak > 0.0 {
                (e / peak - 1.0) * 100.0
            } else {
                0.0
            }
        })
        .collect()
}

/// The largest drawdown in percent, positive.
pub fn max_drawdown_pct(curve: &[f64]) -> f64 {
    -curve.iter().copied().fold(0.0, f64::min)
}

/// Longest stretch under water: (bars, seconds) using the bar times.
pub fn max_duration(curve: &[f64], time: &[i64]) -> (usize, i64) {
    let mut best = (0usize, 0i64);
    let mut start: Option<usize> = None;
    for (i, &d) in curve.iter().enumerate() {
        if d < 0.0 {
            let s = *start.get_or_insert(i.saturating_sub(1));
            let bars = i - s;
            let secs = time.get(i).zip(time.get(s)).map_or(0, |(a, b)| a - b);
            if bars > best.0 {
                best = (bars, secs);
            }
        } else {
            start = None;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_is_measured_from_the_running_peak() {
        let c = drawdown_curve(&[100.0, 120.0, 90.0, 130.0], 100.0);
        assert_eq!(c[0], 0.0);
        assert!((c[2] + 25.0).abs() < 1e-12);
        assert_eq!(c[3], 0.0);
        assert!((max_drawdown_pct(&c) - 25.0).abs() < 1e-12);
    }

    #[test]
    fn duration_counts_bars_from_the_peak_to_recovery() {
        let eq = [100.0, 120.0, 90.0, 100.0, 119.0, 121.0, 110.0];
        let t: Vec<i64> = (0..7).map(|i| i * 60).collect();
        let c = drawdown_curve(&eq, 100.0);
        // Peak at bar 1, under water at 2, 3, 4, recovered at 5: 3 bars from the peak.
        assert_eq!(max_duration(&c, &t), (3, 180));
    }
}
