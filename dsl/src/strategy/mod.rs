//! Strategies: what decides, at each bar's close, which orders to place. Two styles share one
//! engine: vectorized signals ([`Signals`], bool Series computed up front) and per-bar logic (any
//! [`BarLogic`], e.g. a script's `on_bar` closure). Both see a [`Ctx`] that exposes bars up to the
//! current one only.

pub mod ave_config;
pub mod context;
pub mod signals;

pub use context::Ctx;
pub use signals::Signals;

use crate::error::Result;
use crate::order::{Exits, Size};

/// Decides at the close of each bar. Called once per token with a bar at that time.
pub trait BarLogic {
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<()>;

    /// The first bar at or after `i` on which [`BarLogic::on_bar`] might do anything (place or
    /// cancel an order); `usize::MAX` when none will. The engine skips the calls before it, so
    /// a vectorized strategy costs nothing on quiet bars. Logic that cannot tell returns `i`.
    fn next_active(&self, i: usize) -> usize {
        i
    }
}

/// A strategy's name and the defaults every entry inherits (size, stops).
#[derive(Clone, Debug, PartialEq)]
pub struct StrategyOptions {
    pub name: String,
    /// Default entry size (100 % of equity unless set).
    pub size: Size,
    /// Stop-loss / take-profit / trailing stop applied to every entry that sets none.
    pub exits: Exits,
}

impl Default for StrategyOptions {
    fn default() -> Self {
        StrategyOptions {
            name: "strategy".into(),
            size: Size::Pct(100.0),
            exits: Exits::default(),
        }
    }
}
