//! The sandbox's walls, through cells: every file built-in reads and writes inside the working
//! folder, `STRATBOOK_HOME` and `STRATBOOK_DATA_DIRS`, and is refused elsewhere (absolute paths,
//! `..` escapes, symlinks out) with an error naming the setting.

use dsl::data::config::Config;
use dsl::script::Session;
use std::path::{Path, PathBuf};

struct Dirs {
    work: tempfile::TempDir,
    home: tempfile::TempDir,
    data: tempfile::TempDir,
    outside: tempfile::TempDir,
}

fn dirs() -> Dirs {
    let d = Dirs {
        work: tempfile::tempdir().unwrap(),
        home: tempfile::tempdir().unwrap(),
        data: tempfile::tempdir().unwrap(),
        outside: tempfile::tempdir().unwrap(),
    };
    // A file of bars in every folder, and a secret outside.
    for dir in [
        d.work.path(),
        d.home.path(),
        d.data.path(),
        d.outside.path(),
    ] {
        write_bars(dir);
    }
    std::fs::write(d.outside.path().join("secret.txt"), "TOPSECRET,x\n1,2\n").unwrap();
    d
}

/// Bars files written by the engine itself, outside any sandbox.
fn write_bars(dir: &Path) {
    let mut s = Session::new(Config::for_home(dir));
    let csv = dir.join("b.csv");
    let pq = dir.join("b.parquet");
    s.execute(&format!(
        "let b = klines(\"demo:BTC\", \"1h\", #{{ limit: 24 }}); b.to_csv({:?}); b.to_parquet({:?});",
        csv.display().to_string(),
        pq.display().to_string()
    ))
    .unwrap();
}

fn session(d: &Dirs, with_data_dir: bool) -> Session {
    let mut c = Config::for_home(d.home.path());
    c.sandbox.work_dir = Some(d.work.path().to_path_buf());
    c.sandbox.data_dirs = if with_data_dir {
        vec![d.data.path().to_path_buf()]
    } else {
        vec![]
    };
    Session::new(c)
}

/// Each file built-in as a cell using `path` (`{}`).
const BUILTINS: [(&str, &str, bool); 7] = [
    ("read_csv", "read_csv({p}).len()", false),
    ("read_csv", "read_csv({p}, #{ id: \"x\" }).len()", false),
    ("read_parquet", "read_parquet({p}).len()", false),
    (
        "read_parquet",
        "read_parquet({p}, #{ id: \"x\" }).len()",
        false,
    ),
    (
        "to_csv",
        "klines(\"demo:ETH\", \"1h\", #{ limit: 5 }).to_csv({p});",
        true,
    ),
    (
        "to_parquet",
        "klines(\"demo:ETH\", \"1h\", #{ limit: 5 }).to_parquet({p});",
        true,
    ),
    ("to_csv", "table([#{ a: 1 }, #{ a: 2 }]).to_csv({p});", true),
];

fn cell(template: &str, path: &str) -> String {
    template.replace("{p}", &format!("{path:?}"))
}

fn file_for(template: &str, writes: bool, stem: &str) -> String {
    let ext = if template.contains("parquet") {
        "parquet"
    } else {
        "csv"
    };
    if writes {
        format!("{stem}_new.{ext}")
    } else {
        format!("{stem}.{ext}")
    }
}

fn abs(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[test]
fn every_file_builtin_works_inside_the_working_folder_home_and_data_dirs() {
    let d = dirs();
    let mut s = session(&d, true);
    for (name, t, writes) in BUILTINS {
        let f = file_for(t, writes, "b");
        for path in [
            f.clone(),               // relative: the working folder
            format!("./sub/../{f}"), // a `..` that stays inside
            abs(d.work.path(), &f),  // absolute inside the working folder
            abs(d.home.path(), &f),  // STRATBOOK_HOME
            abs(d.data.path(), &f),  // STRATBOOK_DATA_DIRS
        ] {
            if path.contains("sub") {
                std::fs::create_dir_all(d.work.path().join("sub")).unwrap();
            }
            let code = cell(t, &path);
            s.execute(&code)
                .unwrap_or_else(|e| panic!("{name}: {code}: {e}"));
        }
    }
    // What was written is where it was asked to be.
    assert!(d.work.path().join("b_new.csv").exists());
    assert!(d.home.path().join("b_new.parquet").exists());
    assert!(d.data.path().join("b_new.csv").exists());
}

#[test]
fn every_file_builtin_refuses_absolute_dotdot_and_symlink_escapes_naming_the_setting() {
    let d = dirs();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.outside.path(), d.work.path().join("out")).unwrap();
        std::os::unix::fs::symlink(
            d.outside.path().join("b.csv"),
            d.work.path().join("link.csv"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            d.outside.path().join("b.parquet"),
            d.work.path().join("link.parquet"),
        )
        .unwrap();
    }
    // Without STRATBOOK_DATA_DIRS the data folder is outside too.
    let mut s = session(&d, false);
    let depth = "../".repeat(d.work.path().components().count() + 2);
    let outside_rel = format!(
        "{depth}{}",
        d.outside
            .path()
            .display()
            .to_string()
            .trim_start_matches('/')
    );
    for (name, t, writes) in BUILTINS {
        let f = file_for(t, writes, "b");
        let link = file_for(t, false, "link");
        let mut paths = vec![
            abs(d.outside.path(), &f),
            abs(d.data.path(), &f),
            format!("{outside_rel}/{f}"),
            "/etc/hostname".to_string(),
        ];
        if cfg!(unix) {
            paths.push(format!("out/{f}"));
            paths.push(link);
        }
        for path in paths {
            let code = cell(t, &path);
            let e = s
                .execute(&code)
                .expect_err(&format!("{name} must refuse {path}"));
            assert!(
                e.evalue.contains("STRATBOOK_DATA_DIRS") && e.evalue.contains("outside"),
                "{name} {path}: {e}"
            );
        }
    }
    // Nothing was written outside, and the file a symlink points at is untouched.
    assert!(!d.outside.path().join("b_new.csv").exists());
    assert!(!d.data.path().join("b_new.parquet").exists());
}

#[test]
fn a_file_that_fails_to_parse_is_not_echoed() {
    let d = dirs();
    std::fs::copy(
        d.outside.path().join("secret.txt"),
        d.work.path().join("secret.csv"),
    )
    .unwrap();
    let mut s = session(&d, false);
    for code in [
        "read_csv(\"secret.csv\")",
        "read_parquet(\"secret.csv\")",
        "read_csv(\"/etc/passwd\")",
    ] {
        let e = s.execute(code).unwrap_err().to_string();
        assert!(
            !e.contains("TOPSECRET") && !e.contains("root:"),
            "{code}: {e}"
        );
    }
}

#[test]
fn relative_paths_follow_the_working_folder() {
    let d = dirs();
    let mut s = session(&d, false);
    s.execute("klines(\"demo:BTC\", \"1h\", #{ limit: 3 }).to_csv(\"rel.csv\");")
        .unwrap();
    let p: PathBuf = d.work.path().join("rel.csv");
    assert!(p.exists(), "{}", p.display());
}
