//! Rhai bindings for strategies and backtests: `strategy()`, `backtest()`, `optimize()`,
//! `backtests()`, the per-bar `ctx` and the `BacktestResult` accessors. The engine itself
//! (`crate::backtest`, `crate::strategy`) knows nothing of Rhai.

pub(crate) mod agent;
pub(crate) mod ctx;
mod decisions;
pub mod lint;
mod on_bar_compiler;
mod optimize;
pub(crate) mod options;
pub(crate) mod result;

pub use ctx::BarCtx;
pub use decisions::{decision_stats, decisions_frame};
pub use options::StrategyValue;
pub use result::ResultValue;

use super::api::{Api, IntoRhai, RhaiResult, rt_err};
use crate::backtest::{self, BacktestResult};
use crate::bars::Bars;
use crate::display::MimeBundle;
use crate::display::Render;
use crate::frame::{Column, Frame};
use crate::script::runtime::Runtime;
use crate::store::Store;
use crate::strategy::{BarLogic, Signals, StrategyOptions};
use ctx::ScriptLogic;
use options::{RunOptions, run_options, strategy_from};
use rhai::{Array, Dynamic, FnPtr, INT, Map, NativeCallContext};
use std::sync::Arc;

impl Render for StrategyValue {
    fn render(&self) -> MimeBundle {
        if let Some(bot) = &self.bot {
            return MimeBundle::text(bot.describe());
        }
        let kind = match (&self.signals, &self.on_bar) {
            (Some(s), _) => {
                let [e, x, se, sx] = s.counts();
                format!("vectorized: {e} entries, {x} exits, {se} short entries, {sx} short exits")
            }
            (None, Some(f)) => format!("per bar: on_bar = {}", f.fn_name()),
            _ => "empty".into(),
        };
        let size = match self.opts.size {
            crate::order::Size::Pct(p) => format!("{p} % of equity"),
            crate::order::Size::Qty(q) => format!("{q} units"),
            crate::order::Size::Cash(c) => format!("{c} cash"),
            crate::order::Size::Risk { risk_pct, .. } => {
                format!("risk {risk_pct} % of equity")
            }
            crate::order::Size::OfPosition(f) => {
                format!("{} % of the position", f * 100.0)
            }
        };
        let e = &self.opts.exits;
        let exits: Vec<String> = [
            ("stop-loss", e.stop_loss_pct),
            ("take-profit", e.take_profit_pct),
            ("trailing stop", e.trailing_stop_pct),
        ]
        .iter()
        .filter_map(|(n, v)| v.map(|v| format!("{n} {v} %")))
        .collect();
        let exits = if exits.is_empty() {
            String::new()
        } else {
            format!("; {}", exits.join(", "))
        };
        MimeBundle::text(format!(
            "Strategy '{}' ({kind}; size {size}{exits})",
            self.opts.name
        ))
    }
}

/// What the second argument of `backtest` was.
pub(crate) enum StratInput {
    One(Box<StrategyValue>),
    /// `|bars| strategy(...)`, called per token.
    Factory(FnPtr),
}

pub(crate) fn read_strategy(v: &Dynamic) -> RhaiResult<StratInput> {
    if let Some(s) = v.read_lock::<StrategyValue>() {
        return Ok(StratInput::One(Box::new(s.clone())));
    }
    if let Some(f) = v.read_lock::<FnPtr>() {
        return Ok(StratInput::Factory(f.clone()));
    }
    if let Ok(name) = v.clone().into_string() {
        let f = FnPtr::new(name).map_err(|e| rt_err(e.to_string()))?;
        return Ok(StratInput::One(Box::new(StrategyValue {
            opts: StrategyOptions {
                name: f.fn_name().to_string(),
                ..Default::default()
            },
            signals: None,
            on_bar: Some(f),
            interpret: false,
            vol: None,
            bot: None,
        })));
    }
    if v.is_map() {
        return strategy_from(&v.clone().cast::<Map>()).map(|s| StratInput::One(Box::new(s)));
    }
    Err(rt_err(format!(
        "backtest needs a strategy (strategy(#{{ .. }})), a function |bars| strategy(..) or an on_bar name, not {}",
        v.type_name()
    )))
}

