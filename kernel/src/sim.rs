//! `stratbook sim`: simulations that outlive a notebook (servers, tmux, systemd, containers).
//! `start` runs a script or notebook in the foreground and waits for every simulation it started
//! (SIGTERM or Ctrl-C stops them gracefully: positions closed, status `stopped`); `ls`, `show`, `stop`,
//! `watch` and `export` work on the store under `STRATBOOK_HOME`, so they also reach a
//! simulation running inside a kernel (`stop` goes through the database).

use crate::run;
use anyhow::{Context, bail};
use clap::Subcommand;
use dsl::data::config::Config;
use dsl::display::Render;
use dsl::script::sim_api::{self, SimValue};
use dsl::store::columns::Col;
use dsl::store::sim::{SimRow, SimStore, SimTable, is_active};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Run SCRIPT.rhai or NOTEBOOK.ipynb and stay in the foreground until every simulation it
    /// started has ended (SIGTERM: stop them, closing positions).
    Start {
        script: PathBuf,
        /// A parameter (`// parameters` block of a script, `parameters` cell of a notebook).
        #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
        parameters: Vec<String>,
    },
    /// List simulations, newest first.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// One simulation: status, positions, last signals, stats.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Stop a simulation (also one running inside a kernel), closing its positions.
    Stop { id: i64 },
    /// Follow a simulation in the terminal until it ends (Ctrl-C stops the watching only).
    Watch { id: i64 },
    /// Write a simulation's signals, fills, trades and equity as files into DIR.
    Export {
        id: i64,
        #[arg(long, value_name = "DIR", group = "format")]
        csv: Option<PathBuf>,
        #[arg(long, value_name = "DIR", group = "format")]
        parquet: Option<PathBuf>,
    },
}

/// `println!` that ends quietly when stdout is closed (`stratbook sim ls | head`).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write;
        let mut o = std::io::stdout().lock();
        if writeln!(o, $($t)*).is_err() {
            std::process::exit(0);
        }
    }};
}

fn db() -> PathBuf {
    Config::from_env().db_path()
}

/// A store table's rows as JSON objects, in order.
fn rows_json(cols: &[(String, Col)]) -> serde_json::Value {
    let len = cols.first().map_or(0, |(_, c)| c.len());
    let rows = (0..len)
        .map(|k| {
            cols.iter()
                .map(|(name, c)| {
                    let v = match c {
                        Col::I64(v) => serde_json::json!(v[k]),
                        Col::F64(v) => serde_json::json!(v[k]),
                        Col::Str(v) => serde_json::json!(v[k]),
                    };
                    (name.clone(), v)
                })
                .collect::<serde_json::Map<_, _>>()
        })
        .map(serde_json::Value::Object)
        .collect();
    serde_json::Value::Array(rows)
}

fn row_json(r: &SimRow) -> serde_json::Value {
    serde_json::json!({
        "id": r.id, "name": r.name, "status": r.status, "source": r.source, "tokens": r.tokens,
        "created_at": r.created_at, "heartbeat": r.heartbeat, "bars": r.steps,
        "last_time": r.last_time, "equity": r.equity, "reason": r.reason,
        "config": serde_json::from_str::<serde_json::Value>(&r.config).unwrap_or_default(),
        "strategy": r.strategy, "provenance": r.provenance, "stats": r.stats,
        "positions": r.positions, "marks": r.marks,
    })
}

