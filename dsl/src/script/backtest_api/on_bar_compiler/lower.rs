//! Lowering: an `on_bar` script function's Rhai AST into the typed tree (`tree.rs`), or `None`
//! as soon as any part of it is outside the lowered subset. Names are resolved here, once: locals
//! to slots, captures to parameter indices, the last parameter to `ctx`.

use super::tree::{BinaryOp, Builtin, Expr, Getter, OrderAction, SeriesRef, Stmt, Value};
use crate::order::Side;
use crate::strategy::context::Field;
use rhai::{ASTFlags, ASTNode, FnPtr, ImmutableString, Module, Token};

/// Names whose calls are lowered: a script function with one of them would take the call.
const LOWERED_CALLS: &[&str] = &[
    "open", "high", "low", "close", "volume", "time", "value", "buy", "sell", "exit", "order",
    "cancel", "abs", "min", "max",
];

/// Lowers `f` (called as `f(ctx)`) as Rhai would resolve it among `lib`: its body and the number
/// of local slots it uses. `None` when any part of the body is outside the subset.
pub(super) fn lower_fn(lib: &[rhai::Shared<Module>], f: &FnPtr) -> Option<(Vec<Stmt>, usize)> {
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
    let mut body: Vec<rhai::Stmt> = Vec::new();
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
    Some((body, lower.slots.len()))
}

impl BinaryOp {
    fn from_token(t: &Token) -> Option<BinaryOp> {
        Some(match t {
            Token::Plus => BinaryOp::Add,
            Token::Minus => BinaryOp::Sub,
            Token::Multiply => BinaryOp::Mul,
            Token::Divide => BinaryOp::Div,
            Token::Modulo => BinaryOp::Rem,
            Token::EqualsTo => BinaryOp::Eq,
            Token::NotEqualsTo => BinaryOp::Ne,
            Token::GreaterThan => BinaryOp::Gt,
            Token::GreaterThanEqualsTo => BinaryOp::Ge,
            Token::LessThan => BinaryOp::Lt,
            Token::LessThanEqualsTo => BinaryOp::Le,
            _ => return None,
        })
    }
}

impl Builtin {
    fn from_call(name: &str, n: usize) -> Option<Builtin> {
        Some(match (name, n) {
            ("abs", 1) => Builtin::Abs,
            ("min", 2) => Builtin::Min,
            ("max", 2) => Builtin::Max,
            _ => return None,
        })
    }
}

struct Lower<'a> {
    params: &'a [ImmutableString],
    /// Visible locals, innermost last: (name, slot).
    scopes: Vec<(ImmutableString, usize)>,
    /// Per slot: declared `const`.
    slots: Vec<bool>,
    /// Inside a block whose value is used (no `return` there).
    in_expr: usize,
}

