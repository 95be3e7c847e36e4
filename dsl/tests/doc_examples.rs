//! Every ```rhai example in the built-in docs (`dsl/docs/*.md`) runs as pasted into a fresh
//! session: no prelude, so an example defines every name it uses (`let bars = klines(...)`).
//! `help()` examples are product: an LLM copies them.
//!
//! The session is offline with no key, so examples that need AVE (real token ids, search, chains)
//! must fail with the documented offline error and nothing else; files the examples read are
//! written first into a temp dir.

use dsl::data::config::Config;
use dsl::script::Session;
use dsl::script::doc_source;

fn examples(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in doc.lines() {
        let t = line.trim_start();
        match &mut cur {
            None if t.starts_with("```rhai") => cur = Some(String::new()),
            Some(_) if t.starts_with("```") => out.push(cur.take().unwrap_or_default()),
            Some(c) => {
                c.push_str(line);
                c.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_documented_example_runs() {
    let home = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut offline: Vec<String> = Vec::new();
    // Each page's intro and sections, as written (a section shared by several names runs once).
    let mut docs: Vec<(String, String)> = Vec::new();
    for page in doc_source::pages().iter().chain([doc_source::recipes()]) {
        docs.push((page.file.clone(), page.intro.clone()));
        for sec in &page.sections {
            let at = format!("{}:{} ({})", page.file, sec.line, sec.keys.join(", "));
            docs.push((at, sec.text.clone()));
        }
    }
    // Files the examples read or write, redirected into the temp dir.
    let file = |n: &str| format!("{:?}", home.path().join(n).display().to_string());
    let mut setup = Session::new(Config::for_home(home.path()));
    setup
        .execute(&format!(
            "let b = klines(\"demo:BTC\", \"1h\"); b.to_csv({}); b.to_csv({}); b.to_csv({}); b.to_parquet({});",
            file("binance_btc_1h.csv"),
            file("mine.csv"),
            file("eth.csv"),
            file("btc_1h.parquet")
        ))
        .expect("writing example files");
    for (name, doc) in docs {
        for ex in examples(&doc) {
            let mut ex = ex;
            for (from, to) in [
                ("\"data/binance_btc_1h.csv\"", "binance_btc_1h.csv"),
                ("\"mine.csv\"", "mine.csv"),
                ("\"eth.csv\"", "eth.csv"),
                ("\"btc_1h.parquet\"", "btc_1h.parquet"),
                ("\"trades.csv\"", "trades.csv"),
            ] {
                ex = ex.replace(from, &file(to));
            }
            let mut s = Session::new(Config::for_home(home.path()));
            ran += 1;
            match s.execute(&ex) {
                // A recipe's strategy `s` must also pass the strategy checks (a recipe that
                // never trades still "runs").
                Ok(_) if name.starts_with("recipes.md") && s.variable("s").is_some() => {
                    let w = s
                        .execute("lint(s)")
                        .map(|r| r.value.and_then(|v| v.plain().map(str::to_string)));
                    if !matches!(&w, Ok(Some(t)) if t == "[]") {
                        failures.push(format!("{name}: lint(s) warns: {w:?}\n"));
                    }
                }
                Ok(_) => {}
                Err(e) if e.evalue.contains("offline (STRATBOOK_OFFLINE=1)") => {
                    offline.push(name.clone())
                }
                Err(e) => failures.push(format!("{name}:\n{ex}{}\n", e.traceback.join("\n"))),
            }
        }
    }
    // The sections whose point is the network: AVE lookups, a live AVE simulation, a model call.
    // Any other example must run on the demo feed.
    let allowed = [
        ("data.md", "klines"),
        ("data.md", "pair_klines"),
        ("data.md", "search_tokens"),
        ("data.md", "token"),
        ("data.md", "chains"),
        ("simulation.md", "simulate"),
        ("agent.md", "llm_decide"),
        ("simulation.md", "Sim.decisions"),
    ];
    let stray: Vec<&String> = offline
        .iter()
        .filter(|n| {
            !allowed.iter().any(|(page, key)| {
                n.starts_with(&format!("{page}:")) && n.ends_with(&format!("({key})"))
            })
        })
        .collect();
    assert!(
        stray.is_empty(),
        "these examples need the network; keep examples on the demo feed: {stray:?}"
    );
    assert!(ran > 50, "only {ran} examples found");
    assert!(
        failures.is_empty(),
        "{} of {ran} examples fail:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
