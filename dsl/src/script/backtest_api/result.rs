//! `BacktestResult` in scripts: stats map, trade and signal frames, equity / drawdown / returns /
//! benchmark Series, and its display (text/plain with the key numbers, an HTML stats table).

use crate::backtest::BacktestResult;
use crate::backtest::metrics::{StatValue, Stats};
use crate::display::Render;
use crate::display::{MimeBundle, fmt_num, html_escape};
use crate::frame::{Column, Frame};
use crate::script::api::Api;
use crate::series::Series;
use rhai::{Dynamic, INT, Map};
use std::sync::Arc;

/// A finished run (shared, never copied) and, if saved, its store ticket: the id once the
/// writer has stored it (see `store::background`).
#[derive(Clone, Debug)]
pub struct ResultValue {
    pub result: Arc<BacktestResult>,
    pub saved: Option<Arc<crate::store::background::Ticket>>,
    /// The LLM agent's decisions (`llm_decide`), when the strategy asked a model.
    pub decisions: Option<Arc<Vec<crate::llm::DecisionRecord>>>,
    /// What ran, for the tear sheet's title: `None` for a backtest, `Simulation 3` for a
    /// simulation's report.
    pub title: Option<String>,
}

impl ResultValue {
    /// The run's id in the store, once written (waits for the writer); `None` when unsaved or
    /// when the save failed.
    pub fn id(&self) -> Option<i64> {
        self.saved.as_ref().and_then(|t| t.wait())
    }
}

/// A result's `.stats` map.
pub fn stats_map(r: &BacktestResult) -> Map {
    stats_to_map(&r.stats)
}

/// Statistics as a script map: counts as ints, everything else as floats.
pub fn stats_to_map(s: &Stats) -> Map {
    s.pairs()
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                StatValue::Count(n) => Dynamic::from_int(i64::try_from(n).unwrap_or(i64::MAX)),
                StatValue::Number(x) => Dynamic::from_float(x),
            };
            (k.into(), v)
        })
        .collect()
}

/// The closed trades (and, with `open = true`, the open ones) as a frame.
pub fn trades_frame(
    r: &BacktestResult,
    trades: &[crate::backtest::sink::Trade],
) -> crate::error::Result<Frame> {
    let col_f =
        |f: fn(&crate::backtest::sink::Trade) -> f64| Column::F64(trades.iter().map(f).collect());
    Frame::new(vec![
        (
            "token".into(),
            Column::Str(
                trades
                    .iter()
                    .map(|t| r.id_of(t.asset).to_string())
                    .collect(),
            ),
        ),
        (
            "side".into(),
            Column::Str(
                trades
                    .iter()
                    .map(|t| t.side.direction().to_string())
                    .collect(),
            ),
        ),
        (
            "entry_time".into(),
            Column::Time(trades.iter().map(|t| t.entry_time).collect()),
        ),
        (
            "exit_time".into(),
            Column::Time(trades.iter().map(|t| t.exit_time).collect()),
        ),
        ("entry_price".into(), col_f(|t| t.entry_price)),
        ("exit_price".into(), col_f(|t| t.exit_price)),
        ("qty".into(), col_f(|t| t.qty)),
        ("pnl".into(), col_f(|t| t.pnl)),
        ("pnl_pct".into(), col_f(|t| t.pnl_pct)),
        ("fees".into(), col_f(|t| t.fees)),
        (
            "bars_held".into(),
            Column::I64(trades.iter().map(|t| t.bars_held() as i64).collect()),
        ),
        (
            "exit_reason".into(),
            Column::Str(
                trades
                    .iter()
                    .map(|t| t.exit_reason.name().to_string())
                    .collect(),
            ),
        ),
    ])
}

pub fn signals_frame(r: &BacktestResult) -> crate::error::Result<Frame> {
    let s = &r.signals;
    Frame::new(vec![
        (
            "time".into(),
            Column::Time(s.iter().map(|x| x.time).collect()),
        ),
        (
            "token".into(),
            Column::Str(s.iter().map(|x| r.id_of(x.asset).to_string()).collect()),
        ),
        (
            "action".into(),
            Column::Str(s.iter().map(|x| x.action.name().to_string()).collect()),
        ),
        (
            "reason".into(),
            Column::Str(s.iter().map(|x| x.reason.clone()).collect()),
        ),
        (
            "price".into(),
            Column::F64(s.iter().map(|x| x.price).collect()),
        ),
    ])
}

