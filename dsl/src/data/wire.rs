//! What AVE sends, read tolerantly: both envelopes (`{status,msg,data_type,data}` and the older
//! `{code,msg,data}` / bare map), numbers as JSON numbers or strings, times in seconds or
//! milliseconds (shared/ave-api.md §2.4, §3, §5).

use crate::bars::Candle;
use serde_json::Value;

/// The payload of a successful answer, or the server's message for a failed one.
pub fn unwrap_envelope(body: Value) -> Result<Value, String> {
    let Value::Object(mut m) = body else {
        return Ok(body);
    };
    let msg = |m: &serde_json::Map<String, Value>| {
        m.get("msg")
            .and_then(Value::as_str)
            .unwrap_or("no message")
            .to_string()
    };
    if let Some(status) = m.get("status") {
        let ok = matches!(int(status), Some(1) | Some(200));
        return if ok {
            Ok(m.remove("data").unwrap_or(Value::Null))
        } else {
            Err(msg(&m))
        };
    }
    if m.contains_key("code") && m.contains_key("msg") {
        let ok = matches!(m.get("code").and_then(int), Some(0) | Some(200));
        return if ok {
            Ok(m.remove("data").unwrap_or(Value::Null))
        } else {
            Err(msg(&m))
        };
    }
    Ok(Value::Object(m))
}

/// A number sent as a JSON number or a numeric string.
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64)),
        _ => None,
    }
}

/// Unix seconds from seconds or milliseconds (anything past year 5138 in seconds is taken as ms).
pub fn seconds(t: i64) -> i64 {
    if t.abs() >= 100_000_000_000 {
        t / 1000
    } else {
        t
    }
}

pub fn field_num(o: &Value, key: &str) -> f64 {
    o.get(key).and_then(num).unwrap_or(f64::NAN)
}

pub fn field_str(o: &Value, key: &str) -> String {
    match o.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Kline points from a klines `data` (`{points: [...]}` or a bare array).
/// A point without a time or with an unreadable price is an error (the body is malformed).
pub fn klines(data: &Value) -> Result<Vec<Candle>, String> {
    let points = match data {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("points") {
            Some(Value::Array(a)) => a,
            Some(Value::Null) | None => return Ok(Vec::new()),
            Some(_) => return Err("'points' is not a list".into()),
        },
        Value::Null => return Ok(Vec::new()),
        _ => return Err("klines data is not an object".into()),
    };
    points
        .iter()
        .map(|p| {
            let get = |k: &str| {
                p.get(k)
                    .and_then(num)
                    .ok_or_else(|| format!("point lacks '{k}'"))
            };
            let time = p
                .get("time")
                .and_then(int)
                .ok_or_else(|| "point lacks 'time'".to_string())?;
            Ok(Candle {
                time: seconds(time),
                open: get("open")?,
                high: get("high")?,
                low: get("low")?,
                close: get("close")?,
                volume: p.get("volume").and_then(num).unwrap_or(0.0),
            })
        })
        .collect()
}

/// True when a successful answer actually says "not found" (seen as `SUCCESS: token not found`).
pub fn says_not_found(msg_or_data: &Value) -> bool {
    match msg_or_data {
        Value::String(s) => s.to_ascii_lowercase().contains("not found"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_envelopes_and_bare_maps_are_accepted() {
        let new = json!({"status": 1, "msg": "SUCCESS", "data_type": 1, "data": {"a": 1}});
        assert_eq!(unwrap_envelope(new).unwrap(), json!({"a": 1}));
        let bare = json!({"x-bsc": {"current_price_usd": "1"}});
        assert_eq!(unwrap_envelope(bare.clone()).unwrap(), bare);
        let old_err = json!({"code": 1, "msg": "Permission denied", "data": {}});
        assert_eq!(unwrap_envelope(old_err).unwrap_err(), "Permission denied");
        let bad = json!({"status": 0, "msg": "nope"});
        assert_eq!(unwrap_envelope(bad).unwrap_err(), "nope");
        let string_status = json!({"status": "1", "data": [1]});
        assert_eq!(unwrap_envelope(string_status).unwrap(), json!([1]));
    }

    #[test]
    fn numbers_as_strings_and_millisecond_times_are_read() {
        let d = json!({"points": [
            {"open": "1.5", "high": 2, "low": "1", "close": "1.75", "volume": "10", "time": 1748332500},
            {"open": 1, "high": 1, "low": 1, "close": 1, "volume": 1, "time": "1748332560000"}
        ]});
        let k = klines(&d).unwrap();
        assert_eq!(k[0].open, 1.5);
        assert_eq!(k[0].high, 2.0);
        assert_eq!(k[1].time, 1_748_332_560);
        assert_eq!(seconds(1_713_250_049_870), 1_713_250_049);
    }

    #[test]
    fn malformed_points_are_errors() {
        assert!(klines(&json!({"points": [{"open": "x", "time": 1}]})).is_err());
        assert!(klines(&json!({"points": 3})).is_err());
        assert!(klines(&json!({"points": null})).unwrap().is_empty());
    }
}
