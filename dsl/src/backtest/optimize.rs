//! Parameter sweeps and walk-forward analysis over vectorized strategies.
//!
//! A sweep runs one backtest per parameter combination on all cores (`std::thread::scope` over
//! contiguous chunks; results come back in input order, so a sweep is deterministic). Strategies
//! are built beforehand on the calling thread (the script closure), so only plain Rust crosses
//! threads. A sweep keeps statistics only: each thread reuses one stats-only sink ([`Tally`]) and
//! one set of curve buffers for all its combinations, and the buy-and-hold benchmark is computed
//! once per sweep; [`run_job`] rebuilds the full result (trades, signals, curves) of the one
//! combination a caller wants to show or store. The statistics are bit-identical to a full run's.
//!
//! Indicators are not cached here: a job carries finished signals, built by the caller (the
//! script closure of `optimize`), so nothing recomputes indicators during the sweep itself. Walk-forward splits the bars into rolling windows: the best combination on each
//! training window is run on the following test window, and the test windows chained together
//! give the out-of-sample equity curve.

use super::clock;
use super::config::BacktestConfig;
use super::metrics::{self, Benchmark, Curves, RunData, Stats};
use super::recycle::F64;
use super::result::{BacktestResult, open_trades};
use super::sink::{Recorder, Tally};
use crate::bars::Bars;
use crate::cancel::Cancel;
use crate::error::{DslError, Result};
use crate::strategy::{Signals, StrategyOptions};
use std::ops::Range;
use std::sync::{Arc, Mutex, mpsc};

/// One combination's strategy.
#[derive(Clone, Debug)]
pub struct Job {
    pub signals: Signals,
    pub opts: StrategyOptions,
}

/// Runs every job on `bars` with `cfg`, in parallel; statistics in job order (bit-identical to
/// `run_job(..).stats`).
pub fn sweep(
    bars: &Bars,
    jobs: &[Job],
    cfg: &BacktestConfig,
    cancel: &Cancel,
) -> Result<Vec<Stats>> {
    sweep_with(bars, cfg, cancel, jobs.len(), |k| Ok(jobs[k].clone()))
}

/// Like [`sweep`], but job `k` is built by `make(k)` on the calling thread while worker threads
/// backtest the ones already built: building (e.g. a script closure computing indicators)
/// overlaps the backtests, and only a few jobs' signals are alive at a time, so their memory is
/// reused instead of faulted in for every combination. An error from `make` stops the sweep.
pub fn sweep_with(
    bars: &Bars,
    cfg: &BacktestConfig,
    cancel: &Cancel,
    n: usize,
    mut make: impl FnMut(usize) -> Result<Job>,
) -> Result<Vec<Stats>> {
    cfg.validate()?;
    let ctx = SweepCtx::new(bars, cfg, cancel);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(n);
    let mut out: Vec<Option<Result<Stats>>> = (0..n).map(|_| None).collect();
    if threads <= 1 {
        let mut w = Worker::new(ctx.steps);
        for (k, slot) in out.iter_mut().enumerate() {
            *slot = Some(w.run(&ctx, &make(k)?));
        }
        w.recycle();
    } else {
        let made = std::thread::scope(|scope| -> Result<()> {
            // A bounded queue: a few built jobs wait, the builder blocks when it is full.
            let (job_tx, job_rx) = mpsc::sync_channel::<(usize, Job)>(threads);
            let job_rx = Arc::new(Mutex::new(job_rx));
            let (res_tx, res_rx) = mpsc::channel::<(usize, Result<Stats>)>();
            let ctx = &ctx;
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (job_rx, res_tx) = (job_rx.clone(), res_tx.clone());
                    scope.spawn(move || {
                        let mut w = Worker::new(ctx.steps);
                        loop {
                            let next = job_rx
                                .lock()
                                .map_err(|_| ())
                                .and_then(|rx| rx.recv().map_err(|_| ()));
                            let Ok((k, job)) = next else { break };
                            if res_tx.send((k, w.run(ctx, &job))).is_err() {
                                break;
                            }
                        }
                        w.recycle();
                    })
                })
                .collect();
            drop((job_rx, res_tx));
            let mut made = Ok(());
            for k in 0..n {
                match make(k) {
                    // Fails only when every worker is gone (a panic, reported below).
                    Ok(job) => {
                        if job_tx.send((k, job)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        made = Err(e);
                        break;
                    }
                }
            }
            drop(job_tx);
            for (k, r) in res_rx {
                out[k] = Some(r);
            }
            for h in handles {
                h.join()
                    .map_err(|_| DslError::invalid("a sweep thread panicked"))?;
            }
            made
        });
        made?;
    }
    ctx.recycle();
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(DslError::invalid("a sweep job did not run"))))
        .collect()
}

/// What every combination of a sweep shares: the bars, the step times and the benchmark.
struct SweepCtx<'a> {
    bars: [&'a Bars; 1],
    cfg: &'a BacktestConfig,
    cancel: &'a Cancel,
    steps: usize,
    /// A one-token run steps through exactly these times.
    time: &'a [i64],
    bench: Benchmark,
    bars_per_year: f64,
}

