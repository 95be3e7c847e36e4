//! The risk layer between a model's decision and the order: it clips what is too large and
//! refuses what is not allowed, and says what it changed and why (the words go into the decision
//! log and the tear sheet's "overruled" share).
//!
//! Rules, in order:
//! 1. the agent's drawdown halt: once equity has fallen `max_drawdown_pct` below its peak (as seen
//!    at decisions), no new entry: `buy`/`sell` when flat become `hold`, a reversal becomes
//!    `close`; `close` stays allowed;
//! 2. `min_confidence`: any action but `hold` below it becomes `hold`;
//! 3. `leverage` above `max_leverage` (at most 10) is clipped;
//! 4. `size_pct` above `max_position_pct` is clipped.

use super::decision::{Action, Decision};
use super::prompt::num as fmt_num;

/// The hard ceiling on leverage, whatever the options say.
pub const LEVERAGE_CEILING: f64 = 10.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskLimits {
    pub max_leverage: f64,
    pub max_position_pct: f64,
    pub min_confidence: f64,
    pub max_drawdown_pct: Option<f64>,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_leverage: LEVERAGE_CEILING,
            max_position_pct: 100.0,
            min_confidence: 0.0,
            max_drawdown_pct: None,
        }
    }
}

/// What the layer remembers between decisions of one token.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RiskState {
    pub peak_equity: f64,
    /// Set once the drawdown limit is reached; never cleared within a run.
    pub halted: bool,
    pub drawdown_pct: f64,
}

impl RiskState {
    /// Updates the peak and the halt with the equity at a decision.
    pub fn observe(&mut self, equity: f64, limits: &RiskLimits) {
        if equity.is_finite() && equity > self.peak_equity {
            self.peak_equity = equity;
        }
        if self.peak_equity > 0.0 {
            self.drawdown_pct = (1.0 - equity / self.peak_equity) * 100.0;
        }
        if limits
            .max_drawdown_pct
            .is_some_and(|limit| self.drawdown_pct >= limit)
        {
            self.halted = true;
        }
    }
}

/// The decision as the risk layer lets it through, and one line per change.
pub fn review(
    d: &Decision,
    position: f64,
    limits: &RiskLimits,
    state: &RiskState,
) -> (Decision, Vec<String>) {
    let mut out = d.clone();
    let mut notes = Vec::new();
    if state.halted && out.action.is_entry() {
        let reversing = (out.action == Action::Buy && position < 0.0)
            || (out.action == Action::Sell && position > 0.0);
        let adding = (out.action == Action::Buy && position > 0.0)
            || (out.action == Action::Sell && position < 0.0);
        let why = format!(
            "halted after a {} % drawdown (max_drawdown_pct {})",
            fmt_num(state.drawdown_pct),
            fmt_num(limits.max_drawdown_pct.unwrap_or(0.0))
        );
        if reversing {
            notes.push(format!("{} turned into close: {why}", out.action.name()));
            out.action = Action::Close;
        } else {
            notes.push(format!(
                "{} refused{}: {why}",
                out.action.name(),
                if adding { " (adding)" } else { "" }
            ));
            out.action = Action::Hold;
        }
        out.size_pct = 0.0;
    }
    if out.action != Action::Hold && out.confidence < limits.min_confidence {
        notes.push(format!(
            "{} refused: confidence {} below min_confidence {}",
            out.action.name(),
            fmt_num(out.confidence),
            fmt_num(limits.min_confidence)
        ));
        out.action = Action::Hold;
        out.size_pct = 0.0;
    }
    let max_lev = limits.max_leverage.clamp(1.0, LEVERAGE_CEILING);
    if out.leverage > max_lev {
        notes.push(format!(
            "leverage {} clipped to {}",
            fmt_num(out.leverage),
            fmt_num(max_lev)
        ));
        out.leverage = max_lev;
    }
    if out.action.is_entry() && out.size_pct > limits.max_position_pct {
        notes.push(format!(
            "size_pct {} clipped to max_position_pct {}",
            fmt_num(out.size_pct),
            fmt_num(limits.max_position_pct)
        ));
        out.size_pct = limits.max_position_pct;
    }
    (out, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buy(lev: f64, conf: f64) -> Decision {
        Decision {
            action: Action::Buy,
            size_pct: 100.0,
            leverage: lev,
            stop_loss_pct: None,
            take_profit_pct: None,
            confidence: conf,
            reasoning: String::new(),
        }
    }

    #[test]
    fn leverage_twenty_is_clipped_to_ten() {
        let (d, notes) = review(
            &buy(20.0, 0.9),
            0.0,
            &RiskLimits::default(),
            &RiskState::default(),
        );
        assert_eq!(d.leverage, 10.0);
        assert_eq!(notes, ["leverage 20 clipped to 10"]);
    }

    #[test]
    fn entries_are_refused_after_a_halt_but_closes_pass() {
        let limits = RiskLimits {
            max_drawdown_pct: Some(20.0),
            ..RiskLimits::default()
        };
        let mut st = RiskState::default();
        st.observe(10_000.0, &limits);
        st.observe(8_500.0, &limits);
        assert!(!st.halted);
        st.observe(7_900.0, &limits);
        assert!(st.halted);
        st.observe(12_000.0, &limits);
        assert!(st.halted, "a halt lasts the run");
        let (d, notes) = review(&buy(1.0, 0.9), 0.0, &limits, &st);
        assert_eq!(d.action, Action::Hold);
        assert!(notes[0].starts_with("buy refused: halted"), "{notes:?}");
        let (d, _) = review(&buy(1.0, 0.9), -3.0, &limits, &st);
        assert_eq!(d.action, Action::Close);
        let mut close = buy(1.0, 0.9);
        close.action = Action::Close;
        let (d, notes) = review(&close, 3.0, &limits, &st);
        assert_eq!((d.action, notes.len()), (Action::Close, 0));
    }

    #[test]
    fn low_confidence_holds_and_size_is_capped() {
        let limits = RiskLimits {
            min_confidence: 0.6,
            max_position_pct: 25.0,
            ..RiskLimits::default()
        };
        let (d, notes) = review(&buy(1.0, 0.5), 0.0, &limits, &RiskState::default());
        assert_eq!(d.action, Action::Hold);
        assert!(notes[0].contains("below min_confidence"), "{notes:?}");
        let (d, notes) = review(&buy(1.0, 0.7), 0.0, &limits, &RiskState::default());
        assert_eq!((d.action, d.size_pct), (Action::Buy, 25.0));
        assert_eq!(notes.len(), 1);
    }
}
