"""Flavour benchmark: each flavour's swarm time against the Keras optimizer it mirrors.

Run: `.venv/bin/python benchmarks/bench_flavours.py [--particles N] [--steps T]
[--repeats R] [--only Adam,RMSprop]`. The swarm is `bench_swarm.py`'s (Rosenbrock,
float64, positions and loss recorded). Keras and flavour runs alternate and each
time is the best of R in CPU seconds of this process (`time.process_time`, the
recording thread included), so other processes on a busy machine barely move it.
Target: a flavour at most 10% slower than its Keras optimizer (ratio <= 1.10).
torch flavours are also timed with `emulate_fma = False` (`[no fma]`, rounding
twice): the difference is the cost of torch's fused multiply-adds, which
`numerics.fma` computes as one numba ufunc on `llvm.fma` (the `fast` extra), or
without numba on the FMA instruction through BLAS `daxpy` (a scalar times an
array: free) or numpy's complex multiply (two arrays: interleaving the operands
costs a few passes). The kernels in use are printed first.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scenes.compare import build_comparison
from simulator import numerics, simulate
from simulator.optimizers import parse

NO_FMA = " [no fma]"

#: Keras text -> the flavour prefixes that mirror it. Each flavour gets Keras's
#: values under its own names (compare's "matched names"), so the runs take
#: similar paths and the times compare the cost of a step, not of a trajectory.
PAIRS = {
    "Adam(learning_rate=0.05)": ["torch", "optax", "textbook", "article"],
    "AdamW(learning_rate=0.05)": ["torch", "optax", "textbook"],
    "RMSprop(learning_rate=0.01)": ["torch", "optax", "textbook", "article"],
    "Adagrad(learning_rate=0.1)": ["torch", "optax", "textbook", "article"],
    "SGD(learning_rate=0.0005, momentum=0.9, nesterov=True)": [
        "torch",
        "optax",
        "textbook",
        "article",
    ],
    "Nadam(learning_rate=0.05)": ["torch", "optax"],
    "Adamax(learning_rate=0.05)": ["torch", "optax"],
    "Adadelta(learning_rate=1.0)": ["torch"],
    "Lion(learning_rate=0.001)": ["optax", "textbook"],
}


def flavour_texts(keras_text: str, prefixes: list[str]) -> list[str]:
    """The flavours' texts with Keras's hyperparameters under their own names."""
    cmp = build_comparison(keras_text, prefixes, match="names")
    return [e.optimizer.to_text() for e in cmp.entrants]


def _optimizer(text: str):
    """`text`; with a trailing ` [no fma]`, the torch flavour without FMA emulation."""
    if not text.endswith(NO_FMA):
        return parse(text)
    opt = parse(text[: -len(NO_FMA)])
    opt.emulate_fma = False
    return opt


def time_run(text: str, starts: np.ndarray, steps: int) -> float:
    """CPU seconds of this process for one swarm run (other processes' load on a
    shared machine barely moves it, unlike wall time)."""
    opt = _optimizer(text)
    t0 = time.process_time()
    simulate(
        "rosenbrock",
        opt,
        starts,
        steps,
        record=("positions", "loss"),
        memory_limit=None,
    )
    return time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="comma-separated Keras class names")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    starts = rng.uniform([-2.0, -1.0], [2.0, 3.0], size=(args.particles, 2))
    only = set(args.only.split(",")) if args.only else None
    print(
        f"{args.particles} particles x {args.steps} steps, Rosenbrock, float64, "
        f"CPU seconds, best of {args.repeats} (alternating); "
        f"fma kernels: {numerics.fma_kernels()}"
    )
    worst = 0.0
    for keras_text, prefixes in PAIRS.items():
        if only and keras_text.split("(")[0] not in only:
            continue
        flavours = flavour_texts(keras_text, prefixes)
        torch = [f + NO_FMA for f in flavours if f.startswith("torch:")]
        flavours = [*flavours, *torch]
        times = {t: [] for t in (keras_text, *flavours)}
        for _ in range(args.repeats):
            for text in times:
                times[text].append(time_run(text, starts, args.steps))
        base = min(times[keras_text])
        print(f"\n{keras_text:<52} {base:7.3f} s")
        for text in flavours:
            ratio = min(times[text]) / base
            worst = max(worst, ratio)
            mark = "ok" if ratio <= 1.10 else "SLOWER than target"
            print(f"  {text:<50} {min(times[text]):7.3f} s  x{ratio:5.2f}  {mark}")
    print(f"\nworst flavour/Keras ratio: x{worst:.2f} (target <= 1.10)")


if __name__ == "__main__":
    main()
