"""Is the kernel still responsive while simulations run? The `1+1` execute round trip
(execute_request sent -> execute_reply and iopub idle received, through jupyter_client) idle, then
while three live demo simulations run in the background at a fast pace (1-minute bars on a clock
running 600x: each simulation closes, decides and commits a bar every 0.1 s, 30 commits a second
in all; one vectorized strategy recomputed on the bars so far, two `on_bar`).

Usage (a release build gives the figures worth quoting; the ratio is the point):
    cargo build --release -p stratbook
    STRATBOOK_BIN=$CARGO_TARGET_DIR/release/stratbook python tests/bench/sim_bench.py

Target (issue #12): the round trip with three simulations running is at most 2x the idle one.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from jupyter_client import KernelManager

from kernel_bench import stratbook_bin, wait_idle, wait_reply

LAUNCH = """
let fast = #{ interval: "1m", warmup: 60, clock_speed: 600, max_duration: "1d" };
let s1 = simulate("demo:BTC", |b| strategy(#{ entry: crossover(sma(b.close, 5), sma(b.close, 20)),
                                                exit: crossover(sma(b.close, 20), sma(b.close, 5)) }),
                  fast + #{ name: "vectorized" });
let s2 = simulate("demo:ETH", strategy(#{ on_bar: |ctx| {
                      if ctx.close() > ctx.open() { ctx.buy(#{ size_pct: 50 }) } else { ctx.exit() } } }),
                  fast + #{ name: "on_bar" });
let s3 = simulate("demo:SOL", strategy(#{ on_bar: |ctx| {
                      if ctx.close() < ctx.close(3) { ctx.buy(#{ size_pct: 30 }) }
                      else if ctx.close() > ctx.close(1) { ctx.exit() } } }),
                  fast + #{ name: "dip buyer" });
"""


def round_trips(kc, n, seconds=0.0):
    """At least `n` round trips, and for at least `seconds`."""
    times = []
    end = time.perf_counter() + seconds
    while len(times) < n or time.perf_counter() < end:
        t0 = time.perf_counter()
        msg_id = kc.execute("1+1")
        wait_reply(kc, msg_id)
        wait_idle(kc, msg_id)
        times.append(time.perf_counter() - t0)
    return times


def run_cell(kc, code):
    msg_id = kc.execute(code)
    reply = wait_reply(kc, msg_id, timeout=60)
    wait_idle(kc, msg_id, timeout=60)
    if reply["content"]["status"] != "ok":
        sys.exit(f"cell failed: {reply['content'].get('evalue')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=300, help="round trips per measurement (default 300)")
    ap.add_argument("--seconds", type=float, default=5.0,
                    help="measure for at least this long, so the simulations commit bars meanwhile (default 5)")
    args = ap.parse_args()
    binary = stratbook_bin()
    if not binary.exists():
        sys.exit(f"stratbook binary not found at {binary}; build it or set STRATBOOK_BIN")
    with tempfile.TemporaryDirectory() as prefix:
        subprocess.run([str(binary), "install", "--prefix", prefix], check=True, capture_output=True)
        os.environ["JUPYTER_PATH"] = os.path.join(prefix, "share", "jupyter")
        os.environ["STRATBOOK_HOME"] = os.path.join(prefix, "home")
        km = KernelManager(kernel_name="stratbook")
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        round_trips(kc, 10)
        idle = round_trips(kc, args.n, args.seconds)
        run_cell(kc, LAUNCH)
        time.sleep(1.0)
        busy = round_trips(kc, args.n, args.seconds)
        # The simulations really ran meanwhile: their committed bars, read from the store.
        msg_id = kc.execute("[s1.equity().len(), s2.equity().len(), s3.equity().len()]")
        wait_reply(kc, msg_id)
        steps = None
        while steps is None:
            m = kc.get_iopub_msg(timeout=30)
            if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_result":
                steps = m["content"]["data"]["text/plain"]
        run_cell(kc, "s1.stop(); s2.stop(); s3.stop();")
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    med_idle, med_busy = statistics.median(idle), statistics.median(busy)
    p95 = lambda v: sorted(v)[int(len(v) * 0.95)]
    print(f"binary: {binary}")
    print(f"{'':<34}{'median (ms)':>12}{'p95 (ms)':>10}")
    print(f"{'execute 1+1, idle':<34}{med_idle * 1e3:>12.2f}{p95(idle) * 1e3:>10.2f}")
    print(f"{'execute 1+1, 3 simulations run':<34}{med_busy * 1e3:>12.2f}{p95(busy) * 1e3:>10.2f}")
    print(f"ratio {med_busy / med_idle:.2f}x (target <= 2x); {len(idle)} and {len(busy)} round trips; "
          f"bars each simulation committed: {steps}")


if __name__ == "__main__":
    main()
