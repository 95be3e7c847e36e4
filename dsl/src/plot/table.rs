//! A small table renderer shared by displays (frames, bars, stats): HTML with escaped text and
//! right-aligned numbers, and the same table as aligned plain text for `text/plain`.
//!
//! Long tables show their first `head` and last `tail` rows with an ellipsis row between. Cells
//! are produced on demand by a closure, so a million-row frame costs only the rows shown.
//!
//! Alignment survives both renderers: JupyterLab's stylesheet right-aligns every cell, so text
//! cells carry `style="text-align:left"`; GitHub strips `style` but keeps `align`, so number
//! cells carry `align="right"`.
//!
//! ```ignore
//! let t = Table::new(vec!["time".into(), "close".into()], n, |r, c| match c {
//!     0 => Cell::Text(format_time(times[r])),
//!     _ => Cell::Num(close[r]),
//! })
//! .caption("PEPE 1h")
//! .limit(5, 5);
//! let (html, text) = (t.html(), t.text());
//! ```

use crate::display::{fmt_num, html_escape};

/// One table cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Shown with [`fmt_num`], right-aligned.
    Num(f64),
    /// Right-aligned whole number.
    Int(i64),
    /// A number already formatted ("12.5%"), right-aligned.
    Figure(String),
    /// Left-aligned text.
    Text(String),
}

impl Cell {
    fn shown(&self) -> String {
        match self {
            Cell::Num(x) => fmt_num(*x),
            Cell::Int(i) => i.to_string(),
            Cell::Figure(s) | Cell::Text(s) => s.clone(),
        }
    }

    fn numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

type CellFn<'a> = Box<dyn Fn(usize, usize) -> Cell + 'a>;

pub struct Table<'a> {
    header: Vec<String>,
    rows: usize,
    cell: CellFn<'a>,
    caption: Option<String>,
    head: usize,
    tail: usize,
}

impl<'a> Table<'a> {
    /// A table of `rows` rows whose cell at (row, column) is `cell(row, column)`. Shows the
    /// first 10 and last 5 rows of longer tables unless [`Table::limit`] says otherwise.
    pub fn new(header: Vec<String>, rows: usize, cell: impl Fn(usize, usize) -> Cell + 'a) -> Self {
        Table {
            header,
            rows,
            cell: Box::new(cell),
            caption: None,
            head: 10,
            tail: 5,
        }
    }

    /// A table of ready-made rows.
    pub fn from_rows(header: Vec<String>, rows: &'a [Vec<Cell>]) -> Self {
        Table::new(header, rows.len(), move |r, c| {
            rows[r].get(c).cloned().unwrap_or(Cell::Text(String::new()))
        })
    }

    /// Text shown above the table.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Shows the first `head` and last `tail` rows when there are more than `head + tail`.
    pub fn limit(mut self, head: usize, tail: usize) -> Self {
        self.head = head;
        self.tail = tail;
        self
    }

    /// Row indices to show; `None` marks the ellipsis row.
    fn shown_rows(&self) -> Vec<Option<usize>> {
        if self.rows <= self.head + self.tail {
            return (0..self.rows).map(Some).collect();
        }
        (0..self.head)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((self.rows - self.tail..self.rows).map(Some))
            .collect()
    }

