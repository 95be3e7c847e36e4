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

/// The system prompt: the agent's role and the answer's schema (the same text for every
/// decision, built once).
pub fn system_prompt() -> &'static str {
    static SYSTEM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "You are a trading agent deciding at the close of a bar in a backtest or simulation. \
             You see recent bars, indicators, higher timeframes and the account, and you decide what \
             to do next. Be disciplined: hold unless the evidence is clear.\n\n{SCHEMA_TEXT}"
        )
    });
    &SYSTEM
}

/// A number in at most 6 significant digits, without trailing zeros (`NA` for a missing value).
pub fn num(x: f64) -> String {
    let mut s = String::new();
    push_num(&mut s, x);
    s
}

/// [`num`] written onto the end of `out`.
pub fn push_num(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("NA");
        return;
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (5 - mag).clamp(0, 12) as usize;
    let start = out.len();
    let _ = write!(out, "{x:.decimals$}");
    if out[start..].contains('.') {
        let kept = out[start..]
            .trim_end_matches('0')
            .trim_end_matches('.')
            .len();
        out.truncate(start + kept);
    }
    if &out[start..] == "-0" {
        out.truncate(start);
        out.push('0');
    }
}

/// One bar's cells as the prompt shows them: time, open, high, low, close, volume.
type Row = [String; 6];

fn format_row(bars: &Bars, j: usize) -> Row {
    [
        format_time(bars.time[j]),
        num(bars.open.values()[j]),
        num(bars.high.values()[j]),
        num(bars.low.values()[j]),
        num(bars.close.values()[j]),
        num(bars.volume.values()[j]),
    ]
}

/// What a row or a value was formatted from, compared bit for bit before it is reused.
type RowKey = (i64, [u64; 5]);

fn row_key(bars: &Bars, j: usize) -> RowKey {
    (
        bars.time[j],
        [
            bars.open.values()[j].to_bits(),
            bars.high.values()[j].to_bits(),
            bars.low.values()[j].to_bits(),
            bars.close.values()[j].to_bits(),
            bars.volume.values()[j].to_bits(),
        ],
    )
}

/// The formatted items of one table or one indicator for a sliding window of indices: the
/// items of `first..first + items.len()`, each with the key it was formatted from.
struct Window<K, V> {
    first: usize,
    items: std::collections::VecDeque<(K, V)>,
}

impl<K, V> Default for Window<K, V> {
    fn default() -> Self {
        Window {
            first: 0,
            items: Default::default(),
        }
    }
}

impl<K: PartialEq, V> Window<K, V> {
    /// Makes the window hold exactly the items of `from..to` (formatting those it lacks or
    /// whose key changed) and returns them in order.
    fn fill(
        &mut self,
        from: usize,
        to: usize,
        key: impl Fn(usize) -> K,
        make: impl Fn(usize) -> V,
    ) -> impl Iterator<Item = &V> {
        let end = self.first + self.items.len();
        if from < self.first || from > end {
            self.items.clear();
            self.first = from;
        }
        while self.first < from {
            self.items.pop_front();
            self.first += 1;
        }
        self.items.truncate(to.saturating_sub(from));
        for (k, item) in self.items.iter_mut().enumerate() {
            let kj = key(from + k);
            if item.0 != kj {
                *item = (kj, make(from + k));
            }
        }
        for j in self.first + self.items.len()..to {
            self.items.push_back((key(j), make(j)));
        }
        self.items.iter().map(|(_, v)| v)
    }
}

/// Formatted rows and values kept between the decisions of one run (one token). Consecutive
/// decisions show overlapping windows, so with a memo each bar and value is formatted once
/// instead of `lookback` times; an item is reused only when the bar's time and values (or the
/// indicator's value) are bit for bit those it was formatted from, so the text is always exactly
/// what [`user_prompt`] writes without one.
#[derive(Default)]
pub struct PromptMemo {
    /// The decision bars' table, then one per higher timeframe in order.
    tables: Vec<Window<RowKey, Row>>,
    /// One per indicator in order.
    values: Vec<Window<u64, String>>,
}

fn table(out: &mut String, bars: &Bars, from: usize, to: usize, memo: &mut Window<RowKey, Row>) {
    const HEAD: [&str; 6] = ["time", "open", "high", "low", "close", "volume"];
    let rows: Vec<&Row> = memo
        .fill(from, to, |j| row_key(bars, j), |j| format_row(bars, j))
        .collect();
    let mut w = HEAD.map(str::len);
    for r in &rows {
        for (k, c) in r.iter().enumerate() {
            w[k] = w[k].max(c.len());
        }
    }
    // Cells padded to their column and two spaces apart; a line never ends in spaces.
    let line = |out: &mut String, cells: [&str; 6]| {
        for (k, c) in cells.iter().enumerate() {
            out.push_str(c);
            if k + 1 < cells.len() {
                out.extend(std::iter::repeat_n(' ', w[k] - c.len() + 2));
            }
        }
        let kept = out.trim_end_matches(' ').len();
        out.truncate(kept);
        out.push('\n');
    };
    line(out, HEAD);
    for r in rows {
        line(out, r.each_ref().map(String::as_str));
    }
}

