//! Rhai bindings: indicators (family "Indicators") and candlestick patterns (family "Patterns").
//! Each wraps a pure function of `crate::indicators` for `Series` and `Bars`; multi-line results
//! are maps (`macd(close).signal`, `bbands(close, 20, 2).upper`).

use super::api::{Api, IntoRhai, RhaiResult, rt_err};
use crate::bars::Bars;
use crate::error::Result;
use crate::indicators::{self as ind, Anchor, Bands, patterns};
use crate::script::runtime::Runtime;
use crate::series::Series;
use rhai::{Dynamic, FLOAT, INT, Map};
use std::sync::Arc;

/// A period from a script: a whole number of bars, 1 or more.
fn period(name: &str, n: INT) -> RhaiResult<usize> {
    usize::try_from(n).ok().filter(|&p| p >= 1).ok_or_else(|| {
        rt_err(format!(
            "{name} period must be a whole number of bars, 1 or more (got {n})"
        ))
    })
}

fn series(v: Result<Vec<f64>>) -> RhaiResult<Series> {
    v.map(Series::new).rhai()
}

fn map(entries: Vec<(&str, Vec<f64>)>) -> Map {
    entries
        .into_iter()
        .map(|(k, v)| (k.into(), Dynamic::from(Series::new(v))))
        .collect()
}

fn bands(b: Bands) -> Map {
    map(vec![
        ("upper", b.upper),
        ("middle", b.middle),
        ("lower", b.lower),
    ])
}

fn ohlc(b: &Bars) -> patterns::Ohlc<'_> {
    patterns::Ohlc {
        open: b.open.values(),
        high: b.high.values(),
        low: b.low.values(),
        close: b.close.values(),
    }
}

type SeriesFn = fn(&[f64], usize) -> Result<Vec<f64>>;
type BarsFn = fn(&Bars, usize) -> Result<Vec<f64>>;

/// `name(src, period)`, an optional `name(src)` with a default period, and `src.name(period)`.
fn series_period(api: &mut Api, name: &'static str, f: SeriesFn, default: Option<INT>) {
    let call = move |s: Series, n: INT| series(f(s.values(), period(name, n)?));
    api.func(name, &["src: Series", "period: int"], "Series", call);
    api.method("Series", name, &["period: int"], "Series", call);
    if let Some(d) = default {
        let call1 = move |s: Series| series(f(s.values(), d as usize));
        api.func(name, &["src: Series"], "Series", call1);
        api.method("Series", name, &[], "Series", call1);
    }
}

/// `name(bars, period)` and, with a default, `name(bars)`.
fn bars_period(api: &mut Api, name: &'static str, f: BarsFn, default: INT) {
    let call = move |b: Bars, n: INT| series(f(&b, period(name, n)?));
    api.func(name, &["bars: Bars", "period: int"], "Series", call);
    api.func(name, &["bars: Bars"], "Series", move |b: Bars| {
        series(f(&b, default as usize))
    });
}

fn hlc(b: &Bars) -> (&[f64], &[f64], &[f64]) {
    (b.high.values(), b.low.values(), b.close.values())
}

pub fn register(api: &mut Api, _rt: &Arc<Runtime>) {
    api.docs.add_intro("indicators", "Indicators");
    register_series(api);
    register_bars(api);
    register_signals(api);
    register_patterns(api);
}

