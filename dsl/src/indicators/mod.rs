//! Indicators computed in Rust over whole series: pure functions over `&[f64]` returning a `Vec<f64>`
//! of the same length, NaN during warm-up. The Rhai layer (`script::indicators_api`) wraps them for
//! `Series` and `Bars`.
//!
//! Conventions shared by every indicator here:
//! - **TA-Lib values.** Where TA-Lib has the indicator, values equal TA-Lib's (seeding, Wilder
//!   smoothing, lookback) to 1e-9, and the first non-NaN index equals TA-Lib's lookback. The tests
//!   compare against fixtures written by `tests/python/gen_talib_fixtures.py`. Where TA-Lib has none
//!   (vwap, donchian, keltner, rma, crossover, rising/falling, change, cum), Pine Script's rule is
//!   used (pandas' for `pct_change`) and stated in the function's doc.
//! - **Missing values.** A NaN or ±inf input splits the series: each run of finite values is computed
//!   as a series of its own, with its own warm-up, and bars with a non-finite input are NaN. So
//!   `ema(rsi(close, 14), 9)` starts where the RSI does (as the `talib` Python wrapper does with
//!   leading NaN), and a gap in the data restarts the indicator rather than poisoning it forever.
//! - **Zero denominators.** Where TA-Lib returns 0 for a zero range (RSI, stoch, Williams %R, CCI,
//!   MFI, ROC), so do we, but only for an exact zero (a window of identical prices or no volume):
//!   TA-Lib's absolute thresholds (1e-8 in RSI/ADX/STDDEV, a total flow below 1 in MFI) would zero
//!   out real values on micro-priced tokens, which are common on chain (a 20-bar stdev below 1e-4
//!   is 0 in TA-Lib); ours stay real there.
//! - **No look-ahead.** The value at bar `i` depends on bars `..=i` only (tested on every indicator).
//! - **Cost.** O(n): running sums (re-summed exactly every `period` bars so rounding cannot pile up)
//!   and monotonic deques; CCI's mean deviation is the one inherently O(n·period) step, as in TA-Lib.

pub mod cross;
pub mod momentum;
pub mod oscillators;
pub mod patterns;
pub mod trend;
pub mod volatility;
pub mod volume;

#[cfg(test)]
mod fixture_tests;

pub use cross::{crossover, crossunder, cum, falling, rising};
pub use momentum::{Macd, change, macd, pct_change, roc, rsi};
pub use oscillators::{Dmi, Stoch, adx, cci, dmi, mfi, stoch, williams_r};
pub use trend::{ema, rma, sma, wma};
pub use volatility::{
    Bands, atr, bbands, donchian, highest, keltner, lowest, stdev, true_range, zscore,
};
pub use volume::{Anchor, obv, vwap};

use crate::error::{DslError, Result};
use std::ops::Range;

/// Checks a period: at least 1.
pub fn check_period(name: &str, period: usize) -> Result<()> {
    if period == 0 {
        return Err(DslError::invalid(format!(
            "{name} period must be 1 or more, got 0"
        )));
    }
    Ok(())
}

/// A vector of `n` NaN: every output starts as warm-up.
pub(crate) fn nans(n: usize) -> Vec<f64> {
    vec![f64::NAN; n]
}

/// Calls `f` with each maximal run of bars `0..n` where `valid(i)` holds.
pub(crate) fn for_each_run(
    n: usize,
    valid: impl Fn(usize) -> bool,
    mut f: impl FnMut(Range<usize>),
) {
    let mut i = 0;
    while i < n {
        while i < n && !valid(i) {
            i += 1;
        }
        let start = i;
        while i < n && valid(i) {
            i += 1;
        }
        if start < i {
            f(start..i);
        }
    }
}

/// Applies a one-input kernel to each finite run of `x`: `kernel(run, out_for_run)`; the output
/// starts as NaN and the kernel fills what it computes.
pub(crate) fn per_run(x: &[f64], mut kernel: impl FnMut(&[f64], &mut [f64])) -> Vec<f64> {
    let mut out = nans(x.len());
    for_each_run(
        x.len(),
        |i| x[i].is_finite(),
        |r| kernel(&x[r.clone()], &mut out[r]),
    );
    out
}

/// The shortest of several input lengths (columns of one `Bars` always agree).
pub(crate) fn min_len(cols: &[&[f64]]) -> usize {
    cols.iter().map(|c| c.len()).min().unwrap_or(0)
}

/// True when every column is finite at bar `i`.
pub(crate) fn all_finite(cols: &[&[f64]], i: usize) -> bool {
    cols.iter().all(|c| c[i].is_finite())
}

/// A rolling sum over `period` values of a finite run: `emit(i, sum)` from index `period - 1`.
/// Re-summed exactly every `period` bars so rounding from adding and removing cannot accumulate
/// (a huge value leaving the window would otherwise leave its rounding behind), and exactly 0 when
/// the window holds only zeros (no money flow, a flat %K).
pub(crate) fn rolling_sum(x: &[f64], period: usize, mut emit: impl FnMut(usize, f64)) {
    if x.len() < period {
        return;
    }
    let mut sum: f64 = x[..period - 1].iter().sum();
    let mut nonzero = x[..period - 1].iter().filter(|&&v| v != 0.0).count();
    for i in period - 1..x.len() {
        if i >= period {
            nonzero -= usize::from(x[i - period] != 0.0);
            if (i + 1) % period == 0 {
                sum = x[i + 1 - period..i].iter().sum();
            } else {
                sum -= x[i - period];
            }
        }
        sum += x[i];
        nonzero += usize::from(x[i] != 0.0);
        emit(i, if nonzero == 0 { 0.0 } else { sum });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_non_finite_values() {
        let x = [f64::NAN, 1.0, 2.0, f64::INFINITY, 3.0, f64::NAN];
        let mut runs = Vec::new();
        for_each_run(x.len(), |i| x[i].is_finite(), |r| runs.push(r));
        assert_eq!(runs, vec![1..3, 4..5]);
    }

    #[test]
    fn rolling_sum_matches_a_direct_sum_after_resumming() {
        let x: Vec<f64> = (0..100).map(|i| (i as f64).sin() * 1e6 + 3.0).collect();
        let mut got = Vec::new();
        rolling_sum(&x, 7, |i, s| got.push((i, s)));
        assert_eq!(got.len(), 94);
        for (i, s) in got {
            let direct: f64 = x[i + 1 - 7..=i].iter().sum();
            assert!((s - direct).abs() < 1e-6, "{i}: {s} vs {direct}");
        }
    }

    #[test]
    fn rolling_sum_of_zeros_is_exactly_zero() {
        let mut x = vec![0.1, 0.7, 1e-3];
        x.extend([0.0; 5]);
        let mut last = f64::NAN;
        rolling_sum(&x, 3, |_, s| last = s);
        assert_eq!(last, 0.0);
    }

    #[test]
    fn zero_period_is_an_error_that_names_the_fix() {
        let e = check_period("sma", 0).unwrap_err().to_string();
        assert!(e.contains("1 or more"), "{e}");
    }
}
