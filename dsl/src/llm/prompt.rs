//! The agent's prompt: a system prompt (the role and the decision schema) and, per decision, a
//! user prompt laid out in plain Markdown sections a person can read too:
//!
//! ```text
//! Token demo:BTC, 15m bars. Decision at the close of the bar opened 2025-05-10 12:00 UTC;
//! an order fills at the next bar's open.
//!
//! ## 15m bars (last 20, oldest first)
//! time              open      high      low       close     volume
//! 2025-05-10 07:15  61234.5   …
//!
//! ## Indicators on 15m (last 20 values, oldest first)
//! rsi14: 48.21, 51.07, …
//!
//! ## 1h bars (last 20 closed, oldest first)
//! …
//!
//! ## Account
//! cash: 10000
//! equity: 10000
//! position: flat
//!
//! ## Instructions
//! (the user's words)
//! ```
//!
//! Everything shown is known at the close of bar `i`: bars `0..=i`, indicator values `0..=i`,
//! higher-timeframe bars that had closed by then (a forming one is left out), and the account.
//! The same inputs always give the same text, byte for byte, so answers can be cached by prompt.

use super::decision::SCHEMA_TEXT;
use crate::bars::Bars;
use crate::time::format_time;
use std::fmt::Write;

/// The account at the decision.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Account {
    pub cash: f64,
    pub equity: f64,
    /// Signed units (negative when short).
    pub position: f64,
    /// Average entry price of the position (0 when flat).
    pub avg_price: f64,
}

/// A higher timeframe: its bars and the index of the last one closed at the decision bar.
pub struct Higher<'a> {
    pub bars: &'a Bars,
    pub last_closed: Option<usize>,
}

pub struct PromptInput<'a> {
    pub bars: &'a Bars,
    /// The decision bar (its close is the latest price known).
    pub i: usize,
    /// Rows of bars and values of each indicator shown.
    pub lookback: usize,
    /// Name and values, one per bar of `bars`.
    pub indicators: &'a [(String, &'a [f64])],
    pub higher: &'a [Higher<'a>],
    pub account: Account,
    pub instructions: &'a str,
}

/// The system prompt: the agent's role and the answer's schema.
pub fn system_prompt() -> String {
    format!(
        "You are a trading agent deciding at the close of a bar in a backtest or simulation. \
         You see recent bars, indicators, higher timeframes and the account, and you decide what \
         to do next. Be disciplined: hold unless the evidence is clear.\n\n{SCHEMA_TEXT}"
    )
}

/// A number in at most 6 significant digits, without trailing zeros (`NA` for a missing value).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "NA".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (5 - mag).clamp(0, 12) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

