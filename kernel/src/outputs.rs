//! One place that turns a cell's outputs into Jupyter message content, and message content into
//! notebook outputs (as `nbformat.v4.output_from_msg` does). The kernel publishes the former on
//! iopub; `stratbook run` stores the latter, so a notebook looks the same however it was run.

use dsl::display::{MimeBundle, Output};
use dsl::script::errors::CellError;
use serde_json::{Map, Value, json};

/// An iopub message to publish: its `msg_type` and content.
#[derive(Clone, Debug, PartialEq)]
pub struct IopubContent {
    pub msg_type: &'static str,
    pub content: Value,
}

impl IopubContent {
    fn new(msg_type: &'static str, content: Value) -> Self {
        IopubContent { msg_type, content }
    }
}

pub fn stream(stderr: bool, text: &str) -> IopubContent {
    let name = if stderr { "stderr" } else { "stdout" };
    IopubContent::new("stream", json!({"name": name, "text": text}))
}

fn transient(display_id: Option<&str>) -> Value {
    match display_id {
        Some(id) => json!({"display_id": id}),
        None => json!({}),
    }
}

/// A `display(..)` output, or a replacement for an earlier one with the same display id.
pub fn display(bundle: &MimeBundle, display_id: Option<&str>, update: bool) -> IopubContent {
    let msg_type = if update {
        "update_display_data"
    } else {
        "display_data"
    };
    IopubContent::new(
        msg_type,
        json!({
            "data": Value::Object(bundle.data.clone()),
            "metadata": Value::Object(bundle.metadata.clone()),
            "transient": transient(display_id),
        }),
    )
}

/// The cell's value. `transient` is `{}` rather than null: validating clients reject null.
pub fn execute_result(count: usize, bundle: &MimeBundle) -> IopubContent {
    IopubContent::new(
        "execute_result",
        json!({
            "execution_count": count,
            "data": Value::Object(bundle.data.clone()),
            "metadata": Value::Object(bundle.metadata.clone()),
            "transient": {},
        }),
    )
}

pub fn error(e: &CellError) -> IopubContent {
    IopubContent::new("error", error_fields(e))
}

/// `{ename, evalue, traceback}`, shared by the iopub error and the error reply.
pub fn error_fields(e: &CellError) -> Value {
    json!({"ename": e.ename, "evalue": e.evalue, "traceback": e.traceback})
}

pub fn clear_output(wait: bool) -> IopubContent {
    IopubContent::new("clear_output", json!({"wait": wait}))
}

/// The iopub content for something a running cell produced.
pub fn from_output(out: &Output) -> IopubContent {
    match out {
        Output::Stream { stderr, text } => stream(*stderr, text),
        Output::Display { bundle, display_id } => display(bundle, display_id.as_deref(), false),
        Output::UpdateDisplay { bundle, display_id } => display(bundle, Some(display_id), true),
        Output::Clear { wait } => clear_output(*wait),
    }
}

/// A user_expressions entry: the value's bundle, or the error for that key only.
pub fn expression_result(r: &Result<MimeBundle, CellError>) -> Value {
    match r {
        Ok(b) => json!({
            "status": "ok",
            "data": Value::Object(b.data.clone()),
            "metadata": Value::Object(b.metadata.clone()),
        }),
        Err(e) => {
            let mut v = error_fields(e);
            v["status"] = json!("error");
            v
        }
    }
}

/// The notebook output a message becomes (nbformat's `output_from_msg`), or `None` for messages
/// that are not outputs (`clear_output`, `update_display_data`, status ...).
pub fn to_notebook_output(msg: &IopubContent) -> Option<Value> {
    let c = &msg.content;
    let mut out = Map::new();
    out.insert("output_type".into(), json!(msg.msg_type));
    match msg.msg_type {
        "execute_result" => {
            out.insert("execution_count".into(), c["execution_count"].clone());
            out.insert("data".into(), c["data"].clone());
            out.insert("metadata".into(), c["metadata"].clone());
        }
        "display_data" => {
            out.insert("data".into(), c["data"].clone());
            out.insert("metadata".into(), c["metadata"].clone());
        }
        "stream" => {
            out.insert("name".into(), c["name"].clone());
            out.insert("text".into(), c["text"].clone());
        }
        "error" => {
            for k in ["ename", "evalue", "traceback"] {
                out.insert(k.into(), c[k].clone());
            }
        }
        _ => return None,
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell_error() -> CellError {
        CellError {
            ename: "NameError".into(),
            evalue: "undefined variable 'x'".into(),
            traceback: vec![
                "NameError: undefined variable 'x'".into(),
                "--> cell[1]:1:1".into(),
            ],
            line: Some(1),
            column: Some(1),
        }
    }

    #[test]
    fn execute_result_has_an_object_transient_and_metadata() {
        let m = execute_result(3, &MimeBundle::text("2"));
        assert_eq!(m.content["transient"], json!({}));
        assert_eq!(m.content["metadata"], json!({}));
        assert_eq!(m.content["execution_count"], 3);
    }

    #[test]
    fn update_display_carries_the_display_id() {
        let m = from_output(&Output::UpdateDisplay {
            bundle: MimeBundle::text("50%"),
            display_id: "p1".into(),
        });
        assert_eq!(m.msg_type, "update_display_data");
        assert_eq!(m.content["transient"]["display_id"], "p1");
        assert_eq!(to_notebook_output(&m), None);
    }

    #[test]
    fn notebook_outputs_match_nbformat_shapes() {
        let s = to_notebook_output(&stream(true, "warn\n")).unwrap();
        assert_eq!(
            s,
            json!({"output_type": "stream", "name": "stderr", "text": "warn\n"})
        );
        let d = to_notebook_output(&display(&MimeBundle::text("x"), Some("d"), false)).unwrap();
        assert_eq!(d.get("transient"), None);
        assert_eq!(d["output_type"], "display_data");
        let e = to_notebook_output(&error(&cell_error())).unwrap();
        assert_eq!(e["ename"], "NameError");
        assert_eq!(e["traceback"][1], "--> cell[1]:1:1");
    }

    #[test]
    fn failed_user_expression_reports_its_own_error() {
        let v = expression_result(&Err(cell_error()));
        assert_eq!(v["status"], "error");
        assert_eq!(v["ename"], "NameError");
    }
}
