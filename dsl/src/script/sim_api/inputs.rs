//! What `simulate()` reads from its arguments and checks before a simulation starts: the
//! tokens of a live source, a resumed simulation's span and what a resume may not change, a
//! replay's look-ahead check, the strategy's source for the store.

use super::*;

/// The token ids of a live simulation's source: an id, an array of ids, or a map of id →
/// interval (several tokens share the cash, as in a portfolio backtest), with the interval the
/// map names; `None` for bars to replay.
pub(super) fn live_ids(source: &Dynamic) -> RhaiResult<Option<(Vec<String>, Option<String>)>> {
    let (ids, interval): (Vec<String>, Option<String>) = if let Ok(s) = source.clone().into_string()
    {
        (vec![s], None)
    } else if let Some(a) = source.read_lock::<rhai::Array>() {
        match a.iter().map(|v| v.clone().into_string().ok()).collect() {
            Some(ids) => (ids, None),
            None => return Ok(None),
        }
    } else if let Some(m) = source.read_lock::<Map>() {
        let Some(ivs) = m
            .values()
            .map(|v| v.clone().into_string().ok())
            .collect::<Option<Vec<String>>>()
        else {
            return Ok(None);
        };
        if ivs.windows(2).any(|w| w[0] != w[1]) {
            return Err(rt_err(format!(
                "the tokens of a live simulation share one interval (a bar of each closes together); got {}",
                ivs.join(", ")
            )));
        }
        (
            m.keys().map(|k| k.to_string()).collect(),
            ivs.first().cloned(),
        )
    } else {
        return Ok(None);
    };
    if ids.is_empty() {
        return Err(rt_err(
            "simulate needs at least one token, e.g. simulate(#{ \"demo:BTC\": \"1m\", \"demo:ETH\": \"1m\" }, ..)",
        ));
    }
    for (k, id) in ids.iter().enumerate() {
        if ids[..k].contains(id) {
            return Err(rt_err(format!("{id} is given twice")));
        }
    }
    Ok(Some((ids, interval)))
}

/// The first live bar and the end of a live simulation, from its stored config.
pub(super) fn live_span(row: &SimRow) -> Option<(i64, Option<i64>)> {
    if !row.source.starts_with("live ") {
        return None;
    }
    let c: serde_json::Value = serde_json::from_str(&row.config).ok()?;
    let live = c.get("live")?;
    Some((
        live.get("start")?.as_i64()?,
        live.get("end").and_then(|e| e.as_i64()),
    ))
}

/// A replay computes `|bars| strategy(..)` once on its whole input. That equals recomputing it on
/// the growing bars, as a live simulation does, only when no signal depends on a later bar; this
/// checks it: the signals computed on the bars up to a few cut points must agree with the whole
/// input's up to each cut, else the replay is refused with the first bar that differs.
pub(super) fn no_look_ahead(
    nctx: &NativeCallContext,
    f: &FnPtr,
    b: &Bars,
    whole: &StrategyValue,
) -> RhaiResult<()> {
    let Some(sig) = &whole.signals else {
        return Ok(());
    };
    let n = b.len();
    if n < 16 {
        return Ok(());
    }
    for cut in [n / 4, n / 2, 3 * n / 4, n - 1] {
        let v: Dynamic = f.call_within_context(nctx, (b.head(cut),))?;
        let Some(part) = v
            .read_lock::<StrategyValue>()
            .and_then(|p| p.signals.clone())
        else {
            continue;
        };
        let pairs = [
            ("entry", &sig.entry, &part.entry),
            ("exit", &sig.exit, &part.exit),
            ("short_entry", &sig.short_entry, &part.short_entry),
            ("short_exit", &sig.short_exit, &part.short_exit),
        ];
        for (name, w, p) in pairs {
            let (Some(w), Some(p)) = (w, p) else { continue };
            if let Some(i) =
                (0..cut.min(p.len()).min(w.len())).find(|&i| w.is_true(i) != p.is_true(i))
            {
                return Err(rt_err(format!(
                    "the strategy looks ahead: its {name} signal at bar {i} ({}) is {} on the whole data but {} on the bars up to {}; a signal may use only its own and earlier bars (e.g. shift(1), rolling windows), never a later one or a whole-series statistic",
                    crate::time::format_time(b.time[i]),
                    w.is_true(i),
                    p.is_true(i),
                    crate::time::format_time(b.time[cut - 1])
                )));
            }
        }
    }
    Ok(())
}

