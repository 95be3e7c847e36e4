//! Simulations: the backtest [`Engine`] driven bar by bar by a clock that hands it closed bars
//! only, with every step's signals, fills, trades and equity committed to the store
//! ([`crate::store::sim`]) before anyone is shown them.
//!
//! [`run`] is the loop. A [`Feed`] yields steps (a timestamp and the tokens with a closed bar at
//! it); the replay feed ([`ReplayFeed`]) walks historical bars exactly as the backtest clock
//! does, at a pace ([`Pace`]): a fixed number of bars per second or as fast as the store allows.
//! Because the strategy and the engine are the same objects `backtest()` uses, a replay's fills,
//! trades and equity equal the backtest's (`dsl/tests/sim_parity.rs`).
//!
//! Durability: each commit holds whole steps, in one transaction with the progress counter.
//! Paced replays commit every step; a max-speed replay commits a batch of steps every
//! [`MAX_BATCH_MS`] (a crash loses at most that much unshown work and never half a step).
//! Resuming re-runs the committed steps silently (the engine is deterministic, so it lands in
//! the same state) and continues at the first uncommitted step.

use crate::backtest::broker::Account;
use crate::backtest::engine::{Engine, Present};
use crate::backtest::sink::{Action, Fill, Recorder, Signal, Sink, Trade};
use crate::backtest::{BacktestConfig, BacktestResult};
use crate::bars::Bars;
use crate::error::{DslError, Result};
use crate::order::ExitReason;
use crate::store::sim::{Batch, Held, Marks, SimStore};
use crate::strategy::{BarLogic, StrategyOptions};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

pub mod live;
pub mod ws;

/// A max-speed replay commits at least this often (milliseconds).
pub const MAX_BATCH_MS: u64 = 100;

/// How fast a replay feeds bars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// As fast as the engine and the store go.
    Max,
    /// Bars per second.
    PerSecond(f64),
    /// A live feed's clock sets the pace; every bar is committed as it closes.
    Clock,
}

/// What a feed has next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// A step at this time (the tokens with a bar closed at it are in `present`).
    Bar(i64),
    /// No bar has closed yet: ask again within this long.
    Wait(Duration),
    /// The end of the data (a replay's last bar, a live feed's `max_duration` or `until`).
    End,
}

/// What the owner of a simulation asks its loop to do (checked at every step).
#[derive(Debug, Default)]
pub struct Control {
    state: AtomicU8,
    reason: Mutex<Option<String>>,
}

/// A request to a running simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Run = 0,
    Pause = 1,
    /// Stop, closing positions at the last close.
    Stop = 2,
    /// Stop, keeping positions open (marked at the last close).
    StopKeep = 3,
    /// Close everything now and record why.
    Emergency = 4,
}

impl Control {
    pub fn set(&self, r: Request, reason: Option<String>) {
        if let Some(why) = reason
            && let Ok(mut g) = self.reason.lock()
        {
            *g = Some(why);
        }
        self.state.store(r as u8, Ordering::SeqCst);
    }
    pub fn get(&self) -> Request {
        match self.state.load(Ordering::Relaxed) {
            1 => Request::Pause,
            2 => Request::Stop,
            3 => Request::StopKeep,
            4 => Request::Emergency,
            _ => Request::Run,
        }
    }
    fn reason(&self) -> Option<String> {
        self.reason.lock().ok().and_then(|g| g.clone())
    }
    /// A request read from the database (`stratbook sim stop ID` from another process).
    pub fn apply_db(&self, what: &str) {
        match what {
            "stop" => self.set(Request::Stop, Some("stopped from the command line".into())),
            "stop_keep" => self.set(Request::StopKeep, None),
            "pause" => self.set(Request::Pause, None),
            "resume" => self.set(Request::Run, None),
            "emergency" => self.set(
                Request::Emergency,
                Some("emergency stop from the command line".into()),
            ),
            _ => {
                if let Some(why) = what.strip_prefix("emergency:") {
                    self.set(Request::Emergency, Some(format!("emergency stop: {why}")));
                }
            }
        }
    }
}

/// One step: its time and the tokens with a closed bar at it.
pub trait Feed {
    /// The next step, a wait for one, or the end of the data.
    fn next_step(&mut self, present: &mut Vec<Present>) -> Next;
    /// The bars tables, indexed by asset, holding every bar up to the current step.
    fn bars(&self) -> Vec<&Bars>;
    /// Feed events since the last call, (time, token, message): a live feed's gaps and
    /// recoveries, recorded in `sim_signals` with action `gap`.
    fn take_events(&mut self) -> Vec<(i64, String, String)> {
        Vec::new()
    }
    /// Prices seen since the last call between bar closes, per asset, and when (a live feed:
    /// AVE's batch prices, or the bar forming on a stream). Display only: the engine trades on
    /// closed bars.
    fn marks(&mut self) -> Option<(i64, Vec<Option<f64>>)> {
        None
    }
}

