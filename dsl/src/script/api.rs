//! Registering documented built-ins. Every Rhai-facing function goes through [`Api::func`] (or
//! [`Api::method`] / [`Api::getter`]) so that it has a signature and a doc with a Rhai example:
//! `help()`, completion and inspect read them from [`Docs`].
//!
//! ```ignore
//! api.family("Indicators");
//! api.func("sma", &["src: Series", "period: int"], "Series",
//!     "Simple moving average over `period` bars; NaN during warm-up.\n\n```rhai\nlet m = sma(close, 20);\n```",
//!     |s: Series, n: INT| -> Result<Series, Box<EvalAltResult>> { ... });
//! ```

use super::docs::Docs;
use crate::error::DslError;
use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Position, RhaiNativeFunc, Variant};

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

pub struct Api<'a> {
    pub engine: &'a mut Engine,
    pub docs: &'a mut Docs,
    family: String,
}

impl<'a> Api<'a> {
    pub fn new(engine: &'a mut Engine, docs: &'a mut Docs) -> Self {
        Api {
            engine,
            docs,
            family: "General".into(),
        }
    }

    /// Sets the family for the following registrations (`help()` groups by family).
    pub fn family(&mut self, name: &str) -> &mut Self {
        self.family = name.into();
        self
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
        doc: &str,
        f: FUNC,
    ) -> &mut Self
    where
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let sig = format!("{name}({}) -> {ret}", params.join(", "));
        self.docs.add(&self.family, name, &sig, doc, None);
        self.register(name, params, ret, doc, f);
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
        doc: &str,
        f: FUNC,
    ) -> &mut Self
    where
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let sig = format!("{recv}.{name}({}) -> {ret}", params.join(", "));
        self.docs.add(&self.family, name, &sig, doc, Some(recv));
        let mut all = vec![format!("self: {recv}")];
        all.extend(params.iter().map(|s| s.to_string()));
        let all_ref: Vec<&str> = all.iter().map(String::as_str).collect();
        self.register(name, &all_ref, ret, doc, f);
        self
    }

    /// A read-only property `x.name` of type `recv`.
    pub fn getter<T: Variant + Clone, V: Variant + Clone>(
        &mut self,
        recv: &str,
        name: &str,
        ret: &str,
        doc: &str,
        f: impl Fn(&mut T) -> V + Send + Sync + 'static,
    ) -> &mut Self {
        let sig = format!("{recv}.{name} -> {ret}");
        self.docs.add(&self.family, name, &sig, doc, Some(recv));
        self.engine.register_get(name, f);
        self
    }

    /// Documents a name without registering it (script-defined stdlib functions, operators).
    pub fn doc_only(
        &mut self,
        name: &str,
        signature: &str,
        doc: &str,
        receiver: Option<&str>,
    ) -> &mut Self {
        self.docs.add(&self.family, name, signature, doc, receiver);
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
        params: &[&str],
        ret: &str,
        doc: &str,
        f: FUNC,
    ) where
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        let mut info: Vec<String> = params.iter().map(|s| s.to_string()).collect();
        info.push(ret.to_string());
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
