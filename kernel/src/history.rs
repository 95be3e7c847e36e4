//! The kernel's input history for `history_request` (tail, range, search with a glob, unique, n).
//!
//! History lives in memory for the life of the kernel process, numbered by execution count under
//! session 1 (there is no earlier session to refer to); restarting the kernel starts afresh.

use serde_json::{Value, json};

/// The session number every entry carries (0 in a request also means "the current session").
pub const SESSION: i64 = 1;

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    line: usize,
    input: String,
    output: Option<String>,
}

#[derive(Default, Debug)]
pub struct History {
    entries: Vec<Entry>,
}

/// A parsed `history_request`, with lenient defaults for fields clients leave out.
#[derive(Clone, Debug, PartialEq)]
pub enum Query {
    Tail {
        n: usize,
    },
    Range {
        session: i64,
        start: i64,
        stop: Option<i64>,
    },
    Search {
        pattern: String,
        unique: bool,
        n: Option<usize>,
    },
}

impl Query {
    /// Reads a request's content; missing fields take defaults (tail 10, whole range, all matches).
    pub fn from_content(c: &Value) -> Query {
        let int = |k: &str| c.get(k).and_then(Value::as_i64);
        match c
            .get("hist_access_type")
            .and_then(Value::as_str)
            .unwrap_or("tail")
        {
            "range" => Query::Range {
                session: int("session").unwrap_or(0),
                start: int("start").unwrap_or(0),
                stop: int("stop"),
            },
            "search" => Query::Search {
                pattern: c
                    .get("pattern")
                    .and_then(Value::as_str)
                    .unwrap_or("*")
                    .to_string(),
                unique: c.get("unique").and_then(Value::as_bool).unwrap_or(false),
                n: int("n").filter(|n| *n > 0).map(|n| n as usize),
            },
            _ => Query::Tail {
                n: int("n").unwrap_or(10).max(0) as usize,
            },
        }
    }
}

impl History {
    /// Records an executed cell under its execution count.
    pub fn record(&mut self, line: usize, input: &str) {
        self.entries.push(Entry {
            line,
            input: input.to_string(),
            output: None,
        });
    }

    /// Attaches the `text/plain` of the cell's result to the entry for `line`.
    pub fn set_output(&mut self, line: usize, output: &str) {
        if let Some(e) = self.entries.iter_mut().rev().find(|e| e.line == line) {
            e.output = Some(output.to_string());
        }
    }

    /// The `history` list of a history_reply: `[session, line, input]` or
    /// `[session, line, [input, output]]` with `output`.
    pub fn query(&self, q: &Query, output: bool) -> Vec<Value> {
        let picked: Vec<&Entry> = match q {
            Query::Tail { n } => {
                let skip = self.entries.len().saturating_sub(*n);
                self.entries[skip..].iter().collect()
            }
            Query::Range {
                session,
                start,
                stop,
            } => {
                if *session != 0 && *session != SESSION {
                    vec![]
                } else {
                    self.entries
                        .iter()
                        .filter(|e| {
                            let l = e.line as i64;
                            l >= *start && stop.is_none_or(|s| l < s)
                        })
                        .collect()
                }
            }
            Query::Search { pattern, unique, n } => {
                let pat: Vec<char> = pattern.chars().collect();
                let mut hits: Vec<&Entry> = Vec::new();
                // Newest first, so `unique` keeps the latest run and `n` the latest matches.
                for e in self.entries.iter().rev() {
                    if !glob(&pat, &e.input.chars().collect::<Vec<_>>()) {
                        continue;
                    }
                    if *unique && hits.iter().any(|h| h.input == e.input) {
                        continue;
                    }
                    hits.push(e);
                    if n.is_some_and(|n| hits.len() >= n) {
                        break;
                    }
                }
                hits.reverse();
                hits
            }
        };
        picked
            .into_iter()
            .map(|e| {
                if output {
                    json!([
                        SESSION,
                        e.line,
                        [e.input, e.output.clone().unwrap_or_default()]
                    ])
                } else {
                    json!([SESSION, e.line, e.input])
                }
            })
            .collect()
    }
}

/// SQLite-style GLOB (what IPython's history search uses): `*`, `?`, `[abc]`, `[a-z]`, `[^x]`;
/// case-sensitive, matching the whole input.
pub fn glob(pat: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() {
            match pat[p] {
                '*' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                '?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class(pat, p, text[t]) {
                        if ok {
                            p = next;
                            t += 1;
                            continue;
                        }
                    } else if text[t] == '[' {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                c if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|c| *c == '*')
}

/// Matches `c` against the class starting at `pat[at] == '['`: (matched, index after `]`), or
/// `None` when the class is not closed (then `[` is literal).
fn class(pat: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = pat.get(i) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pat.len() {
        if pat[i] == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < pat.len() && pat[i + 1] == '-' && pat[i + 2] != ']' {
            if pat[i] <= c && c <= pat[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if pat[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str, t: &str) -> bool {
        glob(
            &p.chars().collect::<Vec<_>>(),
            &t.chars().collect::<Vec<_>>(),
        )
    }

    fn sample() -> History {
        let mut h = History::default();
        for (i, code) in ["let a = 1;", "a + 1", "print(a)", "a + 1"]
            .iter()
            .enumerate()
        {
            h.record(i + 1, code);
        }
        h.set_output(2, "2");
        h
    }

    #[test]
    fn glob_matches_like_sqlite() {
        assert!(g("a*", "a + 1"));
        assert!(g("*+ ?", "a + 1"));
        assert!(!g("a", "a + 1"));
        assert!(g("[ab] + 1", "b + 1"));
        assert!(!g("[^ab] + 1", "b + 1"));
        assert!(g("[0-9]x", "7x"));
        assert!(!g("A*", "a"));
        assert!(g("*", ""));
    }

    #[test]
    fn tail_returns_the_last_n_oldest_first() {
        let h = sample();
        let r = h.query(&Query::Tail { n: 2 }, false);
        assert_eq!(r, vec![json!([1, 3, "print(a)"]), json!([1, 4, "a + 1"])]);
    }

    #[test]
    fn range_stop_is_exclusive_and_output_pairs_have_two_items() {
        let h = sample();
        let q = Query::Range {
            session: 1,
            start: 2,
            stop: Some(3),
        };
        assert_eq!(h.query(&q, true), vec![json!([1, 2, ["a + 1", "2"]])]);
    }

    #[test]
    fn search_unique_and_n_keep_the_latest() {
        let h = sample();
        let all = Query::Search {
            pattern: "a + *".into(),
            unique: false,
            n: None,
        };
        assert_eq!(h.query(&all, false).len(), 2);
        let unique = Query::Search {
            pattern: "a + *".into(),
            unique: true,
            n: None,
        };
        assert_eq!(h.query(&unique, false), vec![json!([1, 4, "a + 1"])]);
        let n = Query::Search {
            pattern: "*".into(),
            unique: false,
            n: Some(3),
        };
        let lines: Vec<i64> = h
            .query(&n, false)
            .iter()
            .map(|e| e[1].as_i64().unwrap())
            .collect();
        assert_eq!(lines, vec![2, 3, 4]);
    }

    #[test]
    fn search_without_unique_or_n_is_accepted() {
        let q = Query::from_content(&json!({"hist_access_type": "search", "pattern": "a*"}));
        assert_eq!(
            q,
            Query::Search {
                pattern: "a*".into(),
                unique: false,
                n: None
            }
        );
    }
}
