"""Explorer benchmark: small-batch `simulate` vs a plain-Python Adam, races, re-runs.

Run: `.venv/bin/python benchmarks/bench_explorer.py [--repeats N] [--no-explorer]`.
Every figure is a median and a 95th percentile over `--repeats` runs measured in
this process; ratios compare medians measured in the same run (the one-particle
runs also on the array path, `simulator.scalar.ENABLED = False`). Everything is
float64, Rosenbrock from (-1.2, 1), 500 steps.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections.abc import Callable

import numpy as np

from scenes.gallery import article_optimizers
from simulator import scalar, simulate

STEPS = 500
START = (-1.2, 1.0)
ADAM = "Adam(learning_rate=0.1)"


def scalar_adam(steps: int = STEPS, lr: float = 0.1) -> list[tuple[float, float]]:
    """Keras 3's Adam on Rosenbrock as a plain-Python loop over two floats.

    The reference the issue names: no numpy, no bookkeeping, no recording
    beyond the positions. The operations are Keras's (and the engine's), in
    their order, so its positions are bit-identical to `simulate`'s (checked).
    """
    b1, b2, eps = 0.9, 0.999, 1e-7
    x, y = START
    m0 = m1 = v0 = v1 = 0.0
    path = [(x, y)]
    for k in range(steps):
        t = y - x * x
        gx, gy = -400 * x * t - 2 * (1 - x), 200 * t
        local = k + 1.0
        alpha = lr * math.sqrt(1 - math.pow(b2, local)) / (1 - math.pow(b1, local))
        m0 += (gx - m0) * (1 - b1)
        m1 += (gy - m1) * (1 - b1)
        v0 += (gx * gx - v0) * (1 - b2)
        v1 += (gy * gy - v1) * (1 - b2)
        x -= (m0 * alpha) / (math.sqrt(v0) + eps)
        y -= (m1 * alpha) / (math.sqrt(v1) + eps)
        path.append((x, y))
    return path


def measure(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median, p95) wall time of `fn()` in seconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.percentile(times, 95))


def line(name: str, stats: tuple[float, float], note: str = "") -> None:
    med, p95 = stats
    print(f"  {name:52s} median {med * 1e3:8.2f} ms   p95 {p95 * 1e3:8.2f} ms  {note}")


def engine_section(repeats: int) -> None:
    print(f"Engine, Rosenbrock from {START}, {STEPS} steps, float64")
    trace = simulate("rosenbrock", ADAM, [START], STEPS)
    reference = np.array(scalar_adam())
    if not np.array_equal(trace.positions[:, 0], reference):
        raise SystemExit("the scalar loop and simulate disagree: not the same Adam")
    ref = measure(scalar_adam, repeats)
    line("plain-Python scalar Keras Adam (positions)", ref)
    for record, what in (
        (("positions", "loss", "gradient", "internals"), "full internals"),
        (("positions", "loss"), "positions + loss"),
    ):
        stats = measure(
            lambda r=record: simulate("rosenbrock", ADAM, [START], STEPS, record=r),
            repeats,
        )
        line(
            f"simulate, 1 particle, {what}",
            stats,
            f"{stats[0] / ref[0]:6.1f}x the scalar loop (target <= 10x)",
        )
        scalar.ENABLED = False  # the array path, for comparison
        try:
            slow = measure(
                lambda r=record: simulate("rosenbrock", ADAM, [START], STEPS, record=r),
                max(3, repeats // 5),
            )
        finally:
            scalar.ENABLED = True
        line(
            "  same on the array path (scalar.ENABLED = False)",
            slow,
            f"{slow[0] / stats[0]:6.1f}x the float path",
        )
    texts = [text for _, text in article_optimizers(0.001, 0.1, 0.01)]
    for record, what in (
        (("positions", "loss", "gradient", "internals"), "full internals"),
        (("positions", "loss"), "positions + loss"),
    ):
        stats = measure(
            lambda r=record: simulate("rosenbrock", texts, [START], STEPS, record=r),
            repeats,
        )
        line(f"{len(texts)}-optimizer race, {what}", stats)


def explorer_section(repeats: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scenes.explorer import Explorer

    texts = [text for _, text in article_optimizers(0.001, 0.1, 0.01)]
    print(f"Explorer (Agg, {plt.rcParams['figure.dpi']:.0f} dpi), {STEPS} steps")
    ex = Explorer("rosenbrock", texts, STEPS, [START])
    ex.refresh()
    adam = next(i for i, t in enumerate(texts) if t.startswith("Adam("))
    draws = []
    ex.figure.canvas.mpl_connect("draw_event", lambda _e: draws.append(1))
    full = measure(ex.figure.canvas.draw, max(5, repeats // 3))
    line(f"full canvas.draw() of the {len(texts)}-optimizer figure", full)
    draws.clear()
    values = itertools.cycle([0.09, 0.11])

    def rerun_and_refresh(explorer=ex, i=adam):
        explorer.set_hyperparameter(i, "learning_rate", float(next(values)))
        explorer.refresh()

    stats = measure(rerun_and_refresh, repeats)
    line(
        f"set_hyperparameter + refresh, {len(texts)} optimizers",
        stats,
        f"(target <= 50 ms; {len(draws)} full draws in {repeats + 1} calls)",
    )
    rows = itertools.cycle([100, 400])
    stats = measure(lambda: ex.set_row(next(rows)) or ex.refresh(), 30)
    line("timeline move + refresh (blit only)", stats)
    plt.close(ex.figure)

    swarm = Explorer("rosenbrock", ["Adam(learning_rate=0.1)"], STEPS, [START])
    swarm.set_swarm(True)
    swarm.refresh()
    draws = []
    swarm.figure.canvas.mpl_connect("draw_event", lambda _e: draws.append(1))

    def swarm_step(explorer=swarm):
        explorer.set_hyperparameter(0, "learning_rate", float(next(values)))
        explorer.refresh()

    stats = measure(swarm_step, max(5, repeats // 3))
    line(
        "set_hyperparameter + refresh, 1,024-particle swarm",
        stats,
        f"(target <= 150 ms; {len(draws)} full draws)",
    )
    plt.close(swarm.figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-explorer", action="store_true")
    args = parser.parse_args()
    engine_section(args.repeats)
    if not args.no_explorer:
        explorer_section(args.repeats)


if __name__ == "__main__":
    main()
