//! Ranges and bands: `true_range`, `atr`, `stdev`, `bbands`, `zscore` (TA-Lib), `highest`/`lowest`
//! (TA-Lib `MAX`/`MIN`), `donchian` and `keltner` (Pine).

use super::trend::{ema_run, sma_run};
use super::{all_finite, check_period, for_each_run, min_len, nans, per_run};
use crate::error::Result;
use std::collections::VecDeque;

/// Upper, middle and lower band.
#[derive(Clone, Debug, PartialEq)]
pub struct Bands {
    pub upper: Vec<f64>,
    pub middle: Vec<f64>,
    pub lower: Vec<f64>,
}

/// Runs `kernel(range)` over each run of bars where all of `cols` are finite, with outputs of
/// length `min_len(cols)` that start as NaN.
fn per_run_cols<const K: usize>(
    cols: &[&[f64]],
    mut kernel: impl FnMut(std::ops::Range<usize>, &mut [Vec<f64>; K]),
) -> [Vec<f64>; K] {
    let n = min_len(cols);
    let mut outs: [Vec<f64>; K] = std::array::from_fn(|_| nans(n));
    for_each_run(n, |i| all_finite(cols, i), |r| kernel(r, &mut outs));
    outs
}

pub(crate) fn tr_at(h: &[f64], l: &[f64], c: &[f64], i: usize) -> f64 {
    let prev = c[i - 1];
    let mut greatest = h[i] - l[i];
    let up = (prev - h[i]).abs();
    if up > greatest {
        greatest = up;
    }
    let down = (prev - l[i]).abs();
    if down > greatest {
        greatest = down;
    }
    greatest
}

/// True range (TA-Lib `TRANGE`): `max(high - low, |high - prev close|, |low - prev close|)`.
/// NaN at the first bar, which has no previous close.
pub fn true_range(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    let [out] = per_run_cols(&[high, low, close], |r, [out]| {
        for (i, o) in out.iter_mut().enumerate().take(r.end).skip(r.start + 1) {
            *o = tr_at(high, low, close, i);
        }
    });
    out
}

/// Average true range with Wilder smoothing (TA-Lib `ATR`): the first value, at index `period`, is
/// the mean of the first `period` true ranges; then `atr = (atr * (period - 1) + tr) / period`.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("atr", period)?;
    let p = period as f64;
    let [out] = per_run_cols(&[high, low, close], |r, [out]| {
        if r.len() <= period {
            return;
        }
        let s = r.start;
        let mut prev = (s + 1..=s + period)
            .map(|i| tr_at(high, low, close, i))
            .sum::<f64>()
            / p;
        out[s + period] = prev;
        for (i, o) in out.iter_mut().enumerate().take(r.end).skip(s + period + 1) {
            prev *= p - 1.0;
            prev += tr_at(high, low, close, i);
            prev /= p;
            *o = prev;
        }
    });
    Ok(out)
}

/// Rolling mean and population variance of a finite run: `emit(i, mean, variance)` from index
/// `period - 1`. A sliding Welford update, re-summed exactly every `period` bars; a window of
/// identical values has variance exactly 0.
fn rolling_var(x: &[f64], period: usize, mut emit: impl FnMut(usize, f64, f64)) {
    if x.len() < period {
        return;
    }
    let p = period as f64;
    let exact = |end: usize| {
        let w = &x[end + 1 - period..=end];
        let mean = w.iter().sum::<f64>() / p;
        (mean, w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>())
    };
    let mut same = 1; // length of the run of identical values ending at i
    for i in 1..period {
        same = if x[i] == x[i - 1] { same + 1 } else { 1 };
    }
    let (mut mean, mut m2) = exact(period - 1);
    for i in period - 1..x.len() {
        if i >= period {
            same = if x[i] == x[i - 1] { same + 1 } else { 1 };
            if (i + 1) % period == 0 {
                (mean, m2) = exact(i);
            } else {
                let (xin, xout) = (x[i], x[i - period]);
                let next = mean + (xin - xout) / p;
                m2 += (xin - xout) * (xin - next + xout - mean);
                mean = next;
            }
        }
        let var = if same >= period {
            0.0
        } else {
            (m2 / p).max(0.0)
        };
        emit(i, mean, var);
    }
}

/// Population standard deviation over `period` bars (TA-Lib `STDDEV` with `nbdev = 1`; Pine's
/// `ta.stdev` default). First value at index `period - 1`.
pub fn stdev(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("stdev", period)?;
    Ok(per_run(x, |x, out| {
        rolling_var(x, period, |i, _, var| out[i] = var.sqrt())
    }))
}

