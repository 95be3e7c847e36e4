//! The language-model layer shared by `%ai` (cells written by a model) and `llm_decide` (a model
//! deciding inside `on_bar`): one Anthropic Messages client with its settings, rate limit, retries
//! and key hygiene ([`client`], [`config`]), and the pure parts of an LLM trading agent that need no
//! engine: the decision schema and its parser ([`decision`]), the prompt layout ([`prompt`]) and
//! the risk layer that clips or refuses a decision ([`risk`]).
//!
//! Nothing here knows Jupyter, Rhai or the backtest engine; the script layer wires it in.
//!
//! ```no_run
//! use dsl::cancel::Cancel;
//! use dsl::llm::{Client, LlmConfig, Request};
//! let client = Client::new(LlmConfig::from_env())?;
//! let answer = client.complete(&Request::user("You write Rhai.", "an SMA cross", 1024), &Cancel::new())?;
//! println!("{} ({} tokens in, {} out)", answer.text, answer.input_tokens, answer.output_tokens);
//! # Ok::<(), dsl::DslError>(())
//! ```

pub mod client;
pub mod config;
pub mod decision;
pub mod prompt;
pub mod record;
pub mod risk;

pub use client::{Client, Message, Request, Response, Role};
pub use config::{DEFAULT_LLM_BASE, DEFAULT_LLM_MODEL, LlmConfig, estimate_cost_usd};
pub use decision::{Action, Decision, parse_decision};
pub use record::{AnswerSource, DecisionRecord};
pub use risk::{RiskLimits, RiskState};