/// The strategy as the store keeps it: an `on_bar` function's source, else a description.
pub(super) fn strategy_source(strat: &Dynamic) -> String {
    let name = strat
        .read_lock::<StrategyValue>()
        .and_then(|s| s.on_bar.as_ref().map(|f| f.fn_name().to_string()))
        .or_else(|| strat.read_lock::<FnPtr>().map(|f| f.fn_name().to_string()));
    if let Some(n) = name {
        return format!("fn {n}");
    }
    if let Some(s) = strat.read_lock::<StrategyValue>() {
        return s.render().plain().unwrap_or_default().to_string();
    }
    strat.type_name().to_string()
}

/// The error for a source simulate cannot read, with the forms it takes.
pub(super) fn bad_source(
    source: &Dynamic,
    e: Box<rhai::EvalAltResult>,
) -> Box<rhai::EvalAltResult> {
    if source.is_map() {
        // A map of Bars with an entry that is not: read_bars names the entry.
        return e;
    }
    rt_err(format!(
        "simulate runs on a token id (\"demo:BTC\", with an interval in the options), an array or a map of token ids (#{{ \"demo:BTC\": \"1m\", .. }}), Bars (a replay) or a map of Bars, not {}",
        source.type_name()
    ))
}

/// What a resume changes of the simulation it continues, if anything: the tokens, the
/// options, the strategy's source, or a replay's bars (id, interval, count and span). A resume
/// re-runs the committed bars silently and trusts they are the same run.
pub(super) fn resume_differs(
    row: &SimRow,
    tokens: &[String],
    config: &serde_json::Value,
    strategy: &str,
    provenance: &str,
) -> Option<String> {
    if row.tokens != tokens {
        return Some(format!(
            "{}, not {}",
            row.tokens.join(", "),
            tokens.join(", ")
        ));
    }
    let was: serde_json::Value = serde_json::from_str(&row.config).ok()?;
    let (Some(was), Some(now)) = (was.as_object(), config.as_object()) else {
        return None;
    };
    // The name is the simulation's own; a live span is read back from the row.
    let mut changed: Vec<String> = was
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "strategy" | "live"))
        // Rows written before size and exits were stored as JSON hold their debug text.
        .filter(|(k, v)| !(matches!(k.as_str(), "size" | "exits") && v.is_string()))
        .filter(|(k, v)| now.get(*k).unwrap_or(&serde_json::Value::Null) != *v)
        .map(|(k, v)| {
            format!(
                "{k} {v}, not {}",
                now.get(k).unwrap_or(&serde_json::Value::Null)
            )
        })
        .collect();
    if !changed.is_empty() {
        changed.sort();
        return Some(changed.join(", "));
    }
    // A closure's name (`anon$…`) is a hash Rhai derives from more than its text (a notebook's
    // parameters change it), so closures are not compared: the tokens, options and bars are.
    if row.strategy != strategy && !row.strategy.contains("anon$") && !strategy.contains("anon$") {
        return Some(format!(
            "another strategy ({})",
            row.strategy.lines().next().unwrap_or("")
        ));
    }
    // A replay's bars, without where they were read from (a cache or the API).
    let bars = |p: &str| -> Vec<String> {
        p.split("; ")
            .map(|x| x.split(" (").next().unwrap_or(x).to_string())
            .collect()
    };
    if !row.source.starts_with("live ") && bars(&row.provenance) != bars(provenance) {
        return Some(format!(
            "other bars ({}, not {})",
            bars(&row.provenance).join("; "),
            bars(provenance).join("; ")
        ));
    }
    None
}
