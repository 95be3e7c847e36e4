//! The parts of `%ai` (a model writes the next cell) that need a [`Session`] but no model: what
//! the model is told (the compacted reference, the session's variables) and how its answer is
//! read (the cell in a ```` ```rhai ```` block, the rest as the explanation). The kernel wires
//! these to [`crate::llm::Client`]; nothing here sends a request.

use super::Session;
use super::complete::{normalize_type, type_name};
use crate::bars::Bars;
use crate::series::Series;

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
            let Some(close) = close else { return None };
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
