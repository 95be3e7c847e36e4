//! LLM settings from the environment: `STRATBOOK_LLM_API_KEY` (else `ANTHROPIC_API_KEY`),
//! `STRATBOOK_LLM_BASE_URL`, `STRATBOOK_LLM_MODEL`, `STRATBOOK_LLM_RPM`, `STRATBOOK_LLM_TIMEOUT`.
//! The key is held in an [`ApiKey`], which prints itself as `***`.

use crate::data::config::ApiKey;
use std::time::Duration;

/// Where the client posts (`{base}/v1/messages`) unless `STRATBOOK_LLM_BASE_URL` says otherwise.
pub const DEFAULT_LLM_BASE: &str = "https://api.anthropic.com";
/// The model asked unless `STRATBOOK_LLM_MODEL` (or a call's `model`) names another.
pub const DEFAULT_LLM_MODEL: &str = "claude-sonnet-4-5";
/// The `anthropic-version` header the client sends.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Client settings. Defaults suit the real API; [`LlmConfig::for_mock`] shrinks the waits so fault
/// paths in tests run in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct LlmConfig {
    pub api_key: Option<ApiKey>,
    /// Without a trailing slash; the client posts to `{base}/v1/messages`.
    pub base_url: String,
    pub model: String,
    /// Requests per minute the client allows itself (client-side pacing).
    pub requests_per_minute: f64,
    /// Whole-request timeout (connect + answer + body).
    pub timeout: Duration,
    /// Attempts after the first for 429, 529, other 5xx, timeouts and dropped connections.
    pub max_retries: u32,
    /// First backoff delay; doubled on each retry.
    pub backoff: Duration,
    /// Longest single wait; a `Retry-After` above it fails at once instead of blocking the cell.
    pub max_wait: Duration,
    /// The largest answer read.
    pub max_body_bytes: usize,
}

impl LlmConfig {
    /// Reads the environment (empty variables count as unset).
    pub fn from_env() -> LlmConfig {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let d = LlmConfig::default();
        let positive = |k: &str| {
            var(k)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        LlmConfig {
            api_key: var("STRATBOOK_LLM_API_KEY")
                .or_else(|| var("ANTHROPIC_API_KEY"))
                .map(|k| ApiKey::new(k.trim())),
            base_url: var("STRATBOOK_LLM_BASE_URL")
                .map(|b| b.trim().trim_end_matches('/').to_string())
                .unwrap_or(d.base_url),
            model: var("STRATBOOK_LLM_MODEL")
                .map(|m| m.trim().to_string())
                .unwrap_or(d.model),
            requests_per_minute: positive("STRATBOOK_LLM_RPM").unwrap_or(d.requests_per_minute),
            timeout: positive("STRATBOOK_LLM_TIMEOUT")
                .map(Duration::from_secs_f64)
                .unwrap_or(d.timeout),
            ..d
        }
    }

    /// Settings for a mock server at `base`: short timeout and waits, no pacing to speak of.
    pub fn for_mock(base: &str, key: Option<&str>) -> LlmConfig {
        LlmConfig {
            api_key: key.map(ApiKey::new),
            base_url: base.trim_end_matches('/').to_string(),
            model: DEFAULT_LLM_MODEL.to_string(),
            requests_per_minute: 600_000.0,
            timeout: Duration::from_millis(1500),
            max_retries: 2,
            backoff: Duration::from_millis(5),
            max_wait: Duration::from_secs(3),
            max_body_bytes: 4 << 20,
        }
    }

    /// Whether a key is set (the request itself says what to set when it is not).
    pub fn has_key(&self) -> bool {
        self.api_key.is_some()
    }
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            api_key: None,
            base_url: DEFAULT_LLM_BASE.to_string(),
            model: DEFAULT_LLM_MODEL.to_string(),
            requests_per_minute: 50.0,
            timeout: Duration::from_secs(120),
            max_retries: 3,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            max_body_bytes: 4 << 20,
        }
    }
}

/// A rough cost in US dollars of `input`/`output` tokens on `model`, from list prices per million
/// tokens (Haiku $1/$5, Sonnet $3/$15, Opus $15/$75; an unknown model is priced as Sonnet). An
/// estimate for the tear sheet, not a bill.
pub fn estimate_cost_usd(model: &str, input: u64, output: u64) -> f64 {
    let m = model.to_ascii_lowercase();
    let (i, o) = if m.contains("haiku") {
        (1.0, 5.0)
    } else if m.contains("opus") {
        (15.0, 75.0)
    } else {
        (3.0, 15.0)
    };
    (input as f64 * i + output as f64 * o) / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_never_prints_its_key() {
        let cfg = LlmConfig::for_mock("http://127.0.0.1:9/", Some("sk-ant-secret-42"));
        assert!(!format!("{cfg:?}").contains("secret"));
        assert_eq!(cfg.base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn cost_follows_the_model_family() {
        assert!((estimate_cost_usd("claude-sonnet-4-5", 1_000_000, 0) - 3.0).abs() < 1e-9);
        assert!((estimate_cost_usd("claude-haiku-4-5", 0, 1_000_000) - 5.0).abs() < 1e-9);
    }
}
