//! The SQLite store of backtest runs (`Config::db_path()`, under `STRATBOOK_HOME`), after the AVE
//! bot plan's tables: `backtests` (one row per run: name, config JSON, status, result JSON, a hash
//! of the input data) and `signals` (every decision of a run). Writes are one transaction per run.
//! A consumer of results: the engine never imports it.

use crate::backtest::BacktestResult;
use crate::backtest::metrics::StatValue;
use crate::bars::Bars;
use crate::error::{DslError, Result};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use std::path::Path;

pub mod llm;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS backtests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  INTEGER NOT NULL,
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    status      TEXT NOT NULL,
    result      TEXT,
    data_hash   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signals (
    backtest_id INTEGER NOT NULL REFERENCES backtests(id) ON DELETE CASCADE,
    time        INTEGER NOT NULL,
    token       TEXT NOT NULL,
    action      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    price       REAL
);
CREATE INDEX IF NOT EXISTS signals_by_run ON signals(backtest_id, time);
";

/// One stored run, as `backtests()` lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub id: i64,
    pub created_at: i64,
    pub name: String,
    pub status: String,
    pub data_hash: String,
    pub config: String,
    pub total_return_pct: f64,
    pub sharpe: f64,
    pub max_drawdown_pct: f64,
    pub n_trades: u64,
}

pub struct Store {
    conn: Connection,
}

fn db_err(e: impl std::fmt::Display) -> DslError {
    DslError::data(format!("backtest store: {e}"))
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                db_err(format!(
                    "cannot create {}: {e}; set STRATBOOK_HOME to a writable folder",
                    dir.display()
                ))
            })?;
        }
        let conn = crate::sqlite::open_shared(path, SCHEMA).map_err(db_err)?;
        conn.execute_batch("PRAGMA foreign_keys=ON;")
            .map_err(db_err)?;
        Ok(Store { conn })
    }

    /// Saves a finished run and its signals in one transaction; returns the run id.
    pub fn save(&mut self, r: &BacktestResult, config: &Value, data_hash: &str) -> Result<i64> {
        let tx = crate::sqlite::write_tx(&mut self.conn).map_err(db_err)?;
        let now = chrono::Utc::now().timestamp();
        tx.execute(
            "INSERT INTO backtests (created_at, name, config, status, result, data_hash) VALUES (?1, ?2, ?3, 'done', ?4, ?5)",
            params![now, r.name, config.to_string(), result_json(r).to_string(), data_hash],
        )
        .map_err(db_err)?;
        let id = tx.last_insert_rowid();
        {
            let mut st = tx
                .prepare("INSERT INTO signals (backtest_id, time, token, action, reason, price) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(db_err)?;
            for s in &r.signals {
                st.execute(params![
                    id,
                    s.time,
                    r.id_of(s.asset),
                    s.action.name(),
                    s.reason,
                    finite(s.price)
                ])
                .map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(id)
    }

    /// Stored runs, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<RunRow>> {
        let mut st = self
            .conn
            .prepare("SELECT id, created_at, name, status, data_hash, config, result FROM backtests ORDER BY id DESC LIMIT ?1")
            .map_err(db_err)?;
        let rows = st
            .query_map(params![limit as i64], |row| {
                let result: Option<String> = row.get(6)?;
                let stats = result
                    .and_then(|r| serde_json::from_str::<Value>(&r).ok())
                    .map(|v| v["stats"].clone())
                    .unwrap_or(Value::Null);
                let num = |k: &str| stats[k].as_f64().unwrap_or(f64::NAN);
                Ok(RunRow {
                    id: row.get(0)?,
                    created_at: row.get(1)?,
                    name: row.get(2)?,
                    status: row.get(3)?,
                    data_hash: row.get(4)?,
                    config: row.get(5)?,
                    total_return_pct: num("total_return_pct"),
                    sharpe: num("sharpe"),
                    max_drawdown_pct: num("max_drawdown_pct"),
                    // Runs stored before counts were integers hold them as floats.
                    n_trades: stats["n_trades"].as_f64().map_or(0, |n| n as u64),
                })
            })
            .map_err(db_err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(db_err)
    }

    /// The stored result JSON of a run.
    pub fn result(&self, id: i64) -> Result<Option<Value>> {
        let mut st = self
            .conn
            .prepare("SELECT result FROM backtests WHERE id = ?1")
            .map_err(db_err)?;
        let mut rows = st.query(params![id]).map_err(db_err)?;
        match rows.next().map_err(db_err)? {
            Some(row) => {
                let s: Option<String> = row.get(0).map_err(db_err)?;
                Ok(s.and_then(|s| serde_json::from_str(&s).ok()))
            }
            None => Ok(None),
        }
    }

    /// Number of signals stored for a run.
    pub fn signal_count(&self, id: i64) -> Result<i64> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM signals WHERE backtest_id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(db_err)
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The stored result: stats, trades and the open trades (JSON numbers; NaN/inf become null).
pub fn result_json(r: &BacktestResult) -> Value {
    let stats: serde_json::Map<String, Value> = r
        .stats
        .pairs()
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                StatValue::Count(n) => json!(n),
                StatValue::Number(x) => json!(finite(x)),
            };
            (k.to_string(), v)
        })
        .collect();
    let trade = |t: &crate::backtest::sink::Trade| {
        json!({
            "token": r.id_of(t.asset), "side": t.side.direction(),
            "entry_time": t.entry_time, "exit_time": t.exit_time,
            "entry_price": t.entry_price, "exit_price": t.exit_price, "qty": t.qty,
            "pnl": finite(t.pnl), "pnl_pct": finite(t.pnl_pct), "fees": t.fees,
            "bars_held": t.bars_held(), "exit_reason": t.exit_reason.name(),
        })
    };
    json!({
        "name": r.name,
        "tokens": r.ids,
        "interval": r.interval.name(),
        "synthetic": r.synthetic,
        "stats": stats,
        "trades": r.trades.iter().map(trade).collect::<Vec<_>>(),
        "open_trades": r.open_trades.iter().map(trade).collect::<Vec<_>>(),
    })
}