pub fn dispatch(cmd: SimCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SimCommand::Start { script, parameters } => start(&script, &parameters),
        SimCommand::Ls { json } => {
            let rows = SimStore::open(&db())?.list()?;
            if json {
                let v: Vec<_> = rows.iter().map(row_json).collect();
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!(
                    "{:>5}  {:<24} {:<12} {:>8} {:>14}  source",
                    "id",
                    "name",
                    "status",
                    "bars",
                    "equity"
                );
                for r in rows {
                    // A long name is cut (the columns stay aligned); `show` has it whole.
                    let name = if r.name.chars().count() > 24 {
                        format!("{}…", r.name.chars().take(23).collect::<String>())
                    } else {
                        r.name.clone()
                    };
                    // No bar yet: no equity to show (the starting cash is in the config).
                    let equity = r.equity.map_or("-".to_string(), |e| format!("{e:.2}"));
                    outln!(
                        "{:>5}  {:<24} {:<12} {:>8} {:>14}  {}",
                        r.id,
                        name,
                        r.status,
                        r.steps,
                        equity,
                        r.source
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SimCommand::Show { id, json } => {
            let s = SimValue::open(db(), id)?;
            if json {
                let mut v = row_json(&s.info()?);
                // The latest rows as objects a script reads by name (the CSV / Parquet
                // export has them all).
                let store = SimStore::open(&db())?;
                v["last_trades"] = rows_json(&store.table_tail(id, SimTable::Trades, 10)?);
                v["last_signals"] = rows_json(&store.table_tail(id, SimTable::Signals, 10)?);
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!("{}", s.render().plain().unwrap_or_default());
                for (name, f) in s.frames()? {
                    if name == "trades" {
                        outln!("{}", f.render().plain().unwrap_or_default());
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SimCommand::Stop { id } => {
            let mut st = SimStore::open(&db())?;
            let Some(r) = st.get(id)? else {
                bail!("no simulation {id}; see `stratbook sim ls`")
            };
            if !is_active(&r.status) {
                bail!("simulation {id} is {}, not running", r.status);
            }
            st.request(id, "stop")?;
            // Its loop reads requests a few times a second.
            for _ in 0..100 {
                std::thread::sleep(Duration::from_millis(100));
                let s = st.get(id)?.map(|r| r.status).unwrap_or_default();
                if !is_active(&s) {
                    outln!("simulation {id}: {s}");
                    return Ok(ExitCode::SUCCESS);
                }
            }
            bail!(
                "simulation {id} did not stop within 10 s (is its process alive? `sim ls` shows interrupted once its heartbeat is stale)"
            )
        }
        SimCommand::Watch { id } => {
            let s = SimValue::open(db(), id)?;
            let mut last = String::new();
            loop {
                // A new card when the simulation changed (not for its elapsed time alone).
                let text = s.render().plain().unwrap_or_default().to_string();
                let key = dsl::script::sim_api::without_elapsed(&text);
                if key != last {
                    outln!("{text}\n");
                    last = key;
                }
                let st = s.info()?.status;
                if !is_active(&st) {
                    return Ok(ExitCode::SUCCESS);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        SimCommand::Export { id, csv, parquet } => {
            let s = SimValue::open(db(), id)?;
            let (dir, ext) = match (csv, parquet) {
                (Some(d), _) => (d, "csv"),
                (None, Some(d)) => (d, "parquet"),
                (None, None) => bail!("give --csv DIR or --parquet DIR"),
            };
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, f) in s.frames()? {
                let path = dir.join(format!("sim-{id}-{name}.{ext}"));
                let shown = path.display().to_string();
                if ext == "csv" {
                    f.to_csv_file(&path, &shown)?;
                } else {
                    f.to_parquet_file(&path, &shown)?;
                }
                outln!("{shown}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn start(script: &std::path::Path, parameters: &[String]) -> anyhow::Result<ExitCode> {
    let params = parameters
        .iter()
        .map(|p| run::params::parse_assignment(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // SIGTERM: a graceful stop of every simulation this process runs.
    std::thread::Builder::new()
        .name("sigterm".into())
        .spawn(|| {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("warning: no SIGTERM handler ({e})");
                    return;
                }
            };
            rt.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                match (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) {
                    (Ok(mut term), Ok(mut int)) => {
                        let name = tokio::select! {
                            _ = term.recv() => "SIGTERM",
                            _ = int.recv() => "Ctrl-C",
                        };
                        eprintln!("{name}: stopping the simulations (Ctrl-C again kills them at once)");
                        sim_api::stop_all(&format!("stopped by {name}"));
                        tokio::select! {
                            _ = term.recv() => {}
                            _ = int.recv() => {}
                        }
                        eprintln!("killed: the simulations show as interrupted; resume them with #{{ resume: id }}");
                        std::process::exit(130);
                    }
                    (Err(e), _) | (_, Err(e)) => eprintln!("warning: SIGTERM cannot be caught ({e}); it will kill the simulations, which then show as interrupted"),
                }
            });
        })
        .context("cannot start the signal thread")?;
    let ok = if script.extension().is_some_and(|e| e == "ipynb") {
        let out = std::env::temp_dir().join(format!("stratbook-sim-{}.ipynb", std::process::id()));
        let opts = run::RunOptions {
            input: script.to_path_buf(),
            output: Some(out.clone()),
            params,
            allow_errors: false,
            timeout: None,
        };
        let summary = run::run(&opts)?;
        let _ = std::fs::remove_file(out);
        summary.failed.is_none()
    } else {
        run::script::run(script, &params, None)?
    };
    let ids = sim_api::running_ids();
    if !ids.is_empty() {
        eprintln!("waiting for simulation(s) {ids:?} (Ctrl-C or SIGTERM stops them)");
    }
    sim_api::wait_all();
    // A simulation that failed fails the command (CI, systemd), with its error.
    let mut failed = false;
    if let Ok(store) = SimStore::open(&db()) {
        for id in sim_api::started_ids() {
            if let Ok(Some(row)) = store.get(id)
                && row.status == "failed"
            {
                failed = true;
                eprintln!(
                    "simulation {id} '{}' failed: {}",
                    row.name,
                    row.reason.as_deref().unwrap_or("(no reason recorded)")
                );
            }
        }
    }
    Ok(if ok && !failed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
