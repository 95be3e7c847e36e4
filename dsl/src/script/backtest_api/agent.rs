//! `llm_decide(ctx, opts)`: a language model deciding inside `on_bar`. Per decision bar it builds
//! the prompt (`crate::llm::prompt`), finds the answer in the cache (a committed cache file, then
//! the store's `llm_cache`) or asks the model (`crate::llm::Client`), parses the JSON decision,
//! passes it through the risk layer and logs it. A failed call or an invalid answer becomes `hold`
//! with the reason recorded; only what the user must fix (no key, `replay` without an answer,
//! offline, the call budget) stops the run.
//!
//! One [`AgentRun`] lives for one backtest (or simulation): the cache mode, the call budget, the
//! per-token `every` clock and risk state, higher timeframes resampled once, and the log. It holds
//! no engine state, so any loop that fills a `ctx` can drive it.

use super::ctx::BarCtx;
use crate::bars::Bars;
use crate::data::resample::{align_index, bucket_start};
use crate::error::DslError;
use crate::interval::Interval;
use crate::llm::prompt::{self, Account, Higher, PromptInput};
use crate::llm::risk::{self, RiskLimits, RiskState};
use crate::llm::{
    Action, AnswerSource, Client, Decision, DecisionRecord, LlmConfig, Request, parse_decision,
};
use crate::script::api::{RhaiResult, check_keys, opt_f64, opt_i64, opt_str, rt_err};
use crate::script::runtime::Runtime;
use crate::series::Series;
use crate::store::llm::{
    AnswerMemo, Answers, CacheFile, CachedAnswer, LlmStore, prompt_key_of, text_hash,
};
use crate::time::format_time;
use rhai::{Array, Dynamic, FLOAT, Map};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Calls a backtest may make without an explicit `max_calls`.
pub const DEFAULT_MAX_CALLS: u64 = 100;

pub const DECIDE_KEYS: &[&str] = &[
    "instructions",
    "every",
    "min_confidence",
    "model",
    "indicators",
    "timeframes",
    "lookback",
    "max_leverage",
    "max_position_pct",
    "max_drawdown_pct",
    "max_tokens",
];

/// Where answers come from (the backtest option `llm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Ask once, then answer from the cache.
    Cache,
    /// Only the cache; a missing answer is an error naming the bar.
    Replay,
    /// Always ask (answers are still written to the cache).
    Live,
}

impl Mode {
    pub fn parse(s: &str) -> RhaiResult<Mode> {
        match s {
            "cache" => Ok(Mode::Cache),
            "replay" => Ok(Mode::Replay),
            "live" => Ok(Mode::Live),
            other => Err(rt_err(format!(
                "llm: \"{other}\" is not a mode; use \"cache\" (ask once, then from the store), \"replay\" (never the network) or \"live\" (always ask)"
            ))),
        }
    }
}

/// The backtest options that concern the agent.
#[derive(Clone, Debug)]
pub struct AgentOptions {
    pub mode: Mode,
    pub max_calls: Option<u64>,
    pub cache_file: Option<String>,
}

impl AgentOptions {
    pub fn from_map(m: &Map) -> RhaiResult<AgentOptions> {
        let mode = match opt_str(m, "llm")? {
            Some(s) => Mode::parse(&s)?,
            None => Mode::Cache,
        };
        let max_calls = match opt_i64(m, "max_calls")? {
            Some(n) if n < 0 => return Err(rt_err("max_calls must be 0 or more")),
            other => other.map(|n| n as u64),
        };
        Ok(AgentOptions {
            mode,
            max_calls,
            cache_file: opt_str(m, "llm_cache")?,
        })
    }
}

/// One token's agent state.
#[derive(Default)]
struct TokenState {
    last_bucket: Option<i64>,
    risk: RiskState,
    /// (interval) → resampled bars and, per bar, the last closed higher bar, for the decision
    /// bars of the length in `higher_of` (a live feed's bars grow: a new length resamples).
    higher: HashMap<Interval, (Bars, Vec<Option<usize>>)>,
    higher_of: usize,
    /// What earlier decisions formatted, reused by the next prompt.
    memo: prompt::PromptMemo,
}

