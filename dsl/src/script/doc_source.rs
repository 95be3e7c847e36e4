//! The text of every built-in's help, written in Markdown: `dsl/docs/<family>.md`, embedded in
//! the binary and parsed once. [`super::docs::Docs`] (so `help()`, completion and inspect) looks
//! each registered name up here; a docs export can read the same pages.
//!
//! A page is one help family:
//!
//! ````markdown
//! # Indicators
//!
//! An optional intro (shown by a topic such as `help("indicators")`).
//!
//! ## sma, Series.sma
//!
//! Simple moving average ... (the summary line)
//!
//! Details.
//!
//! ```rhai
//! let fast = sma(close, 10);
//! ```
//! ````
//!
//! A `## ` heading names the keys its section documents, separated by `, `: `name` for a free
//! function, `Type.name` for a method or property (`Series.shift`, `Series.+`). Headings inside
//! code fences are text.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Every page: (file name, Markdown).
pub const FILES: &[(&str, &str)] = &[
    ("general.md", include_str!("../../docs/general.md")),
    ("data.md", include_str!("../../docs/data.md")),
    ("series.md", include_str!("../../docs/series.md")),
    ("indicators.md", include_str!("../../docs/indicators.md")),
    ("patterns.md", include_str!("../../docs/patterns.md")),
    ("strategy.md", include_str!("../../docs/strategy.md")),
    ("backtest.md", include_str!("../../docs/backtest.md")),
    ("simulation.md", include_str!("../../docs/simulation.md")),
    ("agent.md", include_str!("../../docs/agent.md")),
    ("frame.md", include_str!("../../docs/frame.md")),
    ("display.md", include_str!("../../docs/display.md")),
    ("rust.md", include_str!("../../docs/rust.md")),
    ("plots.md", include_str!("../../docs/plots.md")),
];

/// Worked recipes (multi-timeframe, percent drops, ATR sizing, portfolios, sweeps): a page like
/// the others, whose sections name recipes rather than built-ins (`help("recipes")`).
pub const RECIPES: (&str, &str) = ("recipes.md", include_str!("../../docs/recipes.md"));

static RECIPES_PAGE: LazyLock<Page> =
    LazyLock::new(|| parse(RECIPES.0, RECIPES.1).unwrap_or_else(|e| panic!("dsl/docs/{e}")));

/// The recipes page.
pub fn recipes() -> &'static Page {
    &RECIPES_PAGE
}

/// One family's page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub file: String,
    /// The `# ` title: the family `help()` lists these names under.
    pub family: String,
    /// Text between the title and the first section (may be empty).
    pub intro: String,
    pub sections: Vec<Section>,
}

/// One `## ` section: the keys it documents and their text.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub keys: Vec<String>,
    /// Summary line, details and a ```rhai example, trimmed.
    pub text: String,
    /// 1-based line of the heading in its file.
    pub line: usize,
}

impl Section {
    /// The first paragraph (up to a blank line or the example), on one line.
    pub fn summary(&self) -> String {
        first_paragraph(&self.text)
    }
}

/// The first sentence of `text`'s first paragraph (lines up to a blank line or a code fence,
/// joined), never cut mid-sentence at a line break.
pub fn first_paragraph(text: &str) -> String {
    let para = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty() && !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join(" ");
    let b = para.as_bytes();
    for (i, w) in b.windows(3).enumerate() {
        if w[0] == b'.' && w[1] == b' ' && (w[2].is_ascii_uppercase() || w[2] == b'`') {
            return para[..=i].to_string();
        }
    }
    para
}

struct Source {
    pages: Vec<Page>,
    /// Key → (page, section).
    index: HashMap<String, (usize, usize)>,
}

static SOURCE: LazyLock<Source> = LazyLock::new(|| {
    let pages: Vec<Page> = FILES
        .iter()
        .map(|(file, text)| parse(file, text).unwrap_or_else(|e| panic!("dsl/docs/{e}")))
        .collect();
    let mut index = HashMap::new();
    for (p, page) in pages.iter().enumerate() {
        for (s, sec) in page.sections.iter().enumerate() {
            for key in &sec.keys {
                if let Some((q, _)) = index.insert(key.clone(), (p, s)) {
                    panic!(
                        "dsl/docs/{}:{}: '{key}' is documented twice (also in {})",
                        page.file, sec.line, pages[q].file
                    );
                }
            }
        }
    }
    Source { pages, index }
});

/// Every page, in [`FILES`] order.
pub fn pages() -> &'static [Page] {
    &SOURCE.pages
}

/// The family and text documenting `key` (`sma`, `Series.shift`).
pub fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    let &(p, s) = SOURCE.index.get(key)?;
    let page = &SOURCE.pages[p];
    Some((&page.family, &page.sections[s].text))
}