fn register_series(api: &mut Api) {
    series_period(api, "sma", ind::sma, None);
    series_period(api, "ema", ind::ema, None);
    series_period(api, "wma", ind::wma, None);
    series_period(api, "rma", ind::rma, None);
    series_period(api, "stdev", ind::stdev, None);
    series_period(api, "zscore", ind::zscore, None);
    series_period(api, "highest", ind::highest, None);
    series_period(api, "lowest", ind::lowest, None);
    series_period(api, "rsi", ind::rsi, Some(14));
    series_period(api, "roc", ind::roc, Some(10));
    series_period(api, "pct_change", ind::pct_change, Some(1));
    series_period(api, "change", ind::change, Some(1));
    let cum = |s: Series| Series::new(ind::cum(s.values()));
    api.func("cum", &["src: Series"], "Series", cum);
    api.method("Series", "cum", &[], "Series", cum);

    let macd = |s: Series, f: INT, sl: INT, g: INT| -> RhaiResult<Map> {
        let m = ind::macd(
            s.values(),
            period("macd fast", f)?,
            period("macd slow", sl)?,
            period("macd signal", g)?,
        )
        .rhai()?;
        Ok(map(vec![
            ("macd", m.macd),
            ("signal", m.signal),
            ("hist", m.hist),
        ]))
    };
    let params = ["src: Series", "fast: int", "slow: int", "signal: int"];
    api.func("macd", &params, "map", macd);
    api.method("Series", "macd", &params[1..], "map", macd);
    let macd0 = move |s: Series| macd(s, 12, 26, 9);
    api.func("macd", &["src: Series"], "map", macd0);
    api.method("Series", "macd", &[], "map", macd0);

    let bb = |s: Series, n: INT, k: FLOAT| -> RhaiResult<Map> {
        Ok(bands(
            ind::bbands(s.values(), period("bbands", n)?, k).rhai()?,
        ))
    };
    let p3 = ["src: Series", "period: int", "mult: float"];
    api.func("bbands", &p3, "map", bb);
    api.method("Series", "bbands", &p3[1..], "map", bb);
    let bbi = move |s: Series, n: INT, k: INT| bb(s, n, k as FLOAT);
    api.func(
        "bbands",
        &["src: Series", "period: int", "mult: int"],
        "map",
        bbi,
    );
    api.method(
        "Series",
        "bbands",
        &["period: int", "mult: int"],
        "map",
        bbi,
    );
    let bb2 = move |s: Series, n: INT| bb(s, n, 2.0);
    api.func("bbands", &p3[..2], "map", bb2);
    api.method("Series", "bbands", &p3[1..2], "map", bb2);
    let bb1 = move |s: Series| bb(s, 20, 2.0);
    api.func("bbands", &p3[..1], "map", bb1);
    api.method("Series", "bbands", &[], "map", bb1);
}

fn register_bars(api: &mut Api) {
    api.func("true_range", &["bars: Bars"], "Series", |b: Bars| {
        let (h, l, c) = hlc(&b);
        Series::new(ind::true_range(h, l, c))
    });
    bars_period(
        api,
        "atr",
        |b, n| {
            let (h, l, c) = hlc(b);
            ind::atr(h, l, c, n)
        },
        14,
    );
    bars_period(
        api,
        "adx",
        |b, n| {
            let (h, l, c) = hlc(b);
            ind::adx(h, l, c, n)
        },
        14,
    );
    bars_period(
        api,
        "cci",
        |b, n| {
            let (h, l, c) = hlc(b);
            ind::cci(h, l, c, n)
        },
        20,
    );
    bars_period(
        api,
        "williams_r",
        |b, n| {
            let (h, l, c) = hlc(b);
            ind::williams_r(h, l, c, n)
        },
        14,
    );
    bars_period(
        api,
        "mfi",
        |b, n| {
            let (h, l, c) = hlc(b);
            ind::mfi(h, l, c, b.volume.values(), n)
        },
        14,
    );

    let dmi = |b: Bars, n: INT| -> RhaiResult<Map> {
        let (h, l, c) = hlc(&b);
        let d = ind::dmi(h, l, c, period("dmi", n)?).rhai()?;
        Ok(map(vec![
            ("plus", d.plus),
            ("minus", d.minus),
            ("adx", d.adx),
        ]))
    };
    api.func("dmi", &["bars: Bars", "period: int"], "map", dmi);
    api.func("dmi", &["bars: Bars"], "map", move |b: Bars| dmi(b, 14));

    let stoch = |b: Bars, k: INT, ks: INT, ds: INT| -> RhaiResult<Map> {
        let (h, l, c) = hlc(&b);
        let s = ind::stoch(
            h,
            l,
            c,
            period("stoch %K", k)?,
            period("stoch %K smoothing", ks)?,
            period("stoch %D smoothing", ds)?,
        )
        .rhai()?;
        Ok(map(vec![("k", s.k), ("d", s.d)]))
    };
    let params = [
        "bars: Bars",
        "k_period: int",
        "k_smooth: int",
        "d_smooth: int",
    ];
    api.func("stoch", &params, "map", stoch);
    api.func("stoch", &params[..2], "map", move |b: Bars, k: INT| {
        stoch(b, k, 3, 3)
    });
    api.func("stoch", &params[..1], "map", move |b: Bars| {
        stoch(b, 14, 3, 3)
    });

    let donchian = |b: Bars, n: INT| -> RhaiResult<Map> {
        let d = ind::donchian(b.high.values(), b.low.values(), period("donchian", n)?).rhai()?;
        Ok(bands(d))
    };
    api.func("donchian", &["bars: Bars", "period: int"], "map", donchian);
    api.func("donchian", &["bars: Bars"], "map", move |b: Bars| {
        donchian(b, 20)
    });

    let keltner = |b: Bars, n: INT, k: FLOAT| -> RhaiResult<Map> {
        let (h, l, c) = hlc(&b);
        Ok(bands(
            ind::keltner(h, l, c, period("keltner", n)?, k).rhai()?,
        ))
    };
    let p3 = ["bars: Bars", "period: int", "mult: float"];
    api.func("keltner", &p3, "map", keltner);
    api.func(
        "keltner",
        &["bars: Bars", "period: int", "mult: int"],
        "map",
        move |b: Bars, n: INT, k: INT| keltner(b, n, k as FLOAT),
    );
    api.func("keltner", &p3[..2], "map", move |b: Bars, n: INT| {
        keltner(b, n, 2.0)
    });
    api.func("keltner", &p3[..1], "map", move |b: Bars| {
        keltner(b, 20, 2.0)
    });

    let vwap = |b: &Bars, anchor: Anchor| {
        let (h, l, c) = hlc(b);
        Series::new(ind::vwap(h, l, c, b.volume.values(), &b.time, anchor))
    };
    api.func("vwap", &["bars: Bars"], "Series", move |b: Bars| {
        vwap(&b, Anchor::Day)
    });
    api.func(
        "vwap",
        &["bars: Bars", "anchor: string"],
        "Series",
        move |b: Bars, a: &str| -> RhaiResult<Series> { Ok(vwap(&b, Anchor::parse(a).rhai()?)) },
    );
    api.func("obv", &["bars: Bars"], "Series", |b: Bars| {
        Series::new(ind::obv(b.close.values(), b.volume.values()))
    });
}

