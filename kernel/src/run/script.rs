//! `stratbook run SCRIPT.rhai`: runs a script as one cell of a fresh session and prints what it
//! produces as text, while it runs: `print` to stdout, warnings to stderr, every display and the
//! final value as its `text/plain` (the numbers a notebook's charts also carry).
//!
//! Parameters, as papermill's for notebooks: a script marks its parameters with a line
//! `// parameters` followed by one `let NAME = VALUE;` a line, up to the next blank line; each
//! `-p NAME=VALUE` replaces that line in place, so error line numbers stay the script's own. A
//! `-p` for a name the block does not define is an error that lists the ones it does.

use super::params::Param;
use super::{cli_progress, execute_streaming};
use crate::execute::Executor;
use anyhow::Context;
use dsl::display::Output;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Runs the script; `Ok(false)` when it failed (the error is printed on stderr).
pub fn run(
    path: &Path,
    params: &[(String, Param)],
    timeout: Option<Duration>,
) -> anyhow::Result<bool> {
    let body =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let body = with_parameters(&body, params).with_context(|| path.display().to_string())?;
    let executor = Executor::spawn().context("cannot start the executor thread")?;
    match execute_streaming(&executor, &body, timeout, &mut print_output) {
        Ok(r) => {
            if let Some(text) = r.value.as_ref().and_then(|b| b.plain()) {
                println!("{text}");
            }
            Ok(true)
        }
        Err(e) => {
            let _ = std::io::stdout().flush();
            let line = e.line.map(|l| format!(", line {l}")).unwrap_or_default();
            eprintln!("error: {}{line}: {}: {}", path.display(), e.ename, e.evalue);
            for l in e.traceback.iter().skip(1) {
                eprintln!("  {l}");
            }
            Ok(false)
        }
    }
}

fn print_output(o: Output) {
    cli_progress(&o);
    match &o {
        Output::Stream {
            stderr: false,
            text,
        } => {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        Output::Stream { stderr: true, text } => eprint!("{text}"),
        // Progress bars are drawn on a terminal by `cli_progress`; in a log they are noise.
        Output::Display {
            display_id: Some(id),
            ..
        }
        | Output::UpdateDisplay { display_id: id, .. }
            if id.starts_with("progress-") => {}
        Output::Display { bundle, .. } | Output::UpdateDisplay { bundle, .. } => {
            if let Some(text) = bundle.plain() {
                println!("{}", text.trim_end());
            }
        }
        Output::Clear { .. } => {}
    }
}

/// The script with each parameter's `let` line in its `// parameters` block replaced.
pub fn with_parameters(body: &str, params: &[(String, Param)]) -> anyhow::Result<String> {
    if params.is_empty() {
        return Ok(body.to_string());
    }
    let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
    let start = lines
        .iter()
        .position(|l| l.trim().eq_ignore_ascii_case("// parameters"))
        .map(|i| i + 1);
    let block: Vec<(usize, String)> = match start {
        Some(s) => lines[s..]
            .iter()
            .enumerate()
            .take_while(|(_, l)| !l.trim().is_empty())
            .filter_map(|(j, l)| let_name(l).map(|n| (s + j, n)))
            .collect(),
        None => Vec::new(),
    };
    for (name, value) in params {
        let Some((at, _)) = block.iter().find(|(_, n)| n == name) else {
            let known: Vec<&str> = block.iter().map(|(_, n)| n.as_str()).collect();
            if known.is_empty() {
                anyhow::bail!(
                    "-p {name}: this script has no parameters; mark them with a line `// parameters` \
                     followed by `let NAME = VALUE;` lines"
                );
            }
            anyhow::bail!(
                "-p {name}: not a parameter of this script; its parameters are {}",
                known.join(", ")
            );
        };
        let indent: String = lines[*at]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        lines[*at] = format!("{indent}let {name} = {};", value.to_rhai());
    }
    let mut out = lines.join("\n");
    if body.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// `NAME` of a one-line `let NAME = ...;` (a comment may follow).
fn let_name(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("let ")?;
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let code = line.split("//").next().unwrap_or(line).trim_end();
    (!name.is_empty() && code.ends_with(';')).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "// A script\n// parameters\nlet token = \"demo:BTC\";   // which token\nlet n = 3;\n\nlet x = n * 2;\n";

    #[test]
    fn parameters_replace_their_line_in_place() {
        let p = vec![
            ("n".to_string(), Param::Int(7)),
            ("token".to_string(), Param::Str("demo:ETH".into())),
        ];
        let out = with_parameters(SCRIPT, &p).unwrap();
        assert_eq!(
            out,
            "// A script\n// parameters\nlet token = \"demo:ETH\";\nlet n = 7;\n\nlet x = n * 2;\n"
        );
    }

    #[test]
    fn an_unknown_parameter_lists_the_known_ones() {
        let p = vec![("x".to_string(), Param::Int(1))];
        let e = with_parameters(SCRIPT, &p).unwrap_err().to_string();
        assert!(e.contains("its parameters are token, n"), "{e}");
        let e = with_parameters("let a = 1;\n", &p).unwrap_err().to_string();
        assert!(e.contains("no parameters"), "{e}");
    }
}
