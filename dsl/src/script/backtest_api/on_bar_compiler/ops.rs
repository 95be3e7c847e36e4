//! The operators and functions of the lowered tree, each as Rhai computes it on numbers and bools
//! (`func/builtin.rs`, `packages/arithmetic.rs`, `packages/logic.rs`; checked build). The tests
//! hold them against Rhai itself.

use super::Bail;
use super::tree::{BinaryOp, Builtin, Value};
use rhai::FLOAT;

/// Rhai's built-in operators on numbers and bools (`func/builtin.rs`, checked build).
pub(super) fn binary(op: BinaryOp, a: Value, b: Value) -> Result<Value, Bail> {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => float_op(op, x, y),
        (Value::Float(x), Value::Int(y)) => float_op(op, x, y as FLOAT),
        (Value::Int(x), Value::Float(y)) => float_op(op, x as FLOAT, y),
        (Value::Int(x), Value::Int(y)) => Ok(match op {
            BinaryOp::Add => Value::Int(x.checked_add(y).ok_or(Bail)?),
            BinaryOp::Sub => Value::Int(x.checked_sub(y).ok_or(Bail)?),
            BinaryOp::Mul => Value::Int(x.checked_mul(y).ok_or(Bail)?),
            BinaryOp::Div if y == 0 => return Err(Bail),
            BinaryOp::Div => Value::Int(x.checked_div(y).ok_or(Bail)?),
            BinaryOp::Rem => Value::Int(x.checked_rem(y).ok_or(Bail)?),
            BinaryOp::Eq => Value::Bool(x == y),
            BinaryOp::Ne => Value::Bool(x != y),
            BinaryOp::Gt => Value::Bool(x > y),
            BinaryOp::Ge => Value::Bool(x >= y),
            BinaryOp::Lt => Value::Bool(x < y),
            BinaryOp::Le => Value::Bool(x <= y),
        }),
        (Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(match op {
            BinaryOp::Eq => x == y,
            BinaryOp::Ne => x != y,
            BinaryOp::Gt => x & !y,
            BinaryOp::Ge => x >= y,
            BinaryOp::Lt => !x & y,
            BinaryOp::Le => x <= y,
            _ => return Err(Bail),
        })),
        _ => Err(Bail),
    }
}

/// Rhai's `min` / `max`: plain comparisons (`x >= y`, no epsilon), an int with a float is a float.
pub(super) fn min_max(f: Builtin, a: Value, b: Value) -> Result<Value, Bail> {
    fn pick<T: PartialOrd>(f: Builtin, x: T, y: T) -> T {
        match f {
            Builtin::Max if x >= y => x,
            Builtin::Min if x <= y => x,
            _ => y,
        }
    }
    Ok(match (a, b) {
        (Value::Float(x), Value::Float(y)) => Value::Float(pick(f, x, y)),
        (Value::Int(x), Value::Float(y)) => Value::Float(pick(f, x as FLOAT, y)),
        (Value::Float(x), Value::Int(y)) => Value::Float(pick(f, x, y as FLOAT)),
        (Value::Int(x), Value::Int(y)) => Value::Int(pick(f, x, y)),
        _ => return Err(Bail),
    })
}

/// Rhai's scalar `abs`: checked for integers.
pub(super) fn abs(a: Value) -> Result<Value, Bail> {
    Ok(match a {
        Value::Float(x) => Value::Float(x.abs()),
        Value::Int(i) => Value::Int(i.checked_abs().ok_or(Bail)?),
        _ => return Err(Bail),
    })
}

