//! The parts of `%ai` (a model writes the next cell) that need a [`Session`] but no model: what
//! the model is told (the compacted reference, the session's variables) and how its answer is
//! read (the cell in a ```` ```rhai ```` block, the rest as the explanation). The kernel wires
//! these to [`crate::llm::Client`]; nothing here sends a request.

use super::complete::{normalize_type, type_name};
use super::errors::CellError;
use super::{ExecResult, Session};
use crate::bars::Bars;
use crate::display::{MimeBundle, Output};
use crate::llm::{Client, Message, Request};
use crate::series::Series;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// Repairs after the first answer when the cell fails its check.
pub const MAX_REPAIRS: usize = 2;
/// How long a proposed cell may run in the scratch session.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// `%ai PROMPT` or `%%ai\nPROMPT`: the prompt (with `--fix` kept at its start).
pub fn magic(code: &str) -> Option<&str> {
    let t = code.trim_start();
    let rest = t.strip_prefix("%%ai").or_else(|| t.strip_prefix("%ai"))?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim())
}

fn ai_error(msg: impl Into<String>) -> CellError {
    let evalue = msg.into();
    CellError {
        ename: "AiError".into(),
        traceback: vec![format!("AiError: {evalue}")],
        evalue,
        line: None,
        column: None,
    }
}

