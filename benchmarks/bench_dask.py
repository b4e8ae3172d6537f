"""Dask benchmark: a 13M particle-step sweep in process vs a 2-worker LocalCluster.

Sweep: 64 x 32 (learning rate, momentum) x 16 starts x 400 SGD steps on
rosenbrock with gradient noise (13.1 M particle-steps). Times the in-process run
(`client=None`, one vectorised array), the cluster's start-up (LocalCluster of
2 single-threaded worker processes plus a first tiny task on each, i.e. their
imports) separately, then the same sweep on the cluster with automatic chunks
(8 here) and with 32, and in process in 8 chunks (what chunking alone gives:
smaller arrays stay in cache); variants interleaved, minimum of each; checks the
results are identical. Target: <= 0.6x the in-process time on a 2-core machine.

Also the embedded default's overhead on a small sweep (4 x 4 x 4 starts x 100
steps): `sweep(client=None)` against the bare `simulate` it wraps, and with
`--reference DIR` against another checkout's `sweep` (e.g. main) in a
subprocess; and that `client=None` imports no Dask.

Run: `.venv/bin/python benchmarks/bench_dask.py [--repeats 3] [--reference DIR]`.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time

import numpy as np

GRID = {
    "learning_rate": np.geomspace(1e-5, 2e-3, 64).tolist(),
    "momentum": np.linspace(0.0, 0.95, 32).tolist(),
}
STEPS = 400
SMALL = (
    "import time, numpy as np\n"
    "from simulator import sweep\n"
    "g = {'learning_rate': np.geomspace(1e-4, 1e-3, 4), 'momentum': [0, .3, .6, .9]}\n"
    "s = np.random.default_rng(0).uniform(-2, 2, (4, 2))\n"
    "sweep('rosenbrock', 'SGD', g, s, 100)\n"
    "t = []\n"
    "for _ in range(30):\n"
    "    t0 = time.perf_counter(); sweep('rosenbrock', 'SGD', g, s, 100)\n"
    "    t.append(time.perf_counter() - t0)\n"
    "print(min(t))\n"
)


def starts() -> np.ndarray:
    return np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(16, 2))


def run(**kw):
    from simulator import sweep

    t0 = time.perf_counter()
    result = sweep("rosenbrock", "SGD", GRID, starts(), STEPS, noise=0.05, **kw)
    return time.perf_counter() - t0, result


def same(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("final_loss", "final_positions", "converged_step", "diverged_step")
    )


def small_overhead(reference: str | None) -> None:
    from simulator import optimizers, simulate

    ours = float(
        subprocess.run(
            [sys.executable, "-c", SMALL], capture_output=True, text=True, check=True
        ).stdout
    )
    g = np.meshgrid(np.geomspace(1e-4, 1e-3, 4), [0, 0.3, 0.6, 0.9], indexing="ij")
    opt = optimizers.SGD(learning_rate=g[0][..., None], momentum=g[1][..., None])
    s = np.random.default_rng(0).uniform(-2, 2, (4, 2))
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        simulate("rosenbrock", opt, s, 100, record=("positions", "loss"))
        times.append(time.perf_counter() - t0)
    bare = min(times)
    print(
        f"Small sweep (4 x 4 x 4 starts x 100 steps), client=None: {ours * 1e3:.2f} ms"
        f"; the bare simulate it wraps {bare * 1e3:.2f} ms (ratio {ours / bare:.2f})"
    )
    if reference:
        env = {**os.environ, "PYTHONPATH": reference}
        ref = float(
            subprocess.run(
                [sys.executable, "-c", SMALL],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
        )
        print(
            f"  same sweep with {reference}: {ref * 1e3:.2f} ms; ratio ours/reference "
            f"{ours / ref:.2f}"
        )
    from simulator import sweep

    sweep("rosenbrock", "SGD", {"momentum": [0.0, 0.9]}, s, 5)
    print(f"  client=None imported Dask: {'distributed' in sys.modules}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (min)")
    parser.add_argument(
        "--reference", help="another checkout (PYTHONPATH) for the small-sweep check"
    )
    args = parser.parse_args()
    particles = 64 * 32 * 16
    print(
        f"Sweep: 64 x 32 grid x 16 starts x {STEPS} steps = "
        f"{particles * STEPS / 1e6:.1f} M particle-steps, SGD on rosenbrock, noise"
    )
    small_overhead(args.reference)
    run()  # warm imports and the allocator
    _, reference = run()

    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    from simulator import sweep

    sweep("rosenbrock", "SGD", {"momentum": [0.0]}, starts(), 1, client=client)
    client.run(lambda: __import__("simulator.sweeps"))
    t_start = time.perf_counter() - t0
    print(f"  cluster start-up (2 workers)  {t_start:7.2f} s (not in the times below)")
    # Interleaved, so that every variant sees the same load from other jobs on
    # a shared machine; the minimum over repeats of each is reported.
    variants = {
        "in process (client=None)": {},
        "in process, 8 chunks": {"chunks": 256},
        "2-worker cluster, auto": {"client": client},
        "2-worker cluster, 32 chunks": {"client": client, "chunks": 64},
    }
    times = {k: [] for k in variants}
    identical = {k: True for k in variants}
    try:
        for _ in range(args.repeats):
            for label, kw in variants.items():
                t, result = run(**kw)
                times[label].append(t)
                identical[label] &= same(reference, result)
    finally:
        client.close()
        cluster.close()
    t_in = min(times["in process (client=None)"])
    for label, ts in times.items():
        print(
            f"  {label:28s} {min(ts):6.2f} s: {min(ts) / t_in:.2f}x the in-process "
            f"time; identical: {identical[label]}"
        )
    print("  target: the 2-worker cluster <= 0.6x the in-process time")
    print(f"  machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
