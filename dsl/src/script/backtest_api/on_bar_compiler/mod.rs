//! `on_bar` without the interpreter's per-node costs.
//!
//! Most `on_bar` bodies are a few reads (`ctx.value(fast)`, `ctx.close(1)`, `ctx.position`), number
//! comparisons and an order. Rhai walks such a body at 150–250 ns per method call or statement; this
//! module lowers it once per run into a small tree of typed nodes that Rust walks per bar in tens
//! of nanoseconds, calling the same `CtxState` methods the registered `ctx` methods call.
//!
//! What lowers: `let` / `const`, assignment and `+= -= *= /= %=` to the body's own variables, `if` /
//! `else` (also as a value: `let size = if up { 50 } else { 20 };`), blocks, `return`, number and bool constants, the function's parameters (a closure's
//! captures) read as values, `+ - * / %`, comparisons, unary `-` / `!`, `&&` / `||`, `abs` `min`
//! `max` on numbers, map literals, and on `ctx`: the `position cash equity avg_price bar_index`
//! getters, `open high low close volume time` with or without `n`, `value(series[, n])` (a capture
//! or a field of a captured map, `ctx.value(m.hist)`), `buy sell exit order cancel`. Anything
//! else (loops, strings, other functions, `print`, a captured variable assigned to, ...) leaves
//! the whole function to Rhai.
//!
//! The arithmetic and comparisons are Rhai's own, case by case: float comparisons use its relative
//! epsilon, integer arithmetic is checked, `if` and `&&` want bools. Whatever the tree cannot decide
//! exactly as Rhai would (a type it does not expect, an integer overflow, a `ctx` error) makes it
//! give up on that bar *before anything leaves it*: the bar's queued orders are dropped and Rhai
//! runs the bar again, so an error carries Rhai's message and position and a result never depends
//! on which path ran. `tests` check that every strategy in a corpus lowers and that both paths give
//! identical trades.

use super::ctx::CtxState;
use crate::backtest::order::Side;
use crate::series::Series;
use crate::strategy::context::Field;
use rhai::{
    ASTFlags, ASTNode, Dynamic, Expr, FLOAT, FnPtr, INT, ImmutableString, Map, Module, Stmt, Token,
};

mod ops;

use ops::{abs, binary, min_max};

/// The tree cannot decide this bar as Rhai would: Rhai runs it.
#[derive(Debug)]
pub struct Bail;

type R<T> = Result<T, Bail>;

/// A value in the tree. `D` holds what only passes through (a map for an order, a series).
#[derive(Clone, Debug)]
enum V {
    F(FLOAT),
    I(INT),
    B(bool),
    U,
    D(Dynamic),
}

impl V {
    fn from_dynamic(d: Dynamic) -> V {
        if let Ok(x) = d.as_float() {
            V::F(x)
        } else if let Ok(i) = d.as_int() {
            V::I(i)
        } else if let Ok(b) = d.as_bool() {
            V::B(b)
        } else if d.is_unit() {
            V::U
        } else {
            V::D(d)
        }
    }

