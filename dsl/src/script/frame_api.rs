//! `Frame` in scripts: trade logs, signal logs, sweep results and `table([...])`.

use super::api::{Api, IntoRhai, RhaiResult, rt_err};
use crate::frame::{Column, Frame};
use crate::sandbox::Access;
use crate::script::runtime::Runtime;
use rhai::{Array, Dynamic, INT, Map};
use std::sync::Arc;

fn column(f: &mut Frame, name: &str) -> RhaiResult<Dynamic> {
    match f.get(name) {
        Some(Column::Str(v)) => Ok(Dynamic::from_array(
            v.iter().map(|s| Dynamic::from(s.clone())).collect(),
        )),
        Some(_) => Ok(Dynamic::from(f.series(name).expect("numeric column"))),
        None => Err(rt_err(format!(
            "no column '{name}'; columns are: {}",
            f.names().join(", ")
        ))),
    }
}

/// A frame from an array of maps (one per row; columns in first-seen order).
pub fn from_rows(rows: &Array) -> RhaiResult<Frame> {
    let mut names: Vec<String> = Vec::new();
    let maps: Vec<Map> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.read_lock::<Map>()
                .map(|m| m.clone())
                .ok_or_else(|| rt_err(format!("table() needs maps; row {i} is {}", r.type_name())))
        })
        .collect::<RhaiResult<_>>()?;
    for m in &maps {
        for k in m.keys() {
            if !names.iter().any(|n| n == k.as_str()) {
                names.push(k.to_string());
            }
        }
    }
    // Text columns (names, labels) read best first; maps keep their keys sorted otherwise.
    names.sort_by_key(|n| {
        !maps
            .iter()
            .any(|m| m.get(n.as_str()).is_some_and(|v| v.is_string()))
    });
    let cols = names
        .iter()
        .map(|n| {
            let vals: Vec<Option<&Dynamic>> = maps.iter().map(|m| m.get(n.as_str())).collect();
            let numeric = vals
                .iter()
                .all(|v| v.is_none_or(|v| v.is_float() || v.is_int() || v.is_unit()));
            let boolean = vals.iter().all(|v| v.is_some_and(|v| v.is_bool()));
            let col = if boolean {
                Column::Bool(
                    vals.iter()
                        .map(|v| v.and_then(|v| v.as_bool().ok()).unwrap_or(false))
                        .collect(),
                )
            } else if numeric
                && vals.iter().all(|v| {
                    v.is_some_and(|v| {
                        v.is_int()
                            || v.as_float()
                                .is_ok_and(|f| f.fract() == 0.0 && f.abs() < 1e15)
                    })
                })
            {
                // Whole numbers (counts) show without decimals.
                Column::I64(
                    vals.iter()
                        .map(|v| {
                            v.and_then(|v| {
                                v.as_int()
                                    .ok()
                                    .or_else(|| v.as_float().ok().map(|f| f as i64))
                            })
                            .unwrap_or(0)
                        })
                        .collect(),
                )
            } else if numeric {
                Column::F64(
                    vals.iter()
                        .map(|v| {
                            v.and_then(|v| {
                                v.as_float()
                                    .ok()
                                    .or_else(|| v.as_int().ok().map(|i| i as f64))
                            })
                            .unwrap_or(f64::NAN)
                        })
                        .collect(),
                )
            } else {
                Column::Str(
                    vals.iter()
                        .map(|v| {
                            v.map(|v| match v.clone().into_immutable_string() {
                                // A string cell is the string itself, not its quoted display.
                                Ok(text) => text.to_string(),
                                Err(_) => super::render::render(v)
                                    .plain()
                                    .unwrap_or_default()
                                    .to_string(),
                            })
                            .unwrap_or_default()
                        })
                        .collect(),
                )
            };
            (n.clone(), col)
        })
        .collect();
    Frame::new(cols).rhai()
}

