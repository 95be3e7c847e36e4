//! `optimize(bars, |p| strategy(..), grid, opts)`: a grid sweep ranked by a metric, optionally
//! walk-forward. The closure runs on the calling thread, once per combination; vectorized
//! strategies then backtest in parallel in Rust, per-bar ones one after another.

use super::ctx::ScriptLogic;
use super::options::{RunOptions, StrategyValue, run_options};
use super::result::stats_to_map;
use super::{config_json, save, signals_for};
use crate::backtest::metrics::{StatValue, Stats};
use crate::backtest::optimize::{Job, lower_is_better, rank, run_job, sweep_with, walk_forward};
use crate::backtest::{self, BacktestResult};
use crate::bars::Bars;
use crate::error::DslError;
use crate::frame::{Column, Frame};
use crate::script::api::{Api, IntoRhai, RhaiResult, check_keys, opt_i64, opt_str, rt_err};
use crate::script::runtime::Runtime;
use crate::strategy::StrategyOptions;
use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};
use std::sync::Arc;

/// The most combinations `optimize` runs: each is a backtest, and their statistics are kept for
/// the ranking (a 3 × 150 × 150 grid once aborted the process on allocation).
pub const MAX_GRID: usize = 100_000;

/// The grid's combinations, in key order then value order, made one at a time (never all at
/// once): combination `k` is `k` written in the mixed radix of the value counts.
struct Grid {
    keys: Vec<(rhai::ImmutableString, Array)>,
    len: usize,
}

