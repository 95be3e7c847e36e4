//! `lint(strategy)`: what is likely wrong with a strategy, before its numbers mislead anyone.
//! Each warning has a stable `code` and a message that names the fix. A backtest prints the
//! warnings that make its result wrong (not merely thin) on stderr when it starts.

use super::options::StrategyValue;
use crate::order::{Exits, Size};
use crate::series::Series;

/// Fewer entries than this and the trade statistics mean little.
pub const MIN_TRADES: usize = 30;

#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

fn warn(code: &'static str, message: String) -> Warning {
    Warning { code, message }
}

/// Rising edges of a bool series: how many times the signal turns on.
fn entries(s: &Series) -> usize {
    let mut prev = false;
    let mut n = 0;
    for i in 0..s.len() {
        let on = s.is_true(i);
        if on && !prev {
            n += 1;
        }
        prev = on;
    }
    n
}

fn has_exit_levels(e: &Exits) -> bool {
    e.stop_loss_pct.is_some()
        || e.take_profit_pct.is_some()
        || e.trailing_stop_pct.is_some()
        || e.stop_loss.is_some()
        || e.take_profit.is_some()
}

/// Every warning for `s`; `leverage` is the backtest's (1 when linting alone), `lookahead` whether
/// the session built a series with `shift(-n)`.
pub fn lint(s: &StrategyValue, leverage: f64, lookahead: bool) -> Vec<Warning> {
    let mut out = Vec::new();
    let levels = has_exit_levels(&s.opts.exits);
    if let Some(sig) = &s.signals {
        let long_open = sig.entry.is_some() && sig.exit.is_none();
        let short_open = sig.short_entry.is_some() && sig.short_exit.is_none();
        if (long_open || short_open) && !levels {
            out.push(warn(
                "no_exit",
                "the strategy has an entry but no exit and no stop: the first position is held to the end of the data \
                 (one trade, shown in .open_trade, none in the stats). Add exit: (a bool Series, e.g. crossunder(fast, slow)) \
                 or stop_loss_pct / take_profit_pct / trailing_stop_pct."
                    .into(),
            ));
        }
        let mut n = 0;
        let mut bars = 0;
        for (name, e) in [("entry", &sig.entry), ("short_entry", &sig.short_entry)] {
            let Some(e) = e else { continue };
            bars = bars.max(e.len());
            let k = entries(e);
            n += k;
            if k == 0 && !e.is_empty() {
                out.push(warn(
                    "never_entry",
                    format!(
                        "{name} is never true on these {} bars, so nothing trades. Check the threshold and its units \
                         (roc(close, 4) <= -5.0 is a 5 % drop; pct_change is a fraction, -0.05), the direction of the \
                         comparison, and that the series are of the same bars.",
                        e.len()
                    ),
                ));
            }
        }
        if n > 0 && n < MIN_TRADES {
            out.push(warn(
                "too_few_trades",
                format!(
                    "only {n} entries on these {bars} bars: statistics from fewer than {MIN_TRADES} trades mean little. \
                     Test on more bars (klines(.., #{{ limit: 5000 }}) or from:), a shorter interval, or several tokens."
                ),
            ));
        }
    }
    if lookahead {
        out.push(warn(
            "lookahead",
            "a series of this session was built with shift(-n), which moves LATER bars onto earlier ones: a signal built \
             from it trades on the future and its results are fiction. Use shift(n) with n >= 0 (the previous bars), and \
             align() for other timeframes."
                .into(),
        ));
    }
    if let Size::Pct(p) = s.opts.size
        && p > 100.0 * leverage.max(1.0)
    {
        out.push(warn(
            "oversized",
            format!(
                "size_pct {p} is above {}% of equity at leverage {}: entries are clipped to what the account can buy. \
                 Use size_pct <= 100 (it is a percent of equity), or pass leverage: {} in the backtest options on purpose.",
                100.0 * leverage.max(1.0),
                leverage.max(1.0),
                (p / 100.0).ceil()
            ),
        ));
    }
    if let (Some(sl), Some(tp)) = (s.opts.exits.stop_loss_pct, s.opts.exits.take_profit_pct)
        && sl > tp
    {
        let need = sl / (sl + tp) * 100.0;
        out.push(warn(
            "stop_wider_than_target",
            format!(
                "stop_loss_pct {sl} is wider than take_profit_pct {tp}: a mean-reversion entry then needs to win more \
                 than {need:.0}% of its trades just to break even. Tighten the stop below the target (e.g. stop_loss_pct: {}) \
                 or widen the target.",
                tp / 2.0
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::data::config::Config;
    use crate::script::Session;

    fn codes(s: &mut Session, setup: &str) -> Vec<String> {
        let code = format!("{setup}\nlint(s).map(|w| w.code)");
        let v = s.execute(&code).unwrap_or_else(|e| panic!("{e}\n{code}"));
        let text = v
            .value
            .and_then(|b| b.plain().map(str::to_string))
            .unwrap_or_default();
        text.trim_matches(['[', ']'])
            .split(", ")
            .filter(|c| !c.is_empty())
            .map(|c| c.trim_matches('"').to_string())
            .collect()
    }

    const BARS: &str = r#"let bars = klines("demo:BTC", "1h", #{ limit: 3000 });
let fast = sma(bars.close, 10); let slow = sma(bars.close, 30);"#;

    #[test]
    fn good_strategies_have_no_warning() {
        let dir = tempfile::tempdir().unwrap();
        for good in [
            "let s = strategy(#{ entry: crossover(fast, slow), exit: crossunder(fast, slow) });",
            "let s = std::strategies::sma_cross(bars, 10, 30);",
            "let s = std::strategies::rsi_reversion(bars, 14, 30, 70);",
            "let s = strategy(#{ entry: crossover(fast, slow), stop_loss_pct: 3, take_profit_pct: 6, size_pct: 50 });",
            "let s = strategy(#{ entry: roc(bars.close, 4) <= -1.0, stop_loss_pct: 2, take_profit_pct: 4 });",
            "let s = strategy(#{ entry: crossover(fast, slow), trailing_stop_pct: 5, size_pct: 100 });",
            "let s = strategy(#{ on_bar: |ctx| { if ctx.position == 0 { ctx.buy(); } } });",
        ] {
            let mut s = Session::new(Config::for_home(dir.path()));
            s.execute(BARS).unwrap();
            assert_eq!(codes(&mut s, good), Vec::<String>::new(), "{good}");
        }
    }

    #[test]
    fn bad_strategies_each_get_their_warning() {
        let dir = tempfile::tempdir().unwrap();
        for (bad, code) in [
            (
                "let s = strategy(#{ entry: crossover(fast, slow) });",
                "no_exit",
            ),
            (
                "let s = strategy(#{ entry: bars.close.pct_change(1) <= -90.0, stop_loss_pct: 3 });",
                "never_entry",
            ),
            (
                "let s = strategy(#{ entry: bars.close.shift(-1) > bars.close, exit: bars.close.shift(-1) < bars.close });",
                "lookahead",
            ),
            (
                "let s = strategy(#{ entry: crossover(fast, slow), exit: crossunder(fast, slow), size_pct: 500 });",
                "oversized",
            ),
            (
                "let s = strategy(#{ entry: crossover(rsi(bars.close), 30.0), stop_loss_pct: 10, take_profit_pct: 2 });",
                "stop_wider_than_target",
            ),
            (
                "let s = strategy(#{ entry: crossover(sma(bars.close, 200), sma(bars.close, 600)), exit: crossunder(fast, slow) });",
                "too_few_trades",
            ),
        ] {
            let mut s = Session::new(Config::for_home(dir.path()));
            s.execute(BARS).unwrap();
            let got = codes(&mut s, bad);
            assert_eq!(got, vec![code.to_string()], "{bad}");
        }
    }

    #[test]
    fn a_backtest_prints_the_warnings_that_make_its_result_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let s = Session::new(Config::for_home(dir.path()));
        let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let o = out.clone();
        s.set_sink(move |x| {
            if let crate::display::Output::Stream { stderr: true, text } = x {
                o.lock().unwrap().push_str(&text);
            }
        });
        let mut s = s;
        s.execute(BARS).unwrap();
        s.execute("backtest(bars, strategy(#{ entry: crossover(fast, slow), size_pct: 300 }), #{ save: false });")
            .unwrap();
        let text = out.lock().unwrap().clone();
        assert!(
            text.contains("warning (no_exit)") && text.contains("warning (oversized)"),
            "{text}"
        );
        out.lock().unwrap().clear();
        s.execute("backtest(bars, std::strategies::sma_cross(bars, 10, 30), #{ save: false });")
            .unwrap();
        assert_eq!(out.lock().unwrap().as_str(), "");
    }
}
