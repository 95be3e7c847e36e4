//! Signals between series and running totals: `crossover`, `crossunder`, `rising`, `falling`
//! (Pine's rules) and `cum` (Pine `ta.cum`).

use super::check_period;
use super::volatility::{highest, lowest};
use crate::error::Result;

/// True at bar `i` when `a[i] > b[i]` and `a[i-1] <= b[i-1]` (Pine `ta.crossover`): touching
/// `b` on the previous bar and then moving above counts as a cross; staying equal does not. False
/// at the first bar and wherever any of the four values is NaN. Length: the shorter input.
pub fn crossover(a: &[f64], b: &[f64]) -> Vec<bool> {
    cross(a, b, |a, b| a > b, |a, b| a <= b)
}

/// True at bar `i` when `a[i] < b[i]` and `a[i-1] >= b[i-1]` (Pine `ta.crossunder`); ties as in
/// [`crossover`], mirrored.
pub fn crossunder(a: &[f64], b: &[f64]) -> Vec<bool> {
    cross(a, b, |a, b| a < b, |a, b| a >= b)
}

fn cross(
    a: &[f64],
    b: &[f64],
    now: impl Fn(f64, f64) -> bool,
    before: impl Fn(f64, f64) -> bool,
) -> Vec<bool> {
    let n = a.len().min(b.len());
    // Comparisons with NaN are false, so a NaN anywhere in the pair of bars gives false.
    (0..n)
        .map(|i| i > 0 && now(a[i], b[i]) && before(a[i - 1], b[i - 1]))
        .collect()
}

/// True when `x[i]` is above every one of the previous `period` values (Pine `ta.rising`); false
/// during the first `period` bars and when any of those values is NaN.
pub fn rising(x: &[f64], period: usize) -> Result<Vec<bool>> {
    check_period("rising", period)?;
    let prev = highest(x, period)?;
    Ok((0..x.len()).map(|i| i > 0 && x[i] > prev[i - 1]).collect())
}

/// True when `x[i]` is below every one of the previous `period` values (Pine `ta.falling`).
pub fn falling(x: &[f64], period: usize) -> Result<Vec<bool>> {
    check_period("falling", period)?;
    let prev = lowest(x, period)?;
    Ok((0..x.len()).map(|i| i > 0 && x[i] < prev[i - 1]).collect())
}

/// Running total from the first bar (Pine `ta.cum`). A NaN or infinite value adds nothing and its
/// bar is NaN; the total carries on after it.
pub fn cum(x: &[f64]) -> Vec<f64> {
    let mut total = 0.0;
    x.iter()
        .map(|&v| {
            if v.is_finite() {
                total += v;
                total
            } else {
                f64::NAN
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossover_counts_a_touch_then_a_move_above() {
        let a = [1.0, 2.0, 3.0, 3.0, 2.0, 4.0];
        let b = [2.0, 2.0, 2.0, 2.0, 2.0, 2.0];
        assert_eq!(crossover(&a, &b), [false, false, true, false, false, true]);
        assert_eq!(
            crossunder(&a, &b),
            [false, false, false, false, false, false]
        );
        let c = [3.0, 1.0, 2.0, 1.0];
        assert_eq!(crossunder(&c, &[2.0; 4]), [false, true, false, true]);
    }

    #[test]
    fn crossing_next_to_nan_is_false() {
        let a = [1.0, f64::NAN, 3.0, 1.0, 3.0];
        assert_eq!(crossover(&a, &[2.0; 5]), [false, false, false, false, true]);
        assert!(crossover(&[], &[]).is_empty());
    }

    #[test]
    fn crossover_length_is_the_shorter_input() {
        assert_eq!(crossover(&[1.0, 3.0, 4.0], &[2.0, 2.0]).len(), 2);
    }

    #[test]
    fn rising_needs_a_new_high_over_the_lookback() {
        let x = [1.0, 2.0, 2.0, 3.0, 1.0, 5.0];
        assert_eq!(
            rising(&x, 2).unwrap(),
            [false, false, false, true, false, true]
        );
        assert_eq!(
            falling(&x, 2).unwrap(),
            [false, false, false, false, true, false]
        );
        assert!(rising(&x, 0).is_err());
        assert!(rising(&[4.0; 5], 1).unwrap().iter().all(|&b| !b));
    }

    #[test]
    fn cum_skips_missing_values() {
        let c = cum(&[1.0, f64::NAN, 2.0]);
        assert_eq!(c[0], 1.0);
        assert!(c[1].is_nan());
        assert_eq!(c[2], 3.0);
    }
}
