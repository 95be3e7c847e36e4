//! AVE bot configs as strategies.
//!
//! A chat-to-bot platform turns "buy 10 % of my cash when PEPE drops 5 % in an hour, stop-loss 3 %,
//! take-profit 10 %" into a config of conditions, actions and risk rules:
//!
//! ```json
//! { "conditions": [{ "type": "price_drop", "token": "PEPE", "chain": "bsc", "threshold": 5, "timeframe": "1h" }],
//!   "actions": [{ "type": "buy", "amount_percent": 10, "token": "PEPE" }],
//!   "risk_management": { "stop_loss_percent": 3, "take_profit_percent": 10 } }
//! ```
//!
//! What each part means here (the same as the bot polling prices would do, on bar closes):
//! - `price_drop` / `price_rise` `{ threshold, timeframe }`: the close moved at least `threshold`
//!   percent down / up against the close one `timeframe` earlier (`timeframe` like `"15m"`, `"1h"`,
//!   `"24h"`, `"1d"`; at least one bar of the data's interval).
//! - `volume_spike` `{ threshold, timeframe }`: volume traded over the last `timeframe` is at least
//!   `threshold` percent above the volume of the `timeframe` before it (`threshold: 200` = 3×).
//! - `price_level` `{ price, direction: "above" | "below" }`: the close crosses `price` upward
//!   (above) or downward (below), Pine's crossover rule.
//! - Conditions combine with AND (`"logic": "any"` makes it OR). Actions fire when the combined
//!   condition *becomes* true (edge-triggered: a bot acts once per event, not on every poll while
//!   the drop persists).
//! - `buy { amount_percent }` spends that percent of the cash available at the signal (market order at
//!   the next bar's open); `sell { amount_percent }` sells that percent of the position.
//! - `risk_management { stop_loss_percent, take_profit_percent, trailing_stop_percent }` put a
//!   stop-loss / take-profit / trailing stop on every buy, checked inside each bar (see `backtest`).
//! - `token` and `chain` name what the bot trades; a backtest trades the bars it is given.

use super::{BarLogic, Ctx};
use crate::bars::Bars;
use crate::error::{DslError, Result};
use crate::order::{Exits, OrderKind, Side, Size};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    PriceDrop {
        threshold_pct: f64,
        timeframe_s: i64,
    },
    PriceRise {
        threshold_pct: f64,
        timeframe_s: i64,
    },
    VolumeSpike {
        threshold_pct: f64,
        timeframe_s: i64,
    },
    PriceLevel {
        price: f64,
        above: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Buy { amount_pct: f64 },
    Sell { amount_pct: f64 },
}

/// A parsed bot config.
#[derive(Clone, Debug, PartialEq)]
pub struct BotConfig {
    pub name: String,
    pub conditions: Vec<Condition>,
    pub any: bool,
    pub actions: Vec<Action>,
    pub exits: Exits,
    /// What the config says it trades (`token`/`chain` of the first condition or action).
    pub token: Option<String>,
}

fn num(v: &Value, what: &str) -> Result<f64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| DslError::invalid(format!("{what} is not a number"))),
        Value::String(s) => s
            .trim()
            .trim_end_matches('%')
            .parse::<f64>()
            .map_err(|_| DslError::invalid(format!("{what} must be a number, not \"{s}\""))),
        other => Err(DslError::invalid(format!(
            "{what} must be a number, not {other}"
        ))),
    }
}

fn field<'a>(obj: &'a Value, key: &str, what: &str) -> Result<&'a Value> {
    obj.get(key)
        .filter(|v| !v.is_null())
        .ok_or_else(|| DslError::invalid(format!("{what} needs '{key}'")))
}

