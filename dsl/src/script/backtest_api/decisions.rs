//! An agent run's decisions shown: `.decisions()` as a frame (one row per decision) and the
//! summary numbers the tear sheet adds (count, share overruled, errors, tokens, estimated cost).

use crate::llm::DecisionRecord;

/// `.decisions()` of a result: one row per decision.
pub fn decisions_frame(recs: &[DecisionRecord]) -> crate::Result<crate::frame::Frame> {
    use crate::frame::{Column, Frame};
    let f = |k: &str| {
        Column::F64(
            recs.iter()
                .map(|r| r.decision[k].as_f64().unwrap_or(f64::NAN))
                .collect(),
        )
    };
    let s = |g: fn(&DecisionRecord) -> String| Column::Str(recs.iter().map(g).collect());
    Frame::new(vec![
        (
            "time".into(),
            Column::Time(recs.iter().map(|r| r.bar_time).collect()),
        ),
        ("token".into(), s(|r| r.token.clone())),
        (
            "action".into(),
            s(|r| r.decision["action"].as_str().unwrap_or("").to_string()),
        ),
        (
            "proposed".into(),
            s(|r| r.proposed["action"].as_str().unwrap_or("").to_string()),
        ),
        ("size_pct".into(), f("size_pct")),
        ("leverage".into(), f("leverage")),
        ("stop_loss_pct".into(), f("stop_loss_pct")),
        ("take_profit_pct".into(), f("take_profit_pct")),
        ("confidence".into(), f("confidence")),
        ("risk".into(), s(|r| r.risk.clone())),
        ("error".into(), s(|r| r.error.clone())),
        ("source".into(), s(|r| r.source.name().to_string())),
        ("model".into(), s(|r| r.model.clone())),
        (
            "input_tokens".into(),
            Column::I64(recs.iter().map(|r| r.input_tokens as i64).collect()),
        ),
        (
            "output_tokens".into(),
            Column::I64(recs.iter().map(|r| r.output_tokens as i64).collect()),
        ),
        (
            "latency_ms".into(),
            Column::F64(recs.iter().map(|r| r.latency_ms).collect()),
        ),
        (
            "reasoning".into(),
            s(|r| r.decision["reasoning"].as_str().unwrap_or("").to_string()),
        ),
    ])
    .map(|f| f.with_title("LLM decisions"))
}

/// Summary numbers of a run's decisions, for the tear sheet: (name, value) in display order.
pub fn decision_stats(recs: &[DecisionRecord]) -> Vec<(String, f64)> {
    let n = recs.len() as f64;
    let overruled = recs.iter().filter(|r| r.overruled()).count() as f64;
    let errors = recs.iter().filter(|r| !r.error.is_empty()).count() as f64;
    let tin: u64 = recs.iter().map(|r| r.input_tokens).sum();
    let tout: u64 = recs.iter().map(|r| r.output_tokens).sum();
    let cost: f64 = recs
        .iter()
        .map(|r| crate::llm::estimate_cost_usd(&r.model, r.input_tokens, r.output_tokens))
        .sum();
    vec![
        ("llm_decisions".into(), n),
        (
            "llm_overruled_pct".into(),
            if n > 0.0 { overruled / n * 100.0 } else { 0.0 },
        ),
        ("llm_errors".into(), errors),
        ("llm_tokens_in".into(), tin as f64),
        ("llm_tokens_out".into(), tout as f64),
        ("llm_cost_usd".into(), cost),
    ]
}
