//! Data configuration from the environment: `AVE_API_KEY`, `AVE_API_BASE`, `AVE_API_PLAN`,
//! `AVE_WSS_BASE`, `STRATBOOK_HOME`, `STRATBOOK_OFFLINE`. The key is held in [`ApiKey`], which never prints itself.

use crate::sandbox::Sandbox;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The default AVE Data API base (see shared/ave-api.md §1).
pub const DEFAULT_AVE_BASE: &str = "https://prod.ave-api.com";

/// The default AVE WebSocket endpoint, Pro plan (shared/ave-api.md §6).
pub const DEFAULT_AVE_WSS: &str = "wss://wss.ave-api.xyz";

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

/// Client tuning: timeouts, retries and backoff. Defaults suit the real API; tests shrink them so
/// fault paths run in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientOptions {
    /// Whole-request timeout (connect + response + body).
    pub timeout: Duration,
    /// Attempts after the first one for throttling, 5xx, timeouts and malformed bodies.
    pub max_retries: u32,
    /// First backoff delay; doubled on each retry.
    pub backoff: Duration,
    /// Longest single wait (backoff or `Retry-After`). A `Retry-After` above it fails at once.
    pub max_wait: Duration,
    /// Requests per second; `None` means the plan's rate.
    pub rps: Option<f64>,
    /// Kline points asked for per request (AVE's maximum is 1000).
    pub page_limit: u32,
    /// The largest answer read; a longer one fails instead of filling memory (a page of 1000
    /// klines is about 150 KB).
    pub max_body_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            max_retries: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            rps: None,
            page_limit: 1000,
            max_body_bytes: 32 << 20,
        }
    }
}

impl ClientOptions {
    /// Options for tests against a local mock: short timeouts and delays, no rate limit.
    pub fn fast() -> Self {
        ClientOptions {
            timeout: Duration::from_millis(1500),
            max_retries: 3,
            backoff: Duration::from_millis(5),
            max_wait: Duration::from_secs(3),
            rps: Some(10_000.0),
            page_limit: 1000,
            max_body_bytes: 32 << 20,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub api_key: Option<ApiKey>,
    pub api_base: String,
    /// The WebSocket endpoint of live kline streams (Pro plan).
    pub ws_base: String,
    pub plan: Plan,
    /// Cache and database folder.
    pub home: PathBuf,
    /// Never touch the network.
    pub offline: bool,
    /// Timeouts, retries and rate override for the AVE client.
    pub client: ClientOptions,
    /// The folders file built-ins may use (`crate::sandbox`).
    pub sandbox: Sandbox,
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
            ws_base: var("AVE_WSS_BASE").unwrap_or_else(|| DEFAULT_AVE_WSS.into()),
            plan: var("AVE_API_PLAN")
                .and_then(|p| Plan::parse(&p))
                .unwrap_or(Plan::Free),
            sandbox: Sandbox::from_env(home.clone()),
            home,
            offline: var("STRATBOOK_OFFLINE")
                .is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false")),
            client: ClientOptions::default(),
        }
    }

    /// A config for tests: a given home, offline unless a base is set.
    pub fn for_home(home: impl Into<PathBuf>) -> Config {
        let home = home.into();
        Config {
            api_key: None,
            api_base: DEFAULT_AVE_BASE.into(),
            ws_base: DEFAULT_AVE_WSS.into(),
            plan: Plan::Free,
            sandbox: Sandbox::from_env(home.clone()),
            home,
            offline: true,
            client: ClientOptions::default(),
        }
    }

    /// A config for a mock AVE server at `base`: online, plan pro, fast client options.
    pub fn for_mock(home: impl Into<PathBuf>, base: &str, key: Option<&str>) -> Config {
        let home = home.into();
        Config {
            api_key: key.map(ApiKey::new),
            api_base: base.trim_end_matches('/').to_string(),
            // A closed local port until the test names its mock's stream: a test never
            // reaches AVE's real endpoint.
            ws_base: "ws://127.0.0.1:9".into(),
            plan: Plan::Pro,
            sandbox: Sandbox::from_env(home.clone()),
            home,
            offline: false,
            client: ClientOptions::fast(),
        }
    }

    /// Requests per second the client allows itself.
    pub fn requests_per_second(&self) -> f64 {
        self.client
            .rps
            .unwrap_or(self.plan.requests_per_second() as f64)
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
