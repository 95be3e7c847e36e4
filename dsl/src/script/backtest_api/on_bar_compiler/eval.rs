//! Evaluating the tree (`tree.rs`) for one bar against the bar's `CtxState`, calling the same
//! methods the registered `ctx` methods call. Anything Rhai would decide differently, or fail on,
//! is a [`Bail`].

use super::Bail;
use super::ops::{abs, binary, min_max};
use super::tree::{Builtin, Expr, Flow, Getter, OrderAction, SeriesRef, Stmt, Value};
use crate::script::backtest_api::ctx::CtxState;
use crate::series::Series;
use rhai::{Dynamic, INT, Map};

/// One bar's evaluation: the bar's state, the parameters' values and the locals' slots.
pub(super) struct Evaluator<'a, 'b> {
    pub(super) st: &'a mut CtxState,
    pub(super) params: &'b [Dynamic],
    pub(super) locals: &'b mut [Value],
}

impl Evaluator<'_, '_> {
    pub(super) fn block(&mut self, body: &[Stmt]) -> Result<Flow, Bail> {
        let mut last = Flow::Next(Value::Unit);
        for s in body {
            last = self.stmt(s)?;
            if let Flow::Return = last {
                break;
            }
        }
        Ok(last)
    }

    fn stmt(&mut self, s: &Stmt) -> Result<Flow, Bail> {
        match s {
            Stmt::Let(slot, e) | Stmt::Assign(slot, None, e) => {
                let v = self.eval(e)?;
                self.locals[*slot] = v;
            }
            Stmt::Expr(e) => return Ok(Flow::Next(self.eval(e)?)),
            Stmt::Assign(slot, Some(op), e) => {
                let rhs = self.eval(e)?;
                let lhs = std::mem::replace(&mut self.locals[*slot], Value::Unit);
                self.locals[*slot] = binary(*op, lhs, rhs)?;
            }
            Stmt::If(cond, body, branch) => {
                let Value::Bool(c) = self.eval(cond)? else {
                    return Err(Bail);
                };
                return self.block(if c { body } else { branch });
            }
            Stmt::Return(e) => {
                if let Some(e) = e {
                    self.eval(e)?;
                }
                return Ok(Flow::Return);
            }
        }
        Ok(Flow::Next(Value::Unit))
    }

    /// The optional bars-back argument of a price or series read: an int, 0 when absent.
    fn bars_back(&mut self, e: &Option<Box<Expr>>) -> Result<INT, Bail> {
        match e {
            None => Ok(0),
            Some(e) => match self.eval(e)? {
                Value::Int(i) => Ok(i),
                _ => Err(Bail),
            },
        }
    }

    fn eval(&mut self, e: &Expr) -> Result<Value, Bail> {
        Ok(match e {
            Expr::Const(v) => v.clone(),
            Expr::Local(slot) => self.locals[*slot].clone(),
            Expr::Param(i) => Value::from_dynamic(self.params[*i].flatten_clone()),
            Expr::Getter(g) => match g {
                Getter::Position => Value::Float(self.st.position),
                Getter::Cash => Value::Float(self.st.cash),
                Getter::Equity => Value::Float(self.st.equity),
                Getter::AvgPrice => Value::Float(self.st.avg_price),
                Getter::BarIndex => Value::Int(self.st.i as INT),
            },
            Expr::Price(f, n) => {
                let n = self.bars_back(n)?;
                Value::Float(self.st.price(*f, n).map_err(|_| Bail)?)
            }
            Expr::SeriesValue(r, n) => {
                let n = self.bars_back(n)?;
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
                Value::Float(v.map_err(|_| Bail)?)
            }
            Expr::Order(action, arg) => {
                let m = match arg {
                    None => None,
                    Some(a) => match self.eval(a)? {
                        Value::Opaque(d) => Some(d.try_cast::<Map>().ok_or(Bail)?),
                        _ => return Err(Bail),
                    },
                };
                let st = &mut *self.st;
                match (action, m) {
                    (OrderAction::Entry(side), m) => st.entry(*side, m.as_ref()),
                    (OrderAction::Exit, m) => st.exit_with(m.as_ref()),
                    (OrderAction::Order, Some(m)) => st.order(&m),
                    (OrderAction::Cancel, None) => {
                        st.cancel();
                        Ok(())
                    }
                    _ => return Err(Bail),
                }
                .map_err(|_| Bail)?;
                Value::Unit
            }
            Expr::Binary(op, a, b) => {
                let a = self.eval(a)?;
                let b = self.eval(b)?;
                binary(*op, a, b)?
            }
            Expr::Neg(a) => match self.eval(a)? {
                Value::Float(x) => Value::Float(-x),
                Value::Int(i) => Value::Int(i.checked_neg().ok_or(Bail)?),
                _ => return Err(Bail),
            },
            Expr::Plus(a) => match self.eval(a)? {
                v @ (Value::Float(_) | Value::Int(_)) => v,
                _ => return Err(Bail),
            },
            Expr::Not(a) => match self.eval(a)? {
                Value::Bool(b) => Value::Bool(!b),
                _ => return Err(Bail),
            },
            Expr::And(xs) => {
                for x in xs {
                    match self.eval(x)? {
                        Value::Bool(true) => {}
                        Value::Bool(false) => return Ok(Value::Bool(false)),
                        _ => return Err(Bail),
                    }
                }
                Value::Bool(true)
            }
            Expr::Or(xs) => {
                for x in xs {
                    match self.eval(x)? {
                        Value::Bool(false) => {}
                        Value::Bool(true) => return Ok(Value::Bool(true)),
                        _ => return Err(Bail),
                    }
                }
                Value::Bool(false)
            }
            Expr::Block(b) => match self.block(b)? {
                Flow::Next(v) => v,
                Flow::Return => return Err(Bail), // not lowered: no `return` in a valued block
            },
            Expr::Call(f, args) => {
                let a = self.eval(&args[0])?;
                match (f, args.get(1)) {
                    (Builtin::Abs, None) => abs(a)?,
                    (Builtin::Min | Builtin::Max, Some(b)) => {
                        let b = self.eval(b)?;
                        min_max(*f, a, b)?
                    }
                    _ => return Err(Bail),
                }
            }
            Expr::Map(template, items) => {
                let mut m = template.clone();
                for (k, e) in items {
                    let v = self.eval(e)?.into_dynamic();
                    m.insert(k.as_str().into(), v);
                }
                Value::Opaque(Dynamic::from_map(m))
            }
        })
    }
}
