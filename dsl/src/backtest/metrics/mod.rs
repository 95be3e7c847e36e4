//! Metrics: consumers of a run's events. [`Stats`] gathers every number the result shows; each
//! family documents its formulas in its own file ([`returns`], [`drawdown`], [`trades`]).

pub mod drawdown;
pub mod returns;
pub mod trades;

use crate::backtest::recycle::F64;
use crate::backtest::sink::{Action, Recorder, Trade};

/// One statistic's value: a count (trades, bars, signals) is a whole number wherever a script or
/// the store sees it; everything else is a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StatValue {
    Count(u64),
    Number(f64),
}

impl StatValue {
    pub fn as_f64(self) -> f64 {
        match self {
            StatValue::Count(n) => n as f64,
            StatValue::Number(x) => x,
        }
    }
}

/// Every statistic of a run. Percent values end in `_pct`; counts are `u64`.
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
    pub max_drawdown_duration_bars: u64,
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
    pub n_trades: u64,
    pub n_bars: u64,
    pub buy_signals: u64,
    pub sell_signals: u64,
    pub buy_hold_return_pct: f64,
    pub alpha: f64,
    pub beta: f64,
    pub fees_paid: f64,
    pub open_trades: u64,
    pub open_trade_pnl: f64,
}

impl Stats {
    /// Name/value pairs in display order (the `.stats` map, the stored JSON, the tear sheet).
    pub fn pairs(&self) -> Vec<(&'static str, StatValue)> {
        vec![
            ("start_cash", StatValue::Number(self.start_cash)),
            ("final_equity", StatValue::Number(self.final_equity)),
            ("total_return_pct", StatValue::Number(self.total_return_pct)),
            (
                "buy_hold_return_pct",
                StatValue::Number(self.buy_hold_return_pct),
            ),
            ("cagr_pct", StatValue::Number(self.cagr_pct)),
            ("volatility_pct", StatValue::Number(self.volatility_pct)),
            ("sharpe", StatValue::Number(self.sharpe)),
            ("sortino", StatValue::Number(self.sortino)),
            ("calmar", StatValue::Number(self.calmar)),
            ("max_drawdown_pct", StatValue::Number(self.max_drawdown_pct)),
            (
                "max_drawdown_duration_bars",
                StatValue::Count(self.max_drawdown_duration_bars),
            ),
            (
                "max_drawdown_duration_days",
                StatValue::Number(self.max_drawdown_duration_days),
            ),
            ("alpha", StatValue::Number(self.alpha)),
            ("beta", StatValue::Number(self.beta)),
            ("n_trades", StatValue::Count(self.n_trades)),
            ("win_rate_pct", StatValue::Number(self.win_rate_pct)),
            ("profit_factor", StatValue::Number(self.profit_factor)),
            ("expectancy_pct", StatValue::Number(self.expectancy_pct)),
            ("avg_trade_pct", StatValue::Number(self.avg_trade_pct)),
            ("best_trade_pct", StatValue::Number(self.best_trade_pct)),
            ("worst_trade_pct", StatValue::Number(self.worst_trade_pct)),
            ("sqn", StatValue::Number(self.sqn)),
            ("avg_bars_held", StatValue::Number(self.avg_bars_held)),
            ("exposure_pct", StatValue::Number(self.exposure_pct)),
            ("buy_signals", StatValue::Count(self.buy_signals)),
            ("sell_signals", StatValue::Count(self.sell_signals)),
            ("fees_paid", StatValue::Number(self.fees_paid)),
            ("open_trades", StatValue::Count(self.open_trades)),
            ("open_trade_pnl", StatValue::Number(self.open_trade_pnl)),
            ("n_bars", StatValue::Count(self.n_bars)),
        ]
    }

