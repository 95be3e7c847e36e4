//! Test support for Stratbook's end-to-end tests: a mock AVE Cloud server that speaks the
//! documented wire format (see `mock`), usable as a library from Rust tests and benches and as
//! the `mock-ave` binary for Python tests.

pub mod mock;

pub use mock::{Fault, MOCK_KEY, MockAve};

use dsl::data::config::Config;
use std::path::Path;

/// A data config pointing at `mock` with the mock's key: online, plan pro, fast client options.
pub fn mock_config(home: &Path, mock: &MockAve) -> Config {
    Config::for_mock(home, &mock.url(), Some(MOCK_KEY))
}