/// The intro of a family's page, if it has one.
pub fn intro(family: &str) -> Option<&'static str> {
    SOURCE
        .pages
        .iter()
        .find(|p| p.family == family && !p.intro.is_empty())
        .map(|p| p.intro.as_str())
}

/// Parses one page. Errors name the file and line.
pub fn parse(file: &str, text: &str) -> Result<Page, String> {
    let mut family: Option<String> = None;
    let mut intro = String::new();
    let mut sections: Vec<Section> = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        let at = |msg: String| format!("{file}:{}: {msg}", i + 1);
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if !fenced {
            if let Some(title) = line.strip_prefix("# ") {
                if family.is_some() {
                    return Err(at("a page has one '# Family' title".into()));
                }
                family = Some(title.trim().to_string());
                continue;
            }
            if let Some(heading) = line.strip_prefix("## ") {
                if family.is_none() {
                    return Err(at("a section before the '# Family' title".into()));
                }
                let keys: Vec<String> = heading.split(", ").map(|k| k.trim().to_string()).collect();
                if keys
                    .iter()
                    .any(|k| k.is_empty() || k.contains(|c: char| c.is_whitespace() || c == ','))
                {
                    return Err(at(format!(
                        "'## {heading}' should name keys separated by ', ' (name or Type.name)"
                    )));
                }
                sections.push(Section {
                    keys,
                    text: String::new(),
                    line: i + 1,
                });
                continue;
            }
        }
        let body = match sections.last_mut() {
            Some(s) => &mut s.text,
            None if family.is_some() => &mut intro,
            None if line.trim().is_empty() => continue,
            None => return Err(at("text before the '# Family' title".into())),
        };
        body.push_str(line);
        body.push('\n');
    }
    if fenced {
        return Err(format!("{file}: a ``` code fence is not closed"));
    }
    let family = family.ok_or_else(|| format!("{file}: no '# Family' title"))?;
    for s in &mut sections {
        s.text = s.text.trim().to_string();
    }
    Ok(Page {
        file: file.to_string(),
        family,
        intro: intro.trim().to_string(),
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_the_first_sentence_across_line_breaks() {
        let text = "Sweeps a grid and returns a frame (one row per combination: the\nparameters, then the stats). More.\n\n```rhai\nx\n```";
        assert_eq!(
            first_paragraph(text),
            "Sweeps a grid and returns a frame (one row per combination: the parameters, then the stats)."
        );
        assert_eq!(first_paragraph("Arithmetic.\n\nMore"), "Arithmetic.");
    }

    #[test]
    fn a_page_has_a_title_an_intro_and_sections_with_several_keys() {
        let md = "# Series\n\nAbout series.\n\n## Series.+, Series.-\n\nArithmetic.\n\n```rhai\n# not a heading\n## nor this\nlet x = close + 1;\n```\n\n## series\n\nA Series.\n";
        let p = parse("series.md", md).unwrap();
        assert_eq!(p.family, "Series");
        assert_eq!(p.intro, "About series.");
        assert_eq!(p.sections.len(), 2);
        assert_eq!(p.sections[0].keys, ["Series.+", "Series.-"]);
        assert_eq!(
            p.sections[0].text,
            "Arithmetic.\n\n```rhai\n# not a heading\n## nor this\nlet x = close + 1;\n```"
        );
        assert_eq!(p.sections[0].summary(), "Arithmetic.");
        assert_eq!(
            (p.sections[1].keys.clone(), p.sections[1].line),
            (vec!["series".to_string()], 15)
        );
    }

    #[test]
    fn malformed_pages_are_errors_that_name_the_line() {
        for (md, msg) in [
            ("## sma\n\nx\n", "x.md:1: a section before"),
            ("# A\n# B\n", "x.md:2: a page has one"),
            ("# A\n\n## sma,ema\n", "x.md:3: '## sma,ema'"),
            ("# A\n\n## sma\n\n```rhai\nx\n", "code fence is not closed"),
            ("text\n# A\n", "x.md:1: text before"),
            ("\n", "no '# Family' title"),
        ] {
            let e = parse("x.md", md).unwrap_err();
            assert!(e.contains(msg), "{e}");
        }
    }

    #[test]
    fn every_embedded_page_parses_and_no_key_is_documented_twice() {
        assert_eq!(pages().len(), FILES.len());
        assert!(lookup("sma").is_some_and(|(f, t)| f == "Indicators" && t.contains("```rhai")));
        assert_eq!(lookup("Series.*").map(|x| x.0), Some("Series"));
        assert!(lookup("no_such_name").is_none());
        assert!(intro("Indicators").is_some());
    }
}
