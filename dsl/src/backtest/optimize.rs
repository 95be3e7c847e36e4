//! Parameter sweeps and walk-forward analysis over vectorized strategies.
//!
//! A sweep runs one backtest per parameter combination on all cores (`std::thread::scope` over
//! contiguous chunks; results come back in input order, so a sweep is deterministic). Strategies
//! are built beforehand on the calling thread (the script closure), so only plain Rust crosses
//! threads. Walk-forward splits the bars into rolling windows: the best combination on each
//! training window is run on the following test window, and the test windows chained together
//! give the out-of-sample equity curve.

use super::clock;
use super::config::BacktestConfig;
use super::metrics::{self, Stats};
use super::result::BacktestResult;
use super::sink::Recorder;
use crate::bars::Bars;
use crate::error::{DslError, Result};
use crate::runtime::Cancel;
use crate::strategy::{Signals, StrategyOptions};
use std::ops::Range;

/// One combination's strategy.
#[derive(Clone, Debug)]
pub struct Job {
    pub signals: Signals,
    pub opts: StrategyOptions,
}

/// Runs every job on `bars` with `cfg`, in parallel; results in job order.
pub fn sweep(
    bars: &Bars,
    jobs: &[Job],
    cfg: &BacktestConfig,
    cancel: &Cancel,
) -> Result<Vec<BacktestResult>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let chunk = jobs.len().div_ceil(threads.max(1)).max(1);
    let run_one = |job: &Job| -> Result<BacktestResult> {
        cancel.check()?;
        let mut s = job.signals.clone();
        clock::run(
            &[bars],
            &mut [&mut s],
            std::slice::from_ref(&job.opts),
            cfg,
            Some(cancel),
        )
    };
    if threads <= 1 {
        return jobs.iter().map(run_one).collect();
    }
    let parts: Vec<Result<Vec<BacktestResult>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(run_one).collect::<Result<Vec<_>>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(DslError::invalid("a sweep thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(jobs.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Orders result indices best first by `metric` (NaN last); ties keep input order.
pub fn rank(stats: &[&Stats], metric: &str, minimize: bool) -> Result<Vec<usize>> {
    if Stats::default().get(metric).is_none() {
        return Err(DslError::invalid(format!(
            "unknown metric '{metric}'; use one of {}",
            Stats::names().join(", ")
        )));
    }
    let key = |i: usize| stats[i].get(metric).unwrap_or(f64::NAN);
    let mut idx: Vec<usize> = (0..stats.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (key(a), key(b));
        match (x.is_nan(), y.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ if minimize => x.total_cmp(&y),
            _ => y.total_cmp(&x),
        }
    });
    Ok(idx)
}

/// Metrics where smaller is better.
pub fn lower_is_better(metric: &str) -> bool {
    matches!(
        metric,
        "max_drawdown_pct"
            | "volatility_pct"
            | "max_drawdown_duration_bars"
            | "max_drawdown_duration_days"
    )
}

/// Rolling (train, test) windows over `n` bars: train `[k·test, k·test + train)`, test the `test`
/// bars after it; the last test window may be shorter.
pub fn windows(n: usize, train: usize, test: usize) -> Result<Vec<(Range<usize>, Range<usize>)>> {
    if train == 0 || test == 0 {
        return Err(DslError::invalid(
            "walk_forward needs train and test of at least 1 bar",
        ));
    }
    if train + 1 > n {
        return Err(DslError::invalid(format!(
            "walk_forward train ({train}) must be shorter than the bars ({n})"
        )));
    }
    let mut out = Vec::new();
    let mut k = 0;
    while k * test + train < n {
        let a = k * test;
        let t0 = a + train;
        out.push((a..t0, t0..(t0 + test).min(n)));
        k += 1;
    }
    Ok(out)
}

/// One walk-forward window: which job won on training and how it did on the test bars.
#[derive(Clone, Debug)]
pub struct WindowResult {
    pub train: Range<usize>,
    pub test: Range<usize>,
    pub best: usize,
    pub train_stats: Stats,
    pub test_stats: Stats,
}

/// Walk-forward: per window, sweep the training bars, run the winner on the test bars starting
/// from the equity the previous test window ended with. Returns the windows and the stats of the
/// chained out-of-sample equity curve.
#[allow(clippy::too_many_arguments)] // the sweep inputs plus the window sizes; all plain values
pub fn walk_forward(
    bars: &Bars,
    jobs: &[Job],
    cfg: &BacktestConfig,
    metric: &str,
    minimize: bool,
    train: usize,
    test: usize,
    cancel: &Cancel,
) -> Result<(Vec<WindowResult>, Stats)> {
    let mut out = Vec::new();
    let mut chained = Recorder::default();
    let mut bench = Vec::new();
    let mut cash = cfg.cash;
    let mut bench_cash = cfg.cash;
    for (tr, te) in windows(bars.len(), train, test)? {
        let tcfg = BacktestConfig {
            start: tr.start,
            end: Some(tr.end),
            ..cfg.clone()
        };
        let res = sweep(bars, jobs, &tcfg, cancel)?;
        let stats: Vec<&Stats> = res.iter().map(|r| &r.stats).collect();
        let best = rank(&stats, metric, minimize)?[0];
        let ocfg = BacktestConfig {
            cash,
            start: te.start,
            end: Some(te.end),
            ..cfg.clone()
        };
        let mut s = jobs[best].signals.clone();
        let r = clock::run(
            &[bars],
            &mut [&mut s],
            std::slice::from_ref(&jobs[best].opts),
            &ocfg,
            Some(cancel),
        )?;
        cash = r.stats.final_equity;
        // Positions open at a window's end are closed at its last close for the chain.
        cash -= r
            .open_trades
            .iter()
            .map(|t| t.qty * t.exit_price * cfg.fee_rate())
            .sum::<f64>();
        chained.time.extend(&r.time);
        chained.equity.extend(&r.equity);
        chained.exposed.extend(&r.exposed);
        chained.trades.extend(r.trades.iter().cloned());
        chained.trades.extend(r.open_trades.iter().cloned());
        chained.signals.extend(r.signals.iter().cloned());
        chained.fills.extend(r.fills.iter().cloned());
        bench.extend(r.benchmark.iter().map(|b| b / ocfg.cash * bench_cash));
        bench_cash = bench.last().copied().unwrap_or(bench_cash);
        out.push(WindowResult {
            train: tr,
            test: te,
            best,
            train_stats: res[best].stats.clone(),
            test_stats: r.stats,
        });
    }
    let oos = metrics::compute_from(
        &chained,
        &[],
        &bench,
        cfg.cash,
        bars.interval.bars_per_year(),
        cfg.risk_free_pct,
    );
    Ok((out, oos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::{Candle, Source};
    use crate::interval::Interval;

    fn bars(n: usize) -> Bars {
        let c: Vec<Candle> = (0..n)
            .map(|i| {
                let p = 100.0 + (i as f64 * 0.1).sin() * 10.0 + i as f64 * 0.01;
                Candle {
                    time: i as i64 * 3600,
                    open: p,
                    high: p + 0.5,
                    low: p - 0.5,
                    close: p,
                    volume: 1.0,
                }
            })
            .collect();
        Bars::from_candles("x", Interval::H1, Source::Demo, &c).unwrap()
    }

    fn jobs(b: &Bars) -> Vec<Job> {
        (1..=6)
            .map(|lag| {
                let prev = b.close.shift(lag);
                let up = b.close.zip_bool(&prev, |a, p| a > p);
                Job {
                    signals: Signals {
                        entry: Some(up.clone()),
                        exit: Some(up.map_bool(|x| x == 0.0)),
                        ..Default::default()
                    },
                    opts: StrategyOptions {
                        name: format!("lag{lag}"),
                        ..Default::default()
                    },
                }
            })
            .collect()
    }

    #[test]
    fn parallel_sweep_equals_one_by_one_runs_in_order() {
        let b = bars(2000);
        let js = jobs(&b);
        let cfg = BacktestConfig::default();
        let par = sweep(&b, &js, &cfg, &Cancel::new()).unwrap();
        for (j, r) in js.iter().zip(&par) {
            let mut s = j.signals.clone();
            let one = clock::run(
                &[&b],
                &mut [&mut s],
                std::slice::from_ref(&j.opts),
                &cfg,
                None,
            )
            .unwrap();
            let bits = |s: &Stats| {
                s.pairs()
                    .iter()
                    .map(|(_, v)| v.to_bits())
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&one.stats), bits(&r.stats));
            assert_eq!(one.name, r.name);
        }
    }

    #[test]
    fn ranking_puts_nan_last_and_respects_direction() {
        let a = Stats {
            sharpe: 1.0,
            max_drawdown_pct: 10.0,
            ..Default::default()
        };
        let b = Stats {
            sharpe: f64::NAN,
            max_drawdown_pct: 5.0,
            ..Default::default()
        };
        let c = Stats {
            sharpe: 2.0,
            max_drawdown_pct: 20.0,
            ..Default::default()
        };
        assert_eq!(rank(&[&a, &b, &c], "sharpe", false).unwrap(), vec![2, 0, 1]);
        assert_eq!(
            rank(&[&a, &b, &c], "max_drawdown_pct", true).unwrap(),
            vec![1, 0, 2]
        );
        assert!(
            rank(&[&a], "sharp", false)
                .unwrap_err()
                .to_string()
                .contains("unknown metric")
        );
    }

    #[test]
    fn windows_roll_by_the_test_length() {
        let w = windows(10, 4, 3).unwrap();
        assert_eq!(w, vec![(0..4, 4..7), (3..7, 7..10)]);
        assert!(windows(3, 4, 1).is_err());
    }

    #[test]
    fn walk_forward_chains_test_windows() {
        let b = bars(1000);
        let js = jobs(&b);
        let (w, oos) = walk_forward(
            &b,
            &js,
            &BacktestConfig::default(),
            "sharpe",
            false,
            300,
            200,
            &Cancel::new(),
        )
        .unwrap();
        assert_eq!(w.len(), 4);
        assert_eq!(oos.n_bars as usize, 700);
        assert!(oos.final_equity.is_finite());
    }
}
