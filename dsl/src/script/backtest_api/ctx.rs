//! The `ctx` of a per-bar strategy: a cheap handle (one `Arc`) to the current bar's state, reused
//! for every call; its methods read bars `0..=i` only and queue orders. [`ScriptLogic`] runs a
//! script `on_bar` in one evaluation state kept for the whole run (warm function caches).

use super::on_bar_compiler::Program;
use super::options::{OrderSpec, order_from};
use crate::bars::Bars;
use crate::error::{DslError, Result};
use crate::order::{Exits, Order, OrderKind, Side, Size};
use crate::script::api::{Api, RhaiResult, rt_err};
use crate::series::Series;
use crate::strategy::context::Field;
use crate::strategy::{BarLogic, Ctx};
use rhai::{
    Caches, Dynamic, EvalAltResult, EvalContext, FLOAT, FnArgsVec, FnPtr, GlobalRuntimeState, INT,
    Map, NativeCallContext, Scope,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What `ctx` reads and writes during one `on_bar` call.
#[derive(Default)]
pub struct CtxState {
    pub bars: Option<Bars>,
    pub asset: usize,
    pub i: usize,
    pub position: f64,
    pub avg_price: f64,
    pub cash: f64,
    pub equity: f64,
    pub default_size: Option<Size>,
    pub default_exits: Exits,
    pub orders: Vec<Order>,
    pub cancel: bool,
    atr: HashMap<(usize, usize), Arc<Vec<f64>>>,
    /// The run's LLM agent, for `llm_decide(ctx, opts)` (set by the loop that runs `on_bar`).
    pub agent: Option<Arc<super::agent::AgentRun>>,
}

/// `ctx` in scripts.
#[derive(Clone, Default)]
pub struct BarCtx(pub Arc<Mutex<CtxState>>);

impl BarCtx {
    fn lock(&self) -> MutexGuard<'_, CtxState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl CtxState {
    fn bars(&self) -> RhaiResult<&Bars> {
        self.bars
            .as_ref()
            .ok_or_else(|| rt_err("ctx is only valid inside on_bar"))
    }

    pub(super) fn price(&self, f: Field, n: INT) -> RhaiResult<FLOAT> {
        if n < 0 {
            return Err(rt_err(format!(
                "ctx reads the current bar (0) or n bars ago; {n} would be a future bar"
            )));
        }
        let b = self.bars()?;
        let Some(j) = self.i.checked_sub(n as usize) else {
            return Ok(f64::NAN);
        };
        Ok(match f {
            Field::Open => b.open.values()[j],
            Field::High => b.high.values()[j],
            Field::Low => b.low.values()[j],
            Field::Close => b.close.values()[j],
            Field::Volume => b.volume.values()[j],
            Field::Time => b.time[j] as f64,
        })
    }

    pub(super) fn value(&self, s: &Series, n: INT) -> RhaiResult<FLOAT> {
        if n < 0 {
            return Err(rt_err(format!(
                "ctx.value(series, n) reads n bars ago; {n} would be a future bar"
            )));
        }
        let len = self.bars()?.len();
        if s.len() != len {
            return Err(rt_err(format!(
                "the series has {} values but the bars have {len}; compute it from the same bars",
                s.len()
            )));
        }
        Ok(self
            .i
            .checked_sub(n as usize)
            .map_or(f64::NAN, |j| s.values()[j]))
    }

    fn atr(&mut self, period: usize) -> RhaiResult<f64> {
        let key = (self.asset, period);
        if !self.atr.contains_key(&key) {
            let b = self.bars()?;
            let a =
                crate::indicators::atr(b.high.values(), b.low.values(), b.close.values(), period)
                    .map_err(|e| rt_err(e.to_string()))?;
            self.atr.insert(key, Arc::new(a));
        }
        Ok(self.atr[&key].get(self.i).copied().unwrap_or(f64::NAN))
    }

    /// Queues an order from a spec, resolving volatility sizing against ATR at this bar.
    fn push(&mut self, spec: OrderSpec, reason: &'static str) -> RhaiResult<()> {
        let size = if let Some((risk_pct, mult, period)) = spec.vol {
            let distance = match spec.stop_distance {
                Some(d) => d,
                None => mult * self.atr(period)?,
            };
            if !(distance.is_finite() && distance > 0.0) {
                return Ok(()); // ATR still warming up: no order
            }
            Size::Risk { risk_pct, distance }
        } else if spec.reduce_only {
            spec.size.unwrap_or(Size::OfPosition(1.0))
        } else {
            spec.size.or(self.default_size).unwrap_or(Size::Pct(100.0))
        };
        let exits = if spec.reduce_only {
            Exits::default()
        } else {
            spec.exits.or(&self.default_exits)
        };
        self.orders.push(Order {
            asset: self.asset,
            side: spec.side,
            kind: spec.kind,
            size,
            reduce_only: spec.reduce_only,
            exits,
            reason,
        });
        Ok(())
    }

    fn exit(&mut self, fraction: f64, reason: &'static str) {
        let side = if self.position > 0.0 {
            Side::Sell
        } else if self.position < 0.0 {
            Side::Buy
        } else {
            return;
        };
        self.orders.push(Order {
            asset: self.asset,
            side,
            kind: OrderKind::Market,
            size: Size::OfPosition(fraction.clamp(0.0, 1.0)),
            reduce_only: true,
            exits: Exits::default(),
            reason,
        });
    }

    /// `ctx.buy()` / `ctx.sell()`, with or without an options map.
    pub(super) fn entry(&mut self, side: Side, m: Option<&Map>) -> RhaiResult<()> {
        let Some(m) = m else {
            return self.push(order_from(&Map::new(), Some(side))?, "entry");
        };
        if m.contains_key("side") || m.contains_key("type") {
            let name = if side == Side::Buy { "buy" } else { "sell" };
            return Err(rt_err(format!(
                "ctx.{name} takes size and exit options; use ctx.order(#{{ type, side, price }}) for limit and stop orders"
            )));
        }
        self.push(order_from(m, Some(side))?, "entry")
    }

    /// `ctx.exit()` / `ctx.exit(#{ pct })`.
    pub(super) fn exit_with(&mut self, m: Option<&Map>) -> RhaiResult<()> {
        let pct = match m {
            None => 100.0,
            Some(m) => {
                crate::script::api::check_keys(m, "exit", &["pct"])?;
                crate::script::api::opt_f64(m, "pct")?.unwrap_or(100.0)
            }
        };
        self.exit(pct / 100.0, "exit");
        Ok(())
    }

    /// `ctx.order(#{ type, side, price, .. })`.
    pub(super) fn order(&mut self, m: &Map) -> RhaiResult<()> {
        let spec = order_from(m, None)?;
        let reason = match spec.kind {
            OrderKind::Market => "order",
            OrderKind::Limit(_) => "limit",
            OrderKind::Stop(_) => "stop",
            OrderKind::StopLimit { .. } => "stop_limit",
        };
        self.push(spec, reason)
    }

    /// `ctx.cancel()`: this token's resting orders, and the ones queued on this bar.
    pub(super) fn cancel(&mut self) {
        self.cancel = true;
        self.orders.retain(|o| matches!(o.kind, OrderKind::Market));
    }
}

/// Runs a script `on_bar(ctx)` for the engine.
///
/// Every bar's call goes through one [`EvalContext`] state kept for the whole run (a copy of the
/// calling cell's global state plus function-resolution caches), so the functions and getters
/// `on_bar` uses are resolved once, on the first bar, instead of on every bar as
/// `FnPtr::call_raw` does (it starts from empty caches on each call).
pub struct ScriptLogic<'a> {
    engine: &'a rhai::Engine,
    pub f: FnPtr,
    pub ctx: BarCtx,
    arg: Dynamic,
    global: GlobalRuntimeState,
    caches: Caches,
    scope: Scope<'static>,
    /// The curried values (a closure's captures) followed by `ctx`, refilled per call.
    args: Vec<Dynamic>,
    /// The script's own error (kept whole so the cell error points at the script line).
    pub error: Option<Box<EvalAltResult>>,
    /// `on_bar` lowered out of the interpreter, when its body allows ([`super::on_bar_compiler`]).
    compiled: Option<Program>,
    /// Bars the lowered body handed back to the interpreter, of `attempts`.
    pub fallbacks: usize,
    attempts: usize,
}

