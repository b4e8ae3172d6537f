"""Sweep benchmark: 64 x 64 (learning rate, momentum) x 16 starts x 500 SGD steps.

One vectorised `simulator.sweep` against a Python loop over grid points calling the
same engine (`simulate`) once per (learning rate, momentum). Prints times, peak
memory (tracemalloc: numpy reports its allocations to it) and the ratio.

Run: `.venv/bin/python benchmarks/bench_sweep.py [--loop-points 256 | --full]`.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from simulator import optimizers, simulate, sweep

STEPS = 500


def grid(n_lr: int, n_mom: int) -> dict[str, np.ndarray]:
    return {
        "learning_rate": np.geomspace(1e-5, 2e-3, n_lr),
        "momentum": np.linspace(0.0, 0.99, n_mom),
    }


def starts(n: int) -> np.ndarray:
    return np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(n, 2))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def peak_memory(fn) -> int:
    """Peak traced allocation of `fn()` (a separate pass: tracing slows Python)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def loop(points, s) -> np.ndarray:
    final = []
    for lr, mom in points:
        opt = optimizers.SGD(learning_rate=float(lr), momentum=float(mom))
        trace = simulate(
            "rosenbrock",
            opt,
            s,
            STEPS,
            record=("positions", "loss"),
            record_every=STEPS,
        )
        final.append(trace.positions[-1])
    return np.array(final)


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--loop-points",
        type=int,
        default=256,
        help="grid points timed in the loop (the rest extrapolated)",
    )
    parser.add_argument("--full", action="store_true", help="loop over all 4096 points")
    args = parser.parse_args()
    axes, s = grid(64, 64), starts(16)
    print(
        f"Sweep: 64 x 64 grid x 16 starts x {STEPS} steps of SGD on rosenbrock, float64"
    )
    sweep("rosenbrock", "SGD", grid(2, 2), s, 5)  # warm imports
    t_vec, result = timed(lambda: sweep("rosenbrock", "SGD", axes, s, STEPS))
    mem_vec = peak_memory(lambda: sweep("rosenbrock", "SGD", axes, s, STEPS))
    print(f"  vectorised sweep      {t_vec:8.2f} s   peak memory {mib(mem_vec)}")
    mesh = np.stack(np.meshgrid(*axes.values(), indexing="ij"), -1).reshape(-1, 2)
    n = len(mesh) if args.full else min(args.loop_points, len(mesh))
    pick = np.random.default_rng(1).choice(len(mesh), n, replace=False)
    t_loop, finals = timed(lambda: loop(mesh[pick], s))
    mem_loop = peak_memory(lambda: loop(mesh[pick[:8]], s))  # per-call peak
    t_loop_all = t_loop * len(mesh) / n
    same = np.array_equal(finals, result.final_positions.reshape(-1, 16, 2)[pick])
    label = "" if n == len(mesh) else f" ({n} points timed, x{len(mesh) / n:.0f})"
    print(
        f"  loop over grid points {t_loop_all:8.2f} s{label}   peak memory "
        f"{mib(mem_loop)}; identical results: {same}"
    )
    print(
        f"Ratio: vectorised sweep is {t_loop_all / t_vec:.1f}x faster than the loop; "
        f"memory {mem_vec / max(mem_loop, 1):.1f}x the loop's"
    )
    print(
        f"  diverged: {result.diverged.mean():.1%} of runs; converged to the minimum: "
        f"{(result.converged_to >= 0).mean():.1%}"
    )


if __name__ == "__main__":
    main()
