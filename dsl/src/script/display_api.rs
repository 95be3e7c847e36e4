//! `display`, `update_display`, `clear_output`, `html`, `markdown`, `svg`.

use super::api::{Api, RhaiResult, opt_str, rt_err};
use super::render::render;
use crate::display::Render;
use crate::display::{MimeBundle, Output};
use crate::script::runtime::Runtime;
use rhai::{Dynamic, Map};
use std::sync::Arc;

/// Raw rich content made by `html(..)`, `markdown(..)`, `svg(..)` or a plot.
#[derive(Clone, Debug)]
pub struct Rich(pub MimeBundle);

impl Render for Rich {
    fn render(&self) -> MimeBundle {
        self.0.clone()
    }
}

/// A short text/plain twin for raw HTML: the text with tags stripped.
fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

pub fn register(api: &mut Api, rt: &Arc<Runtime>) {
    api.engine.register_type_with_name::<Rich>("Rich");
    api.family("Display");

    let r = rt.clone();
    api.func(
        "display",
        &["value: any"],
        "()",
        "Shows a value now (a cell shows only its last expression otherwise).\n\n```rhai\ndisplay(bars.tail(5));\ndisplay(result);\n```",
        move |v: Dynamic| {
            for b in super::render::render_all(&v) {
                r.emitter.display(b, None);
            }
        },
    );
    let r = rt.clone();
    api.func(
        "display",
        &["value: any", "opts: map"],
        "()",
        "Shows a value with options: `#{ id: \"name\" }` gives it a display id, so `update_display(x, \"name\")`\n\
         can replace it later (progress, live simulations).\n\n```rhai\ndisplay(\"starting…\", #{ id: \"status\" });\nupdate_display(\"done\", \"status\");\n```",
        move |v: Dynamic, opts: Map| -> RhaiResult<()> {
            super::api::check_keys(&opts, "display", &["id"])?;
            r.emitter.display(render(&v), opt_str(&opts, "id")?);
            Ok(())
        },
    );
    let r = rt.clone();
    api.func(
        "update_display",
        &["value: any", "id: string"],
        "()",
        "Replaces every output shown with `display(x, #{ id })`.\n\n```rhai\ndisplay(0, #{ id: \"n\" });\nfor i in 1..=3 { update_display(i, \"n\"); }\n```",
        move |v: Dynamic, id: &str| -> RhaiResult<()> {
            if id.is_empty() {
                return Err(rt_err("update_display needs the id given to display(x, #{ id })"));
            }
            r.emitter.update(render(&v), id);
            Ok(())
        },
    );
    let r = rt.clone();
    api.func(
        "clear_output",
        &[],
        "()",
        "Clears this cell's output. `clear_output(true)` waits until new output arrives (no flicker).\n\n```rhai\nclear_output();\n```",
        move || r.emitter.emit(Output::Clear { wait: false }),
    );
    let r = rt.clone();
    api.func(
        "clear_output",
        &["wait: bool"],
        "()",
        "Clears this cell's output; with `wait` the clear happens when the next output arrives.\n\n```rhai\nclear_output(true);\n```",
        move |wait: bool| r.emitter.emit(Output::Clear { wait }),
    );
    api.func(
        "html",
        &["text: string"],
        "Rich",
        "Raw HTML to display (its text/plain twin is the text without tags).\n\n```rhai\nhtml(\"<b>Signal:</b> buy\")\n```",
        |s: &str| Rich(MimeBundle::text(strip_tags(s)).with("text/html", s)),
    );
    api.func(
        "markdown",
        &["text: string"],
        "Rich",
        "Markdown to display.\n\n```rhai\nmarkdown(\"**Sharpe** above 1\")\n```",
        |s: &str| Rich(MimeBundle::text(s).with("text/markdown", s)),
    );
    api.func(
        "svg",
        &["text: string"],
        "Rich",
        "Raw SVG to display.\n\n```rhai\nsvg(\"<svg xmlns='http://www.w3.org/2000/svg' width='20' height='20'><circle cx='10' cy='10' r='8'/></svg>\")\n```",
        |s: &str| Rich(MimeBundle::text("<SVG image>").with("image/svg+xml", s)),
    );
}