/// FNV-1a (64-bit) over every input bar (id, interval, time, OHLCV bits), as hex: two runs with
/// the same hash read identical data. Not cryptographic; it proves sameness, not provenance.
pub fn data_hash(bars: &[&Bars]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for b in bars {
        eat(b.id.as_bytes());
        eat(b.interval.name().as_bytes());
        for i in 0..b.len() {
            eat(&b.time[i].to_le_bytes());
            for s in [&b.open, &b.high, &b.low, &b.close, &b.volume] {
                eat(&s.values()[i].to_bits().to_le_bytes());
            }
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::{BacktestConfig, run};
    use crate::bars::{Candle, Source};
    use crate::interval::Interval;
    use crate::series::Series;
    use crate::strategy::{Signals, StrategyOptions};

    fn sample() -> (Bars, BacktestResult) {
        let c: Vec<Candle> = (0..50)
            .map(|i| {
                let p = 100.0 + (i as f64 * 0.5).sin() * 5.0;
                Candle {
                    time: i * 3600,
                    open: p,
                    high: p + 1.0,
                    low: p - 1.0,
                    close: p,
                    volume: 1.0,
                }
            })
            .collect();
        let b = Bars::from_candles("demo:X", Interval::H1, Source::Demo, &c).unwrap();
        let up = b.close.zip_bool(&b.close.shift(1), |a, p| a > p);
        let mut s = Signals {
            entry: Some(up.clone()),
            exit: Some(up.map_bool(|x| x == 0.0)),
            ..Default::default()
        };
        let _ = Series::default();
        let r = run(
            &[&b],
            &mut [&mut s],
            &[StrategyOptions::default()],
            &BacktestConfig::default(),
            None,
        )
        .unwrap();
        (b, r)
    }

    #[test]
    fn a_saved_run_lists_with_its_stats_and_signals() {
        let dir = tempfile::tempdir().unwrap();
        let (b, r) = sample();
        let mut st = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let id = st
            .save(&r, &json!({"cash": 10000}), &data_hash(&[&b]))
            .unwrap();
        let rows = st.list(10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, id);
        assert_eq!(rows[0].n_trades, r.stats.n_trades);
        assert!((rows[0].total_return_pct - r.stats.total_return_pct).abs() < 1e-9);
        assert_eq!(st.signal_count(id).unwrap(), r.signals.len() as i64);
        let back = st.result(id).unwrap().unwrap();
        assert_eq!(back["trades"].as_array().unwrap().len(), r.trades.len());
    }

    #[test]
    fn data_hash_changes_with_any_price() {
        let (b, _) = sample();
        let h1 = data_hash(&[&b]);
        assert_eq!(h1, data_hash(&[&b]));
        let mut c = b.candles();
        c[10].close += 1e-9;
        let b2 = Bars::from_candles("demo:X", Interval::H1, Source::Demo, &c).unwrap();
        assert_ne!(h1, data_hash(&[&b2]));
    }
}
