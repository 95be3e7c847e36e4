//! Reading script option maps into the engine's types: strategy maps, backtest options and order
//! maps. Unknown keys are refused with the closest known one.

use crate::backtest::BacktestConfig;
use crate::order::{Exits, OrderKind, Side, Size};
use crate::script::api::{RhaiResult, check_keys, opt_f64, opt_i64, opt_str, rt_err};
use crate::series::Series;
use crate::strategy::{Signals, StrategyOptions};
use rhai::{Dynamic, FnPtr, Map};

pub const STRATEGY_KEYS: &[&str] = &[
    "name",
    "entry",
    "exit",
    "short_entry",
    "short_exit",
    "on_bar",
    "interpret",
    "size_pct",
    "qty",
    "cash",
    "risk_pct",
    "atr_mult",
    "atr_period",
    "stop_loss_pct",
    "take_profit_pct",
    "trailing_stop_pct",
];

pub const BACKTEST_KEYS: &[&str] = &[
    "cash",
    "fee_pct",
    "fee_fixed",
    "slippage_pct",
    "leverage",
    "lot_size",
    "max_position_pct",
    "max_drawdown_pct",
    "risk_free_pct",
    "from",
    "to",
    "name",
    "save",
    "llm",
    "max_calls",
    "llm_cache",
];

pub const ORDER_KEYS: &[&str] = &[
    "type",
    "side",
    "price",
    "limit_price",
    "size_pct",
    "qty",
    "cash",
    "risk_pct",
    "atr_mult",
    "atr_period",
    "stop_distance",
    "stop_loss_pct",
    "take_profit_pct",
    "trailing_stop_pct",
    "stop_loss",
    "take_profit",
    "reduce_only",
    "pct",
];

/// A strategy value in scripts: options plus either signals or an `on_bar` function.
#[derive(Clone, Debug)]
pub struct StrategyValue {
    pub opts: StrategyOptions,
    pub signals: Option<Signals>,
    pub on_bar: Option<FnPtr>,
    /// `interpret: true`: run `on_bar` in the Rhai interpreter on every bar, never lowered.
    pub interpret: bool,
    /// Volatility sizing for signals: (risk_pct, atr_mult, atr_period).
    pub vol: Option<(f64, f64, usize)>,
    /// An AVE bot config (`strategy_from_config`), run bar by bar in Rust.
    pub bot: Option<std::sync::Arc<crate::strategy::ave_config::BotConfig>>,
}

fn series_opt(m: &Map, key: &str) -> RhaiResult<Option<Series>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => v
            .read_lock::<Series>()
            .map(|s| Some(s.clone().into_bool()))
            .ok_or_else(|| {
                rt_err(format!(
                    "'{key}' must be a bool Series such as crossover(fast, slow), not {}",
                    v.type_name()
                ))
            }),
    }
}

fn positive(key: &str, v: Option<f64>) -> RhaiResult<Option<f64>> {
    match v {
        Some(x) if !(x.is_finite() && x > 0.0) => {
            Err(rt_err(format!("{key} must be a positive number, not {x}")))
        }
        other => Ok(other),
    }
}

/// Size options shared by strategies and orders; `None` when none is given.
pub fn size_from(m: &Map) -> RhaiResult<Option<Size>> {
    if let Some(p) = positive("size_pct", opt_f64(m, "size_pct")?)? {
        return Ok(Some(Size::Pct(p)));
    }
    if let Some(q) = positive("qty", opt_f64(m, "qty")?)? {
        return Ok(Some(Size::Qty(q)));
    }
    if let Some(c) = positive("cash", opt_f64(m, "cash")?)? {
        return Ok(Some(Size::Cash(c)));
    }
    Ok(None)
}

