//! Test support for Stratbook's end-to-end tests: a mock AVE Cloud server that speaks the
//! documented wire format (see `mock`) and a mock Anthropic Messages server (see `mock_llm`),
//! usable as a library from Rust tests and benches and as the `mock-ave` / `mock-llm` binaries
//! for Python tests.

pub mod mock;
pub mod mock_llm;

pub use mock::{Fault, MOCK_KEY, MockAve};
pub use mock_llm::{MOCK_LLM_KEY, MockLlm, Reply};

use dsl::data::config::Config;
use std::path::Path;

/// A data config pointing at `mock` (REST and stream) with the mock's key: online, plan pro,
/// fast client options.
pub fn mock_config(home: &Path, mock: &MockAve) -> Config {
    let mut c = Config::for_mock(home, &mock.url(), Some(MOCK_KEY));
    c.ws_base = mock.ws_url();
    c
}

/// An LLM config pointing at `mock` with the mock's key and fast client options.
pub fn mock_llm_config(mock: &MockLlm) -> dsl::llm::LlmConfig {
    dsl::llm::LlmConfig::for_mock(&mock.url(), Some(MOCK_LLM_KEY))
}
