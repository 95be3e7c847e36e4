//! The embedded standard library: Rhai modules from `stdlib/*.rhai`, compiled into the binary and
//! registered as static modules (`std::strategies::sma_cross(10, 30)`), so they need no import and
//! survive across cells. `import "std/strategies" as s;` works too, through the same sources.

use rhai::module_resolvers::StaticModuleResolver;
use rhai::{Engine, Module, Scope, Shared};
use std::sync::OnceLock;

/// (module path, source) of every embedded module.
pub const MODULES: &[(&str, &str)] = &[
    (
        "std::strategies",
        include_str!("../../../stdlib/strategies.rhai"),
    ),
    ("std::risk", include_str!("../../../stdlib/risk.rhai")),
];

/// One public function of a module, all its overloads.
pub struct StdFn {
    /// `std::strategies::sma_cross`.
    pub name: String,
    /// One per overload, fewest parameters first: `std::strategies::sma_cross(bars, fast, slow)`.
    pub signatures: Vec<String>,
    /// The doc comment of the overload with the fewest parameters that has one.
    pub doc: String,
}

/// A module's `//!` doc and its functions in source order.
pub struct StdModule {
    pub path: &'static str,
    pub doc: String,
    pub fns: Vec<StdFn>,
}

/// The docs of the stdlib, for `help()`, completion and inspect.
static INDEX: OnceLock<Vec<StdModule>> = OnceLock::new();

/// The text of Rhai doc comments (`///` lines, `/** */` blocks, `//!` module lines) without
/// their markers; Rhai merges consecutive `///` lines into one string.
fn comment_text<'a>(comments: impl IntoIterator<Item = &'a str>) -> String {
    let mut lines = Vec::new();
    for c in comments {
        let c = c.trim();
        let c = c
            .strip_prefix("/**")
            .map_or(c, |b| b.strip_suffix("*/").unwrap_or(b));
        for line in c.lines() {
            let l = line.trim_start();
            let l = ["///", "//!", "*"]
                .iter()
                .find_map(|m| l.strip_prefix(m))
                .unwrap_or(l);
            lines.push(l.strip_prefix(' ').unwrap_or(l).trim_end());
        }
    }
    lines.join("\n").trim().to_string()
}

/// The functions of one compiled module, overloads merged, in source order.
fn index_module(path: &'static str, src: &str, ast: &rhai::AST) -> StdModule {
    let mut fns: Vec<(usize, StdFn)> = Vec::new();
    let mut overloads: Vec<_> = ast
        .iter_functions()
        .filter(|f| f.access != rhai::FnAccess::Private)
        .collect();
    overloads.sort_by_key(|f| (f.name, f.params.len()));
    for f in overloads {
        let name = format!("{path}::{}", f.name);
        let sig = format!("{name}({})", f.params.join(", "));
        let doc = comment_text(f.comments.iter().map(|c| c.as_ref()));
        match fns.iter_mut().find(|(_, x)| x.name == name) {
            Some((_, x)) => {
                x.signatures.push(sig);
                if x.doc.is_empty() {
                    x.doc = doc;
                }
            }
            None => {
                let at = src.find(&format!("fn {}(", f.name)).unwrap_or(usize::MAX);
                let signatures = vec![sig];
                fns.push((
                    at,
                    StdFn {
                        name,
                        signatures,
                        doc,
                    },
                ));
            }
        }
    }
    fns.sort_by_key(|(at, f)| (*at, f.name.clone()));
    StdModule {
        path,
        doc: comment_text(ast.doc().lines()),
        fns: fns.into_iter().map(|(_, f)| f).collect(),
    }
}

/// Compiles and loads one module; the AST is returned too, for the doc index.
fn compile(engine: &Engine, path: &str, src: &str) -> (Shared<Module>, rhai::AST) {
    let mut ast = engine
        .compile(src)
        .unwrap_or_else(|e| panic!("stdlib module {path} does not compile: {e}"));
    ast.set_source(path);
    let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
        .unwrap_or_else(|e| panic!("stdlib module {path} fails to load: {e}"));
    (module.into(), ast)
}

/// Registers every stdlib module as a static module (`std::strategies::…`).
pub fn register(engine: &mut Engine) {
    let mut index = Vec::new();
    let mut modules = Vec::new();
    for (path, src) in MODULES {
        let (m, ast) = compile(engine, path, src);
        index.push(index_module(path, src, &ast));
        modules.push((path, m));
    }
    for (path, m) in modules {
        engine.register_static_module(*path, m);
    }
    let _ = INDEX.set(index);
}

/// A resolver so `import "std/strategies" as s;` finds the same modules (and nothing on disk).
pub fn resolver() -> StaticModuleResolver {
    let engine = Engine::new_raw();
    let mut r = StaticModuleResolver::new();
    for (path, src) in MODULES {
        if let Ok(ast) = engine.compile(src)
            && let Ok(m) = Module::eval_ast_as_new(Scope::new(), &ast, &engine)
        {
            r.insert(path.replace("::", "/"), m);
        }
    }
    r
}

/// `std::strategies::sma_cross`, … (each once, modules in order, functions in source order), for
/// `help()` and completion.
pub fn qualified_names() -> Vec<String> {
    INDEX
        .get()
        .map(|i| {
            i.iter()
                .flat_map(|m| m.fns.iter().map(|f| f.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Every module with its functions (empty before the first [`register`]).
pub fn modules() -> &'static [StdModule] {
    INDEX.get().map_or(&[], Vec::as_slice)
}

/// Help for a stdlib function (qualified or bare name), or a module (`std::strategies`,
/// `strategies`; `std` lists every module): its doc and its functions.
pub fn describe(name: &str) -> Option<String> {
    let idx = INDEX.get()?;
    let f = idx
        .iter()
        .flat_map(|m| &m.fns)
        .find(|f| f.name == name || f.name.rsplit("::").next() == Some(name));
    if let Some(f) = f {
        return Some(format!("{}\n\n{}\n", f.signatures.join("\n"), f.doc));
    }
    let prefix = format!("{name}::");
    let modules: Vec<&StdModule> = idx
        .iter()
        .filter(|m| {
            m.path == name
                || m.path.starts_with(&prefix)
                || m.path.rsplit("::").next() == Some(name)
        })
        .collect();
    if modules.is_empty() {
        return None;
    }
    let mut out = String::new();
    for m in modules {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("{}\n\n", m.doc));
        let width = m
            .fns
            .iter()
            .map(|f| f.signatures[0].len())
            .max()
            .unwrap_or(0);
        for f in &m.fns {
            // The summary: the doc's first paragraph, on one line.
            let summary: Vec<&str> = f.doc.lines().take_while(|l| !l.trim().is_empty()).collect();
            out.push_str(&format!(
                "  {:<width$}  {}\n",
                f.signatures[0],
                summary.join(" ")
            ));
        }
    }
    Some(out)
}