pub(crate) fn read_bars(v: &Dynamic) -> RhaiResult<Vec<Bars>> {
    if let Some(b) = v.read_lock::<Bars>() {
        return Ok(vec![b.clone()]);
    }
    if v.is_map() {
        let m = v.clone().cast::<Map>();
        let mut out = Vec::new();
        for (k, b) in m {
            let b = b.read_lock::<Bars>().map(|b| b.clone()).ok_or_else(|| {
                rt_err(format!(
                    "portfolio entry '{k}' must be Bars (klines(...)), not {}",
                    b.type_name()
                ))
            })?;
            out.push(b);
        }
        if out.is_empty() {
            return Err(rt_err(
                "the portfolio map is empty; give #{ \"demo:BTC\": bars1, ... }",
            ));
        }
        return Ok(out);
    }
    Err(rt_err(format!(
        "backtest needs Bars or a map of id → Bars, not {}",
        v.type_name()
    )))
}

/// Signals with volatility sizing resolved against `bars`. `full` is the table `bars` was cut
/// from by `from`/`to`: signals computed on it are cut to the same window.
pub(crate) fn signals_for(
    s: &StrategyValue,
    bars: &Bars,
    full: Option<&Bars>,
) -> RhaiResult<Option<Signals>> {
    let Some(sig) = &s.signals else {
        return Ok(None);
    };
    let window = full.filter(|f| {
        f.len() != bars.len()
            && [&sig.entry, &sig.exit, &sig.short_entry, &sig.short_exit]
                .into_iter()
                .flatten()
                .all(|s| s.len() == f.len())
    });
    // Signals (and ATR sizing) of the whole table, cut to where `bars` starts in it.
    let (src, start) = match window {
        Some(f) => {
            let t0 = bars.time.first().copied().unwrap_or(i64::MIN);
            (f, f.time.partition_point(|&t| t < t0))
        }
        None => (bars, 0),
    };
    let end = start + bars.len();
    let mut sig = if window.is_some() {
        sig.slice(start, end)
    } else {
        sig.clone()
    };
    sig.check_len(bars.len(), &bars.id).rhai()?;
    if let Some((risk_pct, mult, period)) = s.vol {
        let atr = crate::indicators::atr(
            src.high.values(),
            src.low.values(),
            src.close.values(),
            period,
        )
        .rhai()?;
        let distance: Vec<f64> = atr[start..end].iter().map(|a| a * mult).collect();
        sig.risk = Some((risk_pct, Arc::new(distance)));
    }
    Ok(Some(sig))
}

pub(crate) fn slice_time(bars: &[Bars], from: Option<i64>, to: Option<i64>) -> Vec<Bars> {
    if from.is_none() && to.is_none() {
        return bars.to_vec();
    }
    bars.iter().map(|b| b.between(from, to)).collect()
}

/// Warnings that make a run's result wrong (not merely thin), once per kind, on stderr: what
/// `backtest()` and `simulate()` say before they start.
pub(crate) fn warn_lints(rt: &Runtime, strats: &[StrategyValue], leverage: f64) {
    let mut warned: Vec<&str> = Vec::new();
    let lookahead = rt.lookahead.load(std::sync::atomic::Ordering::Relaxed);
    for s in strats {
        for w in lint::lint(s, leverage, lookahead) {
            if matches!(w.code, "no_exit" | "lookahead" | "oversized") && !warned.contains(&w.code)
            {
                warned.push(w.code);
                rt.emitter
                    .stderr(format!("warning ({}): {}\n", w.code, w.message));
            }
        }
    }
}

pub(crate) fn config_json(
    o: &RunOptions,
    opts: &[StrategyOptions],
    kind: &str,
    on_bar: Option<(&str, usize)>,
) -> serde_json::Value {
    let c = &o.cfg;
    serde_json::json!({
        "strategy": opts.first().map(|s| s.name.clone()), "kind": kind,
        "on_bar": on_bar.map(|o| o.0), "on_bar_fallback_bars": on_bar.map(|o| o.1),
        "size": opts.first().map(|s| s.size), "exits": opts.first().map(|s| s.exits),
        "cash": c.cash, "fee_pct": c.fee_pct, "fee_fixed": c.fee_fixed, "slippage_pct": c.slippage_pct,
        "leverage": c.leverage, "lot_size": c.lot_size, "max_position_pct": c.max_position_pct,
        "max_drawdown_pct": c.max_drawdown_pct, "risk_free_pct": c.risk_free_pct, "from": o.from, "to": o.to,
    })
}

