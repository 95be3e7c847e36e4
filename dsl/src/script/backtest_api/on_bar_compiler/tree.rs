//! The typed tree a lowered `on_bar` body becomes: values, expressions, statements, and the
//! operators, `ctx` getters, order actions, built-in functions and series references they use.
//! `lower.rs` builds it from Rhai's AST, `eval.rs` walks it per bar.

use crate::order::Side;
use crate::strategy::context::Field;
use rhai::{Dynamic, FLOAT, INT, ImmutableString, Map};

/// A value in the tree. `Opaque` holds what only passes through (a map for an order, a series).
#[derive(Clone, Debug)]
pub(super) enum Value {
    Float(FLOAT),
    Int(INT),
    Bool(bool),
    Unit,
    Opaque(Dynamic),
}

impl Value {
    pub(super) fn from_dynamic(d: Dynamic) -> Value {
        if let Ok(x) = d.as_float() {
            Value::Float(x)
        } else if let Ok(i) = d.as_int() {
            Value::Int(i)
        } else if let Ok(b) = d.as_bool() {
            Value::Bool(b)
        } else if d.is_unit() {
            Value::Unit
        } else {
            Value::Opaque(d)
        }
    }

    pub(super) fn into_dynamic(self) -> Dynamic {
        match self {
            Value::Float(x) => Dynamic::from_float(x),
            Value::Int(i) => Dynamic::from_int(i),
            Value::Bool(b) => Dynamic::from_bool(b),
            Value::Unit => Dynamic::UNIT,
            Value::Opaque(d) => d,
        }
    }
}

/// Rhai's binary operators on numbers and bools (also the `op=` of a compound assignment).
#[derive(Clone, Copy, Debug)]
pub(super) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// The `ctx` properties: `ctx.position`, `ctx.cash`, ...
#[derive(Clone, Copy, Debug)]
pub(super) enum Getter {
    Position,
    Cash,
    Equity,
    AvgPrice,
    BarIndex,
}

/// The `ctx` methods that queue or cancel orders: `buy` / `sell`, `exit`, `order`, `cancel`.
#[derive(Clone, Copy, Debug)]
pub(super) enum OrderAction {
    Entry(Side),
    Exit,
    Order,
    Cancel,
}

/// Rhai's scalar `abs`, `min` and `max` (`packages/arithmetic.rs`, `packages/logic.rs`).
#[derive(Clone, Copy, Debug)]
pub(super) enum Builtin {
    Abs,
    Min,
    Max,
}

/// The series of `ctx.value(..)`: a captured value, or a property of one (`ctx.value(m.hist)` with
/// `m = macd(..)`). The `usize` is the parameter's index.
#[derive(Debug)]
pub(super) enum SeriesRef {
    Param(usize),
    Field(usize, ImmutableString),
}

/// An expression. Locals are slots numbered by the lowering; parameters are the function's curried
/// values (a closure's captures), `ctx` excluded. An optional `Box<Expr>` is a `ctx` call's
/// optional argument (bars back for prices and values, the options map for orders).
#[derive(Debug)]
pub(super) enum Expr {
    Const(Value),
    Local(usize),
    Param(usize),
    /// `ctx.position`, ...
    Getter(Getter),
    /// `ctx.close()`, `ctx.close(n)`, ...
    Price(Field, Option<Box<Expr>>),
    /// `ctx.value(series)`, `ctx.value(series, n)`.
    SeriesValue(SeriesRef, Option<Box<Expr>>),
    /// `ctx.buy()`, `ctx.exit(#{ .. })`, ...: evaluates to `()`.
    Order(OrderAction, Option<Box<Expr>>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// Unary `-`.
    Neg(Box<Expr>),
    /// Unary `+`.
    Plus(Box<Expr>),
    Not(Box<Expr>),
    /// `a && b && ..`, short-circuiting.
    And(Vec<Expr>),
    /// `a || b || ..`, short-circuiting.
    Or(Vec<Expr>),
    /// A map literal: Rhai's template (its keys) and the expressions of its values.
    Map(Map, Vec<(ImmutableString, Expr)>),
    /// `abs(x)`, `min(a, b)`, `a.max(b)`, ...: the receiver is the first argument.
    Call(Builtin, Vec<Expr>),
    /// A block in expression position (`let size = if up { 50 } else { 20 };`): its value.
    Block(Vec<Stmt>),
}

/// A statement. `usize` is a local's slot.
#[derive(Debug)]
pub(super) enum Stmt {
    /// `let` / `const`.
    Let(usize, Expr),
    /// `x = e`, or `x op= e` with the operator.
    Assign(usize, Option<BinaryOp>, Expr),
    /// `if cond { .. } else { .. }`; a missing `else` is an empty block.
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// An expression statement: its value is the statement's (and a block's, when last).
    Expr(Expr),
    Return(Option<Expr>),
}

/// How a statement ended: with its value (a block's value is its last statement's), or `return`.
pub(super) enum Flow {
    Next(Value),
    Return,
}
