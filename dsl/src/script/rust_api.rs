//! `rust(name, args…)`: calls a function compiled in a `%%rust` cell, and `rust_functions()`.
//!
//! This layer only defines the bridge, [`ForeignFns`]: the kernel (which owns the Rust compiler,
//! evcxr) installs an implementation with [`Runtime::set_foreign`] once a Rust cell defines public
//! functions. Without one, `rust(...)` is a clear error and everything else works as before.

use super::api::{Api, RhaiResult, rt_err};
use super::runtime::Runtime;
use crate::series::Series;
use rhai::{Array, Dynamic, ImmutableString, Map};
use std::sync::Arc;

/// An argument handed to a foreign function. A Series is shared, not copied.
#[derive(Clone, Debug)]
pub enum ForeignArg {
    Series(Series),
    Float(f64),
    Int(i64),
    Bool(bool),
}

/// What a foreign function gave back.
#[derive(Clone, Debug)]
pub enum ForeignValue {
    Unit,
    Float(f64),
    Int(i64),
    Bool(bool),
    Series(Series),
    /// Named series (a Rhai map of Series), in the order given.
    Map(Vec<(String, Series)>),
}

/// One callable function: its name, its parameters' names and the signature to show.
#[derive(Clone, Debug, PartialEq)]
pub struct ForeignFnInfo {
    pub name: String,
    pub params: Vec<String>,
    pub signature: String,
}

/// Functions compiled elsewhere (Rust cells), callable from scripts. Calls may come from several
/// threads at once (parallel sweeps).
pub trait ForeignFns: Send + Sync {
    fn call(&self, name: &str, args: &[ForeignArg]) -> Result<ForeignValue, String>;
    fn functions(&self) -> Vec<ForeignFnInfo>;
}

const NONE_YET: &str = "no Rust function is defined in this session: write `pub fn NAME(...)` in a \
cell that starts with %%rust (arguments &[f64], f64, i64, bool; returns Vec<f64>, f64, i64, bool or \
a map of Vec<f64>), then call rust(\"NAME\", ...)";

fn to_arg(name: &str, i: usize, v: Dynamic) -> RhaiResult<ForeignArg> {
    if v.is::<Series>() {
        return Ok(ForeignArg::Series(v.cast::<Series>()));
    }
    if let Ok(f) = v.as_float() {
        return Ok(ForeignArg::Float(f));
    }
    if let Ok(n) = v.as_int() {
        return Ok(ForeignArg::Int(n));
    }
    if let Ok(b) = v.as_bool() {
        return Ok(ForeignArg::Bool(b));
    }
    if v.is_array() {
        let arr = v.cast::<Array>();
        let mut out = Vec::with_capacity(arr.len());
        for x in arr {
            out.push(
                x.as_float()
                    .or_else(|_| x.as_int().map(|n| n as f64))
                    .map_err(|_| {
                        rt_err(format!(
                            "argument {} of rust(\"{name}\"): an array must hold numbers only",
                            i + 1
                        ))
                    })?,
            );
        }
        return Ok(ForeignArg::Series(Series::new(out)));
    }
    Err(rt_err(format!(
        "argument {} of rust(\"{name}\") is a {}: pass a Series, a number, a bool or an array of numbers",
        i + 1,
        v.type_name()
    )))
}

fn to_dynamic(v: ForeignValue) -> Dynamic {
    match v {
        ForeignValue::Unit => Dynamic::UNIT,
        ForeignValue::Float(f) => Dynamic::from_float(f),
        ForeignValue::Int(n) => Dynamic::from_int(n),
        ForeignValue::Bool(b) => Dynamic::from_bool(b),
        ForeignValue::Series(s) => Dynamic::from(s),
        ForeignValue::Map(m) => {
            let mut map = Map::new();
            for (k, s) in m {
                map.insert(k.into(), Dynamic::from(s));
            }
            Dynamic::from_map(map)
        }
    }
}

/// Calls `name` through the session's bridge.
pub fn call(rt: &Runtime, name: &str, args: Vec<Dynamic>) -> RhaiResult<Dynamic> {
    let Some(bridge) = rt.foreign() else {
        return Err(rt_err(NONE_YET));
    };
    let args = args
        .into_iter()
        .enumerate()
        .map(|(i, v)| to_arg(name, i, v))
        .collect::<RhaiResult<Vec<_>>>()?;
    bridge.call(name, &args).map(to_dynamic).map_err(rt_err)
}

macro_rules! rust_n {
    ($api:expr, $rt:expr, $params:expr, $($a:ident),*) => {{
        let rt = $rt.clone();
        $api.func("rust", $params, "any",
            move |name: ImmutableString, $($a: Dynamic),*| -> RhaiResult<Dynamic> {
                call(&rt, &name, vec![$($a),*])
            });
    }};
}