struct Inner {
    tokens: HashMap<usize, TokenState>,
    records: Vec<DecisionRecord>,
    network_calls: u64,
    budget_checked: bool,
    store: Option<LlmStore>,
    file: Option<CacheFile>,
    client: Option<Arc<Client>>,
    /// The store's answers per model (shared by the process's runs on the same store).
    memo: HashMap<String, Answers>,
    /// Decisions up to this bar time are logged already (a resumed simulation).
    logged_until: Option<i64>,
}

/// One model's answers in one store, shared by the session's runs ([`Runtime::llm_answers`]):
/// a rerun of a cached backtest looks its answers up in memory instead of reading and hashing the
/// whole table again (2,000 answers are about 11 MB of prompt text). The table only gains
/// answers, so the memo is never wrong, only incomplete: a miss asks the store for that one
/// prompt (another session or process may have stored it) before the model is asked.
fn store_answers(
    memo: &AnswerMemo,
    db: &std::path::Path,
    model: &str,
    store: &LlmStore,
) -> crate::Result<Answers> {
    let key = (db.to_path_buf(), model.to_string());
    if let Some(a) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(a.clone());
    }
    let loaded: Answers = Arc::new(Mutex::new(store.all_for(model)?));
    Ok(memo
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(loaded)
        .clone())
}

/// The agent of one run (shared by every `ctx` of the run).
pub struct AgentRun {
    pub opts: AgentOptions,
    llm: LlmConfig,
    db_path: std::path::PathBuf,
    offline: bool,
    inner: Mutex<Inner>,
    /// The session's answers read from stores.
    answers: Arc<AnswerMemo>,
    /// A unique key for this run in `llm_decisions`.
    pub run_key: String,
}

/// The options of one `llm_decide` call, read per call (they are a handful of map lookups).
struct DecideOptions {
    instructions: String,
    every: Option<Interval>,
    model: Option<String>,
    indicators: Vec<(String, Series)>,
    timeframes: Vec<Interval>,
    lookback: usize,
    limits: RiskLimits,
    max_tokens: u32,
}