    pub fn html(&self) -> String {
        let cols = self.header.len();
        let mut s = String::from("<table class=\"stratbook-table\">");
        if let Some(c) = &self.caption {
            s.push_str(&format!(
                "<caption style=\"text-align:left\">{}</caption>",
                html_escape(c)
            ));
        }
        s.push_str("<thead><tr>");
        let numeric: Vec<bool> = (0..cols)
            .map(|c| self.rows > 0 && (self.cell)(0, c).numeric())
            .collect();
        for (h, &num) in self.header.iter().zip(&numeric) {
            s.push_str(&format!("<th{}>{}</th>", align(num), html_escape(h)));
        }
        s.push_str("</tr></thead><tbody>");
        for r in self.shown_rows() {
            s.push_str("<tr>");
            for (c, &num) in numeric.iter().enumerate() {
                match r {
                    Some(r) => {
                        let cell = (self.cell)(r, c);
                        s.push_str(&format!(
                            "<td{}>{}</td>",
                            align(cell.numeric()),
                            html_escape(&cell.shown())
                        ));
                    }
                    None => s.push_str(&format!("<td{}>…</td>", align(num))),
                }
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table>");
        s
    }

    /// The same rows as aligned plain text (numbers right-aligned), caption first.
    pub fn text(&self) -> String {
        let rows = self.shown_rows();
        let num_cols: Vec<bool> = (0..self.header.len())
            .map(|c| self.rows > 0 && (self.cell)(0, c).numeric())
            .collect();
        let cells: Vec<Vec<(String, bool)>> = rows
            .iter()
            .map(|r| {
                (0..self.header.len())
                    .map(|c| match r {
                        Some(r) => {
                            let cell = (self.cell)(*r, c);
                            (cell.shown(), cell.numeric())
                        }
                        None => ("…".to_string(), num_cols[c]),
                    })
                    .collect()
            })
            .collect();
        let width = |c: usize| {
            cells
                .iter()
                .map(|row| row[c].0.chars().count())
                .chain(std::iter::once(self.header[c].chars().count()))
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let mut lines = Vec::new();
        if let Some(c) = &self.caption {
            lines.push(c.clone());
        }
        let pad = |s: &str, w: usize, right: bool| {
            let fill = " ".repeat(w.saturating_sub(s.chars().count()));
            if right {
                format!("{fill}{s}")
            } else {
                format!("{s}{fill}")
            }
        };
        lines.push(
            self.header
                .iter()
                .enumerate()
                .map(|(c, h)| pad(h, widths[c], num_cols[c]))
                .collect::<Vec<_>>()
                .join("  "),
        );
        for row in &cells {
            lines.push(
                row.iter()
                    .enumerate()
                    .map(|(c, (s, num))| pad(s, widths[c], *num))
                    .collect::<Vec<_>>()
                    .join("  "),
            );
        }
        let mut out = lines
            .iter()
            .map(|l| l.trim_end())
            .collect::<Vec<_>>()
            .join("\n");
        if rows.contains(&None) {
            out.push_str(&format!("\n({} rows)", self.rows));
        }
        out
    }
}

fn align(numeric: bool) -> &'static str {
    if numeric {
        " align=\"right\""
    } else {
        " style=\"text-align:left\""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<String> {
        vec!["name".into(), "value".into()]
    }

    #[test]
    fn html_escapes_text_and_right_aligns_numbers() {
        let rows = vec![vec![Cell::Text("<b>&".into()), Cell::Num(1234.5)]];
        let html = Table::from_rows(header(), &rows).caption("a \"c\"").html();
        assert!(html.contains("<caption style=\"text-align:left\">a &quot;c&quot;</caption>"));
        assert!(html.contains("<td style=\"text-align:left\">&lt;b&gt;&amp;</td>"));
        assert!(html.contains("<td align=\"right\">1234.50</td>"));
        assert!(html.contains("<th align=\"right\">value</th>"));
    }

    #[test]
    fn long_tables_show_head_and_tail_around_an_ellipsis_row() {
        let t = Table::new(header(), 100, |r, c| {
            if c == 0 {
                Cell::Text(format!("r{r}"))
            } else {
                Cell::Int(r as i64)
            }
        })
        .limit(2, 1);
        let text = t.text();
        assert_eq!(
            text,
            "name  value\nr0        0\nr1        1\n…         …\nr99      99\n(100 rows)"
        );
        assert_eq!(t.html().matches("<tr>").count(), 1 + 4);
    }

    #[test]
    fn short_tables_show_every_row_without_ellipsis() {
        let rows = vec![vec![Cell::Text("a".into()), Cell::Num(f64::NAN)]];
        let t = Table::from_rows(header(), &rows);
        assert_eq!(t.text(), "name  value\na       NaN");
        assert!(!t.html().contains('…'));
    }
}