/// `"15m"`, `"1h"`, `"24h"`, `"1d"`, `"1w"` or a number of minutes → seconds.
pub fn parse_timeframe(v: &Value) -> Result<i64> {
    let s = match v {
        Value::Number(n) => return Ok((n.as_f64().unwrap_or(0.0) * 60.0) as i64),
        Value::String(s) => s.trim().to_ascii_lowercase(),
        other => {
            return Err(DslError::invalid(format!(
                "timeframe must be like \"1h\", not {other}"
            )));
        }
    };
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().map_err(|_| {
        DslError::invalid(format!(
            "timeframe \"{s}\" must be like \"15m\", \"1h\" or \"1d\""
        ))
    })?;
    let mult = match unit.trim() {
        "" | "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        "w" | "week" | "weeks" => 7.0 * 86400.0,
        u => {
            return Err(DslError::invalid(format!(
                "timeframe unit '{u}' unknown; use m, h, d or w (e.g. \"1h\")"
            )));
        }
    };
    let secs = (n * mult).round() as i64;
    if secs <= 0 {
        return Err(DslError::invalid(format!(
            "timeframe \"{s}\" must be positive"
        )));
    }
    Ok(secs)
}

impl BotConfig {
    /// Parses the AVE bot config (as JSON).
    pub fn from_json(v: &Value) -> Result<BotConfig> {
        let conds = v.get("conditions").and_then(Value::as_array).ok_or_else(|| {
            DslError::invalid("a bot config needs 'conditions': [{ type: \"price_drop\", threshold: 5, timeframe: \"1h\" }, …]")
        })?;
        let mut token = None;
        let mut conditions = Vec::new();
        for (i, c) in conds.iter().enumerate() {
            let what = format!("condition {}", i + 1);
            let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
            if token.is_none() {
                token = c.get("token").and_then(Value::as_str).map(str::to_string);
            }
            let tf = || parse_timeframe(c.get("timeframe").unwrap_or(&Value::String("1h".into())));
            conditions.push(match ty {
                "price_drop" => Condition::PriceDrop { threshold_pct: num(field(c, "threshold", &what)?, "threshold")?.abs(), timeframe_s: tf()? },
                "price_rise" => Condition::PriceRise { threshold_pct: num(field(c, "threshold", &what)?, "threshold")?.abs(), timeframe_s: tf()? },
                "volume_spike" => Condition::VolumeSpike { threshold_pct: num(field(c, "threshold", &what)?, "threshold")?, timeframe_s: tf()? },
                "price_level" => {
                    let price = num(field(c, "price", &what)?, "price")?;
                    let dir = c.get("direction").and_then(Value::as_str).unwrap_or("above").to_ascii_lowercase();
                    let above = match dir.as_str() {
                        "above" | "up" | "cross_above" | "crosses_above" => true,
                        "below" | "down" | "cross_below" | "crosses_below" => false,
                        d => return Err(DslError::invalid(format!("{what}: direction '{d}' unknown; use \"above\" or \"below\""))),
                    };
                    Condition::PriceLevel { price, above }
                }
                t => {
                    return Err(DslError::invalid(format!(
                        "{what}: type '{t}' unknown; use price_drop, price_rise, volume_spike or price_level"
                    )));
                }
            });
        }
        if conditions.is_empty() {
            return Err(DslError::invalid(
                "a bot config needs at least one condition",
            ));
        }
        let acts = v.get("actions").and_then(Value::as_array).ok_or_else(|| {
            DslError::invalid(
                "a bot config needs 'actions': [{ type: \"buy\", amount_percent: 10 }]",
            )
        })?;
        let mut actions = Vec::new();
        for (i, a) in acts.iter().enumerate() {
            let what = format!("action {}", i + 1);
            let pct = num(field(a, "amount_percent", &what)?, "amount_percent")?;
            if !(pct > 0.0 && pct <= 100.0) {
                return Err(DslError::invalid(format!(
                    "{what}: amount_percent must be in (0, 100], got {pct}"
                )));
            }
            if token.is_none() {
                token = a.get("token").and_then(Value::as_str).map(str::to_string);
            }
            actions.push(match a.get("type").and_then(Value::as_str).unwrap_or("") {
                "buy" => Action::Buy { amount_pct: pct },
                "sell" => Action::Sell { amount_pct: pct },
                t => {
                    return Err(DslError::invalid(format!(
                        "{what}: type '{t}' unknown; use \"buy\" or \"sell\""
                    )));
                }
            });
        }
        if actions.is_empty() {
            return Err(DslError::invalid("a bot config needs at least one action"));
        }
        let mut exits = Exits::default();
        if let Some(r) = v.get("risk_management").filter(|r| r.is_object()) {
            let opt = |k: &str| -> Result<Option<f64>> {
                r.get(k)
                    .filter(|x| !x.is_null())
                    .map(|x| num(x, k))
                    .transpose()
            };
            exits.stop_loss_pct = opt("stop_loss_percent")?;
            exits.take_profit_pct = opt("take_profit_percent")?;
            exits.trailing_stop_pct = opt("trailing_stop_percent")?;
        }
        let any = v
            .get("logic")
            .and_then(Value::as_str)
            .is_some_and(|l| l.eq_ignore_ascii_case("any") || l.eq_ignore_ascii_case("or"));
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "ave_bot({})",
                    token.clone().unwrap_or_else(|| "config".into())
                )
            });
        Ok(BotConfig {
            name,
            conditions,
            any,
            actions,
            exits,
            token,
        })
    }

    /// The combined condition at every bar of `bars` (true where it holds; warm-up false).
    pub fn condition(&self, bars: &Bars) -> Result<Vec<bool>> {
        let n = bars.len();
        let step = bars.interval.seconds();
        let window = |tf: i64| -> Result<usize> {
            if tf < step {
                return Err(DslError::invalid(format!(
                    "timeframe of {}s is shorter than one {} bar; fetch finer bars (e.g. \"1m\")",
                    tf, bars.interval
                )));
            }
            Ok(((tf + step - 1) / step) as usize)
        };
        let close = bars.close.values();
        let vol = bars.volume.values();
        let mut all: Vec<bool> = vec![!self.any; n];
        for c in &self.conditions {
            let hit: Vec<bool> = match *c {
                Condition::PriceDrop {
                    threshold_pct,
                    timeframe_s,
                }
                | Condition::PriceRise {
                    threshold_pct,
                    timeframe_s,
                } => {
                    let w = window(timeframe_s)?;
                    let drop = matches!(c, Condition::PriceDrop { .. });
                    (0..n)
                        .map(|i| {
                            i >= w && close[i - w] > 0.0 && {
                                let ch = (close[i] / close[i - w] - 1.0) * 100.0;
                                if drop {
                                    ch <= -threshold_pct
                                } else {
                                    ch >= threshold_pct
                                }
                            }
                        })
                        .collect()
                }
                Condition::VolumeSpike {
                    threshold_pct,
                    timeframe_s,
                } => {
                    let w = window(timeframe_s)?;
                    let mut cum = vec![0.0; n + 1];
                    for i in 0..n {
                        cum[i + 1] = cum[i] + if vol[i].is_nan() { 0.0 } else { vol[i] };
                    }
                    (0..n)
                        .map(|i| {
                            i + 1 >= 2 * w && {
                                let now = cum[i + 1] - cum[i + 1 - w];
                                let before = cum[i + 1 - w] - cum[i + 1 - 2 * w];
                                before > 0.0 && now >= before * (1.0 + threshold_pct / 100.0)
                            }
                        })
                        .collect()
                }
                Condition::PriceLevel { price, above } => (0..n)
                    .map(|i| {
                        i >= 1
                            && if above {
                                close[i] > price && close[i - 1] <= price
                            } else {
                                close[i] < price && close[i - 1] >= price
                            }
                    })
                    .collect(),
            };
            for (a, h) in all.iter_mut().zip(hit) {
                *a = if self.any { *a || h } else { *a && h };
            }
        }
        Ok(all)
    }

    /// One paragraph saying what the bot does, for displays.
    pub fn describe(&self) -> String {
        let conds: Vec<String> = self
            .conditions
            .iter()
            .map(|c| match *c {
                Condition::PriceDrop {
                    threshold_pct,
                    timeframe_s,
                } => format!("price drops {threshold_pct} % within {}", tf(timeframe_s)),
                Condition::PriceRise {
                    threshold_pct,
                    timeframe_s,
                } => format!("price rises {threshold_pct} % within {}", tf(timeframe_s)),
                Condition::VolumeSpike {
                    threshold_pct,
                    timeframe_s,
                } => {
                    format!(
                        "volume over {} is {threshold_pct} % above the {} before",
                        tf(timeframe_s),
                        tf(timeframe_s)
                    )
                }
                Condition::PriceLevel { price, above } => format!(
                    "price crosses {} {price}",
                    if above { "above" } else { "below" }
                ),
            })
            .collect();
        let acts: Vec<String> = self
            .actions
            .iter()
            .map(|a| match *a {
                Action::Buy { amount_pct } => format!("buy with {amount_pct} % of cash"),
                Action::Sell { amount_pct } => format!("sell {amount_pct} % of the position"),
            })
            .collect();
        let mut risk = Vec::new();
        if let Some(x) = self.exits.stop_loss_pct {
            risk.push(format!("stop-loss {x} %"));
        }
        if let Some(x) = self.exits.take_profit_pct {
            risk.push(format!("take-profit {x} %"));
        }
        if let Some(x) = self.exits.trailing_stop_pct {
            risk.push(format!("trailing stop {x} %"));
        }
        format!(
            "AVE bot '{}'{}: when {}, {}{}",
            self.name,
            self.token
                .as_ref()
                .map(|t| format!(" on {t}"))
                .unwrap_or_default(),
            conds.join(if self.any { " or " } else { " and " }),
            acts.join(", then "),
            if risk.is_empty() {
                String::new()
            } else {
                format!("; {}", risk.join(", "))
            }
        )
    }

    /// The per-bar logic for `bars`: edge-triggered actions on the combined condition.
    pub fn logic(&self, bars: &Bars) -> Result<BotLogic> {
        let cond = self.condition(bars)?;
        let fire = (0..cond.len())
            .map(|i| cond[i] && (i == 0 || !cond[i - 1]))
            .collect();
        Ok(BotLogic {
            fire,
            actions: self.actions.clone(),
            exits: self.exits,
        })
    }
}

