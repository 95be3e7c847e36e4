//! Rhai bindings for charts (family "Plots"): `plot`, `plot_candles`, `plot_signals`.
//!
//! Each returns a displayable `Rich` value whose bundle is `image/svg+xml` plus a `text/plain`
//! summary with the numbers (see `crate::plot`). Script values are turned into plain slices
//! here; the charts themselves know nothing of Rhai.

use super::api::{Api, RhaiResult, check_keys, opt_i64, opt_str, rt_err};
use super::backtest_api::ResultValue;
use super::display_api::Rich;
use crate::backtest::BacktestResult;
use crate::bars::Bars;
use crate::order::{ExitReason, Side};
use crate::plot::{self, ChartOpts, Line, MarkerKind, Ohlc, Signal, TradeMarker};
use crate::script::runtime::Runtime;
use crate::series::Series;
use rhai::{Array, Dynamic, Map};
use std::sync::Arc;

const SERIES_KEYS: &[&str] = &["title", "time", "from", "to", "width", "height"];
const BARS_KEYS: &[&str] = &[
    "title", "from", "to", "width", "height", "overlays", "trades",
];
const SIGNAL_KEYS: &[&str] = &["title", "from", "to", "width", "height", "overlays"];
const RESULT_KEYS: &[&str] = &["title", "from", "to", "width", "height"];

pub fn register(api: &mut Api, _rt: &Arc<Runtime>) {
    let sig_x = ["x: Series|Array|Map"];
    let sig_xo = ["x: Series|Array|Map", "opts: Map"];
    api.func("plot", &sig_x, "Plot", |s: Series| {
        plot_series(&[("series".into(), s)], &Map::new())
    });
    api.func("plot", &sig_xo, "Plot", |s: Series, o: Map| {
        plot_series(&[("series".into(), s)], &o)
    });
    api.func("plot", &sig_x, "Plot", |a: Array| {
        plot_series(&named("series", &Dynamic::from_array(a))?, &Map::new())
    });
    api.func("plot", &sig_xo, "Plot", |a: Array, o: Map| {
        plot_series(&named("series", &Dynamic::from_array(a))?, &o)
    });
    api.func("plot", &sig_x, "Plot", |m: Map| {
        plot_series(&named("series", &Dynamic::from_map(m))?, &Map::new())
    });
    api.func("plot", &sig_xo, "Plot", |m: Map, o: Map| {
        plot_series(&named("series", &Dynamic::from_map(m))?, &o)
    });
    api.func(
        "plot",
        &["result: BacktestResult"],
        "Plot",
        |r: ResultValue| plot_result(&r.result, &Map::new()),
    );
    api.func(
        "plot",
        &["result: BacktestResult", "opts: Map"],
        "Plot",
        |r: ResultValue, o: Map| plot_result(&r.result, &o),
    );
    api.func("plot", &["bars: Bars"], "Plot", |b: Bars| {
        plot_candles(&b, &Map::new())
    });
    api.func(
        "plot",
        &["bars: Bars", "opts: Map"],
        "Plot",
        |b: Bars, o: Map| plot_candles(&b, &o),
    );
    api.func("plot_candles", &["bars: Bars"], "Plot", |b: Bars| {
        plot_candles(&b, &Map::new())
    });
    api.func(
        "plot_candles",
        &["bars: Bars", "opts: Map"],
        "Plot",
        |b: Bars, o: Map| plot_candles(&b, &o),
    );
    let sig_s = ["bars: Bars", "signals: Series|Array|Map"];
    let sig_so = ["bars: Bars", "signals: Series|Array|Map", "opts: Map"];
    api.func("plot_signals", &sig_s, "Plot", |b: Bars, s: Series| {
        plot_signals(&b, &[("signal".into(), s)], &Map::new())
    });
    api.func(
        "plot_signals",
        &sig_so,
        "Plot",
        |b: Bars, s: Series, o: Map| plot_signals(&b, &[("signal".into(), s)], &o),
    );
    api.func("plot_signals", &sig_s, "Plot", |b: Bars, s: Array| {
        plot_signals(&b, &named("signal", &Dynamic::from_array(s))?, &Map::new())
    });
    api.func(
        "plot_signals",
        &sig_so,
        "Plot",
        |b: Bars, s: Array, o: Map| {
            plot_signals(&b, &named("signal", &Dynamic::from_array(s))?, &o)
        },
    );
    api.func("plot_signals", &sig_s, "Plot", |b: Bars, s: Map| {
        plot_signals(&b, &named("signal", &Dynamic::from_map(s))?, &Map::new())
    });
    api.func(
        "plot_signals",
        &sig_so,
        "Plot",
        |b: Bars, s: Map, o: Map| plot_signals(&b, &named("signal", &Dynamic::from_map(s))?, &o),
    );
}

