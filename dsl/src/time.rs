//! Times in scripts: unix seconds, or `"YYYY-MM-DD"` / `"YYYY-MM-DD HH:MM"` in UTC.

use crate::error::{DslError, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses `"YYYY-MM-DD"`, `"YYYY-MM-DD HH:MM"` or `"YYYY-MM-DD HH:MM:SS"` (UTC) to unix seconds.
pub fn parse_time(s: &str) -> Result<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp());
    }
    Err(DslError::invalid(format!(
        "cannot read time '{s}'; use unix seconds, \"YYYY-MM-DD\" or \"YYYY-MM-DD HH:MM\" (UTC)"
    )))
}

/// Formats unix seconds as `YYYY-MM-DD HH:MM` (UTC).
pub fn format_time(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Formats unix seconds as `YYYY-MM-DD` (UTC).
pub fn format_date(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_times_in_utc() {
        assert_eq!(parse_time("2024-01-01").unwrap(), 1_704_067_200);
        assert_eq!(
            parse_time("2024-01-01 01:30").unwrap(),
            1_704_067_200 + 5400
        );
        assert_eq!(parse_time("1704067200").unwrap(), 1_704_067_200);
        assert_eq!(format_time(1_704_067_200 + 5400), "2024-01-01 01:30");
        assert!(parse_time("yesterday").is_err());
    }
}
