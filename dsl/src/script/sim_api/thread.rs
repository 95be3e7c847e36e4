//! The simulation's own thread: its strategy logics built from the plans (with a Rhai engine
//! of its own for `on_bar`, so a cell's interrupt never reaches it), the feed, and the run.

use super::*;

#[allow(clippy::too_many_arguments)] // the thread's inputs, moved in once
pub(super) fn run_thread(
    id: i64,
    mut store: SimStore,
    feed: FeedSpec,
    plans: Vec<Plan>,
    opts: Vec<StrategyOptions>,
    cfg: crate::backtest::BacktestConfig,
    tokens: Vec<String>,
    pace: Pace,
    skip: i64,
    closed: Option<String>,
    config: Config,
    global: GlobalRuntimeState,
    agent: Option<Arc<AgentRun>>,
    live: &Running,
) -> Result<(), String> {
    let engine = plans
        .iter()
        .any(|p| matches!(p, Plan::Script(..) | Plan::Recompute(..)))
        .then(|| crate::script::session::Session::worker_engine(config));
    let mut sig = Vec::new();
    let mut bots = Vec::new();
    let mut live_bots = Vec::new();
    let mut scripts = Vec::new();
    let mut recomputes = Vec::new();
    // The kind of each plan, in token order: `logics[a]` decides for token `a`.
    let kinds: Vec<u8> = plans
        .iter()
        .map(|p| match p {
            Plan::Signals(_) => 0,
            Plan::Script(..) => 1,
            Plan::Recompute(_) => 2,
            Plan::Bot(_) => 3,
            Plan::LiveBot(_) => 4,
        })
        .collect();
    for p in plans {
        match p {
            Plan::Signals(s) => sig.push(s),
            Plan::Bot(b) => bots.push(*b),
            Plan::LiveBot(c) => live_bots.push(crate::strategy::ave_config::LiveBot::new(c)),
            Plan::Script(f, interpret) => {
                if let Some(e) = &engine {
                    let l = ScriptLogic::with_engine(e, &global, f, interpret);
                    l.ctx.0.lock().unwrap_or_else(|e| e.into_inner()).agent = agent.clone();
                    scripts.push(l);
                }
            }
            Plan::Recompute(f) => {
                if let Some(e) = &engine {
                    recomputes.push(RecomputeLogic {
                        engine: e,
                        global: global.clone(),
                        caches: Caches::new(),
                        scope: Scope::new(),
                        f,
                        sig: None,
                        len: 0,
                        error: None,
                    });
                }
            }
        }
    }
    let mut logics: Vec<&mut dyn BarLogic> = Vec::new();
    let (mut a, mut b, mut c) = (sig.iter_mut(), scripts.iter_mut(), recomputes.iter_mut());
    let (mut d, mut e) = (bots.iter_mut(), live_bots.iter_mut());
    for k in kinds {
        let l: Option<&mut dyn BarLogic> = match k {
            0 => a.next().map(|l| l as &mut dyn BarLogic),
            1 => b.next().map(|l| l as &mut dyn BarLogic),
            2 => c.next().map(|l| l as &mut dyn BarLogic),
            3 => d.next().map(|l| l as &mut dyn BarLogic),
            _ => e.next().map(|l| l as &mut dyn BarLogic),
        };
        logics.extend(l);
    }
    let setup = Setup {
        id,
        tokens,
        opts: &opts,
        cfg: &cfg,
        pace,
        skip,
        closed,
        first_bar: match &feed {
            FeedSpec::Live(fs) => fs.iter().map(|f| f.warmup).collect(),
            FeedSpec::Replay(b) => vec![0; b.len()],
        },
    };
    let (bars, mut live_feed) = match feed {
        FeedSpec::Replay(b) => (b, None),
        FeedSpec::Live(mut fs) => {
            let f: Box<dyn Feed> = if fs.len() == 1 {
                Box::new(fs.remove(0))
            } else {
                let marker = fs[0].take_marker();
                Box::new(crate::sim::live::MultiFeed { feeds: fs, marker })
            };
            (Vec::new(), Some(f))
        }
    };
    let mut replay = ReplayFeed::new(bars.iter().collect());
    let feed: &mut dyn Feed = match &mut live_feed {
        Some(f) => &mut **f,
        None => &mut replay,
    };
    let ran = crate::sim::run(
        feed,
        &mut logics,
        &setup,
        &mut store,
        &live.control,
        &mut |_| {
            // After each commit: the decisions of the committed steps (a failed write keeps
            // them for the next commit).
            if let Some(a) = &agent {
                a.log_pending();
            }
        },
    );
    if let Some(a) = &agent {
        a.log_pending();
    }
    let script_err = scripts
        .iter_mut()
        .find_map(|l| l.error.take())
        .or_else(|| recomputes.iter_mut().find_map(|l| l.error.take()))
        .map(|e| e.to_string());
    match ran {
        Ok((outcome, result)) => {
            let stats = crate::store::result_json(&result)["stats"].clone();
            let _ = store.set_stats(id, &stats);
            let reason = match &outcome {
                crate::sim::Outcome::Stopped(why) => Some(why.as_str()),
                crate::sim::Outcome::Finished => None,
            };
            let _ = store.set_status(id, outcome.status(), reason);
            if let Ok(mut r) = live.result.lock() {
                *r = Some(Arc::new(result));
            }
            Ok(())
        }
        Err(e) => {
            let msg = script_err.unwrap_or_else(|| e.to_string());
            let _ = store.set_status(id, "failed", Some(&msg));
            Err(msg)
        }
    }
}
