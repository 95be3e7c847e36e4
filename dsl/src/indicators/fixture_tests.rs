//! Indicators against TA-Lib, and the no-look-ahead property, over the fixture bars written by
//! `tests/python/gen_talib_fixtures.py` (500 hourly bars: trends, a crash, volume spikes, a flat
//! stretch with no trades).

use super::patterns::{self, Ohlc};
use super::*;
use crate::testing::{Columns as Data, JAN_2024};
use std::collections::BTreeMap;

const OHLCV: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/talib/ohlcv.csv"
));
const OUTPUTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/talib/outputs.csv"
));

fn num(s: &str) -> f64 {
    if s.is_empty() {
        f64::NAN
    } else {
        s.parse().expect("fixture numbers parse")
    }
}

/// Columns of a CSV by header name.
fn columns(csv: &str) -> BTreeMap<String, Vec<f64>> {
    let mut lines = csv.lines();
    let names: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for line in lines {
        for (j, cell) in line.split(',').enumerate() {
            cols[j].push(num(cell));
        }
    }
    names.iter().map(|n| n.to_string()).zip(cols).collect()
}

fn data() -> Data {
    let c = columns(OHLCV);
    Data {
        t: c["time"].iter().map(|&x| x as i64).collect(),
        o: c["open"].clone(),
        h: c["high"].clone(),
        l: c["low"].clone(),
        c: c["close"].clone(),
        v: c["volume"].clone(),
    }
}

fn bools(b: Vec<bool>) -> Vec<f64> {
    b.into_iter().map(|x| f64::from(u8::from(x))).collect()
}

