//! `Series` in scripts: operators in both orders (with ints too), indexing, methods.

use super::api::{Api, RhaiResult, rt_err};
use super::horizon::{current_bar, visible};
use crate::display::Render;
use crate::script::runtime::Runtime;
use crate::series::{Series, truthy};
use rhai::{Array, Dynamic, FLOAT, INT};
use std::borrow::Cow;
use std::sync::Arc;

/// Element-wise operations need series that line up: a length mismatch is an error naming both
/// lengths, never a silently shortened result.
pub fn same_length(a: &Series, b: &Series, op: &str) -> RhaiResult<()> {
    if a.len() == b.len() {
        return Ok(());
    }
    Err(rt_err(format!(
        "`{op}` needs series of the same length: the left has {} values, the right {}. Series of \
         one token and interval line up; for another interval use align(series, its_bars, bars), \
         for a window slice both the same way",
        a.len(),
        b.len()
    )))
}

macro_rules! arith {
    ($api:expr, $op:literal, $f:expr) => {{
        let f: fn(f64, f64) -> f64 = $f;
        $api.engine
            .register_fn($op, move |a: Series, b: Series| -> RhaiResult<Series> {
                same_length(&a, &b, $op)?;
                Ok(a.zip(&b, f))
            });
        $api.engine
            .register_fn($op, move |a: Series, b: FLOAT| a.map(|x| f(x, b)));
        $api.engine
            .register_fn($op, move |a: Series, b: INT| a.map(|x| f(x, b as f64)));
        $api.engine
            .register_fn($op, move |a: FLOAT, b: Series| b.map(|x| f(a, x)));
        $api.engine
            .register_fn($op, move |a: INT, b: Series| b.map(|x| f(a as f64, x)));
        $api.doc_only(
            $op,
            &format!("Series {} Series|number -> Series", $op),
            Some("Series"),
        );
    }};
}

macro_rules! cmp {
    ($api:expr, $op:literal, $f:expr) => {{
        let f: fn(f64, f64) -> bool = $f;
        $api.engine
            .register_fn($op, move |a: Series, b: Series| -> RhaiResult<Series> {
                same_length(&a, &b, $op)?;
                Ok(a.zip_bool(&b, f))
            });
        $api.engine
            .register_fn($op, move |a: Series, b: FLOAT| a.map_bool(|x| f(x, b)));
        $api.engine
            .register_fn($op, move |a: Series, b: INT| a.map_bool(|x| f(x, b as f64)));
        $api.engine
            .register_fn($op, move |a: FLOAT, b: Series| b.map_bool(|x| f(a, x)));
        $api.engine
            .register_fn($op, move |a: INT, b: Series| b.map_bool(|x| f(a as f64, x)));
        $api.doc_only(
            $op,
            &format!("Series {} Series|number -> Series(bool)", $op),
            Some("Series"),
        );
    }};
}

fn index(s: &mut Series, i: INT) -> RhaiResult<FLOAT> {
    let n = visible(s.len());
    let j = if i < 0 { n as INT + i } else { i };
    if (0..n as INT).contains(&j) {
        return Ok(s.values()[j as usize]);
    }
    if let Some(now) = current_bar()
        && j >= n as INT
    {
        return Err(rt_err(format!(
            "index {i} is after the current bar ({now}): inside on_bar a series ends at the current bar. \
             Read n bars ago with ctx.value(series, n), or s[ctx.bar_index - n]"
        )));
    }
    Err(rt_err(format!(
        "index {i} is out of range for a Series of {n} values (use 0..{} or -1 for the last)",
        n.saturating_sub(1)
    )))
}

/// The part of `s` a script may see now: all of it, except inside `on_bar` (see [`super::horizon`]).
fn seen(s: &Series) -> Cow<'_, Series> {
    let n = visible(s.len());
    if n < s.len() {
        Cow::Owned(s.slice(0, n))
    } else {
        Cow::Borrowed(s)
    }
}

fn last(s: &Series) -> FLOAT {
    match visible(s.len()) {
        0 => FLOAT::NAN,
        n => s.values()[n - 1],
    }
}

/// A Series from a script array of numbers.
pub fn from_array(a: &Array) -> RhaiResult<Series> {
    a.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_float()
                .or_else(|_| v.as_int().map(|x| x as f64))
                .or_else(|_| v.as_bool().map(|b| if b { 1.0 } else { 0.0 }))
                .map_err(|t| rt_err(format!("series([...]) needs numbers; item {i} is {t}")))
        })
        .collect::<RhaiResult<Vec<f64>>>()
        .map(Series::new)
}

