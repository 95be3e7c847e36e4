//! `BacktestResult`: everything a run produced, with a clean accessor API for tables, plots, the
//! store and the tear sheet: equity, drawdown, returns and the buy-and-hold benchmark (one value
//! per step, aligned with `time`), trades, the open trade, signals, fills and [`Stats`].

use super::config::BacktestConfig;
use super::engine::Engine;
use super::metrics::{self, Benchmark, Curves, RunData, StatValue, Stats};
use super::sink::{Fill, Recorder, Signal, Trade};
use crate::bars::Bars;
use crate::display::fmt_num;
use crate::interval::Interval;
use crate::strategy::StrategyOptions;
use crate::time::format_time;

#[derive(Clone, Debug)]
pub struct BacktestResult {
    pub name: String,
    /// Token ids, indexed by `Trade::asset` / `Signal::asset`.
    pub ids: Vec<String>,
    pub interval: Interval,
    /// True when any input came from the synthetic demo feed.
    pub synthetic: bool,
    pub config: BacktestConfig,
    pub time: Vec<i64>,
    pub equity: Vec<f64>,
    /// Percent below the running peak (≤ 0).
    pub drawdown: Vec<f64>,
    /// Per-bar returns (fractions).
    pub returns: Vec<f64>,
    /// Buy and hold with the same cash, equal weights, no fees.
    pub benchmark: Vec<f64>,
    pub exposed: Vec<bool>,
    /// Closed trades.
    pub trades: Vec<Trade>,
    /// Positions still open at the end, marked at the last close (no exit fee).
    pub open_trades: Vec<Trade>,
    pub signals: Vec<Signal>,
    pub fills: Vec<Fill>,
    pub stats: Stats,
}

impl BacktestResult {
    /// Assembles a result from the recorded events and the final engine state.
    pub fn build(
        rec: Recorder,
        engine: &Engine,
        bars: &[&Bars],
        opts: &[StrategyOptions],
        cfg: &BacktestConfig,
    ) -> BacktestResult {
        let last_time = rec.time.last().copied().unwrap_or(0);
        let open_trades = open_trades(engine, bars, last_time);
        let benchmark = match bars {
            // A one-token run steps through bars `start..start + steps`.
            [b] => Benchmark::one(
                b.close.values(),
                cfg.start,
                cfg.start + rec.time.len(),
                cfg.cash,
            ),
            _ => Benchmark::new(buy_and_hold(bars, &rec.time, cfg.cash), cfg.cash),
        };
        let interval = bars
            .iter()
            .map(|b| b.interval)
            .min()
            .unwrap_or(Interval::D1);
        let mut curves = Curves::with_capacity(rec.equity.len());
        let stats = metrics::compute(
            &RunData::of(&rec, &open_trades),
            &benchmark,
            cfg.cash,
            interval.bars_per_year(),
            cfg.risk_free_pct,
            &mut curves,
        );
        BacktestResult {
            name: opts.first().map(|o| o.name.clone()).unwrap_or_default(),
            ids: bars.iter().map(|b| b.id.to_string()).collect(),
            interval,
            synthetic: bars.iter().any(|b| b.source.is_synthetic()),
            config: cfg.clone(),
            drawdown: curves.drawdown,
            returns: curves.returns,
            benchmark: benchmark.into_curve(),
            time: rec.time,
            equity: rec.equity,
            exposed: rec.exposed,
            trades: rec.trades,
            open_trades,
            signals: rec.signals,
            fills: rec.fills,
            stats,
        }
    }

    /// Moves the statistics out (the result's buffers go back to the pool).
    pub fn into_stats(mut self) -> Stats {
        std::mem::take(&mut self.stats)
    }

    pub fn id_of(&self, asset: usize) -> &str {
        self.ids.get(asset).map_or("", String::as_str)
    }

    /// The key numbers as text (the `text/plain` of the result's display).
    pub fn summary(&self) -> String {
        let s = &self.stats;
        let mut out = format!(
            "Backtest '{}' on {} {} ({} bars, {} → {}){}\n",
            self.name,
            self.ids.join(", "),
            self.interval,
            self.time.len(),
            self.time.first().map_or("-".into(), |&t| format_time(t)),
            self.time.last().map_or("-".into(), |&t| format_time(t)),
            if self.synthetic {
                " [synthetic demo data]"
            } else {
                ""
            }
        );
        for (k, v) in s.pairs() {
            // Counts as whole numbers (`n_bars 3624`, not `3624.00`).
            let v = match v {
                StatValue::Count(n) => n.to_string(),
                StatValue::Number(x) => fmt_num(x),
            };
            out.push_str(&format!("  {k:<28}{v}\n"));
        }
        if let Some(t) = self.open_trades.first() {
            out.push_str(&format!(
                "  open trade: {} {} {} @ {} → {} (pnl {})\n",
                t.side.direction(),
                fmt_num(t.qty),
                self.id_of(t.asset),
                fmt_num(t.entry_price),
                fmt_num(t.exit_price),
                fmt_num(t.pnl)
            ));
        }
        out
    }
}

