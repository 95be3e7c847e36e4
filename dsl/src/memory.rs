//! The memory budget: how much the process may hold before a running cell is stopped.
//!
//! `STRATBOOK_MAX_MEMORY` sets it (`4G`, `512M`, `800000K` or bytes; `0` or `off` turns it off);
//! the default is half of the machine's memory (or of the cgroup's limit, when that is lower).
//! The Rhai layer checks it between script operations (`on_progress`), so every path that grows a
//! container (index assignment, `+=`, `push`, a built-in's result) is caught one operation later.
//!
//! How much is in use comes from a probe: the `stratbook` binary counts its allocations (a
//! counting global allocator, one atomic add per allocation) and installs that count with
//! [`set_probe`]; without a probe (library tests) the resident set size from `/proc/self/statm`
//! is read every [`RSS_EVERY`] operations.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static PROBE: OnceLock<fn() -> usize> = OnceLock::new();

/// Without a probe, the resident set size is read once per this many operations (a read costs
/// a few microseconds).
pub const RSS_EVERY: u64 = 1024;

/// Installs the count of bytes the process has allocated (the binary's counting allocator).
pub fn set_probe(probe: fn() -> usize) {
    let _ = PROBE.set(probe);
}

/// Whether a precise probe is installed (then checks are cheap enough for every operation).
pub fn has_probe() -> bool {
    PROBE.get().is_some()
}

/// Bytes in use now: the probe's count, or the resident set size.
pub fn in_use() -> u64 {
    match PROBE.get() {
        Some(p) => p() as u64,
        None => rss().unwrap_or(0),
    }
}

/// The resident set size of this process (Linux; `None` elsewhere).
pub fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Parses `4G`, `512M`, `800K`, `1.5G` or plain bytes. `0`/`off`/`none` → `Some(0)` (no budget).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    if ["off", "none", "unlimited"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Some(0);
    }
    // `4G`, `4GB` and `4GiB` all mean 4 × 2^30.
    let up = t.to_ascii_uppercase();
    let up = up
        .strip_suffix("IB")
        .or_else(|| up.strip_suffix('B'))
        .unwrap_or(&up);
    let (num, mult): (&str, u64) = match up.chars().last()? {
        'K' => (&up[..up.len() - 1], 1 << 10),
        'M' => (&up[..up.len() - 1], 1 << 20),
        'G' => (&up[..up.len() - 1], 1 << 30),
        'T' => (&up[..up.len() - 1], 1 << 40),
        _ => (up, 1),
    };
    let num = num.trim();
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some((v * mult as f64) as u64)
}

/// Half the machine's memory, or of the cgroup's limit when lower; 4 GiB when neither is known.
pub fn default_budget() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    match (total, cgroup) {
        (Some(t), Some(c)) => t.min(c) / 2,
        (Some(t), None) => t / 2,
        (None, Some(c)) => c / 2,
        (None, None) => 4 << 30,
    }
}

/// The budget in force: `STRATBOOK_MAX_MEMORY`, else [`default_budget`]. 0 means none.
pub fn budget_from_env() -> std::result::Result<u64, String> {
    match std::env::var("STRATBOOK_MAX_MEMORY") {
        Ok(v) if !v.trim().is_empty() => parse_size(&v).ok_or_else(|| {
            format!("STRATBOOK_MAX_MEMORY={v} is not a size; write it like 4G, 512M or off")
        }),
        _ => Ok(default_budget()),
    }
}

/// A cell may grow this much past the budget when the session already held more than the budget
/// when it started (so a cell that frees memory, `big = ();`, can run).
pub const SLACK: u64 = 64 << 20;

/// The budget of one session, checked between operations.
#[derive(Debug)]
pub struct Budget {
    limit: AtomicU64,
    /// The limit for the running cell: `max(limit, in use at its start + SLACK)`.
    cell_limit: AtomicU64,
}

/// What a stopped cell is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverBudget {
    pub used: u64,
    pub limit: u64,
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "memory budget exceeded: the kernel holds {} MB, more than STRATBOOK_MAX_MEMORY \
             ({} MB); the cell was stopped. Work on less data at once (a shorter range, fewer \
             rows), or raise STRATBOOK_MAX_MEMORY",
            self.used >> 20,
            self.limit >> 20
        )
    }
}

impl Budget {
    /// `limit` bytes; 0 means no budget.
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit: AtomicU64::new(limit),
            cell_limit: AtomicU64::new(limit),
        }
    }

    pub fn limit(&self) -> u64 {
        self.limit.load(Ordering::Relaxed)
    }

    pub fn set_limit(&self, limit: u64) {
        self.limit.store(limit, Ordering::Relaxed);
        self.cell_limit.store(limit, Ordering::Relaxed);
    }

    /// Called when a cell starts.
    pub fn start_cell(&self) {
        let limit = self.limit();
        let cell = if limit == 0 {
            0
        } else {
            limit.max(in_use().saturating_add(SLACK))
        };
        self.cell_limit.store(cell, Ordering::Relaxed);
    }

    /// Checks the budget after script operation number `ops`.
    #[inline]
    pub fn check(&self, ops: u64) -> Result<(), OverBudget> {
        let limit = self.cell_limit.load(Ordering::Relaxed);
        if limit == 0 || (!has_probe() && !ops.is_multiple_of(RSS_EVERY)) {
            return Ok(());
        }
        let used = in_use();
        if used > limit {
            Err(OverBudget {
                used,
                limit: self.limit(),
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4G"), Some(4 << 30));
        assert_eq!(parse_size("4GB"), Some(4 << 30));
        assert_eq!(parse_size("4GiB"), Some(4 << 30));
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("1.5G"), Some(3 << 29));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("off"), Some(0));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1G"), None);
    }

    #[test]
    fn the_default_is_a_fraction_of_the_machine() {
        let d = default_budget();
        assert!(d >= 64 << 20, "{d}");
    }

    #[test]
    fn a_budget_below_what_is_in_use_stops_a_cell_unless_it_started_above() {
        let b = Budget::new(1);
        // Started above the budget: the cell gets SLACK more than what it started with.
        b.start_cell();
        assert!(b.check(0).is_ok());
        b.set_limit(1);
        let e = b.check(0).unwrap_err();
        assert!(e.to_string().contains("STRATBOOK_MAX_MEMORY"), "{e}");
        assert!(Budget::new(0).check(0).is_ok());
    }
}
