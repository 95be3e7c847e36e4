//! Completion and inspection on cell text. Rhai has no error-recovering parser, so both work on
//! the identifier (or `receiver.`) before the cursor, combined with the docs and the session's
//! variables and functions.

use super::session::{Completion, Session};
use rhai::Dynamic;

const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "do", "until", "return",
    "break", "continue", "switch", "true", "false", "import", "export", "as", "private", "throw",
    "try", "catch", "this", "global",
];

/// Rhai's own functions (from its packages), as (name, normalized type of the first parameter):
/// `parse_int`, `type_of`, `push` on `array`, property `len` on `string`, ... Built once.
fn rhai_functions() -> &'static [(String, Option<String>)] {
    static FNS: std::sync::OnceLock<Vec<(String, Option<String>)>> = std::sync::OnceLock::new();
    FNS.get_or_init(|| {
        let mut out: Vec<(String, Option<String>)> = rhai::Engine::new()
            .gen_fn_signatures(true)
            .iter()
            .filter_map(|sig| {
                let (name, rest) = sig.split_once('(')?;
                let name = name.strip_prefix("get$").unwrap_or(name);
                if !name.chars().all(is_ident) || name.is_empty() || name.contains('$') {
                    return None;
                }
                let first = rest
                    .split([',', ')'])
                    .next()
                    .and_then(|p| p.split_once(':'))
                    .map(|(_, t)| normalize_type(t));
                Some((name.to_string(), first))
            })
            .collect();
        for k in [
            "print",
            "debug",
            "type_of",
            "Fn",
            "call",
            "curry",
            "is_def_var",
            "is_def_fn",
        ] {
            out.push((k.to_string(), None));
        }
        out.sort();
        out.dedup();
        out
    })
}