    /// A statistic by name, typed.
    pub fn value(&self, name: &str) -> Option<StatValue> {
        self.pairs()
            .into_iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// A statistic by name as a number (for ranking: `optimize(.., #{ metric })`).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.value(name).map(StatValue::as_f64)
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

/// What the metrics read from a run (a [`Recorder`] or a stats-only [`Tally`](crate::backtest::sink::Tally)).
pub struct RunData<'a> {
    /// Equity at each step's close.
    pub equity: &'a [f64],
    /// Step times (same length as `equity`), for drawdown durations.
    pub time: &'a [i64],
    /// Steps during which a position was held.
    pub exposed_steps: usize,
    /// Closed trades.
    pub trades: &'a [Trade],
    /// Positions open at the end.
    pub open: &'a [Trade],
    pub buy_signals: usize,
    pub sell_signals: usize,
    /// Σ fill fees in fill order.
    pub fees_paid: f64,
}

impl<'a> RunData<'a> {
    /// The view of a full recording.
    pub fn of(rec: &'a Recorder, open: &'a [Trade]) -> RunData<'a> {
        let count = |a: Action| rec.signals.iter().filter(|s| s.action == a).count();
        RunData {
            equity: &rec.equity,
            time: &rec.time,
            exposed_steps: rec.exposed.iter().filter(|&&x| x).count(),
            trades: &rec.trades,
            open,
            buy_signals: count(Action::Buy),
            sell_signals: count(Action::Sell),
            fees_paid: rec.fills.iter().map(|f| f.fee).sum(),
        }
    }
}

/// The buy-and-hold curve with its per-bar returns and their moments, computed once (a sweep
/// shares one across every combination).
#[derive(Clone, Debug, Default)]
pub struct Benchmark {
    /// Equity of buy and hold, one value per step.
    pub curve: Vec<f64>,
    returns: Vec<f64>,
    mean: f64,
    /// Σ (b − mean)², the unscaled variance.
    var_sum: f64,
}

impl Benchmark {
    pub fn new(curve: Vec<f64>, cash: f64) -> Benchmark {
        let returns = returns::returns(&curve, cash);
        let mean = returns.iter().sum::<f64>() / returns.len() as f64;
        Benchmark::with(curve, returns, mean)
    }

    /// Buy and hold of one token over its bars `start..end` (exactly the steps of a one-token
    /// run), curve and returns in one pass: the same numbers as
    /// `Benchmark::new(buy_and_hold(..), cash)`.
    pub fn one(close: &[f64], start: usize, end: usize, cash: f64) -> Benchmark {
        let end = end.min(close.len());
        let close = &close[start.min(end)..end];
        let zero = sum_start();
        let u = match close.first() {
            Some(&p) if p > 0.0 => cash / p,
            _ => 0.0,
        };
        let (mut curve, mut rets) = (F64.take(close.len()), F64.take(close.len()));
        let (mut prev, mut sum) = (cash, zero);
        for &p in close {
            let v = zero + u * p;
            let r = if prev != 0.0 { v / prev - 1.0 } else { 0.0 };
            prev = v;
            curve.push(v);
            rets.push(r);
            sum += r;
        }
        let mean = sum / rets.len() as f64;
        Benchmark::with(curve, rets, mean)
    }

    /// The curve; the returns buffer goes back to the pool.
    pub fn into_curve(self) -> Vec<f64> {
        F64.give(self.returns);
        self.curve
    }

    fn with(curve: Vec<f64>, returns: Vec<f64>, mean: f64) -> Benchmark {
        let mut var_sum = 0.0;
        for x in &returns {
            var_sum += (x - mean) * (x - mean);
        }
        Benchmark {
            curve,
            returns,
            mean,
            var_sum,
        }
    }
}

/// The per-bar return and drawdown curves of a run, filled by [`compute`]. Reused between runs
/// (a sweep keeps one per thread) so no pages are faulted in per combination.
#[derive(Clone, Debug, Default)]
pub struct Curves {
    pub returns: Vec<f64>,
    pub drawdown: Vec<f64>,
}

impl Curves {
    /// Room for `n` steps, in recycled buffers when there are some.
    pub fn with_capacity(n: usize) -> Curves {
        Curves {
            returns: F64.take(n),
            drawdown: F64.take(n),
        }
    }

    /// Hands both buffers back to the pool.
    pub fn recycle(self) {
        F64.give(self.returns);
        F64.give(self.drawdown);
    }
}