/// Named series from a Series, an array (of Series or maps) or a map name → Series.
fn named(what: &str, v: &Dynamic) -> RhaiResult<Vec<(String, Series)>> {
    let mut out = Vec::new();
    collect(what, v, &mut out)?;
    if out.is_empty() {
        return Err(rt_err(format!(
            "no {what} to plot; pass a Series, an array or a map of them"
        )));
    }
    Ok(out)
}

fn collect(what: &str, v: &Dynamic, out: &mut Vec<(String, Series)>) -> RhaiResult<()> {
    if let Some(s) = v.read_lock::<Series>() {
        out.push((format!("{what} {}", out.len() + 1), s.clone()));
    } else if let Some(a) = v.read_lock::<Array>() {
        for x in a.iter() {
            collect(what, x, out)?;
        }
    } else if let Some(m) = v.read_lock::<Map>() {
        for (k, x) in m.iter() {
            let s = x.read_lock::<Series>().ok_or_else(|| {
                rt_err(format!("{what} '{k}' is {}, not a Series", x.type_name()))
            })?;
            out.push((k.to_string(), s.clone()));
        }
    } else {
        return Err(rt_err(format!(
            "cannot plot {} as a {what}; pass a Series, an array or a map of them",
            v.type_name()
        )));
    }
    Ok(())
}

/// Title, size and time window shared by every plot function.
struct Common {
    opts: ChartOpts,
    from: Option<i64>,
    to: Option<i64>,
}

fn common(o: &Map, keys: &[&str], what: &str) -> RhaiResult<Common> {
    check_keys(o, what, keys)?;
    let mut opts = ChartOpts::default();
    if let Some(t) = opt_str(o, "title")? {
        opts.title = t;
    }
    for (key, slot, lo, hi) in [
        ("width", &mut opts.width, 200, 4000),
        ("height", &mut opts.height, 150, 3000),
    ] {
        if let Some(v) = opt_i64(o, key)? {
            if !(lo..=hi).contains(&v) {
                return Err(rt_err(format!(
                    "{key} must be {lo} to {hi} pixels, not {v}"
                )));
            }
            *slot = v as u32;
        }
    }
    Ok(Common {
        opts,
        from: opt_time(o, "from")?,
        to: opt_time(o, "to")?,
    })
}

fn opt_time(m: &Map, key: &str) -> RhaiResult<Option<i64>> {
    match m.get(key) {
        Some(v) if v.is_string() => crate::time::parse_time(&v.to_string())
            .map(Some)
            .map_err(|e| rt_err(e.to_string())),
        _ => opt_i64(m, key),
    }
}

/// Index range `[start, end)` of `times` within `from..=to`.
fn window(times: &[i64], from: Option<i64>, to: Option<i64>) -> (usize, usize) {
    let start = from.map_or(0, |f| times.partition_point(|&t| t < f));
    let end = to.map_or(times.len(), |t| times.partition_point(|&x| x <= t));
    (start, end.max(start))
}

fn bars_title(b: &Bars) -> String {
    let synthetic = if b.source.is_synthetic() {
        " (synthetic demo data)"
    } else {
        ""
    };
    format!("{} {}{synthetic}", b.id, b.interval)
}