impl Render for ResultValue {
    fn render(&self) -> MimeBundle {
        let r = &self.result;
        let title = self.title.as_deref().unwrap_or("Backtest");
        let mut text = r.summary();
        if let Some(rest) = text.strip_prefix("Backtest ") {
            text = format!("{title} {rest}");
        }
        if let Some(d) = &self.decisions {
            let st = super::decisions::decision_stats(d);
            let v = |k: &str| st.iter().find(|(n, _)| n == k).map_or(0.0, |x| x.1);
            text.push_str(&format!(
                "  LLM agent: {} decisions, {} % overruled by the risk layer, {} failed (held), tokens {} in / {} out, est. cost ${:.4}\n",
                v("llm_decisions"),
                fmt_num(v("llm_overruled_pct")),
                v("llm_errors"),
                v("llm_tokens_in"),
                v("llm_tokens_out"),
                v("llm_cost_usd")
            ));
        }
        // The store id is left out on purpose: it depends on what ran before, and a rerun of the
        // same notebook must show the same outputs. `r.id` and `backtests()` give it.
        if self.saved.is_some() {
            text.push_str(
                "  saved in the backtest store (backtests() lists runs; r.id is this one)\n",
            );
        }
        let mut html = format!(
            "<div class=\"stratbook-backtest\"><b>{} {}</b> {} {}{}<table><tbody>",
            html_escape(title),
            html_escape(&r.name),
            html_escape(&r.ids.join(", ")),
            r.interval,
            if r.synthetic {
                " <i>(synthetic demo data)</i>"
            } else {
                ""
            }
        );
        for (k, v) in r.stats.pairs() {
            html.push_str(&format!(
                "<tr><th style=\"text-align:left\">{k}</th><td style=\"text-align:right\">{}</td></tr>",
                fmt_num(v.as_f64())
            ));
        }
        html.push_str("</tbody></table></div>");
        MimeBundle::text(text).with("text/html", html)
    }
}

pub fn register(api: &mut Api) {
    api.engine
        .register_type_with_name::<ResultValue>("BacktestResult");
    api.engine
        .register_fn("to_string", |r: &mut ResultValue| r.result.summary());
    api.getter("BacktestResult", "stats", "map", |r: &mut ResultValue| {
        stats_map(&r.result)
    });
    api.getter(
        "BacktestResult",
        "trades",
        "Frame",
        |r: &mut ResultValue| {
            // Columns are built from one list, so their lengths always agree.
            trades_frame(&r.result, &r.result.trades).unwrap_or_default()
        },
    );
    api.getter(
        "BacktestResult",
        "open_trade",
        "Frame",
        |r: &mut ResultValue| trades_frame(&r.result, &r.result.open_trades).unwrap_or_default(),
    );
    api.getter(
        "BacktestResult",
        "signals",
        "Frame",
        |r: &mut ResultValue| signals_frame(&r.result).unwrap_or_default(),
    );
    api.getter(
        "BacktestResult",
        "equity",
        "Series",
        |r: &mut ResultValue| Series::new(r.result.equity.clone()),
    );
    api.getter(
        "BacktestResult",
        "drawdown",
        "Series",
        |r: &mut ResultValue| Series::new(r.result.drawdown.clone()),
    );
    api.getter(
        "BacktestResult",
        "returns",
        "Series",
        |r: &mut ResultValue| Series::new(r.result.returns.clone()),
    );
    api.getter(
        "BacktestResult",
        "benchmark",
        "Series",
        |r: &mut ResultValue| Series::new(r.result.benchmark.clone()),
    );
    api.getter("BacktestResult", "time", "Series", |r: &mut ResultValue| {
        Series::new(r.result.time.iter().map(|&t| t as f64).collect())
    });
    api.getter("BacktestResult", "id", "int", |r: &mut ResultValue| {
        r.id().unwrap_or(0) as INT
    });
    api.getter("BacktestResult", "name", "string", |r: &mut ResultValue| {
        r.result.name.clone()
    });
}
