//! Rhai bindings for market data (family "Data"): `klines`, `pair_klines`, the demo feed,
//! `prices`, `search_tokens`, `token`, `chains`, CSV/Parquet files, and `Bars` properties and
//! methods (`resample`, `align`, `head`/`tail`, `to_csv`/`to_parquet`).
//!
//! One `DataService` per session, created on first use from the session's config. Long fetches
//! show an updating progress display and stop at the next page when the cell is interrupted.

use super::api::{Api, IntoRhai, RhaiResult, check_keys, opt_i64, opt_str, rt_err};
use super::horizon::{current_bar, visible};
use crate::bars::Bars;
use crate::data::ids::Kind;
use crate::data::market::Token;
use crate::data::service::{DataService, Hooks, KlineQuery};
use crate::data::{demo, files, resample};
use crate::display::Progress;
use crate::interval::Interval;
use crate::sandbox::Access;
use crate::script::runtime::Runtime;
use crate::series::Series;
use rhai::{Array, Dynamic, INT, Map};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

type Svc = Arc<OnceLock<DataService>>;

fn svc<'a>(s: &'a Svc, rt: &Runtime) -> &'a DataService {
    s.get_or_init(|| DataService::new(rt.config.clone()))
}

fn interval(s: &str) -> RhaiResult<Interval> {
    Interval::parse(s.trim()).rhai()
}

/// A time option: unix seconds (int or float) or "YYYY-MM-DD[ HH:MM]".
fn opt_time(m: &Map, key: &str) -> RhaiResult<Option<i64>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) if v.is_string() => {
            crate::time::parse_time(&v.clone().into_string().unwrap_or_default())
                .map(Some)
                .rhai()
        }
        Some(_) => opt_i64(m, key),
    }
}

fn query(opts: &Map) -> RhaiResult<KlineQuery> {
    check_keys(opts, "klines", &["from", "to", "limit"])?;
    let limit = match opt_i64(opts, "limit")? {
        Some(n) if n < 1 => return Err(rt_err(format!("limit must be at least 1, not {n}"))),
        n => n.map(|n| n as usize),
    };
    Ok(KlineQuery {
        from: opt_time(opts, "from")?,
        to: opt_time(opts, "to")?,
        limit,
    })
}

/// Loading bars inside `on_bar` would hand it bars after the current one.
fn not_in_on_bar(what: &str) -> RhaiResult<()> {
    match current_bar() {
        Some(i) => Err(rt_err(format!(
            "{what} inside on_bar (bar {i}) would read bars after the current one: load the bars before \
             the strategy and capture them (or the series computed from them) in the closure"
        ))),
        None => Ok(()),
    }
}

/// The bars a script may see now: all, except inside `on_bar` (see `script::horizon`).
fn seen(b: &Bars) -> Cow<'_, Bars> {
    let n = visible(b.len());
    if n < b.len() {
        Cow::Owned(b.head(n))
    } else {
        Cow::Borrowed(b)
    }
}

fn fetch(s: &Svc, rt: &Runtime, id: &str, kind: Kind, iv: &str, opts: &Map) -> RhaiResult<Bars> {
    not_in_on_bar(if kind == Kind::Pair {
        "pair_klines"
    } else {
        "klines"
    })?;
    let iv = interval(iv)?;
    let q = query(opts)?;
    let label = format!("fetching {} {iv}", id.trim());
    let mut progress: Option<Progress<'_>> = None;
    let mut report = |done: u64, total: u64| {
        if total > 1 {
            progress
                .get_or_insert_with(|| Progress::new(&rt.emitter, &label, total))
                .set(done, "pages");
        }
    };
    let hooks = Hooks {
        cancel: Some(&rt.cancel),
        progress: Some(&mut report),
    };
    let out = svc(s, rt).klines(id, kind, iv, &q, hooks);
    if let Some(p) = progress.as_mut() {
        p.finish(if out.is_ok() { "done" } else { "stopped" });
    }
    out.rhai()
}

/// JSON to a script value: numbers, strings, arrays and maps as they are; null as ().
pub fn json_to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => n
            .as_i64()
            .map(Dynamic::from)
            .unwrap_or_else(|| n.as_f64().unwrap_or(f64::NAN).into()),
        Value::String(s) => s.clone().into(),
        Value::Array(a) => Dynamic::from_array(a.iter().map(json_to_dynamic).collect()),
        Value::Object(o) => Dynamic::from_map(
            o.iter()
                .map(|(k, v)| (k.as_str().into(), json_to_dynamic(v)))
                .collect(),
        ),
    }
}