/// `0.0` the way `Iterator::sum` starts, so fused loops add in the same order from the same value
/// and give bit-identical results to the one-metric-per-pass formulas in [`returns`].
fn sum_start() -> f64 {
    std::iter::empty::<f64>().sum()
}

/// Computes every statistic in three passes over the equity curve (the formulas are those of
/// [`returns`], [`drawdown`] and [`trades`], evaluated in the same order, so the numbers are
/// bit-identical to calling them one by one), filling `curves` on the way.
pub fn compute(
    run: &RunData,
    bench: &Benchmark,
    cash: f64,
    bars_per_year: f64,
    risk_free_pct: f64,
    curves: &mut Curves,
) -> Stats {
    let eq = run.equity;
    let n = eq.len();
    let nf = n as f64;
    let last = eq.last().copied().unwrap_or(cash);
    let rf = risk_free_pct / 100.0 / bars_per_year;
    let z = sum_start();
    let (r, dd) = (&mut curves.returns, &mut curves.drawdown);
    r.clear();
    dd.clear();
    r.reserve(n);
    dd.reserve(n);
    // Pass 1: returns, drawdown, first moments, downside, drawdown depth and duration.
    let (mut prev, mut peak) = (cash, cash);
    let (mut s_r, mut s_rf, mut so_sum, mut so_down, mut dd_min) = (z, z, 0.0, 0.0, 0.0f64);
    let mut dur = (0usize, 0i64);
    let mut under: Option<usize> = None;
    let mut d_prev = (f64::NAN, f64::NAN, 0.0);
    for (i, &e) in eq.iter().enumerate() {
        // x / x − 1 is exactly 0 for finite non-zero x: flat stretches skip the division.
        let ri = if e == prev && e.is_finite() && e != 0.0 {
            0.0
        } else if prev != 0.0 {
            e / prev - 1.0
        } else {
            0.0
        };
        prev = e;
        r.push(ri);
        s_r += ri;
        s_rf += ri - rf;
        let a = ri - rf;
        so_sum += a;
        if a < 0.0 {
            so_down += a * a;
        }
        if e > peak {
            peak = e;
        }
        // Same inputs as the previous bar give the same drawdown (no division).
        let d = if e == d_prev.0 && peak == d_prev.1 {
            d_prev.2
        } else if peak > 0.0 {
            (e / peak - 1.0) * 100.0
        } else {
            0.0
        };
        d_prev = (e, peak, d);
        dd.push(d);
        dd_min = dd_min.min(d);
        if d < 0.0 {
            let s = *under.get_or_insert(i.saturating_sub(1));
            let bars = i - s;
            if bars > dur.0 {
                let secs = run
                    .time
                    .get(i)
                    .zip(run.time.get(s))
                    .map_or(0, |(a, b)| a - b);
                dur = (bars, secs);
            }
        } else {
            under = None;
        }
    }
    // Pass 2: second moments around the means, covariance with the benchmark.
    let rb = &bench.returns;
    let with_bench = n >= 2 && rb.len() == n;
    let (m_r, m_rf) = (s_r / nf, s_rf / nf);
    let (mut ss_r, mut ss_rf, mut cov) = (z, z, 0.0);
    if with_bench {
        for (&x, &y) in r.iter().zip(rb) {
            ss_r += (x - m_r) * (x - m_r);
            ss_rf += (x - rf - m_rf) * (x - rf - m_rf);
            cov += (y - bench.mean) * x;
        }
    } else {
        for &x in r.iter() {
            ss_r += (x - m_r) * (x - m_r);
            ss_rf += (x - rf - m_rf) * (x - rf - m_rf);
        }
    }
    // Pass 3: alpha, which needs beta.
    let (alpha, beta) = if with_bench && bench.var_sum / nf >= 1e-30 {
        let beta = (cov / nf) / (bench.var_sum / nf);
        let mut a = z;
        for (&x, &y) in r.iter().zip(rb) {
            a += (x - rf) - beta * (y - rf);
        }
        ((a / nf + 1.0).powf(bars_per_year) - 1.0, beta)
    } else {
        (f64::NAN, f64::NAN)
    };
    let few = n < 2;
    let volatility = if few {
        f64::NAN
    } else {
        (ss_r / (n - 1) as f64).sqrt() * bars_per_year.sqrt()
    };
    let sharpe = if few {
        f64::NAN
    } else {
        let s = (ss_rf / (nf - 1.0)).sqrt();
        if s == 0.0 {
            f64::INFINITY
        } else {
            m_rf / s * bars_per_year.sqrt()
        }
    };
    let sortino = if few {
        f64::NAN
    } else {
        let dr = (so_down / nf).sqrt() * bars_per_year.sqrt();
        if dr == 0.0 {
            f64::INFINITY
        } else {
            so_sum / nf * bars_per_year / dr
        }
    };
    let mdd = -dd_min;
    let cagr = returns::cagr(cash, last, n, bars_per_year);
    let ts = trades::trade_stats(run.trades);
    let bench_last = bench.curve.last().copied().unwrap_or(cash);
    Stats {
        start_cash: cash,
        final_equity: last,
        total_return_pct: (last / cash - 1.0) * 100.0,
        cagr_pct: cagr * 100.0,
        volatility_pct: volatility * 100.0,
        sharpe,
        sortino,
        calmar: returns::calmar(cagr, mdd / 100.0),
        max_drawdown_pct: mdd,
        max_drawdown_duration_bars: dur.0 as u64,
        max_drawdown_duration_days: dur.1 as f64 / 86_400.0,
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
            run.exposed_steps as f64 / nf * 100.0
        },
        n_trades: ts.n_trades as u64,
        n_bars: n as u64,
        buy_signals: run.buy_signals as u64,
        sell_signals: run.sell_signals as u64,
        buy_hold_return_pct: (bench_last / cash - 1.0) * 100.0,
        alpha,
        beta,
        fees_paid: run.fees_paid,
        open_trades: run.open.len() as u64,
        open_trade_pnl: run.open.iter().map(|t| t.pnl).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::sink::{Fill, Signal};
    use crate::order::{ExitReason, Side};

    /// The one-formula-per-pass computation the fused [`compute`] must reproduce bit for bit.
    fn reference(
        rec: &Recorder,
        open: &[Trade],
        benchmark: &[f64],
        cash: f64,
        bpy: f64,
        rf_pct: f64,
    ) -> Stats {
        let eq = &rec.equity;
        let n = eq.len();
        let last = eq.last().copied().unwrap_or(cash);
        let rf = rf_pct / 100.0 / bpy;
        let r = returns::returns(eq, cash);
        let rb = returns::returns(benchmark, cash);
        let dd = drawdown::drawdown_curve(eq, cash);
        let mdd = drawdown::max_drawdown_pct(&dd);
        let (dur_bars, dur_secs) = drawdown::max_duration(&dd, &rec.time);
        let cagr = returns::cagr(cash, last, n, bpy);
        let (alpha, beta) = returns::alpha_beta(&r, &rb, bpy, rf);
        let ts = trades::trade_stats(&rec.trades);
        let count = |a: Action| rec.signals.iter().filter(|s| s.action == a).count() as u64;
        let bench_last = benchmark.last().copied().unwrap_or(cash);
        Stats {
            start_cash: cash,
            final_equity: last,
            total_return_pct: (last / cash - 1.0) * 100.0,
            cagr_pct: cagr * 100.0,
            volatility_pct: returns::volatility(&r, bpy) * 100.0,
            sharpe: returns::sharpe(&r, bpy, rf),
            sortino: returns::sortino(&r, bpy, rf),
            calmar: returns::calmar(cagr, mdd / 100.0),
            max_drawdown_pct: mdd,
            max_drawdown_duration_bars: dur_bars as u64,
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
                rec.exposed.iter().filter(|&&x| x).count() as f64 / n as f64 * 100.0
            },
            n_trades: ts.n_trades as u64,
            n_bars: n as u64,
            buy_signals: count(Action::Buy),
            sell_signals: count(Action::Sell),
            buy_hold_return_pct: (bench_last / cash - 1.0) * 100.0,
            alpha,
            beta,
            fees_paid: rec.fills.iter().map(|f| f.fee).sum(),
            open_trades: open.len() as u64,
            open_trade_pnl: open.iter().map(|t| t.pnl).sum(),
        }
    }

    fn bits(s: &Stats) -> Vec<(&'static str, u64)> {
        s.pairs()
            .into_iter()
            .map(|(k, v)| (k, v.as_f64().to_bits()))
            .collect()
    }

    fn recording(n: usize, seed: u64) -> (Recorder, Vec<f64>) {
        let mut x = seed;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut rec = Recorder::default();
        let (mut e, mut b) = (1000.0, 1000.0);
        for i in 0..n {
            e *= 1.0 + next() * 0.03;
            b *= 1.0 + next() * 0.02;
            rec.time.push(i as i64 * 3600);
            rec.equity.push(e);
            rec.exposed.push(next() > 0.0);
        }
        for k in 0..n / 10 {
            let pnl = next() * 50.0;
            rec.trades.push(Trade {
                asset: 0,
                side: Side::Buy,
                entry_time: 0,
                exit_time: 1,
                entry_bar: k,
                exit_bar: k + 3,
                entry_price: 1.0,
                exit_price: 1.0,
                qty: 1.0,
                pnl,
                pnl_pct: pnl / 10.0,
                fees: 0.1,
                exit_reason: ExitReason::Signal,
            });
            rec.fills.push(Fill {
                asset: 0,
                time: 0,
                bar: k,
                side: Side::Buy,
                qty: 1.0,
                price: 1.0,
                fee: next().abs(),
                reason: "entry",
            });
            rec.signals.push(Signal {
                asset: 0,
                time: 0,
                action: if k % 3 == 0 {
                    Action::Sell
                } else {
                    Action::Buy
                },
                reason: "entry".into(),
                price: 1.0,
            });
        }
        let bench: Vec<f64> = (0..n)
            .map(|i| b * (1.0 + (i as f64 * 0.1).sin() * 0.05))
            .collect();
        (rec, bench)
    }

    #[test]
    fn fused_stats_are_bit_identical_to_the_per_formula_passes() {
        for (n, seed, rf) in [
            (500, 7, 0.0),
            (2000, 99, 3.0),
            (1, 5, 0.0),
            (0, 1, 0.0),
            (2, 3, 1.0),
        ] {
            let (rec, bench) = recording(n, seed);
            let want = reference(&rec, &[], &bench, 1000.0, 8760.0, rf);
            let mut curves = Curves::default();
            let got = compute(
                &RunData::of(&rec, &[]),
                &Benchmark::new(bench.clone(), 1000.0),
                1000.0,
                8760.0,
                rf,
                &mut curves,
            );
            assert_eq!(bits(&got), bits(&want), "n = {n}");
            let same = |a: &[f64], b: &[f64]| {
                a.iter()
                    .map(|x| x.to_bits())
                    .eq(b.iter().map(|x| x.to_bits()))
            };
            assert!(same(
                &curves.returns,
                &returns::returns(&rec.equity, 1000.0)
            ));
            assert!(same(
                &curves.drawdown,
                &drawdown::drawdown_curve(&rec.equity, 1000.0)
            ));
        }
    }

    #[test]
    fn flat_equity_has_no_drawdown_and_nan_ratios() {
        let rec = Recorder {
            time: vec![0, 60, 120],
            equity: vec![100.0; 3],
            exposed: vec![false; 3],
            ..Default::default()
        };
        let s = compute(
            &RunData::of(&rec, &[]),
            &Benchmark::new(vec![100.0; 3], 100.0),
            100.0,
            365.0,
            0.0,
            &mut Curves::default(),
        );
        assert_eq!(s.max_drawdown_pct, 0.0);
        assert!(s.sharpe.is_infinite() && s.beta.is_nan() && s.calmar.is_nan());
    }
}