/// Runs `cell` in a scratch copy of `s` (same variables, its own store, a time limit). Errors and
/// the strategy warnings a backtest prints are failures.
pub fn check(s: &Session, cell: &str) -> Result<(), String> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let home = std::env::temp_dir().join(format!(
        "stratbook-ai-check-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&home).map_err(|e| format!("no scratch dir: {e}"))?;
    let verdict = check_in(s, cell, &home);
    let _ = std::fs::remove_dir_all(&home);
    verdict
}

fn check_in(s: &Session, cell: &str, home: &std::path::Path) -> Result<(), String> {
    let mut scratch = s.scratch(home);
    let warnings = Arc::new(Mutex::new(String::new()));
    let w = warnings.clone();
    scratch.set_sink(move |o| {
        if let Output::Stream { stderr: true, text } = o
            && text.starts_with("warning (")
        {
            w.lock().unwrap_or_else(|e| e.into_inner()).push_str(&text);
        }
    });
    let cancel = scratch.interrupt_handle();
    let (done, wait) = mpsc::channel::<()>();
    let timer = std::thread::spawn(move || {
        if wait.recv_timeout(CHECK_TIMEOUT).is_err() {
            cancel.cancel();
        }
    });
    let result = scratch.execute(cell);
    let _ = done.send(());
    let _ = timer.join();
    match result {
        Err(e) if e.evalue.contains("interrupted") => Err(format!(
            "the cell ran longer than {} s in the check",
            CHECK_TIMEOUT.as_secs()
        )),
        Err(e) => Err(e.traceback.join("\n")),
        Ok(_) => {
            let mut w = warnings.lock().unwrap_or_else(|e| e.into_inner()).clone();
            // Every strategy the cell defined passes `lint` (not only what a backtest prints).
            if w.is_empty() {
                for name in scratch.variable_names() {
                    let is_new = s.variable(&name).is_none();
                    let Some(v) = scratch.variable(&name) else {
                        continue;
                    };
                    if !is_new || type_name(&scratch, &v) != "Strategy" {
                        continue;
                    }
                    // `too_few_trades` is about the data's length, not a wrong strategy: a model
                    // must not be sent to rewrite a correct answer for it.
                    if let Ok(r) = scratch.execute(&format!(
                        "lint({name}).filter(|w| w.code != \"too_few_trades\").map(|w| `warning (${{w.code}}): ${{w.message}}`)"
                    )) && let Some(text) = r.value.and_then(|b| b.plain().map(str::to_string))
                        && text != "[]"
                    {
                        w.push_str(&format!("lint({name}): {text}\n"));
                    }
                }
            }
            if w.is_empty() { Ok(()) } else { Err(w) }
        }
    }
}

/// The cells run so far, for the model (the last ones, newest last, each capped).
fn cells_so_far(s: &Session) -> String {
    let h = s.history();
    let mut out = String::new();
    for (i, (code, err)) in h.iter().enumerate().skip(h.len().saturating_sub(20)) {
        let code: String = code.chars().take(2000).collect();
        out.push_str(&format!("In [{}]:\n{}\n", i + 1, code.trim_end()));
        if let Some(e) = err {
            out.push_str(&format!(
                "(failed: {})\n",
                e.chars().take(500).collect::<String>()
            ));
        }
    }
    if out.is_empty() {
        out.push_str("(none yet)\n");
    }
    out
}

/// `%ai`: asks the model for the next cell, checks it (at most [`MAX_REPAIRS`] repairs), shows
/// the explanation and offers the cell as the next input. It never runs it in the session.
pub fn run(s: &mut Session, prompt: &str) -> Result<ExecResult, CellError> {
    let fix = prompt.starts_with("--fix");
    let prompt = prompt.trim_start_matches("--fix").trim();
    let ask = if fix {
        let Some((code, Some(err))) = s.history().iter().rev().find(|(_, e)| e.is_some()).cloned()
        else {
            return Err(ai_error(
                "%ai --fix repairs the last failing cell, and no cell has failed yet",
            ));
        };
        format!(
            "This cell failed:\n```rhai\n{code}\n```\nwith:\n{err}\nRepair it{}.",
            if prompt.is_empty() {
                String::new()
            } else {
                format!(" ({prompt})")
            }
        )
    } else if prompt.is_empty() {
        return Err(ai_error(
            "%ai needs a request: %ai buy PEPE when it drops 5 % in an hour, stop 3 %",
        ));
    } else {
        prompt.to_string()
    };
    let cfg = s.runtime().llm_config();
    let client = Client::shared(&cfg).map_err(|e| ai_error(e.to_string()))?;
    let user = format!(
        "Session variables:\n{}\nCells run so far:\n{}\nRequest: {ask}",
        variables(s),
        cells_so_far(s)
    );
    let mut messages = s.ai_chat.clone();
    messages.push(Message::user(user));
    let system = system_prompt(s);
    let cancel = s.interrupt_handle();
    // The cell to offer, its explanation and why its check failed (None: it passed). An answer
    // without a cell keeps the previous one, with that one's own failure.
    let mut last: Option<(String, String, Option<String>)> = None;
    let mut no_cell: Option<String> = None;
    for attempt in 0..=MAX_REPAIRS {
        let req = Request {
            system: system.clone(),
            messages: messages.clone(),
            max_tokens: 4096,
            model: None,
            temperature: None,
        };
        let answer = client
            .complete(&req, &cancel)
            .map_err(|e| ai_error(e.to_string()))?;
        messages.push(Message::assistant(answer.text.clone()));
        let reply = parse_reply(&answer.text);
        let Some(cell) = reply.cell else {
            no_cell = Some("the answer held no ```rhai block".into());
            if attempt < MAX_REPAIRS {
                messages.push(Message::user(
                    "Answer with the whole cell in one ```rhai fenced block, then a short explanation.",
                ));
            }
            continue;
        };
        let verdict = check(s, &cell);
        let passed = verdict.is_ok();
        if let Err(e) = &verdict
            && attempt < MAX_REPAIRS
        {
            messages.push(Message::user(format!(
                "Running that cell failed:\n{e}\nFix it and answer with the whole cell in one ```rhai block."
            )));
        }
        last = Some((cell, reply.explanation, verdict.err()));
        if passed {
            break;
        }
    }
    s.ai_chat = messages;
    let Some((cell, explanation, failure)) = last else {
        return Err(ai_error(format!(
            "the model gave no cell after {} tries: {}",
            MAX_REPAIRS + 1,
            no_cell.unwrap_or_default()
        )));
    };
    let mut md = explanation;
    if let Some(e) = &failure {
        md.push_str(&format!(
            "\n\n**The offered cell still fails its check** (after {MAX_REPAIRS} repairs):\n\n```\n{}\n```",
            e.trim_end()
        ));
    }
    let text = if md.trim().is_empty() {
        "The next cell is below.".to_string()
    } else {
        md
    };
    s.runtime().emitter.display(
        MimeBundle::text(text.clone()).with("text/markdown", text),
        None,
    );
    Ok(ExecResult {
        value: None,
        page: None,
        next_input: Some(cell),
    })
}

/// A model's answer, split.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The first ```` ```rhai ```` block (or, failing that, the first unlabeled ```` ``` ```` block).
    pub cell: Option<String>,
    /// The answer without the cell: the short explanation shown as Markdown.
    pub explanation: String,
}

/// Splits a model's answer into the cell and the explanation. A ```` ```rhai ```` block is always
/// understood; a bare ```` ``` ```` block is taken when there is no rhai one.
pub fn parse_reply(text: &str) -> Reply {
    let block = |label: &str| -> Option<(usize, usize, String)> {
        let mut search = 0;
        while let Some(at) = text[search..].find("```").map(|i| i + search) {
            let line_end = text[at..].find('\n').map_or(text.len(), |i| i + at);
            let tag = text[at + 3..line_end].trim();
            let body_start = (line_end + 1).min(text.len());
            let close = text[body_start..].find("```").map(|i| i + body_start);
            let close = close?;
            if tag.eq_ignore_ascii_case(label) {
                let body = text[body_start..close].trim_end().to_string();
                return Some((at, close + 3, body));
            }
            search = close + 3;
        }
        None
    };
    match block("rhai").or_else(|| block("")) {
        Some((start, end, body)) => {
            let explanation = format!("{}\n{}", text[..start].trim(), text[end..].trim());
            Reply {
                cell: Some(body),
                explanation: explanation.trim().to_string(),
            }
        }
        None => Reply {
            cell: None,
            explanation: text.trim().to_string(),
        },
    }
}

