//! Oscillators over bars (high, low, close, volume): `stoch`, `williams_r`, `cci`, `mfi` and the
//! directional movement family `dmi` / `adx`, all with TA-Lib's definitions and lookbacks.

use super::momentum::sma_of;
use super::volatility::{highest, lowest, tr_at};
use super::{all_finite, check_period, for_each_run, min_len, nans, rolling_sum};
use crate::error::Result;
use std::borrow::Cow;

/// Slow stochastic %K and its %D.
#[derive(Clone, Debug, PartialEq)]
pub struct Stoch {
    pub k: Vec<f64>,
    pub d: Vec<f64>,
}

/// Fast %K: `100 * (close - lowest low) / (highest high - lowest low)` over `period` bars; 0 when
/// the range is exactly 0 (TA-Lib).
fn fast_k(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    let n = min_len(&[high, low, close]);
    let hh = highest(&masked(&[high, low, close], high, n), period)?;
    let ll = lowest(&masked(&[high, low, close], low, n), period)?;
    Ok((0..n)
        .map(|i| {
            let diff = (hh[i] - ll[i]) / 100.0;
            if diff.is_nan() || !close[i].is_finite() {
                f64::NAN
            } else if diff != 0.0 {
                (close[i] - ll[i]) / diff
            } else {
                0.0
            }
        })
        .collect())
}

/// `x` with NaN wherever any of `cols` is not finite, so windows break on any missing input
/// (borrowed as is when everything is finite, the usual case).
fn masked<'a>(cols: &[&[f64]], x: &'a [f64], n: usize) -> Cow<'a, [f64]> {
    if (0..n).all(|i| all_finite(cols, i)) {
        return Cow::Borrowed(&x[..n]);
    }
    Cow::Owned(
        (0..n)
            .map(|i| if all_finite(cols, i) { x[i] } else { f64::NAN })
            .collect(),
    )
}

/// Slow stochastic (TA-Lib `STOCH` with SMA smoothing): `k = sma(fast %K, k_smooth)`,
/// `d = sma(k, d_smooth)`. As in TA-Lib, both start at index
/// `k_period + k_smooth + d_smooth - 3` (19 for 14/3/3).
pub fn stoch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k_period: usize,
    k_smooth: usize,
    d_smooth: usize,
) -> Result<Stoch> {
    check_period("stoch %K", k_period)?;
    check_period("stoch %K smoothing", k_smooth)?;
    check_period("stoch %D smoothing", d_smooth)?;
    let k = sma_of(&fast_k(high, low, close, k_period)?, k_smooth);
    let d = sma_of(&k, d_smooth);
    let mut k = k;
    // TA-Lib reports %K only where %D exists.
    for (kv, dv) in k.iter_mut().zip(&d) {
        if dv.is_nan() {
            *kv = f64::NAN;
        }
    }
    Ok(Stoch { k, d })
}

/// Williams %R (TA-Lib `WILLR`): `-100 * (highest high - close) / (highest high - lowest low)` over
/// `period` bars, from -100 (at the low) to 0 (at the high); 0 when the range is exactly 0.
pub fn williams_r(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("williams_r", period)?;
    let n = min_len(&[high, low, close]);
    let hh = highest(&masked(&[high, low, close], high, n), period)?;
    let ll = lowest(&masked(&[high, low, close], low, n), period)?;
    Ok((0..n)
        .map(|i| {
            let diff = (hh[i] - ll[i]) / -100.0;
            if diff.is_nan() {
                f64::NAN
            } else if diff != 0.0 {
                (hh[i] - close[i]) / diff
            } else {
                0.0
            }
        })
        .collect())
}

/// Commodity channel index (TA-Lib `CCI`): with typical price `tp = (high + low + close) / 3`,
/// `(tp - sma(tp)) / (0.015 * mean absolute deviation of tp)` over `period` bars; 0 when the
/// deviation is 0 (a window of identical prices). The mean deviation costs O(period) per bar, as
/// in TA-Lib.
pub fn cci(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("cci", period)?;
    let cols = [high, low, close];
    let n = min_len(&cols);
    let mut out = nans(n);
    let p = period as f64;
    for_each_run(
        n,
        |i| all_finite(&cols, i),
        |r| {
            let tp: Vec<f64> = r
                .clone()
                .map(|i| (high[i] + low[i] + close[i]) / 3.0)
                .collect();
            for j in period.saturating_sub(1)..tp.len() {
                let w = &tp[j + 1 - period..=j];
                let avg = w.iter().sum::<f64>() / p;
                let dev: f64 = w.iter().map(|v| (v - avg).abs()).sum();
                let d = tp[j] - avg;
                // A constant window is 0 even when `avg` rounds an ulp away from its values.
                let flat = w.iter().all(|&v| v == w[0]);
                out[r.start + j] = if !flat && d != 0.0 && dev != 0.0 {
                    d / (0.015 * (dev / p))
                } else {
                    0.0
                };
            }
        },
    );
    Ok(out)
}

