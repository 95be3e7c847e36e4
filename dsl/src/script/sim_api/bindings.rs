//! The Rhai face of simulations: `simulate`, `sim`, `sims` and the `Sim` methods registered,
//! re-attaching to a simulation by id, following one in a cell (`wait`, `watch`) and showing a
//! running one's card so it keeps updating after its cell (`show_live`).

use super::*;

fn attach(rt: &Runtime, id: i64) -> RhaiResult<SimValue> {
    let db = rt.config.db_path();
    let live = running().lock().map_err(sim_err)?.get(&id).cloned();
    let v = SimValue { id, db, live };
    v.row()?;
    Ok(v)
}

fn sims_frame(rt: &Runtime) -> RhaiResult<Frame> {
    let rows = SimStore::open(&rt.config.db_path())
        .and_then(|s| s.list())
        .map_err(sim_err)?;
    Frame::new(vec![
        (
            "id".into(),
            Column::I64(rows.iter().map(|r| r.id).collect()),
        ),
        (
            "name".into(),
            Column::Str(rows.iter().map(|r| r.name.clone()).collect()),
        ),
        (
            "status".into(),
            Column::Str(rows.iter().map(|r| r.status.clone()).collect()),
        ),
        (
            "source".into(),
            Column::Str(rows.iter().map(|r| r.source.clone()).collect()),
        ),
        (
            "bars".into(),
            Column::I64(rows.iter().map(|r| r.steps).collect()),
        ),
        (
            "equity".into(),
            Column::F64(rows.iter().map(|r| r.equity.unwrap_or(f64::NAN)).collect()),
        ),
        (
            "created_at".into(),
            Column::Time(rows.iter().map(|r| r.created_at).collect()),
        ),
    ])
    .map(|f| f.with_title("Simulations (newest first)"))
    .map_err(sim_err)
}