/// What a variable name refers to.
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

    fn block(&mut self, stmts: &[rhai::Stmt]) -> Option<Vec<Stmt>> {
        let mark = self.scopes.len();
        let mut out = Vec::new();
        for s in stmts {
            self.stmt(s, &mut out)?;
        }
        self.scopes.truncate(mark);
        Some(out)
    }

    fn stmt(&mut self, s: &rhai::Stmt, out: &mut Vec<Stmt>) -> Option<()> {
        match s {
            rhai::Stmt::Noop(..) if self.in_expr > 0 => {
                out.push(Stmt::Expr(Expr::Const(Value::Unit)))
            }
            rhai::Stmt::Noop(..) => {}
            rhai::Stmt::Var(x, flags, _) => {
                let (ident, init, _) = &**x;
                if flags.intersects(ASTFlags::EXPORTED) {
                    return None;
                }
                let e = self.expr(init)?;
                let slot = self.slots.len();
                self.slots.push(flags.intersects(ASTFlags::CONSTANT));
                self.scopes.push((ident.name.clone(), slot));
                out.push(Stmt::Let(slot, e));
            }
            rhai::Stmt::Assignment(x) => {
                let (op, bin) = &**x;
                let rhai::Expr::Variable(v, _, _) = &bin.lhs else {
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
                    Some((.., t, _)) => match BinaryOp::from_token(t)? {
                        o @ (BinaryOp::Add
                        | BinaryOp::Sub
                        | BinaryOp::Mul
                        | BinaryOp::Div
                        | BinaryOp::Rem) => Some(o),
                        _ => return None,
                    },
                };
                out.push(Stmt::Assign(slot, op, self.expr(&bin.rhs)?));
            }
            rhai::Stmt::If(fc, _) => {
                let cond = self.expr(&fc.expr)?;
                let body = self.block(fc.body.statements())?;
                let branch = self.block(fc.branch.statements())?;
                out.push(Stmt::If(cond, body, branch));
            }
            rhai::Stmt::Block(b) => {
                let inner = self.block(b.statements())?;
                // A nested block is its own scope, which `block` already closed: splice it in
                // (an empty one still has the value `()`).
                if inner.is_empty() {
                    out.push(Stmt::Expr(Expr::Const(Value::Unit)));
                }
                out.extend(inner);
            }
            rhai::Stmt::Expr(e) => out.push(Stmt::Expr(self.expr(e)?)),
            rhai::Stmt::FnCall(call, pos) => {
                out.push(Stmt::Expr(
                    self.expr(&rhai::Expr::FnCall(call.clone(), *pos))?,
                ));
            }
            rhai::Stmt::Return(e, flags, _) if flags.is_empty() && self.in_expr == 0 => {
                let e = match e {
                    Some(e) => Some(self.expr(e)?),
                    None => None,
                };
                out.push(Stmt::Return(e));
            }
            _ => return None,
        }
        Some(())
    }

    fn expr(&mut self, e: &rhai::Expr) -> Option<Expr> {
        Some(match e {
            rhai::Expr::IntegerConstant(i, _) => Expr::Const(Value::Int(*i)),
            rhai::Expr::FloatConstant(f, _) => Expr::Const(Value::Float(**f)),
            rhai::Expr::BoolConstant(b, _) => Expr::Const(Value::Bool(*b)),
            rhai::Expr::Unit(_) => Expr::Const(Value::Unit),
            rhai::Expr::StringConstant(s, _) => Expr::Const(Value::Opaque(s.clone().into())),
            rhai::Expr::DynamicConstant(d, _) => Expr::Const(Value::from_dynamic((**d).clone())),
            rhai::Expr::Variable(v, _, _) => {
                if !v.2.is_empty() {
                    return None;
                }
                match self.resolve(&v.1)? {
                    Name::Local(slot) => Expr::Local(slot),
                    Name::Param(i) => Expr::Param(i),
                    Name::Ctx => return None,
                }
            }
            rhai::Expr::And(xs, _) => {
                Expr::And(xs.iter().map(|x| self.expr(x)).collect::<Option<_>>()?)
            }
            rhai::Expr::Or(xs, _) => {
                Expr::Or(xs.iter().map(|x| self.expr(x)).collect::<Option<_>>()?)
            }
            rhai::Expr::FnCall(call, _) => {
                if !call.namespace.is_empty() || call.capture_parent_scope {
                    return None;
                }
                let Some(tok) = call.op_token.as_ref() else {
                    let f = Builtin::from_call(&call.name, call.args.len())?;
                    let args = call.args.iter().map(|a| self.expr(a));
                    return Some(Expr::Call(f, args.collect::<Option<_>>()?));
                };
                let mut args = call.args.iter();
                match (call.args.len(), tok) {
                    (1, Token::Minus | Token::UnaryMinus) => {
                        Expr::Neg(Box::new(self.expr(args.next()?)?))
                    }
                    (1, Token::Plus | Token::UnaryPlus) => {
                        Expr::Plus(Box::new(self.expr(args.next()?)?))
                    }
                    (1, Token::Bang) => Expr::Not(Box::new(self.expr(args.next()?)?)),
                    (2, t) => {
                        let op = BinaryOp::from_token(t)?;
                        let a = self.expr(args.next()?)?;
                        let b = self.expr(args.next()?)?;
                        Expr::Binary(op, Box::new(a), Box::new(b))
                    }
                    _ => return None,
                }
            }
            rhai::Expr::Stmt(b) => {
                self.in_expr += 1;
                let inner = self.block(b.statements());
                self.in_expr -= 1;
                Expr::Block(inner?)
            }
            rhai::Expr::Map(x, _) => {
                let (items, template) = &**x;
                let mut vals = Vec::with_capacity(items.len());
                for (k, v) in items.iter() {
                    vals.push((k.name.clone(), self.expr(v)?));
                }
                Expr::Map(template.clone(), vals)
            }
            rhai::Expr::Dot(bin, flags, _) if flags.is_empty() => {
                let on_ctx = match &bin.lhs {
                    rhai::Expr::Variable(v, _, _) => {
                        v.2.is_empty() && matches!(self.resolve(&v.1)?, Name::Ctx)
                    }
                    _ => false,
                };
                if !on_ctx {
                    // `x.abs()`, `a.max(b)`: the receiver is the first argument.
                    let rhai::Expr::MethodCall(call, _) = &bin.rhs else {
                        return None;
                    };
                    let f = Builtin::from_call(&call.name, call.args.len() + 1)?;
                    let mut args = vec![self.expr(&bin.lhs)?];
                    for a in call.args.iter() {
                        args.push(self.expr(a)?);
                    }
                    return Some(Expr::Call(f, args));
                }
                match &bin.rhs {
                    rhai::Expr::Property(p, _) => Expr::Getter(match p.2.as_str() {
                        "position" => Getter::Position,
                        "cash" => Getter::Cash,
                        "equity" => Getter::Equity,
                        "avg_price" => Getter::AvgPrice,
                        "bar_index" => Getter::BarIndex,
                        _ => return None,
                    }),
                    rhai::Expr::MethodCall(call, _) => self.ctx_method(&call.name, &call.args)?,
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    /// A method call on `ctx`.
    fn ctx_method(&mut self, name: &str, args: &[rhai::Expr]) -> Option<Expr> {
        let field = match name {
            "open" => Some(Field::Open),
            "high" => Some(Field::High),
            "low" => Some(Field::Low),
            "close" => Some(Field::Close),
            "volume" => Some(Field::Volume),
            "time" => Some(Field::Time),
            _ => None,
        };
        let opt = |l: &mut Self, i: usize| -> Option<Option<Box<Expr>>> {
            match args.get(i) {
                None => Some(None),
                Some(a) => Some(Some(Box::new(l.expr(a)?))),
            }
        };
        Some(match (field, name, args.len()) {
            (Some(f), _, 0 | 1) => Expr::Price(f, opt(self, 0)?),
            (None, "value", 1 | 2) => Expr::SeriesValue(self.series_ref(&args[0])?, opt(self, 1)?),
            (None, "buy", 0 | 1) => Expr::Order(OrderAction::Entry(Side::Buy), opt(self, 0)?),
            (None, "sell", 0 | 1) => Expr::Order(OrderAction::Entry(Side::Sell), opt(self, 0)?),
            (None, "exit", 0 | 1) => Expr::Order(OrderAction::Exit, opt(self, 0)?),
            (None, "order", 1) => Expr::Order(OrderAction::Order, opt(self, 0)?),
            (None, "cancel", 0) => Expr::Order(OrderAction::Cancel, None),
            _ => return None,
        })
    }

    /// The parameter index of a plain variable naming a capture.
    fn param(&self, e: &rhai::Expr) -> Option<usize> {
        match e {
            rhai::Expr::Variable(v, _, _) if v.2.is_empty() => match self.resolve(&v.1)? {
                Name::Param(i) => Some(i),
                _ => None,
            },
            _ => None,
        }
    }

    fn series_ref(&self, e: &rhai::Expr) -> Option<SeriesRef> {
        if let Some(i) = self.param(e) {
            return Some(SeriesRef::Param(i));
        }
        match e {
            rhai::Expr::Dot(bin, flags, _) if flags.is_empty() => match &bin.rhs {
                rhai::Expr::Property(p, _) => {
                    Some(SeriesRef::Field(self.param(&bin.lhs)?, p.2.clone()))
                }
                _ => None,
            },
            _ => None,
        }
    }
}
