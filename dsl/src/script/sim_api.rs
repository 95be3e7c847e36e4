//! Rhai bindings for simulations: `simulate()`, the `Sim` handle, `sims()` and `sim(id)`. The
//! loop itself is [`crate::sim`]; this file turns script values into its inputs, starts it on a
//! background thread (with its own Rhai engine for `on_bar`, so a cell's interrupt never reaches
//! it) and reads results back from the store.

mod bindings;
mod card;
pub use card::without_elapsed;
mod inputs;
mod live_opts;
mod thread;
use inputs::{bad_source, live_ids, live_span, no_look_ahead, resume_differs, strategy_source};
use thread::run_thread;

pub use bindings::{register, show_live};

use super::api::{Api, RhaiResult, rt_err};
use super::backtest_api::agent::{AgentOptions, AgentRun};
use super::backtest_api::ctx::ScriptLogic;
use super::backtest_api::options::{StrategyValue, run_options};
use super::backtest_api::result::{ResultValue, stats_map};
use super::backtest_api::{
    StratInput, config_json, read_bars, read_strategy, signals_for, slice_time, warn_lints,
};
use crate::backtest::BacktestResult;
use crate::bars::Bars;
use crate::data::config::Config;
use crate::display::{MimeBundle, Render};
use crate::frame::{Column, Frame};
use crate::script::runtime::Runtime;
use crate::sim::live::{Clock, DemoSource, LiveFeed};
use crate::sim::{Control, Feed, Pace, ReplayFeed, Request, Setup};
use crate::store::columns::Col;
use crate::store::sim::{NewSim, SimRow, SimStore, SimTable};
use crate::strategy::ave_config::BotLogic;
use crate::strategy::{BarLogic, Signals, StrategyOptions};
use rhai::{
    Caches, Dynamic, EvalAltResult, EvalContext, FnArgsVec, FnPtr, GlobalRuntimeState, INT, Map,
    NativeCallContext, Scope,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

/// Keys `simulate` takes besides the backtest's.
const SIM_KEYS: &[&str] = &[
    "speed",
    "name",
    "poll_s",
    "warmup",
    "max_duration",
    "until",
    "interval",
    "resume",
    "clock_speed",
    "clock_origin",
    "feed",
    "marks",
];

/// A simulation started in this process: its control and how it ended.
#[derive(Default)]
struct Running {
    control: Control,
    done: Mutex<Option<Result<(), String>>>,
    ended: Condvar,
    result: Mutex<Option<Arc<BacktestResult>>>,
}

fn running() -> &'static Mutex<HashMap<i64, Arc<Running>>> {
    static R: OnceLock<Mutex<HashMap<i64, Arc<Running>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// The handle a cell holds: the id, the database, and (when it runs in this process) its control.
#[derive(Clone)]
pub struct SimValue {
    pub id: i64,
    db: PathBuf,
    live: Option<Arc<Running>>,
}

/// What runs a token's decisions, built on the simulation's thread.
enum Plan {
    Signals(Signals),
    Bot(Box<BotLogic>),
    /// An AVE bot config on a live feed's growing bars.
    LiveBot(Arc<crate::strategy::ave_config::BotConfig>),
    Script(FnPtr, bool),
    /// `|bars| strategy(..)` recomputed on a live feed's growing bars.
    Recompute(FnPtr),
}

/// Where a simulation's bars come from, moved onto its thread.
enum FeedSpec {
    Replay(Vec<Bars>),
    /// One feed per token, on one clock.
    Live(Vec<LiveFeed>),
}

/// A vectorized strategy on a live feed: when a bar closes, `|bars| strategy(..)` is called
/// again on every bar so far (history included) and the signals at the new bar decide. The bars
/// end at the last closed bar, so nothing can look ahead. Cost: one whole recompute per bar,
/// O(bars so far); a day of 1m bars after a 200-bar warm-up is under 2 000 rows a call.
struct RecomputeLogic<'a> {
    engine: &'a rhai::Engine,
    global: GlobalRuntimeState,
    caches: Caches,
    scope: Scope<'static>,
    f: FnPtr,
    sig: Option<Signals>,
    len: usize,
    error: Option<Box<EvalAltResult>>,
}

