//! The layering rule of ARCHITECTURE.md, checked: data flows one way (source → bars → indicators →
//! strategy → engine → results → plots / store → script), so a module may import only modules of a
//! lower layer. The table below is the one ARCHITECTURE.md shows; a new top-level module must be
//! placed in it, and an import that runs against the flow fails here with the file that holds it.
//!
//! Only non-test code counts (items under `#[cfg(test)]` are skipped): a test may build its
//! fixtures from any layer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layer of each top-level module of `dsl/src`, lowest first.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("time", 1),
    ("interval", 1),
    ("cancel", 1),
    ("sqlite", 1),
    ("sandbox", 1),
    ("memory", 1),
    ("series", 1),
    ("display", 1),
    ("bars", 2),
    ("frame", 2),
    ("order", 2),
    ("data", 3),
    ("indicators", 3),
    ("llm", 4),
    ("strategy", 4),
    ("backtest", 5),
    ("plot", 6),
    ("store", 6),
    ("testing", 7),
    ("sim", 7),
    ("script", 8),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dsl/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text with every `#[cfg(test)]` item removed (up to its `;`, or its matching `}`).
fn without_tests(text: &str) -> String {
    const ATTR: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(ATTR) {
        out.push_str(&rest[..i]);
        let item = &rest[i + ATTR.len()..];
        let end = match (item.find(';'), item.find('{')) {
            (Some(semi), Some(brace)) if semi < brace => semi + 1,
            (Some(semi), None) => semi + 1,
            (_, Some(brace)) => {
                let mut depth = 0usize;
                let mut end = item.len();
                for (j, c) in item[brace..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = brace + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, None) => item.len(),
        };
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The top-level modules a file's non-test code names as `crate::<module>`.
fn imports(text: &str) -> Vec<String> {
    let code = without_tests(text);
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let tail = &rest[i + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `crate::` preceded by an identifier character is another path (`dsl::crate` is not a thing,
            // but `my_crate::x` is).
            let before = rest[..i].chars().last();
            if !name.is_empty() && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.push(name);
            }
            rest = tail;
        }
    }
    out
}

/// `*_tests.rs` files are test modules (`#[cfg(test)] mod x_tests;`, checked below).
fn is_test_file(f: &Path) -> bool {
    f.file_stem()
        .is_some_and(|s| s.to_string_lossy().ends_with("_tests"))
}

/// Every import edge `from -> to` between top-level modules, with the files that make it.
fn edges() -> BTreeMap<(String, String), Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a path");
        let top = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" {
            continue;
        }
        if is_test_file(&f) {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("read source");
        for to in imports(&text) {
            if to != top {
                out.entry((top.clone(), to))
                    .or_default()
                    .push(rel.display().to_string());
            }
        }
    }
    out
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&src).expect("read dsl/src") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .to_string();
        let is_module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
        if is_module && name != "lib" && layer(&name).is_none() {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "modules with no layer in tests/architecture.rs (and ARCHITECTURE.md): {missing:?}"
    );
}

#[test]
fn imports_run_with_the_data_flow() {
    let mut against = Vec::new();
    for ((from, to), files) in edges() {
        let (Some(lf), Some(lt)) = (layer(&from), layer(&to)) else {
            continue; // reported by every_top_level_module_has_a_layer
        };
        if lt >= lf {
            against.push(format!(
                "{from} (layer {lf}) imports {to} (layer {lt}) in {}",
                files.join(", ")
            ));
        }
    }
    assert!(
        against.is_empty(),
        "imports against the data flow (see ARCHITECTURE.md):\n{}",
        against.join("\n")
    );
}

#[test]
fn every_tests_file_is_declared_under_cfg_test() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let all: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("read source"))
        .collect::<Vec<_>>()
        .join("\n")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for f in files.iter().filter(|f| is_test_file(f)) {
        let stem = f.file_stem().expect("a name").to_string_lossy();
        assert!(
            all.contains(&format!("#[cfg(test)] mod {stem};")),
            "{} is named as a test module but is not declared `#[cfg(test)] mod {stem};`",
            f.display()
        );
    }
}

#[test]
fn the_engine_knows_nothing_of_jupyter() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("read dsl/Cargo.toml");
    for dep in ["jupyter", "zeromq"] {
        assert!(
            !manifest.contains(dep),
            "dsl/Cargo.toml depends on {dep}: the Jupyter protocol belongs in kernel/"
        );
    }
}

#[test]
fn the_import_scanner_sees_paths_and_skips_comments_and_tests() {
    let text = "use crate::bars::Bars;\nlet x = crate::series::cmp(a, b); // crate::plot\nmy_crate::x();\n\
                #[cfg(test)]\nuse crate::script::Session;\n\
                #[cfg(test)]\nmod tests {\n    fn f() { if x { crate::plot::y(); } }\n}\n\
                pub fn after() { crate::data::z(); }\n";
    assert_eq!(imports(text), vec!["bars", "series", "data"]);
}
