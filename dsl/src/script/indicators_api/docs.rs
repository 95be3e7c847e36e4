//! The `help()` text of every indicator and pattern: a one-line summary, the rule (and how it
//! relates to TA-Lib or Pine Script), the warm-up, and a Rhai example.

/// The conventions every indicator shares: `help("indicators")`.
pub const OVERVIEW: &str = concat!(
    "Indicators: whole-series functions computed in Rust; each returns a Series as long as its input.\n\n",
    "- Values equal TA-Lib's (seeding, Wilder smoothing, lookback) where TA-Lib has the indicator; ",
    "otherwise Pine Script's rule is used. Each function's help says which.\n",
    "- Warm-up bars are NaN, and comparisons with NaN are false, so signals stay off during warm-up.\n",
    "- A NaN in the input (a gap, or another indicator's warm-up) restarts the indicator after it, as a ",
    "new series: `ema(rsi(close), 9)` starts where the RSI does.\n",
    "- The value at bar i uses bars up to i only; nothing looks ahead.\n",
    "- Periods are whole numbers of bars, 1 or more; with fewer bars than the warm-up, every value is NaN.\n",
    "- Multi-line indicators return maps: `macd(close).signal`, `bbands(close, 20, 2).upper`, `stoch(bars).k`.\n\n",
    "```rhai\nlet fast = close.ema(12);\nlet slow = close.ema(26);\nlet entry = crossover(fast, slow) & (rsi(close) < 70);\n",
    "let exit = crossunder(fast, slow) | (close < bbands(close).lower);\n```"
);