/// Historical bars, stepped as the backtest clock steps them (the union of the timestamps).
pub struct ReplayFeed<'a> {
    bars: Vec<&'a Bars>,
    cursor: Vec<usize>,
}

impl<'a> ReplayFeed<'a> {
    pub fn new(bars: Vec<&'a Bars>) -> Self {
        let cursor = vec![0; bars.len()];
        ReplayFeed { bars, cursor }
    }
}

impl Feed for ReplayFeed<'_> {
    fn next_step(&mut self, present: &mut Vec<Present>) -> Next {
        let Some(t) = self
            .bars
            .iter()
            .zip(&self.cursor)
            .filter_map(|(b, &c)| b.time.get(c).copied())
            .min()
        else {
            return Next::End;
        };
        present.clear();
        for (a, b) in self.bars.iter().enumerate() {
            if b.time.get(self.cursor[a]) == Some(&t) {
                present.push(Present {
                    asset: a,
                    bar: self.cursor[a],
                });
                self.cursor[a] += 1;
            }
        }
        Next::Bar(t)
    }
    fn bars(&self) -> Vec<&Bars> {
        self.bars.clone()
    }
}

/// Events of the current batch (durable once committed) plus everything for the final result.
struct SimSink {
    batch: Batch,
    rec: Recorder,
    step: i64,
    durable: bool,
}

impl Sink for SimSink {
    fn on_fill(&mut self, f: &Fill) {
        if self.durable {
            self.batch.fills.push((self.step, f.clone()));
        }
        self.rec.on_fill(f);
    }
    fn on_trade(&mut self, t: &Trade) {
        if self.durable {
            self.batch.trades.push((self.step, t.clone()));
        }
        self.rec.on_trade(t);
    }
    fn on_signal(&mut self, s: &Signal) {
        if self.durable {
            // A `hold` is a rejected order: nothing was executed.
            let executed = s.action != Action::Hold;
            self.batch.signals.push((self.step, s.clone(), executed));
        }
        self.rec.on_signal(s);
    }
    fn on_equity(&mut self, time: i64, equity: f64, exposed: bool) {
        if self.durable {
            self.batch.time.push(time);
            self.batch.equity.push(equity);
        }
        self.rec.on_equity(time, equity, exposed);
    }
}

/// The reason of a stop that kept the positions open (`stop(#{ close: false })`).
pub const KEPT: &str = "stopped, positions kept";

/// How a simulation ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The data ran out (a replay's end).
    Finished,
    /// Stopped on request (`reason` says how).
    Stopped(String),
}

impl Outcome {
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Stopped(_) => "stopped",
        }
    }
}

/// Everything a simulation needs besides its feed.
pub struct Setup<'s> {
    pub id: i64,
    pub tokens: Vec<String>,
    pub opts: &'s [StrategyOptions],
    pub cfg: &'s BacktestConfig,
    pub pace: Pace,
    /// Steps already committed (a resume): re-run silently, then continue.
    pub skip: i64,
    /// The resumed run was stopped with its positions closed at its last bar, for this reason:
    /// the re-run closes them there too (silently: the rows are committed), so the account it
    /// continues with is the one the store holds.
    pub closed: Option<String>,
    /// Bars each token's table holds before the first step (a live feed's warm-up history).
    pub first_bar: Vec<usize>,
}

