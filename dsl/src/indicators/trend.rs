//! Moving averages: `sma`, `ema`, `wma` (TA-Lib's definitions) and `rma` (Pine's Wilder average).

use super::{check_period, per_run, rolling_sum};
use crate::error::Result;

/// Simple moving average: the mean of the last `period` values. First value at index
/// `period - 1` (TA-Lib `SMA`).
pub fn sma(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("sma", period)?;
    Ok(per_run(x, |x, out| sma_run(x, period, out)))
}

pub(crate) fn sma_run(x: &[f64], period: usize, out: &mut [f64]) {
    let p = period as f64;
    rolling_sum(x, period, |i, s| out[i] = s / p);
}

/// Exponential moving average with `k = 2 / (period + 1)`, seeded with the SMA of the first
/// `period` values, so the first value is at index `period - 1` (TA-Lib `EMA`; Pine's `ta.ema`
/// seeds the same way).
pub fn ema(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("ema", period)?;
    let k = 2.0 / (period as f64 + 1.0);
    Ok(per_run(x, |x, out| ema_run(x, period, k, period - 1, out)))
}

/// An EMA whose first output is at `first` (>= period - 1), seeded with the mean of the `period`
/// values ending there (TA-Lib's seeding when an EMA starts later than its lookback).
pub(crate) fn ema_run(x: &[f64], period: usize, k: f64, first: usize, out: &mut [f64]) {
    if x.len() <= first {
        return;
    }
    let mut prev = x[first + 1 - period..=first].iter().sum::<f64>() / period as f64;
    out[first] = prev;
    for i in first + 1..x.len() {
        prev = ((x[i] - prev) * k) + prev;
        out[i] = prev;
    }
}

/// Wilder's moving average (Pine `ta.rma`): `alpha = 1 / period`, seeded with the SMA of the first
/// `period` values; first value at index `period - 1`. (TA-Lib has no RMA; its RSI and ATR use the
/// same smoothing internally.)
pub fn rma(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("rma", period)?;
    let alpha = 1.0 / period as f64;
    Ok(per_run(x, |x, out| {
        if x.len() < period {
            return;
        }
        let mut prev = x[..period].iter().sum::<f64>() / period as f64;
        out[period - 1] = prev;
        for i in period..x.len() {
            prev = alpha * x[i] + (1.0 - alpha) * prev;
            out[i] = prev;
        }
    }))
}

/// Linearly weighted moving average: weights 1..=period, newest heaviest (TA-Lib `WMA`). First
/// value at index `period - 1`.
pub fn wma(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("wma", period)?;
    let divider = period as f64 * (period as f64 + 1.0) / 2.0;
    Ok(per_run(x, |x, out| {
        if x.len() < period {
            return;
        }
        // weighted = sum(w_j * x_j); plain = sum(x_j) over the window. Sliding by one bar:
        // weighted += p * new - plain_before_slide; re-summed exactly every `period` bars.
        let exact = |end: usize| {
            let w = &x[end + 1 - period..=end];
            let weighted: f64 = w.iter().enumerate().map(|(j, v)| (j + 1) as f64 * v).sum();
            (weighted, w.iter().sum::<f64>())
        };
        let (mut weighted, mut plain) = exact(period - 1);
        out[period - 1] = weighted / divider;
        for i in period..x.len() {
            if (i + 1) % period == 0 {
                (weighted, plain) = exact(i);
            } else {
                weighted += period as f64 * x[i] - plain;
                plain += x[i] - x[i - period];
            }
            out[i] = weighted / divider;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(1.0)
    }

    #[test]
    fn sma_of_short_input_is_all_warm_up() {
        let v = sma(&[1.0, 2.0], 3).unwrap();
        assert_eq!(v.len(), 2);
        assert!(v.iter().all(|x| x.is_nan()));
        assert!(sma(&[], 3).unwrap().is_empty());
    }

    #[test]
    fn sma_averages_the_last_period_values() {
        let v = sma(&[1.0, 2.0, 3.0, 4.0], 2).unwrap();
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], &[1.5, 2.5, 3.5]);
    }

    #[test]
    fn sma_restarts_after_a_nan_gap() {
        let v = sma(&[1.0, 2.0, f64::NAN, 4.0, 6.0, 8.0], 2).unwrap();
        assert_eq!(v[1], 1.5);
        assert!(v[2].is_nan() && v[3].is_nan());
        assert_eq!(&v[4..], &[5.0, 7.0]);
    }

    #[test]
    fn zero_period_is_rejected_by_every_average() {
        assert!(sma(&[1.0], 0).is_err());
        assert!(ema(&[1.0], 0).is_err());
        assert!(wma(&[1.0], 0).is_err());
        assert!(rma(&[1.0], 0).is_err());
    }

    #[test]
    fn averages_of_a_constant_are_the_constant() {
        let x = vec![7.25; 50];
        for v in [
            sma(&x, 10).unwrap(),
            ema(&x, 10).unwrap(),
            wma(&x, 10).unwrap(),
            rma(&x, 10).unwrap(),
        ] {
            assert!(v[..9].iter().all(|x| x.is_nan()));
            assert!(v[9..].iter().all(|&y| close(y, 7.25)), "{v:?}");
        }
    }

    #[test]
    fn ema_is_seeded_with_the_sma() {
        let v = ema(&[1.0, 2.0, 3.0, 10.0], 3).unwrap();
        assert_eq!(v[2], 2.0);
        assert_eq!(v[3], 2.0 + (10.0 - 2.0) * 0.5);
    }

    #[test]
    fn rma_uses_wilder_smoothing() {
        let v = rma(&[2.0, 4.0, 8.0], 2).unwrap();
        assert_eq!(v[1], 3.0);
        assert_eq!(v[2], 0.5 * 8.0 + 0.5 * 3.0);
    }

    #[test]
    fn wma_weights_the_newest_bar_most() {
        let x: Vec<f64> = (0..40).map(|i| ((i * 7919) % 31) as f64).collect();
        let v = wma(&x, 4).unwrap();
        for i in 3..x.len() {
            let direct = (x[i - 3] + 2.0 * x[i - 2] + 3.0 * x[i - 1] + 4.0 * x[i]) / 10.0;
            assert!(close(v[i], direct), "{i}: {} vs {direct}", v[i]);
        }
    }

    #[test]
    fn period_one_returns_the_input() {
        let x = [3.0, 1.0, 4.0];
        assert_eq!(sma(&x, 1).unwrap(), x);
        assert_eq!(ema(&x, 1).unwrap(), x);
        assert_eq!(wma(&x, 1).unwrap(), x);
    }
}
