//! Cell errors as a reader needs them: the message, the cell line and column, the source line
//! with a caret, and a hint that names the fix (closest names, the signature, the valid values).

use super::docs::Docs;
use rhai::{EvalAltResult, ParseError, ParseErrorType, Position};

/// An error to show in a notebook.
#[derive(Clone, Debug, PartialEq)]
pub struct CellError {
    /// A short class name: `SyntaxError`, `NameError`, `TypeError`, `RuntimeError`, `Interrupted`, ...
    pub ename: String,
    /// The message (with the hint).
    pub evalue: String,
    /// Lines to print: header, `--> cell[n]:line:col`, source line, caret, hint, notes.
    pub traceback: Vec<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.traceback.join("\n"))
    }
}

/// Where cell sources are kept, for showing the line an error points at.
pub trait SourceLookup {
    fn source(&self, name: &str) -> Option<&str>;
}

pub struct Context<'a> {
    pub docs: &'a Docs,
    /// The current cell's source name (`cell[3]`) and text.
    pub cell_name: &'a str,
    pub code: &'a str,
    pub sources: &'a dyn SourceLookup,
    /// Variables in scope and script functions, for "did you mean".
    pub variables: Vec<String>,
    pub script_fns: Vec<String>,
}

pub fn from_parse(e: &ParseError, cx: &Context) -> CellError {
    let mut pos = e.position();
    let ty = e.err_type();
    // A missing `;` is reported at the next token: point at the end of the previous line instead.
    if matches!(ty, ParseErrorType::MissingToken(t, _) if t == ";")
        && let Some(line) = pos.line()
        && line > 1
    {
        let prev = cx.code.lines().nth(line - 2).unwrap_or("");
        pos = Position::new(line as u16 - 1, prev.chars().count() as u16 + 1);
    }
    let hint = match ty {
        ParseErrorType::MissingToken(t, _) if t == ";" => {
            Some("end the statement with ';'".to_string())
        }
        ParseErrorType::VariableUndefined(v) => did_you_mean(v, &cx.variables, "variable"),
        ParseErrorType::UnknownOperator(op) => Some(format!("'{op}' is not a Rhai operator")),
        ParseErrorType::Reserved(w) if w == "eval" => {
            Some("eval is disabled in Stratbook cells".into())
        }
        _ => None,
    };
    let msg = match ty {
        ParseErrorType::VariableUndefined(v) => format!("undefined variable '{v}'"),
        other => other.to_string(),
    };
    build(
        "SyntaxError",
        &msg,
        hint,
        cx.cell_name,
        cx.code,
        pos,
        vec![],
    )
}

pub fn from_eval(e: &EvalAltResult, cx: &Context) -> CellError {
    // Walk the chain of function calls down to the innermost error.
    let mut notes = Vec::new();
    let mut cur = e;
    let mut src_name = cx.cell_name.to_string();
    let mut outer_pos = e.position();
    while let EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) = cur {
        notes.push(format!(
            "note: in call to function '{name}' at line {}",
            pos.line().unwrap_or(0)
        ));
        if notes.len() == 1 {
            outer_pos = *pos;
        }
        if !src.is_empty() {
            src_name = src.clone();
        }
        cur = inner;
    }
    let inner_pos = cur.position();
    // Show the line in the cell that defines the failing code, when we know it.
    let (show_name, show_code, pos) = match cx.sources.source(&src_name) {
        Some(code) if !inner_pos.is_none() => (src_name.clone(), code.to_string(), inner_pos),
        _ => (
            cx.cell_name.to_string(),
            cx.code.to_string(),
            if inner_pos.is_none() {
                outer_pos
            } else {
                inner_pos
            },
        ),
    };
    let (ename, msg, hint) = classify(cur, cx);
    build(&ename, &msg, hint, &show_name, &show_code, pos, notes)
}

