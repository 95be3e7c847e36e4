//! The agent's decision: the documented JSON schema a model answers with, and its parser. A model
//! may wrap the object in a fenced ```` ```json ```` block or put words around it; the parser
//! finds the object, checks every field and says exactly what was wrong.
//!
//! ```json
//! {"action": "buy", "size_pct": 50, "leverage": 2, "stop_loss_pct": 3, "take_profit_pct": 6,
//!  "confidence": 0.7, "reasoning": "trend up on 1h, RSI not overbought"}
//! ```

use serde_json::{Map, Value, json};

/// What the model asks for. `Buy` and `Sell` open (or reverse to) a long or a short; `Close`
/// flattens; `Hold` does nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Hold,
    Buy,
    Sell,
    Close,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Hold => "hold",
            Action::Buy => "buy",
            Action::Sell => "sell",
            Action::Close => "close",
        }
    }
    pub fn parse(s: &str) -> Option<Action> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hold" => Some(Action::Hold),
            "buy" => Some(Action::Buy),
            "sell" => Some(Action::Sell),
            "close" => Some(Action::Close),
            _ => None,
        }
    }
    /// Whether the action may open a position.
    pub fn is_entry(self) -> bool {
        matches!(self, Action::Buy | Action::Sell)
    }
}

/// A validated decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub action: Action,
    /// Margin as a percent of equity (0–100; default 100).
    pub size_pct: f64,
    /// Exposure = size_pct × leverage (≥ 1; default 1; the risk layer caps it).
    pub leverage: f64,
    pub stop_loss_pct: Option<f64>,
    pub take_profit_pct: Option<f64>,
    /// 0–1.
    pub confidence: f64,
    pub reasoning: String,
}

impl Decision {
    /// A `hold` that says why (an error, a skipped bar, a refusal).
    pub fn hold(reason: impl Into<String>) -> Decision {
        Decision {
            action: Action::Hold,
            size_pct: 0.0,
            leverage: 1.0,
            stop_loss_pct: None,
            take_profit_pct: None,
            confidence: 0.0,
            reasoning: reason.into(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "action": self.action.name(),
            "size_pct": self.size_pct,
            "leverage": self.leverage,
            "stop_loss_pct": self.stop_loss_pct,
            "take_profit_pct": self.take_profit_pct,
            "confidence": self.confidence,
            "reasoning": self.reasoning,
        })
    }
}

/// The schema as the system prompt states it (kept here so parser and prompt never drift).
pub const SCHEMA_TEXT: &str = r#"Answer with exactly one JSON object and nothing else:
{"action": "hold" | "buy" | "sell" | "close",
 "size_pct": number 0-100 (percent of equity to commit as margin; default 100),
 "leverage": number >= 1 (default 1),
 "stop_loss_pct": number > 0 or null (percent below the entry for a long, above for a short),
 "take_profit_pct": number > 0 or null,
 "confidence": number 0-1,
 "reasoning": string (one or two sentences)}
"buy" opens a long (or reverses a short), "sell" opens a short (or reverses a long), "close" flattens the position, "hold" does nothing."#;

/// The JSON object in a model's text: a ```` ```json ```` fence, any fence, or the outermost
/// `{ … }`.
pub fn extract_json(text: &str) -> Option<&str> {
    let fenced = |tag: &str| {
        let start = text.find(tag)? + tag.len();
        let rest = &text[start..];
        let end = rest.find("```")?;
        Some(rest[..end].trim())
    };
    if let Some(s) = fenced("```json").or_else(|| fenced("```JSON")) {
        return Some(s);
    }
    if let Some(s) = fenced("```").filter(|s| s.starts_with('{')) {
        return Some(s);
    }
    let a = text.find('{')?;
    let b = text.rfind('}')?;
    (b > a).then(|| &text[a..=b])
}

/// Parses and validates a model's answer.
pub fn parse_decision(text: &str) -> Result<Decision, String> {
    let Some(raw) = extract_json(text) else {
        return Err(format!("no JSON object in the answer: {}", snippet(text)));
    };
    let v: Value = serde_json::from_str(raw)
        .map_err(|e| format!("the answer's JSON does not parse ({e}): {}", snippet(raw)))?;
    let Some(m) = v.as_object() else {
        return Err("the answer's JSON is not an object".into());
    };
    from_map(m)
}

