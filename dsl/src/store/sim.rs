//! The simulation tables of the store (same database as the backtests): `simulations` (one row
//! per simulation: name, status, config, strategy source, data provenance, heartbeat, progress,
//! final stats), `sim_signals` (the platforms' columns: action buy / sell / hold / halt, or
//! `gap` for a live feed event, token, price, confidence, reasoning, executed, time),
//! `sim_fills`, `sim_trades` and `sim_equity`
//! (the equity curve in chunks, one column blob per commit, see [`super::columns`]), and
//! `sim_state` (the open positions as of the last committed bar, and the latest prices seen
//! between bar closes: what the card and `sim show` display).
//!
//! [`SimStore::commit`] writes whole bars only, and all of a batch's rows with the progress
//! counter in ONE transaction: after a crash the database holds a prefix of the run, never half a
//! bar, and `steps` says where to continue.

use super::columns::{BlobWriter, Col, column, read_blob};
use crate::backtest::sink::{Fill, Signal, Trade};
use crate::error::{DslError, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS simulations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  INTEGER NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    source      TEXT NOT NULL,
    tokens      TEXT NOT NULL,
    config      TEXT NOT NULL,
    strategy    TEXT NOT NULL,
    provenance  TEXT NOT NULL,
    heartbeat   INTEGER NOT NULL,
    pid         INTEGER,
    steps       INTEGER NOT NULL DEFAULT 0,
    last_time   INTEGER,
    equity      REAL,
    request     TEXT,
    reason      TEXT,
    stats       TEXT
);
CREATE TABLE IF NOT EXISTS sim_signals (
    sim_id      INTEGER NOT NULL REFERENCES simulations(id) ON DELETE CASCADE,
    step        INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    token       TEXT NOT NULL,
    action      TEXT NOT NULL,
    price       REAL,
    confidence  REAL,
    reasoning   TEXT NOT NULL,
    executed    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sim_signals_by_sim ON sim_signals(sim_id, step);
CREATE TABLE IF NOT EXISTS sim_fills (
    sim_id      INTEGER NOT NULL REFERENCES simulations(id) ON DELETE CASCADE,
    step        INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    token       TEXT NOT NULL,
    side        TEXT NOT NULL,
    qty         REAL NOT NULL,
    price       REAL NOT NULL,
    fee         REAL NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sim_fills_by_sim ON sim_fills(sim_id, step);
CREATE TABLE IF NOT EXISTS sim_trades (
    sim_id      INTEGER NOT NULL REFERENCES simulations(id) ON DELETE CASCADE,
    step        INTEGER NOT NULL,
    token       TEXT NOT NULL,
    side        TEXT NOT NULL,
    entry_time  INTEGER NOT NULL,
    exit_time   INTEGER NOT NULL,
    entry_price REAL NOT NULL,
    exit_price  REAL NOT NULL,
    qty         REAL NOT NULL,
    pnl         REAL NOT NULL,
    pnl_pct     REAL NOT NULL,
    fees        REAL NOT NULL,
    bars_held   INTEGER NOT NULL,
    exit_reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sim_trades_by_sim ON sim_trades(sim_id, step);
CREATE TABLE IF NOT EXISTS sim_state (
    sim_id      INTEGER PRIMARY KEY REFERENCES simulations(id) ON DELETE CASCADE,
    positions   TEXT NOT NULL DEFAULT '[]',
    marks       TEXT
);
CREATE TABLE IF NOT EXISTS sim_equity (
    sim_id      INTEGER NOT NULL REFERENCES simulations(id) ON DELETE CASCADE,
    first_step  INTEGER NOT NULL,
    points      BLOB NOT NULL,
    PRIMARY KEY (sim_id, first_step)
);
";

/// A heartbeat older than this (seconds) means the process running the simulation is gone.
pub const STALE_AFTER_S: i64 = 15;

/// Whether process `pid` of this machine is gone (Linux: no `/proc/PID`). Elsewhere only the
/// heartbeat tells.
fn process_gone(pid: Option<i64>) -> bool {
    match pid {
        Some(pid) if cfg!(target_os = "linux") && std::path::Path::new("/proc/self").exists() => {
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

/// Whether a simulation with this status can still change (running or paused); every other
/// status is final.
pub fn is_active(status: &str) -> bool {
    matches!(status, "running" | "paused")
}

/// One simulation's row.
#[derive(Clone, Debug, PartialEq)]
pub struct SimRow {
    pub id: i64,
    pub created_at: i64,
    pub name: String,
    /// As stored, except that a running or paused simulation with a stale heartbeat, or whose
    /// process is gone, reads as `interrupted`.
    pub status: String,
    pub source: String,
    pub tokens: Vec<String>,
    pub config: String,
    pub strategy: String,
    pub provenance: String,
    pub heartbeat: i64,
    pub steps: i64,
    pub last_time: Option<i64>,
    pub equity: Option<f64>,
    pub request: Option<String>,
    pub reason: Option<String>,
    pub stats: Option<Value>,
    /// Open positions as of the last committed bar.
    pub positions: Vec<Held>,
    /// The latest prices seen since that bar (a live feed between bar closes).
    pub marks: Option<Marks>,
}

/// An open position as of a committed bar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub token: String,
    /// `long` or `short`.
    pub side: String,
    pub qty: f64,
    /// Average entry price.
    pub entry: f64,
    /// Entry time (unix seconds).
    pub since: i64,
    /// The bar's close (or the latest fill).
    pub price: f64,
    /// The stop in force (the tighter of the fixed and the trailing one), if any.
    pub stop: Option<f64>,
    pub take: Option<f64>,
}

impl Held {
    /// Unrealized P&L at `price` (before exit fees).
    pub fn pnl_at(&self, price: f64) -> f64 {
        let d = price - self.entry;
        if self.side == "short" {
            -d * self.qty
        } else {
            d * self.qty
        }
    }
}

/// Prices seen between bar closes: display only (the engine trades on closed bars).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Marks {
    /// When they were read (unix seconds on the simulation's clock).
    pub time: i64,
    /// (token, price), for the tokens that have one.
    pub prices: Vec<(String, f64)>,
}

impl Marks {
    pub fn price(&self, token: &str) -> Option<f64> {
        self.prices.iter().find(|(t, _)| t == token).map(|p| p.1)
    }
}

/// What one commit holds: the events of whole steps `first_step..first_step + time.len()`.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub first_step: i64,
    /// One per step.
    pub time: Vec<i64>,
    pub equity: Vec<f64>,
    /// (step, event).
    pub signals: Vec<(i64, Signal, bool)>,
    pub fills: Vec<(i64, Fill)>,
    pub trades: Vec<(i64, Trade)>,
    /// (step, time, token, message): a live feed's gaps and recoveries, stored in `sim_signals`
    /// with action `gap` (not executed, no price).
    pub events: Vec<(i64, i64, String, String)>,
    /// The open positions after the batch's last step (JSON of [`Held`]s), written with it.
    pub positions: Option<String>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
    pub fn clear(&mut self, next_step: i64) {
        self.first_step = next_step;
        self.time.clear();
        self.equity.clear();
        self.signals.clear();
        self.fills.clear();
        self.trades.clear();
        self.events.clear();
        self.positions = None;
    }
}

pub struct SimStore {
    conn: Connection,
}

fn db_err(e: impl std::fmt::Display) -> DslError {
    DslError::data(format!("simulation store: {e}"))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A new simulation's description.
pub struct NewSim<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub tokens: &'a [String],
    pub config: &'a Value,
    pub strategy: &'a str,
    pub provenance: &'a str,
}

impl SimStore {
    pub fn open(path: &Path) -> Result<SimStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(db_err)?;
        }
        let conn = crate::sqlite::open_shared(path, SCHEMA).map_err(db_err)?;
        conn.execute_batch("PRAGMA foreign_keys=ON;")
            .map_err(db_err)?;
        Ok(SimStore { conn })
    }

    /// Registers a simulation as `running` in this process; returns its id.
    pub fn create(&mut self, s: &NewSim) -> Result<i64> {
        let t = now();
        self.conn
            .execute(
                "INSERT INTO simulations (created_at, name, status, source, tokens, config, strategy, provenance, heartbeat, pid) VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?1, ?8)",
                params![
                    t,
                    s.name,
                    s.source,
                    serde_json::to_string(s.tokens).unwrap_or_default(),
                    s.config.to_string(),
                    s.strategy,
                    s.provenance,
                    std::process::id()
                ],
            )
            .map_err(db_err)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Writes a batch of whole steps, the progress counter and the heartbeat in one transaction.
    pub fn commit(&mut self, id: i64, tokens: &[String], b: &Batch) -> Result<()> {
        // A batch without a bar still matters when it holds rows: a stop's closing fills come
        // after the last bar's commit.
        if b.is_empty()
            && b.events.is_empty()
            && b.signals.is_empty()
            && b.fills.is_empty()
            && b.trades.is_empty()
            && b.positions.is_none()
        {
            return self.heartbeat(id);
        }
        let tok = |a: usize| tokens.get(a).map_or("", String::as_str);
        let tx = crate::sqlite::write_tx(&mut self.conn).map_err(db_err)?;
        {
            let mut st = tx
                .prepare_cached("INSERT INTO sim_signals (sim_id, step, time, token, action, price, confidence, reasoning, executed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8)")
                .map_err(db_err)?;
            for (step, s, executed) in &b.signals {
                st.execute(params![
                    id,
                    step,
                    s.time,
                    tok(s.asset),
                    s.action.name(),
                    finite(s.price),
                    s.reason,
                    *executed as i64
                ])
                .map_err(db_err)?;
            }
            let mut st = tx
                .prepare_cached("INSERT INTO sim_fills (sim_id, step, time, token, side, qty, price, fee, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                .map_err(db_err)?;
            for (step, f) in &b.fills {
                st.execute(params![
                    id,
                    step,
                    f.time,
                    tok(f.asset),
                    f.side.name(),
                    f.qty,
                    f.price,
                    f.fee,
                    f.reason
                ])
                .map_err(db_err)?;
            }
            let mut st = tx
                .prepare_cached("INSERT INTO sim_trades (sim_id, step, token, side, entry_time, exit_time, entry_price, exit_price, qty, pnl, pnl_pct, fees, bars_held, exit_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")
                .map_err(db_err)?;
            for (step, t) in &b.trades {
                st.execute(params![
                    id,
                    step,
                    tok(t.asset),
                    t.side.direction(),
                    t.entry_time,
                    t.exit_time,
                    t.entry_price,
                    t.exit_price,
                    t.qty,
                    t.pnl,
                    t.pnl_pct,
                    t.fees,
                    t.bars_held() as i64,
                    t.exit_reason.name()
                ])
                .map_err(db_err)?;
            }
            let mut st = tx
                .prepare_cached("INSERT INTO sim_signals (sim_id, step, time, token, action, price, confidence, reasoning, executed) VALUES (?1, ?2, ?3, ?4, 'gap', NULL, NULL, ?5, 0)")
                .map_err(db_err)?;
            for (step, time, token, message) in &b.events {
                st.execute(params![id, step, time, token, message])
                    .map_err(db_err)?;
            }
        }
        if let Some(p) = &b.positions {
            // The prices seen before this bar are older than its close: dropped.
            tx.execute(
                "INSERT INTO sim_state (sim_id, positions, marks) VALUES (?1, ?2, NULL) ON CONFLICT(sim_id) DO UPDATE SET positions = excluded.positions, marks = NULL",
                params![id, p],
            )
            .map_err(db_err)?;
        }
        if b.is_empty() {
            // Feed events between bars, a stop's closing fills: no step, no equity point.
            tx.execute(
                "UPDATE simulations SET heartbeat = ?2 WHERE id = ?1",
                params![id, now()],
            )
            .map_err(db_err)?;
            return tx.commit().map_err(db_err);
        }
        let mut w = BlobWriter::new(2, b.time.len());
        w.i64s("time", b.time.iter().copied())
            .f64s("equity", b.equity.iter().copied());
        tx.execute(
            "INSERT INTO sim_equity (sim_id, first_step, points) VALUES (?1, ?2, ?3)",
            params![id, b.first_step, w.finish()],
        )
        .map_err(db_err)?;
        let steps = b.first_step + b.time.len() as i64;
        tx.execute(
            "UPDATE simulations SET steps = ?2, last_time = ?3, equity = ?4, heartbeat = ?5 WHERE id = ?1",
            params![id, steps, b.time.last(), b.equity.last(), now()],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    /// Records the prices seen between bar closes (with the heartbeat).
    pub fn set_marks(&mut self, id: i64, marks: &Marks) -> Result<()> {
        let m = serde_json::to_string(marks).map_err(db_err)?;
        let tx = crate::sqlite::write_tx(&mut self.conn).map_err(db_err)?;
        tx.execute(
            "INSERT INTO sim_state (sim_id, marks) VALUES (?1, ?2) ON CONFLICT(sim_id) DO UPDATE SET marks = excluded.marks",
            params![id, m],
        )
        .map_err(db_err)?;
        tx.execute(
            "UPDATE simulations SET heartbeat = ?2 WHERE id = ?1",
            params![id, now()],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    pub fn heartbeat(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE simulations SET heartbeat = ?2 WHERE id = ?1",
                params![id, now()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Sets the status (and why), clearing any pending request; the simulation now belongs to
    /// this process.
    pub fn set_status(&mut self, id: i64, status: &str, reason: Option<&str>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE simulations SET status = ?2, reason = COALESCE(?3, reason), request = NULL, heartbeat = ?4, pid = ?5 WHERE id = ?1",
                params![id, status, reason, now(), std::process::id()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// A resumed simulation runs again: `running`, and the reason it ended before is gone.
    pub fn reopen(&mut self, id: i64) -> Result<()> {
        self.set_status(id, "running", None)?;
        self.conn
            .execute(
                "UPDATE simulations SET reason = NULL WHERE id = ?1",
                params![id],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    pub fn set_stats(&mut self, id: i64, stats: &Value) -> Result<()> {
        self.conn
            .execute(
                "UPDATE simulations SET stats = ?2 WHERE id = ?1",
                params![id, stats.to_string()],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Asks the process running simulation `id` to `stop`, `stop_keep`, `pause` or
    /// `emergency` (read by its loop; how the CLI stops a simulation inside a kernel).
    pub fn request(&mut self, id: i64, what: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE simulations SET request = ?2 WHERE id = ?1",
                params![id, what],
            )
            .map(|_| ())
            .map_err(db_err)
    }

    /// Takes a pending request (and clears it).
    pub fn take_request(&mut self, id: i64) -> Result<Option<String>> {
        let r: Option<String> = self
            .conn
            .query_row(
                "SELECT request FROM simulations WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?
            .flatten();
        if r.is_some() {
            self.conn
                .execute(
                    "UPDATE simulations SET request = NULL WHERE id = ?1",
                    params![id],
                )
                .map_err(db_err)?;
        }
        Ok(r)
    }

    pub fn get(&self, id: i64) -> Result<Option<SimRow>> {
        Ok(self.rows("WHERE id = ?1", params![id])?.pop())
    }

    /// All simulations, newest first.
    pub fn list(&self) -> Result<Vec<SimRow>> {
        self.rows("ORDER BY id DESC", params![])
    }

    fn rows(&self, tail: &str, p: &[&dyn rusqlite::ToSql]) -> Result<Vec<SimRow>> {
        let sql = format!(
            "SELECT id, created_at, name, status, source, tokens, config, strategy, provenance, heartbeat, steps, last_time, equity, request, reason, stats, pid, st.positions, st.marks FROM simulations LEFT JOIN sim_state st ON st.sim_id = simulations.id {tail}"
        );
        let mut st = self.conn.prepare(&sql).map_err(db_err)?;
        let t = now();
        let rows = st
            .query_map(p, |r| {
                let status: String = r.get(3)?;
                let heartbeat: i64 = r.get(9)?;
                let live = is_active(&status);
                let tokens: String = r.get(5)?;
                let stats: Option<String> = r.get(15)?;
                let positions: Option<String> = r.get(17)?;
                let marks: Option<String> = r.get(18)?;
                Ok(SimRow {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    name: r.get(2)?,
                    status: if live && (t - heartbeat > STALE_AFTER_S || process_gone(r.get(16)?)) {
                        "interrupted".into()
                    } else {
                        status
                    },
                    source: r.get(4)?,
                    tokens: serde_json::from_str(&tokens).unwrap_or_default(),
                    config: r.get(6)?,
                    strategy: r.get(7)?,
                    provenance: r.get(8)?,
                    heartbeat,
                    steps: r.get(10)?,
                    last_time: r.get(11)?,
                    equity: r.get(12)?,
                    request: r.get(13)?,
                    reason: r.get(14)?,
                    stats: stats.and_then(|s| serde_json::from_str(&s).ok()),
                    positions: positions
                        .and_then(|p| serde_json::from_str(&p).ok())
                        .unwrap_or_default(),
                    marks: marks.and_then(|m| serde_json::from_str(&m).ok()),
                })
            })
            .map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(db_err)
    }

    /// The equity curve: (time, equity) per committed step, in step order.
    pub fn equity(&self, id: i64) -> Result<(Vec<i64>, Vec<f64>)> {
        let mut st = self
            .conn
            .prepare("SELECT points FROM sim_equity WHERE sim_id = ?1 ORDER BY first_step")
            .map_err(db_err)?;
        let blobs = st
            .query_map(params![id], |r| r.get::<_, Vec<u8>>(0))
            .map_err(db_err)?;
        let (mut time, mut equity) = (Vec::new(), Vec::new());
        for b in blobs {
            let cols = read_blob(&b.map_err(db_err)?)?;
            if let (Some(Col::I64(t)), Some(Col::F64(e))) =
                (column(&cols, "time"), column(&cols, "equity"))
            {
                time.extend_from_slice(t);
                equity.extend_from_slice(e);
            }
        }
        Ok((time, equity))
    }

    /// Rows of `sim_signals`, `sim_fills` or `sim_trades` as named columns, in step order.
    pub fn table(&self, id: i64, table: SimTable) -> Result<Vec<(String, Col)>> {
        self.rows_of(id, table, None)
    }

    /// The last `n` rows of a table, in step order: what a card or `sim show` lists, read
    /// without the rest of a long run.
    pub fn table_tail(&self, id: i64, table: SimTable, n: usize) -> Result<Vec<(String, Col)>> {
        self.rows_of(id, table, Some(n))
    }

    fn rows_of(&self, id: i64, table: SimTable, tail: Option<usize>) -> Result<Vec<(String, Col)>> {
        let (name, cols): (&str, &[(&str, u8)]) = match table {
            SimTable::Signals => (
                "sim_signals",
                &[
                    ("time", b'i'),
                    ("token", b's'),
                    ("action", b's'),
                    ("price", b'f'),
                    ("confidence", b'f'),
                    ("reasoning", b's'),
                    ("executed", b'i'),
                ],
            ),
            SimTable::Fills => (
                "sim_fills",
                &[
                    ("time", b'i'),
                    ("token", b's'),
                    ("side", b's'),
                    ("qty", b'f'),
                    ("price", b'f'),
                    ("fee", b'f'),
                    ("reason", b's'),
                ],
            ),
            SimTable::Trades => (
                "sim_trades",
                &[
                    ("token", b's'),
                    ("side", b's'),
                    ("entry_time", b'i'),
                    ("exit_time", b'i'),
                    ("entry_price", b'f'),
                    ("exit_price", b'f'),
                    ("qty", b'f'),
                    ("pnl", b'f'),
                    ("pnl_pct", b'f'),
                    ("fees", b'f'),
                    ("bars_held", b'i'),
                    ("exit_reason", b's'),
                ],
            ),
        };
        let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
        let sql = match tail {
            None => format!(
                "SELECT {} FROM {name} WHERE sim_id = ?1 ORDER BY rowid",
                names.join(", ")
            ),
            Some(n) => format!(
                "SELECT {0} FROM (SELECT rowid AS r, {0} FROM {name} WHERE sim_id = ?1 ORDER BY rowid DESC LIMIT {n}) ORDER BY r",
                names.join(", ")
            ),
        };
        let mut out: Vec<(String, Col)> = cols
            .iter()
            .map(|(n, k)| {
                let c = match k {
                    b'i' => Col::I64(Vec::new()),
                    b'f' => Col::F64(Vec::new()),
                    _ => Col::Str(Vec::new()),
                };
                (n.to_string(), c)
            })
            .collect();
        let mut st = self.conn.prepare(&sql).map_err(db_err)?;
        let mut rows = st.query(params![id]).map_err(db_err)?;
        while let Some(r) = rows.next().map_err(db_err)? {
            for (k, (_, c)) in out.iter_mut().enumerate() {
                match c {
                    Col::I64(v) => v.push(r.get::<_, Option<i64>>(k).map_err(db_err)?.unwrap_or(0)),
                    Col::F64(v) => v.push(
                        r.get::<_, Option<f64>>(k)
                            .map_err(db_err)?
                            .unwrap_or(f64::NAN),
                    ),
                    Col::Str(v) => v.push(r.get(k).map_err(db_err)?),
                }
            }
        }
        Ok(out)
    }

    /// Counts a consistency check reads: (steps, equity points, signals, fills, trades, fills
    /// whose step has no equity point, fills with no signal at or before their step).
    pub fn audit(&self, id: i64) -> Result<[i64; 7]> {
        let q = |sql: &str| -> Result<i64> {
            self.conn
                .query_row(sql, params![id], |r| r.get(0))
                .map_err(db_err)
        };
        let steps = q("SELECT steps FROM simulations WHERE id = ?1")?;
        let points = self.equity(id)?.0.len() as i64;
        Ok([
            steps,
            points,
            q("SELECT COUNT(*) FROM sim_signals WHERE sim_id = ?1")?,
            q("SELECT COUNT(*) FROM sim_fills WHERE sim_id = ?1")?,
            q("SELECT COUNT(*) FROM sim_trades WHERE sim_id = ?1")?,
            q(
                "SELECT COUNT(*) FROM sim_fills f WHERE sim_id = ?1 AND f.step >= (SELECT steps FROM simulations WHERE id = ?1)",
            )?,
            q(
                "SELECT COUNT(*) FROM sim_fills f WHERE sim_id = ?1 AND NOT EXISTS (SELECT 1 FROM sim_signals s WHERE s.sim_id = f.sim_id AND s.token = f.token AND s.step <= f.step)",
            )?,
        ])
    }
}

/// The event tables of a simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimTable {
    Signals,
    Fills,
    Trades,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
