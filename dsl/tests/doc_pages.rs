//! The Markdown pages (`dsl/docs/*.md`) and the registered built-ins agree: every registered name
//! has a section, every section names a registered built-in, and every section reads as help
//! should (a summary line, details, a ```rhai example). Also the standard library's help.

use dsl::data::config::Config;
use dsl::script::docs::{Docs, edit_distance};
use dsl::script::{Session, doc_source, help};
use std::collections::HashSet;

fn session() -> (Session, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Session::new(Config::for_home(dir.path())), dir)
}

fn closest<'a>(key: &str, keys: impl Iterator<Item = &'a str>) -> String {
    keys.min_by_key(|k| edit_distance(k, key))
        .unwrap_or("")
        .to_string()
}

#[test]
fn every_registered_name_has_a_markdown_section() {
    let (s, _d) = session();
    let missing = s.docs().missing();
    assert!(
        missing.is_empty(),
        "registered without a '## key' section in dsl/docs/*.md: {}",
        missing.join(", ")
    );
    assert!(s.docs().iter().all(|d| !d.doc.is_empty()));
}

#[test]
fn every_markdown_section_names_a_registered_built_in() {
    let (s, _d) = session();
    let docs: &Docs = s.docs();
    let registered: HashSet<&str> = docs.keys().collect();
    let mut orphans = Vec::new();
    for page in doc_source::pages() {
        for sec in &page.sections {
            for key in &sec.keys {
                if !registered.contains(key.as_str()) {
                    orphans.push(format!(
                        "{}:{}: '{key}' (closest registered: '{}')",
                        page.file,
                        sec.line,
                        closest(key, registered.iter().copied())
                    ));
                }
            }
        }
        // An intro is the text of a topic such as help("indicators").
        if !page.intro.is_empty() && !docs.iter().any(|d| d.doc == page.intro) {
            orphans.push(format!("{}: the intro is no topic's help", page.file));
        }
    }
    assert!(
        orphans.is_empty(),
        "sections naming no registered built-in:\n{}",
        orphans.join("\n")
    );
}

#[test]
fn a_names_family_is_its_page() {
    let (s, _d) = session();
    for page in doc_source::pages() {
        for sec in &page.sections {
            for key in &sec.keys {
                let d = match key.split_once('.') {
                    Some((ty, m)) => s.docs().method(ty, m),
                    None => s.docs().get(key),
                };
                assert_eq!(
                    d.map(|d| d.family.as_str()),
                    Some(page.family.as_str()),
                    "{key}"
                );
            }
        }
    }
    let families: HashSet<&str> = doc_source::pages()
        .iter()
        .map(|p| p.family.as_str())
        .collect();
    assert_eq!(
        families.len(),
        doc_source::pages().len(),
        "one page per family"
    );
}

