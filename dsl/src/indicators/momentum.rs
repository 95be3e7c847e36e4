//! Momentum of one series: `rsi`, `macd` (TA-Lib's definitions and alignment), `roc` (TA-Lib),
//! `pct_change` (pandas) and `change` (Pine `ta.change`).

use super::trend::sma_run;
use super::{check_period, nans, per_run};
use crate::error::{DslError, Result};

/// Relative strength index with Wilder smoothing (TA-Lib `RSI`): the first average gain/loss is the
/// mean over the first `period` changes, then `avg = (avg * (period - 1) + x) / period`. First value
/// at index `period`. `100 * gain / (gain + loss)`; a window with no movement at all (gain and loss
/// exactly 0) gives 0, as TA-Lib does.
pub fn rsi(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("rsi", period)?;
    let p = period as f64;
    Ok(per_run(x, |x, out| {
        if x.len() <= period {
            return;
        }
        let ratio = |gain: f64, loss: f64| {
            let total = gain + loss;
            if total != 0.0 {
                100.0 * (gain / total)
            } else {
                0.0
            }
        };
        let (mut gain, mut loss) = (0.0, 0.0);
        for i in 1..=period {
            let d = x[i] - x[i - 1];
            if d < 0.0 {
                loss -= d;
            } else {
                gain += d;
            }
        }
        gain /= p;
        loss /= p;
        out[period] = ratio(gain, loss);
        for i in period + 1..x.len() {
            let d = x[i] - x[i - 1];
            gain *= p - 1.0;
            loss *= p - 1.0;
            if d < 0.0 {
                loss -= d;
            } else {
                gain += d;
            }
            gain /= p;
            loss /= p;
            out[i] = ratio(gain, loss);
        }
    }))
}

/// MACD line, signal line and histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct Macd {
    pub macd: Vec<f64>,
    pub signal: Vec<f64>,
    pub hist: Vec<f64>,
}

/// MACD (TA-Lib `MACD`): `ema(fast) - ema(slow)`, its `signal`-period EMA and their difference.
/// As in TA-Lib, the fast EMA starts at the slow EMA's first bar (seeded with the SMA of the `fast`
/// values ending there), and all three outputs start at index `slow + signal - 2` (33 for 12/26/9).
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> Result<Macd> {
    check_period("macd fast", fast)?;
    check_period("macd slow", slow)?;
    check_period("macd signal", signal)?;
    if fast >= slow {
        return Err(DslError::invalid(format!(
            "macd fast period ({fast}) must be less than the slow period ({slow}); e.g. macd(close, 12, 26, 9)"
        )));
    }
    let n = x.len();
    let (mut m, mut s, mut h) = (nans(n), nans(n), nans(n));
    let kf = 2.0 / (fast as f64 + 1.0);
    let ks = 2.0 / (slow as f64 + 1.0);
    let kg = 2.0 / (signal as f64 + 1.0);
    let first = slow - 1;
    let mean = |w: &[f64]| w.iter().sum::<f64>() / w.len() as f64;
    super::for_each_run(
        n,
        |i| x[i].is_finite(),
        |r| {
            let run = &x[r.clone()];
            if run.len() < first + signal {
                return;
            }
            // One pass: both EMAs seeded at `first`, the line written to `m`, the signal EMA seeded
            // with the mean of the first `signal` line values.
            let (mut f, mut sl) = (mean(&run[first + 1 - fast..=first]), mean(&run[..slow]));
            let mut sig = 0.0;
            for (j, &v) in run.iter().enumerate().skip(first) {
                if j > first {
                    f = ((v - f) * kf) + f;
                    sl = ((v - sl) * ks) + sl;
                }
                let i = r.start + j;
                m[i] = f - sl;
                let k = j - first; // index on the line
                if k + 1 == signal {
                    sig = mean(&m[i + 1 - signal..=i]);
                } else if k + 1 > signal {
                    sig = ((m[i] - sig) * kg) + sig;
                }
                if k + 1 >= signal {
                    s[i] = sig;
                    h[i] = m[i] - sig;
                }
            }
            // TA-Lib reports the line only where the signal exists.
            m[r.start + first..r.start + first + signal - 1].fill(f64::NAN);
        },
    );
    Ok(Macd {
        macd: m,
        signal: s,
        hist: h,
    })
}