/// `&mut Array` → `array`, `i64` → `int`, `ImmutableString` → `string`, ...
pub(crate) fn normalize_type(t: &str) -> String {
    let t = t
        .trim()
        .trim_start_matches("&mut ")
        .trim()
        .trim_end_matches('=');
    match t {
        "i64" | "INT" => "int".into(),
        "f64" | "FLOAT" => "float".into(),
        "ImmutableString" | "String" | "&str" | "str" => "string".into(),
        "Array" => "array".into(),
        "Map" => "map".into(),
        "Blob" => "blob".into(),
        other => other.to_lowercase(),
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The identifier ending at `cursor` (chars), its start, and the receiver before a `.`, if any.
fn word_before(chars: &[char], cursor: usize) -> (usize, Option<String>) {
    let mut start = cursor.min(chars.len());
    while start > 0 && (is_ident(chars[start - 1]) || chars[start - 1] == ':') {
        start -= 1;
    }
    let receiver = if start > 0 && chars[start - 1] == '.' {
        let end = start - 1;
        let mut s = end;
        while s > 0 && (is_ident(chars[s - 1]) || chars[s - 1] == '.') {
            s -= 1;
        }
        Some(chars[s..end].iter().collect())
    } else {
        None
    };
    (start, receiver)
}

/// The script-facing type name of a value (`Series`, `Bars`, `map`, ...).
pub fn type_name(s: &Session, v: &Dynamic) -> String {
    s.engine().map_type_name(v.type_name()).to_string()
}

/// The type of a receiver expression: a variable, or a property chain like `bars.close`.
fn receiver_type(s: &Session, expr: &str) -> Option<(String, Option<Dynamic>)> {
    let mut parts = expr.split('.');
    let v = s.variable(parts.next()?)?;
    let mut ty = type_name(s, &v);
    let mut value = Some(v);
    for p in parts {
        // A map's key keeps the value; a documented property gives its return type.
        if let Some(m) = value
            .as_ref()
            .and_then(|v| v.read_lock::<rhai::Map>().map(|m| m.get(p).cloned()))
        {
            value = m;
            ty = value.as_ref().map(|v| type_name(s, v)).unwrap_or_default();
            continue;
        }
        let d = s.docs().method(&ty, p)?;
        let ret = d
            .signatures
            .first()?
            .rsplit("-> ")
            .next()?
            .trim()
            .to_string();
        ty = ret.split('(').next().unwrap_or(&ret).to_string();
        value = None;
    }
    Some((ty, value))
}

pub fn complete(s: &Session, code: &str, cursor: usize) -> Completion {
    let chars: Vec<char> = code.chars().collect();
    let cursor = cursor.min(chars.len());
    let (start, receiver) = word_before(&chars, cursor);
    let prefix: String = chars[start..cursor].iter().collect();
    let mut matches: Vec<String> = Vec::new();
    if let Some(recv) = receiver {
        if let Some((ty, value)) = receiver_type(s, &recv) {
            matches.extend(s.docs().methods_of(&ty).map(|d| d.name.clone()));
            // Rhai's own methods of the type (`push` on an array, `to_upper` on a string).
            let norm = normalize_type(&ty);
            matches.extend(
                rhai_functions()
                    .iter()
                    .filter(|(_, first)| first.as_deref() == Some(norm.as_str()))
                    .map(|(n, _)| n.clone()),
            );
            if let Some(m) = value.as_ref().and_then(|v| {
                v.read_lock::<rhai::Map>()
                    .map(|m| m.keys().map(|k| k.to_string()).collect::<Vec<_>>())
            }) {
                matches.extend(m);
            }
        }
        if matches.is_empty() {
            // Unknown receiver: every documented method and property.
            matches.extend(
                s.docs()
                    .iter()
                    .filter(|d| d.receiver.is_some())
                    .map(|d| d.name.clone()),
            );
        }
        matches.retain(|m| is_ident(m.chars().next().unwrap_or(' ')));
    } else {
        matches.extend(
            s.docs()
                .functions()
                .filter(|d| is_ident(d.name.chars().next().unwrap_or(' ')))
                .map(|d| d.name.clone()),
        );
        matches.extend(s.script_functions().into_iter().map(|(n, _, _)| n));
        matches.extend(s.variable_names());
        matches.extend(KEYWORDS.iter().map(|k| k.to_string()));
        // Rhai's own functions (`print`, `type_of`, `parse_int`, ...), not its type-specific
        // helpers whose first parameter is an unusual integer width.
        matches.extend(
            rhai_functions()
                .iter()
                .filter(|(_, first)| {
                    !matches!(
                        first.as_deref(),
                        Some(
                            "u8" | "u16"
                                | "u32"
                                | "u64"
                                | "u128"
                                | "i8"
                                | "i16"
                                | "i32"
                                | "i128"
                                | "f32"
                        )
                    )
                })
                .map(|(n, _)| n.clone()),
        );
        matches.extend(super::stdlib::qualified_names());
    }
    matches.retain(|m| m.starts_with(&prefix));
    matches.sort();
    matches.dedup();
    Completion {
        matches,
        start,
        end: cursor,
    }
}

/// The name under the cursor (identifier around it) and its receiver, if any.
fn word_at(chars: &[char], cursor: usize) -> Option<(String, Option<String>)> {
    let cursor = cursor.min(chars.len());
    let mut end = cursor;
    while end < chars.len() && is_ident(chars[end]) {
        end += 1;
    }
    // A cursor right after `name(` inspects `name`.
    let mut c = end;
    if c == cursor && c > 0 && chars[c - 1] == '(' {
        c -= 1;
        end = c;
    }
    let (start, receiver) = word_before(chars, end);
    if start == end {
        // Inside an argument list: inspect the function being called.
        let mut depth = 0i32;
        let mut i = cursor.min(chars.len());
        while i > 0 {
            i -= 1;
            match chars[i] {
                ')' => depth += 1,
                '(' if depth == 0 => return word_at(chars, i),
                '(' => depth -= 1,
                _ => {}
            }
        }
        return None;
    }
    Some((chars[start..end].iter().collect(), receiver))
}

pub fn inspect(s: &Session, code: &str, cursor: usize) -> Option<String> {
    let chars: Vec<char> = code.chars().collect();
    let (name, receiver) = word_at(&chars, cursor)?;
    if let Some(recv) = receiver
        && let Some((ty, _)) = receiver_type(s, &recv)
        && let Some(d) = s.docs().method(&ty, &name)
    {
        return Some(d.render());
    }
    describe(s, &name)
}

/// Help for a name: a built-in, `Type.method`, a cell function or a variable.
pub fn describe(s: &Session, name: &str) -> Option<String> {
    if let Some((ty, m)) = name.split_once('.')
        && let Some(d) = s.docs().method(ty, m)
    {
        return Some(d.render());
    }
    if let Some(v) = s.variable(name) {
        let ty = type_name(s, &v);
        let shown = super::render::render(&v);
        let text = shown.plain().unwrap_or_default();
        let short: String = text.chars().take(600).collect();
        let mut out = format!("{name}: {ty}\n\n{short}");
        let methods: Vec<String> = s.docs().methods_of(&ty).map(|d| d.name.clone()).collect();
        if !methods.is_empty() {
            out.push_str(&format!(
                "\n\nmethods and properties: {}",
                methods.join(", ")
            ));
        }
        return Some(out);
    }
    if let Some(d) = s.docs().get(name) {
        return Some(d.render());
    }
    if let Some((n, params, doc)) = s.script_functions().into_iter().find(|(n, _, _)| n == name) {
        return Some(format!(
            "fn {n}({}) (defined in a cell)\n\n{doc}",
            params.join(", ")
        ));
    }
    super::stdlib::describe(name)
}
