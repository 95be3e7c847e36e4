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
        // The reason only where it says more than the status ("stopped" is both).
        let status = match &row.reason {
            // Its first line: an error's trace stays in `sims()` and `sim show`.
            Some(r) if *r != row.status => {
                format!("{} ({})", row.status, r.lines().next().unwrap_or_default())
            }
            _ => row.status.clone(),
        };
        let title = format!("Simulation {} '{}'", row.id, row.name);
        let when = [
            format!("source {}", row.source),
            format!("elapsed {}", elapsed(ended - row.created_at)),
        ];
        let money = [
            format!("{} bars", row.steps),
            format!("last bar {last}"),
            format!("equity {equity:.2}"),
        ];
        let pnl = format!(
            "{:+.2} ({:+.2} %)",
            equity - cash,
            (equity / cash - 1.0) * 100.0
        );
        // Prices seen since the last bar, while it runs: the positions marked to them.
        let marks = row.marks.as_ref().filter(|_| active);
        let marked = marks.filter(|_| !row.positions.is_empty()).map(|m| {
            let now: f64 = equity
                + row
                    .positions
                    .iter()
                    .filter_map(|h| Some(h.pnl_at(m.price(&h.token)?) - h.pnl_at(h.price)))
                    .sum::<f64>();
            format!(
                "marked {}: equity {:.2}, P&L {:+.2}",
                clock_time(m.time),
                now,
                now - cash
            )
        });
        let mut text = format!(
            "{title}: {status} | {} | {} | P&L {pnl}",
            when.join(" | "),
            money.join(" | ")
        );
        if let Some(m) = &marked {
            text.push_str(&format!(" | {m}"));
        }
        let mut held = Vec::new();
        for h in &row.positions {
            let (price, at) = match marks.and_then(|m| Some((m.price(&h.token)?, m.time))) {
                Some((p, t)) => (p, format!(" ({})", clock_time(t))),
                None => (h.price, String::new()),
            };
            let pnl = h.pnl_at(price);
            let mut line = format!(
                "position {} {} {} @ {} since {} | price {}{} | unrealized {:+.2} ({:+.2} %)",
                h.token,
                h.side,
                crate::display::fmt_num(h.qty),
                crate::display::fmt_num(h.entry),
                crate::time::format_time(h.since),
                crate::display::fmt_num(price),
                at,
                pnl,
                pnl / (h.entry * h.qty).abs() * 100.0
            );
            if let Some(x) = h.stop {
                line.push_str(&format!(" | stop {}", crate::display::fmt_num(x)));
            }
            if let Some(x) = h.take {
                line.push_str(&format!(" | take {}", crate::display::fmt_num(x)));
            }
            held.push(line);
        }
        if row.positions.is_empty() && row.steps > 0 {
            let mut line = "position flat".to_string();
            if let Some(m) = marks {
                for (t, p) in &m.prices {
                    line.push_str(&format!(
                        " | {t} {} ({})",
                        crate::display::fmt_num(*p),
                        clock_time(m.time)
                    ));
                }
            }
            held.push(line);
        }
        for l in &held {
            text.push_str(&format!("\n  {l}"));
        }
        let recent = self.recent_signals(active, row.tokens.len() > 1, 5);
        if !recent.is_empty() {
            text.push_str("\n  recent signals:");
            for l in &recent {
                text.push_str(&format!("\n    {l}"));
            }
        }
        let curve = self
            .store()
            .ok()
            .and_then(|st| st.equity(self.id).ok())
            .map(|(_, e)| e)
            .unwrap_or_default();
        let esc = crate::display::html_escape;
        let (colour, shade) = match row.status.as_str() {
            "running" => ("#166534", "#dcfce7"),
            "paused" => ("#854d0e", "#fef9c3"),
            "failed" | "interrupted" => ("#991b1b", "#fee2e2"),
            _ => ("#374151", "#e5e7eb"),
        };
        let gain = if equity >= cash { "#15803d" } else { "#b91c1c" };
        let mut html = format!(
            "<div class=\"stratbook-sim\" style=\"font-family:monospace;line-height:1.5\">\
             <div><b>{}</b> <span style=\"background:{shade};color:{colour};padding:0 6px;border-radius:3px\">{}</span> {}</div>\
             <div>{} | P&amp;L <b style=\"color:{gain}\">{}</b>{}</div>",
            esc(&title),
            esc(&status),
            esc(&when.join(" | ")),
            esc(&money.join(" | ")),
            esc(&pnl),
            marked
                .map(|m| format!(" | {}", esc(&m)))
                .unwrap_or_default(),
        );
        html.push_str(&chart(&curve, cash));
        for l in &held {
            html.push_str(&format!("<div>{}</div>", esc(l)));
        }
        if !recent.is_empty() {
            html.push_str("<div style=\"margin-top:4px\">recent signals:</div>");
            for l in &recent {
                html.push_str(&format!("<div style=\"padding-left:2ch\">{}</div>", esc(l)));
            }
        }
        html.push_str("</div>");
        MimeBundle::text(text).with("text/html", html)
    }
}

