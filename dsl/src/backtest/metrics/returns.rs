//! Risk and return metrics from per-bar returns, annualised by bars per year (365 days ÷ the bar
//! interval). The formulas are vectorbt's (`returns/nb.py`), so the numbers agree with it:
//!
//! - per-bar return `r[t] = equity[t] / equity[t-1] − 1`, and `r[0] = equity[0] / cash − 1`;
//! - `rf` = `risk_free_pct / 100 / bars_per_year` per bar (0 unless given);
//! - volatility = `std(r, ddof=1) × √bars_per_year`;
//! - Sharpe = `mean(r − rf) / std(r − rf, ddof=1) × √bars_per_year`;
//! - Sortino = `mean(r − rf) × bars_per_year / (√mean(min(r − rf, 0)²) × √bars_per_year)`;
//! - CAGR = `(final / cash)^(bars_per_year / n) − 1` with `n` bars;
//! - Calmar = CAGR / max drawdown (NaN without a drawdown);
//! - beta = `cov(r, b) / var(b)` (population moments) against the buy-and-hold returns `b`;
//!   alpha (annualised) = `(mean(r − rf − beta × (b − rf)) + 1)^bars_per_year − 1`.

/// Per-bar returns of an equity curve that started from `start`.
pub fn returns(equity: &[f64], start: f64) -> Vec<f64> {
    let mut prev = start;
    equity
        .iter()
        .map(|&e| {
            let r = if prev != 0.0 { e / prev - 1.0 } else { 0.0 };
            prev = e;
            r
        })
        .collect()
}

pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// Standard deviation with `ddof` degrees of freedom removed.
pub fn std(x: &[f64], ddof: usize) -> f64 {
    if x.len() <= ddof {
        return f64::NAN;
    }
    let m = mean(x);
    let ss: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    (ss / (x.len() - ddof) as f64).sqrt()
}

/// Annualised volatility (a fraction).
pub fn volatility(r: &[f64], bars_per_year: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    std(r, 1) * bars_per_year.sqrt()
}

pub fn sharpe(r: &[f64], bars_per_year: f64, rf: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let n = r.len() as f64;
    let m = r.iter().map(|x| x - rf).sum::<f64>() / n;
    let ss: f64 = r.iter().map(|x| (x - rf - m) * (x - rf - m)).sum();
    let s = (ss / (n - 1.0)).sqrt();
    if s == 0.0 {
        return f64::INFINITY;
    }
    m / s * bars_per_year.sqrt()
}

pub fn sortino(r: &[f64], bars_per_year: f64, rf: f64) -> f64 {
    if r.len() < 2 {
        return f64::NAN;
    }
    let n = r.len() as f64;
    let (mut sum, mut down) = (0.0, 0.0);
    for x in r {
        let a = x - rf;
        sum += a;
        if a < 0.0 {
            down += a * a;
        }
    }
    let dr = (down / n).sqrt() * bars_per_year.sqrt();
    if dr == 0.0 {
        return f64::INFINITY;
    }
    sum / n * bars_per_year / dr
}

/// Compound annual growth (a fraction) of `n` bars going from `start` to `end`.
pub fn cagr(start: f64, end: f64, n: usize, bars_per_year: f64) -> f64 {
    if n == 0 || start <= 0.0 {
        return f64::NAN;
    }
    (end / start).powf(bars_per_year / n as f64) - 1.0
}

/// Calmar ratio from CAGR and max drawdown, both fractions (drawdown positive).
pub fn calmar(cagr: f64, max_drawdown: f64) -> f64 {
    if max_drawdown == 0.0 {
        return f64::NAN;
    }
    cagr / max_drawdown.abs()
}

/// (alpha annualised, beta) of returns `r` against benchmark returns `b`.
pub fn alpha_beta(r: &[f64], b: &[f64], bars_per_year: f64, rf: f64) -> (f64, f64) {
    if r.len() < 2 || r.len() != b.len() {
        return (f64::NAN, f64::NAN);
    }
    let n = r.len() as f64;
    let mb = b.iter().sum::<f64>() / n;
    let (mut cov, mut var) = (0.0, 0.0);
    for (x, y) in b.iter().zip(r) {
        cov += (x - mb) * y;
        var += (x - mb) * (x - mb);
    }
    let (cov, var) = (cov / n, var / n);
    if var < 1e-30 {
        return (f64::NAN, f64::NAN);
    }
    let beta = cov / var;
    let a = r
        .iter()
        .zip(b)
        .map(|(x, y)| (x - rf) - beta * (y - rf))
        .sum::<f64>()
        / n;
    ((a + 1.0).powf(bars_per_year) - 1.0, beta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_start_from_the_initial_cash() {
        let r = returns(&[110.0, 99.0], 100.0);
        assert!((r[0] - 0.1).abs() < 1e-12);
        assert!((r[1] + 0.1).abs() < 1e-12);
    }

    #[test]
    fn sharpe_matches_a_hand_computation() {
        let r = [0.01, -0.02, 0.03, 0.0];
        // mean 0.005, sample std = sqrt(((.005)^2+(.025)^2+(.025)^2+(.005)^2)/3)
        let sd = ((0.005f64.powi(2) * 2.0 + 0.025f64.powi(2) * 2.0) / 3.0).sqrt();
        assert!((sharpe(&r, 365.0, 0.0) - 0.005 / sd * 365f64.sqrt()).abs() < 1e-12);
        // Sortino: downside sqrt(mean([0, .0004, 0, 0])) = 0.01
        let want = 0.005 * 365.0 / (0.01 * 365f64.sqrt());
        assert!((sortino(&r, 365.0, 0.0) - want).abs() < 1e-9);
    }

    #[test]
    fn cagr_of_doubling_in_a_year_is_one() {
        assert!((cagr(100.0, 200.0, 365, 365.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn beta_of_a_series_against_itself_is_one() {
        let b = [0.01, -0.02, 0.03, 0.0, 0.01];
        let (a, beta) = alpha_beta(&b, &b, 365.0, 0.0);
        assert!((beta - 1.0).abs() < 1e-12);
        assert!(a.abs() < 1e-9);
    }
}
