"""Rust cells benchmark: first Rust cell compile time, per-call overhead of Rhai → Rust for 1M
values, and a Kalman filter written in Rust against the same loop in Rhai.

Runs a notebook through `stratbook run` (the same executor the kernel uses) and prints the figures.

Usage (release build for numbers worth quoting):
    cargo build --release -p stratbook
    STRATBOOK_BIN=$CARGO_TARGET_DIR/release/stratbook python tests/bench/rust_cells_bench.py [--rhai-bars N]

The Rhai loop runs on --rhai-bars bars (default 100000) and is scaled to 1M per bar: a Rhai loop
over 1M bars takes minutes in a debug build.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]

KALMAN_RUST = """%%rust
pub fn kalman(close: &[f64], q: f64, r: f64) -> Vec<f64> {
    let (mut x, mut p) = (close[0], 1.0);
    close.iter().map(|&z| { p += q; let k = p / (p + r); x += k * (z - x); p *= 1.0 - k; x }).collect()
}
pub fn ident(x: &[f64]) -> Vec<f64> { x.to_vec() }
pub fn total(x: &[f64]) -> f64 { x.iter().sum() }"""


def bench_cells(rhai_bars):
    calls = 20
    return [
        KALMAN_RUST,
        'let bars = klines("demo:BTC", "1m", #{ limit: 1000000 }); let c = bars.close; c.len()',
        # Per call: 1M values each way (ident), and 1M in + one number out (total).
        f"let t = timestamp(); for i in 0..{calls} {{ ident(c); }} let round = t.elapsed / {calls};\n"
        f"let t = timestamp(); for i in 0..{calls} {{ total(c); }} let one_way = t.elapsed / {calls};\n"
        f"let t = timestamp(); for i in 0..{calls} {{ kalman(c, 0.01, 1.0); }} let k_rust = t.elapsed / {calls};\n"
        "#{ round_trip_ms: round * 1000.0, one_way_ms: one_way * 1000.0, kalman_rust_ms: k_rust * 1000.0 }",
        "fn kalman_rhai(c, q, r) { let x = c[0]; let p = 1.0; let out = [];\n"
        "  for z in c.to_array() { p += q; let g = p / (p + r); x += g * (z - x); p *= 1.0 - g; out.push(x); }\n"
        "  series(out) }\n"
        f"let small = c.head({rhai_bars});\n"
        "let t = timestamp(); let kr = kalman_rhai(small, 0.01, 1.0); let k_rhai = t.elapsed;\n"
        "let same = (kalman(small, 0.01, 1.0) - kr).abs().max();\n"
        f"#{{ kalman_rhai_ms_per_1m: k_rhai * 1000.0 * 1000000.0 / {rhai_bars}, max_abs_diff: same }}",
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rhai-bars", type=int, default=100_000)
    args = ap.parse_args()
    exe = os.environ.get("STRATBOOK_BIN") or str(
        pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "stratbook"
    )
    cells = bench_cells(args.rhai_bars)
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
            for c in cells
        ],
        "metadata": {"kernelspec": {"name": "stratbook", "display_name": "Stratbook", "language": "rhai"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / "bench.ipynb"
        path.write_text(json.dumps(nb))
        env = dict(os.environ, STRATBOOK_HOME=str(pathlib.Path(d) / "home"), STRATBOOK_OFFLINE="1")
        t0 = time.perf_counter()
        proc = subprocess.run([exe, "run", str(path), "-o", "-"], env=env, capture_output=True, text=True)
        total = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(proc.stderr)
        out = json.loads(proc.stdout)
    # `stratbook run` prints "[1/4] cell 0 ok (N ms)" per cell on stderr.
    first = next(l for l in proc.stderr.splitlines() if "cell 0 ok" in l)
    print(f"binary: {exe}")
    print(f"first Rust cell (context start + compile + the Rhai server): {first.split('(')[-1].rstrip(')')}")
    for cell in out["cells"][2:]:
        for o in cell["outputs"]:
            if o["output_type"] == "execute_result":
                print("".join(o["data"]["text/plain"]))
    print(f"whole notebook: {total:.1f} s")


if __name__ == "__main__":
    main()