impl RecomputeLogic<'_> {
    fn recompute(&mut self, bars: &Bars) -> RhaiResult<Option<Signals>> {
        let mut args: Vec<Dynamic> = self.f.curry().to_vec();
        args.push(Dynamic::from(bars.clone()));
        let mut refs: FnArgsVec<&mut Dynamic> = args.iter_mut().collect();
        let v = EvalContext::new(
            self.engine,
            &mut self.global,
            &mut self.caches,
            &mut self.scope,
            None,
        )
        .call_fn_raw(self.f.fn_name(), false, false, &mut refs)?;
        let sv = v
            .read_lock::<StrategyValue>()
            .map(|s| s.clone())
            .ok_or_else(|| {
                rt_err(format!(
                    "the function given to simulate must return strategy(..), not {}",
                    v.type_name()
                ))
            })?;
        signals_for(&sv, bars, None)
    }
}

impl BarLogic for RecomputeLogic<'_> {
    fn on_bar(&mut self, ctx: &mut crate::strategy::Ctx<'_>) -> crate::error::Result<()> {
        if self.sig.is_none() || ctx.bars.len() != self.len {
            match self.recompute(ctx.bars) {
                Ok(sig) => {
                    self.sig = sig;
                    self.len = ctx.bars.len();
                }
                Err(e) => {
                    self.error = Some(e);
                    return Err(crate::error::DslError::invalid("the strategy failed"));
                }
            }
        }
        match &mut self.sig {
            Some(sig) => sig.on_bar(ctx),
            None => Ok(()),
        }
    }
}

fn sim_err(e: impl std::fmt::Display) -> Box<rhai::EvalAltResult> {
    rt_err(e.to_string())
}

impl SimValue {
    fn store(&self) -> RhaiResult<SimStore> {
        SimStore::open(&self.db).map_err(sim_err)
    }
    fn row(&self) -> RhaiResult<SimRow> {
        self.store()?
            .get(self.id)
            .map_err(sim_err)?
            .ok_or_else(|| rt_err(format!("no simulation {}", self.id)))
    }
    /// Asks the loop to do `r`: directly when it runs here, through the database otherwise.
    fn request(&self, r: Request, db: &str, reason: Option<String>) -> RhaiResult<()> {
        match &self.live {
            Some(l) => l.control.set(r, reason),
            None => self.store()?.request(self.id, db).map_err(sim_err)?,
        }
        Ok(())
    }
    fn table(&self, t: SimTable, title: &str) -> RhaiResult<Frame> {
        let cols = self.store()?.table(self.id, t).map_err(sim_err)?;
        frame(cols, &format!("Simulation {}: {title}", self.id))
    }
}

fn frame(cols: Vec<(String, Col)>, title: &str) -> RhaiResult<Frame> {
    let cols = cols
        .into_iter()
        .map(|(n, c)| {
            let c = match c {
                Col::I64(v) if n.ends_with("time") => Column::Time(v),
                Col::I64(v) if n == "executed" => Column::Bool(v.iter().map(|&x| x != 0).collect()),
                Col::I64(v) => Column::I64(v),
                Col::F64(v) => Column::F64(v),
                Col::Str(v) => Column::Str(v),
            };
            (n, c)
        })
        .collect();
    Frame::new(cols)
        .map(|f| f.with_title(title))
        .map_err(sim_err)
}