pub fn register(api: &mut Api, rt: &Arc<Runtime>) {
    api.docs.add_intro("rust_cells", "Rust");
    let r = rt.clone();
    api.func(
        "rust",
        &["name: string"],
        "any",
        move |name: ImmutableString| call(&r, &name, vec![]),
    );
    rust_n!(api, rt, &["name: string", "a: any"], a);
    rust_n!(api, rt, &["name: string", "a: any", "b: any"], a, b);
    rust_n!(
        api,
        rt,
        &["name: string", "a: any", "b: any", "c: any"],
        a,
        b,
        c
    );
    rust_n!(
        api,
        rt,
        &["name: string", "a: any", "b: any", "c: any", "d: any"],
        a,
        b,
        c,
        d
    );
    rust_n!(
        api,
        rt,
        &[
            "name: string",
            "a: any",
            "b: any",
            "c: any",
            "d: any",
            "e: any"
        ],
        a,
        b,
        c,
        d,
        e
    );
    rust_n!(
        api,
        rt,
        &[
            "name: string",
            "a: any",
            "b: any",
            "c: any",
            "d: any",
            "e: any",
            "f: any"
        ],
        a,
        b,
        c,
        d,
        e,
        f
    );
    let r = rt.clone();
    api.func("rust_functions", &[], "Array", move || -> Array {
        r.foreign()
            .map(|b| b.functions())
            .unwrap_or_default()
            .into_iter()
            .map(|f| Dynamic::from(f.signature))
            .collect()
    });
}

/// Rhai functions that forward to the bridge under each Rust function's own name
/// (`kalman(close, q, r)` for `rust("kalman", close, q, r)`), for names a script can use.
pub fn wrappers(fns: &[ForeignFnInfo]) -> String {
    let mut out = String::new();
    for f in fns {
        if !super::is_variable_name(&f.name) || f.params.len() > 6 {
            continue;
        }
        let params: Vec<String> = (0..f.params.len()).map(|i| format!("a{i}")).collect();
        let args = if params.is_empty() {
            String::new()
        } else {
            format!(", {}", params.join(", "))
        };
        out.push_str(&format!(
            "fn {}({}) {{ rust(\"{}\"{args}) }}\n",
            f.name,
            params.join(", "),
            f.name
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::config::Config;
    use crate::script::Session;

    /// Doubles a series; `bands` gives a map of two series; `fail` errors.
    struct Fake;

    impl ForeignFns for Fake {
        fn call(&self, name: &str, args: &[ForeignArg]) -> Result<ForeignValue, String> {
            match (name, args) {
                ("double", [ForeignArg::Series(s), ForeignArg::Float(k)]) => {
                    Ok(ForeignValue::Series(Series::new(
                        s.values().iter().map(|x| x * 2.0 * k).collect(),
                    )))
                }
                ("bands", [ForeignArg::Series(s), ForeignArg::Bool(_)]) => {
                    Ok(ForeignValue::Map(vec![
                        ("up".into(), s.clone()),
                        ("down".into(), s.clone()),
                    ]))
                }
                _ => Err(format!("fake: no {name} for {args:?}")),
            }
        }

        fn functions(&self) -> Vec<ForeignFnInfo> {
            vec![ForeignFnInfo {
                name: "double".into(),
                params: vec!["x".into(), "k".into()],
                signature: "double(x: &[f64], k: f64) -> Vec<f64>".into(),
            }]
        }
    }

    fn plain(s: &mut Session, code: &str) -> String {
        let r = s.execute(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        r.value
            .and_then(|v| v.plain().map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn without_a_bridge_rust_says_how_to_define_a_function() {
        let home = tempfile::tempdir().unwrap();
        let mut s = Session::new(Config::for_home(home.path()));
        let e = s.execute("rust(\"kalman\", [1.0], 0.1)").unwrap_err();
        assert!(e.evalue.contains("%%rust"), "{}", e.evalue);
        assert_eq!(plain(&mut s, "rust_functions().len()"), "0");
    }

    #[test]
    fn calls_cross_the_bridge_and_named_wrappers_forward_to_it() {
        let home = tempfile::tempdir().unwrap();
        let mut s = Session::new(Config::for_home(home.path()));
        s.runtime().set_foreign(Some(Arc::new(Fake)));
        assert_eq!(
            plain(&mut s, "rust(\"double\", series([1, 2]), 1.5).to_array()"),
            "[3.0, 6.0]"
        );
        // An array of numbers passes as a Series; an int where a float is asked stays an int
        // here (the kernel's bridge converts by the Rust signature).
        assert_eq!(plain(&mut s, "rust(\"bands\", [1, 2], true).up.len()"), "2");
        let e = s.execute("rust(\"double\", \"text\", 1.0)").unwrap_err();
        assert!(e.evalue.contains("argument 1"), "{}", e.evalue);
        s.define_functions(&wrappers(&Fake.functions())).unwrap();
        assert_eq!(plain(&mut s, "double([1.0], 2.0).to_array()"), "[4.0]");
        assert!(plain(&mut s, "rust_functions()").contains("double(x: &[f64]"));
    }
}
