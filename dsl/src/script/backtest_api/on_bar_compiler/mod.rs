//! The `on_bar` compiler: an `on_bar` body run without the interpreter's per-node costs.
//!
//! Most `on_bar` bodies are a few reads (`ctx.value(fast)`, `ctx.close(1)`, `ctx.position`),
//! number comparisons and an order. Rhai walks such a body at 150–250 ns per method call or
//! statement; this module lowers it once per run into a small tree of typed nodes that Rust walks
//! per bar in tens of nanoseconds, calling the same `CtxState` methods the registered `ctx`
//! methods call.
//!
//! # What lowers
//!
//! - `let` / `const`, assignment and `+= -= *= /= %=` to the body's own variables;
//! - `if` / `else`, also as a value (`let size = if up { 50 } else { 20 };`), blocks, `return`;
//! - number and bool constants, and the function's parameters (a closure's captures) read as
//!   values;
//! - `+ - * / %`, comparisons, unary `-` / `!`, `&&` / `||`, `abs` `min` `max` on numbers, map
//!   literals;
//! - on `ctx`: the `position cash equity avg_price bar_index` getters, `open high low close volume
//!   time` with or without `n`, `value(series[, n])` (a capture or a field of a captured map,
//!   `ctx.value(m.hist)`), `buy sell exit order cancel`.
//!
//! Anything else (loops, strings, other functions, `print`, a captured variable assigned to, a
//! script function named like a lowered call, ...) leaves the whole function to Rhai.
//!
//! # Semantics and fallback
//!
//! The arithmetic and comparisons are Rhai's own, case by case (`ops.rs`): float comparisons use
//! its relative epsilon, integer arithmetic is checked, `if` and `&&` want bools. Whatever the tree
//! cannot decide exactly as Rhai would (a type it does not expect, an integer overflow, a `ctx`
//! error) makes it give up on that bar with a [`Bail`] *before anything leaves it*: the caller
//! drops the bar's queued orders and Rhai runs the bar again, so an error carries Rhai's message
//! and position and a result never depends on which path ran. `dsl/tests/on_bar_compiled.rs`
//! checks that every strategy in a corpus lowers (or not) as expected and that both paths give
//! identical trades and errors.
//!
//! # Layout
//!
//! `tree.rs` is the typed tree, `lower.rs` builds it from Rhai's AST, `eval.rs` runs it for one
//! bar, `ops.rs` holds Rhai's operator semantics (tested against Rhai).

use crate::script::backtest_api::ctx::CtxState;
use rhai::{Dynamic, FnPtr, Module};

mod eval;
mod lower;
mod ops;
mod tree;

use eval::Evaluator;
use tree::{Stmt, Value};

/// The tree cannot decide this bar as Rhai would: Rhai runs it.
#[derive(Debug)]
pub struct Bail;

/// A lowered `on_bar` function and the values its parameters are bound to.
pub struct Program {
    body: Vec<Stmt>,
    /// The curried values (a closure's captures), in parameter order; shared cells stay shared,
    /// so a capture changed elsewhere is read as it is now.
    params: Vec<Dynamic>,
    /// The body's local variables, by slot (the allocation is reused from bar to bar).
    locals: Vec<Value>,
}

impl Program {
    /// Lowers `f` (called as `f(ctx)`) as Rhai would resolve it among `lib`; `None` when any part
    /// of the body is outside the subset.
    pub fn lower(lib: &[rhai::Shared<Module>], f: &FnPtr) -> Option<Program> {
        let (body, n_locals) = lower::lower_fn(lib, f)?;
        Some(Program {
            body,
            params: f.curry().to_vec(),
            locals: vec![Value::Unit; n_locals],
        })
    }

    /// Runs the body for the bar `st` describes. `Err(Bail)` leaves queued orders in `st` for
    /// the caller to drop.
    pub fn run(&mut self, st: &mut CtxState) -> Result<(), Bail> {
        let mut evaluator = Evaluator {
            st,
            params: &self.params,
            locals: &mut self.locals,
        };
        evaluator.block(&self.body).map(|_| ())
    }
}
