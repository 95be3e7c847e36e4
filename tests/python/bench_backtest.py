"""Benchmark: the same SMA-cross backtest in Stratbook (release `backtest-json`), vectorbt and
backtesting.py on the same bars (written to CSV), with time ratios and peak memory.

Run: ~/.cache/stratbook/venv/bin/python tests/python/bench_backtest.py [n_bars]
Stratbook is timed twice: the whole process (start, CSV parse, backtest, JSON out) and the engine
in-process (first run, and best of 5 like vectorbt's best of 3 after its JIT warm-up), so ratios
compare like with like. Peak RSS comes from /usr/bin/time -v when present.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crosscheck_util import ROOT, TARGET, make_bars, sma_cross_signals


def release_binary():
    exe = TARGET / "release" / "backtest-json"
    if not exe.exists():
        subprocess.run(["cargo", "build", "-q", "--release", "-p", "stratbook-tests", "--bin", "backtest-json"],
                       cwd=ROOT, check=True)
    return exe


def timed(f, runs=3):
    best, out = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    df = make_bars(n=n, seed=5)
    entry, exit_ = sma_cross_signals(df)
    exe = release_binary()
    with tempfile.TemporaryDirectory() as d:
        csv = Path(d) / "bars.csv"
        o = df[["time", "Open", "High", "Low", "Close", "Volume"]].copy()
        o["entry"], o["exit"] = entry.astype(int), exit_.astype(int)
        o.to_csv(csv, index=False, header=["time", "open", "high", "low", "close", "volume", "entry", "exit"],
                 float_format="%.17g")
        spec = Path(d) / "spec.json"
        spec.write_text(json.dumps({"cash": 1e6, "fee_pct": 0.1, "interval": "1h", "repeat": 5}))
        cmd = [str(exe), str(csv), str(spec)]
        t_ours, res = timed(lambda: subprocess.run(cmd, capture_output=True, check=True))
        engine = json.loads(res.stdout)["engine_ms"]
        rss = "n/a"
        if Path("/usr/bin/time").exists():
            r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
            for line in r.stderr.splitlines():
                if "Maximum resident set size" in line:
                    rss = f"{int(line.split()[-1]) / 1024:.0f} MB"

    import vectorbt as vbt
    idx = pd.to_datetime(df.time, unit="s")
    shift = lambda a: pd.Series(np.concatenate([[False], a[:-1]]), index=idx)
    close, price = pd.Series(df.Close.to_numpy(), index=idx), pd.Series(df.Open.to_numpy(), index=idx)
    vbt_run = lambda: vbt.Portfolio.from_signals(close=close, entries=shift(entry), exits=shift(exit_), price=price,
                                                 fees=0.001, init_cash=1e6, freq="1h").final_value()
    vbt_run()  # numba compile
    t_vbt, _ = timed(vbt_run)

    from backtesting import Backtest, Strategy
    f = df.set_index(idx)[["Open", "High", "Low", "Close", "Volume"]].copy()
    f["Entry"], f["Exit"] = entry.astype(float), exit_.astype(float)

    class S(Strategy):
        def init(self):
            pass

        def next(self):
            if not self.position:
                if self.data.Entry[-1] > 0:
                    self.buy()
            elif self.data.Exit[-1] > 0:
                self.position.close()

    def bt_run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Backtest(f, S, cash=1e6, commission=0.001).run()["Equity Final [$]"]

    t_bt, _ = timed(bt_run, runs=1)
    py_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n} bars, SMA(10/30) cross, fee 0.1 %")
    t_eng = engine["best"] / 1e3
    print(f"{'engine':<34}{'time':>12}{'vs stratbook engine':>21}")
    print(f"{'stratbook engine, best of 5':<34}{t_eng * 1e3:>9.1f} ms{1:>20.1f}x")
    print(f"{'stratbook engine, first run':<34}{engine['first']:>9.1f} ms{engine['first'] / 1e3 / t_eng:>20.1f}x")
    print(f"{'stratbook process (CSV, JSON out)':<34}{t_ours * 1e3:>9.1f} ms{t_ours / t_eng:>20.1f}x   peak RSS {rss}")
    print(f"{'vectorbt from_signals, best of 3':<34}{t_vbt * 1e3:>9.1f} ms{t_vbt / t_eng:>20.1f}x")
    print(f"{'backtesting.py':<34}{t_bt * 1e3:>9.1f} ms{t_bt / t_eng:>20.1f}x")
    print(f"python process peak RSS (vectorbt + backtesting.py): {py_rss:.0f} MB")


if __name__ == "__main__":
    os.chdir(Path(__file__).parent)
    main()