pub fn register(api: &mut Api, rt: &Arc<Runtime>) {
    api.engine.register_type_with_name::<Series>("Series");

    arith!(api, "+", |a, b| a + b);
    arith!(api, "-", |a, b| a - b);
    arith!(api, "*", |a, b| a * b);
    arith!(api, "/", |a, b| a / b);
    api.engine.register_fn("-", |a: Series| a.map(|x| -x));
    cmp!(api, ">", |a, b| a > b);
    cmp!(api, ">=", |a, b| a >= b);
    cmp!(api, "<", |a, b| a < b);
    cmp!(api, "<=", |a, b| a <= b);
    cmp!(api, "==", |a, b| a == b);
    cmp!(api, "!=", |a, b| a != b && !a.is_nan() && !b.is_nan());
    api.engine
        .register_fn("&", |a: Series, b: Series| -> RhaiResult<Series> {
            same_length(&a, &b, "&")?;
            Ok(a.zip_bool(&b, |x, y| truthy(x) && truthy(y)))
        });
    api.engine
        .register_fn("|", |a: Series, b: Series| -> RhaiResult<Series> {
            same_length(&a, &b, "|")?;
            Ok(a.zip_bool(&b, |x, y| truthy(x) || truthy(y)))
        });
    api.engine
        .register_fn("&", |a: Series, b: bool| a.map_bool(|x| truthy(x) && b));
    api.engine
        .register_fn("|", |a: Series, b: bool| a.map_bool(|x| truthy(x) || b));
    api.engine
        .register_fn("!", |a: Series| a.map_bool(|x| !truthy(x)));
    api.doc_only("&", "Series & Series -> Series(bool)", Some("Series"));

    api.engine.register_indexer_get(index);
    api.doc_only("[]", "Series[i: int] -> float", Some("Series"));

    api.func("series", &["values: array"], "Series", |a: Array| {
        from_array(&a)
    });
    api.method("Series", "len", &[], "int", |s: &mut Series| {
        visible(s.len()) as INT
    });
    api.getter("Series", "len", "int", |s: &mut Series| {
        visible(s.len()) as INT
    });
    api.method("Series", "last", &[], "float", |s: &mut Series| last(s));
    api.getter("Series", "last", "float", |s: &mut Series| last(s));
    let look = rt.clone();
    api.method(
        "Series",
        "shift",
        &["n: int"],
        "Series",
        move |s: &mut Series, n: INT| -> RhaiResult<Series> {
            if n < 0 {
                look.lookahead
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            if n < 0
                && let Some(i) = current_bar()
            {
                return Err(rt_err(format!(
                    "shift({n}) inside on_bar (bar {i}) would bring later bars to this one; use shift(n) with n >= 0"
                )));
            }
            Ok(s.shift(n))
        },
    );
    api.method("Series", "mean", &[], "float", |s: &mut Series| {
        seen(s).mean()
    });
    api.method("Series", "sum", &[], "float", |s: &mut Series| {
        seen(s).sum()
    });
    api.method("Series", "min", &[], "float", |s: &mut Series| {
        seen(s).min()
    });
    api.method("Series", "max", &[], "float", |s: &mut Series| {
        seen(s).max()
    });
    api.method("Series", "count", &[], "int", |s: &mut Series| {
        seen(s).count() as INT
    });
    api.method(
        "Series",
        "fillna",
        &["value: float"],
        "Series",
        |s: &mut Series, v: FLOAT| s.fillna(v),
    );
    api.engine
        .register_fn("fillna", |s: &mut Series, v: INT| s.fillna(v as f64));
    api.method("Series", "abs", &[], "Series", |s: &mut Series| {
        s.map(f64::abs)
    });
    api.method(
        "Series",
        "slice",
        &["start: int", "end: int"],
        "Series",
        |s: &mut Series, a: INT, b: INT| {
            s.slice(a.max(0) as usize, (b.max(0) as usize).min(visible(s.len())))
        },
    );
    api.method(
        "Series",
        "to_array",
        &[],
        "array",
        |s: &mut Series| -> Array {
            s.values()[..visible(s.len())]
                .iter()
                .map(|&x| Dynamic::from_float(x))
                .collect()
        },
    );
    api.method(
        "Series",
        "tail",
        &["n: int"],
        "Series",
        |s: &mut Series, n: INT| {
            let end = visible(s.len());
            s.slice(end.saturating_sub(n.max(0) as usize), end)
        },
    );
    api.method(
        "Series",
        "head",
        &["n: int"],
        "Series",
        |s: &mut Series, n: INT| s.slice(0, (n.max(0) as usize).min(visible(s.len()))),
    );
    api.method("Series", "is_bool", &[], "bool", |s: &mut Series| {
        s.is_bool()
    });
    api.engine.register_fn("to_string", |s: &mut Series| {
        seen(s).render().plain().unwrap_or_default().to_string()
    });
    api.engine.register_fn("to_debug", |s: &mut Series| {
        seen(s).render().plain().unwrap_or_default().to_string()
    });
    api.engine.register_iterator::<Series>();
}

impl IntoIterator for Series {
    type Item = f64;
    type IntoIter = std::vec::IntoIter<f64>;
    fn into_iter(self) -> Self::IntoIter {
        let mut v = self.values().to_vec();
        v.truncate(visible(v.len()));
        v.into_iter()
    }
}