fn tf(secs: i64) -> String {
    match secs {
        s if s % 86400 == 0 => format!("{}d", s / 86400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{}m", s / 60),
    }
}

/// A bot config running bar by bar.
pub struct BotLogic {
    /// Bars at which the combined condition became true.
    pub fire: Vec<bool>,
    actions: Vec<Action>,
    exits: Exits,
}

impl BarLogic for BotLogic {
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<()> {
        if !self.fire.get(ctx.i).copied().unwrap_or(false) {
            return Ok(());
        }
        for a in &self.actions {
            match *a {
                Action::Buy { amount_pct } => {
                    let spend = ctx.cash * amount_pct / 100.0;
                    if spend > 0.0 {
                        ctx.place(
                            Side::Buy,
                            OrderKind::Market,
                            Size::Cash(spend),
                            self.exits,
                            false,
                            "bot buy",
                        );
                    }
                }
                Action::Sell { amount_pct } => ctx.exit_part(amount_pct / 100.0, "bot sell"),
            }
        }
        Ok(())
    }
}

/// A bot config on a live feed, whose bars grow as they close. The combined condition is causal
/// (each bar's value reads that bar and earlier ones), so it is computed again on the bars so
/// far when one closes and the newest bar decides, as it would on the whole history: a replay and
/// a live run of the same bars fire on the same bars. Cost: one pass over the bars so far per bar.
pub struct LiveBot {
    config: std::sync::Arc<BotConfig>,
    logic: Option<BotLogic>,
}

impl LiveBot {
    pub fn new(config: std::sync::Arc<BotConfig>) -> LiveBot {
        LiveBot {
            config,
            logic: None,
        }
    }
}

impl BarLogic for LiveBot {
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<()> {
        if self
            .logic
            .as_ref()
            .is_none_or(|l| l.fire.len() != ctx.bars.len())
        {
            self.logic = Some(self.config.logic(ctx.bars)?);
        }
        match &mut self.logic {
            Some(l) => l.on_bar(ctx),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::{Candle, Source};
    use crate::interval::Interval;

    fn bars(closes: &[f64], vols: &[f64]) -> Bars {
        let cs: Vec<Candle> = closes
            .iter()
            .zip(vols)
            .enumerate()
            .map(|(i, (&c, &v))| Candle {
                time: i as i64 * 900,
                open: c,
                high: c,
                low: c,
                close: c,
                volume: v,
            })
            .collect();
        Bars::from_candles("demo:T", Interval::M15, Source::Demo, &cs).unwrap()
    }

    fn pepe() -> Value {
        serde_json::json!({
            "conditions": [{ "type": "price_drop", "token": "PEPE", "chain": "bsc", "threshold": 5, "timeframe": "1h" }],
            "actions": [{ "type": "buy", "amount_percent": 10, "token": "PEPE" }],
            "risk_management": { "stop_loss_percent": 3, "take_profit_percent": "10" }
        })
    }

    #[test]
    fn parses_the_pepe_bot() {
        let c = BotConfig::from_json(&pepe()).unwrap();
        assert_eq!(
            c.conditions,
            vec![Condition::PriceDrop {
                threshold_pct: 5.0,
                timeframe_s: 3600
            }]
        );
        assert_eq!(c.actions, vec![Action::Buy { amount_pct: 10.0 }]);
        assert_eq!(
            (c.exits.stop_loss_pct, c.exits.take_profit_pct),
            (Some(3.0), Some(10.0))
        );
        assert_eq!(c.token.as_deref(), Some("PEPE"));
    }

    #[test]
    fn price_drop_compares_with_the_close_one_timeframe_earlier() {
        // 15m bars, 1h timeframe = 4 bars back.
        let b = bars(
            &[100.0, 100.0, 100.0, 100.0, 96.0, 95.0, 94.0, 94.0, 94.0],
            &[1.0; 9],
        );
        let c = BotConfig::from_json(&pepe()).unwrap();
        assert_eq!(
            c.condition(&b).unwrap(),
            vec![false, false, false, false, false, true, true, true, false]
        );
        // Edge-triggered: fires once at bar 5 although the drop lasts three bars.
        let l = c.logic(&b).unwrap();
        assert_eq!(l.fire.iter().filter(|&&f| f).count(), 1);
        assert!(l.fire[5]);
    }

    #[test]
    fn volume_spike_compares_consecutive_windows() {
        let cfg = serde_json::json!({
            "conditions": [{ "type": "volume_spike", "threshold": 200, "timeframe": "30m" }],
            "actions": [{ "type": "buy", "amount_percent": 50 }]
        });
        let c = BotConfig::from_json(&cfg).unwrap();
        let b = bars(&[1.0; 6], &[1.0, 1.0, 1.0, 1.0, 3.0, 3.0]);
        // Windows of 2 bars: at bar 5, last 2 = 6 vs previous 2 = 2 → +200 %.
        assert_eq!(
            c.condition(&b).unwrap(),
            vec![false, false, false, false, false, true]
        );
    }

    #[test]
    fn price_level_is_a_crossing() {
        let cfg = serde_json::json!({
            "conditions": [{ "type": "price_level", "price": 10, "direction": "above" }],
            "actions": [{ "type": "buy", "amount_percent": 100 }]
        });
        let c = BotConfig::from_json(&cfg).unwrap();
        let b = bars(&[9.0, 10.0, 11.0, 12.0, 9.0, 10.5], &[1.0; 6]);
        assert_eq!(
            c.condition(&b).unwrap(),
            vec![false, false, true, false, false, true]
        );
    }

    #[test]
    fn bad_configs_name_the_fix() {
        let e = BotConfig::from_json(
            &serde_json::json!({ "conditions": [{ "type": "price_dip", "threshold": 5 }], "actions": [] }),
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("use price_drop, price_rise")
        );
        let e = BotConfig::from_json(&serde_json::json!({
            "conditions": [{ "type": "price_drop", "threshold": 5, "timeframe": "5m" }],
            "actions": [{ "type": "buy", "amount_percent": 10 }] }))
        .unwrap();
        let b = bars(&[1.0; 3], &[1.0; 3]);
        assert!(
            e.condition(&b)
                .unwrap_err()
                .to_string()
                .contains("shorter than one 15m bar")
        );
        assert!(parse_timeframe(&Value::String("2 fortnights".into())).is_err());
        assert_eq!(
            parse_timeframe(&Value::String("24h".into())).unwrap(),
            86400
        );
    }
}
