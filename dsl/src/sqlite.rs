//! Opening a SQLite file that several sessions and processes share (the kline cache, the store).
//!
//! Three things make concurrent writers safe, and each was needed:
//! - a busy timeout, so a writer waits for another's transaction instead of failing;
//! - WAL mode, set with a retry: switching a fresh file to WAL takes an exclusive lock, and SQLite
//!   reports `SQLITE_BUSY` for it without calling the busy handler when another connection is
//!   opening the same file at the same moment;
//! - write transactions begun `IMMEDIATE`, so the write lock is taken at `BEGIN` (with the busy
//!   timeout) and never on a later statement, where a stale read snapshot fails at once.

use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a writer waits for another before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens `path` (creating it), sets the busy timeout, WAL mode and `synchronous=NORMAL`, then runs
/// `schema` (idempotent `CREATE … IF NOT EXISTS` statements), retrying while the file is locked.
pub fn open_shared(path: &Path, schema: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    retry_busy(|| {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(schema)
    })?;
    Ok(conn)
}

/// A write transaction that holds the write lock from its start.
pub fn write_tx(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Runs `f` again while it fails with `SQLITE_BUSY`/`SQLITE_LOCKED`, up to [`BUSY_TIMEOUT`].
pub fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                    && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_connections_open_a_fresh_file_and_write_at_once() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("shared.db");
            let threads: Vec<_> = (0..6)
                .map(|k| {
                    let path = path.clone();
                    std::thread::spawn(move || -> rusqlite::Result<()> {
                        let mut conn = open_shared(
                            &path,
                            "CREATE TABLE IF NOT EXISTS t (k INTEGER, v INTEGER);",
                        )?;
                        for v in 0..20 {
                            let tx = write_tx(&mut conn)?;
                            let n: i64 =
                                tx.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
                            tx.execute("INSERT INTO t VALUES (?1, ?2)", [k, v + n])?;
                            tx.commit()?;
                        }
                        Ok(())
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap().unwrap();
            }
            let conn = Connection::open(&path).unwrap();
            let n: i64 = conn
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 120);
        }
    }
}
