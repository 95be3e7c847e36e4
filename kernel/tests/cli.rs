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