/// The user prompt for one decision (see the module doc for the layout).
pub fn user_prompt(p: &PromptInput) -> String {
    user_prompt_memo(p, &mut PromptMemo::default())
}

/// [`user_prompt`] reusing what earlier decisions of the run formatted (the same text).
pub fn user_prompt_memo(p: &PromptInput, memo: &mut PromptMemo) -> String {
    let b = p.bars;
    let iv = b.interval;
    let n = p.lookback.max(1);
    let from = (p.i + 1).saturating_sub(n);
    let tables = 1 + p.higher.len();
    if memo.tables.len() < tables {
        memo.tables.resize_with(tables, Default::default);
    }
    if memo.values.len() < p.indicators.len() {
        memo.values
            .resize_with(p.indicators.len(), Default::default);
    }
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "Token {}, {iv} bars. Decision at the close of the bar opened {} UTC; an order fills at the next bar's open.\n",
        b.id,
        format_time(b.time[p.i])
    );
    let _ = writeln!(out, "## {iv} bars (last {}, oldest first)", p.i + 1 - from);
    table(&mut out, b, from, p.i + 1, &mut memo.tables[0]);
    if !p.indicators.is_empty() {
        let _ = writeln!(
            out,
            "\n## Indicators on {iv} (last {}, oldest first)",
            p.i + 1 - from
        );
        for ((name, v), w) in p.indicators.iter().zip(memo.values.iter_mut()) {
            out.push_str(name);
            out.push_str(": ");
            for (k, s) in w
                .fill(from, p.i + 1, |j| v[j].to_bits(), |j| num(v[j]))
                .enumerate()
            {
                if k > 0 {
                    out.push_str(", ");
                }
                out.push_str(s);
            }
            out.push('\n');
        }
    }
    for (h, w) in p.higher.iter().zip(memo.tables[1..].iter_mut()) {
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
                table(&mut out, h.bars, f, j + 1, w);
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

    /// Each timeframe's bars resampled from `b`, with the last closed one at each bar of `b`.
    fn resampled(b: &Bars, tfs: &[Interval]) -> Vec<(Bars, Vec<Option<usize>>)> {
        tfs.iter()
            .map(|&iv| {
                let h = b.resample(iv).unwrap();
                let idx = crate::data::resample::align_index(&h, b).unwrap();
                (h, idx)
            })
            .collect()
    }

    /// A memo kept across decisions never changes the text: prompts built one after another
    /// with one memo (bars walked forward with jumps and steps back, lookbacks and timeframes
    /// changing, the table growing as a live feed's does) equal prompts built afresh.
    #[test]
    fn a_memo_gives_the_same_text_as_a_fresh_prompt() {
        use crate::testing::XorShift;
        let mut rng = XorShift::new(0x3e30_77aa);
        let mut pick = |n: usize| ((rng.noise() + 0.5) * n as f64) as usize % n.max(1);
        let full = crate::testing::random_walk_bars("T", Interval::M15, 600, 9);
        let mut memo = PromptMemo::default();
        let mut i = 0usize;
        for step in 0..400 {
            i = match pick(10) {
                0 => pick(600),
                1 => i.saturating_sub(pick(5)),
                _ => (i + 1).min(599),
            };
            // A live feed: the table holds the bars up to a little past the decision bar.
            let b = full.slice(0, (i + 1 + pick(3)).min(600));
            // An indicator whose values change under the same indices now and then.
            let f = if pick(4) == 0 { 0.25 } else { 0.5 };
            let ind: Vec<f64> = b.close.values().iter().map(|c| c * f).collect();
            let tfs: &[Interval] = match pick(3) {
                0 => &[],
                1 => &[Interval::H1],
                _ => &[Interval::H1, Interval::H4],
            };
            let hs = resampled(&b, tfs);
            let higher: Vec<Higher> = hs
                .iter()
                .map(|(h, idx)| Higher {
                    bars: h,
                    last_closed: idx[i],
                })
                .collect();
            let input = PromptInput {
                bars: &b,
                i,
                lookback: 1 + pick(25),
                indicators: &[("half".into(), &ind)],
                higher: &higher,
                account: Account {
                    cash: 10_000.0,
                    equity: 10_000.0 + pick(100) as f64,
                    position: 0.0,
                    avg_price: 0.0,
                },
                instructions: "x",
            };
            assert_eq!(
                user_prompt_memo(&input, &mut memo),
                user_prompt(&input),
                "step {step}, bar {i}"
            );
        }
    }

    /// The prompt of bar `i` built from the whole table equals the one built from the table cut
    /// after bar `i` (resampled, aligned and with its indicator computed on the cut): nothing of a
    /// later bar can be in it. A seeded random search over bar counts, intervals, higher
    /// timeframes, decision bars, lookbacks and accounts (a hand-rolled generator rather than
    /// `proptest`, which is no dependency of this crate: 300 cases, reproducible by seed).
    #[test]
    fn a_prompt_never_holds_data_from_a_later_bar() {
        use crate::data::resample::is_coarser_multiple;
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
                let hs = resampled(b, &tfs);
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
