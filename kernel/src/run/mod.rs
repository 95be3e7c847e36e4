//! `stratbook run`: executes a notebook (or, in [`script`], a `.rhai` script) in-process, without Python or sockets, on the same
//! executor thread and with the same output shapes as the kernel under nbclient (stream,
//! display_data with update_display_data applied in place, execute_result, error).

pub mod notebook;
pub mod params;
pub mod script;

use crate::execute::Executor;
use crate::{info, outputs};
use anyhow::Context;
use dsl::display::Output;
use dsl::script::errors::CellError;
use params::Param;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub struct RunOptions {
    pub input: PathBuf,
    /// Where to write; `None` = in place, `-` = stdout.
    pub output: Option<PathBuf>,
    pub params: Vec<(String, Param)>,
    pub allow_errors: bool,
    pub timeout: Option<Duration>,
}

/// How a run went.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub executed: usize,
    pub errors: usize,
    /// The first failure that stopped the run (cell index, error).
    pub failed: Option<(usize, CellError)>,
}

/// Runs the notebook and writes it; `Ok` even when a cell failed (see [`Summary`]).
pub fn run(opts: &RunOptions) -> anyhow::Result<Summary> {
    let mut nb = notebook::read(&opts.input)?;
    if !opts.params.is_empty() {
        inject_parameters(&mut nb, &opts.params);
    }
    if let Some(w) = foreign_kernel_warning(&nb) {
        eprintln!("warning: {}: {w}", opts.input.display());
    }
    nb["metadata"]["kernelspec"] = info::kernelspec_metadata();
    nb["metadata"]["language_info"] = info::language_info();
    let executor = Executor::spawn().context("cannot start the executor thread")?;
    let summary = execute_cells(&mut nb, &executor, opts);
    let text = notebook::to_string(&nb)?;
    match &opts.output {
        Some(p) if p.as_os_str() == "-" => print!("{text}"),
        other => {
            let path = other.as_ref().unwrap_or(&opts.input);
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(summary)
}

/// A notebook written for another kernel (a `python3` kernelspec, a non-Rhai language) runs
/// as Rhai all the same, but the user should know before reading errors about Python syntax.
pub fn foreign_kernel_warning(nb: &Value) -> Option<String> {
    let spec = &nb["metadata"]["kernelspec"];
    let name = spec["name"].as_str().unwrap_or("");
    let lang = spec["language"]
        .as_str()
        .or(nb["metadata"]["language_info"]["name"].as_str())
        .unwrap_or("");
    let ours = name.is_empty() || name == "stratbook";
    let rhai = lang.is_empty() || lang.eq_ignore_ascii_case("rhai");
    (!ours || !rhai).then(|| {
        format!(
            "written for the kernel '{}' ({}); running its cells as Stratbook (Rhai)",
            if name.is_empty() { "?" } else { name },
            if lang.is_empty() {
                "language unknown"
            } else {
                lang
            }
        )
    })
}

/// Replaces any earlier injected cell and inserts a new one after the cell tagged `parameters`
/// (or first, with a warning, when there is none), as papermill does.
pub fn inject_parameters(nb: &mut Value, params: &[(String, Param)]) {
    let with_id = nb
        .get("nbformat_minor")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        >= 5;
    let Some(cells) = nb.get_mut("cells").and_then(Value::as_array_mut) else {
        return;
    };
    cells.retain(|c| !notebook::tags(c).contains(&"injected-parameters"));
    let at = match cells
        .iter()
        .position(|c| notebook::tags(c).contains(&"parameters"))
    {
        Some(i) => i + 1,
        None => {
            eprintln!(
                "warning: no cell tagged 'parameters'; injecting parameters as the first cell"
            );
            0
        }
    };
    let cell = notebook::code_cell(
        &params::injected_source(params),
        "injected-parameters",
        with_id,
    );
    cells.insert(at, cell);
}

fn execute_cells(nb: &mut Value, executor: &Executor, opts: &RunOptions) -> Summary {
    let mut summary = Summary::default();
    let empty = vec![];
    let cells = nb["cells"].as_array().unwrap_or(&empty).clone();
    let to_run: Vec<usize> = cells
        .iter()
        .enumerate()
        .filter(|(_, c)| c["cell_type"] == "code")
        .map(|(i, _)| i)
        .collect();
    // Outputs from a previous run would mix with this one's.
    for &i in &to_run {
        nb["cells"][i]["outputs"] = json!([]);
        nb["cells"][i]["execution_count"] = Value::Null;
    }
    let mut displays: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
    let total = to_run.len();
    for (n, &i) in to_run.iter().enumerate() {
        let source = notebook::joined(&cells[i]["source"]);
        let tags = notebook::tags(&cells[i]);
        if source.trim().is_empty() || tags.contains(&"skip-execution") {
            continue;
        }
        summary.executed += 1;
        let count = summary.executed;
        let started = Instant::now();
        let (outs, result) = execute_with_timeout(executor, &source, opts.timeout);
        let mut cell_outputs = CellOutputs::new(i, &mut displays);
        for o in &outs {
            cell_outputs.push(nb, o);
        }
        let failed = match &result {
            Ok(r) => {
                if let Some(v) = &r.value {
                    cell_outputs.append(nb, outputs::execute_result(count, v));
                }
                None
            }
            Err(e) => {
                cell_outputs.append(nb, outputs::error(e));
                Some(e.clone())
            }
        };
        nb["cells"][i]["execution_count"] = json!(count);
        let ms = started.elapsed().as_millis();
        match &failed {
            None => eprintln!("[{}/{total}] cell {i} ok ({ms} ms)", n + 1),
            Some(e) => {
                summary.errors += 1;
                eprintln!(
                    "[{}/{total}] cell {i} failed ({ms} ms): {}: {}",
                    n + 1,
                    e.ename,
                    e.evalue
                );
                let expected = tags.contains(&"raises-exception");
                if !opts.allow_errors && !expected {
                    summary.failed = Some((i, e.clone()));
                    return summary;
                }
            }
        }
    }
    summary
}

/// Runs a cell, interrupting it when it exceeds `timeout` (the error then says so).
fn execute_with_timeout(
    executor: &Executor,
    code: &str,
    timeout: Option<Duration>,
) -> (Vec<Output>, Result<dsl::script::ExecResult, CellError>) {
    let mut outputs = Vec::new();
    let result = execute_streaming(executor, code, timeout, &mut |o| outputs.push(o));
    (outputs, result)
}

/// [`execute_with_timeout`], handing each output to `on_output` as the cell produces it.
pub(crate) fn execute_streaming(
    executor: &Executor,
    code: &str,
    timeout: Option<Duration>,
    on_output: &mut dyn FnMut(Output),
) -> Result<dsl::script::ExecResult, CellError> {
    let Some(limit) = timeout else {
        return executor.execute_with(code, on_output);
    };
    let (done, wait) = channel::<()>();
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let ex = executor.clone();
    let watchdog = std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            flag.store(true, Ordering::SeqCst);
            // Keep asking until the cell ends, in case it had not started when first asked.
            while let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(Duration::from_millis(100))
            {
                ex.interrupt();
            }
        }
    });
    let mut result = executor.execute_with(code, on_output);
    drop(done);
    let _ = watchdog.join();
    if timed_out.load(Ordering::SeqCst)
        && let Err(e) = &mut result
    {
        let evalue = format!(
            "cell exceeded the {} s timeout; raise --timeout or make the cell faster",
            limit.as_secs_f64()
        );
        let mut tb = vec![format!("CellTimeoutError: {evalue}")];
        tb.extend(e.traceback.iter().skip(1).cloned());
        e.ename = "CellTimeoutError".into();
        e.evalue = evalue;
        e.traceback = tb;
    }
    result
}