/// `simulate(source, strategy, opts)`: checks the inputs, registers the simulation and starts
/// its thread; returns at once.
fn simulate(
    nctx: &NativeCallContext,
    rt: &Runtime,
    source: &Dynamic,
    strat: &Dynamic,
    opts: &Map,
) -> RhaiResult<SimValue> {
    // One list of what simulate takes (its own keys and the backtest's), so that a typo of
    // `speed` is not answered with the backtest's options only.
    if opts.contains_key("save") {
        return Err(rt_err(
            "a simulation is always saved (its store rows are what its card and sims() show): drop save",
        ));
    }
    let mut known: Vec<&str> = SIM_KEYS.to_vec();
    for k in super::backtest_api::options::BACKTEST_KEYS {
        if !known.contains(k) && *k != "save" {
            known.push(k);
        }
    }
    super::api::check_keys(opts, "simulate", &known)?;
    let mut bt = opts.clone();
    let mut sim_opts = Map::new();
    for k in SIM_KEYS {
        if let Some(v) = bt.remove(*k) {
            sim_opts.insert((*k).into(), v);
        }
    }
    let o = run_options(&bt)?;
    let mut agent_opts = AgentOptions::from_map(&bt)?;
    let pace = match sim_opts.get("speed") {
        None => Pace::Max,
        Some(v) if v.clone().into_string().is_ok_and(|s| s == "max") => Pace::Max,
        Some(v) => {
            let x = v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .map_err(|_| rt_err("speed must be bars per second (e.g. 1000) or \"max\""))?;
            if x.is_nan() || x <= 0.0 {
                return Err(rt_err("speed must be positive bars per second or \"max\""));
            }
            Pace::PerSecond(x)
        }
    };
    // A resumed simulation: its row, checked before anything starts.
    let db = rt.config.db_path();
    let mut store = SimStore::open(&db).map_err(sim_err)?;
    let resumed = match sim_opts.get("resume") {
        Some(v) => {
            let id = v
                .as_int()
                .map_err(|_| rt_err("resume must be a simulation id"))?;
            let row = store
                .get(id)
                .map_err(sim_err)?
                .ok_or_else(|| rt_err(format!("no simulation {id} to resume")))?;
            if crate::store::sim::is_active(&row.status) {
                return Err(rt_err(format!(
                    "simulation {id} is still {}; stop it first or wait",
                    row.status
                )));
            }
            if row.status == "finished" {
                return Err(rt_err(format!(
                    "simulation {id} finished: it ran to the end of its data or its until / max_duration, so there is nothing to resume; start a new simulation"
                )));
            }
            Some(row)
        }
        None => None,
    };
    let live = match live_ids(source)? {
        Some((ids, interval)) => {
            if let Some(iv) = interval {
                match sim_opts.get("interval").map(|v| v.clone().into_string()) {
                    Some(Ok(o)) if o != iv => {
                        return Err(rt_err(format!(
                            "the source says interval {iv} and the options {o}; give it once"
                        )));
                    }
                    _ => {
                        sim_opts.insert("interval".into(), Dynamic::from(iv));
                    }
                }
            }
            if sim_opts.contains_key("speed") {
                return Err(rt_err(
                    "speed paces replays; a live feed runs on its clock (clock_speed accelerates the demo clock, for tests and demos)",
                ));
            }
            let span = match &resumed {
                None => None,
                Some(row) => Some(live_span(row).ok_or_else(|| {
                    rt_err(format!(
                        "simulation {} is a {}; resume it with the same source: simulate(bars, strategy, #{{ resume: {} }})",
                        row.id, row.source, row.id
                    ))
                })?),
            };
            let mut feeds = ids
                .iter()
                .map(|id| live_opts::live_feed(rt, id, &sim_opts, span))
                .collect::<RhaiResult<Vec<LiveFeed>>>()?;
            // Polled AVE feeds with bars longer than the polling period: every token's price
            // in one batch request each period, for the display between bar closes.
            if let Some(every) = feeds
                .iter()
                .map(|f| f.marks_every)
                .collect::<Option<Vec<_>>>()
                .and_then(|v| v.into_iter().min())
            {
                let ids = feeds.iter().map(|f| f.id().to_string()).collect();
                let clock = *feeds[0].clock();
                let prices = crate::sim::live::AvePrices(crate::data::service::DataService::new(
                    rt.config.clone(),
                ));
                feeds[0].set_marker(crate::sim::live::Marker::new(
                    Box::new(prices),
                    ids,
                    every,
                    clock,
                ));
            }
            let got: Vec<&str> = feeds.iter().map(|f| f.id()).collect();
            if let Some(row) = &resumed
                && row.tokens != got
            {
                return Err(rt_err(format!(
                    "simulation {} ran on {}, not {}; resume it with the same source",
                    row.id,
                    row.tokens.join(", "),
                    got.join(", ")
                )));
            }
            Some(feeds)
        }
        None => {
            for k in [
                "interval",
                "warmup",
                "max_duration",
                "until",
                "poll_s",
                "clock_speed",
                "clock_origin",
                "feed",
                "marks",
            ] {
                if sim_opts.contains_key(k) {
                    // A source that is neither a token nor Bars: that is the mistake to name.
                    read_bars(source).map_err(|e| bad_source(source, e))?;
                    let example = if k == "interval" {
                        "#{ interval: \"1m\" }".to_string()
                    } else {
                        format!("#{{ interval: \"1m\", {k}: .. }}")
                    };
                    return Err(rt_err(format!(
                        "{k} is an option of live feeds (simulate(\"demo:BTC\", s, {example})); a replay of Bars takes speed, from, to, name and resume"
                    )));
                }
            }
            None
        }
    };
    let pace = if live.is_some() { Pace::Clock } else { pace };
    if live.is_some() && agent_opts.max_calls.is_none() {
        // A live feed has no known end to count decisions over: without max_calls it asks the
        // model at each decision bar for as long as it runs (max_duration bounds it).
        agent_opts.max_calls = Some(u64::MAX);
    }
    // A replay's bars as given, and the part `from` / `to` keep (as backtest() slices them).
    let full: Vec<Bars> = match &live {
        Some(fs) => {
            if o.from.is_some() || o.to.is_some() {
                return Err(rt_err(
                    "from and to slice a replay's bars; a live feed starts now (warmup: bars of history first, until or max_duration: when it ends)",
                ));
            }
            fs.iter()
                .flat_map(|f| f.bars().into_iter().cloned())
                .collect()
        }
        None => read_bars(source).map_err(|e| bad_source(source, e))?,
    };
    let all = slice_time(&full, o.from, o.to);
    if let Some(b) = all.iter().find(|b| b.is_empty()) {
        return Err(rt_err(format!(
            "no bars of {} between from and to: nothing to replay",
            b.id
        )));
    }
    let mut factory: Option<FnPtr> = None;
    let strats: Vec<StrategyValue> = match read_strategy(strat)? {
        StratInput::One(s) => vec![*s],
        StratInput::Factory(f) if live.is_some() => {
            // Called again on the growing bars as each one closes (see `RecomputeLogic`); this
            // first call on the warm-up history checks it returns a strategy.
            let v: Dynamic = f.call_within_context(nctx, (all[0].clone(),))?;
            let first = v
                .read_lock::<StrategyValue>()
                .map(|s| s.clone())
                .ok_or_else(|| {
                    rt_err(format!(
                        "the function given to simulate must return strategy(..), not {}",
                        v.type_name()
                    ))
                })?;
            factory = Some(f);
            vec![first]
        }
        StratInput::Factory(f) => all
            .iter()
            .map(|b| {
                // A replay knows its whole input: the signals are computed once on it (the
                // engine only ever reads a bar after it closed).
                let v: Dynamic = f.call_within_context(nctx, (b.clone(),))?;
                let whole = v
                    .read_lock::<StrategyValue>()
                    .map(|s| s.clone())
                    .ok_or_else(|| {
                        rt_err(format!(
                            "the function given to simulate must return strategy(..), not {}",
                            v.type_name()
                        ))
                    })?;
                no_look_ahead(nctx, &f, b, &whole)?;
                Ok(whole)
            })
            .collect::<RhaiResult<_>>()?,
    };
    warn_lints(rt, &strats, o.cfg.leverage);
    let mut opts_v: Vec<StrategyOptions> = strats.iter().map(|s| s.opts.clone()).collect();
    let name = sim_opts
        .get("name")
        .and_then(|v| v.clone().into_string().ok())
        .or(o.name.clone())
        .unwrap_or_else(|| opts_v[0].name.clone());
    for x in &mut opts_v {
        x.name = name.clone();
    }
    let mut plans = Vec::new();
    let mut kind = "vectorized";
    for (k, s) in strats.iter().enumerate() {
        if live.is_some() && s.on_bar.is_none() {
            // Computed again on each token's growing bars: one logic per token.
            let tokens = if strats.len() == 1 { all.len() } else { 1 };
            match (&factory, &s.bot) {
                (_, Some(bot)) => {
                    for _ in 0..tokens {
                        plans.push(Plan::LiveBot(bot.clone()));
                    }
                    continue;
                }
                (Some(f), None) => {
                    for _ in 0..tokens {
                        plans.push(Plan::Recompute(f.clone()));
                    }
                    continue;
                }
                (None, None) => {
                    return Err(rt_err(
                        "a live feed grows bar by bar, so its signals must be recomputed: pass a function, simulate(\"demo:BTC\", |bars| strategy(#{ entry: .. }), #{ .. }), or an on_bar strategy",
                    ));
                }
            }
        }
        if let Some(bot) = &s.bot {
            let mine: Vec<&Bars> = if strats.len() == 1 {
                all.iter().collect()
            } else {
                vec![&all[k]]
            };
            for b in mine {
                plans.push(Plan::Bot(Box::new(bot.logic(b).map_err(sim_err)?)));
            }
        } else if let Some(f) = &s.on_bar {
            kind = "per_bar";
            plans.push(Plan::Script(f.clone(), s.interpret));
        } else {
            if strats.len() == 1 && all.len() > 1 {
                return Err(rt_err(
                    "vectorized signals belong to one bars table; for several tokens pass |bars| strategy(#{ entry: ... }) or use on_bar",
                ));
            }
            let k = if strats.len() == 1 { 0 } else { k };
            let whole = live.is_none().then(|| &full[k]);
            if let Some(sig) = signals_for(s, &all[k], whole)? {
                plans.push(Plan::Signals(sig));
            }
        }
    }
    let tokens: Vec<String> = all.iter().map(|b| b.id.to_string()).collect();
    let mut config = config_json(&o, &opts_v, kind, None);
    if let Some(f) = live.as_ref().and_then(|fs| fs.first()) {
        // What a resume needs to step through the same bars and end when this run would.
        let (start, end) = f.span();
        config["live"] = serde_json::json!({ "start": start, "end": end });
        config["interval"] = serde_json::json!(all[0].interval.name());
    }
    let provenance = all
        .iter()
        .map(|b| {
            format!(
                "{} {} {} bars {}..{} ({:?})",
                b.id,
                b.interval.name(),
                b.len(),
                b.time
                    .first()
                    .map_or(String::new(), |t| crate::time::format_time(*t)),
                b.time
                    .last()
                    .map_or(String::new(), |t| crate::time::format_time(*t)),
                b.source
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(row) = &resumed {
        let strategy = strategy_source(strat);
        if let Some(what) = resume_differs(row, &tokens, &config, &strategy, &provenance) {
            return Err(rt_err(format!(
                "simulation {} ran with {what}; resume it with the same source, strategy and options (or start a new simulation)",
                row.id
            )));
        }
    }
    // A stop closed the positions at its last bar (all but `stop(#{ close: false })`): the
    // resumed run closes them again where it takes over, as the committed rows say it did.
    let closed = resumed
        .as_ref()
        .filter(|r| r.status == "stopped")
        .and_then(|r| r.reason.clone())
        .filter(|why| why != crate::sim::KEPT);
    let (id, skip) = match &resumed {
        Some(row) => {
            if row.source.starts_with("live ") != live.is_some() {
                return Err(rt_err(format!(
                    "simulation {} is a {}; resume it with the same source",
                    row.id, row.source
                )));
            }
            store.reopen(row.id).map_err(sim_err)?;
            (row.id, row.steps)
        }
        None => {
            let source_desc = if let Some(fs) = &live {
                fs.iter()
                    .map(LiveFeed::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            } else if all.len() == 1 {
                format!("replay of {} {}", tokens[0], all[0].interval.name())
            } else {
                format!("replay of {} {}", tokens.join(", "), all[0].interval.name())
            };
            let id = store
                .create(&NewSim {
                    name: &name,
                    source: &source_desc,
                    tokens: &tokens,
                    config: &config,
                    strategy: &strategy_source(strat),
                    provenance: &provenance,
                })
                .map_err(sim_err)?;
            (id, 0)
        }
    };
    // The LLM agent of the simulation (`llm_decide` in on_bar): its decisions are logged under
    // the run key `sim-<id>` as the steps they belong to are committed.
    let agent = plans
        .iter()
        .any(|p| matches!(p, Plan::Script(..)))
        .then(|| {
            let mut a = AgentRun::new(rt, agent_opts);
            a.run_key = sim_run_key(id);
            a
        });
    if let Some(a) = &agent
        && skip > 0
    {
        // A resumed run steps again through the bars it had committed (answers come from the
        // cache); their decisions are logged already.
        a.skip_logged().map_err(sim_err)?;
    }
    let agent = agent.map(Arc::new);
    let feed = match live {
        Some(f) => FeedSpec::Live(f),
        None => FeedSpec::Replay(all),
    };
    let live = Arc::new(Running::default());
    running().lock().map_err(sim_err)?.insert(id, live.clone());
    let global = nctx.global_runtime_state().clone();
    let config = rt.config.clone();
    let cfg = o.cfg.clone();
    let l = live.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("sim-{id}"))
        .spawn(move || {
            let db = config.db_path();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_thread(
                    id, store, feed, plans, opts_v, cfg, tokens, pace, skip, closed, config,
                    global, agent, &l,
                )
            }))
            .unwrap_or_else(|p| {
                // A bug, never the user's: the run ends as failed (what was committed stays)
                // and `wait()` returns instead of waiting for ever.
                let what = p
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| p.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown");
                let msg = format!("internal error in the simulation thread: {what}");
                if let Ok(mut st) = SimStore::open(&db) {
                    let _ = st.set_status(id, "failed", Some(&msg));
                }
                Err(msg)
            });
            if let Ok(mut d) = l.done.lock() {
                *d = Some(r);
            }
            l.ended.notify_all();
        });
    if let Err(e) = spawned {
        return Err(rt_err(format!("cannot start the simulation thread: {e}")));
    }
    Ok(SimValue {
        id,
        db,
        live: Some(live),
    })
}

