//! `Series`: the columnar f64 type every indicator, signal and result is made of.
//!
//! A Series is shared (`Arc`), so passing it to a function or assigning it in a script never copies
//! the data. Warm-up values are NaN. A boolean series (a signal) stores 1.0 / 0.0 and remembers that
//! it is boolean, for display and for `&`, `|`, `!`; comparisons involving NaN are false.

use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    data: Arc<Vec<f64>>,
    is_bool: bool,
}

impl Default for Series {
    fn default() -> Self {
        Series::new(Vec::new())
    }
}

impl From<Vec<f64>> for Series {
    fn from(v: Vec<f64>) -> Self {
        Series::new(v)
    }
}

impl Series {
    pub fn new(data: Vec<f64>) -> Self {
        Series {
            data: Arc::new(data),
            is_bool: false,
        }
    }

    /// A boolean series from bools (true → 1.0, false → 0.0).
    pub fn from_bools(it: impl IntoIterator<Item = bool>) -> Self {
        Series {
            data: Arc::new(it.into_iter().map(|b| if b { 1.0 } else { 0.0 }).collect()),
            is_bool: true,
        }
    }

    /// The same data marked boolean (non-zero, non-NaN is true).
    pub fn into_bool(self) -> Self {
        if self.is_bool {
            return self;
        }
        Series::from_bools(self.data.iter().map(|&x| truthy(x)))
    }

    pub fn is_bool(&self) -> bool {
        self.is_bool
    }

    pub fn values(&self) -> &[f64] {
        &self.data
    }

    /// The shared buffer (no copy).
    pub fn shared(&self) -> Arc<Vec<f64>> {
        self.data.clone()
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The last value, NaN when empty.
    pub fn last(&self) -> f64 {
        self.data.last().copied().unwrap_or(f64::NAN)
    }

    /// Value at `i`; negative counts from the end (`-1` is the last).
    pub fn get(&self, i: i64) -> Option<f64> {
        let n = self.data.len() as i64;
        let j = if i < 0 { n + i } else { i };
        (0..n).contains(&j).then(|| self.data[j as usize])
    }

    /// The value at bar `i` as a bool (signals): NaN and 0 are false.
    pub fn is_true(&self, i: usize) -> bool {
        self.data.get(i).is_some_and(|&x| truthy(x))
    }

    /// Values moved `n` bars later (`n > 0`, the past, NaN-filled at the start) or earlier
    /// (`n < 0`, NaN-filled at the end). `close.shift(1)[i]` is `close[i-1]`.
    pub fn shift(&self, n: i64) -> Series {
        let len = self.data.len();
        let fill = if self.is_bool { 0.0 } else { f64::NAN };
        let mut out = vec![fill; len];
        let k = n.unsigned_abs() as usize;
        if k < len {
            if n >= 0 {
                out[k..].copy_from_slice(&self.data[..len - k]);
            } else {
                out[..len - k].copy_from_slice(&self.data[k..]);
            }
        }
        Series {
            data: Arc::new(out),
            is_bool: self.is_bool,
        }
    }

    pub fn map(&self, f: impl Fn(f64) -> f64) -> Series {
        Series::new(self.data.iter().map(|&x| f(x)).collect())
    }

    /// Element-wise combination; the shorter length wins (series of one bars table always agree).
    pub fn zip(&self, other: &Series, f: impl Fn(f64, f64) -> f64) -> Series {
        Series::new(
            self.data
                .iter()
                .zip(other.data.iter())
                .map(|(&a, &b)| f(a, b))
                .collect(),
        )
    }

    pub fn zip_bool(&self, other: &Series, f: impl Fn(f64, f64) -> bool) -> Series {
        Series::from_bools(
            self.data
                .iter()
                .zip(other.data.iter())
                .map(|(&a, &b)| f(a, b)),
        )
    }

    pub fn map_bool(&self, f: impl Fn(f64) -> bool) -> Series {
        Series::from_bools(self.data.iter().map(|&x| f(x)))
    }

    /// Bars `[start, end)` as a new series.
    pub fn slice(&self, start: usize, end: usize) -> Series {
        let end = end.min(self.len());
        let start = start.min(end);
        Series {
            data: Arc::new(self.data[start..end].to_vec()),
            is_bool: self.is_bool,
        }
    }

    /// Mean of the non-NaN values (NaN if none).
    pub fn mean(&self) -> f64 {
        let (s, n) = self
            .data
            .iter()
            .filter(|x| !x.is_nan())
            .fold((0.0, 0usize), |(s, n), &x| (s + x, n + 1));
        if n == 0 { f64::NAN } else { s / n as f64 }
    }

    pub fn sum(&self) -> f64 {
        self.data.iter().filter(|x| !x.is_nan()).sum()
    }

    pub fn min(&self) -> f64 {
        self.data
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .fold(f64::NAN, f64::min)
    }

    pub fn max(&self) -> f64 {
        self.data
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .fold(f64::NAN, f64::max)
    }

    /// Number of true bars in a signal (or non-zero values).
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&x| truthy(x)).count()
    }

    /// Replaces NaN with `v`.
    pub fn fillna(&self, v: f64) -> Series {
        Series {
            data: Arc::new(
                self.data
                    .iter()
                    .map(|&x| if x.is_nan() { v } else { x })
                    .collect(),
            ),
            is_bool: self.is_bool,
        }
    }
}

/// Orders numbers for ranking: ascending or descending, with NaN (undefined) always last.
pub fn cmp_nan_last(x: f64, y: f64, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if descending => y.total_cmp(&x),
        _ => x.total_cmp(&y),
    }
}

/// Truth of a signal value: NaN and 0 are false.
#[inline]
pub fn truthy(x: f64) -> bool {
    x != 0.0 && !x.is_nan()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_index_counts_from_the_end() {
        let s = Series::new(vec![1.0, 2.0, 3.0]);
        assert_eq!(s.get(-1), Some(3.0));
        assert_eq!(s.get(0), Some(1.0));
        assert_eq!(s.get(3), None);
        assert_eq!(s.get(-4), None);
    }

    #[test]
    fn shift_moves_values_into_the_past_with_nan_warm_up() {
        let s = Series::new(vec![1.0, 2.0, 3.0]).shift(1);
        assert!(s.values()[0].is_nan());
        assert_eq!(&s.values()[1..], &[1.0, 2.0]);
        let b = Series::new(vec![1.0, 2.0, 3.0]).shift(-1);
        assert_eq!(&b.values()[..2], &[2.0, 3.0]);
        assert!(b.values()[2].is_nan());
        assert!(Series::new(vec![1.0]).shift(5).values()[0].is_nan());
    }

    #[test]
    fn comparisons_with_nan_are_false() {
        let a = Series::new(vec![f64::NAN, 2.0]);
        let c = a.map_bool(|x| x > 1.0);
        assert_eq!(c.values(), &[0.0, 1.0]);
        assert!(c.is_bool());
    }

    #[test]
    fn clones_share_the_buffer() {
        let a = Series::new(vec![0.0; 1000]);
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.shared(), &b.shared()));
    }
}
