//! `Series` in scripts: operators in both orders (with ints too), indexing, methods.

use super::api::{Api, RhaiResult, rt_err};
use super::render::Render;
use crate::runtime::Runtime;
use crate::series::{Series, truthy};
use rhai::{Array, Dynamic, FLOAT, INT};
use std::sync::Arc;

const ARITH_DOC: &str = "Element-wise arithmetic on Series, with a number on either side (ints too).\n\
A NaN on either side gives NaN (warm-up stays warm-up).\n\n```rhai\nlet range = bars.high - bars.low;\nlet mid = (bars.high + bars.low) / 2;\nlet pct = close / close.shift(1) * 100 - 100;\n```";

const CMP_DOC: &str = "Element-wise comparison: a bool Series (a signal). Comparisons with NaN are false.\n\n\
```rhai\nlet up = close > sma(close, 50);\nlet cheap = rsi(close, 14) < 30;\n```";

const LOGIC_DOC: &str = "Combine signals: `a & b` (and), `a | b` (or), `!a` (not).\n\nRhai's `&&`/`||` work on single \
bools only, so use `&` and `|` between Series.\n\n```rhai\nlet entry = crossover(fast, slow) & (rsi(close, 14) < 70);\nlet exit = crossunder(fast, slow) | (close < lowest(close, 20));\n```";

macro_rules! arith {
    ($api:expr, $op:literal, $f:expr) => {{
        let f: fn(f64, f64) -> f64 = $f;
        $api.engine
            .register_fn($op, move |a: Series, b: Series| a.zip(&b, f));
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
            ARITH_DOC,
            Some("Series"),
        );
    }};
}

macro_rules! cmp {
    ($api:expr, $op:literal, $f:expr) => {{
        let f: fn(f64, f64) -> bool = $f;
        $api.engine
            .register_fn($op, move |a: Series, b: Series| a.zip_bool(&b, f));
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
            CMP_DOC,
            Some("Series"),
        );
    }};
}

