//! Runner inputs a careless user (or a model) types: each is a clear error with exit status 2,
//! never a panic (101).

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let home = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_stratbook"))
        .args(args)
        .env("STRATBOOK_HOME", home.path())
        .env("STRATBOOK_OFFLINE", "1")
        .output()
        .expect("run stratbook");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/fetch.rhai")
        .display()
        .to_string()
}

#[test]
fn an_absurd_timeout_is_an_error_not_a_panic() {
    for t in [
        "--timeout=1e20",
        "--timeout=1e300",
        "--timeout=-1",
        "--timeout=NaN",
    ] {
        let (code, err) = run(&["run", &example(), t]);
        assert_eq!(code, Some(2), "{t}: {err}");
        assert!(err.contains("--timeout"), "{t}: {err}");
    }
}

#[test]
fn keywords_are_refused_as_parameter_names() {
    for p in ["fn=1", "let=2", "true=6"] {
        let (code, err) = run(&["run", &example(), "-p", p]);
        assert_eq!(code, Some(2), "{p}: {err}");
        assert!(err.contains("Rhai keyword"), "{p}: {err}");
    }
}

/// Without a Rust toolchain on PATH a Rust cell is a clear error naming what to install, and the
/// Rhai cells around it run (a headless run with --allow-errors).
#[test]
fn a_rust_cell_without_a_toolchain_says_what_to_install() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nb = dir.path().join("nb.ipynb");
    let cell = |src: &str| {
        serde_json::json!({"cell_type": "code", "metadata": {}, "source": src,
            "outputs": [], "execution_count": null})
    };
    let doc = serde_json::json!({
        "cells": [cell("let x = 41;"), cell("%%rust\n1 + 1"), cell("x + 1")],
        "metadata": {"kernelspec": {"name": "stratbook", "display_name": "Stratbook", "language": "rhai"}},
        "nbformat": 4, "nbformat_minor": 5,
    });
    std::fs::write(&nb, doc.to_string()).unwrap();
    // A PATH with no cargo or rustc on it.
    let empty = dir.path().join("bin");
    std::fs::create_dir(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stratbook"))
        .args(["run", "--allow-errors", "-o", "-"])
        .arg(&nb)
        .env("STRATBOOK_HOME", dir.path().join("home"))
        .env("STRATBOOK_OFFLINE", "1")
        .env("PATH", &empty)
        .output()
        .expect("run stratbook");
    assert_eq!(out.status.code(), Some(0));
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outputs = |i: usize| done["cells"][i]["outputs"].to_string();
    let rust = outputs(1);
    if cfg!(feature = "rust-cells") {
        assert!(rust.contains("rustup") && rust.contains("PATH"), "{rust}");
    } else {
        assert!(rust.contains("rust-cells"), "{rust}");
    }
    assert!(outputs(2).contains("42"), "{}", outputs(2));
}

/// A memory budget that cannot be read is said (once, at the first cell) and the default used;
/// the script still runs.
#[test]
fn an_unreadable_memory_budget_is_a_warning_not_silence() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_stratbook"))
        .args(["run", &example()])
        .env("STRATBOOK_HOME", home.path())
        .env("STRATBOOK_OFFLINE", "1")
        .env("STRATBOOK_MAX_MEMORY", "lots")
        .output()
        .expect("run stratbook");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        err.matches("STRATBOOK_MAX_MEMORY=lots is not a size")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("the default budget of"), "{err}");
}
