//! The operators and functions of the lowered tree, each as Rhai computes it on numbers and bools
//! (`func/builtin.rs`, `packages/arithmetic.rs`, `packages/logic.rs`; checked build). The tests
//! hold them against Rhai itself.

use super::{Bail, Fun, Op, R, V};
use rhai::FLOAT;

/// Rhai's built-in operators on numbers and bools (`func/builtin.rs`, checked build).
pub(super) fn binary(op: Op, a: V, b: V) -> R<V> {
    match (a, b) {
        (V::F(x), V::F(y)) => float_op(op, x, y),
        (V::F(x), V::I(y)) => float_op(op, x, y as FLOAT),
        (V::I(x), V::F(y)) => float_op(op, x as FLOAT, y),
        (V::I(x), V::I(y)) => Ok(match op {
            Op::Add => V::I(x.checked_add(y).ok_or(Bail)?),
            Op::Sub => V::I(x.checked_sub(y).ok_or(Bail)?),
            Op::Mul => V::I(x.checked_mul(y).ok_or(Bail)?),
            Op::Div if y == 0 => return Err(Bail),
            Op::Div => V::I(x.checked_div(y).ok_or(Bail)?),
            Op::Rem => V::I(x.checked_rem(y).ok_or(Bail)?),
            Op::Eq => V::B(x == y),
            Op::Ne => V::B(x != y),
            Op::Gt => V::B(x > y),
            Op::Ge => V::B(x >= y),
            Op::Lt => V::B(x < y),
            Op::Le => V::B(x <= y),
        }),
        (V::B(x), V::B(y)) => Ok(V::B(match op {
            Op::Eq => x == y,
            Op::Ne => x != y,
            Op::Gt => x & !y,
            Op::Ge => x >= y,
            Op::Lt => !x & y,
            Op::Le => x <= y,
            _ => return Err(Bail),
        })),
        _ => Err(Bail),
    }
}

/// Rhai's `min` / `max`: plain comparisons (`x >= y`, no epsilon), an int with a float is a float.
pub(super) fn min_max(f: Fun, a: V, b: V) -> R<V> {
    fn pick<T: PartialOrd>(f: Fun, x: T, y: T) -> T {
        match f {
            Fun::Max if x >= y => x,
            Fun::Min if x <= y => x,
            _ => y,
        }
    }
    Ok(match (a, b) {
        (V::F(x), V::F(y)) => V::F(pick(f, x, y)),
        (V::I(x), V::F(y)) => V::F(pick(f, x as FLOAT, y)),
        (V::F(x), V::I(y)) => V::F(pick(f, x, y as FLOAT)),
        (V::I(x), V::I(y)) => V::I(pick(f, x, y)),
        _ => return Err(Bail),
    })
}

/// Rhai's scalar `abs`: checked for integers.
pub(super) fn abs(a: V) -> R<V> {
    Ok(match a {
        V::F(x) => V::F(x.abs()),
        V::I(i) => V::I(i.checked_abs().ok_or(Bail)?),
        _ => return Err(Bail),
    })
}

/// Float arithmetic, and comparisons with Rhai's relative epsilon: `x > y` is
/// `(x - y) / max(|x|, |y|) > ε` (`/ 1` when either is zero), `==` is `|x - y| / max ≤ ε`.
fn float_op(op: Op, x: FLOAT, y: FLOAT) -> R<V> {
    let max = if x * y == 0.0 {
        1.0
    } else {
        x.abs().max(y.abs())
    };
    let eps = FLOAT::EPSILON;
    Ok(match op {
        Op::Add => V::F(x + y),
        Op::Sub => V::F(x - y),
        Op::Mul => V::F(x * y),
        Op::Div => V::F(x / y),
        Op::Rem => V::F(x % y),
        Op::Eq => V::B(max == 0.0 || (x - y).abs() / max <= eps),
        Op::Ne => V::B(max != 0.0 && (x - y).abs() / max > eps),
        Op::Gt => V::B(max != 0.0 && (x - y) / max > eps),
        Op::Ge => V::B(max == 0.0 || (x - y) / max > -eps),
        Op::Lt => V::B(max != 0.0 && (y - x) / max > eps),
        Op::Le => V::B(max == 0.0 || (y - x) / max > -eps),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::{Dynamic, INT};

    fn to_v(d: &Dynamic) -> V {
        V::from_dynamic(d.clone())
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
            ("+", Op::Add),
            ("-", Op::Sub),
            ("*", Op::Mul),
            ("/", Op::Div),
            ("%", Op::Rem),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            (">", Op::Gt),
            (">=", Op::Ge),
            ("<", Op::Lt),
            ("<=", Op::Le),
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
                                (V::F(x), V::F(y)) => {
                                    x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
                                }
                                (V::I(x), V::I(y)) => x == y,
                                (V::B(x), V::B(y)) => x == y,
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
                                        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem
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
        let same = |r: &Dynamic, o: &V| match (to_v(r), o) {
            (V::F(x), V::F(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            (V::I(x), V::I(y)) => x == *y,
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
                for (name, f) in [("min", Fun::Min), ("max", Fun::Max)] {
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