pub fn doc(name: &str) -> &'static str {
    match name {
        "sma" => concat!(
            "Simple moving average: the mean of the last `period` values (TA-Lib SMA).\n\n",
            "First value at bar `period - 1`. Also `close.sma(20)`.\n\n",
            "```rhai\nlet fast = sma(close, 10);\nlet slow = close.sma(50);\nlet entry = crossover(fast, slow);\n```"
        ),
        "ema" => concat!(
            "Exponential moving average, `k = 2 / (period + 1)`, seeded with the SMA of the first `period` values (TA-Lib EMA).\n\n",
            "First value at bar `period - 1`. Also `close.ema(10)`.\n\n",
            "```rhai\nlet e = ema(close, 21);\nlet above = close > e;\n```"
        ),
        "wma" => concat!(
            "Linearly weighted moving average: weights 1..period, newest heaviest (TA-Lib WMA).\n\n",
            "First value at bar `period - 1`.\n\n```rhai\nlet w = wma(close, 20);\n```"
        ),
        "rma" => concat!(
            "Wilder's moving average (Pine `ta.rma`): `alpha = 1 / period`, seeded with an SMA.\n\n",
            "The smoothing RSI and ATR use. First value at bar `period - 1`.\n\n```rhai\nlet r = rma(close, 14);\n```"
        ),
        "stdev" => concat!(
            "Population standard deviation over `period` bars (TA-Lib STDDEV, Pine `ta.stdev`).\n\n",
            "A window of identical values gives exactly 0. First value at bar `period - 1`.\n\n",
            "```rhai\nlet vol = stdev(close.pct_change(), 20);\n```"
        ),
        "zscore" => concat!(
            "Standard score over `period` bars: `(x - mean) / stdev` (population).\n\n",
            "NaN where the window is constant. First value at bar `period - 1`.\n\n",
            "```rhai\nlet z = zscore(close, 50);\nlet stretched = z > 2;\n```"
        ),
        "highest" => concat!(
            "Highest value over the last `period` bars, this bar included (TA-Lib MAX, Pine `ta.highest`).\n\n",
            "Use `highest(high, 20).shift(1)` for a breakout above the *previous* 20 bars.\n\n",
            "```rhai\nlet breakout = close > highest(bars.high, 20).shift(1);\n```"
        ),
        "lowest" => concat!(
            "Lowest value over the last `period` bars, this bar included (TA-Lib MIN, Pine `ta.lowest`).\n\n",
            "```rhai\nlet stop = lowest(bars.low, 10);\n```"
        ),
        "rsi" => concat!(
            "Relative strength index, Wilder smoothing (TA-Lib RSI); `rsi(src)` uses 14.\n\n",
            "`100 * avg gain / (avg gain + avg loss)`, first value at bar `period`. A window with no ",
            "price change at all gives 0, as TA-Lib does. Also `close.rsi(14)`.\n\n",
            "```rhai\nlet r = rsi(close, 14);\nlet entry = crossover(r, 30);\nlet exit = r > 70;\n```"
        ),
        "roc" => concat!(
            "Rate of change in percent over `period` bars (TA-Lib ROC); `roc(src)` uses 10.\n\n",
            "`(x / x[period bars ago] - 1) * 100`; 0 when the old value is 0.\n\n",
            "```rhai\nlet momentum = roc(close, 10);\n```"
        ),
        "pct_change" => concat!(
            "Fractional change over `period` bars, as pandas: `x / x[period bars ago] - 1`; `pct_change(src)` uses 1.\n\n",
            "0.05 means +5 % (use `roc` for percent). NaN when the old value is 0.\n\n",
            "```rhai\nlet returns = close.pct_change();\nlet vol = stdev(returns, 24);\n```"
        ),
        "change" => concat!(
            "Difference with the value `period` bars ago (Pine `ta.change`); `change(src)` uses 1.\n\n",
            "```rhai\nlet up_bar = change(close) > 0;\n```"
        ),
        "cum" => concat!(
            "Running total from the first bar (Pine `ta.cum`).\n\n",
            "A NaN value adds nothing and its bar is NaN.\n\n",
            "```rhai\nlet total_volume = cum(bars.volume);\n```"
        ),
        "macd" => concat!(
            "MACD (TA-Lib MACD): `#{ macd, signal, hist }`; `macd(src)` uses 12, 26, 9.\n\n",
            "`macd = ema(fast) - ema(slow)`, `signal = ema(macd, signal)`, `hist = macd - signal`. As in TA-Lib ",
            "the fast EMA starts with the slow one and all three start at bar `slow + signal - 2` (33 for 12/26/9). ",
            "`fast` must be less than `slow`.\n\n",
            "```rhai\nlet m = macd(close, 12, 26, 9);\nlet entry = crossover(m.macd, m.signal);\nlet exit = m.hist < 0;\n```"
        ),
        "bbands" => concat!(
            "Bollinger bands (TA-Lib BBANDS, SMA): `#{ upper, middle, lower }`; defaults 20 bars, 2 deviations.\n\n",
            "`middle = sma(src, period)`, `upper/lower = middle ± mult * stdev(src, period)` (population). ",
            "First value at bar `period - 1`.\n\n",
            "```rhai\nlet bb = bbands(close, 20, 2.0);\nlet entry = crossover(close, bb.lower);\nlet exit = close > bb.upper;\n```"
        ),
        "true_range" => concat!(
            "True range (TA-Lib TRANGE): `max(high - low, |high - prev close|, |low - prev close|)`.\n\n",
            "NaN at the first bar (no previous close).\n\n```rhai\nlet tr = true_range(bars);\n```"
        ),
        "atr" => concat!(
            "Average true range, Wilder smoothing (TA-Lib ATR); `atr(bars)` uses 14.\n\n",
            "The first value, at bar `period`, is the mean of the first `period` true ranges.\n\n",
            "```rhai\nlet a = atr(bars, 14);\nlet stop = close - 2 * a;\n```"
        ),
        "adx" => concat!(
            "Average directional index (TA-Lib ADX): trend strength 0-100; `adx(bars)` uses 14.\n\n",
            "First value at bar `2 * period - 1`. See `dmi` for +DI and -DI.\n\n",
            "```rhai\nlet trending = adx(bars, 14) > 25;\n```"
        ),
        "dmi" => concat!(
            "Directional movement (TA-Lib PLUS_DI, MINUS_DI, ADX): `#{ plus, minus, adx }`; `dmi(bars)` uses 14.\n\n",
            "+DI and -DI start at bar `period`, ADX at `2 * period - 1`.\n\n",
            "```rhai\nlet d = dmi(bars, 14);\nlet entry = crossover(d.plus, d.minus) & (d.adx > 20);\n```"
        ),
        "cci" => concat!(
            "Commodity channel index (TA-Lib CCI); `cci(bars)` uses 20.\n\n",
            "With `tp = (high + low + close) / 3`: `(tp - sma(tp)) / (0.015 * mean deviation of tp)`; 0 for a ",
            "window of identical prices. First value at bar `period - 1`.\n\n",
            "```rhai\nlet c = cci(bars, 20);\nlet entry = crossover(c, -100);\n```"
        ),
        "mfi" => concat!(
            "Money flow index (TA-Lib MFI): a volume-weighted RSI, 0-100; `mfi(bars)` uses 14.\n\n",
            "Money flow `tp * volume` counts as positive when the typical price rose. 0 when no volume traded ",
            "in the window (TA-Lib also gives 0 below a total flow of 1). First value at bar `period`.\n\n",
            "```rhai\nlet m = mfi(bars, 14);\nlet oversold = m < 20;\n```"
        ),
        "williams_r" => concat!(
            "Williams %R (TA-Lib WILLR): from -100 (at the period's low) to 0 (at its high); `williams_r(bars)` uses 14.\n\n",
            "0 when the range is zero, as TA-Lib. First value at bar `period - 1`.\n\n",
            "```rhai\nlet w = williams_r(bars, 14);\nlet entry = crossover(w, -80);\n```"
        ),
        "stoch" => concat!(
            "Slow stochastic (TA-Lib STOCH, SMA smoothing): `#{ k, d }`; defaults 14, 3, 3.\n\n",
            "Fast %K = `100 * (close - lowest low) / (highest high - lowest low)` over `k_period` (0 for a zero ",
            "range); `k = sma(fast %K, k_smooth)`, `d = sma(k, d_smooth)`. As in TA-Lib both start at bar ",
            "`k_period + k_smooth + d_smooth - 3`.\n\n",
            "```rhai\nlet s = stoch(bars, 14, 3, 3);\nlet entry = crossover(s.k, s.d) & (s.k < 20);\n```"
        ),
        "donchian" => concat!(
            "Donchian channel (Pine): `#{ upper, middle, lower }`; `donchian(bars)` uses 20.\n\n",
            "`upper = highest(high)`, `lower = lowest(low)` over `period` bars including this one, ",
            "`middle` their mean. First value at bar `period - 1`.\n\n",
            "```rhai\nlet dc = donchian(bars, 20);\nlet breakout = close > dc.upper.shift(1);\n```"
        ),
        "keltner" => concat!(
            "Keltner channel (Pine `ta.kc` with true range): `#{ upper, middle, lower }`; defaults 20 bars, 2.0.\n\n",
            "`middle = ema(close, period)`, `upper/lower = middle ± mult * ema(true range, period)` (the first ",
            "bar's true range is `high - low`). First value at bar `period - 1`.\n\n",
            "```rhai\nlet kc = keltner(bars, 20, 2.0);\nlet squeeze = bbands(close, 20, 2).upper < kc.upper;\n```"
        ),
        "vwap" => concat!(
            "Volume-weighted average price of `(high + low + close) / 3`, restarting each UTC day (Pine `ta.vwap`).\n\n",
            "`vwap(bars, anchor)` restarts at `\"1d\"`, `\"1w\"` (Monday 00:00 UTC), `\"1M\"`, or never (`\"all\"`). ",
            "NaN until volume trades in the period.\n\n",
            "```rhai\nlet v = vwap(bars);\nlet weekly = vwap(bars, \"1w\");\nlet above = close > v;\n```"
        ),
        "obv" => concat!(
            "On-balance volume (TA-Lib OBV): starts at the first bar's volume, adds volume on up closes, subtracts on down closes.\n\n",
            "```rhai\nlet o = obv(bars);\nlet confirm = o > sma(o, 20);\n```"
        ),
        "crossover" => concat!(
            "True on the bar where `a` crosses above `b`: `a[i] > b[i]` and `a[i-1] <= b[i-1]` (Pine's rule).\n\n",
            "Ties: touching `b` on the previous bar and then moving above counts as a cross; staying equal does ",
            "not. `b` may be a Series or a number. False at the first bar and next to NaN. Also `a.crossover(b)`.\n\n",
            "```rhai\nlet entry = crossover(ema(close, 12), ema(close, 26));\nlet rsi_up = rsi(close).crossover(30);\n```"
        ),
        "crossunder" => concat!(
            "True on the bar where `a` crosses below `b`: `a[i] < b[i]` and `a[i-1] >= b[i-1]` (Pine's rule).\n\n",
            "Ties as in `crossover`, mirrored. `b` may be a Series or a number.\n\n",
            "```rhai\nlet exit = crossunder(close, sma(close, 20));\n```"
        ),
        "rising" => concat!(
            "True when `src` is above every one of its previous `period` values (Pine `ta.rising`).\n\n",
            "False during the first `period` bars and next to NaN.\n\n",
            "```rhai\nlet up3 = rising(close, 3);\n```"
        ),
        "falling" => concat!(
            "True when `src` is below every one of its previous `period` values (Pine `ta.falling`).\n\n",
            "```rhai\nlet down3 = falling(close, 3);\n```"
        ),
        "doji" => concat!(
            "Doji: a body at most 10 % of the bar's range (`|close - open| <= 0.1 * (high - low)`, range > 0).\n\n",
            "Shape only; no trend context.\n\n```rhai\nlet indecision = doji(bars);\n```"
        ),
        "hammer" => concat!(
            "Hammer: a lower shadow at least twice the body, an upper shadow at most 10 % of the range, body > 0.\n\n",
            "Shape only: combine with a downtrend for the classic reversal signal.\n\n",
            "```rhai\nlet entry = hammer(bars) & (close < sma(close, 20));\n```"
        ),
        "shooting_star" => concat!(
            "Shooting star: an upper shadow at least twice the body, a lower shadow at most 10 % of the range, body > 0.\n\n",
            "Shape only: combine with an uptrend.\n\n",
            "```rhai\nlet exit = shooting_star(bars) & (close > sma(close, 20));\n```"
        ),
        "bullish_engulfing" => concat!(
            "Bullish engulfing (TA-Lib CDLENGULFING): an up candle (`close >= open`) whose body engulfs the previous down candle's body.\n\n",
            "`close >= prev open && open < prev close`, or `close > prev open && open <= prev close` (one end may be equal).\n\n",
            "```rhai\nlet entry = bullish_engulfing(bars);\n```"
        ),
        "bearish_engulfing" => concat!(
            "Bearish engulfing (TA-Lib CDLENGULFING): a down candle whose body engulfs the previous up candle's body (`close >= open`).\n\n",
            "`open >= prev close && close < prev open`, or `open > prev close && close <= prev open`.\n\n",
            "```rhai\nlet exit = bearish_engulfing(bars);\n```"
        ),
        "strong_bull" => concat!(
            "Strong bullish candle: `close > open`, body at least 70 % of the range and larger than the mean body of the previous 10 bars.\n\n",
            "False during the first 10 bars.\n\n```rhai\nlet thrust = strong_bull(bars) & (bars.volume > sma(bars.volume, 20));\n```"
        ),
        "strong_bear" => concat!(
            "Strong bearish candle: `close < open`, body at least 70 % of the range and larger than the mean body of the previous 10 bars.\n\n",
            "```rhai\nlet dump = strong_bear(bars);\n```"
        ),
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_doc_has_a_summary_and_a_rhai_example() {
        for name in [
            "sma",
            "ema",
            "wma",
            "rma",
            "stdev",
            "zscore",
            "highest",
            "lowest",
            "rsi",
            "roc",
            "pct_change",
            "change",
            "cum",
            "macd",
            "bbands",
            "true_range",
            "atr",
            "adx",
            "dmi",
            "cci",
            "mfi",
            "williams_r",
            "stoch",
            "donchian",
            "keltner",
            "vwap",
            "obv",
            "crossover",
            "crossunder",
            "rising",
            "falling",
            "doji",
            "hammer",
            "shooting_star",
            "bullish_engulfing",
            "bearish_engulfing",
            "strong_bull",
            "strong_bear",
        ] {
            let d = doc(name);
            assert!(!d.is_empty(), "{name} has no doc");
            assert!(d.contains("```rhai\n"), "{name} has no example");
            assert!(!d.lines().next().unwrap_or("").is_empty(), "{name}");
        }
    }
}