fn index(s: &mut Series, i: INT) -> RhaiResult<FLOAT> {
    s.get(i).ok_or_else(|| {
        rt_err(format!(
            "index {i} is out of range for a Series of {} values (use 0..{} or -1 for the last)",
            s.len(),
            s.len().saturating_sub(1)
        ))
    })
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

pub fn register(api: &mut Api, _rt: &Arc<Runtime>) {
    api.engine.register_type_with_name::<Series>("Series");
    api.family("Series");

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
    api.engine.register_fn("&", |a: Series, b: Series| {
        a.zip_bool(&b, |x, y| truthy(x) && truthy(y))
    });
    api.engine.register_fn("|", |a: Series, b: Series| {
        a.zip_bool(&b, |x, y| truthy(x) || truthy(y))
    });
    api.engine
        .register_fn("&", |a: Series, b: bool| a.map_bool(|x| truthy(x) && b));
    api.engine
        .register_fn("|", |a: Series, b: bool| a.map_bool(|x| truthy(x) || b));
    api.engine
        .register_fn("!", |a: Series| a.map_bool(|x| !truthy(x)));
    api.doc_only(
        "&",
        "Series & Series -> Series(bool)",
        LOGIC_DOC,
        Some("Series"),
    );

    api.engine.register_indexer_get(index);
    api.doc_only(
        "[]",
        "Series[i: int] -> float",
        "The value at bar `i`; negative counts from the end (`s[-1]` is the last).\n\n```rhai\nlet last = close[-1];\nlet first = close[0];\n```",
        Some("Series"),
    );

    api.func(
        "series",
        &["values: array"],
        "Series",
        "A Series from an array of numbers.\n\n```rhai\nlet s = series([1, 2, 3.5]);\n```",
        |a: Array| from_array(&a),
    );
    api.method(
        "Series",
        "len",
        &[],
        "int",
        "Number of values.\n\n```rhai\nclose.len()\n```",
        |s: &mut Series| s.len() as INT,
    );
    api.getter(
        "Series",
        "len",
        "int",
        "Number of values.\n\n```rhai\nclose.len\n```",
        |s: &mut Series| s.len() as INT,
    );
    api.method(
        "Series",
        "last",
        &[],
        "float",
        "The last value (NaN if empty).\n\n```rhai\nlet price = close.last();\n```",
        |s: &mut Series| s.last(),
    );
    api.getter(
        "Series",
        "last",
        "float",
        "The last value.\n\n```rhai\nclose.last\n```",
        |s: &mut Series| s.last(),
    );
    api.method(
        "Series",
        "shift",
        &["n: int"],
        "Series",
        "Values `n` bars ago: `s.shift(1)[i]` is `s[i-1]`; the first `n` values are NaN.\n\nA negative `n` looks \
         ahead and is meant for labelling data, never for signals.\n\n```rhai\nlet prev = close.shift(1);\nlet ret = close / prev - 1;\n```",
        |s: &mut Series, n: INT| s.shift(n),
    );
    api.method(
        "Series",
        "mean",
        &[],
        "float",
        "Mean of the non-NaN values.\n\n```rhai\nvolume.mean()\n```",
        |s: &mut Series| s.mean(),
    );
    api.method(
        "Series",
        "sum",
        &[],
        "float",
        "Sum of the non-NaN values.\n\n```rhai\nvolume.sum()\n```",
        |s: &mut Series| s.sum(),
    );
    api.method(
        "Series",
        "min",
        &[],
        "float",
        "Smallest non-NaN value.\n\n```rhai\nlow.min()\n```",
        |s: &mut Series| s.min(),
    );
    api.method(
        "Series",
        "max",
        &[],
        "float",
        "Largest non-NaN value.\n\n```rhai\nhigh.max()\n```",
        |s: &mut Series| s.max(),
    );
    api.method(
        "Series",
        "count",
        &[],
        "int",
        "Number of true bars in a signal (non-zero, non-NaN values).\n\n```rhai\n(close > open).count()\n```",
        |s: &mut Series| s.count() as INT,
    );
    api.method(
        "Series",
        "fillna",
        &["value: float"],
        "Series",
        "NaN replaced by `value`.\n\n```rhai\nlet r = rsi(close, 14).fillna(50);\n```",
        |s: &mut Series, v: FLOAT| s.fillna(v),
    );
    api.engine
        .register_fn("fillna", |s: &mut Series, v: INT| s.fillna(v as f64));
    api.method(
        "Series",
        "abs",
        &[],
        "Series",
        "Absolute values.\n\n```rhai\n(close - open).abs()\n```",
        |s: &mut Series| s.map(f64::abs),
    );
    api.method(
        "Series",
        "slice",
        &["start: int", "end: int"],
        "Series",
        "Values `[start, end)`.\n\n```rhai\nclose.slice(0, 100)\n```",
        |s: &mut Series, a: INT, b: INT| s.slice(a.max(0) as usize, b.max(0) as usize),
    );
    api.method(
        "Series",
        "to_array",
        &[],
        "array",
        "The values as a script array (copies; avoid on long series).\n\n```rhai\nclose.tail(3).to_array()\n```",
        |s: &mut Series| -> Array { s.values().iter().map(|&x| Dynamic::from_float(x)).collect() },
    );
    api.method(
        "Series",
        "tail",
        &["n: int"],
        "Series",
        "The last `n` values.\n\n```rhai\nclose.tail(5)\n```",
        |s: &mut Series, n: INT| s.slice(s.len().saturating_sub(n.max(0) as usize), s.len()),
    );
    api.method(
        "Series",
        "head",
        &["n: int"],
        "Series",
        "The first `n` values.\n\n```rhai\nclose.head(5)\n```",
        |s: &mut Series, n: INT| s.slice(0, n.max(0) as usize),
    );
    api.method(
        "Series",
        "is_bool",
        &[],
        "bool",
        "True for a signal (bool Series).\n\n```rhai\n(close > 1).is_bool()\n```",
        |s: &mut Series| s.is_bool(),
    );
    api.engine.register_fn("to_string", |s: &mut Series| {
        s.render().plain().unwrap_or_default().to_string()
    });
    api.engine.register_fn("to_debug", |s: &mut Series| {
        s.render().plain().unwrap_or_default().to_string()
    });
    api.engine.register_iterator::<Series>();
}

impl IntoIterator for Series {
    type Item = f64;
    type IntoIter = std::vec::IntoIter<f64>;
    fn into_iter(self) -> Self::IntoIter {
        self.values().to_vec().into_iter()
    }
}
