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

/// Function docs of the stdlib: (qualified name, params, doc).
static INDEX: OnceLock<Vec<(String, Vec<String>, String)>> = OnceLock::new();

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
        for f in ast.iter_functions() {
            if f.access == rhai::FnAccess::Private {
                continue;
            }
            let doc = f
                .comments
                .iter()
                .map(|c| c.trim_start_matches('/').trim_start_matches('*').trim())
                .collect::<Vec<_>>()
                .join("\n");
            index.push((
                format!("{path}::{}", f.name),
                f.params.iter().map(|p| p.to_string()).collect(),
                doc,
            ));
        }
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
        if let Ok(ast) = engine.compile(src) {
            if let Ok(m) = Module::eval_ast_as_new(Scope::new(), &ast, &engine) {
                r.insert(path.replace("::", "/"), m);
            }
        }
    }
    r
}

/// `std::strategies::sma_cross`, … for completion.
pub fn qualified_names() -> Vec<String> {
    INDEX
        .get()
        .map(|i| i.iter().map(|(n, _, _)| n.clone()).collect())
        .unwrap_or_default()
}

/// Help for a stdlib function (qualified or bare name).
pub fn describe(name: &str) -> Option<String> {
    let idx = INDEX.get()?;
    let (n, params, doc) = idx
        .iter()
        .find(|(n, _, _)| n == name || n.rsplit("::").next() == Some(name))?;
    Some(format!("{n}({})\n\n{doc}\n", params.join(", ")))
}