/// One cell's outputs as nbclient builds them: streams merged when adjacent, `clear_output`
/// (with `wait`, deferred to the next output), and `update_display_data` applied to every
/// output shown with that display id, in any cell.
struct CellOutputs<'a> {
    cell: usize,
    displays: &'a mut HashMap<String, Vec<(usize, usize)>>,
    clear_before_next: bool,
}

impl<'a> CellOutputs<'a> {
    fn new(cell: usize, displays: &'a mut HashMap<String, Vec<(usize, usize)>>) -> Self {
        CellOutputs {
            cell,
            displays,
            clear_before_next: false,
        }
    }

    fn outputs<'n>(&self, nb: &'n mut Value) -> &'n mut Vec<Value> {
        if !nb["cells"][self.cell]["outputs"].is_array() {
            nb["cells"][self.cell]["outputs"] = json!([]);
        }
        match nb["cells"][self.cell]["outputs"].as_array_mut() {
            Some(v) => v,
            None => unreachable!("outputs was just made an array"),
        }
    }

    fn clear(&mut self, nb: &mut Value) {
        self.outputs(nb).clear();
        let cell = self.cell;
        for places in self.displays.values_mut() {
            places.retain(|(c, _)| *c != cell);
        }
    }

    fn push(&mut self, nb: &mut Value, o: &Output) {
        cli_progress(o);
        match o {
            Output::Clear { wait: true } => self.clear_before_next = true,
            Output::Clear { wait: false } => self.clear(nb),
            Output::UpdateDisplay { display_id, .. } => {
                let msg = outputs::from_output(o);
                for &(c, idx) in self
                    .displays
                    .get(display_id)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    if let Some(out) = nb["cells"][c]["outputs"].get_mut(idx) {
                        out["data"] = msg.content["data"].clone();
                        out["metadata"] = msg.content["metadata"].clone();
                    }
                }
            }
            Output::Stream { stderr, text } => {
                let name = if *stderr { "stderr" } else { "stdout" };
                if !self.clear_before_next
                    && let Some(last) = self.outputs(nb).last_mut()
                    && last["output_type"] == "stream"
                    && last["name"] == name
                {
                    let joined = format!("{}{text}", last["text"].as_str().unwrap_or(""));
                    last["text"] = json!(joined);
                    return;
                }
                self.append(nb, outputs::from_output(o));
            }
            Output::Display { display_id, .. } => {
                let at = self.append(nb, outputs::from_output(o));
                if let (Some(id), Some(at)) = (display_id, at) {
                    self.displays
                        .entry(id.clone())
                        .or_default()
                        .push((self.cell, at));
                }
            }
        }
    }

    /// Appends a message as an output; returns its index.
    fn append(&mut self, nb: &mut Value, msg: outputs::IopubContent) -> Option<usize> {
        let out = outputs::to_notebook_output(&msg)?;
        if self.clear_before_next {
            self.clear_before_next = false;
            self.clear(nb);
        }
        let outs = self.outputs(nb);
        outs.push(out);
        Some(outs.len() - 1)
    }
}