fn plot_series(series: &[(String, Series)], o: &Map) -> RhaiResult<Rich> {
    let mut c = common(o, SERIES_KEYS, "plot")?;
    let time: Option<Vec<i64>> = match o.get("time") {
        None => None,
        Some(v) if v.is_unit() => None,
        Some(v) => {
            if let Some(b) = v.read_lock::<Bars>() {
                Some(b.time.to_vec())
            } else if let Some(s) = v.read_lock::<Series>() {
                Some(s.values().iter().map(|&t| t as i64).collect())
            } else {
                return Err(rt_err(
                    "option 'time' must be the Bars or a time Series the values belong to",
                ));
            }
        }
    };
    if let Some(t) = &time {
        for (name, s) in series {
            if s.len() != t.len() {
                return Err(rt_err(format!(
                    "'{name}' has {} values but time has {}; pass the bars it was computed from",
                    s.len(),
                    t.len()
                )));
            }
        }
    } else if c.from.is_some() || c.to.is_some() {
        return Err(rt_err("from/to need a time axis; add time: bars"));
    }
    c.opts.time_axis = time.is_some();
    let longest = series.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
    let times = time.unwrap_or_else(|| (0..longest as i64).collect());
    let (a, b) = window(&times, c.from, c.to);
    let lines: Vec<Line<'_>> = series
        .iter()
        .map(|(name, s)| {
            let end = b.min(s.len());
            let start = a.min(end);
            Line {
                label: name,
                times: &times[start..end],
                values: &s.values()[start..end],
            }
        })
        .collect();
    let chart = plot::lines_chart(&lines, &c.opts).map_err(|e| rt_err(e.to_string()))?;
    Ok(Rich(chart.bundle()))
}

/// Overlays from the `overlays` option, each as long as the bars.
fn overlays(o: &Map, n: usize) -> RhaiResult<Vec<(String, Series)>> {
    let list = match o.get("overlays") {
        None => return Ok(Vec::new()),
        Some(v) if v.is_unit() => return Ok(Vec::new()),
        Some(v) => named("overlay", v)?,
    };
    for (name, s) in &list {
        if s.len() != n {
            return Err(rt_err(format!(
                "overlay '{name}' has {} values but the bars have {n}; compute it from the same bars",
                s.len()
            )));
        }
    }
    Ok(list)
}

fn result_title(r: &BacktestResult) -> String {
    let synthetic = if r.synthetic {
        " (synthetic demo data)"
    } else {
        ""
    };
    format!(
        "{} on {} {}{synthetic}",
        r.name,
        r.ids.join(", "),
        r.interval
    )
}

/// The equity / buy & hold / drawdown chart of a backtest.
pub fn result_chart(r: &BacktestResult, opts: &ChartOpts) -> crate::error::Result<plot::Chart> {
    let mut opts = opts.clone();
    if opts.title.is_empty() {
        opts.title = result_title(r);
    }
    plot::equity_chart(
        &r.time,
        &r.equity,
        Some(&r.benchmark),
        Some(&r.drawdown),
        &opts,
    )
}

/// A backtest's tear sheet (stats table + equity chart); see [`plot::TearSheet`] for how to
/// display it.
pub fn result_tear_sheet(r: &BacktestResult) -> crate::error::Result<plot::TearSheet> {
    result_tear_sheet_with(r, &[])
}

/// The tear sheet with `extra` rows after the stats (an LLM agent's decision counts, tokens, cost).
pub fn result_tear_sheet_with(
    r: &BacktestResult,
    extra: &[(String, f64)],
) -> crate::error::Result<plot::TearSheet> {
    let chart = result_chart(r, &ChartOpts::default())?;
    let mut stats: Vec<(String, f64)> = r
        .stats
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.as_f64()))
        .collect();
    stats.extend_from_slice(extra);
    Ok(plot::tear_sheet(&result_title(r), &stats, chart))
}

fn plot_result(r: &BacktestResult, o: &Map) -> RhaiResult<Rich> {
    let c = common(o, RESULT_KEYS, "plot")?;
    let (a, b) = window(&r.time, c.from, c.to);
    let mut opts = c.opts;
    if opts.title.is_empty() {
        opts.title = result_title(r);
    }
    let chart = plot::equity_chart(
        &r.time[a..b],
        &r.equity[a..b.min(r.equity.len())],
        Some(&r.benchmark[a.min(r.benchmark.len())..b.min(r.benchmark.len())]),
        Some(&r.drawdown[a.min(r.drawdown.len())..b.min(r.drawdown.len())]),
        &opts,
    )
    .map_err(|e| rt_err(e.to_string()))?;
    Ok(Rich(chart.bundle()))
}

