//! One logged decision of an agent: what was asked, what came back, what the risk layer did.

use serde_json::Value;

/// Where a decision's answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerSource {
    /// Asked the model over the network.
    Model,
    /// Served from the answer cache (store or cache file).
    Cache,
    /// No answer: the call failed (the decision is `hold` and `error` says why).
    Error,
}

impl AnswerSource {
    pub fn name(self) -> &'static str {
        match self {
            AnswerSource::Model => "model",
            AnswerSource::Cache => "cache",
            AnswerSource::Error => "error",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DecisionRecord {
    /// Open time of the decision bar (unix seconds).
    pub bar_time: i64,
    pub token: String,
    pub prompt: String,
    /// The model's text (empty when there was none).
    pub response: String,
    /// The decision after the risk layer, as JSON (`Decision::to_json`).
    pub decision: Value,
    /// What the model asked for before the risk layer (`Null` when nothing parsed).
    pub proposed: Value,
    /// What the risk layer changed and why, `; `-joined (empty: nothing).
    pub risk: String,
    pub source: AnswerSource,
    /// Why the decision is a forced `hold` (API error, timeout, invalid JSON), else empty.
    pub error: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub latency_ms: f64,
}

impl DecisionRecord {
    /// Whether the risk layer changed the model's decision.
    pub fn overruled(&self) -> bool {
        !self.risk.is_empty()
    }
}
