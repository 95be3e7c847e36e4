//! The LLM agent's tables in the run store (`Config::db_path()`): `llm_cache`, the model's answers
//! keyed by (model, system prompt, prompt), which make a rerun give the same trades offline and
//! for free; and `llm_decisions`, one row per decision of a run (prompt, answer, parsed decision,
//! what the risk layer did, model, tokens, latency). Plus [`CacheFile`], the same answers as a
//! JSON-lines file a notebook can commit next to itself.
//!
//! The API key never reaches these tables: only prompts, answers and counts are written.

use crate::error::{DslError, Result};
use crate::llm::{AnswerSource, DecisionRecord};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS llm_cache (
    model         TEXT NOT NULL,
    system        TEXT NOT NULL,
    prompt        TEXT NOT NULL,
    response      TEXT NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    latency_ms    REAL NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (model, system, prompt)
);
CREATE TABLE IF NOT EXISTS llm_decisions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run           TEXT NOT NULL,
    backtest_id   INTEGER,
    bar_time      INTEGER NOT NULL,
    token         TEXT NOT NULL,
    prompt        TEXT NOT NULL,
    response      TEXT NOT NULL,
    decision      TEXT NOT NULL,
    proposed      TEXT NOT NULL,
    risk          TEXT NOT NULL,
    source        TEXT NOT NULL,
    error         TEXT NOT NULL,
    model         TEXT NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    latency_ms    REAL NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_decisions_by_run ON llm_decisions(run, bar_time);
";

/// A cached answer.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedAnswer {
    pub text: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub latency_ms: f64,
}

fn db_err(e: impl std::fmt::Display) -> DslError {
    DslError::data(format!("LLM store: {e}"))
}

pub struct LlmStore {
    conn: Connection,
}