/// Entry and exit markers of the trades a backtest made on token `id` (open trades: entry only).
pub fn result_markers(r: &BacktestResult, id: &str) -> Vec<TradeMarker> {
    let mut out = Vec::new();
    let single = r.ids.len() == 1;
    for t in r.trades.iter().chain(&r.open_trades) {
        if !single && r.ids.get(t.asset).is_none_or(|a| a != id) {
            continue;
        }
        let long = t.side == Side::Buy;
        out.push(TradeMarker {
            time: t.entry_time,
            price: t.entry_price,
            kind: MarkerKind::Entry { long },
        });
        if t.exit_reason != ExitReason::Open {
            let kind = MarkerKind::from_exit_reason(t.exit_reason.name());
            out.push(TradeMarker {
                time: t.exit_time,
                price: t.exit_price,
                kind,
            });
        }
    }
    out
}

fn plot_candles(bars: &Bars, o: &Map) -> RhaiResult<Rich> {
    let mut c = common(o, BARS_KEYS, "plot_candles")?;
    if c.opts.title.is_empty() {
        c.opts.title = bars_title(bars);
    }
    let over = overlays(o, bars.len())?;
    let markers = match o.get("trades") {
        None => Vec::new(),
        Some(v) => match v.read_lock::<ResultValue>() {
            Some(r) => result_markers(&r.result, &bars.id),
            None => trade_markers(v)?,
        },
    };
    let (a, b) = window(&bars.time, c.from, c.to);
    let ohlc = ohlc(bars, a, b);
    let lines = lines(&over, &bars.time, a, b);
    let chart =
        plot::candles_chart(&ohlc, &lines, &markers, &c.opts).map_err(|e| rt_err(e.to_string()))?;
    Ok(Rich(chart.bundle()))
}

fn plot_signals(bars: &Bars, signals: &[(String, Series)], o: &Map) -> RhaiResult<Rich> {
    let mut c = common(o, SIGNAL_KEYS, "plot_signals")?;
    if c.opts.title.is_empty() {
        c.opts.title = bars_title(bars);
    }
    for (name, s) in signals {
        if s.len() != bars.len() {
            return Err(rt_err(format!(
                "signal '{name}' has {} values but the bars have {}; compute it from the same bars",
                s.len(),
                bars.len()
            )));
        }
    }
    let over = overlays(o, bars.len())?;
    let (a, b) = window(&bars.time, c.from, c.to);
    let sigs: Vec<Signal<'_>> = signals
        .iter()
        .map(|(name, s)| Signal {
            label: name,
            values: &s.values()[a..b],
        })
        .collect();
    let chart = plot::signals_chart(
        &ohlc(bars, a, b),
        &sigs,
        &lines(&over, &bars.time, a, b),
        &c.opts,
    )
    .map_err(|e| rt_err(e.to_string()))?;
    Ok(Rich(chart.bundle()))
}

fn ohlc(bars: &Bars, a: usize, b: usize) -> Ohlc<'_> {
    Ohlc {
        time: &bars.time[a..b],
        open: &bars.open.values()[a..b],
        high: &bars.high.values()[a..b],
        low: &bars.low.values()[a..b],
        close: &bars.close.values()[a..b],
    }
}

fn lines<'a>(over: &'a [(String, Series)], time: &'a [i64], a: usize, b: usize) -> Vec<Line<'a>> {
    over.iter()
        .map(|(name, s)| Line {
            label: name,
            times: &time[a..b],
            values: &s.values()[a..b],
        })
        .collect()
}

/// Trade markers from a trades frame, a map holding `trades`, or an array of maps.
fn trade_markers(v: &Dynamic) -> RhaiResult<Vec<TradeMarker>> {
    let mut out = Vec::new();
    if v.is_unit() {
        return Ok(out);
    }
    if let Some(f) = v.read_lock::<crate::frame::Frame>() {
        for i in 0..f.len() {
            if let Some(row) = f.row(i) {
                trade_row(&row, &mut out)?;
            }
        }
    } else if let Some(a) = v.read_lock::<Array>() {
        for x in a.iter() {
            let m = x.read_lock::<Map>().ok_or_else(|| {
                rt_err(format!(
                    "each trade must be a map like #{{ time, price, kind }}, not {}",
                    x.type_name()
                ))
            })?;
            trade_row(&m, &mut out)?;
        }
    } else if let Some(m) = v.read_lock::<Map>() {
        match m.get("trades") {
            Some(t) => return trade_markers(t),
            None => trade_row(&m, &mut out)?,
        }
    } else {
        return Err(rt_err(format!(
            "trades must be a backtest result, its .trades, or an array of #{{ time, price, kind }}, not {}",
            v.type_name()
        )));
    }
    Ok(out)
}