/// The key of a simulation's LLM decisions in `llm_decisions`.
fn sim_run_key(id: i64) -> String {
    format!("sim-{id}")
}

/// A simulation's LLM decisions, in bar order, from the store.
fn sim_decisions(
    db: &std::path::Path,
    id: i64,
) -> crate::error::Result<Vec<crate::llm::DecisionRecord>> {
    crate::store::llm::LlmStore::open(db)?.decisions(&sim_run_key(id))
}

impl SimValue {
    /// A handle on simulation `id` of the database at `db` (the command line's view).
    pub fn open(db: PathBuf, id: i64) -> crate::error::Result<SimValue> {
        let live = running().lock().ok().and_then(|r| r.get(&id).cloned());
        let v = SimValue { id, db, live };
        v.row()
            .map_err(|e| crate::error::DslError::invalid(e.to_string()))?;
        Ok(v)
    }

    /// The simulation's row as stored.
    pub fn info(&self) -> crate::error::Result<SimRow> {
        self.row()
            .map_err(|e| crate::error::DslError::invalid(e.to_string()))
    }

    /// Its committed results as frames: signals, fills, trades, equity.
    pub fn frames(&self) -> crate::error::Result<Vec<(&'static str, Frame)>> {
        let go = || -> RhaiResult<Vec<(&'static str, Frame)>> {
            let (t, e) = self.store()?.equity(self.id).map_err(sim_err)?;
            Ok(vec![
                ("signals", self.table(SimTable::Signals, "signals")?),
                ("fills", self.table(SimTable::Fills, "fills")?),
                ("trades", self.table(SimTable::Trades, "trades")?),
                (
                    "equity",
                    frame(
                        vec![("time".into(), Col::I64(t)), ("equity".into(), Col::F64(e))],
                        "equity",
                    )?,
                ),
            ])
        };
        go().map_err(|e| crate::error::DslError::invalid(e.to_string()))
    }
}

