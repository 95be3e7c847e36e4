//! The SQLite store of backtest runs (`Config::db_path()`, under `STRATBOOK_HOME`), after the AVE
//! bot plan's tables: `backtests` (one row per run: name, config JSON, status, result JSON, a hash
//! of the input data) and `signals` (every decision of a run). Writes are one transaction per run.
//! A consumer of results: the engine never imports it.
//!
//! A run's trades and signals are stored as column blobs in `backtest_columns` (one row per run,
//! [`columns`]), not one row each: a 1M-bar run with 40,000 signals saves in milliseconds.
//! [`Store::result`] puts the trades back into the result JSON, so readers see one shape. Runs
//! saved before kept their signals in `signals`, which is still read.

use crate::backtest::BacktestResult;
use crate::backtest::metrics::StatValue;
use crate::bars::Bars;
use crate::error::{DslError, Result};
use columns::{BlobWriter, Col, read_blob};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use std::path::Path;

pub mod background;
pub mod columns;
pub mod llm;
pub mod sim;

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
CREATE TABLE IF NOT EXISTS backtest_columns (
    backtest_id INTEGER PRIMARY KEY REFERENCES backtests(id) ON DELETE CASCADE,
    trades      BLOB NOT NULL,
    open_trades BLOB NOT NULL,
    signals     BLOB NOT NULL
);
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
        // `backtest()` opens the store for each save: closing the last connection would
        // checkpoint the WAL into the database every time (a third of a 1M-bar save). SQLite's
        // automatic checkpoints (every 1000 pages) still keep the WAL small.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .map_err(db_err)?;
        Ok(Store { conn })
    }

    /// Saves a finished run, its trades and its signals in one transaction; returns the run id.
    pub fn save(&mut self, r: &BacktestResult, config: &Value, data_hash: &str) -> Result<i64> {
        let blobs = Blobs::of(r);
        self.insert(r, config, data_hash, blobs)
    }

    /// [`Store::save`] with the input's [`data_hash`] computed on another thread while the
    /// trades and signals are encoded (the two costs of a large run, side by side).
    pub fn save_hashing(
        &mut self,
        r: &BacktestResult,
        config: &Value,
        bars: &[&Bars],
    ) -> Result<i64> {
        let (hash, blobs) = std::thread::scope(|sc| {
            let hash = sc.spawn(|| data_hash(bars));
            let blobs = Blobs::of(r);
            (hash.join(), blobs)
        });
        let hash = hash.map_err(|_| db_err("hashing the input failed"))?;
        self.insert(r, config, &hash, blobs)
    }

    fn insert(
        &mut self,
        r: &BacktestResult,
        config: &Value,
        data_hash: &str,
        blobs: Blobs,
    ) -> Result<i64> {
        let Blobs {
            trades,
            open_trades,
            signals,
        } = blobs;
        let tx = crate::sqlite::write_tx(&mut self.conn).map_err(db_err)?;
        let now = chrono::Utc::now().timestamp();
        tx.execute(
            "INSERT INTO backtests (created_at, name, config, status, result, data_hash) VALUES (?1, ?2, ?3, 'done', ?4, ?5)",
            params![now, r.name, config.to_string(), result_json(r).to_string(), data_hash],
        )
        .map_err(db_err)?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO backtest_columns (backtest_id, trades, open_trades, signals) VALUES (?1, ?2, ?3, ?4)",
            params![id, trades, open_trades, signals],
        )
        .map_err(db_err)?;
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

    /// The stored result JSON of a run, its `trades` and `open_trades` included.
    pub fn result(&self, id: i64) -> Result<Option<Value>> {
        let mut st = self
            .conn
            .prepare("SELECT result FROM backtests WHERE id = ?1")
            .map_err(db_err)?;
        let mut rows = st.query(params![id]).map_err(db_err)?;
        let Some(row) = rows.next().map_err(db_err)? else {
            return Ok(None);
        };
        let s: Option<String> = row.get(0).map_err(db_err)?;
        let Some(mut v) = s.and_then(|s| serde_json::from_str::<Value>(&s).ok()) else {
            return Ok(None);
        };
        if let Some((trades, open)) = self.blobs(id, "trades, open_trades")? {
            v["trades"] = trades_json(&read_blob(&trades)?);
            v["open_trades"] = trades_json(&read_blob(&open)?);
        }
        Ok(Some(v))
    }

    fn blobs(&self, id: i64, cols: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let sql = format!("SELECT {cols}, 0 FROM backtest_columns WHERE backtest_id = ?1");
        let mut st = self.conn.prepare(&sql).map_err(db_err)?;
        let mut rows = st.query(params![id]).map_err(db_err)?;
        match rows.next().map_err(db_err)? {
            Some(row) => Ok(Some((
                row.get(0).map_err(db_err)?,
                row.get(1).map_err(db_err)?,
            ))),
            None => Ok(None),
        }
    }

    /// Number of signals stored for a run.
    pub fn signal_count(&self, id: i64) -> Result<i64> {
        let old: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM signals WHERE backtest_id = ?1",
                params![id],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        let new = match self.blobs(id, "signals, signals")? {
            Some((b, _)) => read_blob(&b)?.first().map_or(0, |(_, c)| c.len()) as i64,
            None => 0,
        };
        Ok(old + new)
    }
}

