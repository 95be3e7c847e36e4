//! `Frame`: a table of named, typed columns — trade logs, signal logs, sweep results, run lists.
//!
//! Columns are plain vectors so the engine fills and reads them without conversion; `to_polars()`
//! hands the table to polars for files (CSV, Parquet) and anything frame-shaped beyond display.

use crate::display::{MimeBundle, fmt_num, html_escape};
use crate::error::{DslError, Result};
use crate::series::Series;
use crate::time::format_time;
use std::sync::Arc;

/// One column's values.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    F64(Vec<f64>),
    I64(Vec<i64>),
    /// Unix seconds, shown as UTC times.
    Time(Vec<i64>),
    Str(Vec<String>),
    Bool(Vec<bool>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::F64(v) => v.len(),
            Column::I64(v) | Column::Time(v) => v.len(),
            Column::Str(v) => v.len(),
            Column::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at row `i` as display text.
    pub fn cell(&self, i: usize) -> String {
        match self {
            Column::F64(v) => fmt_num(v[i]),
            Column::I64(v) => v[i].to_string(),
            Column::Time(v) => format_time(v[i]),
            Column::Str(v) => v[i].clone(),
            Column::Bool(v) => v[i].to_string(),
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Column::F64(_) | Column::I64(_))
    }

    fn take(&self, idx: &[usize]) -> Column {
        match self {
            Column::F64(v) => Column::F64(idx.iter().map(|&i| v[i]).collect()),
            Column::I64(v) => Column::I64(idx.iter().map(|&i| v[i]).collect()),
            Column::Time(v) => Column::Time(idx.iter().map(|&i| v[i]).collect()),
            Column::Str(v) => Column::Str(idx.iter().map(|&i| v[i].clone()).collect()),
            Column::Bool(v) => Column::Bool(idx.iter().map(|&i| v[i]).collect()),
        }
    }

    /// The value at row `i` as a script value.
    pub fn dynamic(&self, i: usize) -> rhai::Dynamic {
        match self {
            Column::F64(v) => v[i].into(),
            Column::I64(v) | Column::Time(v) => v[i].into(),
            Column::Str(v) => v[i].clone().into(),
            Column::Bool(v) => v[i].into(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    cols: Arc<Vec<(String, Column)>>,
    /// Shown above the table.
    pub title: Option<String>,
    /// A sweep over two parameters: (x column, y column, metric column), shown as a heatmap too.
    pub heatmap: Option<(String, String, String)>,
}

impl Frame {
    /// A frame from columns of equal length.
    pub fn new(cols: Vec<(String, Column)>) -> Result<Frame> {
        if let Some((first, c0)) = cols.first() {
            for (name, c) in &cols {
                if c.len() != c0.len() {
                    return Err(DslError::invalid(format!(
                        "column '{name}' has {} rows but '{first}' has {}",
                        c.len(),
                        c0.len()
                    )));
                }
            }
        }
        Ok(Frame {
            cols: Arc::new(cols),
            title: None,
            heatmap: None,
        })
    }

    /// Marks the frame as a two-parameter sweep: it also displays as a heatmap of `metric`.
    pub fn with_heatmap(mut self, x: &str, y: &str, metric: &str) -> Frame {
        self.heatmap = Some((x.into(), y.into(), metric.into()));
        self
    }

    /// The grid for a heatmap: sorted distinct x and y values and `metric` at each (x, y),
    /// row-major by y (NaN where a combination is missing).
    pub fn grid(&self, x: &str, y: &str, metric: &str) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        let col = |n: &str| self.series(n).ok_or_else(|| self.unknown(n));
        let (xv, yv, mv) = (col(x)?, col(y)?, col(metric)?);
        let uniq = |s: &Series| {
            let mut v: Vec<f64> = s.values().iter().copied().filter(|x| !x.is_nan()).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let (xs, ys) = (uniq(&xv), uniq(&yv));
        let mut vals = vec![f64::NAN; xs.len() * ys.len()];
        for i in 0..self.len() {
            let xi = xs.iter().position(|&a| a == xv.values()[i]);
            let yi = ys.iter().position(|&a| a == yv.values()[i]);
            if let (Some(xi), Some(yi)) = (xi, yi) {
                vals[yi * xs.len() + xi] = mv.values()[i];
            }
        }
        Ok((xs, ys, vals))
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Frame {
        self.title = Some(title.into());
        self
    }

    pub fn len(&self) -> usize {
        self.cols.first().map_or(0, |(_, c)| c.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn names(&self) -> Vec<String> {
        self.cols.iter().map(|(n, _)| n.clone()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Column> {
        self.cols.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// A numeric (or time / bool) column as a Series.
    pub fn series(&self, name: &str) -> Option<Series> {
        match self.get(name)? {
            Column::F64(v) => Some(Series::new(v.clone())),
            Column::I64(v) | Column::Time(v) => {
                Some(Series::new(v.iter().map(|&x| x as f64).collect()))
            }
            Column::Bool(v) => Some(Series::from_bools(v.iter().copied())),
            Column::Str(_) => None,
        }
    }

    pub fn columns(&self) -> &[(String, Column)] {
        &self.cols
    }

    /// Rows in the given order.
    pub fn take(&self, idx: &[usize]) -> Frame {
        Frame {
            cols: Arc::new(
                self.cols
                    .iter()
                    .map(|(n, c)| (n.clone(), c.take(idx)))
                    .collect(),
            ),
            title: self.title.clone(),
            // A subset of a sweep's rows no longer fills its grid.
            heatmap: if idx.len() == self.len() {
                self.heatmap.clone()
            } else {
                None
            },
        }
    }

    pub fn head(&self, n: usize) -> Frame {
        self.take(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    pub fn tail(&self, n: usize) -> Frame {
        self.take(&(self.len().saturating_sub(n)..self.len()).collect::<Vec<_>>())
    }

    /// Sorted by a column (NaN last). `descending` for rankings.
    pub fn sort_by(&self, name: &str, descending: bool) -> Result<Frame> {
        let col = self.get(name).ok_or_else(|| self.unknown(name))?;
        let mut idx: Vec<usize> = (0..self.len()).collect();
        let key = |i: usize| -> f64 {
            match col {
                Column::F64(v) => v[i],
                Column::I64(v) | Column::Time(v) => v[i] as f64,
                Column::Bool(v) => v[i] as i64 as f64,
                Column::Str(_) => 0.0,
            }
        };
        if let Column::Str(v) = col {
            idx.sort_by(|&a, &b| {
                if descending {
                    v[b].cmp(&v[a])
                } else {
                    v[a].cmp(&v[b])
                }
            });
        } else {
            idx.sort_by(|&a, &b| crate::series::cmp_nan_last(key(a), key(b), descending));
        }
        Ok(self.take(&idx))
    }

    /// Row `i` as a map of column → value.
    pub fn row(&self, i: usize) -> Option<rhai::Map> {
        (i < self.len()).then(|| {
            self.cols
                .iter()
                .map(|(n, c)| (n.as_str().into(), c.dynamic(i)))
                .collect()
        })
    }

    fn unknown(&self, name: &str) -> DslError {
        DslError::invalid(format!(
            "no column '{name}'; columns are: {}",
            self.names().join(", ")
        ))
    }

    /// The table as a polars DataFrame (times become i64 unix seconds).
    pub fn to_polars(&self) -> Result<polars::prelude::DataFrame> {
        use polars::prelude::{Column as PlColumn, DataFrame, NamedFrom, Series as PlSeries};
        let cols: Vec<PlColumn> = self
            .cols
            .iter()
            .map(|(n, c)| {
                let s = match c {
                    Column::F64(v) => PlSeries::new(n.as_str().into(), v),
                    Column::I64(v) | Column::Time(v) => PlSeries::new(n.as_str().into(), v),
                    Column::Str(v) => PlSeries::new(n.as_str().into(), v),
                    Column::Bool(v) => PlSeries::new(n.as_str().into(), v),
                };
                s.into()
            })
            .collect();
        DataFrame::new(self.len(), cols)
            .map_err(|e| DslError::invalid(format!("cannot build frame: {e}")))
    }

    /// Writes the table as CSV.
    pub fn to_csv(&self, path: &str) -> Result<()> {
        self.to_csv_file(std::path::Path::new(path), path)
    }

    /// Writes `file`; errors name it as `shown` (the path as the user wrote it).
    pub fn to_csv_file(&self, file: &std::path::Path, shown: &str) -> Result<()> {
        use polars::prelude::{CsvWriter, SerWriter};
        let mut df = self.to_polars()?;
        let mut f = std::fs::File::create(file)
            .map_err(|e| DslError::data(format!("cannot write {shown}: {e}")))?;
        CsvWriter::new(&mut f)
            .finish(&mut df)
            .map_err(|e| DslError::data(format!("cannot write {shown}: {e}")))
    }

    /// Writes the table as Parquet (the columns as [`Frame::to_polars`] gives them).
    pub fn to_parquet_file(&self, file: &std::path::Path, shown: &str) -> Result<()> {
        use polars::prelude::ParquetWriter;
        let mut df = self.to_polars()?;
        let f = std::fs::File::create(file)
            .map_err(|e| DslError::data(format!("cannot write {shown}: {e}")))?;
        ParquetWriter::new(f)
            .finish(&mut df)
            .map(|_| ())
            .map_err(|e| DslError::data(format!("cannot write {shown}: {e}")))
    }

    /// Reads a Parquet file [`Frame::to_parquet_file`] wrote (float, integer, text and boolean
    /// columns; a column named `time` reads as times).
    pub fn read_parquet_file(file: &std::path::Path) -> Result<Frame> {
        use polars::prelude::{DataType, ParquetReader, SerReader};
        let shown = file.display();
        let f = std::fs::File::open(file)
            .map_err(|e| DslError::data(format!("cannot read {shown}: {e}")))?;
        let df = ParquetReader::new(f)
            .finish()
            .map_err(|_| DslError::data(format!("cannot read {shown}: not a Parquet file")))?;
        let bad = |n: &str| {
            DslError::data(format!(
                "cannot read {shown}: column {n} has a type a frame does not hold"
            ))
        };
        let mut cols = Vec::new();
        for c in df.columns() {
            let n = c.name().to_string();
            let s = c.as_materialized_series();
            let col = match s.dtype() {
                DataType::Float64 => Column::F64(
                    s.f64()
                        .map_err(|_| bad(&n))?
                        .iter()
                        .map(|x| x.unwrap_or(f64::NAN))
                        .collect(),
                ),
                DataType::Int64 => {
                    let v: Vec<i64> = s
                        .i64()
                        .map_err(|_| bad(&n))?
                        .iter()
                        .map(|x| x.unwrap_or(0))
                        .collect();
                    if n == "time" {
                        Column::Time(v)
                    } else {
                        Column::I64(v)
                    }
                }
                DataType::String => Column::Str(
                    s.str()
                        .map_err(|_| bad(&n))?
                        .iter()
                        .map(|x| x.unwrap_or("").to_string())
                        .collect(),
                ),
                DataType::Boolean => Column::Bool(
                    s.bool()
                        .map_err(|_| bad(&n))?
                        .iter()
                        .map(|x| x.unwrap_or(false))
                        .collect(),
                ),
                _ => return Err(bad(&n)),
            };
            cols.push((n, col));
        }
        Frame::new(cols)
    }

    /// Rows shown in displays: all up to 20, else the first 10 and last 5.
    fn shown_rows(&self) -> Vec<Option<usize>> {
        let n = self.len();
        if n <= 20 {
            (0..n).map(Some).collect()
        } else {
            (0..10)
                .map(Some)
                .chain(std::iter::once(None))
                .chain((n - 5..n).map(Some))
                .collect()
        }
    }

    /// A plain-text table with aligned columns (what an LLM reading the notebook sees).
    pub fn to_text(&self) -> String {
        let rows = self.shown_rows();
        let mut widths: Vec<usize> = self.cols.iter().map(|(n, _)| n.chars().count()).collect();
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| match r {
                Some(i) => self.cols.iter().map(|(_, c)| c.cell(*i)).collect(),
                None => self.cols.iter().map(|_| "…".to_string()).collect(),
            })
            .collect();
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        if let Some(t) = &self.title {
            out.push_str(t);
            out.push('\n');
        }
        let line = |vals: Vec<String>| -> String {
            vals.iter()
                .zip(&widths)
                .zip(self.cols.iter())
                .map(|((v, w), (_, c))| {
                    if c.is_numeric() {
                        format!("{v:>w$}")
                    } else {
                        format!("{v:<w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        out.push_str(&line(self.names()));
        out.push('\n');
        for row in cells {
            out.push_str(&line(row));
            out.push('\n');
        }
        out.push_str(&format!(
            "[{} rows × {} columns]",
            self.len(),
            self.cols.len()
        ));
        out
    }

    pub fn to_html(&self) -> String {
        let mut h = String::from("<div class=\"stratbook-frame\" style=\"overflow-x:auto\">");
        if let Some(t) = &self.title {
            h.push_str(&format!(
                "<div style=\"font-weight:600;margin:4px 0\">{}</div>",
                html_escape(t)
            ));
        }
        h.push_str("<table><thead><tr>");
        for (n, c) in self.cols.iter() {
            let align = if c.is_numeric() { "right" } else { "left" };
            h.push_str(&format!(
                "<th style=\"text-align:{align}\">{}</th>",
                html_escape(n)
            ));
        }
        h.push_str("</tr></thead><tbody>");
        for r in self.shown_rows() {
            h.push_str("<tr>");
            for (_, c) in self.cols.iter() {
                let align = if c.is_numeric() { "right" } else { "left" };
                let v = r.map_or("…".to_string(), |i| c.cell(i));
                h.push_str(&format!(
                    "<td style=\"text-align:{align}\">{}</td>",
                    html_escape(&v)
                ));
            }
            h.push_str("</tr>");
        }
        h.push_str(&format!(
            "</tbody></table><div style=\"color:#888;font-size:85%\">{} rows × {} columns</div></div>",
            self.len(),
            self.cols.len()
        ));
        h
    }
}

impl crate::display::Render for Frame {
    fn render(&self) -> MimeBundle {
        MimeBundle::text(self.to_text()).with("text/html", self.to_html())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame::new(vec![
            (
                "name".into(),
                Column::Str(vec!["a".into(), "b".into(), "c".into()]),
            ),
            ("pnl".into(), Column::F64(vec![1.5, f64::NAN, -2.0])),
        ])
        .unwrap()
    }

    #[test]
    fn columns_must_have_equal_length() {
        let e = Frame::new(vec![
            ("a".into(), Column::F64(vec![1.0])),
            ("b".into(), Column::I64(vec![])),
        ]);
        assert!(e.unwrap_err().to_string().contains("column 'b' has 0 rows"));
    }

    #[test]
    fn sort_puts_nan_last_in_both_directions() {
        let f = frame();
        let d = f.sort_by("pnl", true).unwrap();
        assert_eq!(
            d.get("name"),
            Some(&Column::Str(vec!["a".into(), "c".into(), "b".into()]))
        );
        let a = f.sort_by("pnl", false).unwrap();
        assert_eq!(
            a.get("name"),
            Some(&Column::Str(vec!["c".into(), "a".into(), "b".into()]))
        );
        assert!(
            f.sort_by("nope", true)
                .unwrap_err()
                .to_string()
                .contains("columns are: name, pnl")
        );
    }

    #[test]
    fn text_and_html_carry_the_numbers() {
        let f = frame();
        let t = f.to_text();
        assert!(
            t.contains("1.5000") && t.contains("-2.0000") && t.contains("[3 rows × 2 columns]"),
            "{t}"
        );
        assert!(
            f.to_html()
                .contains("<td style=\"text-align:right\">1.5000</td>")
        );
    }

    #[test]
    fn converts_to_polars() {
        let df = frame().to_polars().unwrap();
        assert_eq!(df.height(), 3);
        assert_eq!(df.width(), 2);
    }
}