/// Progress displays (`dsl::display::Progress`, ids `progress-…`) also draw a progress bar on a
/// terminal's stderr, redrawn in place; the notebook keeps the final state.
pub(crate) fn cli_progress(o: &Output) {
    use std::io::{IsTerminal, Write};
    let (id, bundle) = match o {
        Output::Display {
            display_id: Some(id),
            bundle,
        } => (id.as_str(), bundle),
        Output::UpdateDisplay { display_id, bundle } => (display_id.as_str(), bundle),
        _ => return,
    };
    if !id.starts_with("progress-") || !std::io::stderr().is_terminal() {
        return;
    }
    let text = bundle.plain().unwrap_or_default();
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K  {text}");
    // The bar is full once nothing is left to do.
    if !text.contains('░') {
        let _ = writeln!(err);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsl::display::MimeBundle;

    fn nb_with(sources: &[(&str, &[&str])]) -> Value {
        let cells: Vec<Value> = sources
            .iter()
            .map(|(s, tags)| {
                json!({"cell_type": "code", "source": s, "metadata": {"tags": tags},
                "outputs": [], "execution_count": null})
            })
            .collect();
        json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    }

    #[test]
    fn injected_cell_follows_parameters_and_replaces_an_old_one() {
        let mut nb = nb_with(&[
            ("let a = 1;", &["parameters"]),
            ("// old", &["injected-parameters"]),
            ("a", &[]),
        ]);
        inject_parameters(&mut nb, &[("a".into(), Param::Int(5))]);
        let cells = nb["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 3);
        assert_eq!(cells[1]["source"], "// Parameters\nlet a = 5;\n");
        assert_eq!(cells[1]["metadata"]["tags"], json!(["injected-parameters"]));
        assert!(cells[1]["id"].is_string());
    }

    #[test]
    fn update_display_replaces_the_earlier_output_in_place() {
        let mut nb = nb_with(&[("x", &[])]);
        let mut displays = HashMap::new();
        let mut co = CellOutputs::new(0, &mut displays);
        co.push(
            &mut nb,
            &Output::Display {
                bundle: MimeBundle::text("0%"),
                display_id: Some("p".into()),
            },
        );
        co.push(
            &mut nb,
            &Output::Stream {
                stderr: false,
                text: "a\n".into(),
            },
        );
        co.push(
            &mut nb,
            &Output::Stream {
                stderr: false,
                text: "b\n".into(),
            },
        );
        co.push(
            &mut nb,
            &Output::UpdateDisplay {
                bundle: MimeBundle::text("100%"),
                display_id: "p".into(),
            },
        );
        let outs = nb["cells"][0]["outputs"].as_array().unwrap();
        assert_eq!(outs.len(), 2);
        assert_eq!(outs[0]["data"]["text/plain"], "100%");
        assert_eq!(outs[1]["text"], "a\nb\n");
    }

    #[test]
    fn clear_output_wait_clears_before_the_next_output() {
        let mut nb = nb_with(&[("x", &[])]);
        let mut displays = HashMap::new();
        let mut co = CellOutputs::new(0, &mut displays);
        co.push(
            &mut nb,
            &Output::Stream {
                stderr: false,
                text: "old\n".into(),
            },
        );
        co.push(&mut nb, &Output::Clear { wait: true });
        assert_eq!(nb["cells"][0]["outputs"].as_array().unwrap().len(), 1);
        co.push(
            &mut nb,
            &Output::Stream {
                stderr: false,
                text: "new\n".into(),
            },
        );
        assert_eq!(
            nb["cells"][0]["outputs"],
            json!([{"output_type": "stream", "name": "stdout", "text": "new\n"}])
        );
    }

    #[test]
    fn run_stops_at_the_first_error_unless_allowed() {
        let dir = std::env::temp_dir().join(format!("stratbook-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("in.ipynb");
        let nb = nb_with(&[("let a = 2;", &[]), ("a * nope", &[]), ("print(a)", &[])]);
        std::fs::write(&input, nb.to_string()).unwrap();
        let mut opts = RunOptions {
            input: input.clone(),
            output: Some(dir.join("out.ipynb")),
            params: vec![],
            allow_errors: false,
            timeout: None,
        };
        let s = run(&opts).unwrap();
        assert_eq!(s.failed.as_ref().map(|f| f.0), Some(1));
        assert_eq!(s.executed, 2);
        opts.allow_errors = true;
        let s = run(&opts).unwrap();
        assert_eq!((s.executed, s.errors, s.failed), (3, 1, None));
        let out: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("out.ipynb")).unwrap()).unwrap();
        assert_eq!(out["cells"][2]["outputs"][0]["text"], json!(["2\n"]));
        assert_eq!(out["metadata"]["kernelspec"]["name"], "stratbook");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_notebook_for_another_kernel_is_warned_about() {
        let py = json!({"metadata": {"kernelspec": {"name": "python3", "language": "python"}}});
        let w = foreign_kernel_warning(&py).expect("a warning");
        assert!(w.contains("'python3' (python)"), "{w}");
        let ours = json!({"metadata": {"kernelspec": {"name": "stratbook", "language": "rhai"}}});
        assert_eq!(foreign_kernel_warning(&ours), None);
        assert_eq!(foreign_kernel_warning(&json!({"metadata": {}})), None);
    }

    #[test]
    fn timeout_interrupts_a_runaway_cell() {
        let ex = Executor::spawn().unwrap();
        let (_, r) = execute_with_timeout(&ex, "loop { }", Some(Duration::from_millis(300)));
        let e = r.unwrap_err();
        assert_eq!(e.ename, "CellTimeoutError");
        assert!(e.evalue.contains("--timeout"));
    }
}
