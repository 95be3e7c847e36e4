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

const DOC: &str = r#"A strategy from an AVE bot config (a map, or its JSON text), as chat-to-bot platforms write them.

`conditions` (all must hold; `logic: "any"` for either): `price_drop` / `price_rise` with `threshold` (percent) over
`timeframe` ("15m", "1h", "24h": close against the close one timeframe earlier); `volume_spike` with `threshold`
(percent above the volume of the previous timeframe) over `timeframe`; `price_level` with `price` and `direction`
("above" | "below": the close crosses it). Actions fire when the conditions BECOME true (once per event, as a polling
bot does): `buy` spends `amount_percent` of the cash at that moment, `sell` sells `amount_percent` of the position;
market orders at the next bar's open. `risk_management`: `stop_loss_percent`, `take_profit_percent`,
`trailing_stop_percent` on every buy (checked inside each bar, see `help("backtest")`). `token`/`chain` are recorded;
the backtest trades the bars you give it. Numbers may be strings ("5").

```rhai
let bot = strategy_from_config(#{
    conditions: [#{ type: "price_drop", token: "PEPE", chain: "bsc", threshold: 5, timeframe: "1h" }],
    actions: [#{ type: "buy", amount_percent: 10, token: "PEPE" }],
    risk_management: #{ stop_loss_percent: 3, take_profit_percent: 10 },
});
backtest(klines("demo:PEPE", "5m"), bot, #{ cash: 1000, fee_pct: 0.3 })
```"#;

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
    api.family("Strategy");
    api.func(
        "strategy_from_config",
        &["config: map"],
        "Strategy",
        DOC,
        |m: Map| from_config(&to_json(&Dynamic::from_map(m))?),
    );
    api.func(
        "strategy_from_config",
        &["json: string"],
        "Strategy",
        DOC,
        |s: &str| {
            let v: Value = serde_json::from_str(s)
                .map_err(|e| rt_err(format!("the bot config is not valid JSON: {e}")))?;
            from_config(&v)
        },
    );
}