/// One line per variable of the session: name, type, and what a cell author needs (length,
/// token and interval of bars, the first values of a short value).
pub fn variables(s: &Session) -> String {
    let mut out = String::new();
    let mut names = s.variable_names();
    names.reverse(); // oldest first, as the cells defined them
    for name in names {
        let Some(v) = s.variable(&name) else { continue };
        let ty = match type_name(s, &v).as_str() {
            t @ ("i64" | "f64" | "ImmutableString" | "Array" | "Map") => normalize_type(t),
            t => t.to_string(),
        };
        let detail = if let Some(b) = v.read_lock::<Bars>() {
            format!(
                "{} bars of {} at {}, {} → {}",
                b.len(),
                b.id,
                b.interval,
                b.time
                    .first()
                    .map_or(String::new(), |t| crate::time::format_time(*t)),
                b.time
                    .last()
                    .map_or(String::new(), |t| crate::time::format_time(*t)),
            )
        } else if let Some(x) = v.read_lock::<Series>() {
            format!(
                "{} values{}, last {}",
                x.len(),
                if x.is_bool() { " (bool)" } else { "" },
                x.last()
            )
        } else {
            let text = super::render::render(&v)
                .plain()
                .unwrap_or_default()
                .to_string();
            let first: String = text
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(100)
                .collect();
            first
        };
        out.push_str(&format!("- {name}: {ty} = {detail}\n"));
    }
    if out.is_empty() {
        out.push_str("(no variables yet)\n");
    }
    out
}

/// The system prompt: how to answer, then the whole reference (compacted).
pub fn system_prompt(s: &Session) -> String {
    format!(
        "You write the next cell of a Stratbook notebook. Cells are Rhai with the built-ins below. Answer with \
         ONE ```rhai fenced block holding the complete cell, then at most three sentences saying what it does. \
         Use the session's variables when they fit; define everything else in the cell. Give every strategy an \
         exit or a stop; never use shift(-n) (look-ahead); size_pct is a percent of equity (<= 100 unless the \
         user asks for leverage). End with the value to show (a backtest result shows a tear sheet).\n\n{}",
        super::reference::markdown(s.docs(), true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::config::Config;

    #[test]
    fn the_rhai_block_is_the_cell_and_the_rest_the_explanation() {
        let r = parse_reply(
            "Here is a cross.\n\n```rhai\nlet bars = klines(\"demo:BTC\", \"1h\");\nbars\n```\n\nIt loads bars.",
        );
        assert_eq!(
            r.cell.as_deref(),
            Some("let bars = klines(\"demo:BTC\", \"1h\");\nbars")
        );
        assert_eq!(r.explanation, "Here is a cross.\nIt loads bars.");
        // A rhai block wins over an earlier block of another language; a bare block is a fallback.
        let r = parse_reply("```json\n{}\n```\n```rhai\n1 + 1\n```");
        assert_eq!(r.cell.as_deref(), Some("1 + 1"));
        assert_eq!(
            parse_reply("```\nlet x = 1;\n```").cell.as_deref(),
            Some("let x = 1;")
        );
        let r = parse_reply("I cannot do that.");
        assert_eq!(
            (r.cell, r.explanation.as_str()),
            (None, "I cannot do that.")
        );
        assert_eq!(parse_reply("```rhai\nunclosed").cell, None);
    }

    #[test]
    fn variables_name_types_lengths_tokens_and_intervals() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Session::new(Config::for_home(dir.path()));
        assert_eq!(variables(&s), "(no variables yet)\n");
        s.execute("let bars = klines(\"demo:PEPE\", \"4h\", #{ limit: 100 }); let up = bars.close > 0.0; let n = 3;")
            .unwrap();
        let v = variables(&s);
        let lines: Vec<&str> = v.lines().collect();
        assert!(
            lines[0].starts_with("- bars: Bars = 100 bars of demo:PEPE at 4h, "),
            "{v}"
        );
        assert!(
            lines[1].starts_with("- up: Series = 100 values (bool)"),
            "{v}"
        );
        assert_eq!(lines[2], "- n: int = 3");
        let p = system_prompt(&s);
        assert!(p.contains("```rhai") && p.contains("### sma") && p.contains("### percent_drop"));
    }
}
