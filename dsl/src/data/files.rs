//! Bars to and from files through polars: CSV and Parquet with columns
//! `time, open, high, low, close, volume`, so users can bring any exchange's data.
//!
//! Reading accepts `time` (or `timestamp`, `date`, `datetime`, `open_time`) as unix seconds,
//! milliseconds, microseconds or nanoseconds (told apart by magnitude), as a polars date/datetime,
//! or as text (`2025-01-31`, `2025-01-31 12:00`, RFC 3339 …, all UTC unless an offset is given).
//! Column names are matched case-insensitively; `volume` may be absent (read as 0). Rows are sorted
//! ascending and duplicate times keep the last row. The interval is the smallest time step unless
//! given. Paths are relative to the working directory (the kernel's notebook folder).

use crate::bars::{Bars, Candle, Source};
use crate::error::{DslError, Result};
use crate::interval::Interval;
use polars::prelude::*;
use std::path::Path;

fn file_err(path: &str, e: impl std::fmt::Display) -> DslError {
    DslError::data(format!("cannot use {path}: {e}"))
}

/// The bars as a polars frame: `time` (i64 seconds) and the f64 OHLCV columns.
pub fn to_frame(b: &Bars) -> Result<DataFrame> {
    let cols = vec![
        Column::new("time".into(), b.time.as_slice()),
        Column::new("open".into(), b.open.values()),
        Column::new("high".into(), b.high.values()),
        Column::new("low".into(), b.low.values()),
        Column::new("close".into(), b.close.values()),
        Column::new("volume".into(), b.volume.values()),
    ];
    DataFrame::new_infer_height(cols)
        .map_err(|e| DslError::data(format!("cannot build a frame: {e}")))
}

pub fn write_csv(b: &Bars, path: &str) -> Result<()> {
    write_csv_file(b, Path::new(path), path)
}

/// Writes `file`; errors name the file as `shown` (the path as the user wrote it).
pub fn write_csv_file(b: &Bars, file: &Path, shown: &str) -> Result<()> {
    let mut df = to_frame(b)?;
    let mut f = std::fs::File::create(file).map_err(|e| file_err(shown, e))?;
    CsvWriter::new(&mut f)
        .finish(&mut df)
        .map_err(|e| file_err(shown, e))
}

pub fn write_parquet(b: &Bars, path: &str) -> Result<()> {
    write_parquet_file(b, Path::new(path), path)
}

pub fn write_parquet_file(b: &Bars, file: &Path, shown: &str) -> Result<()> {
    let mut df = to_frame(b)?;
    let f = std::fs::File::create(file).map_err(|e| file_err(shown, e))?;
    ParquetWriter::new(f)
        .finish(&mut df)
        .map(|_| ())
        .map_err(|e| file_err(shown, e))
}

/// A file that opened but did not parse. The parser's message is dropped on purpose: it quotes
/// the file's content, and a cell must not read a file it may not parse by provoking an error.
fn parse_err(shown: &str, kind: &str) -> DslError {
    DslError::data(format!(
        "cannot read {shown}: it is not a {kind} file of bars (its content is not shown); \
         expected columns time, open, high, low, close[, volume]"
    ))
}

/// Reads bars from a CSV file. `id` defaults to the file name without extension.
pub fn read_csv(path: &str, interval: Option<Interval>, id: Option<&str>) -> Result<Bars> {
    read_csv_file(Path::new(path), path, interval, id)
}

/// Reads `file`; errors and the bars' source name it as `shown`.
pub fn read_csv_file(
    file: &Path,
    shown: &str,
    interval: Option<Interval>,
    id: Option<&str>,
) -> Result<Bars> {
    let f = std::fs::File::open(file).map_err(|e| file_err(shown, e))?;
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(10_000))
        .into_reader_with_file_handle(f)
        .finish()
        .map_err(|_| parse_err(shown, "CSV"))?;
    from_frame(&df, shown, interval, id)
}

pub fn read_parquet(path: &str, interval: Option<Interval>, id: Option<&str>) -> Result<Bars> {
    read_parquet_file(Path::new(path), path, interval, id)
}

pub fn read_parquet_file(
    file: &Path,
    shown: &str,
    interval: Option<Interval>,
    id: Option<&str>,
) -> Result<Bars> {
    let f = std::fs::File::open(file).map_err(|e| file_err(shown, e))?;
    let df = ParquetReader::new(f)
        .finish()
        .map_err(|_| parse_err(shown, "Parquet"))?;
    from_frame(&df, shown, interval, id)
}

