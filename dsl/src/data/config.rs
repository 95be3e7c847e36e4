//! Data configuration from the environment: `AVE_API_KEY`, `AVE_API_BASE`, `AVE_API_PLAN`,
//! `STRATBOOK_HOME`, `STRATBOOK_OFFLINE`. The key is held in [`ApiKey`], which never prints itself.

use std::fmt;
use std::path::PathBuf;

/// The default AVE Data API base (see shared/ave-api.md §1).
pub const DEFAULT_AVE_BASE: &str = "https://prod.ave-api.com";

/// An API key. `Debug` and `Display` print `***`, so a key cannot leak through formatting.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(k: impl Into<String>) -> Self {
        ApiKey(k.into())
    }
    /// The key itself, for the `X-API-KEY` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// AVE plans and their request rates (shared/ave-api.md §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    Free,
    Normal,
    Pro,
}

impl Plan {
    pub fn parse(s: &str) -> Option<Plan> {
        match s.trim().to_ascii_lowercase().as_str() {
            "free" => Some(Plan::Free),
            "normal" => Some(Plan::Normal),
            "pro" => Some(Plan::Pro),
            _ => None,
        }
    }
    pub fn requests_per_second(self) -> u32 {
        match self {
            Plan::Free => 1,
            Plan::Normal => 5,
            Plan::Pro => 20,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub api_key: Option<ApiKey>,
    pub api_base: String,
    pub plan: Plan,
    /// Cache and database folder.
    pub home: PathBuf,
    /// Never touch the network.
    pub offline: bool,
}

impl Config {
    /// Reads the environment. `STRATBOOK_HOME` defaults to `~/.stratbook`.
    pub fn from_env() -> Config {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let home = var("STRATBOOK_HOME").map(PathBuf::from).unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir)
                .join(".stratbook")
        });
        Config {
            api_key: var("AVE_API_KEY").map(ApiKey::new),
            api_base: var("AVE_API_BASE")
                .unwrap_or_else(|| DEFAULT_AVE_BASE.into())
                .trim_end_matches('/')
                .to_string(),
            plan: var("AVE_API_PLAN")
                .and_then(|p| Plan::parse(&p))
                .unwrap_or(Plan::Free),
            home,
            offline: var("STRATBOOK_OFFLINE")
                .is_some_and(|v| v != "0" && v.to_ascii_lowercase() != "false"),
        }
    }

    /// A config for tests: a given home, offline unless a base is set.
    pub fn for_home(home: impl Into<PathBuf>) -> Config {
        Config {
            api_key: None,
            api_base: DEFAULT_AVE_BASE.into(),
            plan: Plan::Free,
            home: home.into(),
            offline: true,
        }
    }

    pub fn cache_path(&self) -> PathBuf {
        self.home.join("cache.sqlite")
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.join("stratbook.sqlite")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_never_formats_itself() {
        let k = ApiKey::new("sk-secret-123");
        assert_eq!(format!("{k:?} {k}"), "ApiKey(***) ***");
        let c = Config {
            api_key: Some(k),
            ..Config::for_home("/tmp/x")
        };
        assert!(!format!("{c:?}").contains("secret"));
    }
}