fn decide_options(m: &Map) -> RhaiResult<DecideOptions> {
    check_keys(m, "llm_decide", DECIDE_KEYS)?;
    let every = opt_str(m, "every")?
        .map(|s| Interval::parse(&s).map_err(|e| rt_err(format!("every: {e}"))))
        .transpose()?;
    let mut indicators = Vec::new();
    match m.get("indicators") {
        None => {}
        Some(v) if v.is_map() => {
            for (k, s) in v.read_lock::<Map>().iter().flat_map(|m| m.iter()) {
                let s = s.read_lock::<Series>().map(|s| s.clone()).ok_or_else(|| {
                    rt_err(format!(
                        "indicators.{k} must be a Series (e.g. rsi(bars.close, 14)), not {}",
                        s.type_name()
                    ))
                })?;
                indicators.push((k.to_string(), s));
            }
        }
        Some(v) => {
            return Err(rt_err(format!(
                "indicators must be a map of name → Series, e.g. #{{ rsi14: rsi(bars.close, 14) }}, not {}",
                v.type_name()
            )));
        }
    }
    let mut timeframes = Vec::new();
    match m.get("timeframes") {
        None => {}
        Some(v) if v.is_array() => {
            for x in v.read_lock::<Array>().iter().flat_map(|a| a.iter()) {
                let s = x.clone().into_string().map_err(|t| {
                    rt_err(format!(
                        "timeframes holds interval names like \"1h\", not {t}"
                    ))
                })?;
                timeframes.push(Interval::parse(&s).map_err(|e| rt_err(e.to_string()))?);
            }
        }
        Some(v) => {
            return Err(rt_err(format!(
                "timeframes must be an array such as [\"1h\", \"4h\"], not {}",
                v.type_name()
            )));
        }
    }
    let lookback = opt_i64(m, "lookback")?.unwrap_or(20);
    if !(1..=500).contains(&lookback) {
        return Err(rt_err("lookback must be between 1 and 500 bars"));
    }
    let min_confidence = opt_f64(m, "min_confidence")?.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&min_confidence) {
        return Err(rt_err("min_confidence must be between 0 and 1"));
    }
    let max_leverage = opt_f64(m, "max_leverage")?.unwrap_or(risk::LEVERAGE_CEILING);
    if !(1.0..=risk::LEVERAGE_CEILING).contains(&max_leverage) {
        return Err(rt_err("max_leverage must be between 1 and 10"));
    }
    let max_position_pct = opt_f64(m, "max_position_pct")?.unwrap_or(100.0);
    if !(max_position_pct > 0.0 && max_position_pct <= 100.0) {
        return Err(rt_err("max_position_pct must be above 0 and at most 100"));
    }
    let max_drawdown_pct = opt_f64(m, "max_drawdown_pct")?;
    if max_drawdown_pct.is_some_and(|d| !(d > 0.0 && d < 100.0)) {
        return Err(rt_err("max_drawdown_pct must be between 0 and 100"));
    }
    let max_tokens = opt_i64(m, "max_tokens")?.unwrap_or(400);
    if !(16..=8192).contains(&max_tokens) {
        return Err(rt_err("max_tokens must be between 16 and 8192"));
    }
    Ok(DecideOptions {
        instructions: opt_str(m, "instructions")?.unwrap_or_default(),
        every,
        model: opt_str(m, "model")?.filter(|s| !s.trim().is_empty()),
        indicators,
        timeframes,
        lookback: lookback as usize,
        limits: RiskLimits {
            max_leverage,
            max_position_pct,
            min_confidence,
            max_drawdown_pct,
        },
        max_tokens: max_tokens as u32,
    })
}

/// Which "every" period a bar falls in (each bar its own period without `every`).
fn bucket(every: Option<Interval>, t: i64) -> i64 {
    every.map_or(t, |iv| bucket_start(iv, t))
}

/// Decision bars from `i` to the end (the first bar of each `every` period).
fn decisions_left(bars: &Bars, i: usize, every: Option<Interval>, last: Option<i64>) -> u64 {
    let mut n = 0;
    let mut prev = last;
    for &t in &bars.time[i..] {
        let b = bucket(every, t);
        if prev != Some(b) {
            n += 1;
            prev = Some(b);
        }
    }
    n
}

fn decision_map(d: &Decision, extra: &DecisionRecord, decided: bool) -> Map {
    let mut m = Map::new();
    let opt = |x: Option<f64>| x.map_or(Dynamic::UNIT, Dynamic::from_float);
    m.insert("action".into(), d.action.name().into());
    m.insert("size_pct".into(), Dynamic::from_float(d.size_pct));
    m.insert("leverage".into(), Dynamic::from_float(d.leverage));
    m.insert("stop_loss_pct".into(), opt(d.stop_loss_pct));
    m.insert("take_profit_pct".into(), opt(d.take_profit_pct));
    m.insert("confidence".into(), Dynamic::from_float(d.confidence));
    m.insert("reasoning".into(), d.reasoning.clone().into());
    m.insert("risk".into(), extra.risk.clone().into());
    m.insert("error".into(), extra.error.clone().into());
    m.insert("source".into(), extra.source.name().into());
    m.insert("decided".into(), decided.into());
    m
}

