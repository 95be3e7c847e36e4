//! `-p NAME=VALUE` parameters and the `injected-parameters` cell, following papermill: values are
//! typed like papermill's CLI (int, float, bool, else string) and rendered as Rhai literals.

use anyhow::bail;

/// A parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl Param {
    /// Types a command-line value: `12` → int, `0.5` → float, `true`/`True` → bool, else string.
    pub fn infer(raw: &str) -> Param {
        if let Ok(i) = raw.parse::<i64>() {
            return Param::Int(i);
        }
        match raw {
            "true" | "True" => return Param::Bool(true),
            "false" | "False" => return Param::Bool(false),
            _ => {}
        }
        match raw.parse::<f64>() {
            Ok(f) if f.is_finite() && raw.chars().any(|c| c.is_ascii_digit()) => Param::Float(f),
            _ => Param::Str(raw.to_string()),
        }
    }

    /// The value as a Rhai literal.
    pub fn to_rhai(&self) -> String {
        match self {
            Param::Int(i) => i.to_string(),
            Param::Float(f) => {
                // Rhai wants a digit after the point: 1e300 → 1.0e300, 5 → 5.0.
                let s = format!("{f:?}");
                match s.split_once('e') {
                    Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
                    Some(_) => s,
                    None if s.contains('.') => s,
                    None => format!("{s}.0"),
                }
            }
            Param::Bool(b) => b.to_string(),
            Param::Str(s) => rhai_string(s),
        }
    }
}

/// A double-quoted Rhai string literal.
pub fn rhai_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_identifier(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses `NAME=VALUE`.
pub fn parse_assignment(arg: &str) -> anyhow::Result<(String, Param)> {
    let Some((name, value)) = arg.split_once('=') else {
        bail!("parameter '{arg}' has no '='; write -p NAME=VALUE");
    };
    let name = name.trim();
    if !is_identifier(name) {
        bail!("invalid parameter name '{name}'; use letters, digits and _ (not first)");
    }
    if !dsl::script::is_variable_name(name) {
        bail!("invalid parameter name '{name}': it is a Rhai keyword; rename the variable");
    }
    Ok((name.to_string(), Param::infer(value)))
}

/// The injected cell's source, as papermill's translator writes it.
pub fn injected_source(params: &[(String, Param)]) -> String {
    let mut s = String::from("// Parameters\n");
    for (name, v) in params {
        s.push_str(&format!("let {name} = {};\n", v.to_rhai()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_like_papermill() {
        assert_eq!(Param::infer("12"), Param::Int(12));
        assert_eq!(Param::infer("0.5"), Param::Float(0.5));
        assert_eq!(Param::infer("True"), Param::Bool(true));
        assert_eq!(Param::infer("x"), Param::Str("x".into()));
        assert_eq!(Param::infer("inf"), Param::Str("inf".into()));
    }

    #[test]
    fn literals_are_valid_rhai() {
        assert_eq!(Param::Float(100000.0).to_rhai(), "100000.0");
        assert_eq!(Param::Float(1e300).to_rhai(), "1.0e300");
        assert_eq!(Param::Str("a\"b\\c\nd".into()).to_rhai(), r#""a\"b\\c\nd""#);
    }

    #[test]
    fn bad_names_and_missing_equals_are_errors_naming_the_fix() {
        assert!(
            parse_assignment("1x=2")
                .unwrap_err()
                .to_string()
                .contains("invalid parameter name")
        );
        assert!(
            parse_assignment("fast")
                .unwrap_err()
                .to_string()
                .contains("NAME=VALUE")
        );
        assert_eq!(
            parse_assignment("name=a=b").unwrap(),
            ("name".into(), Param::Str("a=b".into()))
        );
    }

    #[test]
    fn rhai_keywords_are_refused_as_names() {
        for bad in ["fn=1", "let=2", "true=6", "this=1", "if=1"] {
            let e = parse_assignment(bad).unwrap_err().to_string();
            assert!(e.contains("Rhai keyword"), "{bad}: {e}");
        }
        assert!(parse_assignment("fn_len=3").is_ok());
    }

    #[test]
    fn injected_source_is_a_comment_then_lets() {
        let p = vec![
            ("fast".into(), Param::Int(12)),
            ("name".into(), Param::Str("x".into())),
        ];
        assert_eq!(
            injected_source(&p),
            "// Parameters\nlet fast = 12;\nlet name = \"x\";\n"
        );
    }
}
