"""Learning-rate sensitivity of the moons MLP: optimizers x learning rates x seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.metadata import jsonable, load_archive, package_versions, save_archive
from simulator.moons.mlp import ARTICLE_LAYER_SIZES, MLP, _check_seeds, _float_dtype
from simulator.moons.training import _check_positive_int, fit_many, resolve_data

__all__ = ["DEFAULT_LEARNING_RATES", "DEFAULT_OPTIMIZERS", "StudyResult", "lr_study"]

#: 13 learning rates from 1e-4 to 1, three per decade.
DEFAULT_LEARNING_RATES = tuple(np.geomspace(1e-4, 1.0, 13).tolist())
#: The optimizers of the default study (learning rates come from the grid).
DEFAULT_OPTIMIZERS = ("SGD", "SGD(momentum=0.9)", "RMSprop", "Adam", "Lion")
#: Bytes per training in a chunk (parameters, gradients, optimizer state and
#: the batch activations, ~70 KB for the article's network; estimated).
_TRAINING_BYTES = 96 * 2**10
#: A chunk trains at least this many models (a step's numpy calls are shared).
_MIN_TRAININGS = 24


@dataclass
class StudyResult:
    """Every (optimizer, learning rate, seed) training of a study.

    Attributes:
        labels: `(O,)` optimizer labels (Keras text without the learning rate).
        learning_rates: `(L,)`.
        seeds: `(S,)`.
        loss: `(O, L, S, E)` epoch losses as Keras reports them.
        accuracy: `(O, L, S, E)` epoch accuracies.
        initial_loss: `(S,)` loss of each seed's untrained network.
        metadata: the configuration (optimizers, epochs, batch size, data, ...).
    """

    labels: tuple[str, ...]
    learning_rates: np.ndarray
    seeds: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    initial_loss: np.ndarray
    metadata: dict = field(default_factory=dict)

    @property
    def final_loss(self) -> np.ndarray:
        """`(O, L, S)` loss of the last epoch."""
        return self.loss[..., -1]

    @property
    def final_accuracy(self) -> np.ndarray:
        """`(O, L, S)` accuracy of the last epoch."""
        return self.accuracy[..., -1]

    @property
    def diverged(self) -> np.ndarray:
        """`(O, L, S)` bool: the loss became non-finite at some epoch, or ended
        above the untrained network's (training made it worse: divergence, or
        a collapse such as all-dead ReLUs)."""
        nonfinite = ~np.isfinite(self.loss).all(axis=-1)
        return nonfinite | ~(self.final_loss <= self.initial_loss)

    def epochs_to(self, threshold: float, metric: str = "loss") -> np.ndarray:
        """`(O, L, S)` int: first epoch (1-based) with loss <= `threshold` (or
        accuracy >= it, `metric="accuracy"`); -1 if never reached."""
        if metric not in ("loss", "accuracy"):
            raise ValueError(
                f'`metric` must be "loss" or "accuracy". Received: metric={metric!r}'
            )
        with np.errstate(invalid="ignore"):
            hit = (
                self.loss <= threshold
                if metric == "loss"
                else (self.accuracy >= threshold)
            )
        first = hit.argmax(axis=-1) + 1
        return np.where(hit.any(axis=-1), first, -1)

    def save(self, path: str | Path) -> Path:
        """Writes `.npz` + JSON metadata; returns the path."""
        arrays = {
            "learning_rates": self.learning_rates,
            "seeds": self.seeds,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "initial_loss": self.initial_loss,
        }
        meta = {
            "kind": "StudyResult",
            "labels": list(self.labels),
            "metadata": self.metadata,
        }
        return save_archive(path, arrays, meta)

    @classmethod
    def load(cls, path: str | Path) -> StudyResult:
        """Reads what `save` wrote (exact round trip)."""
        arrays, meta = load_archive(path)
        if meta.get("kind") != "StudyResult":
            raise ValueError(f"File {str(path)!r} does not hold a StudyResult.")
        return cls(labels=tuple(meta["labels"]), metadata=meta["metadata"], **arrays)


def _study_optimizers(optimizers: Sequence[Any]) -> tuple[list, list[str]]:
    """`[(class, base arguments)]` and labels; the grid sets `learning_rate`."""
    from simulator.sweeps import _optimizer_class_and_base

    if isinstance(optimizers, str) or not isinstance(optimizers, Sequence):
        raise ValueError(
            "`optimizers` must be a list of optimizer names or Keras-style texts "
            f"without a learning rate. Received: optimizers={optimizers!r}"
        )
    if not optimizers:
        raise ValueError("`optimizers` must not be empty. Received: optimizers=[]")
    specs, labels = [], []
    for entry in optimizers:
        cls, base = _optimizer_class_and_base(entry)
        default_lr = cls().get_config().get("learning_rate")
        if base.get("learning_rate", default_lr) != default_lr:
            raise ValueError(
                f"`optimizers` entry {entry!r} sets learning_rate; the study sweeps "
                "it (give `learning_rates=` instead)."
            )
        base.pop("learning_rate", None)
        defaults = cls().get_config()
        changed = {k: v for k, v in base.items() if defaults.get(k) != v}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        specs.append((cls, changed))
        labels.append(f"{cls.__name__}({args})" if args else cls.__name__)
    if len(set(labels)) != len(labels):
        raise ValueError(
            f"`optimizers` must be distinct. Received: optimizers={optimizers!r}"
        )
    return specs, labels


def _check_rates(learning_rates: Any) -> np.ndarray:
    try:
        lrs = np.asarray(learning_rates, dtype=np.float64)
    except (TypeError, ValueError):
        lrs = None
    if lrs is None or lrs.ndim != 1 or lrs.size == 0 or not np.all(lrs > 0):
        raise ValueError(
            "`learning_rates` must be a non-empty 1-D list of numbers > 0. "
            f"Received: learning_rates={learning_rates!r}"
        )
    return lrs


def lr_study(
    optimizers: Sequence[Any] = DEFAULT_OPTIMIZERS,
    learning_rates: Sequence[float] = DEFAULT_LEARNING_RATES,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 100,
    batch_size: int = 32,
    *,
    layer_sizes: Sequence[int] = ARTICLE_LAYER_SIZES,
    data: Mapping[str, Any] | None = None,
    dtype: str = "float64",
    memory_limit: Any = "2GiB",
    progress: bool = False,
    client: Any = None,
    chunks: int | None = None,
    results_dir: str | Path | None = None,
) -> StudyResult:
    """Trains the moons MLP for every optimizer x learning rate x seed.

    Each training is `moons.fit(cls(learning_rate=lr, **base), epochs,
    batch_size, seed)` (Keras `model.fit` semantics); all of them run through
    `fit_many`, as one batched run or in chunks of (optimizer, learning rate)
    points with every seed, bit-identical either way.

    Args:
        optimizers: names, classes or Keras texts without a learning rate
            (`"SGD(momentum=0.9)"`); their other arguments are kept.
        learning_rates: `(L,)` values > 0 (default 13 from 1e-4 to 1).
        seeds: initial weights and shuffle order of each repetition.
        epochs: epochs of every training.
        batch_size: samples per batch.
        layer_sizes, data, dtype: as in `fit_many`.
        memory_limit: cap per chunk and on the gathered result.
        progress: progress bar (over epochs in process, over chunks otherwise).
        client: None, a `distributed.Client`, an address or `"local:N"` (see
            `simulator.cluster`).
        chunks: (optimizer, learning rate) points per chunk.
        results_dir: directory of finished chunks, for resuming.

    Returns:
        `StudyResult` with `loss (O, L, S, epochs)`, `accuracy`, helpers
        `diverged` and `epochs_to(threshold)`.
    """
    from simulator import cluster
    from simulator.engine import parse_bytes

    specs, labels = _study_optimizers(optimizers)
    lrs = _check_rates(learning_rates)
    seeds_arr = _check_seeds(seeds)
    if seeds_arr.ndim != 1 or seeds_arr.size == 0:
        raise ValueError(
            f"`seeds` must be a non-empty list of ints >= 0. Received: seeds={seeds!r}"
        )
    epochs = _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    chunks = cluster.check_chunks(chunks, "(optimizer, learning rate) points")
    limit = parse_bytes(memory_limit)
    model = MLP(tuple(layer_sizes))
    X, y, data_meta = resolve_data(data, model)
    dt = _float_dtype(dtype)
    w0 = model.flatten(model.init_weights(seeds_arr, dtype=dt))
    initial = model.loss_flat(w0, X.astype(dt), y).astype(np.float64)
    points = [(cls, base, float(lr)) for cls, base in specs for lr in lrs]
    common = {
        "seeds": seeds_arr,
        "epochs": epochs,
        "batch_size": batch_size,
        "layer_sizes": tuple(layer_sizes),
        "data": data,
        "dtype": dtype,
    }
    O, L, S = len(specs), len(lrs), len(seeds_arr)
    # loss and accuracy, float64 each, per epoch of every training
    cluster.check_gathered(O * L * S * epochs * 16, limit, "study result")
    if client is None and chunks is None and results_dir is None:
        arrays, meta = _study_chunk({"points": points, **common, "progress": progress})
        execution = None
    else:
        config = {
            "kind": "moons_study",
            "optimizers": [[cls.__name__, jsonable(base)] for cls, base in specs],
            "learning_rates": lrs.tolist(),
            **jsonable({k: v for k, v in common.items() if k != "data"}),
            "data": data_meta,
            "versions": {k: package_versions().get(k) for k in ("optiscape", "numpy")},
        }
        outputs, execution = cluster.run_grid(
            _study_chunk,
            lambda lo, hi: {"points": points[lo:hi], **common, "progress": False},
            units=O * L,
            unit_bytes=S * _TRAINING_BYTES,
            particles_per_unit=S,
            limit=limit,
            chunks=chunks,
            unit="(optimizer, learning rate) points",
            client=client,
            results_dir=results_dir,
            config=config,
            progress=progress,
            desc="study",
            min_particles=_MIN_TRAININGS,
        )
        arrays = {k: np.concatenate([o[0][k] for o in outputs]) for k in outputs[0][0]}
        meta = outputs[0][1]
    E = arrays["loss"].shape[-1]
    metadata = {
        **meta,
        "kind": "moons_study",
        "optimizers": [
            {"label": lab, "optimizer_class": cls.__name__, "base": jsonable(base)}
            for lab, (cls, base) in zip(labels, specs, strict=True)
        ],
        "learning_rates": lrs.tolist(),
        "seeds": seeds_arr.tolist(),
        "epochs": E,
    }
    if execution is not None:
        metadata["execution"] = execution
    return StudyResult(
        labels=tuple(labels),
        learning_rates=lrs,
        seeds=seeds_arr.copy(),
        loss=arrays["loss"].reshape(O, L, S, E),
        accuracy=arrays["accuracy"].reshape(O, L, S, E),
        initial_loss=initial,
        metadata=jsonable(metadata),
    )


def _study_chunk(task: dict) -> tuple[dict, dict]:
    """Trains the chunk's `(class, base, lr)` points for every seed.

    Returns:
        `({"loss": (p, S, E), "accuracy": (p, S, E)}, shared fit metadata)`.
    """
    from simulator import cluster

    cluster.tune_worker_allocator()
    opts = [cls(learning_rate=lr, **base) for cls, base, lr in task["points"]]
    many = fit_many(
        opts,
        task["seeds"],
        task["epochs"],
        task["batch_size"],
        record=None,
        layer_sizes=task["layer_sizes"],
        data=task["data"],
        dtype=task["dtype"],
        progress=task["progress"],
    )
    shared = {k: v for k, v in many.metadata.items() if k != "optimizers"}
    return {"loss": many.loss, "accuracy": many.accuracy}, jsonable(shared)