/// Every indicator's outputs, named like the fixture columns where TA-Lib has them.
fn compute(d: &Data) -> BTreeMap<String, Vec<f64>> {
    let (h, l, c, v) = (&d.h[..], &d.l[..], &d.c[..], &d.v[..]);
    let mut m = BTreeMap::new();
    let mut put = |k: String, x: Vec<f64>| {
        m.insert(k, x);
    };
    for p in [2, 5, 20, 50] {
        put(format!("sma_{p}"), sma(c, p).unwrap());
        put(format!("ema_{p}"), ema(c, p).unwrap());
    }
    put("sma_20_volume".into(), sma(v, 20).unwrap());
    for p in [2, 10, 30] {
        put(format!("wma_{p}"), wma(c, p).unwrap());
    }
    for p in [2, 14, 30] {
        put(format!("rsi_{p}"), rsi(c, p).unwrap());
    }
    put(
        "ema_9_of_rsi_14".into(),
        ema(&rsi(c, 14).unwrap(), 9).unwrap(),
    );
    for (f, s, g) in [(12, 26, 9), (5, 35, 5), (3, 10, 16)] {
        let r = macd(c, f, s, g).unwrap();
        put(format!("macd_{f}_{s}_{g}_macd"), r.macd);
        put(format!("macd_{f}_{s}_{g}_signal"), r.signal);
        put(format!("macd_{f}_{s}_{g}_hist"), r.hist);
    }
    put("trange".into(), true_range(h, l, c));
    for p in [1, 5, 14] {
        put(format!("atr_{p}"), atr(h, l, c, p).unwrap());
    }
    for (p, k) in [(20, "2.0"), (10, "1.5"), (5, "3.0")] {
        let b = bbands(c, p, k.parse().unwrap()).unwrap();
        put(format!("bbands_{p}_{k}_upper"), b.upper);
        put(format!("bbands_{p}_{k}_middle"), b.middle);
        put(format!("bbands_{p}_{k}_lower"), b.lower);
    }
    for p in [5, 20] {
        put(format!("stddev_{p}"), stdev(c, p).unwrap());
        put(format!("max_{p}"), highest(c, p).unwrap());
        put(format!("min_{p}"), lowest(c, p).unwrap());
    }
    put("max_14_high".into(), highest(h, 14).unwrap());
    put("min_14_low".into(), lowest(l, 14).unwrap());
    for p in [1, 10] {
        put(format!("roc_{p}"), roc(c, p).unwrap());
    }
    put("obv".into(), obv(c, v));
    for (fk, sk, sd) in [(14, 3, 3), (5, 3, 1), (9, 1, 4)] {
        let s = stoch(h, l, c, fk, sk, sd).unwrap();
        put(format!("stoch_{fk}_{sk}_{sd}_k"), s.k);
        put(format!("stoch_{fk}_{sk}_{sd}_d"), s.d);
    }
    for p in [5, 14] {
        let x = dmi(h, l, c, p).unwrap();
        put(format!("adx_{p}"), x.adx);
        put(format!("plus_di_{p}"), x.plus);
        put(format!("minus_di_{p}"), x.minus);
        put(format!("mfi_{p}"), mfi(h, l, c, v, p).unwrap());
        put(format!("willr_{p}"), williams_r(h, l, c, p).unwrap());
    }
    for p in [14, 20] {
        put(format!("cci_{p}"), cci(h, l, c, p).unwrap());
    }
    let b = Ohlc {
        open: &d.o,
        high: h,
        low: l,
        close: c,
    };
    let (bull, bear) = (
        patterns::bullish_engulfing(b),
        patterns::bearish_engulfing(b),
    );
    let engulfing = bull
        .iter()
        .zip(&bear)
        .enumerate()
        // TA-Lib's CDLENGULFING has a lookback of 2 bars.
        .map(|(i, (&u, &d))| {
            if i < 2 {
                0.0
            } else {
                f64::from(i8::from(u) - i8::from(d))
            }
        })
        .collect::<Vec<f64>>();
    put("cdl_engulfing".into(), engulfing);
    // Without a TA-Lib equivalent: checked by their unit tests and the properties below.
    put("rma_14".into(), rma(c, 14).unwrap());
    put("change_3".into(), change(c, 3).unwrap());
    put("pct_change_1".into(), pct_change(c, 1).unwrap());
    put("zscore_20".into(), zscore(c, 20).unwrap());
    put("cum_volume".into(), cum(v));
    put("vwap_day".into(), vwap(h, l, c, v, &d.t, Anchor::Day));
    put("vwap_week".into(), vwap(h, l, c, v, &d.t, Anchor::Week));
    let dc = donchian(h, l, 20).unwrap();
    put("donchian_upper".into(), dc.upper);
    put("donchian_lower".into(), dc.lower);
    let kc = keltner(h, l, c, 20, 2.0).unwrap();
    put("keltner_upper".into(), kc.upper);
    put("keltner_middle".into(), kc.middle);
    let fast = sma(c, 5).unwrap();
    let slow = sma(c, 20).unwrap();
    put("crossover".into(), bools(crossover(&fast, &slow)));
    put("crossunder".into(), bools(crossunder(&fast, &slow)));
    put("rising_3".into(), bools(rising(c, 3).unwrap()));
    put("falling_3".into(), bools(falling(c, 3).unwrap()));
    put("doji".into(), bools(patterns::doji(b)));
    put("hammer".into(), bools(patterns::hammer(b)));
    put("shooting_star".into(), bools(patterns::shooting_star(b)));
    put("strong_bull".into(), bools(patterns::strong_bull(b)));
    put("strong_bear".into(), bools(patterns::strong_bear(b)));
    m
}

