//! Which files a cell may read and write: the one policy every file built-in goes through.
//!
//! A cell may use files under three kinds of folder: the working folder (the notebook's folder in
//! Jupyter, the current folder for `stratbook run`), `STRATBOOK_HOME`, and the folders listed in
//! `STRATBOOK_DATA_DIRS` (separated like `PATH`: `:` on Unix). Anything else is refused with an
//! error that names these settings: an absolute path elsewhere, a `..` that climbs out, a symlink
//! that points out (paths are canonicalized, so the check is on where the file really is).
//! Relative paths are relative to the working folder.

use crate::error::{DslError, Result};
use std::path::{Component, Path, PathBuf};

/// Reading an existing file, or creating / replacing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The folders cells may use.
#[derive(Clone, Debug, Default)]
pub struct Sandbox {
    /// The working folder; `None` means the process's current folder at the time of the check.
    pub work_dir: Option<PathBuf>,
    /// `STRATBOOK_HOME`.
    pub home: PathBuf,
    /// `STRATBOOK_DATA_DIRS`.
    pub data_dirs: Vec<PathBuf>,
}

impl Sandbox {
    /// The working folder, `home`, and `STRATBOOK_DATA_DIRS` from the environment.
    pub fn from_env(home: PathBuf) -> Sandbox {
        let data_dirs = std::env::var_os("STRATBOOK_DATA_DIRS")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Sandbox {
            work_dir: None,
            home,
            data_dirs,
        }
    }

    fn work_dir(&self) -> PathBuf {
        self.work_dir
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The allowed folders, canonicalized (folders that do not exist are skipped).
    fn roots(&self) -> Vec<PathBuf> {
        std::iter::once(self.work_dir())
            .chain(std::iter::once(self.home.clone()))
            .chain(self.data_dirs.iter().cloned())
            .filter_map(|p| p.canonicalize().ok())
            .collect()
    }

    /// Where `path` really is, if a cell may use it for `access`; else an error naming the
    /// settings. `what` names the built-in for the message (`read_csv`).
    pub fn resolve(&self, what: &str, path: &str, access: Access) -> Result<PathBuf> {
        if path.trim().is_empty() {
            return Err(DslError::invalid(format!("{what}: the path is empty")));
        }
        let given = Path::new(path);
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.work_dir().join(given)
        };
        let real = match access {
            Access::Read => joined.canonicalize().map_err(|e| {
                DslError::data(format!("{what}: cannot open {path}: {}", io_reason(&e)))
            })?,
            Access::Write => real_target(&joined).map_err(|e| {
                DslError::data(format!("{what}: cannot write {path}: {}", io_reason(&e)))
            })?,
        };
        if self.roots().iter().any(|r| real.starts_with(r)) {
            Ok(real)
        } else {
            Err(self.refusal(what, path))
        }
    }

    fn refusal(&self, what: &str, path: &str) -> DslError {
        DslError::invalid(format!(
            "{what}: {path} is outside the folders a cell may use: the notebook's folder ({}), \
             STRATBOOK_HOME ({}) and the folders listed in STRATBOOK_DATA_DIRS{}; \
             copy the file there or add its folder to STRATBOOK_DATA_DIRS",
            self.work_dir().display(),
            self.home.display(),
            if self.data_dirs.is_empty() {
                " (none set)".to_string()
            } else {
                format!(
                    " ({})",
                    self.data_dirs
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ))
    }
}

/// The canonical place a write to `p` lands: the canonical parent folder plus the file name, or,
/// when `p` already exists (a file or a symlink), where it really points.
fn real_target(p: &Path) -> std::io::Result<PathBuf> {
    if std::fs::symlink_metadata(p).is_ok() {
        return match p.canonicalize() {
            Ok(real) => Ok(real),
            // A dangling symlink: where it points does not exist yet, so refuse to follow it.
            Err(_) => Err(std::io::Error::other("it is a symlink to nothing")),
        };
    }
    let name = match p.components().next_back() {
        Some(Component::Normal(n)) => n.to_owned(),
        _ => return Err(std::io::Error::other("it names no file")),
    };
    let parent = p.parent().unwrap_or_else(|| Path::new("."));
    Ok(parent.canonicalize()?.join(name))
}

/// An I/O error without the path (the message adds the path as the user wrote it).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox(work: &Path, home: &Path) -> Sandbox {
        Sandbox {
            work_dir: Some(work.to_path_buf()),
            home: home.to_path_buf(),
            data_dirs: vec![],
        }
    }

    #[test]
    fn relative_paths_inside_the_working_folder_resolve_there() {
        let (w, h) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir(w.path().join("data")).unwrap();
        std::fs::write(w.path().join("data/a.csv"), "x").unwrap();
        let s = sandbox(w.path(), h.path());
        let r = s.resolve("read_csv", "data/a.csv", Access::Read).unwrap();
        assert_eq!(r, w.path().canonicalize().unwrap().join("data/a.csv"));
        // `..` that stays inside is fine.
        s.resolve("read_csv", "data/../data/a.csv", Access::Read)
            .unwrap();
        s.resolve("to_csv", "data/new.csv", Access::Write).unwrap();
    }

    #[test]
    fn absolute_paths_elsewhere_and_dotdot_escapes_are_refused_naming_the_setting() {
        let (w, h) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let s = sandbox(w.path(), h.path());
        for (p, a) in [
            ("/etc/hostname", Access::Read),
            ("/etc/x.csv", Access::Write),
            ("../../../../../../etc/hostname", Access::Read),
            ("../escape.csv", Access::Write),
        ] {
            let e = s.resolve("read_csv", p, a).unwrap_err().to_string();
            assert!(e.contains("STRATBOOK_DATA_DIRS"), "{p}: {e}");
            assert!(e.contains("outside"), "{p}: {e}");
        }
    }

    #[test]
    fn home_and_data_dirs_are_inside() {
        let (w, h, d) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        std::fs::write(h.path().join("h.csv"), "x").unwrap();
        std::fs::write(d.path().join("d.csv"), "x").unwrap();
        let mut s = sandbox(w.path(), h.path());
        let hp = h.path().join("h.csv");
        s.resolve("read_csv", hp.to_str().unwrap(), Access::Read)
            .unwrap();
        let dp = d.path().join("d.csv");
        assert!(
            s.resolve("read_csv", dp.to_str().unwrap(), Access::Read)
                .is_err()
        );
        s.data_dirs.push(d.path().to_path_buf());
        s.resolve("read_csv", dp.to_str().unwrap(), Access::Read)
            .unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_that_point_out_are_refused_for_reading_and_writing() {
        let (w, h, out) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        std::fs::write(out.path().join("secret.csv"), "x").unwrap();
        std::os::unix::fs::symlink(out.path().join("secret.csv"), w.path().join("link.csv"))
            .unwrap();
        std::os::unix::fs::symlink(out.path(), w.path().join("outdir")).unwrap();
        std::os::unix::fs::symlink(out.path().join("none.csv"), w.path().join("dangling.csv"))
            .unwrap();
        let s = sandbox(w.path(), h.path());
        for (p, a) in [
            ("link.csv", Access::Read),
            ("link.csv", Access::Write),
            ("outdir/secret.csv", Access::Read),
            ("outdir/new.csv", Access::Write),
        ] {
            let e = s.resolve("x", p, a).unwrap_err().to_string();
            assert!(e.contains("STRATBOOK_DATA_DIRS"), "{p}: {e}");
        }
        assert!(s.resolve("x", "dangling.csv", Access::Write).is_err());
    }
}
