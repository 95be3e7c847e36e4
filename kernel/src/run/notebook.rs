//! Reading and writing `.ipynb` files (nbformat 4) the way nbformat does: sources and text
//! outputs split into lines, keys sorted, one-space indent.

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use std::path::Path;

pub fn read(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let nb: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON; is it a notebook?", path.display()))?;
    if nb.get("nbformat").and_then(Value::as_u64) != Some(4) {
        bail!(
            "{} is not an nbformat 4 notebook; upgrade it with `jupyter nbconvert --to notebook`",
            path.display()
        );
    }
    if !nb.get("cells").is_some_and(Value::is_array) {
        bail!("{} has no cells list", path.display());
    }
    Ok(nb)
}

/// A multiline string field (string or list of lines) as one string.
pub fn joined(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Splits like Python's `str.splitlines(True)` for `\n` line ends.
fn lines(s: &str) -> Value {
    Value::Array(s.split_inclusive('\n').map(|l| json!(l)).collect())
}

fn is_json_mime(mime: &str) -> bool {
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// nbformat's `split_lines`: sources, stream text and non-JSON output data become line lists.
pub fn split_lines(nb: &mut Value) {
    let Some(cells) = nb.get_mut("cells").and_then(Value::as_array_mut) else {
        return;
    };
    for cell in cells {
        if let Some(Value::String(s)) = cell.get("source") {
            let l = lines(s);
            cell["source"] = l;
        }
        let Some(outs) = cell.get_mut("outputs").and_then(Value::as_array_mut) else {
            continue;
        };
        for out in outs {
            if let Some(Value::String(t)) = out.get("text") {
                let l = lines(t);
                out["text"] = l;
            }
            if let Some(data) = out.get_mut("data").and_then(Value::as_object_mut) {
                for (mime, v) in data.iter_mut() {
                    if let Value::String(s) = v
                        && !is_json_mime(mime)
                    {
                        *v = lines(s);
                    }
                }
            }
        }
    }
}

/// Serializes as nbformat does (`indent=1`, sorted keys, trailing newline).
pub fn to_string(nb: &Value) -> anyhow::Result<String> {
    let mut nb = nb.clone();
    split_lines(&mut nb);
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(&nb, &mut ser)?;
    let mut s = String::from_utf8(buf)?;
    s.push('\n');
    Ok(s)
}

pub fn tags(cell: &Value) -> Vec<&str> {
    cell.pointer("/metadata/tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A new code cell (with an id when the notebook's minor version requires one).
pub fn code_cell(source: &str, tag: &str, with_id: bool) -> Value {
    let mut c = Map::new();
    c.insert("cell_type".into(), json!("code"));
    c.insert("execution_count".into(), Value::Null);
    c.insert("metadata".into(), json!({"tags": [tag]}));
    c.insert("outputs".into(), json!([]));
    c.insert("source".into(), json!(source));
    if with_id {
        let id = uuid::Uuid::new_v4().simple().to_string();
        c.insert("id".into(), json!(id[..8]));
    }
    Value::Object(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_lines_keeps_line_ends_and_json_data() {
        let mut nb = json!({"cells": [{"cell_type": "code", "source": "a\nb", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "x\ny\n"},
            {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "p\nq", "application/json": {"a": 1}}}
        ]}]});
        split_lines(&mut nb);
        assert_eq!(nb["cells"][0]["source"], json!(["a\n", "b"]));
        assert_eq!(nb["cells"][0]["outputs"][0]["text"], json!(["x\n", "y\n"]));
        assert_eq!(
            nb["cells"][0]["outputs"][1]["data"]["text/plain"],
            json!(["p\n", "q"])
        );
        assert_eq!(
            nb["cells"][0]["outputs"][1]["data"]["application/json"],
            json!({"a": 1})
        );
    }

    #[test]
    fn written_notebooks_use_one_space_indent_and_end_with_newline() {
        let s = to_string(&json!({"b": 1, "a": [1]})).unwrap();
        assert_eq!(s, "{\n \"a\": [\n  1\n ],\n \"b\": 1\n}\n");
    }

    #[test]
    fn joined_accepts_strings_and_line_lists() {
        assert_eq!(joined(&json!(["a\n", "b"])), "a\nb");
        assert_eq!(joined(&json!("c")), "c");
    }
}