#[test]
fn every_indicator_matches_talib_to_1e9_with_the_same_warm_up() {
    let ours = compute(&data());
    let talib = columns(OUTPUTS);
    assert!(talib.len() >= 60, "fixture columns: {}", talib.len());
    let mut failures = Vec::new();
    for (name, want) in &talib {
        let got = ours
            .get(name)
            .unwrap_or_else(|| panic!("no indicator for fixture column {name}"));
        assert_eq!(got.len(), want.len(), "{name}: length");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let ok = if w.is_nan() {
                g.is_nan()
            } else {
                (g - w).abs() <= 1e-9 * w.abs().max(1.0)
            };
            if !ok {
                failures.push(format!("{name}[{i}]: ours {g} talib {w}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

#[test]
fn no_indicator_looks_ahead() {
    let d = data();
    let full = compute(&d);
    for k in [1, 2, 7, 30, 61, 250, 301, 320, 499] {
        let part = compute(&d.slice(0..k));
        for (name, whole) in &full {
            let head = &part[name];
            assert_eq!(head.len(), k, "{name}");
            for i in 0..k {
                assert!(
                    same(head[i], whole[i]),
                    "{name}[{i}] changed when bars after {k} were removed: {} vs {}",
                    head[i],
                    whole[i]
                );
            }
        }
    }
}

#[test]
fn a_missing_bar_restarts_indicators_like_a_fresh_series() {
    let d = data();
    let gap = 200;
    let mut holed = d.clone();
    for col in [
        &mut holed.o,
        &mut holed.h,
        &mut holed.l,
        &mut holed.c,
        &mut holed.v,
    ] {
        col[gap] = f64::NAN;
    }
    let with_gap = compute(&holed);
    let fresh = compute(&d.slice(gap + 1..d.t.len()));
    // Anchored or cumulative totals carry on across a gap by design.
    let carry_on = ["vwap_day", "vwap_week", "cum_volume"];
    for (name, x) in &with_gap {
        if carry_on.contains(&name.as_str()) {
            continue;
        }
        assert!(
            x[gap].is_nan() || x[gap] == 0.0,
            "{name} at the missing bar: {}",
            x[gap]
        );
        for (j, &want) in fresh[name].iter().enumerate() {
            assert!(same(x[gap + 1 + j], want), "{name}[{}]", gap + 1 + j);
        }
    }
}

fn synthetic(n: usize, f: impl Fn(usize) -> f64, volume: f64) -> Data {
    Data::flat((0..n).map(f).collect(), JAN_2024, 3600, volume)
}

#[test]
fn every_indicator_of_empty_input_is_empty() {
    for (name, x) in compute(&synthetic(0, |_| 1.0, 1.0)) {
        assert!(x.is_empty(), "{name}");
    }
}

#[test]
fn every_indicator_of_missing_data_is_nan_or_false() {
    for bad in [f64::NAN, f64::INFINITY] {
        for (name, x) in compute(&synthetic(80, |_| bad, bad)) {
            assert!(x.iter().all(|&v| v.is_nan() || v == 0.0), "{name}: {x:?}");
        }
    }
}

#[test]
fn every_indicator_of_constant_bars_is_finite_after_warm_up() {
    let flat = compute(&synthetic(150, |_| 5.0, 100.0));
    for (name, x) in &flat {
        if name.starts_with("zscore") {
            assert!(x.iter().all(|v| v.is_nan()), "zscore of a constant is NaN");
            continue;
        }
        assert!(
            x[110..].iter().all(|v| v.is_finite()),
            "{name}: {:?}",
            &x[110..]
        );
    }
    assert!(flat["rsi_14"][14..].iter().all(|&v| v == 0.0));
    assert!(flat["stddev_20"][19..].iter().all(|&v| v == 0.0));
    assert!(flat["adx_14"][27..].iter().all(|&v| v == 0.0));
    assert!(flat["sma_20"][19..].iter().all(|&v| v == 5.0));
}

#[test]
fn inputs_shorter_than_the_warm_up_are_all_warm_up() {
    let short = compute(&synthetic(3, |i| 1.0 + i as f64, 1.0));
    for name in [
        "sma_5",
        "ema_20",
        "rsi_14",
        "atr_14",
        "adx_5",
        "macd_12_26_9_macd",
        "cci_14",
    ] {
        assert_eq!(short[name].len(), 3, "{name}");
        assert!(short[name].iter().all(|v| v.is_nan()), "{name}");
    }
}
