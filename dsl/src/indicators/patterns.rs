//! Candlestick patterns, each a per-bar rule on open/high/low/close giving a bool per bar. A bar
//! with any missing value never matches. Shapes only: none of them looks at the trend, so combine
//! them with one (`hammer(bars) & (close < sma(close, 20))`).
//!
//! With `body = |close - open|`, `range = high - low`, `upper = high - max(open, close)` and
//! `lower = min(open, close) - low`:
//! - `doji`: `range > 0` and `body <= 0.1 * range`.
//! - `hammer`: `body > 0`, `lower >= 2 * body` and `upper <= 0.1 * range`.
//! - `shooting_star`: `body > 0`, `upper >= 2 * body` and `lower <= 0.1 * range`.
//! - `bullish_engulfing` / `bearish_engulfing`: TA-Lib's `CDLENGULFING` (a candle is bullish when
//!   `close >= open`): a bullish body engulfs the previous bearish body, one end may be equal
//!   (`close >= prev open && open < prev close`, or `close > prev open && open <= prev close`);
//!   mirrored for bearish.
//! - `strong_bull` / `strong_bear`: a bullish (bearish) candle whose body is at least 70 % of its
//!   range and larger than the average body of the previous 10 bars (TA-Lib's "long body" test).

/// The four price columns of the bars a pattern reads.
#[derive(Clone, Copy, Debug)]
pub struct Ohlc<'a> {
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
}

/// Bars the strong-candle rule averages bodies over.
pub const BODY_AVG_PERIOD: usize = 10;

impl Ohlc<'_> {
    fn len(&self) -> usize {
        super::min_len(&[self.open, self.high, self.low, self.close])
    }

    fn ok(&self, i: usize) -> bool {
        super::all_finite(&[self.open, self.high, self.low, self.close], i)
    }

    fn body(&self, i: usize) -> f64 {
        (self.close[i] - self.open[i]).abs()
    }

    fn range(&self, i: usize) -> f64 {
        self.high[i] - self.low[i]
    }

    fn upper(&self, i: usize) -> f64 {
        self.high[i] - self.open[i].max(self.close[i])
    }

    fn lower(&self, i: usize) -> f64 {
        self.open[i].min(self.close[i]) - self.low[i]
    }

    fn each(&self, rule: impl Fn(usize) -> bool) -> Vec<bool> {
        (0..self.len()).map(|i| self.ok(i) && rule(i)).collect()
    }
}

pub fn doji(b: Ohlc) -> Vec<bool> {
    b.each(|i| b.range(i) > 0.0 && b.body(i) <= 0.1 * b.range(i))
}

pub fn hammer(b: Ohlc) -> Vec<bool> {
    b.each(|i| {
        let body = b.body(i);
        body > 0.0 && b.lower(i) >= 2.0 * body && b.upper(i) <= 0.1 * b.range(i)
    })
}

pub fn shooting_star(b: Ohlc) -> Vec<bool> {
    b.each(|i| {
        let body = b.body(i);
        body > 0.0 && b.upper(i) >= 2.0 * body && b.lower(i) <= 0.1 * b.range(i)
    })
}

pub fn bullish_engulfing(b: Ohlc) -> Vec<bool> {
    let (o, c) = (b.open, b.close);
    b.each(|i| {
        i > 0
            && b.ok(i - 1)
            && c[i] >= o[i]
            && c[i - 1] < o[i - 1]
            && ((c[i] >= o[i - 1] && o[i] < c[i - 1]) || (c[i] > o[i - 1] && o[i] <= c[i - 1]))
    })
}

pub fn bearish_engulfing(b: Ohlc) -> Vec<bool> {
    let (o, c) = (b.open, b.close);
    b.each(|i| {
        i > 0
            && b.ok(i - 1)
            && c[i] < o[i]
            && c[i - 1] >= o[i - 1]
            && ((o[i] >= c[i - 1] && c[i] < o[i - 1]) || (o[i] > c[i - 1] && c[i] <= o[i - 1]))
    })
}