/// Protective exits of a map.
pub fn exits_from(m: &Map) -> RhaiResult<Exits> {
    Ok(Exits {
        stop_loss_pct: positive("stop_loss_pct", opt_f64(m, "stop_loss_pct")?)?,
        take_profit_pct: positive("take_profit_pct", opt_f64(m, "take_profit_pct")?)?,
        trailing_stop_pct: positive("trailing_stop_pct", opt_f64(m, "trailing_stop_pct")?)?,
        stop_loss: positive("stop_loss", opt_f64(m, "stop_loss")?)?,
        take_profit: positive("take_profit", opt_f64(m, "take_profit")?)?,
    })
}

/// `(risk_pct, atr_mult, atr_period)` when `risk_pct` is set.
pub fn vol_from(m: &Map) -> RhaiResult<Option<(f64, f64, usize)>> {
    let Some(r) = positive("risk_pct", opt_f64(m, "risk_pct")?)? else {
        return Ok(None);
    };
    let mult = positive("atr_mult", opt_f64(m, "atr_mult")?)?.unwrap_or(2.0);
    let period = opt_i64(m, "atr_period")?.unwrap_or(14);
    if period < 1 {
        return Err(rt_err("atr_period must be at least 1"));
    }
    Ok(Some((r, mult, period as usize)))
}

/// Parses `strategy(#{ ... })`.
pub fn strategy_from(m: &Map) -> RhaiResult<StrategyValue> {
    check_keys(m, "strategy", STRATEGY_KEYS)?;
    let on_bar = match m.get("on_bar") {
        None => None,
        Some(v) if v.is_unit() => None,
        Some(v) => Some(fn_ptr(v, "on_bar")?),
    };
    let signals = Signals {
        entry: series_opt(m, "entry")?,
        exit: series_opt(m, "exit")?,
        short_entry: series_opt(m, "short_entry")?,
        short_exit: series_opt(m, "short_exit")?,
        risk: None,
    };
    let has_signals = signals != Signals::default();
    if on_bar.is_some() && has_signals {
        return Err(rt_err(
            "give a strategy either entry/exit signals or on_bar, not both",
        ));
    }
    if on_bar.is_none() && signals.entry.is_none() && signals.short_entry.is_none() {
        return Err(rt_err(
            "strategy needs entry (bool Series) or on_bar: strategy(#{ entry: crossover(fast, slow), exit: crossunder(fast, slow) })",
        ));
    }
    let vol = vol_from(m)?;
    Ok(StrategyValue {
        opts: StrategyOptions {
            name: opt_str(m, "name")?.unwrap_or_else(|| "strategy".into()),
            size: size_from(m)?.unwrap_or(Size::Pct(100.0)),
            exits: exits_from(m)?,
        },
        signals: has_signals.then_some(signals),
        on_bar,
        interpret: match m.get("interpret") {
            None => false,
            Some(v) => v
                .as_bool()
                .map_err(|t| rt_err(format!("interpret must be true or false, not {t}")))?,
        },
        vol,
        bot: None,
    })
}

/// A function pointer from a closure, `Fn("name")` or a function's name.
pub fn fn_ptr(v: &Dynamic, what: &str) -> RhaiResult<FnPtr> {
    if let Some(f) = v.read_lock::<FnPtr>() {
        return Ok(f.clone());
    }
    if let Ok(s) = v.clone().into_string() {
        return FnPtr::new(s).map_err(|e| rt_err(format!("{what}: {e}")));
    }
    Err(rt_err(format!(
        "{what} must be a function: |ctx| {{ ... }}, Fn(\"name\") or \"name\", not {}",
        v.type_name()
    )))
}

/// Backtest options → config, plus (name, save, from, to).
pub struct RunOptions {
    pub cfg: BacktestConfig,
    pub name: Option<String>,
    pub save: bool,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

fn time_opt(m: &Map, key: &str) -> RhaiResult<Option<i64>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => {
            if let Ok(i) = v.as_int() {
                return Ok(Some(i));
            }
            let s = v
                .clone()
                .into_string()
                .map_err(|t| rt_err(format!("{key} must be a time, not {t}")))?;
            crate::time::parse_time(&s)
                .map(Some)
                .map_err(|e| rt_err(e.to_string()))
        }
    }
}

