"""Kernel latency benchmark: stratbook and ipykernel side by side, driven by jupyter_client.

Measures, per kernel:
  start      KernelManager.start_kernel() until the first kernel_info_reply (median of --starts runs)
  execute    `1+1` round trip: execute_request sent → execute_reply and iopub idle received
  complete   complete_request → complete_reply

Usage (release build for numbers worth quoting):
    cargo build --release -p stratbook
    STRATBOOK_BIN=$CARGO_TARGET_DIR/release/stratbook python tests/bench/kernel_bench.py

Targets on the reference machine: start ≤ 0.1 s, execute median ≤ 1 ms, complete ≤ 2 ms.
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

from jupyter_client import KernelManager

ROOT = pathlib.Path(__file__).resolve().parents[2]


def stratbook_bin():
    if os.environ.get("STRATBOOK_BIN"):
        return pathlib.Path(os.environ["STRATBOOK_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    release = target / "release" / "stratbook"
    return release if release.exists() else target / "debug" / "stratbook"


def wait_reply(kc, msg_id, timeout=30):
    while True:
        m = kc.get_shell_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") == msg_id:
            return m


def wait_idle(kc, msg_id, timeout=30):
    while True:
        m = kc.get_iopub_msg(timeout=timeout)
        if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"):
            return


def measure_start(name, runs):
    times = []
    for _ in range(runs):
        km = KernelManager(kernel_name=name)
        t0 = time.perf_counter()
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        msg_id = kc.kernel_info()
        wait_reply(kc, msg_id)
        times.append(time.perf_counter() - t0)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return statistics.median(times)


def measure_round_trips(name, n):
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    # Warm up both paths (first cell builds caches, first completion loads docs).
    for _ in range(5):
        wait_idle(kc, kc.execute("1+1"))
        wait_reply(kc, kc.complete("pri", 3))
    execs, comps = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        msg_id = kc.execute("1+1")
        wait_reply(kc, msg_id)
        wait_idle(kc, msg_id)
        execs.append(time.perf_counter() - t0)
    for _ in range(n):
        t0 = time.perf_counter()
        wait_reply(kc, kc.complete("pri", 3))
        comps.append(time.perf_counter() - t0)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return statistics.median(execs), statistics.median(comps)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200, help="round trips per measurement (default 200)")
    ap.add_argument("--starts", type=int, default=5, help="kernel starts to time (default 5)")
    args = ap.parse_args()

    binary = stratbook_bin()
    if not binary.exists():
        sys.exit(f"stratbook binary not found at {binary}; build it or set STRATBOOK_BIN")
    with tempfile.TemporaryDirectory() as prefix:
        subprocess.run([str(binary), "install", "--prefix", prefix], check=True, capture_output=True)
        os.environ["JUPYTER_PATH"] = os.path.join(prefix, "share", "jupyter")
        rows = []
        for name in ("stratbook", "python3"):
            start = measure_start(name, args.starts)
            execute, complete = measure_round_trips(name, args.n)
            rows.append((name, start, execute, complete))

    print(f"binary: {binary}")
    print(f"{'kernel':<12}{'start (s)':>12}{'execute (ms)':>15}{'complete (ms)':>15}")
    for name, start, execute, complete in rows:
        label = "ipykernel" if name == "python3" else name
        print(f"{label:<12}{start:>12.3f}{execute * 1e3:>15.2f}{complete * 1e3:>15.2f}")
    print(f"(medians; start over {args.starts} runs, round trips over {args.n})")


if __name__ == "__main__":
    main()
