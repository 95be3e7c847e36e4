//! Rhai bindings: backtest.

use super::api::Api;
use crate::runtime::Runtime;
use std::sync::Arc;

pub fn register(_api: &mut Api, _rt: &Arc<Runtime>) {}