/// The per-step vectors go back to the pool for the next run ([`super::recycle`]).
impl Drop for BacktestResult {
    fn drop(&mut self) {
        use super::recycle::{BOOL, F64, I64};
        use std::mem::take;
        I64.give(take(&mut self.time));
        for v in [
            &mut self.equity,
            &mut self.drawdown,
            &mut self.returns,
            &mut self.benchmark,
        ] {
            F64.give(take(v));
        }
        BOOL.give(take(&mut self.exposed));
    }
}

/// Positions still open at the end of a run whose last step was at `last_time`, marked at their
/// last price (no exit fee).
pub fn open_trades(engine: &Engine, bars: &[&Bars], last_time: i64) -> Vec<Trade> {
    (0..bars.len())
        .filter_map(|a| {
            let last_bar = bars[a].time.partition_point(|&t| t <= last_time);
            engine
                .account
                .open_trade(a, last_time, last_bar.saturating_sub(1))
        })
        .collect()
}

/// Buy-and-hold equity: the cash split equally across tokens, each bought at its first close in
/// the run (held as cash before its first bar), valued at its latest close.
pub fn buy_and_hold(bars: &[&Bars], time: &[i64], cash: f64) -> Vec<f64> {
    let w = cash / bars.len().max(1) as f64;
    let first = time.first().copied().unwrap_or(i64::MIN);
    let mut cursor: Vec<usize> = bars
        .iter()
        .map(|b| b.time.partition_point(|&t| t < first))
        .collect();
    let mut out = Vec::with_capacity(time.len());
    // The total is summed the way `Iterator::sum` does, from the same start value.
    let zero = std::iter::empty::<f64>().sum::<f64>();
    if let [b] = bars {
        // One token: no per-step vector of values.
        let (bt, close) = (&b.time[..], b.close.values());
        let (mut c, mut units, mut value) = (cursor[0], None::<f64>, w);
        for &t in time {
            while c < bt.len() && bt[c] <= t {
                let p = close[c];
                let u = *units.get_or_insert(if p > 0.0 { w / p } else { 0.0 });
                value = u * p;
                c += 1;
            }
            out.push(zero + value);
        }
        return out;
    }
    let mut units: Vec<Option<f64>> = vec![None; bars.len()];
    let mut value: Vec<f64> = vec![w; bars.len()];
    for &t in time {
        for (a, b) in bars.iter().enumerate() {
            while cursor[a] < b.len() && b.time[cursor[a]] <= t {
                let c = b.close.values()[cursor[a]];
                let u = *units[a].get_or_insert(if c > 0.0 { w / c } else { 0.0 });
                value[a] = u * c;
                cursor[a] += 1;
            }
        }
        out.push(value.iter().sum());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{DAY, bars_at, flat};

    fn bars(id: &str, days: &[i64], closes: &[f64]) -> Bars {
        let times: Vec<i64> = days.iter().map(|d| d * DAY).collect();
        bars_at(id, Interval::D1, &times, &flat(closes))
    }

    #[test]
    fn one_token_buy_and_hold_matches_the_general_walk() {
        let a = bars("a", &[0, 1, 3, 4], &[10.0, 12.0, 9.0, 11.0]);
        let time: Vec<i64> = (1..6).map(|d| d * 86_400).collect();
        let one = buy_and_hold(&[&a], &time, 1000.0);
        // Bought at the first close in the run (12, day 1); day 2 has no bar (held at 12).
        let want = [
            1000.0,
            1000.0,
            750.0,
            1000.0 / 12.0 * 11.0,
            1000.0 / 12.0 * 11.0,
        ];
        for (x, y) in one.iter().zip(want) {
            assert!((x - y).abs() < 1e-9, "{one:?}");
        }
        // The one-pass benchmark of a one-token run gives the same bits as the general walk.
        let steps = &a.time[1..4];
        let general = Benchmark::new(buy_and_hold(&[&a], steps, 1000.0), 1000.0);
        let one = Benchmark::one(a.close.values(), 1, 4, 1000.0);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one.curve), bits(&general.curve));
        assert_eq!(format!("{one:?}"), format!("{general:?}"));
        assert!(
            Benchmark::one(a.close.values(), 9, 9, 1000.0)
                .curve
                .is_empty()
        );
        let one = buy_and_hold(&[&a], &time, 1000.0);
        // The same token twice goes through the general path: equal halves, same curve.
        let two = buy_and_hold(&[&a, &a], &time, 1000.0);
        for (x, y) in one.iter().zip(&two) {
            assert!((x - y).abs() < 1e-9);
        }
    }
}