/// A run's trades, open trades and signals, encoded.
struct Blobs {
    trades: Vec<u8>,
    open_trades: Vec<u8>,
    signals: Vec<u8>,
}

impl Blobs {
    fn of(r: &BacktestResult) -> Blobs {
        Blobs {
            trades: trades_blob(r, &r.trades),
            open_trades: trades_blob(r, &r.open_trades),
            signals: signals_blob(r),
        }
    }
}

/// A run's trades as columns (see [`columns`]).
fn trades_blob(r: &BacktestResult, trades: &[crate::backtest::sink::Trade]) -> Vec<u8> {
    let mut w = BlobWriter::new(12, trades.len());
    let t = trades;
    w.strs("token", t.iter().map(|t| r.id_of(t.asset)))
        .strs("side", t.iter().map(|t| t.side.direction()))
        .i64s("entry_time", t.iter().map(|t| t.entry_time))
        .i64s("exit_time", t.iter().map(|t| t.exit_time))
        .f64s("entry_price", t.iter().map(|t| t.entry_price))
        .f64s("exit_price", t.iter().map(|t| t.exit_price))
        .f64s("qty", t.iter().map(|t| t.qty))
        .f64s("pnl", t.iter().map(|t| t.pnl))
        .f64s("pnl_pct", t.iter().map(|t| t.pnl_pct))
        .f64s("fees", t.iter().map(|t| t.fees))
        .i64s("bars_held", t.iter().map(|t| t.bars_held() as i64))
        .strs("exit_reason", t.iter().map(|t| t.exit_reason.name()));
    w.finish()
}

fn signals_blob(r: &BacktestResult) -> Vec<u8> {
    let s = &r.signals;
    let mut w = BlobWriter::new(5, s.len());
    w.i64s("time", s.iter().map(|s| s.time))
        .strs("token", s.iter().map(|s| r.id_of(s.asset)))
        .strs("action", s.iter().map(|s| s.action.name()))
        .strs("reason", s.iter().map(|s| s.reason.as_str()))
        .f64s("price", s.iter().map(|s| s.price));
    w.finish()
}

/// Trade columns back into the JSON objects `result_json` used to hold.
fn trades_json(cols: &[(String, Col)]) -> Value {
    let n = cols.first().map_or(0, |(_, c)| c.len());
    let rows = (0..n)
        .map(|i| {
            let mut m = serde_json::Map::new();
            for (name, c) in cols {
                let v = match c {
                    Col::F64(v) => json!(finite(v[i])),
                    Col::I64(v) => json!(v[i]),
                    Col::Str(v) => json!(v[i]),
                };
                m.insert(name.clone(), v);
            }
            Value::Object(m)
        })
        .collect();
    Value::Array(rows)
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The stored result JSON: name, tokens, interval and stats (JSON numbers; NaN/inf become null).
/// The trades are stored as columns and put back by [`Store::result`].
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
    json!({
        "name": r.name,
        "tokens": r.ids,
        "interval": r.interval.name(),
        "synthetic": r.synthetic,
        "stats": stats,
    })
}

/// A 64-bit hash of every input bar (id, interval, time, OHLCV bits), as hex: two runs with the
/// same hash read identical data. FNV-1a over the id and interval, then one multiply-xorshift
/// lane per column (time, open, high, low, close, volume) over whole 64-bit words, so the six
/// chains run side by side (a 1M-bar table hashes in about a millisecond), folded together at
/// the end. Not cryptographic; it proves sameness, not provenance.
pub fn data_hash(bars: &[&Bars]) -> String {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let fnv = |h: &mut u64, bytes: &[u8]| {
        for &b in bytes {
            *h ^= b as u64;
            *h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    #[inline(always)]
    fn mix(lane: u64, word: u64) -> u64 {
        let x = (lane ^ word).wrapping_mul(K);
        x ^ (x >> 29)
    }
    for b in bars {
        fnv(&mut h, b.id.as_bytes());
        fnv(&mut h, b.interval.name().as_bytes());
        let mut lanes = [h, h ^ 1, h ^ 2, h ^ 3, h ^ 4, h ^ 5];
        let (o, hi, lo, c, v) = (
            b.open.values(),
            b.high.values(),
            b.low.values(),
            b.close.values(),
            b.volume.values(),
        );
        for i in 0..b.len() {
            lanes[0] = mix(lanes[0], b.time[i] as u64);
            lanes[1] = mix(lanes[1], o[i].to_bits());
            lanes[2] = mix(lanes[2], hi[i].to_bits());
            lanes[3] = mix(lanes[3], lo[i].to_bits());
            lanes[4] = mix(lanes[4], c[i].to_bits());
            lanes[5] = mix(lanes[5], v[i].to_bits());
        }
        for l in lanes {
            fnv(&mut h, &l.to_le_bytes());
        }
        fnv(&mut h, &(b.len() as u64).to_le_bytes());
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