fn token_map(t: &Token) -> Map {
    let mut m = Map::new();
    m.insert("token_id".into(), t.token_id.clone().into());
    m.insert("symbol".into(), t.symbol.clone().into());
    m.insert("name".into(), t.name.clone().into());
    m.insert("chain".into(), t.chain.clone().into());
    m.insert("price".into(), t.price.into());
    m.insert("change_24h_pct".into(), t.change_24h_pct.into());
    m.insert("tvl".into(), t.tvl.into());
    m.insert("volume_24h".into(), t.volume_24h.into());
    m.insert("market_cap".into(), t.market_cap.into());
    m.insert("holders".into(), t.holders.into());
    m.insert("main_pair".into(), t.main_pair.clone().into());
    m
}

fn read_opts(opts: &Map, what: &str) -> RhaiResult<(Option<Interval>, Option<String>)> {
    check_keys(opts, what, &["interval", "id"])?;
    let iv = opt_str(opts, "interval")?
        .map(|s| interval(&s))
        .transpose()?;
    Ok((iv, opt_str(opts, "id")?))
}

pub fn register(api: &mut Api, rt: &Arc<Runtime>) {
    api.engine.register_type_with_name::<Bars>("Bars");
    let s: Svc = Arc::new(OnceLock::new());
    register_sources(api, rt, &s);
    register_market(api, rt, &s);
    register_files(api, rt);
    register_bars(api);
}

fn register_sources(api: &mut Api, rt: &Arc<Runtime>, s: &Svc) {
    let (s1, r1) = (s.clone(), rt.clone());
    api.func(
        "klines",
        &["id: string", "interval: string"],
        "Bars",
        move |id: &str, iv: &str| fetch(&s1, &r1, id, Kind::Token, iv, &Map::new()),
    );
    let (s2, r2) = (s.clone(), rt.clone());
    api.func(
        "klines",
        &["id: string", "interval: string", "opts: map"],
        "Bars",
        move |id: &str, iv: &str, o: Map| fetch(&s2, &r2, id, Kind::Token, iv, &o),
    );
    let (s3, r3) = (s.clone(), rt.clone());
    api.func(
        "pair_klines",
        &["pair_id: string", "interval: string"],
        "Bars",
        move |id: &str, iv: &str| fetch(&s3, &r3, id, Kind::Pair, iv, &Map::new()),
    );
    let (s4, r4) = (s.clone(), rt.clone());
    api.func(
        "pair_klines",
        &["pair_id: string", "interval: string", "opts: map"],
        "Bars",
        move |id: &str, iv: &str, o: Map| fetch(&s4, &r4, id, Kind::Pair, iv, &o),
    );
    api.func("format_time", &["t: int"], "string", |t: INT| {
        crate::time::format_time(t)
    });
    api.func("format_time", &["t: float"], "string", |t: f64| {
        crate::time::format_time(t as i64)
    });
    api.func("format_date", &["t: int"], "string", |t: INT| {
        crate::time::format_date(t)
    });
    api.func("format_date", &["t: float"], "string", |t: f64| {
        crate::time::format_date(t as i64)
    });
    api.func("demo_tokens", &[], "array", || -> Array {
        demo::demo_tokens()
            .into_iter()
            .map(|(id, d)| {
                let mut m = Map::new();
                m.insert("id".into(), id.into());
                m.insert("description".into(), d.into());
                Dynamic::from_map(m)
            })
            .collect()
    });
}