impl SimValue {
    /// The last `n` signals, each `time [token] action (reason)`; an order no fill answered yet is
    /// `pending` while the simulation runs (market orders fill at the next bar's open) and
    /// `not filled` once it has ended.
    fn recent_signals(&self, active: bool, tokens: bool, n: usize) -> Vec<String> {
        let Ok(store) = self.store() else {
            return Vec::new();
        };
        let Ok(sig) = store.table_tail(self.id, SimTable::Signals, n) else {
            return Vec::new();
        };
        let (
            Some((_, Col::I64(t))),
            Some((_, Col::Str(tok))),
            Some((_, Col::Str(a))),
            Some((_, Col::Str(why))),
        ) = (sig.first(), sig.get(1), sig.get(2), sig.get(5))
        else {
            return Vec::new();
        };
        // The fills that can answer these signals: the latest ones (each fill answers a signal,
        // so a few times `n` covers them).
        let fills = store
            .table_tail(self.id, SimTable::Fills, 10 * n)
            .unwrap_or_default();
        let filled = |k: usize| match (fills.first(), fills.get(1)) {
            (Some((_, Col::I64(ft))), Some((_, Col::Str(fk)))) => ft
                .iter()
                .zip(fk)
                .rev()
                .take_while(|(f, _)| **f >= t[k])
                .any(|(_, fk)| *fk == tok[k]),
            _ => false,
        };
        (0..t.len())
            .map(|k| {
                // A portfolio's signals name their token.
                let token = if tokens {
                    format!(" {}", tok[k])
                } else {
                    String::new()
                };
                let mut l = format!(
                    "{}{token} {} ({})",
                    crate::time::format_time(t[k]),
                    a[k],
                    why[k]
                );
                if (a[k] == "buy" || a[k] == "sell") && !filled(k) {
                    l.push_str(if active {
                        " pending"
                    } else {
                        " not filled: the run ended"
                    });
                }
                l
            })
            .collect()
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

/// A small equity chart (at most 200 points) as inline SVG: a dashed line at the starting cash,
/// the scale at least ±0.5 % of it (a flat start is not a crash), the highest and lowest equity
/// written on it. Its box is there from the first render, so the card does not jump when the
/// first points arrive.
fn chart(e: &[f64], cash: f64) -> String {
    // The plot on the left, the labels in a margin on the right.
    let (w, pw, h, pad) = (340.0, 272.0, 56.0, 4.0);
    let pts: Vec<f64> = if e.len() <= 200 {
        e.to_vec()
    } else {
        (0..200).map(|k| e[k * (e.len() - 1) / 199]).collect()
    };
    let (mut lo, mut hi) = pts
        .iter()
        .chain(std::iter::once(&cash))
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() {
        return String::new();
    }
    let least = cash.abs().max(1.0) * 0.01;
    if hi - lo < least {
        let mid = (hi + lo) / 2.0;
        (lo, hi) = (mid - least / 2.0, mid + least / 2.0);
    }
    let y = |v: f64| h - pad - (v - lo) / (hi - lo) * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" style=\"display:block;margin:4px 0\">"
    );
    if cash.is_finite() {
        svg.push_str(&format!(
            "<line x1=\"0\" x2=\"{pw}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"#9ca3af\" stroke-dasharray=\"3 3\"/>",
            y(cash)
        ));
    }
    if pts.len() >= 2 {
        let poly: Vec<String> = pts
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * pw / (pts.len() - 1) as f64, y(*v)))
            .collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"{}\"/>",
            poly.join(" ")
        ));
        let (top, bottom) = pts
            .iter()
            .filter(|x| x.is_finite())
            .fold((f64::NEG_INFINITY, f64::INFINITY), |(a, b), &x| {
                (a.max(x), b.min(x))
            });
        let labels: &[(f64, f64, &str)] = if top > bottom {
            &[(top, 1.0, "hanging"), (bottom, h - 1.0, "auto")]
        } else {
            &[(top, y(top), "middle")]
        };
        for &(v, yy, base) in labels {
            svg.push_str(&format!(
                "<text x=\"{w}\" y=\"{yy:.1}\" text-anchor=\"end\" dominant-baseline=\"{base}\" font-size=\"10\" fill=\"#6b7280\">{v:.2}</text>"
            ));
        }
    } else {
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\" font-size=\"10\" fill=\"#6b7280\">equity, from the first bar</text>",
            h / 2.0 - 4.0
        ));
    }
    svg.push_str("</svg>");
    svg
}