/// Float arithmetic, and comparisons with Rhai's relative epsilon: `x > y` is
/// `(x - y) / max(|x|, |y|) > ε` (`/ 1` when either is zero), `==` is `|x - y| / max ≤ ε`.
fn float_op(op: BinaryOp, x: FLOAT, y: FLOAT) -> Result<Value, Bail> {
    let max = if x * y == 0.0 {
        1.0
    } else {
        x.abs().max(y.abs())
    };
    let eps = FLOAT::EPSILON;
    Ok(match op {
        BinaryOp::Add => Value::Float(x + y),
        BinaryOp::Sub => Value::Float(x - y),
        BinaryOp::Mul => Value::Float(x * y),
        BinaryOp::Div => Value::Float(x / y),
        BinaryOp::Rem => Value::Float(x % y),
        BinaryOp::Eq => Value::Bool(max == 0.0 || (x - y).abs() / max <= eps),
        BinaryOp::Ne => Value::Bool(max != 0.0 && (x - y).abs() / max > eps),
        BinaryOp::Gt => Value::Bool(max != 0.0 && (x - y) / max > eps),
        BinaryOp::Ge => Value::Bool(max == 0.0 || (x - y) / max > -eps),
        BinaryOp::Lt => Value::Bool(max != 0.0 && (y - x) / max > eps),
        BinaryOp::Le => Value::Bool(max == 0.0 || (y - x) / max > -eps),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::{Dynamic, INT};

    fn to_v(d: &Dynamic) -> Value {
        Value::from_dynamic(d.clone())
    }

    /// `binary` against Rhai itself on numbers and bools chosen to hit the epsilon, zero, NaN,
    /// infinity and overflow cases: equal when Rhai answers, a bail when Rhai errors.
    #[test]
    fn operators_are_rhais() {
        let e = FLOAT::EPSILON;
        let mut vals: Vec<Dynamic> = [
            0.0,
            -0.0,
            1.0,
            1.0 + e,
            1.0 + 2.0 * e,
            1.0 - e / 2.0,
            3.0,
            -2.5,
            1e-300,
            1e300,
            100.0 * (1.0 + 1e-16),
            FLOAT::NAN,
            FLOAT::INFINITY,
            FLOAT::NEG_INFINITY,
        ]
        .into_iter()
        .map(Dynamic::from_float)
        .collect();
        vals.extend([0, 1, -1, 3, 7, 100, INT::MAX, INT::MIN].map(Dynamic::from_int));
        vals.extend([true, false].map(Dynamic::from_bool));
        let ops = [
            ("+", BinaryOp::Add),
            ("-", BinaryOp::Sub),
            ("*", BinaryOp::Mul),
            ("/", BinaryOp::Div),
            ("%", BinaryOp::Rem),
            ("==", BinaryOp::Eq),
            ("!=", BinaryOp::Ne),
            (">", BinaryOp::Gt),
            (">=", BinaryOp::Ge),
            ("<", BinaryOp::Lt),
            ("<=", BinaryOp::Le),
        ];
        let engine = rhai::Engine::new();
        let mut checked = 0;
        for a in &vals {
            for b in &vals {
                for (sym, op) in ops {
                    let mut scope = rhai::Scope::new();
                    scope.push("a", a.clone()).push("b", b.clone());
                    let rhai = engine.eval_with_scope::<Dynamic>(&mut scope, &format!("a {sym} b"));
                    let ours = binary(op, to_v(a), to_v(b));
                    let numbers = !a.is_bool() && !b.is_bool();
                    let bools = a.is_bool() && b.is_bool();
                    match (rhai, ours) {
                        (Ok(r), Ok(o)) => {
                            let same = match (to_v(&r), o) {
                                (Value::Float(x), Value::Float(y)) => {
                                    x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
                                }
                                (Value::Int(x), Value::Int(y)) => x == y,
                                (Value::Bool(x), Value::Bool(y)) => x == y,
                                _ => false,
                            };
                            assert!(same, "{a:?} {sym} {b:?}: Rhai {r:?}");
                            checked += 1;
                        }
                        (Err(_), Err(Bail)) => checked += 1,
                        // Bailing is always safe; on numbers and bool comparisons it must not happen.
                        (Ok(r), Err(Bail)) => assert!(
                            !(numbers
                                || bools
                                    && !matches!(
                                        op,
                                        BinaryOp::Add
                                            | BinaryOp::Sub
                                            | BinaryOp::Mul
                                            | BinaryOp::Div
                                            | BinaryOp::Rem
                                    )),
                            "{a:?} {sym} {b:?}: bailed where Rhai gives {r:?}"
                        ),
                        (Err(r), Ok(o)) => panic!("{a:?} {sym} {b:?}: {o:?} where Rhai fails: {r}"),
                    }
                }
            }
        }
        assert!(checked > 5000, "{checked}");
    }

    /// `abs`, `min` and `max` against Rhai's, on the same kind of values.
    #[test]
    fn abs_min_max_are_rhais() {
        let vals: Vec<Dynamic> = [
            0.0,
            -0.0,
            1.5,
            -2.5,
            FLOAT::NAN,
            FLOAT::INFINITY,
            FLOAT::NEG_INFINITY,
        ]
        .into_iter()
        .map(Dynamic::from_float)
        .chain([0, 2, -3, INT::MAX, INT::MIN].map(Dynamic::from_int))
        .chain([true].map(Dynamic::from_bool))
        .collect();
        let engine = rhai::Engine::new();
        let same = |r: &Dynamic, o: &Value| match (to_v(r), o) {
            (Value::Float(x), Value::Float(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            (Value::Int(x), Value::Int(y)) => x == *y,
            _ => false,
        };
        for a in &vals {
            let mut scope = rhai::Scope::new();
            scope.push("a", a.clone());
            let rhai = engine.eval_with_scope::<Dynamic>(&mut scope, "abs(a)");
            let ours = abs(to_v(a));
            match (rhai, ours) {
                (Ok(r), Ok(o)) => assert!(same(&r, &o), "abs({a:?}): Rhai {r:?}, ours {o:?}"),
                (Err(_), Err(Bail)) => {}
                (r, o) => panic!("abs({a:?}): Rhai {r:?}, ours {o:?}"),
            }
            for b in &vals {
                for (name, f) in [("min", Builtin::Min), ("max", Builtin::Max)] {
                    let mut scope = rhai::Scope::new();
                    scope.push("a", a.clone()).push("b", b.clone());
                    let rhai =
                        engine.eval_with_scope::<Dynamic>(&mut scope, &format!("{name}(a, b)"));
                    match (rhai, min_max(f, to_v(a), to_v(b))) {
                        (Ok(r), Ok(o)) => {
                            assert!(same(&r, &o), "{name}({a:?}, {b:?}): Rhai {r:?}, ours {o:?}")
                        }
                        (Err(_), Err(Bail)) => {}
                        (r, o) => panic!("{name}({a:?}, {b:?}): Rhai {r:?}, ours {o:?}"),
                    }
                }
            }
        }
    }
}