fn table(out: &mut String, bars: &Bars, from: usize, to: usize) {
    let rows: Vec<[String; 6]> = (from..to)
        .map(|j| {
            [
                format_time(bars.time[j]),
                num(bars.open.values()[j]),
                num(bars.high.values()[j]),
                num(bars.low.values()[j]),
                num(bars.close.values()[j]),
                num(bars.volume.values()[j]),
            ]
        })
        .collect();
    let head = ["time", "open", "high", "low", "close", "volume"];
    let mut w = head.map(str::len);
    for r in &rows {
        for (k, c) in r.iter().enumerate() {
            w[k] = w[k].max(c.len());
        }
    }
    let line = |out: &mut String, cells: &[&str]| {
        let mut l = String::new();
        for (k, c) in cells.iter().enumerate() {
            let _ = write!(l, "{c:<width$}  ", width = w[k]);
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(out, &head);
    for r in &rows {
        line(out, &r.each_ref().map(String::as_str));
    }
}

/// The user prompt for one decision (see the module doc for the layout).
pub fn user_prompt(p: &PromptInput) -> String {
    let b = p.bars;
    let iv = b.interval;
    let n = p.lookback.max(1);
    let from = (p.i + 1).saturating_sub(n);
    let mut out = String::with_capacity(2048);
    let _ = writeln!(
        out,
        "Token {}, {iv} bars. Decision at the close of the bar opened {} UTC; an order fills at the next bar's open.\n",
        b.id,
        format_time(b.time[p.i])
    );
    let _ = writeln!(out, "## {iv} bars (last {}, oldest first)", p.i + 1 - from);
    table(&mut out, b, from, p.i + 1);
    if !p.indicators.is_empty() {
        let _ = writeln!(
            out,
            "\n## Indicators on {iv} (last {}, oldest first)",
            p.i + 1 - from
        );
        for (name, v) in p.indicators {
            let vals: Vec<String> = v[from..=p.i].iter().map(|&x| num(x)).collect();
            let _ = writeln!(out, "{name}: {}", vals.join(", "));
        }
    }
    for h in p.higher {
        let hi = h.bars.interval;
        match h.last_closed {
            None => {
                let _ = writeln!(out, "\n## {hi} bars\nnone closed yet");
            }
            Some(j) => {
                let f = (j + 1).saturating_sub(n);
                let _ = writeln!(
                    out,
                    "\n## {hi} bars (last {} closed, oldest first)",
                    j + 1 - f
                );
                table(&mut out, h.bars, f, j + 1);
            }
        }
    }
    let a = p.account;
    let price = b.close.values()[p.i];
    let _ = writeln!(out, "\n## Account");
    let _ = writeln!(out, "cash: {}", num(a.cash));
    let _ = writeln!(out, "equity: {}", num(a.equity));
    if a.position == 0.0 {
        let _ = writeln!(out, "position: flat");
    } else {
        let side = if a.position > 0.0 { "long" } else { "short" };
        let pnl = (price - a.avg_price) * a.position;
        let pnl_pct = if a.avg_price > 0.0 {
            (price / a.avg_price - 1.0) * 100.0 * a.position.signum()
        } else {
            f64::NAN
        };
        let _ = writeln!(out, "position: {side} {} units", num(a.position.abs()));
        let _ = writeln!(out, "entry price: {}", num(a.avg_price));
        let _ = writeln!(out, "unrealized P&L: {} ({} %)", num(pnl), num(pnl_pct));
    }
    let instr = p.instructions.trim();
    if !instr.is_empty() {
        let _ = writeln!(out, "\n## Instructions\n{instr}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::Interval;

    #[test]
    fn numbers_keep_six_significant_digits() {
        assert_eq!(num(61234.56789), "61234.6");
        assert_eq!(num(0.000012345678), "0.0000123457");
        assert_eq!(num(100.0), "100");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(f64::NAN), "NA");
    }

    #[test]
    fn the_prompt_shows_bars_indicators_account_and_instructions() {
        let bars = crate::testing::random_walk_bars("T", Interval::M15, 50, 1);
        let ind: Vec<f64> = (0..50).map(|k| k as f64).collect();
        let h = bars.resample(Interval::H1).unwrap();
        let idx = crate::data::resample::align_index(&h, &bars).unwrap();
        let p = user_prompt(&PromptInput {
            bars: &bars,
            i: 30,
            lookback: 5,
            indicators: &[("ramp".into(), &ind)],
            higher: &[Higher {
                bars: &h,
                last_closed: idx[30],
            }],
            account: Account {
                cash: 5000.0,
                equity: 10100.0,
                position: 2.0,
                avg_price: 100.0,
            },
            instructions: "Buy dips.",
        });
        assert!(p.contains("## 15m bars (last 5, oldest first)"), "{p}");
        assert!(p.contains("ramp: 26, 27, 28, 29, 30\n"), "{p}");
        assert!(p.contains("## 1h bars (last"), "{p}");
        assert!(p.contains("position: long 2 units"), "{p}");
        assert!(p.contains("## Instructions\nBuy dips."), "{p}");
        assert!(!p.contains("ramp: 26, 27, 28, 29, 30, 31"));
    }

    /// The prompt of bar `i` built from the whole table equals the one built from the table cut
    /// after bar `i` (resampled, aligned and with its indicator computed on the cut): nothing of a
    /// later bar can be in it. A seeded random search over bar counts, intervals, higher
    /// timeframes, decision bars, lookbacks and accounts (a hand-rolled generator rather than
    /// `proptest`, which is no dependency of this crate: 300 cases, reproducible by seed).
    #[test]
    fn a_prompt_never_holds_data_from_a_later_bar() {
        use crate::data::resample::{align_index, is_coarser_multiple};
        use crate::testing::XorShift;
        let mut rng = XorShift::new(0x5eed_1234);
        let mut pick = |n: usize| ((rng.noise() + 0.5) * n as f64) as usize % n.max(1);
        let bases = [Interval::M1, Interval::M5, Interval::M15, Interval::H1];
        // A causal indicator: the running mean of closes.
        let running_mean = |b: &Bars| {
            let mut acc = 0.0;
            b.close
                .values()
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    acc += c;
                    acc / (k + 1) as f64
                })
                .collect::<Vec<f64>>()
        };
        for case in 0..300u64 {
            let base = bases[pick(bases.len())];
            let n = 20 + pick(400);
            let full = crate::testing::random_walk_bars("T", base, n, case + 1);
            let coarser: Vec<Interval> = crate::interval::ALL
                .iter()
                .copied()
                .filter(|&iv| {
                    iv != base
                        && is_coarser_multiple(base, iv)
                        && iv.seconds() <= base.seconds() * 64
                })
                .collect();
            let tfs: Vec<Interval> = (0..pick(3))
                .filter_map(|_| coarser.get(pick(coarser.len())).copied())
                .collect();
            let i = pick(n);
            let lookback = 1 + pick(30);
            let account = Account {
                cash: 1000.0 + pick(9000) as f64,
                equity: 10_000.0,
                position: pick(3) as f64 - 1.0,
                avg_price: 100.0,
            };
            let build = |b: &Bars| {
                let ind = running_mean(b);
                let hs: Vec<(Bars, Vec<Option<usize>>)> = tfs
                    .iter()
                    .map(|&iv| {
                        let h = b.resample(iv).unwrap();
                        let idx = align_index(&h, b).unwrap();
                        (h, idx)
                    })
                    .collect();
                let higher: Vec<Higher> = hs
                    .iter()
                    .map(|(h, idx)| Higher {
                        bars: h,
                        last_closed: idx[i],
                    })
                    .collect();
                user_prompt(&PromptInput {
                    bars: b,
                    i,
                    lookback,
                    indicators: &[("mean".into(), &ind)],
                    higher: &higher,
                    account,
                    instructions: "x",
                })
            };
            let cut = full.slice(0, i + 1);
            assert_eq!(
                build(&full),
                build(&cut),
                "case {case}: {n} {base} bars, bar {i}, timeframes {tfs:?}, lookback {lookback}"
            );
        }
    }
}
