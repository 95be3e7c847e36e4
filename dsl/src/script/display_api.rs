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

    let r = rt.clone();
    api.func("display", &["value: any"], "()", move |v: Dynamic| {
        if let Some(sim) = v.read_lock::<super::sim_api::SimValue>()
            && super::sim_api::show_live(&r, &sim)
        {
            return;
        }
        for b in super::render::render_all(&v) {
            r.emitter.display(b, None);
        }
    });
    let r = rt.clone();
    api.func(
        "display",
        &["value: any", "opts: map"],
        "()",
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
        move |v: Dynamic, id: &str| -> RhaiResult<()> {
            if id.is_empty() {
                return Err(rt_err(
                    "update_display needs the id given to display(x, #{ id })",
                ));
            }
            r.emitter.update(render(&v), id);
            Ok(())
        },
    );
    let r = rt.clone();
    api.func("clear_output", &[], "()", move || {
        r.emitter.emit(Output::Clear { wait: false })
    });
    let r = rt.clone();
    api.func("clear_output", &["wait: bool"], "()", move |wait: bool| {
        r.emitter.emit(Output::Clear { wait })
    });
    api.func("html", &["text: string"], "Rich", |s: &str| {
        Rich(MimeBundle::text(strip_tags(s)).with("text/html", s))
    });
    api.func("markdown", &["text: string"], "Rich", |s: &str| {
        Rich(MimeBundle::text(s).with("text/markdown", s))
    });
    api.func("svg", &["text: string"], "Rich", |s: &str| {
        Rich(MimeBundle::text("<SVG image>").with("image/svg+xml", s))
    });
}
