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
        let active = crate::store::sim::is_active(&row.status);
        let ended = if active {
            chrono::Utc::now().timestamp()
        } else {
            row.heartbeat
        };
        let mut text = format!(
            "Simulation {} '{}': {} | source {} | elapsed {} | {} bars | last bar {} | equity {:.2} | P&L {:+.2} ({:+.2} %)",
            row.id,
            row.name,
            row.status,
            row.source,
            elapsed(ended - row.created_at),
            row.steps,
            last,
            equity,
            equity - cash,
            (equity / cash - 1.0) * 100.0
        );
        // Prices seen since the last bar, while it runs: the positions marked to them.
        let marks = row.marks.as_ref().filter(|_| active);
        if let Some(m) = marks
            && !row.positions.is_empty()
        {
            let now: f64 = equity
                + row
                    .positions
                    .iter()
                    .filter_map(|h| Some(h.pnl_at(m.price(&h.token)?) - h.pnl_at(h.price)))
                    .sum::<f64>();
            text.push_str(&format!(
                " | marked {}: equity {:.2}, P&L {:+.2}",
                clock_time(m.time),
                now,
                now - cash
            ));
        }
        if let Some(r) = &row.reason {
            text.push_str(&format!(" | {r}"));
        }
        for h in &row.positions {
            let (price, at) = match marks.and_then(|m| Some((m.price(&h.token)?, m.time))) {
                Some((p, t)) => (p, format!(" ({})", clock_time(t))),
                None => (h.price, String::new()),
            };
            let pnl = h.pnl_at(price);
            text.push_str(&format!(
                "\n  position {} {} {} @ {} since {} | price {}{} | unrealized {:+.2} ({:+.2} %)",
                h.token,
                h.side,
                crate::display::fmt_num(h.qty),
                crate::display::fmt_num(h.entry),
                crate::time::format_time(h.since),
                crate::display::fmt_num(price),
                at,
                pnl,
                pnl / (h.entry * h.qty).abs() * 100.0
            ));
            if let Some(x) = h.stop {
                text.push_str(&format!(" | stop {}", crate::display::fmt_num(x)));
            }
            if let Some(x) = h.take {
                text.push_str(&format!(" | take {}", crate::display::fmt_num(x)));
            }
        }
        if row.positions.is_empty() && row.steps > 0 {
            text.push_str("\n  position flat");
            if let Some(m) = marks {
                for (t, p) in &m.prices {
                    text.push_str(&format!(
                        " | {t} {} ({})",
                        crate::display::fmt_num(*p),
                        clock_time(m.time)
                    ));
                }
            }
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

/// `45s`, `12m 05s`, `3h 04m`, `2d 5h`.
fn elapsed(s: i64) -> String {
    let s = s.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `HH:MM:SS` (UTC) of unix seconds.
fn clock_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// The card's text without its elapsed time: what changes when the simulation does (a
/// terminal view prints a new card only then).
pub fn without_elapsed(text: &str) -> String {
    match text.find(" | elapsed ") {
        Some(a) => {
            let rest = &text[a + 3..];
            match rest.find(" | ") {
                Some(b) => format!("{}{}", &text[..a], &rest[b..]),
                None => text[..a].to_string(),
            }
        }
        None => text.to_string(),
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