pub fn run_options(m: &Map) -> RhaiResult<RunOptions> {
    check_keys(m, "backtest", BACKTEST_KEYS)?;
    let d = BacktestConfig::default();
    let cfg = BacktestConfig {
        cash: opt_f64(m, "cash")?.unwrap_or(d.cash),
        fee_pct: opt_f64(m, "fee_pct")?.unwrap_or(d.fee_pct),
        fee_fixed: opt_f64(m, "fee_fixed")?.unwrap_or(d.fee_fixed),
        slippage_pct: opt_f64(m, "slippage_pct")?.unwrap_or(d.slippage_pct),
        leverage: opt_f64(m, "leverage")?.unwrap_or(d.leverage),
        lot_size: opt_f64(m, "lot_size")?.unwrap_or(d.lot_size),
        max_position_pct: opt_f64(m, "max_position_pct")?,
        max_drawdown_pct: opt_f64(m, "max_drawdown_pct")?,
        risk_free_pct: opt_f64(m, "risk_free_pct")?.unwrap_or(d.risk_free_pct),
        ..d
    };
    cfg.validate().map_err(|e| rt_err(e.to_string()))?;
    let save = match m.get("save") {
        None => true,
        Some(v) => v
            .as_bool()
            .map_err(|t| rt_err(format!("save must be true or false, not {t}")))?,
    };
    Ok(RunOptions {
        cfg,
        name: opt_str(m, "name")?,
        save,
        from: time_opt(m, "from")?,
        to: time_opt(m, "to")?,
    })
}

/// An order map of `ctx.order(#{ ... })`: side, kind, explicit size and exits.
pub struct OrderSpec {
    pub side: Side,
    pub kind: OrderKind,
    pub size: Option<Size>,
    pub vol: Option<(f64, f64, usize)>,
    pub stop_distance: Option<f64>,
    pub exits: Exits,
    pub reduce_only: bool,
}

pub fn order_from(m: &Map, default_side: Option<Side>) -> RhaiResult<OrderSpec> {
    check_keys(m, "order", ORDER_KEYS)?;
    let side = match opt_str(m, "side")?.as_deref() {
        Some("buy") | Some("long") => Side::Buy,
        Some("sell") | Some("short") => Side::Sell,
        Some(other) => {
            return Err(rt_err(format!(
                "side must be \"buy\" or \"sell\", not '{other}'"
            )));
        }
        None => default_side.ok_or_else(|| rt_err("ctx.order needs side: \"buy\" or \"sell\""))?,
    };
    let price = opt_f64(m, "price")?;
    let need = |what: &str| rt_err(format!("a {what} order needs price: ..."));
    let kind = match opt_str(m, "type")?.as_deref().unwrap_or("market") {
        "market" => OrderKind::Market,
        "limit" => OrderKind::Limit(price.ok_or_else(|| need("limit"))?),
        "stop" => OrderKind::Stop(price.ok_or_else(|| need("stop"))?),
        "stop_limit" => OrderKind::StopLimit {
            stop: price.ok_or_else(|| need("stop_limit"))?,
            limit: opt_f64(m, "limit_price")?.ok_or_else(|| {
                rt_err("a stop_limit order needs limit_price: ... (price is the stop)")
            })?,
            triggered: false,
        },
        other => {
            return Err(rt_err(format!(
                "unknown order type '{other}'; use \"market\", \"limit\", \"stop\" or \"stop_limit\""
            )));
        }
    };
    let reduce_only = match m.get("reduce_only") {
        None => false,
        Some(v) => v
            .as_bool()
            .map_err(|t| rt_err(format!("reduce_only must be a bool, not {t}")))?,
    };
    Ok(OrderSpec {
        side,
        kind,
        size: size_from(m)?,
        vol: vol_from(m)?,
        stop_distance: positive("stop_distance", opt_f64(m, "stop_distance")?)?,
        exits: exits_from(m)?,
        reduce_only,
    })
}