/// Blocks until the simulation ends; the cell's interrupt stops the waiting only.
fn wait(rt: &Runtime, s: &SimValue) -> RhaiResult<()> {
    let Some(l) = &s.live else {
        // Another process runs it: poll the database.
        loop {
            let st = s.row()?.status;
            if !crate::store::sim::is_active(&st) {
                return Ok(());
            }
            rt.cancel.check().map_err(sim_err)?;
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let mut g = l.done.lock().map_err(sim_err)?;
    loop {
        if let Some(r) = &*g {
            return r
                .clone()
                .map_err(|e| rt_err(format!("simulation {} failed: {e}", s.id)));
        }
        rt.cancel.check().map_err(sim_err)?;
        g = l
            .ended
            .wait_timeout(g, Duration::from_millis(50))
            .map_err(sim_err)?
            .0;
    }
}

/// Shows a running simulation's card so that it keeps updating after the cell ends (at most once
/// a second, through the host's background channel), until the simulation stops. False when the
/// host has no such channel (a headless run) or the simulation is over: the caller shows it as
/// any value.
pub fn show_live(rt: &Arc<Runtime>, s: &SimValue) -> bool {
    let live = |s: &SimValue| {
        s.row()
            .map(|r| crate::store::sim::is_active(&r.status))
            .unwrap_or(false)
    };
    if !rt.emitter.has_background() || !live(s) {
        return false;
    }
    let id = rt.emitter.new_display_id("sim");
    let card = s.render();
    let shown = card.plain().unwrap_or_default().to_string();
    rt.emitter.display(card, Some(id.clone()));
    let sim = s.clone();
    rt.add_live_display(
        id,
        shown,
        Box::new(move || {
            // The status first: a card rendered after the end shows the final state.
            let goes_on = live(&sim);
            (sim.render(), goes_on)
        }),
    );
    true
}

/// Follows the simulation in the cell: its card, updated in place once a second (the bars are
/// committed before the card reads them), until it ends or the cell is interrupted; the
/// interrupt stops the watching, never the simulation.
fn watch(rt: &Runtime, s: &SimValue) -> RhaiResult<()> {
    let id = rt.emitter.new_display_id("sim");
    rt.emitter.display(s.render(), Some(id.clone()));
    let mut shown = String::new();
    loop {
        for _ in 0..20 {
            if rt.cancel.is_cancelled() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let card = s.render();
        let text = card.plain().unwrap_or_default().to_string();
        if text != shown {
            rt.emitter.update(card, &id);
            shown = text;
        }
        if !crate::store::sim::is_active(&s.row()?.status) {
            return Ok(());
        }
    }
}

pub fn register(api: &mut Api, rt: &Arc<Runtime>) {
    api.engine.register_type_with_name::<SimValue>("Sim");
    let r = rt.clone();
    api.func(
        "simulate",
        &[
            "source: Bars | map",
            "strategy: Strategy | fn | string",
            "opts: map",
        ],
        "Sim",
        move |nctx: NativeCallContext, src: Dynamic, s: Dynamic, o: Map| {
            simulate(&nctx, &r, &src, &s, &o)
        },
    );
    let r = rt.clone();
    api.func(
        "simulate",
        &["source: Bars | map", "strategy: Strategy | fn | string"],
        "Sim",
        move |nctx: NativeCallContext, src: Dynamic, s: Dynamic| {
            simulate(&nctx, &r, &src, &s, &Map::new())
        },
    );
    let r = rt.clone();
    api.func("sims", &[], "Frame", move || sims_frame(&r));
    let r = rt.clone();
    api.func("sim", &["id: int"], "Sim", move |id: INT| attach(&r, id));
    api.getter("Sim", "id", "int", |s: &mut SimValue| s.id as INT);
    api.getter("Sim", "status", "string", |s: &mut SimValue| {
        s.row()
            .map(|r| r.status)
            .unwrap_or_else(|_| "unknown".into())
    });
    api.getter("Sim", "stats", "map", |s: &mut SimValue| -> Map {
        if let Some(r) = s.live.as_ref().and_then(|l| l.result.lock().ok()?.clone()) {
            return stats_map(&r);
        }
        let mut m = Map::new();
        if let Ok(Some(v)) = s.row().map(|r| r.stats)
            && let Some(o) = v.as_object()
        {
            for (k, v) in o {
                let d = match v {
                    serde_json::Value::Number(n) if n.is_i64() => {
                        Dynamic::from(n.as_i64().unwrap_or(0))
                    }
                    serde_json::Value::Number(n) => Dynamic::from(n.as_f64().unwrap_or(f64::NAN)),
                    _ => Dynamic::from(f64::NAN),
                };
                m.insert(k.as_str().into(), d);
            }
        }
        m
    });
    api.method("Sim", "stop", &[], "()", |s: &mut SimValue| {
        s.request(Request::Stop, "stop", Some("stopped".into()))
    });
    api.method(
        "Sim",
        "stop",
        &["opts: map"],
        "()",
        |s: &mut SimValue, o: Map| {
            if let Some(k) = o.keys().find(|k| k.as_str() != "close") {
                return Err(rt_err(format!(
                    "unknown stop option '{k}'; the one option is close: stop(#{{ close: false }}) keeps the positions open"
                )));
            }
            let close = o.get("close").map_or(Ok(true), |v| v.as_bool());
            match close {
                Ok(true) => s.request(Request::Stop, "stop", Some("stopped".into())),
                Ok(false) => s.request(Request::StopKeep, "stop_keep", None),
                Err(_) => Err(rt_err("close must be true or false")),
            }
        },
    );
    api.method("Sim", "pause", &[], "()", |s: &mut SimValue| {
        s.request(Request::Pause, "pause", None)
    });
    api.method("Sim", "resume", &[], "()", |s: &mut SimValue| {
        if let Some(l) = &s.live
            && l.control.get() == Request::Pause
        {
            l.control.set(Request::Run, None);
            return Ok(());
        }
        let st = s.row()?.status;
        if st == "paused" {
            return s.request(Request::Run, "resume", None);
        }
        Err(rt_err(format!(
            "simulation {} is {st}; to continue one that stopped or was interrupted, run simulate(source, strategy, #{{ resume: {} }}) with the same source and strategy",
            s.id, s.id
        )))
    });
    api.method("Sim", "emergency_stop", &[], "()", |s: &mut SimValue| {
        s.request(
            Request::Emergency,
            "emergency",
            Some("emergency stop".into()),
        )
    });
    api.method(
        "Sim",
        "emergency_stop",
        &["reason: string"],
        "()",
        |s: &mut SimValue, why: &str| {
            // Through the database (a simulation of another process) the reason goes along.
            let why = why.replace(['\n', '\r'], " ");
            s.request(
                Request::Emergency,
                &format!("emergency:{why}"),
                Some(format!("emergency stop: {why}")),
            )
        },
    );
    let r = rt.clone();
    api.method("Sim", "wait", &[], "Sim", move |s: &mut SimValue| {
        wait(&r, s).map(|_| s.clone())
    });
    let r = rt.clone();
    api.method("Sim", "watch", &[], "()", move |s: &mut SimValue| {
        watch(&r, s)
    });
    api.method("Sim", "signals", &[], "Frame", |s: &mut SimValue| {
        s.table(SimTable::Signals, "signals")
    });
    api.method("Sim", "trades", &[], "Frame", |s: &mut SimValue| {
        s.table(SimTable::Trades, "trades")
    });
    api.method("Sim", "fills", &[], "Frame", |s: &mut SimValue| {
        s.table(SimTable::Fills, "fills")
    });
    api.method("Sim", "equity", &[], "Frame", |s: &mut SimValue| {
        let (t, e) = s.store()?.equity(s.id).map_err(sim_err)?;
        frame(
            vec![("time".into(), Col::I64(t)), ("equity".into(), Col::F64(e))],
            &format!("Simulation {}: equity", s.id),
        )
    });
    api.method("Sim", "decisions", &[], "Frame", |s: &mut SimValue| {
        let d = sim_decisions(&s.db, s.id).map_err(sim_err)?;
        crate::script::backtest_api::decisions_frame(&d).map_err(sim_err)
    });
    api.method("Sim", "report", &[], "BacktestResult", |s: &mut SimValue| {
        s.live
            .as_ref()
            .and_then(|l| l.result.lock().ok()?.clone())
            .map(|r| ResultValue {
                result: r,
                saved: None,
                decisions: sim_decisions(&s.db, s.id)
                    .ok()
                    .filter(|d| !d.is_empty())
                    .map(Arc::new),
                title: Some(format!("Simulation {}", s.id)),
            })
            .ok_or_else(|| {
                rt_err("the report is ready when the simulation has ended in this session (sim.wait() first)")
            })
    });
}
