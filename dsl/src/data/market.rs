//! Market snapshots: batch prices, token search, token detail and supported chains.
//!
//! Prices go through `POST /v2/tokens/price` in chunks of 200 ids with `tvl_min: 0` (AVE's default
//! of 1000 would silently drop low-TVL tokens); ids absent from the answer are reported in
//! [`Prices::missing`], never dropped silently. `demo:` ids are answered from the demo feed.

use super::client::{Request, block_on};
use super::demo::{DEMO_END, Synth};
use super::ids::{DataId, parse_ave};
use super::service::DataService;
use super::wire::{field_num, field_str, int};
use crate::cancel::Cancel;
use crate::error::{DslError, Result};
use crate::interval::Interval;
use serde_json::{Value, json};
use std::collections::HashMap;

/// AVE's batch limit for `POST /v2/tokens/price`.
pub const PRICE_BATCH: usize = 200;

#[derive(Clone, Debug, PartialEq)]
pub struct Price {
    pub price: f64,
    /// Percent, e.g. 1.14 is +1.14 %.
    pub change_24h_pct: f64,
    pub tvl: f64,
    pub volume_24h: f64,
    /// Unix seconds.
    pub updated_at: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prices {
    /// Keyed by the id as the caller wrote it.
    pub found: Vec<(String, Price)>,
    /// Ids the answer did not contain (unknown, or no price).
    pub missing: Vec<String>,
}

/// A token as search and detail describe it (numbers parsed; NaN when absent).
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub token_id: String,
    pub symbol: String,
    pub name: String,
    pub chain: String,
    pub price: f64,
    pub change_24h_pct: f64,
    pub tvl: f64,
    pub volume_24h: f64,
    pub market_cap: f64,
    pub holders: f64,
    pub main_pair: String,
}

impl Token {
    pub fn from_json(o: &Value) -> Token {
        let token = field_str(o, "token");
        let chain = field_str(o, "chain");
        let main_pair = field_str(o, "main_pair");
        Token {
            token_id: if token.is_empty() {
                field_str(o, "token_id")
            } else {
                format!("{token}-{chain}")
            },
            symbol: field_str(o, "symbol"),
            name: field_str(o, "name"),
            price: field_num(o, "current_price_usd"),
            change_24h_pct: field_num(o, "price_change_24h"),
            tvl: field_num(o, "tvl"),
            volume_24h: field_num(o, "tx_volume_u_24h"),
            market_cap: field_num(o, "market_cap"),
            holders: field_num(o, "holders"),
            main_pair: if main_pair.is_empty() || main_pair.ends_with(&format!("-{chain}")) {
                main_pair
            } else {
                format!("{main_pair}-{chain}")
            },
            chain,
        }
    }
}

fn demo_price(name: &str) -> Result<Price> {
    let s = Synth::demo(name)?;
    let day = s.bars(Interval::H1, DEMO_END - 25 * 3600, DEMO_END - 3600);
    let Some(last) = day.last().filter(|_| day.len() >= 2) else {
        return Err(DslError::data("demo feed produced no bars"));
    };
    Ok(Price {
        price: last.close,
        change_24h_pct: (last.close / day[1].open - 1.0) * 100.0,
        tvl: s.profile.tvl,
        volume_24h: day[1..].iter().map(|c| c.volume).sum::<f64>(),
        updated_at: DEMO_END,
    })
}