    fn into_dynamic(self) -> Dynamic {
        match self {
            V::F(x) => Dynamic::from_float(x),
            V::I(i) => Dynamic::from_int(i),
            V::B(b) => Dynamic::from_bool(b),
            V::U => Dynamic::UNIT,
            V::D(d) => d,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
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

impl Op {
    fn from_token(t: &Token) -> Option<Op> {
        Some(match t {
            Token::Plus => Op::Add,
            Token::Minus => Op::Sub,
            Token::Multiply => Op::Mul,
            Token::Divide => Op::Div,
            Token::Modulo => Op::Rem,
            Token::EqualsTo => Op::Eq,
            Token::NotEqualsTo => Op::Ne,
            Token::GreaterThan => Op::Gt,
            Token::GreaterThanEqualsTo => Op::Ge,
            Token::LessThan => Op::Lt,
            Token::LessThanEqualsTo => Op::Le,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Getter {
    Position,
    Cash,
    Equity,
    AvgPrice,
    BarIndex,
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Entry(Side),
    Exit,
    Order,
    Cancel,
}

#[derive(Debug)]
enum E {
    Const(V),
    Local(usize),
    Param(usize),
    Get(Getter),
    Price(Field, Option<Box<E>>),
    Value(SeriesRef, Option<Box<E>>),
    Act(Act, Option<Box<E>>),
    Bin(Op, Box<E>, Box<E>),
    Neg(Box<E>),
    Plus(Box<E>),
    Not(Box<E>),
    And(Vec<E>),
    Or(Vec<E>),
    Map(Map, Vec<(ImmutableString, E)>),
    Call(Fun, Vec<E>),
    /// A block in expression position (`let size = if up { 50 } else { 20 };`): its value.
    Block(Vec<S>),
}

/// Rhai's scalar `abs`, `min` and `max` (`packages/arithmetic.rs`, `packages/logic.rs`).
#[derive(Clone, Copy, Debug)]
enum Fun {
    Abs,
    Min,
    Max,
}

impl Fun {
    fn from_call(name: &str, n: usize) -> Option<Fun> {
        Some(match (name, n) {
            ("abs", 1) => Fun::Abs,
            ("min", 2) => Fun::Min,
            ("max", 2) => Fun::Max,
            _ => return None,
        })
    }
}

/// The series of `ctx.value(..)`: a captured value, or a property of one (`ctx.value(m.hist)` with
/// `m = macd(..)`).
#[derive(Debug)]
enum SeriesRef {
    Param(usize),
    Field(usize, ImmutableString),
}

#[derive(Debug)]
enum S {
    Let(usize, E),
    Set(usize, Option<Op>, E),
    If(E, Vec<S>, Vec<S>),
    Do(E),
    Return(Option<E>),
}

/// How a statement ended: with its value (a block's value is its last statement's), or `return`.
enum Flow {
    Next(V),
    Return,
}

/// A lowered `on_bar` function and the values its parameters are bound to.
pub struct Program {
    body: Vec<S>,
    /// The curried values (a closure's captures), in parameter order; shared cells stay shared,
    /// so a capture changed elsewhere is read as it is now.
    params: Vec<Dynamic>,
    locals: Vec<V>,
}

impl Program {
    /// Lowers `f` (called as `f(ctx)`) as Rhai would resolve it among `lib`; `None` when any part
    /// of the body is outside the subset.
    pub fn lower(lib: &[rhai::Shared<Module>], f: &FnPtr) -> Option<Program> {
        let arity = f.curry().len() + 1;
        let def = lib
            .iter()
            .rev()
            .find_map(|m| m.get_script_fn(f.fn_name(), arity))?;
        // A script function named like a lowered call would take the call: leave those to Rhai.
        let shadowed = lib.iter().any(|m| {
            m.iter_script_fn_info()
                .any(|(.., name, _, _)| LOWERED_CALLS.contains(&name))
        });
        if shadowed {
            return None;
        }
        // The body's statements, reached through the AST walker (the payload type is private).
        let mut module = Module::new();
        module.set_script_fn(def.clone());
        let mut body: Vec<Stmt> = Vec::new();
        rhai::AST::new_from_module(module).walk(&mut |path: &[ASTNode]| {
            if let [ASTNode::Stmt(s)] = path {
                body.push((*s).clone());
            }
            true
        });
        let mut lower = Lower {
            params: &def.params,
            scopes: Vec::new(),
            slots: Vec::new(),
            in_expr: 0,
        };
        let body = lower.block(&body)?;
        Some(Program {
            body,
            params: f.curry().to_vec(),
            locals: vec![V::U; lower.slots.len()],
        })
    }

    /// Runs the body for the bar `st` describes. `Err(Bail)` leaves queued orders in `st` for
    /// the caller to drop.
    pub fn run(&mut self, st: &mut CtxState) -> R<()> {
        let mut rt = Rt {
            st,
            params: &self.params,
            locals: &mut self.locals,
        };
        rt.block(&self.body).map(|_| ())
    }
}

/// Names whose calls are lowered: a script function with one of them would take the call.
const LOWERED_CALLS: &[&str] = &[
    "open", "high", "low", "close", "volume", "time", "value", "buy", "sell", "exit", "order",
    "cancel", "abs", "min", "max",
];

struct Lower<'a> {
    params: &'a [ImmutableString],
    /// Visible locals, innermost last: (name, slot).
    scopes: Vec<(ImmutableString, usize)>,
    /// Per slot: declared `const`.
    slots: Vec<bool>,
    /// Inside a block whose value is used (no `return` there).
    in_expr: usize,
}

enum Name {
    Local(usize),
    Param(usize),
    Ctx,
}

impl Lower<'_> {
    fn resolve(&self, name: &str) -> Option<Name> {
        if let Some((_, slot)) = self.scopes.iter().rev().find(|(n, _)| n == name) {
            return Some(Name::Local(*slot));
        }
        let i = self.params.iter().rposition(|p| p == name)?;
        Some(if i + 1 == self.params.len() {
            Name::Ctx
        } else {
            Name::Param(i)
        })
    }

    fn block(&mut self, stmts: &[Stmt]) -> Option<Vec<S>> {
        let mark = self.scopes.len();
        let mut out = Vec::new();
        for s in stmts {
            self.stmt(s, &mut out)?;
        }
        self.scopes.truncate(mark);
        Some(out)
    }

    fn stmt(&mut self, s: &Stmt, out: &mut Vec<S>) -> Option<()> {
        match s {
            Stmt::Noop(..) if self.in_expr > 0 => out.push(S::Do(E::Const(V::U))),
            Stmt::Noop(..) => {}
            Stmt::Var(x, flags, _) => {
                let (ident, init, _) = &**x;
                if flags.intersects(ASTFlags::EXPORTED) {
                    return None;
                }
                let e = self.expr(init)?;
                let slot = self.slots.len();
                self.slots.push(flags.intersects(ASTFlags::CONSTANT));
                self.scopes.push((ident.name.clone(), slot));
                out.push(S::Let(slot, e));
            }
            Stmt::Assignment(x) => {
                let (op, bin) = &**x;
                let Expr::Variable(v, _, _) = &bin.lhs else {
                    return None;
                };
                if !v.2.is_empty() {
                    return None;
                }
                let Name::Local(slot) = self.resolve(&v.1)? else {
                    return None; // captures and ctx are not assigned to here
                };
                if self.slots[slot] {
                    return None;
                }
                let op = match op.get_op_assignment_info() {
                    None => None,
                    Some((.., t, _)) => match Op::from_token(t)? {
                        o @ (Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem) => Some(o),
                        _ => return None,
                    },
                };
                out.push(S::Set(slot, op, self.expr(&bin.rhs)?));
            }
            Stmt::If(fc, _) => {
                let cond = self.expr(&fc.expr)?;
                let body = self.block(fc.body.statements())?;
                let branch = self.block(fc.branch.statements())?;
                out.push(S::If(cond, body, branch));
            }
            Stmt::Block(b) => {
                let inner = self.block(b.statements())?;
                // A nested block is its own scope, which `block` already closed: splice it in
                // (an empty one still has the value `()`).
                if inner.is_empty() {
                    out.push(S::Do(E::Const(V::U)));
                }
                out.extend(inner);
            }
            Stmt::Expr(e) => out.push(S::Do(self.expr(e)?)),
            Stmt::FnCall(call, pos) => {
                out.push(S::Do(self.expr(&Expr::FnCall(call.clone(), *pos))?));
            }
            Stmt::Return(e, flags, _) if flags.is_empty() && self.in_expr == 0 => {
                let e = match e {
                    Some(e) => Some(self.expr(e)?),
                    None => None,
                };
                out.push(S::Return(e));
            }
            _ => return None,
        }
        Some(())
    }

    fn expr(&mut self, e: &Expr) -> Option<E> {
        Some(match e {
            Expr::IntegerConstant(i, _) => E::Const(V::I(*i)),
            Expr::FloatConstant(f, _) => E::Const(V::F(**f)),
            Expr::BoolConstant(b, _) => E::Const(V::B(*b)),
            Expr::Unit(_) => E::Const(V::U),
            Expr::StringConstant(s, _) => E::Const(V::D(s.clone().into())),
            Expr::DynamicConstant(d, _) => E::Const(V::from_dynamic((**d).clone())),
            Expr::Variable(v, _, _) => {
                if !v.2.is_empty() {
                    return None;
                }
                match self.resolve(&v.1)? {
                    Name::Local(slot) => E::Local(slot),
                    Name::Param(i) => E::Param(i),
                    Name::Ctx => return None,
                }
            }
            Expr::And(xs, _) => E::And(xs.iter().map(|x| self.expr(x)).collect::<Option<_>>()?),
            Expr::Or(xs, _) => E::Or(xs.iter().map(|x| self.expr(x)).collect::<Option<_>>()?),
            Expr::FnCall(call, _) => {
                if !call.namespace.is_empty() || call.capture_parent_scope {
                    return None;
                }
                let Some(tok) = call.op_token.as_ref() else {
                    let f = Fun::from_call(&call.name, call.args.len())?;
                    let args = call.args.iter().map(|a| self.expr(a));
                    return Some(E::Call(f, args.collect::<Option<_>>()?));
                };
                let mut args = call.args.iter();
                match (call.args.len(), tok) {
                    (1, Token::Minus | Token::UnaryMinus) => {
                        E::Neg(Box::new(self.expr(args.next()?)?))
                    }
                    (1, Token::Plus | Token::UnaryPlus) => {
                        E::Plus(Box::new(self.expr(args.next()?)?))
                    }
                    (1, Token::Bang) => E::Not(Box::new(self.expr(args.next()?)?)),
                    (2, t) => {
                        let op = Op::from_token(t)?;
                        let a = self.expr(args.next()?)?;
                        let b = self.expr(args.next()?)?;
                        E::Bin(op, Box::new(a), Box::new(b))
                    }
                    _ => return None,
                }
            }
            Expr::Stmt(b) => {
                self.in_expr += 1;
                let inner = self.block(b.statements());
                self.in_expr -= 1;
                E::Block(inner?)
            }
            Expr::Map(x, _) => {
                let (items, template) = &**x;
                let mut vals = Vec::with_capacity(items.len());
                for (k, v) in items.iter() {
                    vals.push((k.name.clone(), self.expr(v)?));
                }
                E::Map(template.clone(), vals)
            }
            Expr::Dot(bin, flags, _) if flags.is_empty() => {
                let on_ctx = match &bin.lhs {
                    Expr::Variable(v, _, _) => {
                        v.2.is_empty() && matches!(self.resolve(&v.1)?, Name::Ctx)
                    }
                    _ => false,
                };
                if !on_ctx {
                    // `x.abs()`, `a.max(b)`: the receiver is the first argument.
                    let Expr::MethodCall(call, _) = &bin.rhs else {
                        return None;
                    };
                    let f = Fun::from_call(&call.name, call.args.len() + 1)?;
                    let mut args = vec![self.expr(&bin.lhs)?];
                    for a in call.args.iter() {
                        args.push(self.expr(a)?);
                    }
                    return Some(E::Call(f, args));
                }
                match &bin.rhs {
                    Expr::Property(p, _) => E::Get(match p.2.as_str() {
                        "position" => Getter::Position,
                        "cash" => Getter::Cash,
                        "equity" => Getter::Equity,
                        "avg_price" => Getter::AvgPrice,
                        "bar_index" => Getter::BarIndex,
                        _ => return None,
                    }),
                    Expr::MethodCall(call, _) => self.method(&call.name, &call.args)?,
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    fn method(&mut self, name: &str, args: &[Expr]) -> Option<E> {
        let field = match name {
            "open" => Some(Field::Open),
            "high" => Some(Field::High),
            "low" => Some(Field::Low),
            "close" => Some(Field::Close),
            "volume" => Some(Field::Volume),
            "time" => Some(Field::Time),
            _ => None,
        };
        let opt = |l: &mut Self, i: usize| -> Option<Option<Box<E>>> {
            match args.get(i) {
                None => Some(None),
                Some(a) => Some(Some(Box::new(l.expr(a)?))),
            }
        };
        Some(match (field, name, args.len()) {
            (Some(f), _, 0 | 1) => E::Price(f, opt(self, 0)?),
            (None, "value", 1 | 2) => E::Value(self.series_ref(&args[0])?, opt(self, 1)?),
            (None, "buy", 0 | 1) => E::Act(Act::Entry(Side::Buy), opt(self, 0)?),
            (None, "sell", 0 | 1) => E::Act(Act::Entry(Side::Sell), opt(self, 0)?),
            (None, "exit", 0 | 1) => E::Act(Act::Exit, opt(self, 0)?),
            (None, "order", 1) => E::Act(Act::Order, opt(self, 0)?),
            (None, "cancel", 0) => E::Act(Act::Cancel, None),
            _ => return None,
        })
    }
}

impl Lower<'_> {
    fn param(&self, e: &Expr) -> Option<usize> {
        match e {
            Expr::Variable(v, _, _) if v.2.is_empty() => match self.resolve(&v.1)? {
                Name::Param(i) => Some(i),
                _ => None,
            },
            _ => None,
        }
    }

    fn series_ref(&self, e: &Expr) -> Option<SeriesRef> {
        if let Some(i) = self.param(e) {
            return Some(SeriesRef::Param(i));
        }
        match e {
            Expr::Dot(bin, flags, _) if flags.is_empty() => match &bin.rhs {
                Expr::Property(p, _) => Some(SeriesRef::Field(self.param(&bin.lhs)?, p.2.clone())),
                _ => None,
            },
            _ => None,
        }
    }
}

struct Rt<'a, 'b> {
    st: &'a mut CtxState,
    params: &'b [Dynamic],
    locals: &'b mut [V],
}

impl Rt<'_, '_> {
    fn block(&mut self, body: &[S]) -> R<Flow> {
        let mut last = Flow::Next(V::U);
        for s in body {
            last = self.stmt(s)?;
            if let Flow::Return = last {
                break;
            }
        }
        Ok(last)
    }

    fn stmt(&mut self, s: &S) -> R<Flow> {
        match s {
            S::Let(slot, e) | S::Set(slot, None, e) => {
                let v = self.eval(e)?;
                self.locals[*slot] = v;
            }
            S::Do(e) => return Ok(Flow::Next(self.eval(e)?)),
            S::Set(slot, Some(op), e) => {
                let rhs = self.eval(e)?;
                let lhs = std::mem::replace(&mut self.locals[*slot], V::U);
                self.locals[*slot] = binary(*op, lhs, rhs)?;
            }
            S::If(cond, body, branch) => {
                let V::B(c) = self.eval(cond)? else {
                    return Err(Bail);
                };
                return self.block(if c { body } else { branch });
            }
            S::Return(e) => {
                if let Some(e) = e {
                    self.eval(e)?;
                }
                return Ok(Flow::Return);
            }
        }
        Ok(Flow::Next(V::U))
    }

    fn int(&mut self, e: &Option<Box<E>>) -> R<INT> {
        match e {
            None => Ok(0),
            Some(e) => match self.eval(e)? {
                V::I(i) => Ok(i),
                _ => Err(Bail),
            },
        }
    }

    fn eval(&mut self, e: &E) -> R<V> {
        Ok(match e {
            E::Const(v) => v.clone(),
            E::Local(slot) => self.locals[*slot].clone(),
            E::Param(i) => V::from_dynamic(self.params[*i].flatten_clone()),
            E::Get(g) => match g {
                Getter::Position => V::F(self.st.position),
                Getter::Cash => V::F(self.st.cash),
                Getter::Equity => V::F(self.st.equity),
                Getter::AvgPrice => V::F(self.st.avg_price),
                Getter::BarIndex => V::I(self.st.i as INT),
            },
            E::Price(f, n) => {
                let n = self.int(n)?;
                V::F(self.st.price(*f, n).map_err(|_| Bail)?)
            }
            E::Value(r, n) => {
                let n = self.int(n)?;
                let v = match r {
                    SeriesRef::Param(i) => {
                        let s = self.params[*i].read_lock::<Series>().ok_or(Bail)?;
                        self.st.value(&s, n)
                    }
                    SeriesRef::Field(i, name) => {
                        let m = self.params[*i].read_lock::<Map>().ok_or(Bail)?;
                        let s = m.get(name.as_str()).ok_or(Bail)?;
                        let s = s.read_lock::<Series>().ok_or(Bail)?;
                        self.st.value(&s, n)
                    }
                };
                V::F(v.map_err(|_| Bail)?)
            }
            E::Act(act, arg) => {
                let m = match arg {
                    None => None,
                    Some(a) => match self.eval(a)? {
                        V::D(d) => Some(d.try_cast::<Map>().ok_or(Bail)?),
                        _ => return Err(Bail),
                    },
                };
                let st = &mut *self.st;
                match (act, m) {
                    (Act::Entry(side), m) => st.entry(*side, m.as_ref()),
                    (Act::Exit, m) => st.exit_with(m.as_ref()),
                    (Act::Order, Some(m)) => st.order(&m),
                    (Act::Cancel, None) => {
                        st.cancel();
                        Ok(())
                    }
                    _ => return Err(Bail),
                }
                .map_err(|_| Bail)?;
                V::U
            }
            E::Bin(op, a, b) => {
                let a = self.eval(a)?;
                let b = self.eval(b)?;
                binary(*op, a, b)?
            }
            E::Neg(a) => match self.eval(a)? {
                V::F(x) => V::F(-x),
                V::I(i) => V::I(i.checked_neg().ok_or(Bail)?),
                _ => return Err(Bail),
            },
            E::Plus(a) => match self.eval(a)? {
                v @ (V::F(_) | V::I(_)) => v,
                _ => return Err(Bail),
            },
            E::Not(a) => match self.eval(a)? {
                V::B(b) => V::B(!b),
                _ => return Err(Bail),
            },
            E::And(xs) => {
                for x in xs {
                    match self.eval(x)? {
                        V::B(true) => {}
                        V::B(false) => return Ok(V::B(false)),
                        _ => return Err(Bail),
                    }
                }
                V::B(true)
            }
            E::Or(xs) => {
                for x in xs {
                    match self.eval(x)? {
                        V::B(false) => {}
                        V::B(true) => return Ok(V::B(true)),
                        _ => return Err(Bail),
                    }
                }
                V::B(false)
            }
            E::Block(b) => match self.block(b)? {
                Flow::Next(v) => v,
                Flow::Return => return Err(Bail), // not lowered: no `return` in a valued block
            },
            E::Call(f, args) => {
                let a = self.eval(&args[0])?;
                match (f, args.get(1)) {
                    (Fun::Abs, None) => abs(a)?,
                    (Fun::Min | Fun::Max, Some(b)) => {
                        let b = self.eval(b)?;
                        min_max(*f, a, b)?
                    }
                    _ => return Err(Bail),
                }
            }
            E::Map(template, items) => {
                let mut m = template.clone();
                for (k, e) in items {
                    let v = self.eval(e)?.into_dynamic();
                    m.insert(k.as_str().into(), v);
                }
                V::D(Dynamic::from_map(m))
            }
        })
    }
}
