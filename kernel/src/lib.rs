//! The `stratbook` binary's library: the Jupyter kernel (`server`), the kernelspec installer
//! (`install`) and the headless notebook runner (`run`). Cells are evaluated by
//! `dsl::script::Session` on the [`execute::Executor`] thread; this crate only moves messages.

pub mod execute;
pub mod history;
pub mod info;
pub mod install;
pub mod outputs;
pub mod run;
pub mod rust_cells;
pub mod server;
pub mod sim;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "stratbook",
    version,
    about = "Stratbook: a Jupyter kernel for Rhai trading-strategy notebooks"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Install the `stratbook` kernelspec (default: the user's Jupyter data dir, like evcxr;
    /// JUPYTER_DATA_DIR overrides it).
    Install(TargetArgs),
    /// Remove the `stratbook` kernelspec (pass the flag you installed with).
    Uninstall(TargetArgs),
    /// Run the kernel; Jupyter starts this from kernel.json.
    Kernel {
        /// The connection file Jupyter wrote.
        #[arg(long = "connection-file", short = 'f', value_name = "FILE")]
        connection_file: PathBuf,
    },
    /// Execute a notebook headlessly (no Python needed) and save it with its outputs, or run a
    /// `.rhai` script and print its outputs as text.
    ///
    /// A notebook is written in place unless -o is given (-o - writes to stdout). Progress goes
    /// to stderr. Exits 1 naming the failing cell (or the script's line) unless --allow-errors.
    Run(RunArgs),
    /// Paper-trading simulations: start one from a script or notebook, list, show, stop, watch,
    /// export.
    Sim {
        #[command(subcommand)]
        command: sim::SimCommand,
    },
    /// Ask the model (STRATBOOK_LLM_API_KEY, STRATBOOK_LLM_BASE_URL, STRATBOOK_LLM_MODEL) for a
    /// cell, checked and repaired as `%ai` does, and write a new notebook with it, executed.
    Ai {
        /// What the cell should do: "buy PEPE when it drops 5 % in an hour, stop 3 %".
        prompt: String,
        /// The notebook to write.
        #[arg(
            short,
            long,
            value_name = "NOTEBOOK",
            default_value = "stratbook-ai.ipynb"
        )]
        output: PathBuf,
    },
    /// Print the whole DSL reference (every built-in, the standard library, the recipes): the
    /// text `help()` shows, in one document for people and models. The repo's llms.txt is
    /// `stratbook docs > llms.txt`.
    Docs {
        /// `markdown` (the default) or `json`.
        #[arg(long, value_name = "FORMAT", default_value = "markdown")]
        format: DocsFormat,
    },
    /// Run the quickstart notebook on the embedded demo feed (no API key, no network), print its
    /// results as text and save the executed notebook, charts included.
    Demo {
        /// Where to save the executed notebook.
        #[arg(
            short,
            long,
            value_name = "OUT",
            default_value = "stratbook-demo.ipynb"
        )]
        output: PathBuf,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum DocsFormat {
    Markdown,
    Json,
}

#[derive(Args, Debug)]
#[group(multiple = false)]
struct TargetArgs {
    /// The user's Jupyter data dir (~/.local/share/jupyter on Linux). The default.
    #[arg(long)]
    user: bool,
    /// The active Python environment ($VIRTUAL_ENV or $CONDA_PREFIX)/share/jupyter.
    #[arg(long)]
    sys_prefix: bool,
    /// DIR/share/jupyter (then export JUPYTER_PATH=DIR/share/jupyter).
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
}

