//! Downsampling long series for drawing: per pixel column keep the first, lowest, highest and
//! last point (the "M4" reduction), so a 1,000,000-point equity curve becomes a few thousand
//! points that draw the same picture: every spike and drawdown stays visible.
//!
//! NaN values (indicator warm-up, gaps) split a series into segments; each is drawn as its own
//! line so no segment bridges a gap.

/// A drawable run of `(time, value)` points with no NaN inside.
pub type Segment = Vec<(f64, f64)>;

/// Reduces `(times[i], values[i])` to at most four points per pixel column over `[t0, t1]`
/// split into `columns` columns, breaking the line at NaN values. Short series pass unchanged.
pub fn downsample(times: &[i64], values: &[f64], t0: f64, t1: f64, columns: usize) -> Vec<Segment> {
    let n = times.len().min(values.len());
    let columns = columns.max(1);
    let scale = if t1 > t0 {
        columns as f64 / (t1 - t0)
    } else {
        0.0
    };
    let keep_all = n <= 4 * columns;
    let mut out: Vec<Segment> = Vec::new();
    let mut seg: Segment = Vec::new();
    let mut bucket = Bucket::default();
    for i in 0..n {
        let v = values[i];
        if !v.is_finite() {
            bucket.flush(times, values, &mut seg);
            if !seg.is_empty() {
                out.push(std::mem::take(&mut seg));
            }
            continue;
        }
        if keep_all {
            seg.push((times[i] as f64, v));
            continue;
        }
        let col = (((times[i] as f64 - t0) * scale).floor().max(0.0) as usize).min(columns - 1);
        if bucket.col != Some(col) {
            bucket.flush(times, values, &mut seg);
            bucket = Bucket::start(col, i);
        } else {
            bucket.add(i, v, values);
        }
    }
    bucket.flush(times, values, &mut seg);
    if !seg.is_empty() {
        out.push(seg);
    }
    out
}

/// The first, lowest, highest and last index seen in one pixel column.
#[derive(Default)]
struct Bucket {
    col: Option<usize>,
    first: usize,
    min: usize,
    max: usize,
    last: usize,
}

impl Bucket {
    fn start(col: usize, i: usize) -> Bucket {
        Bucket {
            col: Some(col),
            first: i,
            min: i,
            max: i,
            last: i,
        }
    }

    fn add(&mut self, i: usize, v: f64, values: &[f64]) {
        if v < values[self.min] {
            self.min = i;
        }
        if v > values[self.max] {
            self.max = i;
        }
        self.last = i;
    }

    /// Emits the kept points in time order, each once.
    fn flush(&mut self, times: &[i64], values: &[f64], seg: &mut Segment) {
        if self.col.take().is_none() {
            return;
        }
        let mut idx = [self.first, self.min, self.max, self.last];
        idx.sort_unstable();
        let mut prev = usize::MAX;
        for i in idx {
            if i != prev {
                seg.push((times[i] as f64, values[i]));
                prev = i;
            }
        }
    }
}

/// Indices of `flags` that are true, at most one per pixel column (the first in each), so
/// markers on a long series do not pile up into thousands of overlapping shapes.
pub fn one_per_column(
    times: &[i64],
    idx: &[usize],
    t0: f64,
    t1: f64,
    columns: usize,
) -> Vec<usize> {
    let columns = columns.max(1);
    let scale = if t1 > t0 {
        columns as f64 / (t1 - t0)
    } else {
        0.0
    };
    let mut last_col = usize::MAX;
    let mut out = Vec::new();
    for &i in idx {
        let Some(&t) = times.get(i) else { continue };
        let col = (((t as f64 - t0) * scale).floor().max(0.0) as usize).min(columns - 1);
        if col != last_col {
            out.push(i);
            last_col = col;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_pass_unchanged() {
        let t = [0, 1, 2];
        let v = [1.0, 2.0, 3.0];
        let s = downsample(&t, &v, 0.0, 2.0, 100);
        assert_eq!(s, vec![vec![(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]]);
    }

    #[test]
    fn nan_splits_the_line_into_segments() {
        let t = [0, 1, 2, 3, 4];
        let v = [f64::NAN, 1.0, f64::NAN, 2.0, 3.0];
        let s = downsample(&t, &v, 0.0, 4.0, 100);
        assert_eq!(s, vec![vec![(1.0, 1.0)], vec![(3.0, 2.0), (4.0, 3.0)]]);
    }

    #[test]
    fn long_series_keep_first_last_and_extremes_per_column() {
        let n = 100_000;
        let t: Vec<i64> = (0..n).collect();
        let mut v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.01).sin()).collect();
        v[54_321] = 50.0;
        v[77_777] = -50.0;
        let s = downsample(&t, &v, 0.0, (n - 1) as f64, 500);
        assert_eq!(s.len(), 1);
        let pts = &s[0];
        assert!(pts.len() <= 4 * 500, "{} points", pts.len());
        assert_eq!(pts.first(), Some(&(0.0, v[0])));
        assert_eq!(pts.last(), Some(&((n - 1) as f64, v[(n - 1) as usize])));
        assert!(pts.contains(&(54_321.0, 50.0)));
        assert!(pts.contains(&(77_777.0, -50.0)));
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0), "time order kept");
    }

    #[test]
    fn markers_keep_one_per_pixel_column() {
        let t: Vec<i64> = (0..1000).collect();
        let idx: Vec<usize> = (0..1000).collect();
        let kept = one_per_column(&t, &idx, 0.0, 999.0, 10);
        assert_eq!(kept.len(), 10);
        assert_eq!(kept[0], 0);
    }
}
