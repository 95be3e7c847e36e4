//! Registering documented built-ins. Every Rhai-facing function goes through [`Api::func`] (or
//! [`Api::method`] / [`Api::getter`]) so that it has a signature and a doc with a Rhai example:
//! `help()`, completion and inspect read them from [`Docs`]. The signature is made here from the
//! params; the doc (and the family `help()` lists it under) is the name's `## ` section in
//! `dsl/docs/*.md` (see [`super::doc_source`]): `## sma` for a function, `## Series.sma` for a method.
//!
//! ```ignore
//! api.func("sma", &["src: Series", "period: int"], "Series",
//!     |s: Series, n: INT| -> Result<Series, Box<EvalAltResult>> { ... });
//! ```

use super::docs::Docs;
use crate::error::DslError;
use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Position, RhaiNativeFunc, Variant};

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

pub struct Api<'a> {
    pub engine: &'a mut Engine,
    pub docs: &'a mut Docs,
}

impl<'a> Api<'a> {
    pub fn new(engine: &'a mut Engine, docs: &'a mut Docs) -> Self {
        Api { engine, docs }
    }

    /// A free function `name(params…) -> ret`. `params` are `"name: Type"`.
    pub fn func<
        A: 'static,
        const N: usize,
        const X: bool,
        R: Variant + Clone,
        const F: bool,
        FUNC,
    >(
        &mut self,
        name: &str,
        params: &[&str],
        ret: &str,
        f: FUNC,
    ) -> &mut Self
    where
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let sig = format!("{name}({}) -> {ret}", params.join(", "));
        self.docs.add(name, &sig, None);
        self.register(name, None, params, ret, f);
        self
    }

    /// A method `x.name(params…)` of type `recv` (also callable as `name(x, params…)`).
    /// `params` excludes the receiver.
    pub fn method<
        A: 'static,
        const N: usize,
        const X: bool,
        R: Variant + Clone,
        const F: bool,
        FUNC,
    >(
        &mut self,
        recv: &str,
        name: &str,
        params: &[&str],
        ret: &str,
        f: FUNC,
    ) -> &mut Self
    where
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let sig = format!("{recv}.{name}({}) -> {ret}", params.join(", "));
        self.docs.add(name, &sig, Some(recv));
        let mut all = vec![format!("self: {recv}")];
        all.extend(params.iter().map(|s| s.to_string()));
        let all_ref: Vec<&str> = all.iter().map(String::as_str).collect();
        self.register(name, Some(recv), &all_ref, ret, f);
        self
    }

    /// A read-only property `x.name` of type `recv`.
    pub fn getter<T: Variant + Clone, V: Variant + Clone>(
        &mut self,
        recv: &str,
        name: &str,
        ret: &str,
        f: impl Fn(&mut T) -> V + Send + Sync + 'static,
    ) -> &mut Self {
        let sig = format!("{recv}.{name} -> {ret}");
        self.docs.add(name, &sig, Some(recv));
        self.engine.register_get(name, f);
        self
    }

    /// Documents a name without registering it (script-defined stdlib functions, operators).
    pub fn doc_only(&mut self, name: &str, signature: &str, receiver: Option<&str>) -> &mut Self {
        self.docs.add(name, signature, receiver);
        self
    }

    fn register<
        A: 'static,
        const N: usize,
        const X: bool,
        R: Variant + Clone,
        const F: bool,
        FUNC,
    >(
        &mut self,
        name: &str,
        receiver: Option<&str>,
        params: &[&str],
        ret: &str,
        f: FUNC,
    ) where
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let mut info: Vec<String> = params.iter().map(|s| s.to_string()).collect();
        info.push(ret.to_string());
        let doc = self.docs.text(&super::docs::key(name, receiver));
        let comments: Vec<String> = doc.lines().map(|l| format!("/// {l}")).collect();
        FuncRegistration::new(name)
            .with_params_info(info)
            .with_comments(comments)
            .register_into_engine(self.engine, f);
    }
}

/// A runtime error for scripts (position filled in by the engine).
pub fn rt_err(msg: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(msg.into()),
        Position::NONE,
    ))
}

/// Converts an engine error into a script error.
pub fn to_rhai(e: DslError) -> Box<EvalAltResult> {
    match e {
        DslError::Interrupted => Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from("interrupted"),
            Position::NONE,
        )),
        other => rt_err(other.to_string()),
    }
}

/// `?`-friendly conversion for `Result<T, DslError>` in built-ins.
pub trait IntoRhai<T> {
    fn rhai(self) -> RhaiResult<T>;
}

impl<T> IntoRhai<T> for crate::error::Result<T> {
    fn rhai(self) -> RhaiResult<T> {
        self.map_err(to_rhai)
    }
}

/// Reads an optional option from a map: `#{ fee_pct: 0.1 }` (ints and floats accepted).
pub fn opt_f64(m: &rhai::Map, key: &str) -> RhaiResult<Option<f64>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => {
            if let Ok(f) = v.as_float() {
                Ok(Some(f))
            } else if let Ok(i) = v.as_int() {
                Ok(Some(i as f64))
            } else {
                Err(rt_err(format!(
                    "option '{key}' must be a number, not {}",
                    v.type_name()
                )))
            }
        }
    }
}

pub fn opt_i64(m: &rhai::Map, key: &str) -> RhaiResult<Option<i64>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => v
            .as_int()
            .map(Some)
            .or_else(|_| v.as_float().map(|f| Some(f as i64)))
            .map_err(|_| {
                rt_err(format!(
                    "option '{key}' must be a whole number, not {}",
                    v.type_name()
                ))
            }),
    }
}

pub fn opt_str(m: &rhai::Map, key: &str) -> RhaiResult<Option<String>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => v
            .clone()
            .into_string()
            .map(Some)
            .map_err(|t| rt_err(format!("option '{key}' must be a string, not {t}"))),
    }
}

/// Rejects keys not in `known`, naming the closest known key.
pub fn check_keys(m: &rhai::Map, what: &str, known: &[&str]) -> RhaiResult<()> {
    for k in m.keys() {
        if !known.contains(&k.as_str()) {
            let best = known
                .iter()
                .min_by_key(|c| super::docs::edit_distance(c, k))
                .copied()
                .unwrap_or("");
            return Err(rt_err(format!(
                "unknown {what} option '{k}'{}; options are: {}",
                if super::docs::edit_distance(best, k) <= 3 {
                    format!(" (did you mean '{best}'?)")
                } else {
                    String::new()
                },
                known.join(", ")
            )));
        }
    }
    Ok(())
}