impl Grid {
    fn new(grid: &Map) -> RhaiResult<Grid> {
        let mut keys = Vec::with_capacity(grid.len());
        let mut len: usize = 1;
        for (k, v) in grid {
            let vals: Array = v.clone().try_cast::<Array>().ok_or_else(|| {
                rt_err(format!(
                    "grid '{k}' must be a list of values, e.g. [5, 10, 20]"
                ))
            })?;
            if vals.is_empty() {
                return Err(rt_err(format!("grid '{k}' is empty")));
            }
            len = len.saturating_mul(vals.len());
            keys.push((k.as_str().into(), vals));
        }
        if len > MAX_GRID {
            let sizes: Vec<String> = keys.iter().map(|(_, v)| v.len().to_string()).collect();
            return Err(rt_err(format!(
                "the grid has {} combinations ({}); optimize runs at most {MAX_GRID}: use fewer \
                 values per parameter (a coarse grid first, then a fine one around the best)",
                if len == usize::MAX {
                    "too many".to_string()
                } else {
                    len.to_string()
                },
                sizes.join(" × ")
            )));
        }
        Ok(Grid { keys, len })
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Combination `k`: the last key varies fastest.
    fn get(&self, mut k: usize) -> Map {
        let mut m = Map::new();
        for (key, vals) in self.keys.iter().rev() {
            m.insert(key.as_str().into(), vals[k % vals.len()].clone());
            k /= vals.len();
        }
        m
    }
}

fn param_columns(params: &Grid, order: &[usize]) -> Vec<(String, Column)> {
    params
        .keys
        .iter()
        .map(|(k, values)| {
            let n = values.len();
            // The stride of this key in the mixed radix: the product of the counts after it.
            let stride: usize = params
                .keys
                .iter()
                .skip_while(|(k2, _)| k2 != k)
                .skip(1)
                .map(|(_, v)| v.len())
                .product();
            let vals: Vec<&Dynamic> = order.iter().map(|&i| &values[(i / stride) % n]).collect();
            let col = if vals.iter().all(|v| v.is_int()) {
                Column::I64(vals.iter().map(|v| v.as_int().unwrap_or(0)).collect())
            } else if vals.iter().all(|v| v.is_float() || v.is_int()) {
                Column::F64(
                    vals.iter()
                        .map(|v| {
                            v.as_float()
                                .unwrap_or_else(|_| v.as_int().unwrap_or(0) as f64)
                        })
                        .collect(),
                )
            } else {
                Column::Str(vals.iter().map(|v| v.to_string()).collect())
            };
            (k.to_string(), col)
        })
        .collect()
}

const SHOWN: &[&str] = &[
    "total_return_pct",
    "sharpe",
    "sortino",
    "max_drawdown_pct",
    "win_rate_pct",
    "profit_factor",
    "n_trades",
    "final_equity",
];

fn ranked_frame(
    params: &Grid,
    stats: &[&crate::backtest::metrics::Stats],
    order: &[usize],
    metric: &str,
) -> RhaiResult<Frame> {
    let mut cols = param_columns(params, order);
    let sweep = (cols.len() == 2).then(|| (cols[0].0.clone(), cols[1].0.clone()));
    let mut names: Vec<&str> = vec![metric];
    names.extend(SHOWN.iter().filter(|s| **s != metric));
    for n in names {
        let is_count = matches!(Stats::default().value(n), Some(StatValue::Count(_)));
        let col = if is_count {
            Column::I64(
                order
                    .iter()
                    .map(|&i| stats[i].get(n).map_or(0, |v| v as i64))
                    .collect(),
            )
        } else {
            Column::F64(
                order
                    .iter()
                    .map(|&i| stats[i].get(n).unwrap_or(f64::NAN))
                    .collect(),
            )
        };
        cols.push((n.to_string(), col));
    }
    Frame::new(cols)
        .map(|f| {
            let f = f.with_title(format!(
                "optimize: {} combinations ranked by {metric}",
                order.len()
            ));
            match &sweep {
                Some((x, y)) => f.with_heatmap(x, y, metric),
                None => f,
            }
        })
        .rhai()
}

fn run(
    nctx: &NativeCallContext,
    rt: &Runtime,
    bars: Bars,
    f: FnPtr,
    grid: Map,
    opts: Map,
) -> RhaiResult<Dynamic> {
    let mut bt_opts = opts.clone();
    for k in ["metric", "minimize", "top", "walk_forward"] {
        bt_opts.remove(k);
    }
    let o = run_options(&bt_opts)?;
    let metric = opt_str(&opts, "metric")?.unwrap_or_else(|| "sharpe".into());
    let minimize = match opts.get("minimize") {
        Some(v) => v
            .as_bool()
            .map_err(|t| rt_err(format!("minimize must be a bool, not {t}")))?,
        None => lower_is_better(&metric),
    };
    let params = Grid::new(&grid)?;
    let build = |p: &Map| -> RhaiResult<StrategyValue> {
        let v: Dynamic = f.call_within_context(nctx, (p.clone(),))?;
        v.read_lock::<StrategyValue>()
            .map(|s| s.clone())
            .ok_or_else(|| {
                rt_err(format!(
                    "the optimize function must return strategy(..), not {}",
                    v.type_name()
                ))
            })
    };
    let job_of = |s: &StrategyValue| -> RhaiResult<Job> {
        if s.signals.is_none() {
            return Err(rt_err("all combinations must use the same strategy style"));
        }
        Ok(Job {
            signals: signals_for(s, &bars, None)?.unwrap_or_default(),
            opts: s.opts.clone(),
        })
    };
    let first = build(&params.get(0))?;
    if first.signals.is_some() && !opts.contains_key("walk_forward") {
        // Streamed: each combination's strategy is built here while the workers backtest the
        // ones already built; only statistics are kept.
        let mut failed = None;
        let mut names = Vec::with_capacity(params.len());
        let stats = sweep_with(&bars, &o.cfg, &rt.cancel, params.len(), |k| {
            let made = if k == 0 {
                Ok(first.clone())
            } else {
                build(&params.get(k))
            };
            match made.and_then(|s| Ok((job_of(&s)?, s.opts))) {
                Ok((job, opts)) => {
                    names.push(opts);
                    Ok(job)
                }
                Err(e) => {
                    failed = Some(e);
                    Err(DslError::invalid("the optimize function failed"))
                }
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let stats = stats.rhai()?;
        let stats: Vec<&Stats> = stats.iter().collect();
        let order = ranked(&stats, &metric, minimize, &opts)?;
        if o.save
            && let Some(&best) = order.first()
        {
            // Rebuilt (the sweep kept statistics only); the same inputs give the same run.
            let job = job_of(&build(&params.get(best))?)?;
            let r = run_job(&bars, &job, &o.cfg, &rt.cancel).rhai()?;
            let cfg = save_config(&o, &names[best], &params.get(best), &metric);
            save(rt, Arc::new(r), cfg, &[&bars]);
        }
        return Ok(Dynamic::from(ranked_frame(
            &params, &stats, &order, &metric,
        )?));
    }
    if opts.contains_key("walk_forward") && first.signals.is_none() {
        return Err(rt_err(
            "walk_forward needs a vectorized strategy (entry/exit signals)",
        ));
    }
    if first.signals.is_some() {
        // Walk-forward: the jobs are reused in every window.
        let mut strats: Vec<StrategyValue> = Vec::with_capacity(params.len());
        strats.push(first);
        for k in 1..params.len() {
            strats.push(build(&params.get(k))?);
        }
        let wf = opts.get("walk_forward").cloned().unwrap_or_default();
        let jobs: Vec<Job> = strats.iter().map(job_of).collect::<RhaiResult<_>>()?;
        drop(strats);
        {
            let wf = wf
                .clone()
                .try_cast::<Map>()
                .ok_or_else(|| rt_err("walk_forward must be #{ train: N, test: M }"))?;
            check_keys(&wf, "walk_forward", &["train", "test"])?;
            let train =
                opt_i64(&wf, "train")?.ok_or_else(|| rt_err("walk_forward needs train: (bars)"))?;
            let test =
                opt_i64(&wf, "test")?.ok_or_else(|| rt_err("walk_forward needs test: (bars)"))?;
            let (windows, oos) = walk_forward(
                &bars,
                &jobs,
                &o.cfg,
                &metric,
                minimize,
                train.max(0) as usize,
                test.max(0) as usize,
                &rt.cancel,
            )
            .rhai()?;
            let mut cols = vec![
                (
                    "train_start".to_string(),
                    Column::Time(windows.iter().map(|w| bars.time[w.train.start]).collect()),
                ),
                (
                    "test_start".to_string(),
                    Column::Time(windows.iter().map(|w| bars.time[w.test.start]).collect()),
                ),
                (
                    "test_end".to_string(),
                    Column::Time(windows.iter().map(|w| bars.time[w.test.end - 1]).collect()),
                ),
            ];
            cols.extend(param_columns(
                &params,
                &windows.iter().map(|w| w.best).collect::<Vec<_>>(),
            ));
            cols.push((
                format!("train_{metric}"),
                Column::F64(
                    windows
                        .iter()
                        .map(|w| w.train_stats.get(&metric).unwrap_or(f64::NAN))
                        .collect(),
                ),
            ));
            cols.push((
                format!("test_{metric}"),
                Column::F64(
                    windows
                        .iter()
                        .map(|w| w.test_stats.get(&metric).unwrap_or(f64::NAN))
                        .collect(),
                ),
            ));
            cols.push((
                "test_return_pct".into(),
                Column::F64(
                    windows
                        .iter()
                        .map(|w| w.test_stats.total_return_pct)
                        .collect(),
                ),
            ));
            let wframe = Frame::new(cols).rhai()?.with_title(format!(
                "walk-forward: {} windows, out-of-sample return {:.2} %, sharpe {:.3}",
                windows.len(),
                oos.total_return_pct,
                oos.sharpe
            ));
            let mut out = Map::new();
            out.insert("windows".into(), Dynamic::from(wframe));
            out.insert("oos".into(), Dynamic::from_map(stats_to_map(&oos)));
            return Ok(Dynamic::from_map(out));
        }
    }
    // Per-bar strategies run one after another; only statistics are kept (the best is rerun to
    // save it), so memory does not grow with the grid.
    let run_one = |s: &StrategyValue| -> RhaiResult<BacktestResult> {
        let f = s
            .on_bar
            .clone()
            .ok_or_else(|| rt_err("all combinations must use the same strategy style"))?;
        let mut l = ScriptLogic::new(nctx, f, s.interpret);
        let r = backtest::run(
            &[&bars],
            &mut [&mut l],
            std::slice::from_ref(&s.opts),
            &o.cfg,
            Some(&rt.cancel),
        );
        if let Some(e) = l.error.take() {
            return Err(e);
        }
        r.rhai()
    };
    let mut stats: Vec<Stats> = Vec::with_capacity(params.len());
    stats.push(run_one(&first)?.stats.clone());
    for k in 1..params.len() {
        stats.push(run_one(&build(&params.get(k))?)?.stats.clone());
    }
    let stats: Vec<&Stats> = stats.iter().collect();
    let order = ranked(&stats, &metric, minimize, &opts)?;
    if o.save
        && let Some(&best) = order.first()
    {
        let p = params.get(best);
        let s = build(&p)?;
        let r = run_one(&s)?;
        let cfg = save_config(&o, &s.opts, &p, &metric);
        save(rt, Arc::new(r), cfg, &[&bars]);
    }
    Ok(Dynamic::from(ranked_frame(
        &params, &stats, &order, &metric,
    )?))
}

/// Result indices best first, cut to `top`.
fn ranked(stats: &[&Stats], metric: &str, minimize: bool, opts: &Map) -> RhaiResult<Vec<usize>> {
    let mut order = rank(stats, metric, minimize).rhai()?;
    if let Some(top) = opt_i64(opts, "top")? {
        order.truncate(top.max(1) as usize);
    }
    Ok(order)
}

fn save_config(
    o: &RunOptions,
    opts: &StrategyOptions,
    params: &Map,
    metric: &str,
) -> serde_json::Value {
    let mut cfg = config_json(o, std::slice::from_ref(opts), "optimize", None);
    cfg["params"] = serde_json::Value::String(format!("{params:?}"));
    cfg["metric"] = serde_json::Value::String(metric.to_string());
    cfg
}

pub fn register(api: &mut Api, rt: &Arc<Runtime>) {
    let r = rt.clone();
    api.func(
        "optimize",
        &["bars: Bars", "build: fn(p) -> Strategy", "grid: map"],
        "Frame",
        move |nctx: NativeCallContext, b: Bars, f: FnPtr, g: Map| {
            run(&nctx, &r, b, f, g, Map::new())
        },
    );
    let r = rt.clone();
    api.func(
        "optimize",
        &[
            "bars: Bars",
            "build: fn(p) -> Strategy",
            "grid: map",
            "opts: map",
        ],
        "Frame | map",
        move |nctx: NativeCallContext, b: Bars, f: FnPtr, g: Map, o: Map| {
            run(&nctx, &r, b, f, g, o)
        },
    );
}