fn classify(e: &EvalAltResult, cx: &Context) -> (String, String, Option<String>) {
    use EvalAltResult as E;
    match e {
        E::ErrorVariableNotFound(v, _) => (
            "NameError".into(),
            format!("variable '{v}' is not defined"),
            did_you_mean(v, &cx.variables, "variable"),
        ),
        E::ErrorFunctionNotFound(sig, _) => {
            let name = sig
                .split([' ', '('])
                .next()
                .unwrap_or(sig)
                .trim()
                .to_string();
            let name = name.rsplit("::").next().unwrap_or(&name).to_string();
            let base = name
                .trim_start_matches("get$")
                .trim_start_matches("set$")
                .to_string();
            if let Some(d) = cx.docs.get(&base) {
                let sigs = d.signatures.join("\n  ");
                (
                    "TypeError".into(),
                    format!("wrong arguments for '{base}': {}", sig.trim()),
                    Some(format!("{base} takes:\n  {sigs}\nsee help(\"{base}\")")),
                )
            } else if name.starts_with("get$") {
                (
                    "AttributeError".into(),
                    format!("no property '{base}' here: {}", sig.trim()),
                    None,
                )
            } else {
                let mut pool: Vec<String> = cx.docs.functions().map(|d| d.name.clone()).collect();
                pool.extend(cx.script_fns.iter().cloned());
                let hint = did_you_mean(&name, &pool, "function")
                    .or_else(|| Some("help() lists the built-ins by family".into()));
                (
                    "NameError".into(),
                    format!("function not found: {}", sig.trim()),
                    hint,
                )
            }
        }
        E::ErrorTerminated(token, _) => match token.clone().into_string() {
            Ok(msg) if msg != super::session::INTERRUPTED => ("MemoryError".into(), msg, None),
            _ => (
                "Interrupted".into(),
                "execution interrupted by the user".into(),
                None,
            ),
        },
        E::ErrorTooManyOperations(_) => (
            "LimitError".into(),
            "too many operations: the cell ran past the operation limit".into(),
            Some(
                "use whole-series functions (sma, crossover, …) instead of per-element loops"
                    .into(),
            ),
        ),
        E::ErrorStackOverflow(_) => (
            "LimitError".into(),
            "call stack too deep (recursion limit)".into(),
            None,
        ),
        E::ErrorDataTooLarge(what, _) => (
            "LimitError".into(),
            format!("{what}: over the size limit"),
            None,
        ),
        E::ErrorTooManyVariables(_) => ("LimitError".into(), "too many variables".into(), None),
        E::ErrorArithmetic(m, _) => ("ArithmeticError".into(), m.clone(), None),
        E::ErrorIndexNotFound(i, _) => ("IndexError".into(), format!("index not found: {i}"), None),
        E::ErrorArrayBounds(len, idx, _) => (
            "IndexError".into(),
            format!("index {idx} out of bounds for length {len}"),
            None,
        ),
        E::ErrorPropertyNotFound(p, _) => {
            ("AttributeError".into(), format!("no property '{p}'"), None)
        }
        E::ErrorMismatchDataType(want, got, _) | E::ErrorMismatchOutputType(want, got, _) => {
            // `a && b` / `a || b` / `if s` on series: Rhai's logic wants one bool.
            let hint = (want == "bool" && got.ends_with("Series")).then(|| {
                "a comparison of series is a series of bools: combine them with & and |, not && and ||, e.g. (close > open) & (rsi(close, 14) < 70); ctx.value(s) reads one bar's value".to_string()
            });
            let got = got.rsplit("::").next().unwrap_or(got);
            (
                "TypeError".into(),
                format!("expected {want}, got {got}"),
                hint,
            )
        }
        E::ErrorModuleNotFound(m, _) => (
            "ImportError".into(),
            format!("module not found: {m}"),
            Some(
                "the standard library is always there as std::strategies (no import needed)".into(),
            ),
        ),
        E::ErrorRuntime(v, _) => {
            let s = v.to_string();
            // A sized built-in (`pad`, `blob(n)`) refused before allocating.
            let ename = if s.starts_with("memory budget exceeded") {
                "MemoryError"
            } else {
                "Error"
            };
            (ename.into(), s, None)
        }
        E::ErrorAssignmentToConstant(v, _) => (
            "TypeError".into(),
            format!("cannot assign to constant '{v}'"),
            None,
        ),
        other => {
            let mut s = other.to_string();
            // Drop Rhai's own " (line L, position P)" suffix: we show the position ourselves.
            if let Some(i) = s.rfind(" (line ") {
                s.truncate(i);
            }
            ("Error".into(), s, None)
        }
    }
}

fn did_you_mean(name: &str, pool: &[String], what: &str) -> Option<String> {
    let mut scored: Vec<(usize, &String)> = pool
        .iter()
        .map(|p| {
            (
                super::docs::edit_distance(&p.to_lowercase(), &name.to_lowercase()),
                p,
            )
        })
        .filter(|(d, p)| {
            *d <= 2.max(name.len() / 3) || p.to_lowercase().starts_with(&name.to_lowercase())
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    let names: Vec<&str> = scored.iter().take(3).map(|(_, n)| n.as_str()).collect();
    if names.is_empty() {
        None
    } else {
        Some(format!(
            "did you mean {}? ({what})",
            names
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

fn build(
    ename: &str,
    msg: &str,
    hint: Option<String>,
    src_name: &str,
    code: &str,
    pos: Position,
    notes: Vec<String>,
) -> CellError {
    let mut tb = vec![format!("{ename}: {msg}")];
    let (line, col) = (pos.line(), pos.position());
    if let Some(l) = line {
        let c = col.unwrap_or(1);
        tb.push(format!("  --> {src_name}:{l}:{c}"));
        if let Some(text) = code.lines().nth(l - 1) {
            let gutter = l.to_string();
            tb.push(format!("{:w$} |", "", w = gutter.len() + 1));
            tb.push(format!(" {gutter} | {text}"));
            // Columns are counted in characters; tabs keep their width in the caret line.
            let pad: String = text
                .chars()
                .take(c.saturating_sub(1))
                .map(|ch| if ch == '\t' { '\t' } else { ' ' })
                .collect();
            tb.push(format!("{:w$} | {pad}^", "", w = gutter.len() + 1));
        }
    }
    let mut evalue = msg.to_string();
    if let Some(h) = &hint {
        for (i, l) in h.lines().enumerate() {
            tb.push(if i == 0 {
                format!("hint: {l}")
            } else {
                format!("      {l}")
            });
        }
        evalue = format!("{msg} ({})", h.lines().next().unwrap_or(""));
    }
    tb.extend(notes);
    if let Some(l) = line {
        evalue = format!("{evalue} at line {l}, column {}", col.unwrap_or(1));
    }
    CellError {
        ename: ename.into(),
        evalue,
        traceback: tb,
        line,
        column: col,
    }
}

/// An error that did not come from the script engine (a panic in a built-in, ...).
/// A cell refused before it runs (too large to parse in bounded time).
pub fn limit(msg: &str, hint: &str) -> CellError {
    CellError {
        ename: "LimitError".into(),
        evalue: format!("{msg}; {hint}"),
        traceback: vec![format!("LimitError: {msg}"), format!("hint: {hint}")],
        line: None,
        column: None,
    }
}

pub fn internal(msg: &str) -> CellError {
    CellError {
        ename: "InternalError".into(),
        evalue: msg.into(),
        traceback: vec![
            format!("InternalError: {msg}"),
            "this is a bug in Stratbook; the kernel is still running".into(),
        ],
        line: None,
        column: None,
    }
}