fn num(m: &Map, key: &str) -> RhaiResult<Option<f64>> {
    super::api::opt_f64(m, key).map(|v| v.filter(|x| x.is_finite()))
}

/// One row: a trade (`entry_time`, `entry_price`, `exit_time`, `exit_price`, `exit_reason`,
/// `side`) gives an entry and, when closed, an exit marker; a marker map gives one marker.
fn trade_row(m: &Map, out: &mut Vec<TradeMarker>) -> RhaiResult<()> {
    let text = |k: &str| {
        m.get(k)
            .filter(|v| v.is_string())
            .map(|v| v.to_string().to_ascii_lowercase())
    };
    if m.contains_key("entry_time") {
        let long = match text("side").or_else(|| text("direction")) {
            Some(s) => !(s.starts_with("short") || s.starts_with("sell")),
            None => num(m, "qty")?.is_none_or(|q| q >= 0.0),
        };
        if let (Some(t), Some(p)) = (opt_time(m, "entry_time")?, num(m, "entry_price")?) {
            out.push(TradeMarker {
                time: t,
                price: p,
                kind: MarkerKind::Entry { long },
            });
        }
        if let (Some(t), Some(p)) = (opt_time(m, "exit_time")?, num(m, "exit_price")?) {
            let reason = text("exit_reason")
                .or_else(|| text("reason"))
                .unwrap_or_default();
            out.push(TradeMarker {
                time: t,
                price: p,
                kind: MarkerKind::from_exit_reason(&reason),
            });
        }
        return Ok(());
    }
    let (Some(t), Some(p)) = (opt_time(m, "time")?, num(m, "price")?) else {
        return Err(rt_err(
            "a trade marker needs time and price, e.g. #{ time: t, price: 1.5, kind: \"buy\" }",
        ));
    };
    let kind = match text("kind").or_else(|| text("side")).as_deref() {
        Some("buy" | "long" | "entry" | "long_entry") => MarkerKind::Entry { long: true },
        Some("short" | "short_entry" | "sell_short") => MarkerKind::Entry { long: false },
        Some(other) => MarkerKind::from_exit_reason(other),
        None => MarkerKind::Entry { long: true },
    };
    out.push(TradeMarker {
        time: t,
        price: p,
        kind,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::{Candle, Source};
    use crate::interval::Interval;
    use crate::script::docs::Docs;
    use rhai::{Engine, Scope};

    fn run(code: &str) -> Result<Rich, Box<rhai::EvalAltResult>> {
        let mut engine = Engine::new();
        engine.register_type_with_name::<Series>("Series");
        engine.register_type_with_name::<Bars>("Bars");
        let mut docs = Docs::default();
        let rt = Runtime::new(crate::data::config::Config::for_home(std::env::temp_dir()));
        register(&mut Api::new(&mut engine, &mut docs), &rt);
        engine.register_fn("gt", |s: Series, x: f64| s.map_bool(|v| v > x));
        let candles: Vec<Candle> = (0..120)
            .map(|i| {
                let c = 100.0 + 10.0 * (i as f64 * 0.2).sin();
                Candle {
                    time: 1_704_067_200 + i * 3600,
                    open: c - 0.5,
                    high: c + 1.0,
                    low: c - 1.5,
                    close: c,
                    volume: 1.0,
                }
            })
            .collect();
        let bars =
            Bars::from_candles("demo:T", Interval::H1, Source::Demo, &candles).expect("ascending");
        let mut scope = Scope::new();
        scope.push("close", bars.close.clone());
        scope.push("bars", bars);
        engine.eval_with_scope::<Rich>(&mut scope, code)
    }

    fn text(r: &Rich) -> String {
        r.0.plain().unwrap_or_default().to_string()
    }

    #[test]
    fn plot_of_a_series_counts_bars_without_a_time_axis() {
        let r = run("plot(close)").unwrap();
        assert!(r.0.data.contains_key("image/svg+xml"));
        assert!(text(&r).contains("bars 0 → 119"), "{}", text(&r));
        assert!(text(&r).contains("series: first 100.00"));
    }

    #[test]
    fn map_names_become_labels_and_time_bars_give_dates() {
        let r = run("plot(#{ close: close }, #{ time: bars, from: \"2024-01-02\" })").unwrap();
        assert!(
            text(&r).contains("2024-01-02 00:00 → 2024-01-05 23:00 UTC"),
            "{}",
            text(&r)
        );
        assert!(text(&r).contains("close: first"));
    }

    #[test]
    fn plot_bars_draws_candles_titled_as_synthetic() {
        let r = run("plot(bars)").unwrap();
        assert!(
            text(&r).contains("demo:T 1h (synthetic demo data)"),
            "{}",
            text(&r)
        );
        assert!(text(&r).contains("(candles)"));
    }

    #[test]
    fn candles_take_overlays_and_trade_rows() {
        let r = run(
            "plot_candles(bars, #{ overlays: #{ mid: close }, trades: [\
               #{ entry_time: \"2024-01-01 05:00\", entry_price: 101.0, exit_time: \"2024-01-02 05:00\", exit_price: 97.0, exit_reason: \"stop_loss\" },\
               #{ time: 1704153600, price: 99.5, kind: \"take_profit\" }] })",
        )
        .unwrap();
        let t = text(&r);
        assert!(
            t.contains("markers: 1 long entry (▲), 1 stop-loss (✕), 1 take-profit (◆)"),
            "{t}"
        );
        assert!(t.contains("mid: first"));
    }

    #[test]
    fn signals_accept_a_single_series() {
        let r = run("plot_signals(bars, gt(close, 105.0))").unwrap();
        assert!(
            text(&r).contains("signal: 42 true of 120 bars"),
            "{}",
            text(&r)
        );
    }

    #[test]
    fn mistakes_get_errors_that_name_the_fix() {
        let e = run("plot_candles(bars, #{ overlay: close })")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean 'overlays'"), "{e}");
        let e = run("plot(close, #{ from: \"2024-01-02\" })")
            .unwrap_err()
            .to_string();
        assert!(e.contains("add time: bars"), "{e}");
        let e = run("plot_candles(bars, #{ overlays: [close, 1] })")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot plot"), "{e}");
    }

    #[test]
    fn backtest_results_plot_as_equity_and_mark_their_trades() {
        let home = std::env::temp_dir().join(format!("stratbook-plot-{}", std::process::id()));
        let mut session = crate::script::Session::new(crate::data::config::Config::for_home(home));
        let setup = "let bars = klines(\"demo:PEPE\", \"1h\").tail(300);\n\
            let fast = sma(bars.close, 10); let slow = sma(bars.close, 30);\n\
            let r = backtest(bars, strategy(#{ entry: crossover(fast, slow), exit: crossunder(fast, slow) }));";
        session.execute(setup).expect("backtest runs");
        let eq = session
            .execute("plot(r)")
            .expect("plot(r)")
            .value
            .expect("a display");
        let eq_text = eq.plain().unwrap_or_default();
        assert!(eq_text.starts_with("Equity chart"), "{eq_text}");
        assert!(eq_text.contains("buy & hold: first 10000.00"), "{eq_text}");
        assert!(eq.data.contains_key("image/svg+xml"));
        let n: f64 = match session.execute("r.stats.n_trades").expect("stats").value {
            Some(b) => b.plain().unwrap_or_default().parse().unwrap_or(-1.0),
            None => -1.0,
        };
        let c = session
            .execute("plot_candles(bars, #{ trades: r })")
            .expect("candles with trades")
            .value
            .expect("a display");
        let text = c.plain().unwrap_or_default();
        // Closed trades plus, maybe, one still open at the end: each has an entry marker.
        assert!(n >= 1.0, "the demo strategy trades");
        let closed = format!("markers: {} long entry", n as usize);
        let with_open = format!("markers: {} long entry", n as usize + 1);
        assert!(
            text.contains(&closed) || text.contains(&with_open),
            "{n} trades but: {text}"
        );
    }
}