pub fn strong_bull(b: Ohlc) -> Vec<bool> {
    strong(b, true)
}

pub fn strong_bear(b: Ohlc) -> Vec<bool> {
    strong(b, false)
}

fn strong(b: Ohlc, bull: bool) -> Vec<bool> {
    let n = b.len();
    let bodies: Vec<f64> = (0..n)
        .map(|i| if b.ok(i) { b.body(i) } else { f64::NAN })
        .collect();
    // avg[i] is the mean body of bars i-10..i-1 (NaN if any is missing).
    let avg = super::trend::sma(&bodies, BODY_AVG_PERIOD).unwrap_or_else(|_| super::nans(n));
    b.each(|i| {
        let dir = if bull {
            b.close[i] > b.open[i]
        } else {
            b.close[i] < b.open[i]
        };
        let body = b.body(i);
        dir && i > 0 && body >= 0.7 * b.range(i) && body > avg[i - 1]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars<'a>(o: &'a [f64], h: &'a [f64], l: &'a [f64], c: &'a [f64]) -> Ohlc<'a> {
        Ohlc {
            open: o,
            high: h,
            low: l,
            close: c,
        }
    }

    #[test]
    fn doji_needs_a_tiny_body_and_a_range() {
        let b = bars(
            &[10.0, 10.0, 10.0],
            &[11.0, 10.0, 11.0],
            &[9.0, 10.0, 9.0],
            &[10.1, 10.0, 10.5],
        );
        assert_eq!(doji(b), [true, false, false]);
    }

    #[test]
    fn hammer_and_shooting_star_are_mirror_images() {
        // Hammer: body 10.0..10.5 at the top, long lower shadow down to 8.
        let h = bars(&[10.0], &[10.5], &[8.0], &[10.5]);
        assert_eq!((hammer(h), shooting_star(h)), (vec![true], vec![false]));
        let s = bars(&[10.5], &[13.0], &[10.0], &[10.0]);
        assert_eq!((hammer(s), shooting_star(s)), (vec![false], vec![true]));
        let flat = bars(&[1.0], &[1.0], &[1.0], &[1.0]);
        assert_eq!((hammer(flat), doji(flat)), (vec![false], vec![false]));
    }

    #[test]
    fn engulfing_needs_opposite_colours_and_a_bigger_body() {
        let o = [10.0, 8.5, 9.0];
        let c = [9.0, 10.5, 8.0];
        let b = bars(&o, &[11.0; 3], &[7.0; 3], &c);
        assert_eq!(bullish_engulfing(b), [false, true, false]);
        assert_eq!(bearish_engulfing(b), [false, false, false]);
        let o2 = [9.0, 10.5];
        let c2 = [10.0, 8.5];
        let b2 = bars(&o2, &[11.0; 2], &[7.0; 2], &c2);
        assert_eq!(bearish_engulfing(b2), [false, true]);
    }

    #[test]
    fn strong_candles_beat_the_average_body() {
        let mut o = vec![10.0; 12];
        let mut c = vec![10.2; 12];
        o[11] = 10.0;
        c[11] = 11.0;
        let h: Vec<f64> = o
            .iter()
            .zip(&c)
            .map(|(a, b)| f64::max(*a, *b) + 0.05)
            .collect();
        let l: Vec<f64> = o
            .iter()
            .zip(&c)
            .map(|(a, b)| f64::min(*a, *b) - 0.05)
            .collect();
        let b = bars(&o, &h, &l, &c);
        let s = strong_bull(b);
        assert!(s[11], "a big full-bodied candle is strong");
        assert!(!s[..11].iter().any(|&x| x), "ordinary candles are not");
        assert!(!strong_bear(b).iter().any(|&x| x));
    }

    #[test]
    fn nan_bars_never_match() {
        let b = bars(&[f64::NAN], &[1.0], &[0.0], &[0.5]);
        assert_eq!(doji(b), [false]);
        assert!(doji(bars(&[], &[], &[], &[])).is_empty());
    }
}