/// Bollinger bands (TA-Lib `BBANDS` with an SMA): `middle = sma(x, period)`,
/// `upper/lower = middle ± mult * stdev(x, period)` (population standard deviation).
pub fn bbands(x: &[f64], period: usize, mult: f64) -> Result<Bands> {
    check_period("bbands", period)?;
    let middle = per_run(x, |x, out| sma_run(x, period, out));
    let sd = stdev(x, period)?;
    let upper = middle.iter().zip(&sd).map(|(m, s)| m + mult * s).collect();
    let lower = middle.iter().zip(&sd).map(|(m, s)| m - mult * s).collect();
    Ok(Bands {
        upper,
        middle,
        lower,
    })
}

/// Standard score over `period` bars: `(x - mean) / stdev` (population); NaN where the window is
/// constant.
pub fn zscore(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("zscore", period)?;
    Ok(per_run(x, |x, out| {
        rolling_var(x, period, |i, mean, var| {
            out[i] = if var > 0.0 {
                (x[i] - mean) / var.sqrt()
            } else {
                f64::NAN
            }
        })
    }))
}

/// Rolling extreme of a finite run with a monotonic deque (O(n)). `dominates(new, old)` is true
/// when a newer value makes an older one irrelevant (`>=` for a maximum).
fn rolling_extreme(
    x: &[f64],
    period: usize,
    out: &mut [f64],
    dominates: impl Fn(f64, f64) -> bool,
) {
    let mut q: VecDeque<usize> = VecDeque::with_capacity(period.min(x.len()) + 1);
    for (i, &v) in x.iter().enumerate() {
        while q.back().is_some_and(|&j| dominates(v, x[j])) {
            q.pop_back();
        }
        q.push_back(i);
        if q.front().is_some_and(|&j| j + period <= i) {
            q.pop_front();
        }
        if i + 1 >= period
            && let Some(&j) = q.front()
        {
            out[i] = x[j];
        }
    }
}

/// Highest value over the last `period` bars, this bar included (TA-Lib `MAX`, Pine `ta.highest`).
pub fn highest(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("highest", period)?;
    Ok(per_run(x, |x, out| {
        rolling_extreme(x, period, out, |a, b| a >= b)
    }))
}

/// Lowest value over the last `period` bars, this bar included (TA-Lib `MIN`, Pine `ta.lowest`).
pub fn lowest(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("lowest", period)?;
    Ok(per_run(x, |x, out| {
        rolling_extreme(x, period, out, |a, b| a <= b)
    }))
}

/// Donchian channel (Pine): `upper = highest(high, period)`, `lower = lowest(low, period)`,
/// `middle = (upper + lower) / 2`, this bar included. First value at index `period - 1`.
pub fn donchian(high: &[f64], low: &[f64], period: usize) -> Result<Bands> {
    check_period("donchian", period)?;
    let [upper, lower] = per_run_cols(&[high, low], |r, [up, lo]| {
        rolling_extreme(&high[r.clone()], period, &mut up[r.clone()], |a, b| a >= b);
        rolling_extreme(&low[r.clone()], period, &mut lo[r], |a, b| a <= b);
    });
    let middle = upper
        .iter()
        .zip(&lower)
        .map(|(u, l)| (u + l) / 2.0)
        .collect();
    Ok(Bands {
        upper,
        middle,
        lower,
    })
}