fn register_signals(api: &mut Api) {
    for (name, f) in [
        (
            "crossover",
            ind::crossover as fn(&[f64], &[f64]) -> Vec<bool>,
        ),
        ("crossunder", ind::crossunder),
    ] {
        let ss = move |a: Series, b: Series| -> RhaiResult<Series> {
            super::series_api::same_length(&a, &b, name)?;
            Ok(Series::from_bools(f(a.values(), b.values())))
        };
        let sf = move |a: Series, b: FLOAT| Series::from_bools(f(a.values(), &vec![b; a.len()]));
        let si = move |a: Series, b: INT| sf(a, b as FLOAT);
        api.func(name, &["a: Series", "b: Series"], "Series(bool)", ss);
        api.func(name, &["a: Series", "level: float"], "Series(bool)", sf);
        api.func(name, &["a: Series", "level: int"], "Series(bool)", si);
        api.method("Series", name, &["b: Series"], "Series(bool)", ss);
        api.method("Series", name, &["level: float"], "Series(bool)", sf);
        api.method("Series", name, &["level: int"], "Series(bool)", si);
    }
    for (name, f) in [
        (
            "rising",
            ind::rising as fn(&[f64], usize) -> Result<Vec<bool>>,
        ),
        ("falling", ind::falling),
    ] {
        let call = move |s: Series, n: INT| -> RhaiResult<Series> {
            f(s.values(), period(name, n)?)
                .map(Series::from_bools)
                .rhai()
        };
        api.func(name, &["src: Series", "period: int"], "Series(bool)", call);
        api.method("Series", name, &["period: int"], "Series(bool)", call);
    }
}