/// Runs one backtest from script values (the body of every `backtest` overload).
fn run_backtest(
    nctx: &NativeCallContext,
    rt: &Runtime,
    bars: &Dynamic,
    strat: &Dynamic,
    opts: &Map,
) -> RhaiResult<ResultValue> {
    let o = run_options(opts)?;
    let agent_opts = agent::AgentOptions::from_map(opts)?;
    let full = read_bars(bars)?;
    let all = slice_time(&full, o.from, o.to);
    let strats: Vec<StrategyValue> = match read_strategy(strat)? {
        StratInput::One(s) => vec![*s],
        StratInput::Factory(f) => all
            .iter()
            .map(|b| {
                let v: Dynamic = f.call_within_context(nctx, (b.clone(),))?;
                v.read_lock::<StrategyValue>()
                    .map(|s| s.clone())
                    .ok_or_else(|| {
                        rt_err(format!(
                            "the function given to backtest must return strategy(..), not {}",
                            v.type_name()
                        ))
                    })
            })
            .collect::<RhaiResult<_>>()?,
    };
    warn_lints(rt, &strats, o.cfg.leverage);
    let refs: Vec<&Bars> = all.iter().collect();
    let mut opts_v: Vec<StrategyOptions> = strats.iter().map(|s| s.opts.clone()).collect();
    if let Some(n) = &o.name {
        for x in &mut opts_v {
            x.name = n.clone();
        }
    }
    let mut sig_logics: Vec<Signals> = Vec::new();
    let mut script_logics: Vec<ScriptLogic> = Vec::new();
    let mut bot_logics: Vec<crate::strategy::ave_config::BotLogic> = Vec::new();
    for (k, s) in strats.iter().enumerate() {
        if let Some(bot) = &s.bot {
            // A bot's conditions are computed per token: one logic per bars table.
            let mine: Vec<&Bars> = if strats.len() == 1 {
                refs.clone()
            } else {
                vec![refs[k]]
            };
            for b in mine {
                bot_logics.push(bot.logic(b).rhai()?);
            }
        } else if let Some(f) = &s.on_bar {
            script_logics.push(ScriptLogic::new(nctx, f.clone(), s.interpret));
        } else {
            // One vectorized strategy for several tokens: its signals fit only one of them.
            let b = if strats.len() == 1 { refs[0] } else { refs[k] };
            if strats.len() == 1 && refs.len() > 1 {
                return Err(rt_err(
                    "vectorized signals belong to one bars table; for several tokens pass |bars| strategy(#{ entry: ... }) or use on_bar",
                ));
            }
            let whole = if strats.len() == 1 {
                &full[0]
            } else {
                &full[k]
            };
            sig_logics.extend(signals_for(s, b, Some(whole))?);
        }
    }
    let kind = if script_logics.is_empty() {
        "vectorized"
    } else {
        "per_bar"
    };
    // The LLM agent of this run, reachable from every ctx (`llm_decide`); idle unless called.
    let agent = (!script_logics.is_empty()).then(|| Arc::new(agent::AgentRun::new(rt, agent_opts)));
    if let Some(a) = &agent {
        for l in &script_logics {
            l.ctx.0.lock().unwrap_or_else(|e| e.into_inner()).agent = Some(a.clone());
        }
    }
    if !sig_logics.is_empty() && !script_logics.is_empty() {
        return Err(rt_err(
            "mixing on_bar and signal strategies across tokens is not supported; use one style",
        ));
    }
    let result = {
        let mut logics: Vec<&mut dyn BarLogic> = Vec::new();
        for l in &mut sig_logics {
            logics.push(l);
        }
        for l in &mut script_logics {
            logics.push(l);
        }
        for l in &mut bot_logics {
            logics.push(l);
        }
        backtest::run(&refs, &mut logics, &opts_v, &o.cfg, Some(&rt.cancel))
    };
    let records = agent.as_ref().map(|a| a.take_records()).unwrap_or_default();
    for l in &script_logics {
        l.ctx.0.lock().unwrap_or_else(|e| e.into_inner()).agent = None;
    }
    if let Some(e) = script_logics.iter_mut().find_map(|l| l.error.take()) {
        // Calls already paid for are logged even when the run fails.
        if let Some(a) = &agent {
            let _ = a.log(&records, None);
        }
        return Err(e);
    }
    let result = result.rhai()?;
    // How `on_bar` ran, kept with a saved run: "compiled" (lowered, see `on_bar_compiler`) or
    // "interpreted", and how many bars a compiled body handed to the interpreter (expected 0).
    let on_bar = (!script_logics.is_empty()).then(|| {
        let how = if script_logics.iter().all(|l| l.compiled()) {
            "compiled"
        } else {
            "interpreted"
        };
        let fallbacks: usize = script_logics.iter().map(|l| l.fallbacks).sum();
        (how, fallbacks)
    });
    let result = Arc::new(result);
    let saved = o.save.then(|| {
        save(
            rt,
            result.clone(),
            config_json(&o, &opts_v, kind, on_bar),
            &refs,
        )
    });
    if let Some(a) = &agent {
        // The decisions are logged under the run's id: this waits for the write.
        let id = saved.as_ref().and_then(|t| t.wait());
        if let Err(e) = a.log(&records, id) {
            rt.emitter
                .stderr(format!("warning: the LLM decisions were not logged: {e}\n"));
        }
    }
    Ok(ResultValue {
        result,
        saved,
        decisions: (!records.is_empty()).then(|| Arc::new(records)),
        title: None,
    })
}