fn register_market(api: &mut Api, rt: &Arc<Runtime>, s: &Svc) {
    let (s1, r1) = (s.clone(), rt.clone());
    api.func(
        "prices",
        &["ids: array"],
        "map",
        move |ids: Array| -> RhaiResult<Map> {
            let ids: Vec<String> = ids
                .into_iter()
                .map(|v| v.into_string().map_err(|t| rt_err(format!("prices needs an array of id strings, not {t}"))))
                .collect::<RhaiResult<_>>()?;
            let p = svc(&s1, &r1).prices(&ids, Some(&r1.cancel)).rhai()?;
            let mut m = Map::new();
            for (id, pr) in p.found {
                let mut e = Map::new();
                e.insert("price".into(), pr.price.into());
                e.insert("change_24h_pct".into(), pr.change_24h_pct.into());
                e.insert("tvl".into(), pr.tvl.into());
                e.insert("volume_24h".into(), pr.volume_24h.into());
                e.insert("updated_at".into(), (pr.updated_at as INT).into());
                m.insert(id.into(), Dynamic::from_map(e));
            }
            if !p.missing.is_empty() {
                r1.emitter.stderr(format!(
                    "prices: no price for {} (unknown id, or AVE has no price); check with search_tokens\n",
                    p.missing.join(", ")
                ));
                for id in p.missing {
                    m.insert(id.into(), Dynamic::UNIT);
                }
            }
            Ok(m)
        },
    );
    let (s2, r2) = (s.clone(), rt.clone());
    api.func(
        "search_tokens",
        &["keyword: string"],
        "array",
        move |kw: &str| -> RhaiResult<Array> {
            let list = svc(&s2, &r2).search_tokens(kw, Some(&r2.cancel)).rhai()?;
            Ok(list
                .iter()
                .map(|t| Dynamic::from_map(token_map(t)))
                .collect())
        },
    );
    let (s3, r3) = (s.clone(), rt.clone());
    api.func(
        "token",
        &["id: string"],
        "map",
        move |id: &str| -> RhaiResult<Map> {
            let (t, pairs) = svc(&s3, &r3).token(id, Some(&r3.cancel)).rhai()?;
            let mut m = token_map(&t);
            m.insert(
                "pairs".into(),
                Dynamic::from_array(pairs.iter().map(json_to_dynamic).collect()),
            );
            Ok(m)
        },
    );
    let (s4, r4) = (s.clone(), rt.clone());
    api.func("chains", &[], "array", move || -> RhaiResult<Array> {
        let list = svc(&s4, &r4).chains(Some(&r4.cancel)).rhai()?;
        Ok(list.iter().map(json_to_dynamic).collect())
    });
}

fn register_files(api: &mut Api, rt: &Arc<Runtime>) {
    // Every path goes through the sandbox (`crate::sandbox`) before a file is opened.
    let read = |rt: &Arc<Runtime>, what: &str, p: &str| {
        rt.config.sandbox.resolve(what, p, Access::Read).rhai()
    };
    let r = rt.clone();
    api.func("read_csv", &["path: string"], "Bars", move |p: &str| {
        not_in_on_bar("read_csv")?;
        files::read_csv_file(&read(&r, "read_csv", p)?, p, None, None).rhai()
    });
    let r = rt.clone();
    api.func(
        "read_csv",
        &["path: string", "opts: map"],
        "Bars",
        move |p: &str, o: Map| {
            not_in_on_bar("read_csv")?;
            let (iv, id) = read_opts(&o, "read_csv")?;
            files::read_csv_file(&read(&r, "read_csv", p)?, p, iv, id.as_deref()).rhai()
        },
    );
    let r = rt.clone();
    api.func("read_parquet", &["path: string"], "Bars", move |p: &str| {
        not_in_on_bar("read_parquet")?;
        files::read_parquet_file(&read(&r, "read_parquet", p)?, p, None, None).rhai()
    });
    let r = rt.clone();
    api.func(
        "read_parquet",
        &["path: string", "opts: map"],
        "Bars",
        move |p: &str, o: Map| {
            not_in_on_bar("read_parquet")?;
            let (iv, id) = read_opts(&o, "read_parquet")?;
            files::read_parquet_file(&read(&r, "read_parquet", p)?, p, iv, id.as_deref()).rhai()
        },
    );
    let r = rt.clone();
    api.method(
        "Bars",
        "to_csv",
        &["path: string"],
        "()",
        move |b: &mut Bars, p: &str| {
            let file = r
                .config
                .sandbox
                .resolve("to_csv", p, Access::Write)
                .rhai()?;
            files::write_csv_file(b, &file, p).rhai()
        },
    );
    let r = rt.clone();
    api.method(
        "Bars",
        "to_parquet",
        &["path: string"],
        "()",
        move |b: &mut Bars, p: &str| {
            let file = r
                .config
                .sandbox
                .resolve("to_parquet", p, Access::Write)
                .rhai()?;
            files::write_parquet_file(b, &file, p).rhai()
        },
    );
}