fn find<'a>(df: &'a DataFrame, names: &[&str]) -> Option<&'a Column> {
    df.columns().iter().find(|c| {
        names
            .iter()
            .any(|n| c.name().trim().eq_ignore_ascii_case(n))
    })
}

fn floats(c: &Column, path: &str) -> Result<Vec<f64>> {
    let s = c
        .as_materialized_series()
        .cast(&DataType::Float64)
        .map_err(|_| file_err(path, format!("column '{}' is not numeric", c.name())))?;
    let ca = s.f64().map_err(|e| file_err(path, e))?;
    Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// Unix seconds from an integer in s, ms, µs or ns.
fn scale_int(t: i64) -> i64 {
    match t.unsigned_abs() {
        a if a >= 100_000_000_000_000_000 => t / 1_000_000_000,
        a if a >= 100_000_000_000_000 => t / 1_000_000,
        a if a >= 100_000_000_000 => t / 1000,
        _ => t,
    }
}

fn parse_text_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = crate::time::parse_time(s) {
        return Some(scale_int(t));
    }
    if let Ok(f) = s.parse::<f64>() {
        return Some(scale_int(f as i64));
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y/%m/%d",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp());
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s, fmt) {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
        }
    }
    None
}

fn times(c: &Column, path: &str) -> Result<Vec<i64>> {
    let s = c.as_materialized_series();
    let bad_row = |i: usize| file_err(path, format!("row {} has no readable time", i + 1));
    match s.dtype() {
        DataType::String => {
            let ca = s.str().map_err(|e| file_err(path, e))?;
            ca.iter()
                .enumerate()
                .map(|(i, v)| v.and_then(parse_text_time).ok_or_else(|| bad_row(i)))
                .collect()
        }
        DataType::Datetime(unit, _) => {
            let div = match unit {
                TimeUnit::Nanoseconds => 1_000_000_000,
                TimeUnit::Microseconds => 1_000_000,
                TimeUnit::Milliseconds => 1000,
            };
            let phys = s.cast(&DataType::Int64).map_err(|e| file_err(path, e))?;
            let ca = phys.i64().map_err(|e| file_err(path, e))?;
            ca.iter()
                .enumerate()
                .map(|(i, v)| v.map(|t| t.div_euclid(div)).ok_or_else(|| bad_row(i)))
                .collect()
        }
        DataType::Date => {
            let phys = s.cast(&DataType::Int32).map_err(|e| file_err(path, e))?;
            let ca = phys.i32().map_err(|e| file_err(path, e))?;
            ca.iter()
                .enumerate()
                .map(|(i, v)| v.map(|d| d as i64 * 86_400).ok_or_else(|| bad_row(i)))
                .collect()
        }
        _ => {
            let phys = s
                .cast(&DataType::Float64)
                .map_err(|_| file_err(path, format!("column '{}' holds no times", c.name())))?;
            let ca = phys.f64().map_err(|e| file_err(path, e))?;
            ca.iter()
                .enumerate()
                .map(|(i, v)| {
                    v.filter(|f| f.is_finite())
                        .map(|f| scale_int(f as i64))
                        .ok_or_else(|| bad_row(i))
                })
                .collect()
        }
    }
}

/// The smallest positive step between consecutive times, as an interval.
pub fn infer_interval(times: &[i64]) -> Option<Interval> {
    let step = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0)
        .min()?;
    if (28 * 86_400..=31 * 86_400).contains(&step) {
        return Some(Interval::Mo1);
    }
    (step % 60 == 0)
        .then(|| Interval::from_minutes(step / 60))
        .flatten()
}