/// Runs a simulation to its end or a stop; commits as it goes; returns the outcome and the full
/// result (the same structure `backtest()` returns). `shown` is called after each commit with
/// the committed batch (a display, a terminal view).
pub fn run(
    feed: &mut dyn Feed,
    logics: &mut [&mut dyn BarLogic],
    s: &Setup,
    store: &mut SimStore,
    control: &Control,
    shown: &mut dyn FnMut(&Batch),
) -> Result<(Outcome, BacktestResult)> {
    s.cfg.validate()?;
    let n_assets = feed.bars().len();
    let mut engine = Engine::new(s.cfg, n_assets);
    let mut sink = SimSink {
        batch: Batch {
            first_step: s.skip,
            ..Default::default()
        },
        rec: Recorder::default(),
        step: 0,
        durable: false,
    };
    let mut present = Vec::with_capacity(n_assets);
    let mut last_bar: Vec<Option<usize>> = (0..n_assets)
        .map(|a| s.first_bar.get(a).copied().unwrap_or(0).checked_sub(1))
        .collect();
    let mut last_commit = Instant::now();
    let mut last_poll = Instant::now();
    // When the paced clock started, moved on by the time spent paused.
    let mut started = Instant::now();
    let mut fed: u64 = 0;
    // The latest price of each token seen since the last bar (live feeds, for the display).
    let mut marked: Vec<Option<f64>> = vec![None; n_assets];
    // When the last stepped bar closed: a price from before then is older than its close.
    let mut last_close = i64::MIN;
    let outcome = loop {
        if sink.step >= s.skip {
            if !sink.durable
                && s.skip > 0
                && let Some(why) = &s.closed
            {
                close_all(&mut engine.account, &last_bar, &mut sink, why);
            }
            sink.durable = true;
            // Requests: from this process at every step, from the database a few times a second.
            if last_poll.elapsed() >= Duration::from_millis(250) {
                last_poll = Instant::now();
                if let Some(what) = store.take_request(s.id)? {
                    control.apply_db(&what);
                }
            }
            match control.get() {
                Request::Run => {}
                Request::Pause => {
                    let paused = Instant::now();
                    flush(store, s, &mut sink, &engine.account, shown)?;
                    store.set_status(s.id, "paused", None)?;
                    let mut beat = Instant::now();
                    while control.get() == Request::Pause {
                        std::thread::sleep(Duration::from_millis(20));
                        if beat.elapsed() >= Duration::from_secs(1) {
                            beat = Instant::now();
                            store.heartbeat(s.id)?;
                            if let Some(what) = store.take_request(s.id)? {
                                control.apply_db(&what);
                            }
                        }
                    }
                    // A paced replay carries on at its pace, not in a burst for the pause.
                    started += paused.elapsed();
                    store.set_status(s.id, "running", None)?;
                    continue;
                }
                r @ (Request::Stop | Request::StopKeep | Request::Emergency) => {
                    let why = control.reason().unwrap_or_else(|| match r {
                        Request::StopKeep => KEPT.into(),
                        Request::Emergency => "emergency stop".into(),
                        _ => "stopped".into(),
                    });
                    if r != Request::StopKeep {
                        close_all(&mut engine.account, &last_bar, &mut sink, &why);
                    }
                    break Outcome::Stopped(why);
                }
            }
            if let Pace::PerSecond(rate) = s.pace {
                // Sleep until the bar is due, a second at most at a time: the heartbeat and
                // the requests keep flowing at slow paces.
                let due = started + Duration::from_secs_f64(fed as f64 / rate.max(1e-6));
                let now = Instant::now();
                if due > now {
                    let nap = (due - now).min(Duration::from_secs(1));
                    std::thread::sleep(nap);
                    if Instant::now() < due {
                        store.heartbeat(s.id)?;
                        if let Some(what) = store.take_request(s.id)? {
                            control.apply_db(&what);
                        }
                        continue;
                    }
                }
            }
        }
        let next = feed.next_step(&mut present);
        let events = feed.take_events();
        if !events.is_empty() {
            for (time, token, message) in events {
                sink.batch.events.push((sink.step, time, token, message));
            }
            flush(store, s, &mut sink, &engine.account, shown)?;
        }
        let t = match next {
            Next::Bar(t) => t,
            Next::End => break Outcome::Finished,
            Next::Wait(d) => {
                // Between bars: the latest prices for the display, the heartbeat and the
                // requests.
                if sink.durable
                    && let Some((time, prices)) = feed.marks()
                    && time >= last_close
                {
                    for (m, p) in marked.iter_mut().zip(prices) {
                        if let Some(p) = p.filter(|x| x.is_finite()) {
                            *m = Some(p);
                        }
                    }
                    let prices = s
                        .tokens
                        .iter()
                        .zip(&marked)
                        .filter_map(|(t, p)| Some((t.clone(), (*p)?)))
                        .collect();
                    store.set_marks(s.id, &Marks { time, prices })?;
                }
                std::thread::sleep(d.min(Duration::from_millis(100)));
                if last_poll.elapsed() >= Duration::from_millis(250) {
                    last_poll = Instant::now();
                    store.heartbeat(s.id)?;
                    if let Some(what) = store.take_request(s.id)? {
                        control.apply_db(&what);
                    }
                }
                continue;
            }
        };
        for p in &present {
            last_bar[p.asset] = Some(p.bar);
        }
        // A bar's close is newer than any price seen before it.
        marked.iter_mut().for_each(|m| *m = None);
        let bars = feed.bars();
        if let Some(b) = bars.first() {
            last_close = t + b.interval.seconds();
        }
        if let Err(e) = engine.step(t, &present, &bars, logics, s.opts, &mut sink) {
            // The bars before this one are whole: committed, without what this one began.
            if sink.durable {
                let b = &mut sink.batch;
                let whole = (sink.step - b.first_step).max(0) as usize;
                b.time.truncate(whole);
                b.equity.truncate(whole);
                let step = sink.step;
                b.signals.retain(|x| x.0 < step);
                b.fills.retain(|x| x.0 < step);
                b.trades.retain(|x| x.0 < step);
                flush(store, s, &mut sink, &engine.account, shown)?;
            }
            return Err(match e {
                DslError::Interrupted => e,
                e => DslError::invalid(format!(
                    "{e} (at the bar of {}; the {} bars before it are saved)",
                    crate::time::format_time(t),
                    sink.step
                )),
            });
        }
        sink.step += 1;
        if sink.durable {
            fed += 1;
            let due = match s.pace {
                Pace::PerSecond(_) | Pace::Clock => true,
                Pace::Max => last_commit.elapsed() >= Duration::from_millis(MAX_BATCH_MS),
            };
            if due {
                flush(store, s, &mut sink, &engine.account, shown)?;
                last_commit = Instant::now();
            }
        }
    };
    flush(store, s, &mut sink, &engine.account, shown)?;
    let bars = feed.bars();
    let result = BacktestResult::build(sink.rec, &engine, &bars, s.opts, s.cfg);
    Ok((outcome, result))
}