/// Money flow index (TA-Lib `MFI`): the RSI of money flow `tp * volume`, split into positive
/// (typical price up) and negative (down) flow summed over `period` bars:
/// `100 * positive / (positive + negative)`. First value at index `period`. When there is no flow
/// at all the value is 0 (TA-Lib also returns 0 when the total is below 1, which misreads small
/// volumes; we only do so at exactly 0).
pub fn mfi(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Result<Vec<f64>> {
    check_period("mfi", period)?;
    let cols = [high, low, close, volume];
    let n = min_len(&cols);
    let mut out = nans(n);
    for_each_run(
        n,
        |i| all_finite(&cols, i),
        |r| {
            if r.len() <= period {
                return;
            }
            let tp = |i: usize| (high[i] + low[i] + close[i]) / 3.0;
            let (mut pos, mut neg) = (Vec::with_capacity(r.len()), Vec::with_capacity(r.len()));
            for (i, vol) in volume.iter().enumerate().take(r.end).skip(r.start + 1) {
                let (now, before) = (tp(i), tp(i - 1));
                let flow = now * vol;
                pos.push(if now > before { flow } else { 0.0 });
                neg.push(if now < before { flow } else { 0.0 });
            }
            let mut pos_sum = nans(pos.len());
            rolling_sum(&pos, period, |j, s| pos_sum[j] = s);
            rolling_sum(&neg, period, |j, s| {
                let total = pos_sum[j] + s;
                out[r.start + 1 + j] = if total != 0.0 {
                    100.0 * (pos_sum[j] / total)
                } else {
                    0.0
                };
            });
        },
    );
    Ok(out)
}

/// Directional movement: +DI, -DI and ADX.
#[derive(Clone, Debug, PartialEq)]
pub struct Dmi {
    pub plus: Vec<f64>,
    pub minus: Vec<f64>,
    pub adx: Vec<f64>,
}

/// Directional movement index (TA-Lib `PLUS_DI`, `MINUS_DI`, `ADX`). +DM and -DM and the true range
/// are summed over the first `period - 1` bars, then Wilder-smoothed (`s = s - s / period + x`);
/// `±DI = 100 * ±DM / TR` from index `period`; `DX = 100 * |+DI - -DI| / (+DI + -DI)`; ADX is the
/// mean of the first `period` DX values (at index `2 * period - 1`), then Wilder-smoothed.
pub fn dmi(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Dmi> {
    check_period("adx", period)?;
    let cols = [high, low, close];
    let n = min_len(&cols);
    let (mut plus, mut minus, mut adx) = (nans(n), nans(n), nans(n));
    let p = period as f64;
    for_each_run(
        n,
        |i| all_finite(&cols, i),
        |r| {
            let s = r.start;
            let (mut pdm, mut mdm, mut tr) = (0.0, 0.0, 0.0);
            let (mut sum_dx, mut adx_now) = (0.0, f64::NAN);
            for i in s + 1..r.end {
                let dp = high[i] - high[i - 1];
                let dm = low[i - 1] - low[i];
                let t = tr_at(high, low, close, i);
                let k = i - s; // bars of movement seen so far
                if k >= period {
                    pdm -= pdm / p;
                    mdm -= mdm / p;
                    tr = tr - tr / p + t;
                } else {
                    tr += t;
                }
                if dm > 0.0 && dp < dm {
                    mdm += dm;
                } else if dp > 0.0 && dp > dm {
                    pdm += dp;
                }
                if k < period {
                    continue;
                }
                let (pdi, mdi) = if tr != 0.0 {
                    (100.0 * (pdm / tr), 100.0 * (mdm / tr))
                } else {
                    (0.0, 0.0)
                };
                plus[i] = pdi;
                minus[i] = mdi;
                let dx = (tr != 0.0 && pdi + mdi != 0.0)
                    .then(|| 100.0 * ((mdi - pdi).abs() / (mdi + pdi)));
                if k < 2 * period {
                    sum_dx += dx.unwrap_or(0.0);
                    if k == 2 * period - 1 {
                        adx_now = sum_dx / p;
                        adx[i] = adx_now;
                    }
                } else {
                    if let Some(dx) = dx {
                        adx_now = ((adx_now * (p - 1.0)) + dx) / p;
                    }
                    adx[i] = adx_now;
                }
            }
        },
    );
    Ok(Dmi { plus, minus, adx })
}

/// Average directional index (TA-Lib `ADX`); see [`dmi`]. First value at index `2 * period - 1`.
pub fn adx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    Ok(dmi(high, low, close, period)?.adx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stoch_of_a_flat_market_is_zero_like_talib() {
        let s = stoch(&[5.0; 30], &[5.0; 30], &[5.0; 30], 14, 3, 3).unwrap();
        assert!(s.k[..17].iter().all(|x| x.is_nan()) && s.d[..17].iter().all(|x| x.is_nan()));
        assert!(s.k[17..].iter().all(|&x| x == 0.0) && s.d[17..].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn stoch_at_the_top_of_the_range_is_100() {
        let up: Vec<f64> = (0..20).map(f64::from).collect();
        let s = stoch(&up, &up, &up, 5, 1, 1).unwrap();
        assert!(s.k[4..].iter().all(|&x| (x - 100.0).abs() < 1e-12));
        assert!(stoch(&up, &up, &up, 0, 3, 3).is_err());
        assert!(stoch(&[], &[], &[], 5, 3, 3).unwrap().k.is_empty());
    }

    #[test]
    fn williams_r_spans_minus_100_to_0() {
        let w = williams_r(&[10.0, 10.0, 10.0], &[0.0, 0.0, 0.0], &[5.0, 0.0, 10.0], 2).unwrap();
        assert!(w[0].is_nan());
        assert_eq!(&w[1..], &[-100.0, 0.0]);
        assert_eq!(
            williams_r(&[1.0; 3], &[1.0; 3], &[1.0; 3], 2).unwrap()[2],
            0.0
        );
    }

    #[test]
    fn cci_of_constant_bars_is_zero() {
        let c = cci(&[2.0; 10], &[1.0; 10], &[1.5; 10], 4).unwrap();
        assert!(c[..3].iter().all(|x| x.is_nan()));
        assert!(c[3..].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn mfi_without_volume_is_zero_and_with_rising_prices_is_100() {
        let up: Vec<f64> = (1..20).map(f64::from).collect();
        let m = mfi(&up, &up, &up, &[0.0; 19], 3).unwrap();
        assert!(m[..3].iter().all(|x| x.is_nan()) && m[3..].iter().all(|&x| x == 0.0));
        let m = mfi(&up, &up, &up, &[1.0; 19], 3).unwrap();
        assert!(m[3..].iter().all(|&x| x == 100.0));
    }

    #[test]
    fn adx_warm_up_is_two_periods_minus_one() {
        let h: Vec<f64> = (0..40)
            .map(|i| 10.0 + (i as f64 * 0.7).sin() + i as f64 * 0.1)
            .collect();
        let l: Vec<f64> = h.iter().map(|x| x - 1.0).collect();
        let c: Vec<f64> = h.iter().map(|x| x - 0.4).collect();
        let d = dmi(&h, &l, &c, 5).unwrap();
        assert!(d.adx[..9].iter().all(|x| x.is_nan()) && d.adx[9..].iter().all(|x| x.is_finite()));
        assert!(d.plus[..5].iter().all(|x| x.is_nan()) && d.plus[5].is_finite());
        assert!(adx(&h, &l, &c, 0).is_err());
    }

    #[test]
    fn adx_of_a_steady_uptrend_is_100() {
        let h: Vec<f64> = (0..40).map(f64::from).collect();
        let l: Vec<f64> = h.iter().map(|x| x - 1.0).collect();
        let a = adx(&h, &l, &h, 5).unwrap();
        assert!(a[9..].iter().all(|&x| (x - 100.0).abs() < 1e-9), "{a:?}");
    }
}