/// Bars from a frame with time/open/high/low/close[/volume] columns.
pub fn from_frame(
    df: &DataFrame,
    path: &str,
    interval: Option<Interval>,
    id: Option<&str>,
) -> Result<Bars> {
    let need = |names: &[&str]| {
        // The file's own column names are its content: say how many, not what they are.
        find(df, names).ok_or_else(|| {
            file_err(
                path,
                format!(
                    "no '{}' column among its {} columns; name them time, open, high, low, close, volume",
                    names[0],
                    df.width()
                ),
            )
        })
    };
    let t = times(
        need(&["time", "timestamp", "date", "datetime", "open_time", "ts"])?,
        path,
    )?;
    let o = floats(need(&["open"])?, path)?;
    let h = floats(need(&["high"])?, path)?;
    let l = floats(need(&["low"])?, path)?;
    let c = floats(need(&["close"])?, path)?;
    let v = match find(df, &["volume", "vol"]) {
        Some(col) => floats(col, path)?,
        None => vec![0.0; t.len()],
    };
    let mut rows: Vec<Candle> = (0..t.len())
        .map(|i| Candle {
            time: t[i],
            open: o[i],
            high: h[i],
            low: l[i],
            close: c[i],
            volume: v[i],
        })
        .collect();
    rows.sort_by_key(|r| r.time);
    let mut dedup: Vec<Candle> = Vec::with_capacity(rows.len());
    for r in rows {
        match dedup.last_mut() {
            Some(last) if last.time == r.time => *last = r,
            _ => dedup.push(r),
        }
    }
    let times: Vec<i64> = dedup.iter().map(|r| r.time).collect();
    let iv = match interval {
        Some(iv) => iv,
        None => infer_interval(&times).ok_or_else(|| {
            file_err(path, "cannot tell the bar interval from the times; pass it: read_csv(path, #{ interval: \"1h\" })")
        })?,
    };
    let id = id.map(str::to_string).unwrap_or_else(|| {
        Path::new(path)
            .file_stem()
            .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
    });
    Bars::from_candles(&id, iv, Source::File(path.to_string()), &dedup)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(n: usize) -> Bars {
        let c = super::super::demo::demo_bars("BTC", Interval::H1, None, None, Some(n)).unwrap();
        Bars::from_candles("demo:BTC", Interval::H1, Source::Demo, &c).unwrap()
    }

    #[test]
    fn csv_and_parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let b = demo(48);
        for ext in ["csv", "parquet"] {
            let p = dir.path().join(format!("btc.{ext}"));
            let p = p.to_str().unwrap();
            if ext == "csv" {
                write_csv(&b, p).unwrap()
            } else {
                write_parquet(&b, p).unwrap()
            }
            let r = if ext == "csv" {
                read_csv(p, None, None).unwrap()
            } else {
                read_parquet(p, None, None).unwrap()
            };
            assert_eq!(r.interval, Interval::H1);
            assert_eq!(r.time, b.time);
            assert_eq!(&*r.id, "btc");
            for (x, y) in r.close.values().iter().zip(b.close.values()) {
                assert!((x / y - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn exchange_csvs_with_ms_or_iso_times_and_reversed_rows_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "Timestamp,Open,High,Low,Close,Volume\n1704070800000,2,3,1,2.5,10\n1704067200000,1,2,0.5,1.5,5\n").unwrap();
        let b = read_csv(p.to_str().unwrap(), None, Some("mine")).unwrap();
        assert_eq!(b.time.as_slice(), &[1_704_067_200, 1_704_070_800]);
        assert_eq!(b.interval, Interval::H1);
        std::fs::write(
            &p,
            "date,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n2024-01-02T00:00:00Z,2,3,1,2.5\n",
        )
        .unwrap();
        let b = read_csv(p.to_str().unwrap(), None, None).unwrap();
        assert_eq!(b.interval, Interval::D1);
        assert_eq!(b.volume.values(), &[0.0, 0.0]);
    }

    #[test]
    fn a_file_that_is_not_bars_is_refused_without_echoing_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("shadow");
        std::fs::write(&p, "root:*:19000:0:99999:7:::\ndaemon:x:1:1::/:/bin/sh\n").unwrap();
        let e = read_csv(p.to_str().unwrap(), None, None)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("root") && !e.contains("daemon"), "{e}");
        std::fs::write(&p, "\u{0}\u{1}garbage,\"unterminated\n1,2,3\n").unwrap();
        for r in [
            read_csv(p.to_str().unwrap(), None, None),
            read_parquet(p.to_str().unwrap(), None, None),
        ] {
            let e = r.unwrap_err().to_string();
            assert!(!e.contains("garbage") && !e.contains("unterminated"), "{e}");
        }
    }

    #[test]
    fn missing_columns_and_unknown_steps_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "time,price\n1,2\n").unwrap();
        let e = read_csv(p.to_str().unwrap(), None, None)
            .unwrap_err()
            .to_string();
        // The file's own header is its content: counted, never shown.
        assert!(e.contains("no 'open' column among its 2 columns"), "{e}");
        assert!(!e.contains("price"), "{e}");
        std::fs::write(&p, "time,open,high,low,close\n0,1,1,1,1\n420,1,1,1,1\n").unwrap();
        let e = read_csv(p.to_str().unwrap(), None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("interval"), "{e}");
        assert!(read_csv("/nonexistent/x.csv", None, None).is_err());
    }
}
