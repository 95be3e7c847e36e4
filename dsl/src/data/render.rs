//! How `Bars` displays: an HTML table of the first and last 5 rows with id, interval, row count,
//! range, gaps and source ("synthetic" for the demo feed), and a `text/plain` twin with the same
//! numbers for readers without HTML.

use crate::bars::Bars;
use crate::display::Render;
use crate::display::{MimeBundle, fmt_num, html_escape};
use crate::time::format_time;

const EDGE: usize = 5;

fn rows(b: &Bars) -> Vec<Option<usize>> {
    let n = b.len();
    if n <= 2 * EDGE {
        (0..n).map(Some).collect()
    } else {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((n - EDGE..n).map(Some))
            .collect()
    }
}

fn cells(b: &Bars, i: usize) -> [String; 6] {
    let c = b.candle(i);
    [
        format_time(c.time),
        fmt_num(c.open),
        fmt_num(c.high),
        fmt_num(c.low),
        fmt_num(c.close),
        fmt_num(c.volume),
    ]
}

/// One line describing the table: id, interval, size, range, gaps, source.
pub fn summary(b: &Bars) -> String {
    let mut s = format!("Bars {} {} · {} bars", b.id, b.interval, b.len());
    if let (Some(f), Some(l)) = (b.time.first(), b.time.last()) {
        s.push_str(&format!(" · {} → {} UTC", format_time(*f), format_time(*l)));
    }
    if !b.gaps.is_empty() {
        let missing: i64 = b.gaps.iter().map(|g| g.1).sum();
        s.push_str(&format!(
            " · {} gaps ({missing} bars missing, not filled)",
            b.gaps.len()
        ));
    }
    s.push_str(&format!(" · source: {}", b.source.label()));
    if b.source.is_synthetic() {
        s.push_str(" · SYNTHETIC");
    }
    s
}

impl Render for Bars {
    fn render(&self) -> MimeBundle {
        const HEAD: [&str; 6] = ["time", "open", "high", "low", "close", "volume"];
        let body: Vec<Option<[String; 6]>> = rows(self)
            .into_iter()
            .map(|r| r.map(|i| cells(self, i)))
            .collect();
        let mut widths = HEAD.map(str::len);
        for r in body.iter().flatten() {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |r: &[String]| {
            r.iter()
                .zip(widths)
                .enumerate()
                .map(|(k, (c, w))| {
                    if k == 0 {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut text = summary(self);
        text.push('\n');
        text.push_str(&line(&HEAD.map(String::from)));
        for r in &body {
            text.push('\n');
            match r {
                Some(r) => text.push_str(&line(r)),
                None => text.push('…'),
            }
        }

        let mut html = String::from("<div class=\"stratbook-bars\">");
        html.push_str(&format!(
            "<div style=\"font-family:monospace;margin-bottom:4px\"><b>{}</b> {}{}</div>",
            html_escape(&self.id),
            html_escape(&summary(self).replacen(&format!("Bars {} ", self.id), "", 1)),
            if self.source.is_synthetic() {
                " <span style=\"background:#fde68a;color:#7c2d12;padding:0 4px;border-radius:3px\">synthetic</span>"
            } else {
                ""
            }
        ));
        html.push_str("<table class=\"dataframe\"><thead><tr>");
        for h in HEAD {
            html.push_str(&format!("<th>{h}</th>"));
        }
        html.push_str("</tr></thead><tbody>");
        for r in &body {
            match r {
                Some(r) => {
                    html.push_str("<tr>");
                    for (k, c) in r.iter().enumerate() {
                        let align = if k == 0 { "left" } else { "right" };
                        html.push_str(&format!(
                            "<td style=\"text-align:{align}\">{}</td>",
                            html_escape(c)
                        ));
                    }
                    html.push_str("</tr>");
                }
                None => {
                    html.push_str("<tr><td colspan=\"6\" style=\"text-align:center\">…</td></tr>")
                }
            }
        }
        html.push_str("</tbody></table></div>");
        MimeBundle::text(text).with("text/html", html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::Source;
    use crate::interval::Interval;

    #[test]
    fn demo_bars_show_head_tail_and_say_synthetic_in_both_forms() {
        let c = crate::data::demo::demo_bars("PEPE", Interval::H1, None, None, Some(30)).unwrap();
        let b = Bars::from_candles("demo:PEPE", Interval::H1, Source::Demo, &c).unwrap();
        let r = b.render();
        let text = r.plain().unwrap();
        let html = r.data["text/html"].as_str().unwrap();
        assert!(
            text.contains("30 bars") && text.contains("SYNTHETIC") && text.contains("1h"),
            "{text}"
        );
        assert!(html.contains("synthetic") && html.contains("demo:PEPE"));
        assert_eq!(text.lines().count(), 1 + 1 + 11);
        let last_close = fmt_num(b.close.last());
        assert!(text.contains(&last_close) && html.contains(&last_close));
        assert_eq!(
            html.matches("<tr>").count(),
            1 + 10 + 1,
            "header, 10 rows and the ellipsis row"
        );
    }
}