/// Keltner channel (Pine `ta.kc` with `useTrueRange = true`): `middle = ema(close, period)`,
/// `upper/lower = middle ± mult * ema(true range, period)`, where the first bar's true range is
/// `high - low`. Both EMAs are seeded with an SMA, so the first value is at index `period - 1`.
pub fn keltner(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    mult: f64,
) -> Result<Bands> {
    check_period("keltner", period)?;
    let k = 2.0 / (period as f64 + 1.0);
    let [upper, middle, lower] = per_run_cols(&[high, low, close], |r, [up, mid, lo]| {
        let s = r.start;
        let tr: Vec<f64> = r
            .clone()
            .map(|i| {
                if i == s {
                    high[i] - low[i]
                } else {
                    tr_at(high, low, close, i)
                }
            })
            .collect();
        let mut range = nans(tr.len());
        ema_run(
            &close[r.clone()],
            period,
            k,
            period - 1,
            &mut mid[r.clone()],
        );
        if tr.len() >= period {
            ema_run(&tr, period, k, period - 1, &mut range);
        }
        for (j, i) in r.enumerate() {
            up[i] = mid[i] + mult * range[j];
            lo[i] = mid[i] - mult * range[j];
        }
    });
    Ok(Bands {
        upper,
        middle,
        lower,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_range_uses_the_previous_close() {
        let tr = true_range(&[10.0, 12.0], &[9.0, 11.0], &[9.5, 11.5]);
        assert!(tr[0].is_nan());
        assert_eq!(tr[1], 2.5);
    }

    #[test]
    fn atr_of_constant_bars_is_the_constant_range() {
        let v = atr(&[2.0; 20], &[1.0; 20], &[1.5; 20], 5).unwrap();
        assert!(v[..5].iter().all(|x| x.is_nan()));
        assert!(v[5..].iter().all(|&x| (x - 1.0).abs() < 1e-12));
    }

    #[test]
    fn atr_edge_cases() {
        assert!(atr(&[], &[], &[], 14).unwrap().is_empty());
        assert!(
            atr(&[1.0; 3], &[1.0; 3], &[1.0; 3], 14)
                .unwrap()
                .iter()
                .all(|x| x.is_nan())
        );
        assert!(atr(&[1.0], &[1.0], &[1.0], 0).is_err());
    }

    #[test]
    fn stdev_of_a_constant_window_is_exactly_zero() {
        let mut x: Vec<f64> = (0..30)
            .map(|i| (i as f64 * 1.7).sin() * 50.0 + 1e4)
            .collect();
        x.extend(std::iter::repeat_n(0.1, 12));
        let v = stdev(&x, 10).unwrap();
        assert!(v[..9].iter().all(|x| x.is_nan()));
        assert!(v[39..].iter().all(|&s| s == 0.0), "{:?}", &v[39..]);
    }

    #[test]
    fn stdev_matches_a_two_pass_computation() {
        let x: Vec<f64> = (0..200)
            .map(|i| (i as f64 * 0.37).cos() * 3.0 + 6e4)
            .collect();
        let v = stdev(&x, 14).unwrap();
        for i in 13..x.len() {
            let w = &x[i - 13..=i];
            let m = w.iter().sum::<f64>() / 14.0;
            let sd = (w.iter().map(|a| (a - m).powi(2)).sum::<f64>() / 14.0).sqrt();
            assert!((v[i] - sd).abs() < 1e-9, "{i}: {} vs {sd}", v[i]);
        }
    }

    #[test]
    fn bbands_are_symmetric_around_the_sma() {
        let x: Vec<f64> = (0..50).map(|i| (i % 7) as f64).collect();
        let b = bbands(&x, 5, 2.0).unwrap();
        for i in 4..50 {
            assert!(((b.upper[i] - b.middle[i]) - (b.middle[i] - b.lower[i])).abs() < 1e-12);
        }
    }

    #[test]
    fn zscore_of_constant_window_is_nan() {
        let z = zscore(&[1.0, 2.0, 3.0, 3.0, 3.0], 2).unwrap();
        assert_eq!(z[1], 1.0);
        assert!(z[3].is_nan() && z[4].is_nan());
    }

    #[test]
    fn highest_and_lowest_slide_with_the_window() {
        let x = [1.0, 3.0, 2.0, 5.0, 4.0, 0.0, 0.0, 0.0];
        let h = highest(&x, 3).unwrap();
        let l = lowest(&x, 3).unwrap();
        assert!(h[1].is_nan());
        assert_eq!(&h[2..], &[3.0, 5.0, 5.0, 5.0, 4.0, 0.0]);
        assert_eq!(&l[2..], &[1.0, 2.0, 2.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn highest_of_nan_window_is_nan() {
        let h = highest(&[1.0, f64::NAN, 3.0, 4.0], 2).unwrap();
        assert!(h[1].is_nan() && h[2].is_nan());
        assert_eq!(h[3], 4.0);
    }

    #[test]
    fn donchian_middle_is_the_midpoint() {
        let d = donchian(&[5.0, 6.0, 7.0], &[1.0, 2.0, 0.0], 2).unwrap();
        assert!(d.upper[0].is_nan());
        assert_eq!((d.upper[2], d.lower[2], d.middle[2]), (7.0, 0.0, 3.5));
    }

    #[test]
    fn keltner_of_constant_bars_is_close_plus_minus_range() {
        let k = keltner(&[11.0; 30], &[9.0; 30], &[10.0; 30], 10, 2.0).unwrap();
        assert!(k.middle[8].is_nan() && k.upper[8].is_nan());
        assert!((k.middle[9] - 10.0).abs() < 1e-12);
        assert!((k.upper[20] - 14.0).abs() < 1e-12 && (k.lower[20] - 6.0).abs() < 1e-12);
    }
}
