"""Shared helpers for the backtest cross-check and benchmark: synthetic bars, SMA-cross signals
(Pine's crossover rule), and running Stratbook's engine through the `backtest-json` binary."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
# The same default as tools/test: the shared target dir under ~/.cache/stratbook.
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache" / "stratbook" / "target")


def make_bars(n=3000, seed=7, start_price=100.0):
    """Hourly OHLCV: a random walk with small open gaps; high/low bracket open and close."""
    rng = np.random.default_rng(seed)
    close = start_price * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    prev = np.concatenate([[start_price], close[:-1]])
    open_ = prev * (1 + rng.normal(0, 0.001, n))
    hi = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.006, n)))
    lo = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.006, n)))
    t = 1_700_000_000 - (1_700_000_000 % 3600) + 3600 * np.arange(n)
    return pd.DataFrame(
        {"time": t, "Open": open_, "High": hi, "Low": lo, "Close": close, "Volume": np.full(n, 1000.0)}
    )


def sma(x, n):
    return pd.Series(x).rolling(n).mean().to_numpy()


def crossover(a, b):
    """Pine's rule: a[i] > b[i] and a[i-1] <= b[i-1]; NaN compares false."""
    prev_a = np.concatenate([[np.nan], a[:-1]])
    prev_b = np.concatenate([[np.nan], b[:-1]])
    with np.errstate(invalid="ignore"):
        return (a > b) & (prev_a <= prev_b)


def sma_cross_signals(df, fast=10, slow=30):
    f, s = sma(df.Close.to_numpy(), fast), sma(df.Close.to_numpy(), slow)
    return crossover(f, s), crossover(s, f)


def binary():
    exe = TARGET / "debug" / "backtest-json"
    if not exe.exists():
        subprocess.run(
            ["cargo", "build", "-q", "-p", "stratbook-tests", "--bin", "backtest-json"], cwd=ROOT, check=True
        )
    return exe


def run_stratbook(df, entry, exit_, spec, exe=None):
    """Writes bars + signals to CSV, runs the engine, returns its JSON (trades, stats, equity)."""
    with tempfile.TemporaryDirectory() as d:
        csv = Path(d) / "bars.csv"
        out = df[["time", "Open", "High", "Low", "Close", "Volume"]].copy()
        out["entry"] = entry.astype(int)
        out["exit"] = exit_.astype(int)
        out.to_csv(csv, index=False, header=["time", "open", "high", "low", "close", "volume", "entry", "exit"],
                   float_format="%.17g")
        sp = Path(d) / "spec.json"
        sp.write_text(json.dumps(spec))
        res = subprocess.run([str(exe or binary()), str(csv), str(sp)], capture_output=True, text=True, check=True)
        return json.loads(res.stdout)
