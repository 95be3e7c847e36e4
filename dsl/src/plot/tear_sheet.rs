//! A backtest's tear sheet: the stats table and the equity / drawdown chart.
//!
//! How it displays, and why: a notebook frontend shows ONE MIME type per output, the richest it
//! knows. JupyterLab and nbconvert rank `text/html` above `image/svg+xml`, so a single bundle
//! with both would show only the HTML; GitHub's notebook viewer sanitises HTML outputs and drops
//! inline `<svg>` (and `<style>`), but shows `image/svg+xml` outputs as images. So the tear sheet
//! is TWO outputs, [`TearSheet::bundles`]:
//!
//! 1. the stats table: `text/html` (inline-styled, survives sanitising) + `text/plain`;
//! 2. the chart: `image/svg+xml` + `text/plain` (the chart's numbers).
//!
//! Where one output is required (a cell's value), [`TearSheet::bundle`] gives `text/html` with
//! the table and the SVG inline (complete in JupyterLab and HTML exports), `image/svg+xml` for
//! frontends without HTML, and `text/plain` with every number.

use super::Chart;
use super::table::{Cell, Table};
use crate::display::MimeBundle;

/// A tear sheet ready to display.
#[derive(Clone, Debug, PartialEq)]
pub struct TearSheet {
    /// The stats table: `text/html` + `text/plain`.
    pub stats: MimeBundle,
    /// Equity vs buy & hold with drawdown.
    pub chart: Chart,
    /// Table and chart as one HTML block.
    pub html: String,
}

impl TearSheet {
    /// The two outputs to display, in order: stats table, then chart.
    pub fn bundles(&self) -> Vec<MimeBundle> {
        vec![self.stats.clone(), self.chart.bundle()]
    }

    /// Everything as one output (see the module doc for what each frontend shows).
    pub fn bundle(&self) -> MimeBundle {
        let text = format!(
            "{}\n\n{}",
            self.stats.plain().unwrap_or_default(),
            self.chart.text
        );
        MimeBundle::text(text)
            .with("text/html", self.html.clone())
            .with("image/svg+xml", self.chart.svg.clone())
    }
}

/// Builds the tear sheet from `stats` (name → value, in display order) and an equity chart
/// (see [`super::equity_chart`]).
pub fn tear_sheet(title: &str, stats: &[(String, f64)], chart: Chart) -> TearSheet {
    let table = stats_table(title, stats);
    let html = tear_sheet_html(title, stats, &chart.svg);
    TearSheet {
        stats: MimeBundle::text(table.text()).with("text/html", table.html()),
        chart,
        html,
    }
}

/// The stats table and the chart SVG as one HTML block.
pub fn tear_sheet_html(title: &str, stats: &[(String, f64)], svg_equity: &str) -> String {
    format!(
        "<div class=\"stratbook-tearsheet\">{}<div>{svg_equity}</div></div>",
        stats_table(title, stats).html()
    )
}

/// Stats in two side-by-side column pairs, so 18 stats take 9 rows.
fn stats_table<'a>(title: &str, stats: &'a [(String, f64)]) -> Table<'a> {
    let rows = stats.len().div_ceil(2);
    let header = vec![
        "metric".to_string(),
        "value".to_string(),
        "metric".to_string(),
        "value".to_string(),
    ];
    let table = Table::new(header, rows, move |r, c| {
        let i = r + (c / 2) * rows;
        match stats.get(i) {
            None => Cell::Text(String::new()),
            Some((name, _)) if c % 2 == 0 => Cell::Text(name.clone()),
            Some((name, v)) => Cell::Figure(fmt_stat(name, *v)),
        }
    })
    .limit(usize::MAX / 2, 0);
    if title.is_empty() {
        table
    } else {
        table.caption(title)
    }
}

/// A stat as people read it: percents with two decimals and a % sign, counts as whole numbers,
/// ratios with three decimals, NaN (undefined, e.g. no trades) as "n/a".
pub fn fmt_stat(name: &str, v: f64) -> String {
    if v.is_nan() {
        return "n/a".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // -0.0 (a zero pnl rounded) reads as 0.
    let v = if v == 0.0 { 0.0 } else { v };
    if name.ends_with("_pct") {
        format!("{v:.2}%")
    } else if name.starts_with("n_")
        || name.ends_with("_signals")
        || name.ends_with("_bars")
        || name == "open_trades"
    {
        format!("{v:.0}")
    } else if name.ends_with("_pnl")
        || name.ends_with("_paid")
        || name.ends_with("_cash")
        || name.ends_with("_equity")
    {
        // Money: cents.
        format!("{v:.2}")
    } else if v.abs() >= 1000.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> Vec<(String, f64)> {
        vec![
            ("final_equity".into(), 12_345.678),
            ("total_return_pct".into(), 23.456),
            ("sharpe".into(), 1.23456),
            ("n_trades".into(), 12.0),
            ("profit_factor".into(), f64::NAN),
        ]
    }

    fn chart() -> Chart {
        Chart {
            svg: "<svg>eq</svg>".into(),
            text: "Equity chart: numbers".into(),
        }
    }

    #[test]
    fn stats_are_formatted_by_kind() {
        assert_eq!(fmt_stat("total_return_pct", 23.456), "23.46%");
        assert_eq!(fmt_stat("n_trades", 12.0), "12");
        assert_eq!(fmt_stat("sharpe", 1.23456), "1.235");
        assert_eq!(fmt_stat("open_trades", 0.0), "0");
        assert_eq!(fmt_stat("open_trade_pnl", -0.0001), "-0.00");
        assert_eq!(fmt_stat("open_trade_pnl", -0.0), "0.00");
        assert_eq!(fmt_stat("fees_paid", 994.73), "994.73");
        assert_eq!(fmt_stat("final_equity", 12_345.678), "12345.68");
        assert_eq!(fmt_stat("profit_factor", f64::NAN), "n/a");
    }

    #[test]
    fn tear_sheet_is_a_table_output_then_a_chart_output() {
        let t = tear_sheet("SMA cross", &stats(), chart());
        let b = t.bundles();
        assert_eq!(b.len(), 2);
        assert!(b[0].data.contains_key("text/html"));
        assert!(!b[0].data.contains_key("image/svg+xml"));
        let plain = b[0].plain().unwrap();
        assert!(plain.starts_with("SMA cross\nmetric"), "{plain}");
        assert!(
            plain.contains("final_equity      12345.68  n_trades          12"),
            "{plain}"
        );
        assert!(plain.contains("total_return_pct    23.46%"), "{plain}");
        assert!(plain.contains("profit_factor"));
        assert_eq!(b[1].data["image/svg+xml"], "<svg>eq</svg>");
    }

    #[test]
    fn single_bundle_carries_html_svg_and_all_numbers() {
        let b = tear_sheet("SMA cross", &stats(), chart()).bundle();
        let html = b.data["text/html"].as_str().unwrap();
        assert!(html.contains("<svg>eq</svg>") && html.contains("23.46%"));
        assert!(b.data.contains_key("image/svg+xml"));
        let plain = b.plain().unwrap();
        assert!(plain.contains("12345.68") && plain.contains("Equity chart: numbers"));
    }
}
