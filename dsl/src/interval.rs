//! Bar intervals and their AVE minute codes.

use crate::error::{DslError, Result};
use std::fmt;

/// A bar interval. AVE expresses intervals in minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Interval {
    M1,
    M5,
    M15,
    M30,
    H1,
    H2,
    H4,
    D1,
    D3,
    W1,
    Mo1,
}

pub const ALL: [Interval; 11] = [
    Interval::M1,
    Interval::M5,
    Interval::M15,
    Interval::M30,
    Interval::H1,
    Interval::H2,
    Interval::H4,
    Interval::D1,
    Interval::D3,
    Interval::W1,
    Interval::Mo1,
];

impl Interval {
    /// The name used in scripts: `"1m" "5m" … "1M"`.
    pub fn name(self) -> &'static str {
        match self {
            Interval::M1 => "1m",
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::M30 => "30m",
            Interval::H1 => "1h",
            Interval::H2 => "2h",
            Interval::H4 => "4h",
            Interval::D1 => "1d",
            Interval::D3 => "3d",
            Interval::W1 => "1w",
            Interval::Mo1 => "1M",
        }
    }

    /// AVE's `interval` parameter (minutes).
    pub fn minutes(self) -> i64 {
        match self {
            Interval::M1 => 1,
            Interval::M5 => 5,
            Interval::M15 => 15,
            Interval::M30 => 30,
            Interval::H1 => 60,
            Interval::H2 => 120,
            Interval::H4 => 240,
            Interval::D1 => 1440,
            Interval::D3 => 4320,
            Interval::W1 => 10080,
            Interval::Mo1 => 43200,
        }
    }

    pub fn seconds(self) -> i64 {
        self.minutes() * 60
    }

    /// Bars in a 365-day year: the annualisation factor for per-bar returns.
    pub fn bars_per_year(self) -> f64 {
        365.0 * 1440.0 / self.minutes() as f64
    }

    pub fn from_minutes(m: i64) -> Option<Interval> {
        ALL.iter().copied().find(|i| i.minutes() == m)
    }

    /// Parses a script interval name; the error lists the valid names.
    pub fn parse(s: &str) -> Result<Interval> {
        ALL.iter().copied().find(|i| i.name() == s).ok_or_else(|| {
            DslError::invalid(format!(
                "unknown interval '{s}'; use one of {}",
                valid_list()
            ))
        })
    }
}

/// `"1m 5m 15m 30m 1h 2h 4h 1d 3d 1w 1M"`.
pub fn valid_list() -> String {
    ALL.iter().map(|i| i.name()).collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_map_to_ave_minutes() {
        for i in ALL {
            assert_eq!(Interval::parse(i.name()).unwrap(), i);
            assert_eq!(Interval::from_minutes(i.minutes()), Some(i));
        }
        assert_eq!(Interval::parse("4h").unwrap().minutes(), 240);
    }

    #[test]
    fn unknown_interval_lists_the_valid_ones() {
        let e = Interval::parse("2d").unwrap_err().to_string();
        assert!(e.contains("unknown interval '2d'"), "{e}");
        assert!(e.contains("1m 5m 15m 30m 1h 2h 4h 1d 3d 1w 1M"), "{e}");
    }
}
