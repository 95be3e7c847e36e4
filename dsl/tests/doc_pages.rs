//! The Markdown pages (`dsl/docs/*.md`) and the registered built-ins agree: every registered name
//! has a section, every section names a registered built-in, and every section reads as help
//! should (a summary line, details, a ```rhai example).

use dsl::data::config::Config;
use dsl::script::docs::{Docs, edit_distance};
use dsl::script::{Session, doc_source};
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