impl<'a> ScriptLogic<'a> {
    /// `interpret` keeps every bar in the Rhai interpreter (the strategy's `interpret: true`).
    pub fn new(nctx: &'a NativeCallContext<'_>, f: FnPtr, interpret: bool) -> Self {
        Self::with_engine(nctx.engine(), nctx.global_runtime_state(), f, interpret)
    }

    /// The same on another thread: `engine` is that thread's, `global` the calling cell's state
    /// (its functions).
    pub fn with_engine(
        engine: &'a rhai::Engine,
        global: &GlobalRuntimeState,
        f: FnPtr,
        interpret: bool,
    ) -> Self {
        let ctx = BarCtx::default();
        let compiled = if interpret {
            None
        } else {
            Program::lower(&global.lib, &f)
        };
        ScriptLogic {
            compiled,
            fallbacks: 0,
            attempts: 0,
            engine,
            f,
            arg: Dynamic::from(ctx.clone()),
            ctx,
            global: global.clone(),
            caches: Caches::new(),
            scope: Scope::new(),
            args: Vec::new(),
            error: None,
        }
    }

    /// Whether `on_bar` runs lowered (see [`super::on_bar_compiler`]) rather than in the
    /// interpreter.
    pub fn compiled(&self) -> bool {
        self.compiled.is_some()
    }

    fn call(&mut self) -> Result<(), Box<EvalAltResult>> {
        self.args.clear();
        self.args.extend(self.f.curry().iter().cloned());
        self.args.push(self.arg.clone());
        let mut refs: FnArgsVec<&mut Dynamic> = self.args.iter_mut().collect();
        let engine = self.engine;
        EvalContext::new(
            engine,
            &mut self.global,
            &mut self.caches,
            &mut self.scope,
            None,
        )
        .call_fn_raw(self.f.fn_name(), false, false, &mut refs)
        .map(|_| ())
    }
}