fn register_bars(api: &mut Api) {
    macro_rules! column {
        ($name:literal, $field:ident) => {
            api.getter("Bars", $name, "Series", |b: &mut Bars| b.$field.clone());
        };
    }
    column!("open", open);
    column!("high", high);
    column!("low", low);
    column!("close", close);
    column!("volume", volume);
    api.getter("Bars", "time", "Series", |b: &mut Bars| b.time_series());
    api.getter("Bars", "id", "string", |b: &mut Bars| b.id.to_string());
    api.getter("Bars", "interval", "string", |b: &mut Bars| {
        b.interval.name().to_string()
    });
    api.getter("Bars", "source", "string", |b: &mut Bars| b.source.label());
    api.getter("Bars", "gaps", "array", |b: &mut Bars| -> Array {
        b.gaps
            .iter()
            .map(|&(t, n)| {
                let mut m = Map::new();
                m.insert("time".into(), (t as INT).into());
                m.insert("missing".into(), (n as INT).into());
                Dynamic::from_map(m)
            })
            .collect()
    });
    api.method("Bars", "len", &[], "int", |b: &mut Bars| {
        visible(b.len()) as INT
    });
    api.method(
        "Bars",
        "head",
        &["n: int"],
        "Bars",
        |b: &mut Bars, n: INT| b.head((n.max(0) as usize).min(visible(b.len()))),
    );
    api.method(
        "Bars",
        "tail",
        &["n: int"],
        "Bars",
        |b: &mut Bars, n: INT| {
            let end = visible(b.len());
            b.slice(end.saturating_sub(n.max(0) as usize), end)
        },
    );
    api.method(
        "Bars",
        "resample",
        &["interval: string"],
        "Bars",
        |b: &mut Bars, iv: &str| seen(b).resample(interval(iv)?).rhai(),
    );
    api.func(
        "align",
        &["htf: Bars", "ltf: Bars"],
        "Bars",
        |h: Bars, l: Bars| h.align_to(&l).rhai(),
    );
    api.func(
        "align",
        &["values: Series", "htf: Bars", "ltf: Bars"],
        "Series",
        |v: Series, h: Bars, l: Bars| resample::align_series(&v, &h, &l).rhai(),
    );
    api.method(
        "Bars",
        "align_to",
        &["ltf: Bars"],
        "Bars",
        |h: &mut Bars, l: Bars| h.align_to(&l).rhai(),
    );
}

#[cfg(test)]
mod tests {
    use crate::data::config::Config;
    use crate::script::Session;

    fn session() -> (Session, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (Session::new(Config::for_home(dir.path())), dir)
    }

    fn plain(s: &mut Session, code: &str) -> String {
        let r = s.execute(code).unwrap_or_else(|e| panic!("{code}: {e:?}"));
        r.value
            .and_then(|b| b.plain().map(String::from))
            .unwrap_or_default()
    }

    #[test]
    fn demo_klines_with_options_and_properties() {
        let (mut s, _d) = session();
        assert_eq!(
            plain(&mut s, r#"klines("demo:PEPE", "1h", #{ limit: 48 }).len()"#),
            "48"
        );
        let out = plain(
            &mut s,
            r#"let b = klines("demo:BTC", "1d", #{ from: "2025-01-01", to: "2025-01-31" }); [b.len(), b.id, b.interval, b.close.len()]"#,
        );
        assert!(
            out.contains("31") && out.contains("demo:BTC") && out.contains("1d"),
            "{out}"
        );
        let shown = plain(&mut s, "b.tail(3)");
        assert!(
            shown.contains("SYNTHETIC") && shown.contains("3 bars"),
            "{shown}"
        );
    }

    #[test]
    fn bad_interval_and_option_errors_are_helpful() {
        let (mut s, _d) = session();
        let e = format!(
            "{:?}",
            s.execute(r#"klines("demo:BTC", "2d")"#).unwrap_err()
        );
        assert!(e.contains("1m 5m 15m 30m 1h 2h 4h 1d 3d 1w 1M"), "{e}");
        let e = format!(
            "{:?}",
            s.execute(r#"klines("demo:BTC", "1h", #{ limt: 5 })"#)
                .unwrap_err()
        );
        assert!(e.contains("did you mean 'limit'"), "{e}");
    }

    #[test]
    fn resample_align_and_files_from_scripts() {
        let (mut s, d) = session();
        let out = plain(
            &mut s,
            r#"let h1 = klines("demo:ETH", "1h", #{ limit: 48 }); let h4 = h1.resample("4h"); [h4.len(), align(h4.close, h4, h1).len(), align(h4, h1).len()]"#,
        );
        assert_eq!(out, "[12, 48, 48]");
        let p = d.path().join("x.csv");
        let code = format!(
            r#"h1.to_csv("{0}"); let r = read_csv("{0}", #{{ id: "eth" }}); [r.len(), r.id, r.interval]"#,
            p.display()
        );
        assert_eq!(plain(&mut s, &code), r#"[48, "eth", "1h"]"#);
        let n = plain(&mut s, "demo_tokens().len()");
        assert!(n.parse::<i64>().unwrap() >= 5);
    }

    #[test]
    fn demo_prices_from_scripts() {
        let (mut s, _d) = session();
        let out = plain(&mut s, r#"prices(["demo:BTC"])["demo:BTC"].price"#);
        assert!(out.starts_with("104600"), "{out}");
    }
}