/// Simulations running in this process.
pub fn running_ids() -> Vec<i64> {
    running()
        .lock()
        .map(|r| {
            r.iter()
                .filter(|(_, l)| l.done.lock().is_ok_and(|d| d.is_none()))
                .map(|(id, _)| *id)
                .collect()
        })
        .unwrap_or_default()
}

/// Every simulation started in this process, running or ended.
pub fn started_ids() -> Vec<i64> {
    let mut ids: Vec<i64> = running()
        .lock()
        .map(|r| r.keys().copied().collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

/// Asks every simulation running in this process to stop (a SIGTERM to `stratbook sim start`).
pub fn stop_all(reason: &str) {
    request_all(Request::Stop, Some(reason));
}

/// Stops every simulation running in this process with its positions kept (status `stopped`,
/// resumable as it stood): what `stratbook run` does with those left running when it ends.
pub fn stop_all_keeping() {
    request_all(Request::StopKeep, None);
}

fn request_all(what: Request, reason: Option<&str>) {
    if let Ok(r) = running().lock() {
        for l in r.values() {
            l.control.set(what, reason.map(str::to_string));
        }
    }
}

/// Blocks until every simulation started in this process has ended.
pub fn wait_all() {
    let all: Vec<Arc<Running>> = running()
        .lock()
        .map(|r| r.values().cloned().collect())
        .unwrap_or_default();
    for l in all {
        let Ok(mut g) = l.done.lock() else { continue };
        while g.is_none() {
            match l.ended.wait_timeout(g, Duration::from_millis(100)) {
                Ok((next, _)) => g = next,
                Err(_) => return,
            }
        }
    }
}