/// Queues a run for the store, off the cell's path (see `store::background`); a failed save is
/// said by the next cell, never a failed backtest.
pub(crate) fn save(
    rt: &Runtime,
    r: Arc<BacktestResult>,
    config: serde_json::Value,
    bars: &[&Bars],
) -> Arc<crate::store::background::Ticket> {
    crate::store::background::save(
        rt.config.db_path(),
        r,
        config,
        bars.iter().map(|b| (*b).clone()).collect(),
    )
}

fn backtests_frame(rt: &Runtime, limit: usize) -> RhaiResult<Frame> {
    // Runs still being written are listed too.
    crate::store::background::flush();
    let rows = Store::open(&rt.config.db_path())
        .and_then(|s| s.list(limit))
        .rhai()?;
    Frame::new(vec![
        (
            "id".into(),
            Column::I64(rows.iter().map(|r| r.id).collect()),
        ),
        (
            "created_at".into(),
            Column::Time(rows.iter().map(|r| r.created_at).collect()),
        ),
        (
            "name".into(),
            Column::Str(rows.iter().map(|r| r.name.clone()).collect()),
        ),
        (
            "status".into(),
            Column::Str(rows.iter().map(|r| r.status.clone()).collect()),
        ),
        (
            "total_return_pct".into(),
            Column::F64(rows.iter().map(|r| r.total_return_pct).collect()),
        ),
        (
            "sharpe".into(),
            Column::F64(rows.iter().map(|r| r.sharpe).collect()),
        ),
        (
            "max_drawdown_pct".into(),
            Column::F64(rows.iter().map(|r| r.max_drawdown_pct).collect()),
        ),
        (
            "n_trades".into(),
            Column::I64(rows.iter().map(|r| r.n_trades as i64).collect()),
        ),
        (
            "data_hash".into(),
            Column::Str(rows.iter().map(|r| r.data_hash.clone()).collect()),
        ),
    ])
    .map(|f| f.with_title("Stored backtests (newest first)"))
    .rhai()
}

fn lint_array(s: &StrategyValue, opts: &Map, rt: &Runtime) -> RhaiResult<Array> {
    let leverage = run_options(opts)?.cfg.leverage;
    let lookahead = rt.lookahead.load(std::sync::atomic::Ordering::Relaxed);
    Ok(lint::lint(s, leverage, lookahead)
        .into_iter()
        .map(|w| {
            let mut m = Map::new();
            m.insert("code".into(), w.code.into());
            m.insert("message".into(), w.message.into());
            Dynamic::from_map(m)
        })
        .collect())
}

pub fn register(api: &mut Api, rt: &Arc<Runtime>) {
    api.engine
        .register_type_with_name::<StrategyValue>("Strategy");
    api.func("strategy", &["spec: map"], "Strategy", |m: Map| {
        strategy_from(&m)
    });
    ctx::register(api);
    result::register(api);
    agent::register(api, rt);
    let r = rt.clone();
    api.func(
        "lint",
        &["strategy: Strategy"],
        "array",
        move |s: StrategyValue| lint_array(&s, &Map::new(), &r),
    );
    let r = rt.clone();
    api.func(
        "lint",
        &["strategy: Strategy", "backtest_opts: map"],
        "array",
        move |s: StrategyValue, o: Map| lint_array(&s, &o, &r),
    );
    let r = rt.clone();
    api.func(
        "backtest",
        &["bars: Bars | map", "strategy: Strategy | fn | string"],
        "BacktestResult",
        move |nctx: NativeCallContext, bars: Dynamic, s: Dynamic| {
            run_backtest(&nctx, &r, &bars, &s, &Map::new())
        },
    );
    let r = rt.clone();
    api.func(
        "backtest",
        &[
            "bars: Bars | map",
            "strategy: Strategy | fn | string",
            "opts: map",
        ],
        "BacktestResult",
        move |nctx: NativeCallContext, bars: Dynamic, s: Dynamic, o: Map| {
            run_backtest(&nctx, &r, &bars, &s, &o)
        },
    );
    let r = rt.clone();
    api.func("backtests", &[], "Frame", move || backtests_frame(&r, 50));
    let r = rt.clone();
    api.func("backtests", &["limit: int"], "Frame", move |n: INT| {
        backtests_frame(&r, n.max(0) as usize)
    });
    optimize::register(api, rt);
}

