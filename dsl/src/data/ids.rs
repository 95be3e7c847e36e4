//! Token and pair ids: AVE's `<address>-<chain>` and the embedded feed's `demo:<NAME>`.
//!
//! AVE ids split on the LAST `-` (pair addresses can carry suffixes such as `_fo`, and nothing stops
//! an address from containing `-`). EVM addresses (`0x…`) are case-insensitive and are lowercased;
//! Solana and other base58 addresses are case-sensitive and kept as given (shared/ave-api.md §2.2).

use crate::error::{DslError, Result};

/// Which klines endpoint an id goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Token,
    Pair,
}

impl Kind {
    pub fn path(self) -> &'static str {
        match self {
            Kind::Token => "/v2/klines/token/",
            Kind::Pair => "/v2/klines/pair/",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Token => "token",
            Kind::Pair => "pair",
        }
    }
}

/// A parsed data id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataId {
    /// `demo:<NAME>`: the embedded synthetic feed (the name is upper-cased).
    Demo(String),
    /// An AVE id, normalised.
    Ave(AveId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AveId {
    pub address: String,
    pub chain: String,
}

impl AveId {
    /// `<address>-<chain>` as AVE expects it.
    pub fn wire(&self) -> String {
        format!("{}-{}", self.address, self.chain)
    }
}

impl DataId {
    pub fn parse(id: &str) -> Result<DataId> {
        let id = id.trim();
        if let Some(name) = id
            .strip_prefix("demo:")
            .or_else(|| id.strip_prefix("DEMO:"))
        {
            return Ok(DataId::Demo(name.trim().to_ascii_uppercase()));
        }
        parse_ave(id).map(DataId::Ave)
    }

    /// The canonical text of the id.
    pub fn canonical(&self) -> String {
        match self {
            DataId::Demo(n) => format!("demo:{n}"),
            DataId::Ave(a) => a.wire(),
        }
    }
}

/// Parses and normalises an AVE `<address>-<chain>` id.
pub fn parse_ave(id: &str) -> Result<AveId> {
    let id = id.trim();
    let bad = || {
        DslError::invalid(format!(
            "'{id}' is not an AVE id; use '<address>-<chain>' (e.g. '0x…-bsc', '…-solana'), \
             find one with search_tokens(\"PEPE\"), or use the demo feed: \"demo:PEPE\""
        ))
    };
    let (addr, chain) = id.rsplit_once('-').ok_or_else(bad)?;
    let (addr, chain) = (addr.trim(), chain.trim());
    if addr.is_empty()
        || chain.is_empty()
        || !chain.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || addr
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '?' || c == '#')
    {
        return Err(bad());
    }
    let evm = addr.len() > 2 && addr[..2].eq_ignore_ascii_case("0x");
    Ok(AveId {
        address: if evm {
            addr.to_ascii_lowercase()
        } else {
            addr.to_string()
        },
        chain: chain.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_on_the_last_dash() {
        let a = parse_ave("0xD1fa42F9c7dcb525231e2cf6db0235290ada6381_fo-bsc").unwrap();
        assert_eq!(a.address, "0xd1fa42f9c7dcb525231e2cf6db0235290ada6381_fo");
        assert_eq!(a.chain, "bsc");
        let b = parse_ave("weird-addr-solana").unwrap();
        assert_eq!(
            (b.address.as_str(), b.chain.as_str()),
            ("weird-addr", "solana")
        );
    }

    #[test]
    fn evm_ids_are_lowercased_and_solana_case_is_kept() {
        let e = parse_ave("0xABCDEF-ETH").unwrap();
        assert_eq!(e.wire(), "0xabcdef-eth");
        let s = parse_ave("6p6xgHyF7AeE6TZkSmFsko444wqoP15icUSqi2jfGiPN-solana").unwrap();
        assert_eq!(s.address, "6p6xgHyF7AeE6TZkSmFsko444wqoP15icUSqi2jfGiPN");
    }

    #[test]
    fn demo_ids_and_bad_ids() {
        assert_eq!(
            DataId::parse("demo:pepe").unwrap(),
            DataId::Demo("PEPE".into())
        );
        let e = DataId::parse("PEPE").unwrap_err().to_string();
        assert!(
            e.contains("search_tokens") && e.contains("demo:PEPE"),
            "{e}"
        );
        assert!(DataId::parse("abc-").is_err());
        assert!(DataId::parse("a/b-bsc").is_err());
    }
}
