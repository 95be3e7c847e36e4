//! The card a `Sim` shows: status, source, position, equity and P&L, the last signals, a small
//! equity chart; a text twin with the same numbers.

use super::*;

impl Render for SimValue {
    fn render(&self) -> MimeBundle {
        let Ok(row) = self.row() else {
            return MimeBundle::text(format!("Simulation {} (not found)", self.id));
        };
        let cash: f64 = serde_json::from_str::<serde_json::Value>(&row.config)
            .ok()
            .and_then(|c| c["cash"].as_f64())
            .unwrap_or(f64::NAN);
        let equity = row.equity.unwrap_or(cash);
        let last = row
            .last_time
            .map(crate::time::format_time)
            .unwrap_or_else(|| "-".into());
        let mut text = format!(
            "Simulation {} '{}': {} | source {} | {} bars | last bar {} | equity {:.2} | P&L {:+.2} ({:+.2} %)",
            row.id,
            row.name,
            row.status,
            row.source,
            row.steps,
            last,
            equity,
            equity - cash,
            (equity / cash - 1.0) * 100.0
        );
        if let Some(r) = &row.reason {
            text.push_str(&format!(" | {r}"));
        }
        if let Ok(sig) = self
            .store()
            .and_then(|s| s.table(self.id, SimTable::Signals).map_err(sim_err))
            && let (Some((_, Col::I64(t))), Some((_, Col::Str(a))), Some((_, Col::Str(why)))) =
                (sig.first(), sig.get(2), sig.get(5))
        {
            let n = t.len();
            for k in n.saturating_sub(5)..n {
                text.push_str(&format!(
                    "\n  {} {} ({})",
                    crate::time::format_time(t[k]),
                    a[k],
                    why[k]
                ));
            }
        }
        let spark = self
            .store()
            .ok()
            .and_then(|st| st.equity(self.id).ok())
            .map(|(_, e)| sparkline(&e))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let html = format!(
            "<div class=\"stratbook-sim\"><b>{}</b>{}<pre>{}</pre></div>",
            crate::display::html_escape(lines.first().copied().unwrap_or_default()),
            spark,
            crate::display::html_escape(&lines[1.min(lines.len())..].join("\n"))
        );
        MimeBundle::text(text).with("text/html", html)
    }
}

/// A small equity chart (at most 200 points) as inline SVG.
fn sparkline(e: &[f64]) -> String {
    let pts: Vec<f64> = if e.len() <= 200 {
        e.to_vec()
    } else {
        (0..200).map(|k| e[k * (e.len() - 1) / 199]).collect()
    };
    let (lo, hi) = pts
        .iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if pts.len() < 2 || hi <= lo {
        return String::new();
    }
    let (w, h) = (240.0, 48.0);
    let poly: Vec<String> = pts
        .iter()
        .enumerate()
        .map(|(i, y)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * w / (pts.len() - 1) as f64,
                h - 2.0 - (y - lo) / (hi - lo) * (h - 4.0)
            )
        })
        .collect();
    format!(
        "<br><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\"><polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        poly.join(" ")
    )
}