#[cfg(test)]
mod tests {
    use crate::data::config::Config;
    use crate::script::Session;

    fn session() -> (tempfile::TempDir, Session) {
        let dir = tempfile::tempdir().unwrap();
        let s = Session::new(Config::for_home(dir.path()));
        (dir, s)
    }

    fn frame(s: &Session, name: &str) -> crate::frame::Frame {
        let v = s.variable(name).unwrap();
        v.read_lock::<crate::frame::Frame>()
            .map(|f| f.clone())
            .unwrap()
    }

    fn run(s: &mut Session, code: &str) -> String {
        match s.execute(code) {
            Ok(r) => r
                .value
                .and_then(|v| v.plain().map(str::to_string))
                .unwrap_or_default(),
            Err(e) => panic!("cell failed: {e:?}\n{code}"),
        }
    }

    const SETUP: &str = r#"
        let bars = klines("demo:BTC", "1h", #{ limit: 2000 });
        let fast = sma(bars.close, 10);
        let slow = sma(bars.close, 30);
    "#;

    #[test]
    fn per_bar_and_vectorized_sma_cross_trade_identically() {
        let (_d, mut s) = session();
        run(&mut s, SETUP);
        let v = run(
            &mut s,
            r#"
            let a = backtest(bars, strategy(#{ entry: crossover(fast, slow), exit: crossunder(fast, slow) }), #{ fee_pct: 0.1, save: false });
            [a.stats.n_trades, a.stats.final_equity]"#,
        );
        let p = run(
            &mut s,
            r#"
            let b = backtest(bars, strategy(#{ on_bar: |ctx| {
                let f = ctx.value(fast); let s = ctx.value(slow);
                let f1 = ctx.value(fast, 1); let s1 = ctx.value(slow, 1);
                if ctx.position == 0 && f > s && f1 <= s1 { ctx.buy(); }
                else if ctx.position > 0 && f < s && f1 >= s1 { ctx.exit(); }
            } }), #{ fee_pct: 0.1, save: false });
            [b.stats.n_trades, b.stats.final_equity]"#,
        );
        assert_eq!(v, p);
        assert!(!v.contains("[0"), "{v}");
    }

    #[test]
    fn cell_function_on_bar_by_name_runs() {
        let (_d, mut s) = session();
        run(&mut s, SETUP);
        run(
            &mut s,
            "fn on_bar(ctx) { if ctx.bar_index == 5 { ctx.buy(#{ size_pct: 50 }); } }",
        );
        let n = run(
            &mut s,
            "let r = backtest(bars, \"on_bar\", #{ save: false }); r.stats.open_trades",
        );
        assert_eq!(n, "1");
    }

    #[test]
    fn ctx_refuses_future_bars() {
        let (_d, mut s) = session();
        run(&mut s, SETUP);
        let e = s
            .execute(
                "backtest(bars, strategy(#{ on_bar: |ctx| { ctx.close(-1) } }), #{ save: false })",
            )
            .unwrap_err();
        assert!(format!("{e:?}").contains("future bar"), "{e:?}");
    }

    #[test]
    fn runs_are_saved_and_listed_with_a_data_hash() {
        let (_d, mut s) = session();
        run(&mut s, SETUP);
        run(
            &mut s,
            "let r1 = backtest(bars, strategy(#{ name: \"x\", entry: crossover(fast, slow), exit: crossunder(fast, slow) }));",
        );
        run(
            &mut s,
            "let r2 = backtest(bars, strategy(#{ name: \"x\", entry: crossover(fast, slow), exit: crossunder(fast, slow) }));",
        );
        let ids = run(&mut s, "[r1.id, r2.id]");
        assert_eq!(ids, "[1, 2]");
        run(&mut s, "let list = backtests();");
        let list = frame(&s, "list");
        assert_eq!(list.len(), 2);
        let hashes = list.get("data_hash").unwrap();
        assert_eq!(hashes.cell(0), hashes.cell(1)); // same bars, same hash
        assert_eq!(list.get("name").unwrap().cell(0), "x");
    }

    #[test]
    fn optimize_ranks_every_combination() {
        let (_d, mut s) = session();
        run(&mut s, SETUP);
        run(
            &mut s,
            r#"let out = optimize(bars, |p| strategy(#{
            entry: crossover(sma(bars.close, p.fast), sma(bars.close, p.slow)),
            exit: crossunder(sma(bars.close, p.fast), sma(bars.close, p.slow)) }),
            #{ fast: [5, 10, 20], slow: [30, 50] }, #{ metric: "sharpe", save: false });"#,
        );
        let out = frame(&s, "out");
        assert_eq!(out.len(), 6);
        assert_eq!(out.names()[..3], ["fast", "slow", "sharpe"]);
        let sh = out.series("sharpe").unwrap();
        assert!(
            sh.values()
                .windows(2)
                .all(|w| w[0] >= w[1] || w[1].is_nan()),
            "{sh:?}"
        );
        let wf = run(
            &mut s,
            r#"let w = optimize(bars, |p| strategy(#{
            entry: crossover(sma(bars.close, p.fast), sma(bars.close, 40)),
            exit: crossunder(sma(bars.close, p.fast), sma(bars.close, 40)) }),
            #{ fast: [5, 10] }, #{ walk_forward: #{ train: 800, test: 400 } }); w.oos.n_bars"#,
        );
        assert_eq!(wf, "1200");
    }

    #[test]
    fn optimize_reports_the_script_error_of_a_later_combination() {
        let (_d, mut s) = session();
        run(&mut s, SETUP);
        let e = s
            .execute(
                r#"optimize(bars, |p| {
                    if p.fast == 20 { throw "bad fast"; }
                    strategy(#{ entry: crossover(sma(bars.close, p.fast), slow), exit: crossunder(sma(bars.close, p.fast), slow) })
                }, #{ fast: [5, 10, 20, 25] }, #{ save: false })"#,
            )
            .unwrap_err();
        assert!(format!("{e:?}").contains("bad fast"), "{e:?}");
    }

    #[test]
    fn optimize_saves_the_best_combination_rebuilt_in_full() {
        let (_d, mut s) = session();
        run(&mut s, SETUP);
        run(
            &mut s,
            r#"let out = optimize(bars, |p| strategy(#{ name: "x" + p.fast,
                entry: crossover(sma(bars.close, p.fast), slow), exit: crossunder(sma(bars.close, p.fast), slow) }),
                #{ fast: [5, 10, 20] }, #{ metric: "total_return_pct" });
               let best = out.fast[0].to_int();
               let r = backtest(bars, strategy(#{ entry: crossover(sma(bars.close, best), slow),
                   exit: crossunder(sma(bars.close, best), slow) }), #{ save: false });
               let list = backtests();"#,
        );
        let out = frame(&s, "out");
        let list = frame(&s, "list");
        assert_eq!(list.len(), 1);
        let best_ret = out.series("total_return_pct").unwrap().values()[0];
        assert_eq!(
            list.get("total_return_pct").unwrap().cell(0),
            out.get("total_return_pct").unwrap().cell(0)
        );
        let r = run(&mut s, "r.stats.total_return_pct");
        assert_eq!(r.parse::<f64>().unwrap(), best_ret);
    }

    #[test]
    fn portfolio_with_a_strategy_per_token() {
        let (_d, mut s) = session();
        let out = run(
            &mut s,
            r#"
            let a = klines("demo:BTC", "1h", #{ limit: 500 });
            let b = klines("demo:ETH", "1h", #{ limit: 500 });
            let r = backtest(#{ "demo:BTC": a, "demo:ETH": b }, |bars| strategy(#{
                entry: crossover(sma(bars.close, 5), sma(bars.close, 20)),
                exit: crossunder(sma(bars.close, 5), sma(bars.close, 20)), size_pct: 50 }), #{ save: false });
            r.stats.n_trades > 0"#,
        );
        assert_eq!(out, "true");
    }
}
