#!/usr/bin/env python3
"""Writes the TA-Lib reference fixtures that `dsl/src/indicators` is tested against.

Deterministic: a seeded RNG builds ~500 hourly OHLCV bars with an uptrend, a range, a crash with a
volume spike, a flat illiquid stretch (no trades: o=h=l=c, volume 0), a recovery and a downtrend.
TA-Lib (PyPI `ta-lib`, `import talib`) then computes each indicator on them.

Outputs (rerun to regenerate; the Rust tests read them):
  tests/fixtures/talib/ohlcv.csv    time,open,high,low,close,volume
  tests/fixtures/talib/outputs.csv  one column per indicator output, named `name_params[_part]`;
                                    empty cells are TA-Lib's NaN warm-up.

Run: ~/.cache/stratbook/venv/bin/python tests/python/gen_talib_fixtures.py
"""

import csv
import math
import pathlib

import numpy as np
import talib

N = 500
SEED = 20240101
OUT = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "talib"


def make_bars():
    rng = np.random.default_rng(SEED)
    # Per-bar drift and volatility by regime.
    drift = np.zeros(N)
    vol = np.full(N, 0.012)
    drift[:150] = 0.002  # uptrend
    drift[150:250] = 0.0  # range
    vol[150:250] = 0.008
    drift[250:256] = -0.07  # crash
    vol[250:256] = 0.03
    drift[256:300] = 0.003  # dead-cat bounce
    drift[325:420] = 0.0025  # recovery
    drift[420:] = -0.0025  # downtrend
    vol[420:] = 0.015
    t0 = 1704067200  # 2024-01-01 00:00 UTC
    rows = []
    close = 100.0
    for i in range(N):
        flat = 300 <= i < 325  # illiquid: no trades at all
        if flat:
            o = h = lo = c = close
            v = 0.0
        else:
            o = close * (1.0 + rng.normal(0.0, 0.002))
            c = o * math.exp(drift[i] + rng.normal(0.0, vol[i]))
            h = max(o, c) * (1.0 + abs(rng.normal(0.0, vol[i] * 0.6)))
            lo = min(o, c) * (1.0 - abs(rng.normal(0.0, vol[i] * 0.6)))
            v = float(rng.lognormal(11.0, 0.4))
            if 250 <= i < 256 or rng.random() < 0.03:
                v *= rng.uniform(4.0, 12.0)  # volume spike
            if i % 37 == 0:
                c = o  # an exact doji now and then
            if i % 53 == 0:
                h = max(o, c)  # no upper wick
        rows.append((t0 + 3600 * i, o, h, lo, c, v))
        close = c
    return rows


def main():
    rows = make_bars()
    t = np.array([r[0] for r in rows], dtype=np.int64)
    o, h, lo, c, v = (np.array([r[k] for r in rows], dtype=np.float64) for k in range(1, 6))

    out = {}
    for p in (2, 5, 20, 50):
        out[f"sma_{p}"] = talib.SMA(c, p)
        out[f"ema_{p}"] = talib.EMA(c, p)
    out["sma_20_volume"] = talib.SMA(v, 20)
    for p in (2, 10, 30):
        out[f"wma_{p}"] = talib.WMA(c, p)
    for p in (2, 14, 30):
        out[f"rsi_{p}"] = talib.RSI(c, p)
    # Leading NaN (an indicator of an indicator): the talib wrapper starts at the first valid value.
    out["ema_9_of_rsi_14"] = talib.EMA(talib.RSI(c, 14), 9)
    for f, s, g in ((12, 26, 9), (5, 35, 5), (3, 10, 16)):
        m, sig, hist = talib.MACD(c, f, s, g)
        out[f"macd_{f}_{s}_{g}_macd"] = m
        out[f"macd_{f}_{s}_{g}_signal"] = sig
        out[f"macd_{f}_{s}_{g}_hist"] = hist
    out["trange"] = talib.TRANGE(h, lo, c)
    for p in (1, 5, 14):
        out[f"atr_{p}"] = talib.ATR(h, lo, c, p)
    for p, k in ((20, 2.0), (10, 1.5), (5, 3.0)):
        up, mid, low = talib.BBANDS(c, p, k, k, 0)
        out[f"bbands_{p}_{k}_upper"] = up
        out[f"bbands_{p}_{k}_middle"] = mid
        out[f"bbands_{p}_{k}_lower"] = low
    for p in (5, 20):
        out[f"stddev_{p}"] = talib.STDDEV(c, p, 1.0)
    for p in (5, 20):
        out[f"max_{p}"] = talib.MAX(c, p)
        out[f"min_{p}"] = talib.MIN(c, p)
    out["max_14_high"] = talib.MAX(h, 14)
    out["min_14_low"] = talib.MIN(lo, 14)
    for p in (1, 10):
        out[f"roc_{p}"] = talib.ROC(c, p)
    out["obv"] = talib.OBV(c, v)
    for fk, sk, sd in ((14, 3, 3), (5, 3, 1), (9, 1, 4)):
        k, d = talib.STOCH(h, lo, c, fk, sk, 0, sd, 0)
        out[f"stoch_{fk}_{sk}_{sd}_k"] = k
        out[f"stoch_{fk}_{sk}_{sd}_d"] = d
    for p in (5, 14):
        out[f"adx_{p}"] = talib.ADX(h, lo, c, p)
        out[f"plus_di_{p}"] = talib.PLUS_DI(h, lo, c, p)
        out[f"minus_di_{p}"] = talib.MINUS_DI(h, lo, c, p)
    for p in (14, 20):
        out[f"cci_{p}"] = talib.CCI(h, lo, c, p)
    for p in (5, 14):
        out[f"mfi_{p}"] = talib.MFI(h, lo, c, v, p)
    for p in (5, 14):
        out[f"willr_{p}"] = talib.WILLR(h, lo, c, p)
    # +1 bullish, -1 bearish (TA-Lib gives ±100, or ±80 when one end of the bodies is equal).
    out["cdl_engulfing"] = np.sign(talib.CDLENGULFING(o, h, lo, c)).astype(np.float64)

    OUT.mkdir(parents=True, exist_ok=True)
    fmt = lambda x: "" if math.isnan(x) else repr(float(x))  # noqa: E731  shortest round-trip
    with open(OUT / "ohlcv.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["time", "open", "high", "low", "close", "volume"])
        for r in rows:
            w.writerow([r[0]] + [fmt(x) for x in r[1:]])
    names = list(out)
    with open(OUT / "outputs.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        for i in range(N):
            w.writerow([fmt(out[n][i]) for n in names])
    print(f"wrote {N} bars and {len(names)} columns to {OUT} (talib {talib.__ta_version__})")


if __name__ == "__main__":
    main()
