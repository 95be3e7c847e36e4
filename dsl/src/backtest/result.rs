//! `BacktestResult`: everything a run produced, with a clean accessor API for tables, plots, the
//! store and the tear sheet: equity, drawdown, returns and the buy-and-hold benchmark (one value
//! per step, aligned with `time`), trades, the open trade, signals, fills and [`Stats`].

use super::config::BacktestConfig;
use super::engine::Engine;
use super::metrics::{self, MetricInputs, Stats, drawdown, returns};
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
        let open_trades: Vec<Trade> = (0..bars.len())
            .filter_map(|a| {
                let last_bar = bars[a].time.partition_point(|&t| t <= last_time);
                engine
                    .account
                    .open_trade(a, last_time, last_bar.saturating_sub(1))
            })
            .collect();
        let benchmark = buy_and_hold(bars, &rec.time, cfg.cash);
        let interval = bars
            .iter()
            .map(|b| b.interval)
            .min()
            .unwrap_or(Interval::D1);
        let rets = returns::returns(&rec.equity, cfg.cash);
        let dd = drawdown::drawdown_curve(&rec.equity, cfg.cash);
        let stats = metrics::compute(&MetricInputs {
            rec: &rec,
            open: &open_trades,
            benchmark: &benchmark,
            returns: &rets,
            drawdown: &dd,
            cash: cfg.cash,
            bars_per_year: interval.bars_per_year(),
            risk_free_pct: cfg.risk_free_pct,
        });
        BacktestResult {
            name: opts.first().map(|o| o.name.clone()).unwrap_or_default(),
            ids: bars.iter().map(|b| b.id.to_string()).collect(),
            interval,
            synthetic: bars.iter().any(|b| b.source.is_synthetic()),
            config: cfg.clone(),
            drawdown: dd,
            returns: rets,
            benchmark,
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
        let line = |k: &str, v: f64| format!("  {k:<28}{}\n", fmt_num(v));
        for (k, v) in s.pairs() {
            out.push_str(&line(k, v));
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

/// Buy-and-hold equity: the cash split equally across tokens, each bought at its first close in
/// the run (held as cash before its first bar), valued at its latest close.
pub fn buy_and_hold(bars: &[&Bars], time: &[i64], cash: f64) -> Vec<f64> {
    let w = cash / bars.len().max(1) as f64;
    let mut cursor: Vec<usize> = bars
        .iter()
        .map(|b| {
            b.time
                .partition_point(|&t| t < time.first().copied().unwrap_or(i64::MIN))
        })
        .collect();
    let mut units: Vec<Option<f64>> = vec![None; bars.len()];
    let mut value: Vec<f64> = vec![w; bars.len()];
    let mut out = Vec::with_capacity(time.len());
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
