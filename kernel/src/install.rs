//! `stratbook install` / `uninstall`: the kernelspec directory `stratbook/` (kernel.json and the
//! logos) in the user, environment or a given prefix's Jupyter data directory, found the way
//! jupyter does (`JUPYTER_DATA_DIR`, `XDG_DATA_HOME`, `JUPYTER_PATH`, `sys.prefix`).

use crate::info;
use anyhow::{Context, bail};
use serde_json::json;
use std::path::{Path, PathBuf};

const LOGO_32: &[u8] = include_bytes!("../assets/logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("../assets/logo-64x64.png");
const LOGO_SVG: &[u8] = include_bytes!("../assets/logo-svg.svg");

/// Where to put the kernelspec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The user's Jupyter data dir (the default, as evcxr does).
    User,
    /// The active Python environment (`$VIRTUAL_ENV` or `$CONDA_PREFIX`).
    SysPrefix,
    /// `<DIR>/share/jupyter`.
    Prefix(PathBuf),
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// jupyter's `jupyter_data_dir()`.
pub fn user_data_dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = env_path("JUPYTER_DATA_DIR") {
        return Ok(d);
    }
    let home = env_path("HOME").or_else(|| env_path("USERPROFILE"));
    if cfg!(target_os = "macos") {
        let home = home.context("HOME is not set; set JUPYTER_DATA_DIR or use --prefix DIR")?;
        return Ok(home.join("Library/Jupyter"));
    }
    if cfg!(windows) {
        let appdata = env_path("APPDATA")
            .context("APPDATA is not set; set JUPYTER_DATA_DIR or use --prefix DIR")?;
        return Ok(appdata.join("jupyter"));
    }
    if let Some(x) = env_path("XDG_DATA_HOME") {
        return Ok(x.join("jupyter"));
    }
    let home = home.context("HOME is not set; set JUPYTER_DATA_DIR or use --prefix DIR")?;
    Ok(home.join(".local/share/jupyter"))
}

fn sys_prefix() -> anyhow::Result<PathBuf> {
    env_path("VIRTUAL_ENV")
        .or_else(|| env_path("CONDA_PREFIX"))
        .context("no Python environment is active (VIRTUAL_ENV/CONDA_PREFIX unset); activate one or use --prefix DIR")
}

/// The `kernels/` directory for a target.
pub fn kernels_dir(target: &Target) -> anyhow::Result<PathBuf> {
    Ok(match target {
        Target::User => user_data_dir()?.join("kernels"),
        Target::SysPrefix => sys_prefix()?.join("share/jupyter/kernels"),
        Target::Prefix(p) => p.join("share/jupyter/kernels"),
    })
}

/// Where jupyter looks for kernelspecs, in order (`jupyter --paths`, data section).
pub fn search_path() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("JUPYTER_PATH") {
        out.extend(std::env::split_paths(&p).filter(|p| !p.as_os_str().is_empty()));
    }
    if let Ok(d) = user_data_dir() {
        out.push(d);
    }
    if let Ok(p) = sys_prefix() {
        out.push(p.join("share/jupyter"));
    }
    out.push(PathBuf::from("/usr/local/share/jupyter"));
    out.push(PathBuf::from("/usr/share/jupyter"));
    out
}

/// kernel.json for a kernel binary at `exe`.
pub fn kernel_json(exe: &Path) -> serde_json::Value {
    json!({
        "argv": [exe.to_string_lossy(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": info::DISPLAY_NAME,
        "language": info::LANGUAGE,
        "interrupt_mode": "message",
        "kernel_protocol_version": info::PROTOCOL_VERSION,
        "metadata": {"debugger": false, "stratbook": {"version": env!("CARGO_PKG_VERSION")}},
    })
}

/// Writes the kernelspec for the running binary; returns its directory.
pub fn install(target: &Target) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot locate the stratbook binary")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let dir = kernels_dir(target)?.join(info::KERNEL_NAME);
    write_spec(&dir, &exe)?;
    let data_dir = dir.parent().and_then(Path::parent);
    let visible = data_dir.is_some_and(|d| search_path().iter().any(|p| same_dir(p, d)));
    if !visible && let Some(d) = data_dir {
        eprintln!(
            "warning: {} is not on jupyter's search path; export JUPYTER_PATH={}",
            d.display(),
            d.display()
        );
    }
    Ok(dir)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Writes kernel.json and the logos into `dir`, replacing an earlier install.
pub fn write_spec(dir: &Path, exe: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create {}; check permissions or use --user",
            dir.display()
        )
    })?;
    let json = serde_json::to_string_pretty(&kernel_json(exe))?;
    let files: [(&str, &[u8]); 4] = [
        ("kernel.json", json.as_bytes()),
        ("logo-32x32.png", LOGO_32),
        ("logo-64x64.png", LOGO_64),
        ("logo-svg.svg", LOGO_SVG),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Removes the kernelspec; returns the directory removed.
pub fn uninstall(target: &Target) -> anyhow::Result<PathBuf> {
    let dir = kernels_dir(target)?.join(info::KERNEL_NAME);
    if !dir.join("kernel.json").exists() {
        bail!(
            "no stratbook kernelspec at {}; pass the flag you installed with",
            dir.display()
        );
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_json_runs_the_kernel_subcommand_with_message_interrupts() {
        let j = kernel_json(Path::new("/opt/bin/stratbook"));
        assert_eq!(
            j["argv"],
            json!([
                "/opt/bin/stratbook",
                "kernel",
                "--connection-file",
                "{connection_file}"
            ])
        );
        assert_eq!(j["language"], "rhai");
        assert_eq!(j["interrupt_mode"], "message");
        assert_eq!(j["display_name"], "Stratbook (Rhai)");
    }

    #[test]
    fn prefix_target_uses_share_jupyter_kernels() {
        let d = kernels_dir(&Target::Prefix("/tmp/p".into())).unwrap();
        assert_eq!(d, PathBuf::from("/tmp/p/share/jupyter/kernels"));
    }

    #[test]
    fn write_spec_writes_kernel_json_and_three_logos() {
        let tmp = std::env::temp_dir().join(format!("stratbook-spec-{}", std::process::id()));
        write_spec(&tmp, Path::new("/x/stratbook")).unwrap();
        for f in [
            "kernel.json",
            "logo-32x32.png",
            "logo-64x64.png",
            "logo-svg.svg",
        ] {
            assert!(tmp.join(f).is_file(), "{f} missing");
        }
        let png = std::fs::read(tmp.join("logo-64x64.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
