//! `strategy_from_config`: AVE bot configs (a map or JSON text) as strategies, and the
//! conversion of script values to JSON that it (and the store) needs.

use super::api::{Api, IntoRhai, RhaiResult, rt_err};
use super::backtest_api::StrategyValue;
use crate::order::Size;
use crate::script::runtime::Runtime;
use crate::strategy::StrategyOptions;
use crate::strategy::ave_config::BotConfig;
use rhai::{Dynamic, Map};
use serde_json::Value;
use std::sync::Arc;

/// A script value as JSON (maps, arrays, strings, numbers, bools, unit → null).
pub fn to_json(v: &Dynamic) -> RhaiResult<Value> {
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = v.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = v.as_float() {
        return Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    if v.is_string() {
        return Ok(Value::String(v.clone().into_string().unwrap_or_default()));
    }
    if let Some(a) = v.read_lock::<rhai::Array>() {
        return a
            .iter()
            .map(to_json)
            .collect::<RhaiResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Some(m) = v.read_lock::<Map>() {
        let mut o = serde_json::Map::new();
        for (k, x) in m.iter() {
            o.insert(k.to_string(), to_json(x)?);
        }
        return Ok(Value::Object(o));
    }
    Err(rt_err(format!(
        "a config holds maps, arrays, strings and numbers, not {}",
        v.type_name()
    )))
}

fn from_config(v: &Value) -> RhaiResult<StrategyValue> {
    let cfg = BotConfig::from_json(v).rhai()?;
    let opts = StrategyOptions {
        name: cfg.name.clone(),
        size: Size::Pct(100.0),
        exits: cfg.exits,
    };
    Ok(StrategyValue {
        opts,
        signals: None,
        on_bar: None,
        interpret: false,
        vol: None,
        bot: Some(Arc::new(cfg)),
    })
}

pub fn register(api: &mut Api, _rt: &Arc<Runtime>) {
    api.func(
        "strategy_from_config",
        &["config: map"],
        "Strategy",
        |m: Map| from_config(&to_json(&Dynamic::from_map(m))?),
    );
    api.func(
        "strategy_from_config",
        &["json: string"],
        "Strategy",
        |s: &str| {
            let v: Value = serde_json::from_str(s)
                .map_err(|e| rt_err(format!("the bot config is not valid JSON: {e}")))?;
            from_config(&v)
        },
    );
}