#[test]
fn every_section_has_a_summary_line_and_a_rhai_example() {
    let mut bad = Vec::new();
    for page in doc_source::pages() {
        for sec in &page.sections {
            let at = format!("{}:{} ({})", page.file, sec.line, sec.keys.join(", "));
            let summary = sec.summary();
            if summary.trim().is_empty() || summary.starts_with("```") {
                bad.push(format!("{at}: no summary line"));
            }
            if !sec.text.contains("```rhai\n") {
                bad.push(format!("{at}: no ```rhai example"));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_standard_library_is_listed_once_each_without_comment_markers() {
    let (s, _d) = session();
    let overview = help::overview(s.docs());
    let line = overview
        .lines()
        .find(|l| l.starts_with("Standard library: "))
        .expect("a standard library line");
    let names: Vec<&str> = line["Standard library: ".len()..].split(", ").collect();
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), unique.len(), "{line}");
    assert!(names.starts_with(&["std::strategies::sma_cross", "std::strategies::ema_cross"]));
    assert!(names.contains(&"std::risk::half_kelly_pct"), "{line}");
    for n in &names {
        let t = help::topic(s.docs(), n);
        assert!(!t.contains("///") && !t.contains("//!"), "{t}");
        assert!(t.starts_with(n), "{t}");
    }
    let t = help::topic(s.docs(), "sma_cross");
    assert!(
        t.starts_with(
            "std::strategies::sma_cross(bars, fast, slow)\nstd::strategies::sma_cross(bars, fast, slow, opts)\n\nLong when"
        ) && t.contains("\n```rhai\nlet bars = klines(\"demo:BTC\", \"1h\");\n"),
        "{t}"
    );
}

#[test]
fn a_standard_library_module_name_lists_its_functions() {
    let (s, _d) = session();
    for name in ["std::strategies", "strategies"] {
        let t = help::topic(s.docs(), name);
        assert!(t.starts_with("std::strategies — strategy templates"), "{t}");
        // One line per function: its signature and its summary (the first paragraph, whole).
        let line = t
            .lines()
            .find(|l| l.starts_with("  std::strategies::rsi_reversion(bars, period, low, high)  "))
            .unwrap_or_else(|| panic!("{t}"));
        assert!(line.ends_with(" Mean reversion: buy when RSI crosses up through `low` (leaving oversold), sell when it crosses up through `high` (overbought)."), "{line}");
        assert!(!t.contains("std::risk"), "{t}");
    }
    let t = help::topic(s.docs(), "std::risk");
    assert!(
        t.contains("std::risk::qty_for_risk(") && !t.contains("sma_cross"),
        "{t}"
    );
    let all = help::topic(s.docs(), "std");
    assert!(all.contains("std::strategies::names()") && all.contains("std::risk::half_kelly_pct("));
}

/// The repo's `llms.txt` is `stratbook docs` as of the last regeneration: a change to a page, a
/// registration or the standard library without regenerating it fails here.
#[test]
fn llms_txt_is_the_current_reference() {
    let (s, _d) = session();
    let now = dsl::script::reference::markdown(s.docs(), false);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../llms.txt");
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored.trim_end() == now.trim_end(),
        "llms.txt is stale; regenerate it with\n    cargo run -p stratbook -- docs > llms.txt"
    );
}

#[test]
fn the_reference_holds_every_built_in_the_standard_library_and_the_recipes() {
    let (s, _d) = session();
    let md = dsl::script::reference::markdown(s.docs(), false);
    for key in s.docs().keys() {
        let d = s.docs().get(key).unwrap();
        if doc_source::lookup(key).is_some() {
            assert!(
                md.contains(&d.signatures[0]),
                "{key} missing from the reference"
            );
        }
    }
    for name in [
        "std::strategies::sma_cross",
        "std::risk::qty_for_risk",
        "### percent_drop",
        "### sweep",
    ] {
        assert!(md.contains(name), "{name} missing");
    }
    let compact = dsl::script::reference::markdown(s.docs(), true);
    assert!(compact.len() < md.len() && compact.contains("### Series.shift"));
    let json = dsl::script::reference::json(s.docs());
    let families = json["families"].as_array().unwrap();
    assert_eq!(families.len(), doc_source::pages().len());
    let sma = families
        .iter()
        .flat_map(|f| f["entries"].as_array().unwrap())
        .find(|e| e["name"] == "sma" && e["receiver"].is_null())
        .unwrap();
    assert!(sma["example"].as_str().unwrap().contains("sma(close, 10)"));
    assert!(sma["signatures"][0].as_str().unwrap().starts_with("sma("));
    assert!(json["recipes"].as_array().unwrap().len() >= 5);
}

#[test]
fn help_names_the_recipes_and_shows_one() {
    let (s, _d) = session();
    assert!(help::overview(s.docs()).contains("percent_drop"));
    assert!(help::topic(s.docs(), "percent_drop").contains("roc(bars.close, 4)"));
    assert!(help::topic(s.docs(), "recipes").contains("## sweep"));
    let t = help::topic(s.docs(), "exit_reason");
    for v in [
        "stop_loss",
        "take_profit",
        "trailing_stop",
        "reverse",
        "halt",
        "open",
    ] {
        assert!(t.contains(&format!("\"{v}\"")), "{v}: {t}");
    }
    let t = help::topic(s.docs(), "demo_tokens");
    for id in [
        "demo:BTC",
        "demo:ETH",
        "demo:SOL",
        "demo:DOGE",
        "demo:PEPE",
        "demo:WIF",
    ] {
        assert!(t.contains(id), "{id}");
    }
}