fn flush(
    store: &mut SimStore,
    s: &Setup,
    sink: &mut SimSink,
    account: &Account,
    shown: &mut dyn FnMut(&Batch),
) -> Result<()> {
    if sink.batch.is_empty()
        && sink.batch.signals.is_empty()
        && sink.batch.fills.is_empty()
        && sink.batch.events.is_empty()
    {
        return store.heartbeat(s.id);
    }
    // The positions change with a bar or a fill (a stop closes them between bars).
    if sink.durable && (!sink.batch.is_empty() || !sink.batch.fills.is_empty()) {
        sink.batch.positions = serde_json::to_string(&held(account, &s.tokens)).ok();
    }
    store.commit(s.id, &s.tokens, &sink.batch)?;
    shown(&sink.batch);
    sink.batch.clear(sink.step);
    Ok(())
}

/// The open positions, as the card and `sim show` display them.
fn held(account: &Account, tokens: &[String]) -> Vec<Held> {
    account
        .positions
        .iter()
        .enumerate()
        .filter_map(|(asset, p)| {
            let side = p.side()?;
            let long = side == crate::order::Side::Buy;
            let stop = p.protect.stop_in_force(side).map(|(x, _)| x);
            Some(Held {
                token: tokens.get(asset).cloned().unwrap_or_default(),
                side: if long { "long" } else { "short" }.into(),
                qty: p.qty.abs(),
                entry: p.avg_price,
                since: p.entry_time,
                price: p.mark,
                stop: stop.filter(|x| x.is_finite()),
                take: p.protect.take_profit.filter(|x| x.is_finite()),
            })
        })
        .collect()
}

/// Closes every open position at its last close (a stop or an emergency stop), recording a
/// signal with the reason for each. The rows join the current step's batch: a stop after step
/// `k` belongs to step `k`.
fn close_all(account: &mut Account, last_bar: &[Option<usize>], sink: &mut SimSink, why: &str) {
    sink.step -= 1;
    let time = sink.rec.time.last().copied().unwrap_or(0);
    for (asset, bar) in last_bar.iter().enumerate() {
        let p = &account.positions[asset];
        let Some(side) = p.side() else { continue };
        let (qty, price) = (p.qty.abs(), p.mark);
        sink.on_signal(&Signal {
            asset,
            time,
            action: match side.opposite() {
                crate::order::Side::Buy => Action::Buy,
                crate::order::Side::Sell => Action::Sell,
            },
            reason: why.to_string(),
            price,
        });
        let bar = bar.unwrap_or(0);
        if let Some((fill, trade)) =
            account.close(asset, qty, price, time, bar, ExitReason::Stopped)
        {
            sink.on_fill(&fill);
            sink.on_trade(&trade);
        }
    }
    sink.step += 1;
}
