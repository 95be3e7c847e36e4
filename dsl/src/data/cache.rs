//! The kline cache: a SQLite file (`Config::cache_path()`) shared by every session and process.
//!
//! `klines` holds bars keyed by (key, interval, time); `coverage` holds the ranges of bar times
//! that were fetched completely, so a range with no trading (a gap) is known to be empty and is
//! not fetched again. Rows and their coverage are written in one transaction: a crash leaves
//! either both or neither. `crate::sqlite` opens it so that
//! several processes share it.

use crate::bars::Candle;
use crate::error::{DslError, Result};
use rusqlite::{Connection, params};
use std::path::Path;

pub struct Cache {
    conn: Connection,
}

/// An inclusive range of bar open times `[start, end]`.
pub type Span = (i64, i64);

fn db_err(e: rusqlite::Error) -> DslError {
    DslError::data(format!("kline cache error: {e}"))
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS klines (
        key TEXT NOT NULL, interval INTEGER NOT NULL, time INTEGER NOT NULL,
        open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
        volume REAL NOT NULL,
        PRIMARY KEY (key, interval, time)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS coverage (
        key TEXT NOT NULL, interval INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
        PRIMARY KEY (key, interval, start)) WITHOUT ROWID;";

impl Cache {
    pub fn open(path: &Path) -> Result<Cache> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                DslError::data(format!(
                    "cannot create the cache folder {}: {e}; set STRATBOOK_HOME to a writable folder",
                    dir.display()
                ))
            })?;
        }
        let conn = crate::sqlite::open_shared(path, SCHEMA).map_err(|e| {
            DslError::data(format!(
                "cannot open the kline cache {}: {e}",
                path.display()
            ))
        })?;
        Ok(Cache { conn })
    }

    /// Covered spans for a key, ascending and disjoint.
    pub fn coverage(&self, key: &str, minutes: i64) -> Result<Vec<Span>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT start, end FROM coverage WHERE key = ?1 AND interval = ?2 ORDER BY start",
            )
            .map_err(db_err)?;
        let rows = st
            .query_map(params![key, minutes], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<Span>>>()
            .map_err(db_err)
    }

    /// Bars with times in `[from, to]`, ascending.
    pub fn load(&self, key: &str, minutes: i64, from: i64, to: i64) -> Result<Vec<Candle>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT time, open, high, low, close, volume FROM klines
                 WHERE key = ?1 AND interval = ?2 AND time BETWEEN ?3 AND ?4 ORDER BY time",
            )
            .map_err(db_err)?;
        let mut rows = st.query(params![key, minutes, from, to]).map_err(db_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db_err)? {
            out.push(Candle {
                time: r.get(0).map_err(db_err)?,
                open: r.get(1).map_err(db_err)?,
                high: r.get(2).map_err(db_err)?,
                low: r.get(3).map_err(db_err)?,
                close: r.get(4).map_err(db_err)?,
                volume: r.get(5).map_err(db_err)?,
            });
        }
        Ok(out)
    }

    /// Stores bars and marks `span` as fetched, in one transaction. `step` (seconds) lets adjacent
    /// spans merge into one.
    pub fn store(
        &mut self,
        key: &str,
        minutes: i64,
        step: i64,
        span: Span,
        bars: &[Candle],
    ) -> Result<()> {
        let tx = crate::sqlite::write_tx(&mut self.conn).map_err(db_err)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO klines (key, interval, time, open, high, low, close, volume)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(db_err)?;
            for c in bars {
                ins.execute(params![
                    key, minutes, c.time, c.open, c.high, c.low, c.close, c.volume
                ])
                .map_err(db_err)?;
            }
            // Merge with every span that overlaps or touches the new one.
            let (mut start, mut end) = span;
            let mut sel = tx
                .prepare_cached(
                    "SELECT start, end FROM coverage WHERE key = ?1 AND interval = ?2
                     AND start <= ?4 AND end >= ?3",
                )
                .map_err(db_err)?;
            let touching: Vec<Span> = sel
                .query_map(params![key, minutes, start - step, end + step], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .map_err(db_err)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db_err)?;
            let mut del = tx
                .prepare_cached(
                    "DELETE FROM coverage WHERE key = ?1 AND interval = ?2 AND start = ?3",
                )
                .map_err(db_err)?;
            for (s, e) in touching {
                start = start.min(s);
                end = end.max(e);
                del.execute(params![key, minutes, s]).map_err(db_err)?;
            }
            tx.execute(
                "INSERT INTO coverage (key, interval, start, end) VALUES (?1, ?2, ?3, ?4)",
                params![key, minutes, start, end],
            )
            .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    /// Rows stored for a key (for tests and diagnostics).
    pub fn count(&self, key: &str, minutes: i64) -> Result<i64> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM klines WHERE key = ?1 AND interval = ?2",
                params![key, minutes],
                |r| r.get(0),
            )
            .map_err(db_err)
    }
}

/// The parts of `[from, to]` (bar times, step `step`) not inside any covered span.
pub fn missing(covered: &[Span], from: i64, to: i64, step: i64) -> Vec<Span> {
    let mut out = Vec::new();
    let mut cur = from;
    for &(s, e) in covered {
        if e < cur {
            continue;
        }
        if s > to {
            break;
        }
        if s > cur {
            out.push((cur, (s - step).min(to)));
        }
        cur = cur.max(e + step);
        if cur > to {
            break;
        }
    }
    if cur <= to {
        out.push((cur, to));
    }
    out.retain(|(a, b)| a <= b);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(t: i64) -> Candle {
        Candle {
            time: t,
            open: 1.0,
            high: 2.0,
            low: 0.5,
            close: 1.5,
            volume: 3.0,
        }
    }

    #[test]
    fn missing_ranges_skip_covered_spans() {
        assert_eq!(missing(&[], 0, 600, 60), vec![(0, 600)]);
        assert_eq!(missing(&[(0, 600)], 0, 600, 60), vec![]);
        assert_eq!(
            missing(&[(120, 240), (480, 540)], 0, 600, 60),
            vec![(0, 60), (300, 420), (600, 600)]
        );
        assert_eq!(missing(&[(-600, 60)], 0, 120, 60), vec![(120, 120)]);
    }

    #[test]
    fn stored_spans_merge_and_rows_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(&dir.path().join("c.sqlite")).unwrap();
        cache.store("k", 1, 60, (0, 120), &[c(0), c(120)]).unwrap();
        cache.store("k", 1, 60, (180, 300), &[c(180)]).unwrap();
        assert_eq!(cache.coverage("k", 1).unwrap(), vec![(0, 300)]);
        let rows = cache.load("k", 1, 0, 300).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.time).collect::<Vec<_>>(),
            vec![0, 120, 180]
        );
        assert_eq!(rows[0], c(0));
        assert_eq!(cache.coverage("k", 5).unwrap(), vec![]);
    }

    #[test]
    fn two_connections_share_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.sqlite");
        let mut a = Cache::open(&p).unwrap();
        let b = Cache::open(&p).unwrap();
        a.store("k", 1, 60, (0, 60), &[c(0), c(60)]).unwrap();
        assert_eq!(b.count("k", 1).unwrap(), 2);
    }
}
