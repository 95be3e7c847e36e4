//! `help()`, `help("name")` and `help("Type")`: the built-in reference, by family, from the same
//! docs that back completion and inspect.

use super::docs::Docs;
use crate::script::runtime::Runtime;
use rhai::Engine;
use std::sync::Arc;

/// The text of `help()`: every family with its names and one-line summaries.
pub fn overview(docs: &Docs) -> String {
    let mut out = String::from(
        "Stratbook built-ins by family. help(\"name\") shows one with an example; help(\"Series\") lists a type's methods.\n",
    );
    let is_op = |n: &str| !n.starts_with(|c: char| c.is_alphanumeric() || c == '_');
    for fam in docs.families() {
        out.push_str(&format!("\n{fam}\n"));
        for d in docs
            .iter()
            .filter(|d| d.family == fam && d.receiver.is_none())
        {
            out.push_str(&format!("  {:<18} {}\n", d.name, d.summary()));
        }
        // Methods and properties: one line per type, names only (help("Type") has the details).
        let mut types: Vec<&str> = docs
            .iter()
            .filter(|d| d.family == fam)
            .filter_map(|d| d.receiver.as_deref())
            .collect();
        types.sort();
        types.dedup();
        for ty in types {
            let members: Vec<&str> = docs
                .iter()
                .filter(|d| d.family == fam && d.receiver.as_deref() == Some(ty))
                .map(|d| d.name.as_str())
                .collect();
            let named: Vec<&str> = members.iter().copied().filter(|n| !is_op(n)).collect();
            let ops: Vec<&str> = members
                .iter()
                .copied()
                .filter(|n| is_op(n) && *n != "[]")
                .collect();
            if !named.is_empty() {
                out.push_str(&format!(
                    "  {ty} methods and properties: .{}\n",
                    named.join(" .")
                ));
            }
            if !ops.is_empty() {
                out.push_str(&format!(
                    "  {ty} operators: {} | ! and s[i] (negative from the end)\n",
                    ops.join(" ")
                ));
            }
        }
    }
    out.push_str(&format!(
        "\nStandard library: {}\n",
        super::stdlib::qualified_names().join(", ")
    ));
    out.push_str(&format!(
        "\nRecipes (help(\"recipes\") or help(\"name\")): {}\n",
        super::doc_source::recipes()
            .sections
            .iter()
            .flat_map(|s| s.keys.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out
}

/// The text of `help("name")`.
pub fn topic(docs: &Docs, name: &str) -> String {
    if let Some((ty, m)) = name.split_once('.')
        && let Some(d) = docs.method(ty, m)
    {
        return d.render();
    }
    let methods: Vec<_> = docs.methods_of(name).collect();
    if !methods.is_empty() {
        let mut out = format!("{name}: methods and properties\n\n");
        for d in methods {
            out.push_str(&format!(
                "  {:<38} {}\n",
                d.signatures.first().cloned().unwrap_or_default(),
                d.summary()
            ));
        }
        return out;
    }
    if let Some(d) = docs.get(name) {
        return d.render();
    }
    if let Some(s) = super::stdlib::describe(name) {
        return s;
    }
    let recipes = super::doc_source::recipes();
    if name == "recipes" || name == "Recipes" {
        let mut out = format!("{}\n", recipes.intro);
        for sec in &recipes.sections {
            out.push_str(&format!("\n## {}\n\n{}\n", sec.keys.join(", "), sec.text));
        }
        return out;
    }
    if let Some(sec) = recipes
        .sections
        .iter()
        .find(|s| s.keys.iter().any(|k| k == name))
    {
        return format!("{}\n", sec.text);
    }
    // Columns people ask about by name: the section that lists their values.
    if name == "exit_reason"
        && let Some(d) = docs.method("BacktestResult", "trades")
    {
        return d.render();
    }
    let close = docs.closest(name, 5);
    if close.is_empty() {
        format!("no built-in named '{name}'; help() lists them all")
    } else {
        format!(
            "no built-in named '{name}'; did you mean {}?",
            close.join(", ")
        )
    }
}

pub fn document(docs: &mut Docs) {
    docs.add("help", "help() / help(name: string)", None);
    // Registered with the engine's hooks (session.rs), where the interrupt flag is at hand.
    docs.add("sleep", "sleep(seconds: int | float)", None);
}

pub fn register(engine: &mut Engine, rt: &Arc<Runtime>, docs: Arc<Docs>) {
    let (r, d) = (rt.clone(), docs.clone());
    engine.register_fn("help", move || r.emitter.stdout(overview(&d)));
    let (r, d) = (rt.clone(), docs);
    engine.register_fn("help", move |name: &str| {
        let mut t = topic(&d, name);
        if !t.ends_with('\n') {
            t.push('\n');
        }
        r.emitter.stdout(t)
    });
}
