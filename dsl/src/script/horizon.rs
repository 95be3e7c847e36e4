//! Inside an interpreted `on_bar`, the bars being tested end at the current bar.
//!
//! `ctx` only reads bars `0..=i`, but a closure can also capture whole series (`fast`, `bars`)
//! and index them: `bars.close[ctx.bar_index + 1]` would read the next bar. While Rhai runs
//! `on_bar` for bar `i` of bars of length `n`, every series and bars table of length `n` is
//! seen as its first `i + 1` values, the way backtesting.py slices its arrays in `next()`:
//! `len` is `i + 1`, `s[-1]` is the current value, a later index is an error that names the fix,
//! and `last`, `tail`, `sum`, `max`, ... stop at the current bar. Series of another length (another
//! token or timeframe) cannot be matched to bars and are not cut. The compiled `on_bar` path reads
//! series only through `ctx.value`, so it needs no horizon.

use std::cell::Cell;

thread_local! {
    /// (length of the bars under test, current bar index) while a script `on_bar` runs.
    static NOW: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// Sets the horizon until dropped (then restores the previous one).
pub struct Horizon(Option<(usize, usize)>);

/// `on_bar` is about to run for bar `i` of bars of length `len`.
pub fn enter(len: usize, i: usize) -> Horizon {
    Horizon(NOW.replace(Some((len, i))))
}

impl Drop for Horizon {
    fn drop(&mut self) {
        NOW.set(self.0);
    }
}

/// How many of a series' `len` values a script may see now.
pub fn visible(len: usize) -> usize {
    match NOW.get() {
        Some((n, i)) if len == n => (i + 1).min(len),
        _ => len,
    }
}

/// The current bar while a script `on_bar` runs.
pub fn current_bar() -> Option<usize> {
    NOW.get().map(|(_, i)| i)
}
