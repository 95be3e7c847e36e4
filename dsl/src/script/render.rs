//! Rendering script values as MIME bundles (`text/plain` always, richer types where they help).

use crate::display::Render;
use crate::display::{MimeBundle, fmt_num, html_escape};
use crate::series::Series;
use rhai::Dynamic;

/// Renders any script value.
pub fn render(v: &Dynamic) -> MimeBundle {
    if let Some(b) = try_render_custom(v) {
        return b;
    }
    if v.is_map() {
        let m = v.clone().cast::<rhai::Map>();
        return render_map(&m);
    }
    if v.is_string() {
        // Strings show quoted, as a REPL does.
        return MimeBundle::text(format!("{:?}", v.clone().into_string().unwrap_or_default()));
    }
    if let Ok(f) = v.as_float() {
        return MimeBundle::text(fmt_float(f));
    }
    MimeBundle::text(v.to_string())
}

/// `print(x)`, string interpolation and `to_string(x)` of a table-like value give its text/plain
/// rendering (the numbers a reader or a model needs), not the bare type name.
pub(crate) fn register_to_string(engine: &mut rhai::Engine) {
    macro_rules! plain_text {
        ($($t:ty),* $(,)?) => {$(
            engine.register_fn("to_string", |x: &mut $t| {
                Render::render(&*x).plain().unwrap_or_default().to_string()
            });
            engine.register_fn("to_debug", |x: &mut $t| {
                Render::render(&*x).plain().unwrap_or_default().to_string()
            });
        )*};
    }
    plain_text!(
        crate::bars::Bars,
        crate::frame::Frame,
        super::backtest_api::ResultValue,
        super::backtest_api::StrategyValue,
        super::sim_api::SimValue,
    );
}

fn fmt_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

macro_rules! try_types {
    ($v:expr, $($t:ty),* $(,)?) => {
        $( if let Some(x) = $v.read_lock::<$t>() { return Some(Render::render(&*x)); } )*
    };
}

fn try_render_custom(v: &Dynamic) -> Option<MimeBundle> {
    try_types!(
        v,
        Series,
        crate::bars::Bars,
        crate::frame::Frame,
        super::display_api::Rich,
        super::backtest_api::ResultValue,
        super::backtest_api::StrategyValue,
        super::sim_api::SimValue,
    );
    None
}

/// Renders a value as one or more outputs, in order. A backtest result is a tear sheet: the stats
/// table, then the equity / drawdown chart (see `plot::tear_sheet` for why two outputs).
pub fn render_all(v: &Dynamic) -> Vec<MimeBundle> {
    if let Some(r) = v.read_lock::<super::backtest_api::ResultValue>()
        && let Ok(sheet) = super::plot_api::result_tear_sheet_with(
            &r.result,
            &r.decisions
                .as_deref()
                .map(|d| super::backtest_api::decision_stats(d))
                .unwrap_or_default(),
        )
    {
        let mut out = sheet.bundles();
        // The stats output carries the result's own text too (trades, open position).
        let own = Render::render(&*r);
        if let (Some(first), Some(text)) = (out.first_mut(), own.plain()) {
            first
                .data
                .insert("text/plain".into(), text.to_string().into());
        }
        return out;
    }
    if let Some(f) = v.read_lock::<crate::frame::Frame>()
        && let Some((x, y, m)) = &f.heatmap
        && let Ok(chart) =
            super::frame_api::heatmap(&f, x, y, m, &crate::plot::ChartOpts::default())
    {
        return vec![Render::render(&*f), chart.bundle()];
    }
    vec![render(v)]
}

/// A map as a two-column table (stats maps read well this way).
pub fn render_map(m: &rhai::Map) -> MimeBundle {
    let mut text = String::from("#{\n");
    let mut html = String::from("<table class=\"stratbook-map\"><tbody>");
    for (k, v) in m {
        let shown = inline(v);
        text.push_str(&format!("  {k}: {shown},\n"));
        html.push_str(&format!(
            "<tr><th style=\"text-align:left\">{}</th><td style=\"text-align:right\">{}</td></tr>",
            html_escape(k),
            html_escape(&shown)
        ));
    }
    text.push('}');
    html.push_str("</tbody></table>");
    let mut b = MimeBundle::text(text);
    if !m.is_empty() {
        b = b.with("text/html", html);
    }
    b
}

/// A value on one line: numbers compact, nested maps spelled out, long values cut.
fn inline(v: &Dynamic) -> String {
    if let Ok(f) = v.as_float() {
        return fmt_num(f);
    }
    if let Some(m) = v.read_lock::<rhai::Map>() {
        let inner: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{k}: {}", inline(v)))
            .collect();
        return format!("#{{{}}}", inner.join(", "));
    }
    short(v)
}

fn short(v: &Dynamic) -> String {
    let s = render(v).plain().unwrap_or_default().to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s
    }
}

impl Render for Series {
    fn render(&self) -> MimeBundle {
        let n = self.len();
        let kind = if self.is_bool() { "bool" } else { "f64" };
        let fmt = |x: f64| {
            if self.is_bool() {
                (x != 0.0).to_string()
            } else {
                fmt_num(x)
            }
        };
        let vals: Vec<String> = if n <= 10 {
            self.values().iter().map(|&x| fmt(x)).collect()
        } else {
            let mut v: Vec<String> = self.values()[..5].iter().map(|&x| fmt(x)).collect();
            v.push("…".into());
            v.extend(self.values()[n - 5..].iter().map(|&x| fmt(x)));
            v
        };
        let mut text = format!("Series[{kind}; {n}] [{}]", vals.join(", "));
        if self.is_bool() {
            text.push_str(&format!(" ({} true)", self.count()));
        } else if n > 0 {
            text.push_str(&format!(
                " (last {}, min {}, max {})",
                fmt_num(self.last()),
                fmt_num(self.min()),
                fmt_num(self.max())
            ));
        }
        MimeBundle::text(text)
    }
}