impl DataService {
    pub fn prices(&self, ids: &[String], cancel: Option<&Cancel>) -> Result<Prices> {
        let mut out = Prices::default();
        let mut ave: Vec<(String, String)> = Vec::new(); // (wire id, as written)
        for id in ids {
            match DataId::parse(id)? {
                DataId::Demo(n) => out.found.push((id.clone(), demo_price(&n)?)),
                DataId::Ave(a) => ave.push((a.wire(), id.clone())),
            }
        }
        if ave.is_empty() {
            return Ok(out);
        }
        let client = self.client("prices")?;
        for chunk in ave.chunks(PRICE_BATCH) {
            if let Some(c) = cancel {
                c.check()?;
            }
            let body = json!({
                "token_ids": chunk.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>(),
                "tvl_min": 0,
                "tx_24h_volume_min": 0,
            });
            let data = block_on(client.call("/v2/tokens/price", &Request::Post(body), cancel))?;
            let Value::Object(map) = data else {
                return Err(DslError::data(
                    "AVE sent malformed prices for /v2/tokens/price: not a map",
                ));
            };
            // EVM ids come back lowercase; compare case-insensitively for those only.
            let lookup: HashMap<String, &Value> = map.iter().map(|(k, v)| (norm(k), v)).collect();
            for (wire, written) in chunk {
                match lookup.get(&norm(wire)) {
                    Some(v) => out.found.push((
                        written.clone(),
                        Price {
                            price: field_num(v, "current_price_usd"),
                            change_24h_pct: field_num(v, "price_change_24h"),
                            tvl: field_num(v, "tvl"),
                            volume_24h: field_num(v, "tx_volume_u_24h"),
                            updated_at: v
                                .get("updated_at")
                                .and_then(int)
                                .map_or(0, super::wire::seconds),
                        },
                    )),
                    None => out.missing.push(written.clone()),
                }
            }
        }
        Ok(out)
    }

    /// `GET /v2/tokens?keyword=`: tokens by symbol or contract address.
    pub fn search_tokens(&self, keyword: &str, cancel: Option<&Cancel>) -> Result<Vec<Token>> {
        let keyword = keyword.trim();
        if keyword.is_empty() {
            return Err(DslError::invalid(
                "search_tokens needs a symbol or address, e.g. search_tokens(\"PEPE\")",
            ));
        }
        let client = self.client("search_tokens")?;
        let q = vec![("keyword".to_string(), keyword.to_string())];
        let data = block_on(client.call("/v2/tokens", &Request::Get(q), cancel))?;
        let list = match &data {
            Value::Array(a) => a.clone(),
            Value::Object(o) => o
                .get("tokens")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(list.iter().map(Token::from_json).collect())
    }

    /// `GET /v2/tokens/{id}`: the token and its pairs.
    pub fn token(&self, id: &str, cancel: Option<&Cancel>) -> Result<(Token, Vec<Value>)> {
        let wire = parse_ave(id)?.wire();
        let client = self.client("token")?;
        let data =
            block_on(client.call(&format!("/v2/tokens/{wire}"), &Request::Get(vec![]), cancel))?;
        let tok = data.get("token").unwrap_or(&data);
        let pairs = data
            .get("pairs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok((Token::from_json(tok), pairs))
    }

    /// `GET /v2/supported_chains`.
    pub fn chains(&self, cancel: Option<&Cancel>) -> Result<Vec<Value>> {
        let client = self.client("chains")?;
        let data = block_on(client.call("/v2/supported_chains", &Request::Get(vec![]), cancel))?;
        match data {
            Value::Array(a) => Ok(a),
            _ => Err(DslError::data(
                "AVE sent malformed chains for /v2/supported_chains: not a list",
            )),
        }
    }
}

fn norm(id: &str) -> String {
    match parse_ave(id) {
        Ok(a) => a.wire(),
        Err(_) => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::config::Config;

    #[test]
    fn demo_prices_need_no_network() {
        let svc = DataService::new(Config::for_home("/tmp/stratbook-none"));
        let p = svc.prices(&["demo:BTC".into()], None).unwrap();
        assert_eq!(p.found.len(), 1);
        assert!((p.found[0].1.price / 104_600.0 - 1.0).abs() < 1e-9);
        assert_eq!(p.found[0].1.updated_at, DEMO_END);
    }

    #[test]
    fn offline_search_says_it_needs_the_network() {
        let svc = DataService::new(Config::for_home("/tmp/stratbook-none"));
        let e = svc.search_tokens("PEPE", None).unwrap_err().to_string();
        assert!(e.contains("offline") && e.contains("search_tokens"), "{e}");
    }

    #[test]
    fn tokens_are_read_from_search_results() {
        let t = Token::from_json(
            &json!({"token": "0xabc", "chain": "bsc", "symbol": "X", "current_price_usd": 1.5,
            "price_change_24h": "-2.5", "tvl": "100", "main_pair": "0xpair"}),
        );
        assert_eq!(t.token_id, "0xabc-bsc");
        assert_eq!(t.price, 1.5);
        assert_eq!(t.change_24h_pct, -2.5);
        assert_eq!(t.main_pair, "0xpair-bsc");
        assert!(t.market_cap.is_nan());
    }
}
