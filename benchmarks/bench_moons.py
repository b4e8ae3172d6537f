"""Benchmarks the batched moons training against Keras `fit`, and a 101x101 plane grid.

Run from the repository root:

    KERAS_BACKEND=jax JAX_ENABLE_X64=1 python benchmarks/bench_moons.py [--full]

Ours: `moons.article_experiment(seeds=range(8))`, the ten article configurations
x 8 seeds = 80 trainings (800 epochs for the SGD family and Adagrad, 100 for
the rest) in one vectorised run, timed end to end.

Keras: the same 80 trainings as 80 `model.fit` calls (JAX backend, default jit,
float32 floatx as in the article, batch 32, shuffle=True). By default Keras is
timed on a subset and scaled, and the script says so: for each configuration,
`--keras-seeds` seed(s) train a fresh model (build + compile + fit) for
`--keras-epochs` epochs; a callback times every epoch. The steady per-epoch
cost is the median epoch time after the first (which includes tracing and
compilation), the fixed cost is the total minus that times the epochs, and a
full training is estimated as `fixed + per_epoch * epochs`, times 8 seeds. The
ratio is reported with and without the fixed cost. `--full` times all 80 real
trainings instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from simulator import moons


def keras_training(config, seed, epochs, X, y, dtype):
    """One separate Keras training (fresh model).

    Returns:
        `(total seconds, per-epoch seconds list)`.
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    times: list[float] = []
    keras.config.set_floatx(dtype)
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(shape=(2,))]
    layers += [keras.layers.Dense(u, activation="relu") for u in (12, 13, 13)]
    layers.append(keras.layers.Dense(2, activation="softmax"))
    model = keras.Sequential(layers)
    opt = config.optimizer()
    cfg = {k: v for k, v in opt.get_config().items() if k != "name"}
    model.compile(
        optimizer=getattr(keras.optimizers, type(opt).__name__)(**cfg),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        X.astype(dtype),
        y,
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=[EpochTimer()],
    )
    return time.perf_counter() - start, times


def bench_training(args):
    X, y = moons.make_moons()
    seeds = list(range(args.seeds))
    moons.article_experiment(seeds=seeds, epochs=1)  # warm-up (imports, caches)
    start = time.perf_counter()
    many = moons.article_experiment(seeds=seeds, dtype=args.ours_dtype)
    ours = time.perf_counter() - start
    n_runs = len(moons.ARTICLE_CONFIGS) * len(seeds)
    total_epochs = sum(c.epochs for c in moons.ARTICLE_CONFIGS) * len(seeds)
    print(
        f"ours ({args.ours_dtype}): {n_runs} trainings, {total_epochs} model-epochs "
        f"in {ours:.2f} s (loss array {many.loss.shape})"
    )

    keras_training(moons.ARTICLE_CONFIGS[0], 0, 1, X, y, args.keras_dtype)  # warm
    if args.full:
        start = time.perf_counter()
        for c in moons.ARTICLE_CONFIGS:
            for s in seeds:
                keras_training(c, s, c.epochs, X, y, args.keras_dtype)
        keras_total = time.perf_counter() - start
        print(
            f"keras ({args.keras_dtype}): all {n_runs} trainings timed: "
            f"{keras_total:.1f} s"
        )
    else:
        E = args.keras_epochs
        keras_total = keras_steady = 0.0
        print(
            f"keras ({args.keras_dtype}): TIMED ON A SUBSET AND SCALED: per config "
            f"{args.keras_seeds} seed(s) x one {E}-epoch fit; estimate = (fixed + "
            f"median epoch after the first x epochs) x {len(seeds)} seeds"
        )
        for c in moons.ARTICLE_CONFIGS:
            fixed, per = [], []
            for s in range(args.keras_seeds):
                total, times = keras_training(c, s, E, X, y, args.keras_dtype)
                per.append(float(np.median(times[1:])))
                fixed.append(total - per[-1] * E)
            per_epoch, setup = float(np.mean(per)), float(np.mean(fixed))
            keras_total += (setup + per_epoch * c.epochs) * len(seeds)
            keras_steady += per_epoch * c.epochs * len(seeds)
            print(
                f"  {c.label:26s} {per_epoch * 1e3:6.2f} ms/epoch, fixed "
                f"{setup:5.2f} s/training, est. {setup + per_epoch * c.epochs:6.2f} "
                f"s/training"
            )
        print(
            f"keras estimate: {keras_total:.1f} s (epochs only: {keras_steady:.1f} s)"
        )
    print(f"speed-up, Keras total / ours: {keras_total / ours:.1f}x")
    if not args.full:
        print(f"speed-up, Keras epochs only / ours: {keras_steady / ours:.1f}x")


def bench_grid(args):
    hist = moons.fit("Adam(learning_rate=0.01)", 100, seed=0)
    plane = moons.pca_plane(hist)
    plane.loss_grid(11)  # warm-up
    for limit in (16 * 2**20, 256 * 2**20):
        tracemalloc.start()
        start = time.perf_counter()
        grid = plane.loss_grid(args.resolution, memory_limit=limit)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"{args.resolution}x{args.resolution} PCA-plane grid, memory_limit "
            f"{limit / 2**20:.0f} MiB: {seconds:.2f} s, peak traced memory "
            f"{peak / 2**20:.1f} MiB, loss range [{grid.loss.min():.3g}, "
            f"{grid.loss.max():.3g}]"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS so far: {rss:.0f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--keras-seeds", type=int, default=1)
    parser.add_argument("--keras-epochs", type=int, default=12)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--ours-dtype", default="float64")
    parser.add_argument("--keras-dtype", default="float32")
    parser.add_argument("--resolution", type=int, default=101)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    if not args.skip_training:
        bench_training(args)
    bench_grid(args)


if __name__ == "__main__":
    main()