impl<'a> SweepCtx<'a> {
    fn new(bars: &'a Bars, cfg: &'a BacktestConfig, cancel: &'a Cancel) -> Self {
        let refs = [bars];
        let end = cfg.end.unwrap_or(usize::MAX).min(bars.len());
        let start = cfg.start.min(end);
        SweepCtx {
            bars: refs,
            cfg,
            cancel,
            steps: clock::steps_hint(&refs, cfg),
            time: &bars.time[start..end],
            bench: Benchmark::one(bars.close.values(), start, end, cfg.cash),
            bars_per_year: bars.interval.bars_per_year(),
        }
    }

    fn recycle(self) {
        F64.give(self.bench.into_curve());
    }
}

/// One thread's reusable buffers: a stats-only sink and the metric curves.
struct Worker {
    tally: Tally,
    curves: Curves,
}

impl Worker {
    fn new(steps: usize) -> Self {
        let tally = Tally {
            equity: F64.take(steps),
            ..Default::default()
        };
        Worker {
            tally,
            curves: Curves::with_capacity(steps),
        }
    }

    fn run(&mut self, c: &SweepCtx, job: &Job) -> Result<Stats> {
        c.cancel.check()?;
        self.tally.reset(c.steps);
        let mut s = job.signals.clone();
        let engine = clock::run_into(
            &c.bars,
            &mut [&mut s],
            std::slice::from_ref(&job.opts),
            c.cfg,
            Some(c.cancel),
            &mut self.tally,
        )?;
        let open = open_trades(&engine, &c.bars, c.time.last().copied().unwrap_or(0));
        let t = &self.tally;
        let run = RunData {
            equity: &t.equity,
            time: c.time,
            exposed_steps: t.exposed_steps,
            trades: &t.trades,
            open: &open,
            buy_signals: t.buy_signals,
            sell_signals: t.sell_signals,
            fees_paid: t.fees_paid,
        };
        Ok(metrics::compute(
            &run,
            &c.bench,
            c.cfg.cash,
            c.bars_per_year,
            c.cfg.risk_free_pct,
            &mut self.curves,
        ))
    }

    fn recycle(mut self) {
        F64.give(std::mem::take(&mut self.tally.equity));
        self.curves.recycle();
    }
}

/// The full result of one job (the combination a sweep's caller shows or stores).
pub fn run_job(
    bars: &Bars,
    job: &Job,
    cfg: &BacktestConfig,
    cancel: &Cancel,
) -> Result<BacktestResult> {
    let mut s = job.signals.clone();
    clock::run(
        &[bars],
        &mut [&mut s],
        std::slice::from_ref(&job.opts),
        cfg,
        Some(cancel),
    )
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
    idx.sort_by(|&a, &b| crate::series::cmp_nan_last(key(a), key(b), !minimize));
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
        let stats: Vec<&Stats> = res.iter().collect();
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
            train_stats: res[best].clone(),
            test_stats: r.into_stats(),
        });
    }
    let oos = metrics::compute(
        &RunData::of(&chained, &[]),
        &Benchmark::new(bench, cfg.cash),
        cfg.cash,
        bars.interval.bars_per_year(),
        cfg.risk_free_pct,
        &mut Curves::default(),
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
        let window = BacktestConfig {
            fee_pct: 0.1,
            risk_free_pct: 2.0,
            start: 100,
            end: Some(1500),
            ..Default::default()
        };
        let bits = |s: &Stats| {
            s.pairs()
                .iter()
                .map(|(_, v)| v.as_f64().to_bits())
                .collect::<Vec<_>>()
        };
        for cfg in [BacktestConfig::default(), window] {
            let par = sweep(&b, &js, &cfg, &Cancel::new()).unwrap();
            assert_eq!(par.len(), js.len());
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
                assert!(one.stats.n_trades > 0);
                assert_eq!(bits(&one.stats), bits(r));
                let full = run_job(&b, j, &cfg, &Cancel::new()).unwrap();
                assert_eq!(bits(&full.stats), bits(r));
            }
        }
    }

    #[test]
    fn streamed_sweep_equals_prebuilt_and_stops_on_a_build_error() {
        let b = bars(1500);
        let js = jobs(&b);
        let cfg = BacktestConfig::default();
        let pre = sweep(&b, &js, &cfg, &Cancel::new()).unwrap();
        let mut built = Vec::new();
        let streamed = sweep_with(&b, &cfg, &Cancel::new(), js.len(), |k| {
            built.push(k);
            Ok(js[k].clone())
        })
        .unwrap();
        assert_eq!(built, (0..js.len()).collect::<Vec<_>>());
        assert_eq!(format!("{pre:?}"), format!("{streamed:?}"));
        let e = sweep_with(&b, &cfg, &Cancel::new(), js.len(), |k| {
            if k == 3 {
                Err(DslError::invalid("no job 3"))
            } else {
                Ok(js[k].clone())
            }
        })
        .unwrap_err();
        assert!(e.to_string().contains("no job 3"), "{e}");
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
