"""Noise benchmark: counter-based gradient noise vs the previous batch PCG64 stream.

`simulate` of `Adam(0.05)` on rosenbrock with `noise=0.1`, drawn with the counter
scheme (`counter-splitmix64-v1`, batch-independent) and with the scheme it replaced
(`pcg64-batch`, one `numpy.random.default_rng` for the batch), and without noise;
10,000 particles x 1,000 steps and 3 particles x 1,000 steps (where per-call
overhead counts). Interleaved, minimum of `--repeats`; prints the ratios.

Run: `.venv/bin/python benchmarks/bench_noise.py [--repeats 5]`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simulator import simulate
from simulator.noise import COUNTER, LEGACY


def timed(starts: np.ndarray, **kw) -> float:
    t0 = time.perf_counter()
    simulate(
        "rosenbrock",
        "Adam(learning_rate=0.05)",
        starts,
        1000,
        record=("positions", "loss"),
        memory_limit=None,
        **kw,
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    variants = {
        "no noise": {},
        COUNTER: {"noise": 0.1, "noise_scheme": COUNTER},
        LEGACY: {"noise": 0.1, "noise_scheme": LEGACY},
    }
    for n in (10_000, 3):
        starts = np.random.default_rng(0).uniform(-2, 2, (n, 2))
        timed(starts)  # warm
        times = {k: [] for k in variants}
        for _ in range(args.repeats):
            for label, kw in variants.items():
                times[label].append(timed(starts, **kw))
        best = {k: min(v) for k, v in times.items()}
        print(f"{n} particles x 1,000 Adam steps:")
        for label, t in best.items():
            print(f"  {label:24s} {t:7.3f} s")
        print(
            f"  counter / pcg64-batch: {best[COUNTER] / best[LEGACY]:.2f}x; noise "
            f"costs {best[COUNTER] - best['no noise']:.3f} s (counter), "
            f"{best[LEGACY] - best['no noise']:.3f} s (pcg64-batch)"
        )


if __name__ == "__main__":
    main()