fn register_patterns(api: &mut Api) {
    type PatternFn = fn(patterns::Ohlc) -> Vec<bool>;
    let all: [(&str, PatternFn); 7] = [
        ("doji", patterns::doji),
        ("hammer", patterns::hammer),
        ("shooting_star", patterns::shooting_star),
        ("bullish_engulfing", patterns::bullish_engulfing),
        ("bearish_engulfing", patterns::bearish_engulfing),
        ("strong_bull", patterns::strong_bull),
        ("strong_bear", patterns::strong_bear),
    ];
    for (name, f) in all {
        api.func(name, &["bars: Bars"], "Series(bool)", move |b: Bars| {
            Series::from_bools(f(ohlc(&b)))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::{Candle, Source};
    use crate::interval::Interval;
    use crate::script::docs::Docs;
    use rhai::{Engine, Scope};

    fn engine() -> (Engine, Docs) {
        let mut engine = Engine::new();
        engine.register_type_with_name::<Series>("Series");
        engine.register_type_with_name::<Bars>("Bars");
        let mut docs = Docs::default();
        let rt = Runtime::new(crate::data::config::Config::for_home(std::env::temp_dir()));
        register(&mut Api::new(&mut engine, &mut docs), &rt);
        (engine, docs)
    }

    fn scope() -> Scope<'static> {
        let candles: Vec<Candle> = (0..120)
            .map(|i| {
                let c = 100.0 + 10.0 * (i as f64 * 0.2).sin();
                Candle {
                    time: i * 3600,
                    open: c - 0.5,
                    high: c + 1.0,
                    low: c - 1.5,
                    close: c,
                    volume: 1000.0 + i as f64,
                }
            })
            .collect();
        let bars =
            Bars::from_candles("t", Interval::H1, Source::Demo, &candles).expect("ascending bars");
        let mut s = Scope::new();
        s.push("close", bars.close.clone());
        s.push("bars", bars);
        s
    }

    fn eval<T: Clone + Send + Sync + 'static>(e: &Engine, code: &str) -> T {
        e.eval_with_scope::<T>(&mut scope(), code)
            .unwrap_or_else(|err| panic!("{code}: {err}"))
    }

    fn err(e: &Engine, code: &str) -> String {
        match e.eval_with_scope::<Dynamic>(&mut scope(), code) {
            Ok(v) => panic!("{code} should fail, gave {v:?}"),
            Err(x) => x.to_string(),
        }
    }

    /// Equal values, NaN equal to NaN.
    fn same(a: &Series, b: &[f64]) -> bool {
        a.len() == b.len()
            && a.values()
                .iter()
                .zip(b)
                .all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn series_indicators_work_as_functions_methods_and_with_defaults() {
        let (e, _) = engine();
        let close = eval::<Series>(&e, "close");
        let c = close.values();
        let sma5 = ind::sma(c, 5).unwrap();
        assert!(same(&eval(&e, "sma(close, 5)"), &sma5));
        assert!(same(&eval(&e, "close.sma(5)"), &sma5));
        let rsi14 = ind::rsi(c, 14).unwrap();
        assert!(same(&eval(&e, "rsi(close)"), &rsi14));
        assert!(same(&eval(&e, "close.rsi()"), &rsi14));
        assert!(same(&eval(&e, "close.ema(10)"), &ind::ema(c, 10).unwrap()));
        assert!(same(
            &eval(&e, "pct_change(close)"),
            &ind::pct_change(c, 1).unwrap()
        ));
        assert!(same(
            &eval(&e, "close.highest(7)"),
            &ind::highest(c, 7).unwrap()
        ));
        assert!(same(&eval(&e, "cum(close)"), &ind::cum(c)));
    }

    #[test]
    fn multi_line_indicators_return_maps_with_the_documented_keys() {
        let (e, _) = engine();
        for (code, keys) in [
            ("macd(close)", &["hist", "macd", "signal"][..]),
            ("close.macd(5, 10, 3)", &["hist", "macd", "signal"]),
            ("bbands(close, 20, 2)", &["lower", "middle", "upper"]),
            ("bbands(close)", &["lower", "middle", "upper"]),
            ("stoch(bars)", &["d", "k"]),
            ("donchian(bars, 10)", &["lower", "middle", "upper"]),
            ("keltner(bars, 20, 2)", &["lower", "middle", "upper"]),
            ("dmi(bars)", &["adx", "minus", "plus"]),
        ] {
            let m = eval::<Map>(&e, code);
            let got: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
            assert_eq!(got, keys, "{code}");
            assert!(
                m.values().all(|v| v
                    .clone()
                    .try_cast::<Series>()
                    .is_some_and(|s| s.len() == 120)),
                "{code}"
            );
        }
        let int_mult = eval::<Map>(&e, "bbands(close, 20, 2)");
        let float_mult = eval::<Map>(&e, "bbands(close, 20, 2.0)");
        assert_eq!(format!("{int_mult:?}"), format!("{float_mult:?}"));
    }

    #[test]
    fn bars_indicators_take_bars_and_default_periods() {
        let (e, _) = engine();
        for code in [
            "atr(bars)",
            "atr(bars, 5)",
            "true_range(bars)",
            "adx(bars)",
            "cci(bars)",
            "mfi(bars)",
            "williams_r(bars, 7)",
            "vwap(bars)",
            "vwap(bars, \"all\")",
            "obv(bars)",
        ] {
            let s = eval::<Series>(&e, code);
            assert_eq!(s.len(), 120, "{code}");
            assert!(s.values().iter().any(|x| x.is_finite()), "{code}");
        }
    }

    #[test]
    fn crossover_accepts_a_series_or_a_number_and_gives_a_signal() {
        let (e, _) = engine();
        let a = eval::<Series>(&e, "crossover(close, 100)");
        let b = eval::<Series>(&e, "crossover(close, 100.0)");
        let c = eval::<Series>(&e, "close.crossover(100)");
        assert!(a.is_bool() && a.count() > 0);
        assert_eq!(a, b);
        assert_eq!(a, c);
        let ss = eval::<Series>(&e, "crossover(close, sma(close, 5))");
        assert!(ss.is_bool() && ss.count() > 0);
        assert_eq!(ss, eval::<Series>(&e, "close.crossover(close.sma(5))"));
        assert!(eval::<Series>(&e, "crossunder(close, 100)").count() > 0);
        assert!(eval::<Series>(&e, "rising(close, 3)").is_bool());
    }

    #[test]
    fn patterns_return_bool_series() {
        let (e, _) = engine();
        for p in [
            "doji",
            "hammer",
            "shooting_star",
            "bullish_engulfing",
            "bearish_engulfing",
            "strong_bull",
            "strong_bear",
        ] {
            let s = eval::<Series>(&e, &format!("{p}(bars)"));
            assert!(s.is_bool() && s.len() == 120, "{p}");
        }
    }

    #[test]
    fn bad_arguments_give_errors_that_name_the_fix() {
        let (e, _) = engine();
        assert!(err(&e, "sma(close, 0)").contains("1 or more (got 0)"));
        assert!(
            err(&e, "atr(bars, -3)")
                .contains("atr period must be a whole number of bars, 1 or more")
        );
        assert!(err(&e, "macd(close, 26, 12, 9)").contains("less than the slow period"));
        assert!(err(&e, "vwap(bars, \"2h\")").contains("\"1w\""));
    }

    #[test]
    fn every_name_is_documented_in_its_family() {
        let (_, docs) = engine();
        for name in [
            "sma",
            "rsi",
            "macd",
            "bbands",
            "atr",
            "stoch",
            "vwap",
            "crossover",
            "rising",
            "indicators",
        ] {
            let d = docs.get(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(d.family, "Indicators", "{name}");
        }
        assert_eq!(
            docs.get("hammer").map(|d| d.family.as_str()),
            Some("Patterns")
        );
        assert!(
            docs.method("Series", "sma").is_some() && docs.method("Series", "crossover").is_some()
        );
        let rsi = docs.get("rsi").unwrap();
        assert!(
            rsi.signatures
                .iter()
                .any(|s| s == "rsi(src: Series) -> Series"),
            "{:?}",
            rsi.signatures
        );
    }

    #[test]
    fn indicators_compose_in_a_session_on_demo_bars() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut s = crate::script::Session::new(crate::data::config::Config::for_home(dir.path()));
        let code = r#"
            let b = klines("demo:BTC", "1h", #{ limit: 300 });
            let r = rsi(b.close);
            let m = b.close.macd();
            let entry = crossover(b.close.ema(5), sma(b.close, 20)) & (r < 70);
            [r.len(), m.signal.len(), entry.count() > 0, ema(r, 9)[-1] > 0, atr(b)[-1] > 0, hammer(b).len()]
        "#;
        let out = s.execute(code).unwrap_or_else(|e| panic!("{e:?}"));
        let text = out
            .value
            .and_then(|v| v.plain().map(String::from))
            .unwrap_or_default();
        assert_eq!(text, "[300, 300, true, true, true, 300]");
    }
}
