//! `help()` and `help("name")`.

use super::docs::Docs;
use crate::runtime::Runtime;
use rhai::Engine;
use std::sync::Arc;

pub fn register(_engine: &mut Engine, _rt: &Arc<Runtime>, _docs: Arc<Docs>) {}