/// Rate of change in percent over `period` bars (TA-Lib `ROC`): `(x / x[i-period] - 1) * 100`;
/// 0 when the old value is exactly 0 (as TA-Lib). First value at index `period`.
pub fn roc(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("roc", period)?;
    Ok(per_run(x, |x, out| {
        for i in period..x.len() {
            let prev = x[i - period];
            out[i] = if prev != 0.0 {
                ((x[i] / prev) - 1.0) * 100.0
            } else {
                0.0
            };
        }
    }))
}

/// Fractional change over `period` bars, as pandas' `pct_change`: `x / x[i-period] - 1`
/// (0.05 is +5 %; `roc` gives percent). NaN when the old value is 0.
pub fn pct_change(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("pct_change", period)?;
    Ok(per_run(x, |x, out| {
        for i in period..x.len() {
            let prev = x[i - period];
            out[i] = if prev != 0.0 {
                x[i] / prev - 1.0
            } else {
                f64::NAN
            };
        }
    }))
}

/// Difference with the value `period` bars ago (Pine `ta.change`): `x - x[i-period]`.
pub fn change(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("change", period)?;
    Ok(per_run(x, |x, out| {
        for i in period..x.len() {
            out[i] = x[i] - x[i - period];
        }
    }))
}

/// SMA over a finite run, for indicators that smooth an intermediate line.
pub(crate) fn sma_of(x: &[f64], period: usize) -> Vec<f64> {
    per_run(x, |x, out| sma_run(x, period, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsi_of_constant_series_is_zero_like_talib() {
        let v = rsi(&[5.0; 30], 14).unwrap();
        assert!(v[..14].iter().all(|x| x.is_nan()));
        assert!(v[14..].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn rsi_of_a_rising_series_is_100() {
        let x: Vec<f64> = (0..20).map(f64::from).collect();
        let v = rsi(&x, 5).unwrap();
        assert!(v[5..].iter().all(|&x| x == 100.0));
    }

    #[test]
    fn rsi_needs_more_than_period_bars() {
        assert!(rsi(&[1.0, 2.0, 3.0], 3).unwrap().iter().all(|x| x.is_nan()));
        assert!(rsi(&[], 3).unwrap().is_empty());
        assert!(rsi(&[1.0], 0).is_err());
    }

    #[test]
    fn macd_outputs_start_after_slow_plus_signal_warm_up() {
        let x: Vec<f64> = (0..60).map(|i| 100.0 + (i as f64 * 0.3).sin()).collect();
        let m = macd(&x, 12, 26, 9).unwrap();
        assert!(m.macd[..33].iter().all(|x| x.is_nan()));
        assert!(m.macd[33..].iter().all(|x| x.is_finite()));
        for i in 33..60 {
            assert_eq!(m.hist[i], m.macd[i] - m.signal[i]);
        }
    }

    #[test]
    fn macd_rejects_fast_not_below_slow() {
        let e = macd(&[1.0; 10], 26, 12, 9).unwrap_err().to_string();
        assert!(e.contains("less than the slow"), "{e}");
    }

    #[test]
    fn macd_of_constant_series_is_zero() {
        let m = macd(&[3.0; 50], 3, 6, 2).unwrap();
        assert!(m.macd[6..].iter().all(|&x| x.abs() < 1e-12));
    }

    #[test]
    fn roc_pct_change_and_change_agree() {
        let x = [100.0, 110.0, 99.0];
        let r = roc(&x, 1).unwrap();
        let p = pct_change(&x, 1).unwrap();
        let c = change(&x, 1).unwrap();
        assert!(r[0].is_nan() && p[0].is_nan() && c[0].is_nan());
        assert!((r[1] - 10.0).abs() < 1e-12 && (p[1] - 0.1).abs() < 1e-12);
        assert!((r[2] + 10.0).abs() < 1e-12 && (p[2] + 0.1).abs() < 1e-12);
        assert_eq!(&c[1..], &[10.0, -11.0]);
    }

    #[test]
    fn change_from_zero_is_zero_roc_and_nan_pct_change() {
        assert_eq!(roc(&[0.0, 1.0], 1).unwrap()[1], 0.0);
        assert!(pct_change(&[0.0, 1.0], 1).unwrap()[1].is_nan());
    }

    #[test]
    fn nan_input_restarts_rsi_warm_up() {
        let mut x: Vec<f64> = (0..20).map(|i| (i % 3) as f64).collect();
        x[10] = f64::NAN;
        let v = rsi(&x, 3).unwrap();
        assert!(v[3].is_finite());
        assert!(v[10..14].iter().all(|x| x.is_nan()));
        assert!(v[14].is_finite());
    }
}
