//! Metrics: consumers of a run's events. [`Stats`] gathers every number the result shows; each
//! family documents its formulas in its own file ([`returns`], [`drawdown`], [`trades`]).

pub mod drawdown;
pub mod returns;
pub mod trades;

use crate::backtest::sink::{Action, Recorder, Trade};

/// Every statistic of a run. Percent values end in `_pct`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub start_cash: f64,
    pub final_equity: f64,
    pub total_return_pct: f64,
    pub cagr_pct: f64,
    pub volatility_pct: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub max_drawdown_pct: f64,
    pub max_drawdown_duration_bars: f64,
    pub max_drawdown_duration_days: f64,
    pub win_rate_pct: f64,
    pub profit_factor: f64,
    pub expectancy_pct: f64,
    pub avg_trade_pct: f64,
    pub best_trade_pct: f64,
    pub worst_trade_pct: f64,
    pub sqn: f64,
    pub avg_bars_held: f64,
    pub exposure_pct: f64,
    pub n_trades: f64,
    pub n_bars: f64,
    pub buy_signals: f64,
    pub sell_signals: f64,
    pub buy_hold_return_pct: f64,
    pub alpha: f64,
    pub beta: f64,
    pub fees_paid: f64,
    pub open_trades: f64,
    pub open_trade_pnl: f64,
}

impl Stats {
    /// Name/value pairs in display order (the `.stats` map and the stored JSON).
    pub fn pairs(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("start_cash", self.start_cash),
            ("final_equity", self.final_equity),
            ("total_return_pct", self.total_return_pct),
            ("buy_hold_return_pct", self.buy_hold_return_pct),
            ("cagr_pct", self.cagr_pct),
            ("volatility_pct", self.volatility_pct),
            ("sharpe", self.sharpe),
            ("sortino", self.sortino),
            ("calmar", self.calmar),
            ("max_drawdown_pct", self.max_drawdown_pct),
            (
                "max_drawdown_duration_bars",
                self.max_drawdown_duration_bars,
            ),
            (
                "max_drawdown_duration_days",
                self.max_drawdown_duration_days,
            ),
            ("alpha", self.alpha),
            ("beta", self.beta),
            ("n_trades", self.n_trades),
            ("win_rate_pct", self.win_rate_pct),
            ("profit_factor", self.profit_factor),
            ("expectancy_pct", self.expectancy_pct),
            ("avg_trade_pct", self.avg_trade_pct),
            ("best_trade_pct", self.best_trade_pct),
            ("worst_trade_pct", self.worst_trade_pct),
            ("sqn", self.sqn),
            ("avg_bars_held", self.avg_bars_held),
            ("exposure_pct", self.exposure_pct),
            ("buy_signals", self.buy_signals),
            ("sell_signals", self.sell_signals),
            ("fees_paid", self.fees_paid),
            ("open_trades", self.open_trades),
            ("open_trade_pnl", self.open_trade_pnl),
            ("n_bars", self.n_bars),
        ]
    }

    /// A statistic by name (for `optimize(.., #{ metric })`).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.pairs()
            .into_iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// Names accepted by [`Stats::get`].
    pub fn names() -> Vec<&'static str> {
        Stats::default()
            .pairs()
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }
}

/// Inputs the metrics need besides the recorded events.
pub struct MetricInputs<'a> {
    pub rec: &'a Recorder,
    pub open: &'a [Trade],
    pub benchmark: &'a [f64],
    /// Per-bar returns and drawdown curve of `rec.equity` (see [`returns::returns`],
    /// [`drawdown::drawdown_curve`]), computed once by the caller.
    pub returns: &'a [f64],
    pub drawdown: &'a [f64],
    pub cash: f64,
    pub bars_per_year: f64,
    pub risk_free_pct: f64,
}

/// Computes every statistic, deriving returns and drawdown from the equity.
pub fn compute_from(
    rec: &Recorder,
    open: &[Trade],
    benchmark: &[f64],
    cash: f64,
    bars_per_year: f64,
    risk_free_pct: f64,
) -> Stats {
    let r = returns::returns(&rec.equity, cash);
    let dd = drawdown::drawdown_curve(&rec.equity, cash);
    compute(&MetricInputs {
        rec,
        open,
        benchmark,
        returns: &r,
        drawdown: &dd,
        cash,
        bars_per_year,
        risk_free_pct,
    })
}

/// Computes every statistic.
pub fn compute(m: &MetricInputs) -> Stats {
    let eq = &m.rec.equity;
    let n = eq.len();
    let last = eq.last().copied().unwrap_or(m.cash);
    let rf = m.risk_free_pct / 100.0 / m.bars_per_year;
    let r = m.returns;
    let rb = returns::returns(m.benchmark, m.cash);
    let dd = m.drawdown;
    let mdd = drawdown::max_drawdown_pct(dd);
    let (dur_bars, dur_secs) = drawdown::max_duration(dd, &m.rec.time);
    let cagr = returns::cagr(m.cash, last, n, m.bars_per_year);
    let (alpha, beta) = returns::alpha_beta(r, &rb, m.bars_per_year, rf);
    let ts = trades::trade_stats(&m.rec.trades);
    let count = |a: Action| m.rec.signals.iter().filter(|s| s.action == a).count() as f64;
    let bench_last = m.benchmark.last().copied().unwrap_or(m.cash);
    Stats {
        start_cash: m.cash,
        final_equity: last,
        total_return_pct: (last / m.cash - 1.0) * 100.0,
        cagr_pct: cagr * 100.0,
        volatility_pct: returns::volatility(r, m.bars_per_year) * 100.0,
        sharpe: returns::sharpe(r, m.bars_per_year, rf),
        sortino: returns::sortino(r, m.bars_per_year, rf),
        calmar: returns::calmar(cagr, mdd / 100.0),
        max_drawdown_pct: mdd,
        max_drawdown_duration_bars: dur_bars as f64,
        max_drawdown_duration_days: dur_secs as f64 / 86_400.0,
        win_rate_pct: ts.win_rate_pct,
        profit_factor: ts.profit_factor,
        expectancy_pct: ts.expectancy_pct,
        avg_trade_pct: ts.avg_trade_pct,
        best_trade_pct: ts.best_trade_pct,
        worst_trade_pct: ts.worst_trade_pct,
        sqn: ts.sqn,
        avg_bars_held: ts.avg_bars_held,
        exposure_pct: if n == 0 {
            0.0
        } else {
            m.rec.exposed.iter().filter(|&&x| x).count() as f64 / n as f64 * 100.0
        },
        n_trades: ts.n_trades as f64,
        n_bars: n as f64,
        buy_signals: count(Action::Buy),
        sell_signals: count(Action::Sell),
        buy_hold_return_pct: (bench_last / m.cash - 1.0) * 100.0,
        alpha,
        beta,
        fees_paid: m.rec.fills.iter().map(|f| f.fee).sum(),
        open_trades: m.open.len() as f64,
        open_trade_pnl: m.open.iter().map(|t| t.pnl).sum(),
    }
}
