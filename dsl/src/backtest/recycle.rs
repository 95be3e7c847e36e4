//! Recycled per-step buffers. A backtest of `n` bars writes about ten `n`-long vectors (times,
//! equity, returns, drawdown, benchmark, ...); allocating them fresh costs a page fault per 4 KiB
//! on first touch, which for 1M bars was as long as the backtest itself. Finished results hand
//! their vectors back here when dropped ([`BacktestResult`](super::BacktestResult)'s `Drop`) and
//! the next run takes them, already mapped. Small vectors are not kept, and at most
//! [`KEEP`] vectors of each element type, so the memory held is bounded by a few runs' worth.

use std::sync::Mutex;

/// Vectors kept per element type.
pub const KEEP: usize = 8;
/// Vectors with less capacity than this are left to the allocator.
const MIN_CAPACITY: usize = 1 << 14;

/// A bounded stack of empty vectors.
pub struct Pool<T>(Mutex<Vec<Vec<T>>>);

impl<T> Pool<T> {
    pub const fn new() -> Self {
        Pool(Mutex::new(Vec::new()))
    }

    /// An empty vector with room for `n` values: the smallest kept one that fits (and is at most
    /// twice as large, so a small result does not hold on to a big buffer), else a new one.
    pub fn take(&self, n: usize) -> Vec<T> {
        if n >= MIN_CAPACITY
            && let Ok(mut kept) = self.0.lock()
        {
            let best = (0..kept.len())
                .filter(|&i| (n..=2 * n).contains(&kept[i].capacity()))
                .min_by_key(|&i| kept[i].capacity());
            if let Some(i) = best {
                return kept.swap_remove(i);
            }
        }
        Vec::with_capacity(n)
    }

    /// Keeps `v`'s allocation for a later [`Pool::take`] (emptied; dropped if small or the pool
    /// is full).
    pub fn give(&self, mut v: Vec<T>) {
        if v.capacity() < MIN_CAPACITY {
            return;
        }
        v.clear();
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() < KEEP {
                kept.push(v);
            } else if let Some(small) = (0..kept.len()).min_by_key(|&i| kept[i].capacity())
                && kept[small].capacity() < v.capacity()
            {
                kept[small] = v;
            }
        }
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Self::new()
    }
}

pub static F64: Pool<f64> = Pool::new();
pub static I64: Pool<i64> = Pool::new();
pub static BOOL: Pool<bool> = Pool::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_buffer_is_reused_empty_and_small_ones_are_not_kept() {
        let pool: Pool<f64> = Pool::new();
        let mut v = pool.take(100_000);
        v.extend((0..100_000).map(|i| i as f64));
        let ptr = v.as_ptr();
        pool.give(v);
        let again = pool.take(50_000);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), ptr);
        // Nothing left that fits: a fresh vector.
        assert!(pool.take(50_000).capacity() >= 50_000);
        // A kept buffer more than twice the size asked for stays in the pool.
        pool.give(Vec::with_capacity(200_000));
        assert!(pool.take(MIN_CAPACITY).capacity() < 200_000);
        assert_eq!(pool.0.lock().unwrap().len(), 1);
        pool.0.lock().unwrap().clear();
        pool.give(Vec::with_capacity(10));
        assert!(pool.0.lock().unwrap().is_empty());
    }

    #[test]
    fn the_pool_keeps_at_most_keep_vectors_preferring_large_ones() {
        let pool: Pool<i64> = Pool::new();
        for k in 0..KEEP + 3 {
            pool.give(Vec::with_capacity(MIN_CAPACITY * (k + 1)));
        }
        let kept = pool.0.lock().unwrap();
        assert_eq!(kept.len(), KEEP);
        assert!(kept.iter().all(|v| v.capacity() >= MIN_CAPACITY * 4));
    }
}