/// A heatmap of `metric` over the `x` and `y` columns (a two-parameter sweep).
pub fn heatmap(
    f: &Frame,
    x: &str,
    y: &str,
    metric: &str,
    opts: &crate::plot::ChartOpts,
) -> crate::error::Result<crate::plot::Chart> {
    let (xs, ys, vals) = f.grid(x, y, metric)?;
    let mut o = opts.clone();
    if o.title.is_empty() {
        o.title = format!("{metric} by {x} and {y}");
    }
    crate::plot::heatmap(x, &xs, y, &ys, &vals, metric, &o)
}

fn plot_frame(f: &Frame, opts: &Map) -> RhaiResult<super::display_api::Rich> {
    super::api::check_keys(opts, "plot", &["x", "y", "metric", "title"])?;
    let hint = f.heatmap.clone();
    let pick = |k: &str, i: usize| -> RhaiResult<String> {
        match super::api::opt_str(opts, k)? {
            Some(v) => Ok(v),
            None => hint
                .as_ref()
                .map(|h| [h.0.clone(), h.1.clone(), h.2.clone()][i].clone())
                .ok_or_else(|| {
                    rt_err(format!(
                        "plot(frame, #{{ x, y, metric }}) needs '{k}' (a column name)"
                    ))
                }),
        }
    };
    let (x, y, m) = (pick("x", 0)?, pick("y", 1)?, pick("metric", 2)?);
    let o = crate::plot::ChartOpts {
        title: super::api::opt_str(opts, "title")?.unwrap_or_default(),
        ..Default::default()
    };
    heatmap(f, &x, &y, &m, &o)
        .map(|c| super::display_api::Rich(c.bundle()))
        .rhai()
}

pub fn register(api: &mut Api, rt: &Arc<Runtime>) {
    api.engine.register_type_with_name::<Frame>("Frame");
    api.func("table", &["rows: array"], "Frame", |rows: Array| {
        from_rows(&rows)
    });
    api.method("Frame", "len", &[], "int", |f: &mut Frame| f.len() as INT);
    api.getter("Frame", "columns", "array", |f: &mut Frame| -> Array {
        f.names().into_iter().map(Dynamic::from).collect()
    });
    api.engine
        .register_indexer_get(|f: &mut Frame, name: &str| column(f, name));
    api.doc_only("[]", "Frame[name: string] -> Series | array", Some("Frame"));
    api.method(
        "Frame",
        "column",
        &["name: string"],
        "Series | array",
        |f: &mut Frame, name: &str| column(f, name),
    );
    api.method(
        "Frame",
        "row",
        &["i: int"],
        "map",
        |f: &mut Frame, i: INT| -> RhaiResult<Map> {
            let n = f.len() as INT;
            let j = if i < 0 { n + i } else { i };
            f.row(j.max(0) as usize)
                .ok_or_else(|| rt_err(format!("row {i} is out of range for a frame of {n} rows")))
        },
    );
    api.method("Frame", "rows", &[], "array", |f: &mut Frame| -> Array {
        (0..f.len())
            .filter_map(|i| f.row(i))
            .map(Dynamic::from_map)
            .collect()
    });
    api.method(
        "Frame",
        "head",
        &["n: int"],
        "Frame",
        |f: &mut Frame, n: INT| f.head(n.max(0) as usize),
    );
    api.method(
        "Frame",
        "tail",
        &["n: int"],
        "Frame",
        |f: &mut Frame, n: INT| f.tail(n.max(0) as usize),
    );
    api.method(
        "Frame",
        "sort",
        &["column: string", "descending: bool"],
        "Frame",
        |f: &mut Frame, c: &str, desc: bool| f.sort_by(c, desc).rhai(),
    );
    api.method(
        "Frame",
        "plot",
        &["opts: map"],
        "Plot",
        |f: &mut Frame, o: Map| plot_frame(f, &o),
    );
    api.engine
        .register_fn("plot", |f: &mut Frame| plot_frame(f, &Map::new()));
    let r = rt.clone();
    api.method(
        "Frame",
        "to_csv",
        &["path: string"],
        "()",
        move |f: &mut Frame, p: &str| {
            let file = r
                .config
                .sandbox
                .resolve("to_csv", p, Access::Write)
                .rhai()?;
            f.to_csv_file(&file, p).rhai()
        },
    );
}