fn skipped(every: Option<Interval>) -> Map {
    let d = Decision::hold(format!(
        "not a decision bar (every {})",
        every.map_or("bar".into(), |e| e.to_string())
    ));
    let mut m = decision_map(
        &d,
        &DecisionRecord {
            bar_time: 0,
            token: String::new(),
            prompt: String::new(),
            response: String::new(),
            decision: serde_json::Value::Null,
            proposed: serde_json::Value::Null,
            risk: String::new(),
            source: AnswerSource::Cache,
            error: String::new(),
            model: String::new(),
            input_tokens: 0,
            output_tokens: 0,
            latency_ms: 0.0,
        },
        false,
    );
    m.insert("source".into(), "skipped".into());
    m
}

impl AgentRun {
    pub fn new(rt: &Runtime, opts: AgentOptions) -> AgentRun {
        use std::sync::atomic::{AtomicU64, Ordering};
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        AgentRun {
            opts,
            llm: rt.llm_config(),
            db_path: rt.config.db_path(),
            offline: rt.config.offline,
            answers: rt.llm_answers.clone(),
            inner: Mutex::new(Inner {
                tokens: HashMap::new(),
                records: Vec::new(),
                network_calls: 0,
                budget_checked: false,
                store: None,
                file: None,
                client: None,
                memo: HashMap::new(),
                logged_until: None,
            }),
            run_key: format!(
                "run-{now}-{}-{}",
                std::process::id(),
                RUNS.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The decisions made so far (taken at the end of the run).
    pub fn take_records(&self) -> Vec<DecisionRecord> {
        std::mem::take(&mut self.lock().records)
    }

    /// Logs the decisions made since the last call (a simulation, after each commit). Records
    /// at or before the bar time given to [`AgentRun::skip_logged`] are dropped (a resumed run
    /// decides them again from the cache); a failed write keeps the records for the next call.
    pub fn log_pending(&self) {
        let mut recs = self.take_records();
        let until = self.lock().logged_until;
        if let Some(t) = until {
            recs.retain(|r| r.bar_time > t);
        }
        if recs.is_empty() {
            return;
        }
        if self.log(&recs, None).is_err() {
            let mut inner = self.lock();
            recs.append(&mut inner.records);
            inner.records = recs;
        }
    }

    /// Marks the decisions already logged under this run key as done (a resumed simulation).
    pub fn skip_logged(&self) -> crate::Result<()> {
        let last = LlmStore::open(&self.db_path)?
            .decisions(&self.run_key)?
            .iter()
            .map(|r| r.bar_time)
            .max();
        self.lock().logged_until = last;
        Ok(())
    }

    /// Requests sent to the model in this run (cached answers excluded).
    pub fn network_calls(&self) -> u64 {
        self.lock().network_calls
    }

    /// Logs the run's decisions under `backtest_id` (a store failure is returned, for a warning).
    pub fn log(&self, records: &[DecisionRecord], backtest_id: Option<i64>) -> crate::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut inner = self.lock();
        if inner.store.is_none() {
            inner.store = Some(LlmStore::open(&self.db_path)?);
        }
        inner
            .store
            .as_mut()
            .map_or(Ok(()), |s| s.log(&self.run_key, backtest_id, records))
    }

    /// One `llm_decide` call.
    pub fn decide(&self, rt: &Runtime, ctx: &BarCtx, opts: &Map) -> RhaiResult<Map> {
        let o = decide_options(opts)?;
        let (bars, i, asset, account) = {
            let st = ctx.0.lock().unwrap_or_else(|e| e.into_inner());
            let bars = st
                .bars
                .clone()
                .ok_or_else(|| rt_err("llm_decide(ctx, opts) works inside on_bar only"))?;
            (
                bars,
                st.i,
                st.asset,
                Account {
                    cash: st.cash,
                    equity: st.equity,
                    position: st.position,
                    avg_price: st.avg_price,
                },
            )
        };
        if let Some(e) = o.every
            && e.seconds() < bars.interval.seconds()
        {
            return Err(rt_err(format!(
                "every: \"{e}\" is shorter than the bars' {}; use every of at least one bar",
                bars.interval
            )));
        }
        for (k, s) in &o.indicators {
            if s.len() != bars.len() {
                return Err(rt_err(format!(
                    "indicators.{k} has {} values but the bars have {}; compute it from the same bars (for another timeframe use align(..) or timeframes: [..])",
                    s.len(),
                    bars.len()
                )));
            }
        }
        let mut inner = self.lock();
        let inner = &mut *inner;
        let tok = inner.tokens.entry(asset).or_default();
        let b = bucket(o.every, bars.time[i]);
        if tok.last_bucket == Some(b) {
            return Ok(skipped(o.every));
        }
        let last_before = tok.last_bucket;
        tok.last_bucket = Some(b);
        if tok.higher_of != bars.len() {
            tok.higher.clear();
            tok.higher_of = bars.len();
        }
        for iv in &o.timeframes {
            if !tok.higher.contains_key(iv) {
                let h = bars
                    .resample(*iv)
                    .map_err(|e| rt_err(format!("timeframes: {e}")))?;
                let idx = align_index(&h, &bars).map_err(|e| rt_err(e.to_string()))?;
                tok.higher.insert(*iv, (h, idx));
            }
        }
        let higher: Vec<Higher> = o
            .timeframes
            .iter()
            .map(|iv| {
                let (h, idx) = &tok.higher[iv];
                Higher {
                    bars: h,
                    last_closed: idx[i],
                }
            })
            .collect();
        let ind: Vec<(String, &[f64])> = o
            .indicators
            .iter()
            .map(|(k, s)| (k.clone(), s.values()))
            .collect();
        let user = prompt::user_prompt_memo(
            &PromptInput {
                bars: &bars,
                i,
                lookback: o.lookback,
                indicators: &ind,
                higher: &higher,
                account,
                instructions: &o.instructions,
            },
            &mut tok.memo,
        );
        drop(higher);
        let system = prompt::system_prompt();
        static SYSTEM_HASH: std::sync::LazyLock<u64> =
            std::sync::LazyLock::new(|| text_hash(prompt::system_prompt()));
        let key = prompt_key_of(*SYSTEM_HASH, &user);
        let model = o.model.clone().unwrap_or_else(|| self.llm.model.clone());

        // 1. The cache.
        let mut cached: Option<CachedAnswer> = None;
        if self.opts.mode != Mode::Live {
            if inner.file.is_none()
                && let Some(path) = &self.opts.cache_file
            {
                inner.file = Some(CacheFile::open(std::path::Path::new(path)).map_err(to_rt)?);
            }
            if let Some(f) = &inner.file {
                cached = f.get(&model, system, &user).cloned();
            }
            if cached.is_none() {
                if inner.store.is_none() {
                    inner.store = Some(LlmStore::open(&self.db_path).map_err(to_rt)?);
                }
                if !inner.memo.contains_key(&model)
                    && let Some(store) = &inner.store
                {
                    let answers = store_answers(&self.answers, &self.db_path, &model, store)
                        .map_err(to_rt)?;
                    inner.memo.insert(model.clone(), answers);
                }
                if let Some(m) = inner.memo.get(&model) {
                    cached = m
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&key)
                        .cloned();
                    // Not in memory: another process (or run) may have stored it since.
                    if cached.is_none()
                        && let Some(store) = &inner.store
                    {
                        cached = store.cached(&model, system, &user).map_err(to_rt)?;
                        if let Some(a) = &cached {
                            m.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(key, a.clone());
                        }
                    }
                }
            }
        }
        let (text, source, error, tokens_in, tokens_out, latency_ms) = match cached {
            Some(a) => (
                a.text,
                AnswerSource::Cache,
                String::new(),
                a.input_tokens,
                a.output_tokens,
                a.latency_ms,
            ),
            None => {
                // 2. The network, if allowed.
                let bar_label = format!("{} {}", bars.id, format_time(bars.time[i]));
                if self.opts.mode == Mode::Replay {
                    return Err(rt_err(format!(
                        "llm: \"replay\" found no cached answer for the bar {bar_label} (model {model}); run once with llm: \"cache\" to ask the model, or check that the bars, indicators and instructions match the cached run"
                    )));
                }
                if self.offline {
                    return Err(rt_err(format!(
                        "the model cannot be asked offline (STRATBOOK_OFFLINE=1): no cached answer for the bar {bar_label}; unset STRATBOOK_OFFLINE, or replay a cached run"
                    )));
                }
                if !self.llm.has_key() {
                    return Err(rt_err(format!(
                        "llm_decide needs a model and the bar {bar_label} has no cached answer: set STRATBOOK_LLM_API_KEY (or ANTHROPIC_API_KEY), and STRATBOOK_LLM_BASE_URL for an Anthropic-compatible server"
                    )));
                }
                let limit = self.opts.max_calls.unwrap_or(DEFAULT_MAX_CALLS);
                if !inner.budget_checked {
                    let left = inner.network_calls + decisions_left(&bars, i, o.every, last_before);
                    if left > limit {
                        return Err(rt_err(format!(
                            "this run would ask the model up to {left} times ({} decision bars of {} from {}{}), more than {limit} without asking; pass max_calls: {left} in the options to allow it (cached answers are free and do not count)",
                            left,
                            bars.id,
                            format_time(bars.time[i]),
                            o.every.map_or(String::new(), |e| format!(", every {e}"))
                        )));
                    }
                    inner.budget_checked = true;
                }
                if inner.network_calls >= limit {
                    return Err(rt_err(format!(
                        "max_calls {limit} reached at the bar {bar_label}; raise max_calls to let the run ask more"
                    )));
                }
                if inner.client.is_none() {
                    inner.client = Some(Client::shared(&self.llm).map_err(to_rt)?);
                }
                let client = inner
                    .client
                    .clone()
                    .ok_or_else(|| rt_err("no LLM client"))?;
                let mut req = Request::user(system.to_string(), user.clone(), o.max_tokens);
                req.model = Some(model.clone());
                req.temperature = Some(0.0);
                inner.network_calls += 1;
                match client.complete(&req, &rt.cancel) {
                    Ok(r) => {
                        let a = CachedAnswer {
                            text: r.text,
                            input_tokens: r.input_tokens,
                            output_tokens: r.output_tokens,
                            latency_ms: r.latency.as_secs_f64() * 1e3,
                        };
                        if let Some(m) = inner.memo.get(&model) {
                            m.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(key, a.clone());
                        }
                        if let Some(s) = inner.store.as_mut() {
                            s.put(&model, system, &user, &a).map_err(to_rt)?;
                        } else {
                            let mut s = LlmStore::open(&self.db_path).map_err(to_rt)?;
                            s.put(&model, system, &user, &a).map_err(to_rt)?;
                            inner.store = Some(s);
                        }
                        if let Some(f) = inner.file.as_mut() {
                            f.put(&model, system, &user, &a).map_err(to_rt)?;
                        } else if let Some(path) = &self.opts.cache_file {
                            let mut f =
                                CacheFile::open(std::path::Path::new(path)).map_err(to_rt)?;
                            f.put(&model, system, &user, &a).map_err(to_rt)?;
                            inner.file = Some(f);
                        }
                        (
                            a.text,
                            AnswerSource::Model,
                            String::new(),
                            a.input_tokens,
                            a.output_tokens,
                            a.latency_ms,
                        )
                    }
                    Err(DslError::Interrupted) => return Err(to_rt(DslError::Interrupted)),
                    Err(e) => (String::new(), AnswerSource::Error, e.to_string(), 0, 0, 0.0),
                }
            }
        };
        // 3. Parse, then the risk layer.
        let (proposed, error) = if source == AnswerSource::Error {
            (Decision::hold(format!("no answer: {error}")), error)
        } else {
            match parse_decision(&text) {
                Ok(d) => (d, String::new()),
                Err(why) => {
                    let e = format!("invalid answer: {why}");
                    (Decision::hold(e.clone()), e)
                }
            }
        };
        let tok = inner.tokens.entry(asset).or_default();
        tok.risk.observe(account.equity, &o.limits);
        let (decision, notes) = risk::review(&proposed, account.position, &o.limits, &tok.risk);
        let rec = DecisionRecord {
            bar_time: bars.time[i],
            token: bars.id.to_string(),
            prompt: user,
            response: text,
            decision: decision.to_json(),
            proposed: if error.is_empty() {
                proposed.to_json()
            } else {
                serde_json::Value::Null
            },
            risk: notes.join("; "),
            source,
            error,
            model,
            input_tokens: tokens_in,
            output_tokens: tokens_out,
            latency_ms,
        };
        let out = decision_map(&decision, &rec, true);
        inner.records.push(rec);
        Ok(out)
    }
}

fn to_rt(e: DslError) -> Box<rhai::EvalAltResult> {
    crate::script::api::to_rhai(e)
}

/// `ctx.act(decision)`: executes a decision map at the next bar's open. `buy` enters long (or
/// reverses a short) with `size_pct × leverage` percent of equity and the decision's stop-loss
/// and take-profit; a `buy` while already long does nothing (likewise `sell` while short);
/// `close` exits; `hold` does nothing.
pub fn act(ctx: &BarCtx, d: &Map) -> RhaiResult<()> {
    let action = d
        .get("action")
        .and_then(|v| v.clone().into_string().ok())
        .and_then(|s| Action::parse(&s))
        .ok_or_else(|| {
            rt_err("ctx.act takes the map llm_decide returns (action: hold | buy | sell | close)")
        })?;
    let num = |k: &str| {
        d.get(k)
            .and_then(|v| v.as_float().ok())
            .filter(|x| x.is_finite())
    };
    let mut st = ctx.0.lock().unwrap_or_else(|e| e.into_inner());
    let pos = st.position;
    match action {
        Action::Hold => Ok(()),
        Action::Close => st.exit_with(None),
        Action::Buy | Action::Sell => {
            let side = if action == Action::Buy {
                crate::order::Side::Buy
            } else {
                crate::order::Side::Sell
            };
            if (action == Action::Buy && pos > 0.0) || (action == Action::Sell && pos < 0.0) {
                return Ok(());
            }
            let size = num("size_pct").unwrap_or(100.0) * num("leverage").unwrap_or(1.0).max(1.0);
            if size <= 0.0 {
                return Ok(());
            }
            let mut m = Map::new();
            m.insert("size_pct".into(), Dynamic::from_float(size as FLOAT));
            for k in ["stop_loss_pct", "take_profit_pct"] {
                if let Some(x) = num(k).filter(|x| *x > 0.0) {
                    m.insert(k.into(), Dynamic::from_float(x));
                }
            }
            st.entry(side, Some(&m))
        }
    }
}

pub fn register(api: &mut crate::script::api::Api, rt: &Arc<Runtime>) {
    api.docs.add_intro("llm", "LLM agents");
    let r = rt.clone();
    api.func(
        "llm_decide",
        &["ctx: Ctx", "opts: map"],
        "map",
        move |ctx: BarCtx, opts: Map| -> RhaiResult<Map> {
            let agent = ctx
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .agent
                .clone()
                .ok_or_else(|| {
                    rt_err("llm_decide(ctx, opts) works inside on_bar of a backtest or simulation")
                })?;
            agent.decide(&r, &ctx, &opts)
        },
    );
    api.method(
        "Ctx",
        "act",
        &["decision: map"],
        "()",
        |c: &mut BarCtx, d: Map| act(c, &d),
    );
    api.method(
        "BacktestResult",
        "decisions",
        &[],
        "Frame",
        |r: &mut super::ResultValue| -> RhaiResult<crate::frame::Frame> {
            super::decisions::decisions_frame(r.decisions.as_deref().map_or(&[], |v| v.as_slice()))
                .map_err(crate::script::api::to_rhai)
        },
    );
}