fn from_map(m: &Map<String, Value>) -> Result<Decision, String> {
    const KEYS: &[&str] = &[
        "action",
        "size_pct",
        "leverage",
        "stop_loss_pct",
        "take_profit_pct",
        "confidence",
        "reasoning",
    ];
    let action = match m.get("action") {
        Some(Value::String(s)) => Action::parse(s).ok_or_else(|| {
            format!("action \"{s}\" is not one of \"hold\" \"buy\" \"sell\" \"close\"")
        })?,
        Some(other) => return Err(format!("action must be a string, not {other}")),
        None => return Err("the answer has no \"action\"".into()),
    };
    let num = |k: &str| -> Result<Option<f64>, String> {
        match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| format!("{k} is not a finite number")),
            // Models sometimes quote numbers: "50" is read as 50.
            Some(Value::String(s)) => s
                .trim()
                .trim_end_matches('%')
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| format!("{k} must be a number, not \"{s}\"")),
            Some(other) => Err(format!("{k} must be a number, not {other}")),
        }
    };
    let size_pct = num("size_pct")?.unwrap_or(100.0);
    if !(0.0..=100.0).contains(&size_pct) {
        return Err(format!("size_pct {size_pct} is outside 0-100"));
    }
    let leverage = num("leverage")?.unwrap_or(1.0);
    if leverage < 1.0 {
        return Err(format!("leverage {leverage} is below 1"));
    }
    let positive = |k: &str| -> Result<Option<f64>, String> {
        match num(k)? {
            Some(x) if x <= 0.0 => Err(format!("{k} {x} must be above 0 (or null)")),
            other => Ok(other),
        }
    };
    let stop_loss_pct = positive("stop_loss_pct")?;
    let take_profit_pct = positive("take_profit_pct")?;
    let confidence = num("confidence")?.ok_or("the answer has no \"confidence\"")?;
    if !(0.0..=1.0).contains(&confidence) {
        return Err(format!("confidence {confidence} is outside 0-1"));
    }
    let reasoning = match m.get("reasoning") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(other) => other.to_string(),
    };
    if let Some(k) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
        // Extra keys are tolerated (models add "notes"), but not misspelt known ones.
        if KEYS.iter().any(|known| close_to(k, known)) {
            return Err(format!("unknown key \"{k}\" (a misspelt field?)"));
        }
    }
    Ok(Decision {
        action,
        size_pct: if action.is_entry() { size_pct } else { 0.0 },
        leverage,
        stop_loss_pct,
        take_profit_pct,
        confidence,
        reasoning,
    })
}

fn close_to(a: &str, b: &str) -> bool {
    a != b
        && (a
            .replace(['_', '-', ' '], "")
            .eq_ignore_ascii_case(&b.replace('_', "")))
}

fn snippet(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fenced_json_block_is_read() {
        let d = parse_decision(
            "Looking at the chart...\n```json\n{\"action\":\"buy\",\"size_pct\":50,\"leverage\":2,\"stop_loss_pct\":3,\"confidence\":0.8,\"reasoning\":\"up\"}\n```\nDone.",
        )
        .unwrap();
        assert_eq!(d.action, Action::Buy);
        assert_eq!((d.size_pct, d.leverage), (50.0, 2.0));
        assert_eq!(d.stop_loss_pct, Some(3.0));
        assert_eq!(d.take_profit_pct, None);
        assert_eq!(d.reasoning, "up");
    }

    #[test]
    fn a_bare_object_with_words_around_is_read() {
        let d = parse_decision("I think: {\"action\": \"HOLD\", \"confidence\": 0.3} ok").unwrap();
        assert_eq!(d.action, Action::Hold);
        assert_eq!(d.size_pct, 0.0);
    }

    #[test]
    fn invalid_answers_say_what_is_wrong() {
        for (text, want) in [
            ("no json here", "no JSON object"),
            ("{\"action\": \"buy\", \"confidence\": }", "does not parse"),
            ("{\"action\": \"moon\", \"confidence\": 1}", "not one of"),
            ("{\"confidence\": 1}", "no \"action\""),
            ("{\"action\": \"buy\"}", "no \"confidence\""),
            ("{\"action\": \"buy\", \"confidence\": 7}", "outside 0-1"),
            (
                "{\"action\": \"buy\", \"confidence\": 1, \"size_pct\": 300}",
                "outside 0-100",
            ),
            (
                "{\"action\": \"buy\", \"confidence\": 1, \"leverage\": 0.5}",
                "below 1",
            ),
            (
                "{\"action\": \"buy\", \"confidence\": 1, \"stop_loss_pct\": -2}",
                "above 0",
            ),
            (
                "{\"action\": \"buy\", \"confidence\": 1, \"stoploss_pct\": 2}",
                "misspelt",
            ),
        ] {
            let e = parse_decision(text).unwrap_err();
            assert!(e.contains(want), "{text} → {e}");
        }
    }

    #[test]
    fn leverage_above_ten_is_left_for_the_risk_layer() {
        let d = parse_decision("{\"action\":\"buy\",\"leverage\":20,\"confidence\":0.9}").unwrap();
        assert_eq!(d.leverage, 20.0);
    }
}