impl LlmStore {
    /// Opens (creating if needed) the LLM tables in the database at `path`.
    pub fn open(path: &Path) -> Result<LlmStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                db_err(format!(
                    "cannot create {}: {e}; set STRATBOOK_HOME to a writable folder",
                    dir.display()
                ))
            })?;
        }
        let conn = crate::sqlite::open_shared(path, SCHEMA).map_err(db_err)?;
        Ok(LlmStore { conn })
    }

    pub fn cached(&self, model: &str, system: &str, prompt: &str) -> Result<Option<CachedAnswer>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT response, input_tokens, output_tokens, latency_ms FROM llm_cache WHERE model = ?1 AND system = ?2 AND prompt = ?3",
            )
            .map_err(db_err)?;
        st.query_row(params![model, system, prompt], |r| {
            Ok(CachedAnswer {
                text: r.get(0)?,
                input_tokens: r.get::<_, i64>(1)? as u64,
                output_tokens: r.get::<_, i64>(2)? as u64,
                latency_ms: r.get(3)?,
            })
        })
        .optional()
        .map_err(db_err)
    }

    /// Every cached answer of `model`, keyed by [`prompt_key`] (one query: a run then looks its
    /// answers up in memory instead of comparing kilobyte-long keys in the index per decision).
    pub fn all_for(&self, model: &str) -> Result<HashMap<(u64, u64), CachedAnswer>> {
        let mut st = self
            .conn
            .prepare("SELECT system, prompt, response, input_tokens, output_tokens, latency_ms FROM llm_cache WHERE model = ?1")
            .map_err(db_err)?;
        let rows = st
            .query_map(params![model], |r| {
                let system: String = r.get(0)?;
                let prompt: String = r.get(1)?;
                Ok((
                    prompt_key(&system, &prompt),
                    CachedAnswer {
                        text: r.get(2)?,
                        input_tokens: r.get::<_, i64>(3)? as u64,
                        output_tokens: r.get::<_, i64>(4)? as u64,
                        latency_ms: r.get(5)?,
                    },
                ))
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<HashMap<_, _>>>()
            .map_err(db_err)
    }

    pub fn put(&mut self, model: &str, system: &str, prompt: &str, a: &CachedAnswer) -> Result<()> {
        let tx = crate::sqlite::write_tx(&mut self.conn).map_err(db_err)?;
        tx.execute(
            "INSERT OR REPLACE INTO llm_cache (model, system, prompt, response, input_tokens, output_tokens, latency_ms, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                model,
                system,
                prompt,
                a.text,
                a.input_tokens as i64,
                a.output_tokens as i64,
                a.latency_ms,
                chrono::Utc::now().timestamp()
            ],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    /// Logs a run's decisions in one transaction.
    pub fn log(
        &mut self,
        run: &str,
        backtest_id: Option<i64>,
        recs: &[DecisionRecord],
    ) -> Result<()> {
        let tx = crate::sqlite::write_tx(&mut self.conn).map_err(db_err)?;
        {
            let mut st = tx
                .prepare("INSERT INTO llm_decisions (run, backtest_id, bar_time, token, prompt, response, decision, proposed, risk, source, error, model, input_tokens, output_tokens, latency_ms, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)")
                .map_err(db_err)?;
            let now = chrono::Utc::now().timestamp();
            for r in recs {
                st.execute(params![
                    run,
                    backtest_id,
                    r.bar_time,
                    r.token,
                    r.prompt,
                    r.response,
                    r.decision.to_string(),
                    r.proposed.to_string(),
                    r.risk,
                    r.source.name(),
                    r.error,
                    r.model,
                    r.input_tokens as i64,
                    r.output_tokens as i64,
                    r.latency_ms,
                    now
                ])
                .map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)
    }

    /// The decisions logged for a run, in bar order.
    pub fn decisions(&self, run: &str) -> Result<Vec<DecisionRecord>> {
        let mut st = self
            .conn
            .prepare("SELECT bar_time, token, prompt, response, decision, proposed, risk, source, error, model, input_tokens, output_tokens, latency_ms FROM llm_decisions WHERE run = ?1 ORDER BY bar_time, id")
            .map_err(db_err)?;
        let rows = st
            .query_map(params![run], |r| {
                let json = |s: String| serde_json::from_str::<Value>(&s).unwrap_or(Value::Null);
                Ok(DecisionRecord {
                    bar_time: r.get(0)?,
                    token: r.get(1)?,
                    prompt: r.get(2)?,
                    response: r.get(3)?,
                    decision: json(r.get(4)?),
                    proposed: json(r.get(5)?),
                    risk: r.get(6)?,
                    source: match r.get::<_, String>(7)?.as_str() {
                        "model" => AnswerSource::Model,
                        "cache" => AnswerSource::Cache,
                        _ => AnswerSource::Error,
                    },
                    error: r.get(8)?,
                    model: r.get(9)?,
                    input_tokens: r.get::<_, i64>(10)? as u64,
                    output_tokens: r.get::<_, i64>(11)? as u64,
                    latency_ms: r.get(12)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }
}

/// One model's answers in one store, by [`prompt_key`].
pub type Answers = std::sync::Arc<std::sync::Mutex<HashMap<(u64, u64), CachedAnswer>>>;

/// Answers read from stores, per (database, model): a session reads a store's answers once and
/// its later runs look them up in memory (see `llm_decide`).
pub type AnswerMemo = std::sync::Mutex<HashMap<(PathBuf, String), Answers>>;

/// A 128-bit key of (system prompt, prompt) for in-memory lookups: two independently seeded
/// SipHash digests, so a collision between two different prompts is out of reach in practice.
pub fn prompt_key(system: &str, prompt: &str) -> (u64, u64) {
    prompt_key_of(text_hash(system), prompt)
}

/// A SipHash digest of one text (a system prompt, hashed once for a run's many prompts).
pub fn text_hash(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// [`prompt_key`] with the system prompt already hashed by [`text_hash`].
pub fn prompt_key_of(system_hash: u64, prompt: &str) -> (u64, u64) {
    use std::hash::{Hash, Hasher};
    let mut a = std::collections::hash_map::DefaultHasher::new();
    (system_hash, prompt).hash(&mut a);
    let mut b = std::collections::hash_map::DefaultHasher::new();
    (0x9e37_79b9_7f4a_7c15u64, prompt, system_hash).hash(&mut b);
    (a.finish(), b.finish())
}

/// Answers as a JSON-lines file (one `{"model", "system", "prompt", "response", "input_tokens",
/// "output_tokens"}` per line), read whole when opened and appended to as answers arrive. A
/// notebook commits it so every reader replays the same decisions offline.
pub struct CacheFile {
    path: PathBuf,
    map: HashMap<(String, (u64, u64)), CachedAnswer>,
}

impl CacheFile {
    /// Reads `path` (a missing file is an empty cache; it is created on the first answer).
    pub fn open(path: &Path) -> Result<CacheFile> {
        let mut map = HashMap::new();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for (n, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let v: Value = serde_json::from_str(line).map_err(|e| {
                        DslError::data(format!(
                            "LLM cache file {} line {}: {e}",
                            path.display(),
                            n + 1
                        ))
                    })?;
                    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                    map.insert(
                        (s("model"), prompt_key(&s("system"), &s("prompt"))),
                        CachedAnswer {
                            text: s("response"),
                            input_tokens: v["input_tokens"].as_u64().unwrap_or(0),
                            output_tokens: v["output_tokens"].as_u64().unwrap_or(0),
                            latency_ms: v["latency_ms"].as_f64().unwrap_or(0.0),
                        },
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(DslError::data(format!(
                    "cannot read the LLM cache file {}: {e}",
                    path.display()
                )));
            }
        }
        Ok(CacheFile {
            path: path.to_path_buf(),
            map,
        })
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, model: &str, system: &str, prompt: &str) -> Option<&CachedAnswer> {
        self.map
            .get(&(model.to_string(), prompt_key(system, prompt)))
    }

    /// Adds an answer and appends it to the file.
    pub fn put(&mut self, model: &str, system: &str, prompt: &str, a: &CachedAnswer) -> Result<()> {
        let line = json!({
            "model": model, "system": system, "prompt": prompt, "response": a.text,
            "input_tokens": a.input_tokens, "output_tokens": a.output_tokens,
            "latency_ms": a.latency_ms,
        });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| writeln!(f, "{line}").map(|_| f))
            .map_err(|e| {
                DslError::data(format!(
                    "cannot write the LLM cache file {}: {e}",
                    self.path.display()
                ))
            })?;
        let _ = f.flush();
        self.map
            .insert((model.to_string(), prompt_key(system, prompt)), a.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(t: &str) -> CachedAnswer {
        CachedAnswer {
            text: t.into(),
            input_tokens: 10,
            output_tokens: 2,
            latency_ms: 5.0,
        }
    }

    #[test]
    fn answers_are_cached_by_model_system_and_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LlmStore::open(&dir.path().join("db.sqlite")).unwrap();
        s.put("m", "sys", "p", &answer("a")).unwrap();
        assert_eq!(s.cached("m", "sys", "p").unwrap(), Some(answer("a")));
        assert_eq!(s.cached("m2", "sys", "p").unwrap(), None);
        assert_eq!(s.cached("m", "sys", "p2").unwrap(), None);
        // Another connection (another session) sees it.
        let s2 = LlmStore::open(&dir.path().join("db.sqlite")).unwrap();
        assert!(s2.cached("m", "sys", "p").unwrap().is_some());
    }

    #[test]
    fn a_cache_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.jsonl");
        let mut f = CacheFile::open(&p).unwrap();
        assert!(f.is_empty());
        f.put("m", "s", "line1\nline2", &answer("{\"action\":\"hold\"}"))
            .unwrap();
        let g = CacheFile::open(&p).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(
            g.get("m", "s", "line1\nline2").unwrap().text,
            "{\"action\":\"hold\"}"
        );
    }
}