impl BarLogic for ScriptLogic<'_> {
    fn on_bar(&mut self, c: &mut Ctx<'_>) -> Result<()> {
        {
            let mut st = self.ctx.lock();
            // A live feed's bars grow: a new length is a new table (in a backtest or a replay
            // the length never changes, so this clones once per token).
            if st.asset != c.asset || st.bars.as_ref().is_none_or(|b| b.len() != c.bars.len()) {
                st.bars = Some(c.bars.clone());
                st.asset = c.asset;
            }
            st.i = c.i;
            st.position = c.position;
            st.avg_price = c.avg_price;
            st.cash = c.cash;
            st.equity = c.equity;
            st.default_size = Some(c.default_size);
            st.default_exits = c.default_exits;
            st.cancel = false;
            if let Some(p) = &mut self.compiled {
                self.attempts += 1;
                if p.run(&mut st).is_ok() {
                    c.cancel_resting |= st.cancel;
                    c.orders.append(&mut st.orders);
                    return Ok(());
                }
                // Rhai decides this bar: nothing the lowered body did is kept.
                self.fallbacks += 1;
                st.orders.clear();
                st.cancel = false;
                // A body that keeps handing bars back would pay for both paths: interpret the rest.
                if self.fallbacks >= 64 && self.fallbacks * 2 >= self.attempts {
                    self.compiled = None;
                }
            }
        }
        // Captured series and bars end at this bar while Rhai runs the body.
        let horizon = crate::script::horizon::enter(c.bars.len(), c.i);
        let called = self.call();
        drop(horizon);
        if let Err(e) = called {
            self.error = Some(e);
            return Err(DslError::invalid("on_bar failed"));
        }
        let mut st = self.ctx.lock();
        c.cancel_resting |= st.cancel;
        c.orders.append(&mut st.orders);
        Ok(())
    }
}

/// Registers the `Ctx` type, its properties and order methods.
pub fn register(api: &mut Api) {
    api.engine.register_type_with_name::<BarCtx>("Ctx");
    macro_rules! field {
        ($name:literal, $f:expr) => {
            api.method(
                "Ctx",
                $name,
                &[],
                "float",
                |c: &mut BarCtx| -> RhaiResult<FLOAT> { c.lock().price($f, 0) },
            );
            api.method(
                "Ctx",
                $name,
                &["n: int"],
                "float",
                |c: &mut BarCtx, n: INT| -> RhaiResult<FLOAT> { c.lock().price($f, n) },
            );
        };
    }
    field!("open", Field::Open);
    field!("high", Field::High);
    field!("low", Field::Low);
    field!("close", Field::Close);
    field!("volume", Field::Volume);
    field!("time", Field::Time);
    api.method(
        "Ctx",
        "value",
        &["series: Series"],
        "float",
        |c: &mut BarCtx, s: Series| c.lock().value(&s, 0),
    );
    api.method(
        "Ctx",
        "value",
        &["series: Series", "n: int"],
        "float",
        |c: &mut BarCtx, s: Series, n: INT| c.lock().value(&s, n),
    );
    api.getter("Ctx", "position", "float", |c: &mut BarCtx| {
        c.lock().position
    });
    api.getter("Ctx", "avg_price", "float", |c: &mut BarCtx| {
        c.lock().avg_price
    });
    api.getter("Ctx", "cash", "float", |c: &mut BarCtx| c.lock().cash);
    api.getter("Ctx", "equity", "float", |c: &mut BarCtx| c.lock().equity);
    api.getter("Ctx", "bar_index", "int", |c: &mut BarCtx| {
        c.lock().i as INT
    });
    api.getter("Ctx", "id", "string", |c: &mut BarCtx| {
        c.lock()
            .bars
            .as_ref()
            .map_or(String::new(), |b| b.id.to_string())
    });
    for (name, side) in [("buy", Side::Buy), ("sell", Side::Sell)] {
        api.method("Ctx", name, &[], "()", move |c: &mut BarCtx| {
            c.lock().entry(side, None)
        });
        api.method(
            "Ctx",
            name,
            &["opts: map"],
            "()",
            move |c: &mut BarCtx, m: Map| c.lock().entry(side, Some(&m)),
        );
    }
    api.method("Ctx", "exit", &[], "()", |c: &mut BarCtx| {
        c.lock().exit_with(None)
    });
    api.method(
        "Ctx",
        "exit",
        &["opts: map"],
        "()",
        |c: &mut BarCtx, m: Map| c.lock().exit_with(Some(&m)),
    );
    api.method(
        "Ctx",
        "order",
        &["opts: map"],
        "()",
        |c: &mut BarCtx, m: Map| c.lock().order(&m),
    );
    api.method("Ctx", "cancel", &[], "()", |c: &mut BarCtx| {
        c.lock().cancel()
    });
}
