//! The engine's error type. Messages are short, lowercase and say what to do.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DslError {
    /// Bad input from a script: the message names the fix.
    #[error("{0}")]
    Invalid(String),
    /// A data source failed (network, API, cache, file).
    #[error("{0}")]
    Data(String),
    /// The run was interrupted by the user.
    #[error("interrupted")]
    Interrupted,
}

impl DslError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        DslError::Invalid(msg.into())
    }
    pub fn data(msg: impl Into<String>) -> Self {
        DslError::Data(msg.into())
    }
}

pub type Result<T, E = DslError> = std::result::Result<T, E>;