impl TargetArgs {
    fn target(&self) -> install::Target {
        match (&self.prefix, self.sys_prefix) {
            (Some(p), _) => install::Target::Prefix(p.clone()),
            (None, true) => install::Target::SysPrefix,
            _ => install::Target::User,
        }
    }
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The notebook to execute, or a `.rhai` script (its outputs are printed as text).
    notebook: PathBuf,
    /// Where to write the executed notebook (default: overwrite NOTEBOOK; `-` for stdout).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// A parameter, injected after the cell tagged `parameters` (papermill's convention).
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    parameters: Vec<String>,
    /// Keep going after a cell fails (errors are stored as outputs; exit 0).
    #[arg(long)]
    allow_errors: bool,
    /// Interrupt a cell that runs longer than S seconds (it then fails with CellTimeoutError).
    #[arg(long, value_name = "S")]
    timeout: Option<f64>,
}

/// Parses the command line and runs it; the one place errors become exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = dispatch(cli);
    // Backtests still being written to the store are written before the process ends.
    dsl::store::background::flush();
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Install(t) => {
            let dir = install::install(&t.target())?;
            println!("installed kernelspec stratbook in {}", dir.display());
        }
        Command::Uninstall(t) => {
            let dir = install::uninstall(&t.target())?;
            println!("removed kernelspec stratbook from {}", dir.display());
        }
        Command::Kernel { connection_file } => server::run_kernel(&connection_file)?,
        Command::Run(args) => return run_notebook(args),
        Command::Demo { output } => return demo(&output),
        Command::Sim { command } => return sim::dispatch(command),
        Command::Ai { prompt, output } => return ai_notebook(&prompt, &output),
        Command::Docs { format } => {
            let session = dsl::script::Session::new(dsl::data::config::Config::from_env());
            let docs = session.docs();
            match format {
                DocsFormat::Markdown => {
                    println!("{}", dsl::script::reference::markdown(docs, false))
                }
                DocsFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&dsl::script::reference::json(docs))?
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `stratbook ai`: one `%ai` in a fresh session, the answer written as a notebook (the prompt and
/// the explanation in Markdown, the cell as code) and executed like `stratbook run`.
fn ai_notebook(prompt: &str, output: &std::path::Path) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let mut session = dsl::script::Session::from_env();
    let shown = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let s2 = shown.clone();
    session.set_sink(move |o| {
        if let dsl::display::Output::Display { bundle, .. } = o
            && let Some(md) = bundle.data.get("text/markdown").and_then(|v| v.as_str())
        {
            s2.lock().unwrap_or_else(|e| e.into_inner()).push_str(md);
        }
    });
    let res = session
        .execute(&format!("%ai {prompt}"))
        .map_err(|e| anyhow::anyhow!("{}", e.evalue))?;
    let cell = res
        .next_input
        .ok_or_else(|| anyhow::anyhow!("the model gave no cell"))?;
    let explanation = shown.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let lines = |t: &str| -> Vec<String> { t.split_inclusive('\n').map(str::to_string).collect() };
    let nb = serde_json::json!({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": lines(&format!("**%ai** {prompt}\n\n{explanation}"))},
            {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": lines(&cell)},
        ],
        "metadata": {
            "kernelspec": {"display_name": "Stratbook (Rhai)", "language": "rhai", "name": "stratbook"},
            "language_info": {"name": "rhai", "file_extension": ".rhai", "mimetype": "text/x-rhai"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    });
    std::fs::write(output, serde_json::to_string_pretty(&nb)?)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let opts = run::RunOptions {
        input: output.to_path_buf(),
        output: None,
        params: Vec::new(),
        allow_errors: true,
        timeout: None,
    };
    run::run(&opts)?;
    eprintln!("wrote {}", output.display());
    Ok(ExitCode::SUCCESS)
}

/// The gallery's quickstart, embedded so `stratbook demo` works from any folder.
const QUICKSTART: &str = include_str!("../../notebooks/01-quickstart.ipynb");

fn demo(output: &std::path::Path) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    std::fs::write(output, QUICKSTART)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let opts = run::RunOptions {
        input: output.to_path_buf(),
        output: None,
        params: Vec::new(),
        allow_errors: false,
        timeout: None,
    };
    let summary = run::run(&opts)?;
    let nb = run::notebook::read(output)?;
    for cell in nb["cells"].as_array().into_iter().flatten() {
        let source = run::notebook::joined(&cell["source"]);
        if cell["cell_type"] == "markdown" {
            if let Some(title) = source.lines().find(|l| l.starts_with('#')) {
                println!("\n{title}");
            }
            continue;
        }
        println!("\n>>> {}", source.trim().replace('\n', "\n... "));
        for out in cell["outputs"].as_array().into_iter().flatten() {
            let text = match out["output_type"].as_str() {
                Some("stream") => run::notebook::joined(&out["text"]),
                Some("error") => out["traceback"]
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default(),
                _ => run::notebook::joined(&out["data"]["text/plain"]),
            };
            println!("{}", text.trim_end());
        }
    }
    println!(
        "\nThe executed notebook, charts included, is in {} (open it in Jupyter, or see notebooks/ for more).",
        output.display()
    );
    Ok(if summary.failed.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run_notebook(args: RunArgs) -> anyhow::Result<ExitCode> {
    let params = args
        .parameters
        .iter()
        .map(|p| run::params::parse_assignment(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let timeout = match args.timeout {
        Some(s) if s > 0.0 => match Duration::try_from_secs_f64(s) {
            Ok(d) => Some(d),
            Err(_) => anyhow::bail!(
                "--timeout {s} is too large; give seconds, or leave it out for no limit"
            ),
        },
        Some(s) => anyhow::bail!("--timeout {s} is not a positive number of seconds"),
        None => None,
    };
    if args.notebook.extension().is_some_and(|e| e == "rhai") {
        if args.output.is_some() || args.allow_errors {
            anyhow::bail!("-o and --allow-errors apply to notebooks; a script prints its outputs");
        }
        let ok = run::script::run(&args.notebook, &params, timeout)?;
        settle_simulations();
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    // Cells run in the notebook's folder, as under Jupyter, nbconvert and papermill, so a
    // notebook's relative paths (data files, an LLM answer cache) mean the same everywhere.
    let input = std::path::absolute(&args.notebook).unwrap_or_else(|_| args.notebook.clone());
    let output = args.output.map(|o| {
        if o.as_os_str() == "-" {
            o
        } else {
            std::path::absolute(&o).unwrap_or(o)
        }
    });
    if let Some(dir) = input.parent() {
        let _ = std::env::set_current_dir(dir);
    }
    let opts = run::RunOptions {
        input,
        output,
        params,
        allow_errors: args.allow_errors,
        timeout,
    };
    let summary = run::run(&opts)?;
    settle_simulations();
    if let Some((cell, e)) = &summary.failed {
        let line = e.line.map(|l| format!(", line {l}")).unwrap_or_default();
        eprintln!(
            "error: {} cell {cell}{line}: {}: {}",
            args.notebook.display(),
            e.ename,
            e.evalue
        );
        for l in &e.traceback {
            eprintln!("  {l}");
        }
        return Ok(ExitCode::from(1));
    }
    if summary.errors > 0 {
        eprintln!("{} cell(s) raised errors (allowed)", summary.errors);
    }
    Ok(ExitCode::SUCCESS)
}

/// Simulations a headless run started and left running end with it: stopped with their
/// positions kept (resumable with `#{ resume: id }`), said on stderr, rather than killed with
/// the process and found `interrupted`.
fn settle_simulations() {
    let ids = dsl::script::sim_api::running_ids();
    if ids.is_empty() {
        return;
    }
    eprintln!(
        "note: simulation(s) {ids:?} still running when the run ended: stopped with their positions kept (resume with #{{ resume: id }}); sm.wait() waits for one to end, and `stratbook sim start` keeps simulations running"
    );
    dsl::script::sim_api::stop_all_keeping();
    dsl::script::sim_api::wait_all();
}
