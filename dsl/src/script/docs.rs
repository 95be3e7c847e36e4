//! The documentation of every built-in: signature, one-line summary, body and a Rhai example.
//! The same text backs `help()`, the kernel's completion and inspect, and the generated reference.
//! Signatures come from the registration; family and text from the Markdown pages
//! ([`super::doc_source`]).

use super::doc_source;
use std::collections::BTreeMap;

/// One documented name (all its overloads share one entry).
#[derive(Clone, Debug, Default)]
pub struct FnDoc {
    pub name: String,
    pub family: String,
    /// One line per overload, e.g. `sma(src: Series, period: int) -> Series`.
    pub signatures: Vec<String>,
    /// Markdown-ish text: a summary line, details, and a ```rhai example.
    pub doc: String,
    /// A method (`x.name(...)`) or property (`x.name`) of this type, if it is one.
    pub receiver: Option<String>,
}

impl FnDoc {
    /// The first paragraph (up to a blank line or the example), on one line.
    pub fn summary(&self) -> String {
        super::doc_source::first_paragraph(&self.doc)
    }

    /// The full text shown by `help("name")` and inspect.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for sig in &self.signatures {
            s.push_str(sig);
            s.push('\n');
        }
        s.push('\n');
        s.push_str(self.doc.trim());
        s.push('\n');
        s
    }
}

/// All documented names by family (Data, Series, Indicators, Strategy, Backtest, Display, ...).
#[derive(Clone, Debug, Default)]
pub struct Docs {
    entries: BTreeMap<String, FnDoc>,
    /// Keys registered without a Markdown section (a test keeps this empty).
    missing: Vec<String>,
}

/// The key of a name in the Markdown pages: `name`, or `Type.name` for a method or property.
pub fn key(name: &str, receiver: Option<&str>) -> String {
    match receiver {
        Some(r) => format!("{r}.{name}"),
        None => name.to_string(),
    }
}

impl Docs {
    /// Adds a signature to `name` (creating the entry on first use, with the family and text of
    /// its Markdown section).
    pub fn add(&mut self, name: &str, signature: &str, receiver: Option<&str>) {
        let key = key(name, receiver);
        let found = doc_source::lookup(&key);
        if found.is_none() && !self.missing.contains(&key) {
            self.missing.push(key.clone());
        }
        let (family, doc) = found.unwrap_or(("Undocumented", ""));
        self.insert(key, name, family, doc, receiver, signature);
    }

    /// Documents the topic `name` (`help("indicators")`) with the intro of `family`'s page.
    pub fn add_intro(&mut self, name: &str, family: &str) {
        let doc = doc_source::intro(family);
        if doc.is_none() && !self.missing.contains(&name.to_string()) {
            self.missing.push(name.to_string());
        }
        self.insert(name.into(), name, family, doc.unwrap_or(""), None, name);
    }

    fn insert(
        &mut self,
        key: String,
        name: &str,
        family: &str,
        doc: &str,
        receiver: Option<&str>,
        signature: &str,
    ) {
        let e = self.entries.entry(key).or_insert_with(|| FnDoc {
            name: name.into(),
            family: family.into(),
            signatures: Vec::new(),
            doc: doc.trim().to_string(),
            receiver: receiver.map(str::to_string),
        });
        if !e.signatures.iter().any(|s| s == signature) {
            e.signatures.push(signature.to_string());
        }
    }

    /// The text of a registered key (`sma`, `Series.shift`), for registering it with the engine.
    pub fn text(&self, key: &str) -> &str {
        self.entries.get(key).map_or("", |d| d.doc.as_str())
    }

    /// Keys registered without a Markdown section, in registration order.
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// Every documented key (`sma`, `Series.shift`).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// A free function (`name`) or, failing that, the first method/property of that name.
    pub fn get(&self, name: &str) -> Option<&FnDoc> {
        self.entries
            .get(name)
            .or_else(|| self.entries.values().find(|d| d.name == name))
    }

    /// A method or property of a type (`Series.shift`).
    pub fn method(&self, type_name: &str, name: &str) -> Option<&FnDoc> {
        self.entries.get(&format!("{type_name}.{name}"))
    }

    pub fn iter(&self) -> impl Iterator<Item = &FnDoc> {
        self.entries.values()
    }

    /// Free functions (not methods), sorted by name.
    pub fn functions(&self) -> impl Iterator<Item = &FnDoc> {
        self.entries.values().filter(|d| d.receiver.is_none())
    }

    /// Methods and properties of a type.
    pub fn methods_of<'a>(&'a self, type_name: &'a str) -> impl Iterator<Item = &'a FnDoc> + 'a {
        self.entries
            .values()
            .filter(move |d| d.receiver.as_deref() == Some(type_name))
    }

    pub fn families(&self) -> Vec<String> {
        let mut f: Vec<String> = Vec::new();
        for d in self.entries.values() {
            if !f.contains(&d.family) {
                f.push(d.family.clone());
            }
        }
        f
    }

    /// Names within edit distance 2 (or sharing a prefix) of `name`, closest first.
    pub fn closest(&self, name: &str, limit: usize) -> Vec<String> {
        let mut scored: Vec<(usize, String)> = self
            .functions()
            .map(|d| {
                (
                    edit_distance(&d.name.to_lowercase(), &name.to_lowercase()),
                    d.name.clone(),
                )
            })
            .filter(|(dist, n)| *dist <= 2 || (name.len() >= 3 && n.starts_with(&name[..3])))
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(limit).map(|(_, n)| n).collect()
    }
}

/// Levenshtein distance (small inputs: names).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
