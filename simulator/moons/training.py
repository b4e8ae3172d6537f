"""Keras `model.fit` semantics, vectorised over (optimizer, seed) pairs."""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from simulator import optimizers as _optimizers
from simulator.budget import DEFAULT_MEMORY_LIMIT, check, format_bytes
from simulator.buffers import warm_allocator
from simulator.moons.data import DATA_DEFAULTS, make_moons
from simulator.moons.mlp import ARTICLE_LAYER_SIZES, MLP, _check_seeds, _float_dtype
from simulator.moons.mlp import permutations as _permutations
from simulator.moons.results import FitHistory, ManyHistory, jsonable, package_versions
from simulator.optimizers.text import legend_labels

__all__ = ["ELEMENTWISE", "fit", "fit_many", "resolve_data"]

#: Optimizer classes whose update rule is elementwise: with no per-variable
#: reduction configured (clipnorm, global_clipnorm) and no weight-decay
#: exclusions, stepping all of a model's variables as one flat vector gives
#: bit-identical results to stepping each kernel and bias separately, so the
#: trainer does that (one optimizer call per step instead of one per variable).
ELEMENTWISE: tuple[type, ...] = (
    _optimizers.SGD,
    _optimizers.RMSprop,
    _optimizers.Adam,
    _optimizers.AdamW,
    _optimizers.Adagrad,
    _optimizers.Adadelta,
    _optimizers.Adamax,
    _optimizers.Nadam,
    _optimizers.Lion,
    _optimizers.Ftrl,
)

_RECORD = ("epoch", "step", None)


def fit(
    optimizer: Any,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    initial_weights: Sequence[np.ndarray] | np.ndarray | None = None,
    shuffle: bool = True,
    record: str | None = "epoch",
    *,
    layer_sizes: Sequence[int] = ARTICLE_LAYER_SIZES,
    data: Mapping[str, Any] | tuple[np.ndarray, np.ndarray] | None = None,
    dtype: str = "float64",
) -> FitHistory:
    """Trains one MLP like `model.fit(X, y, epochs, batch_size, shuffle)`.

    Keras semantics: each epoch visits the samples in a fresh order (`shuffle`;
    in order when False) in `ceil(n / batch_size)` batches, the last one
    partial; each batch's loss is measured before its update; the epoch loss is
    the running mean of batch losses weighted by batch size (Keras 3's `Mean`
    loss tracker), likewise the accuracy; every kernel and bias is a separate
    optimizer variable.

    Args:
        optimizer: an `Optimizer` or Keras-style text such as `"Adam(0.01)"`.
        epochs: number of epochs (int >= 1).
        batch_size: samples per batch (int >= 1).
        seed: seeds the initial weights (unless `initial_weights`) and the
            shuffle order. Not Keras's random stream: see `MLP.init_weights`.
        initial_weights: Keras-order list (`model.get_weights()`) or a flat
            `(P,)` vector; defaults to `MLP.init_weights(seed)`.
        shuffle: reshuffle the samples every epoch.
        record: `"epoch"` (initial + after each epoch), `"step"` (after every
            optimizer step) or None (initial and final only).
        layer_sizes: `(inputs, hidden..., classes)`.
        data: `make_moons` keyword arguments (default the article's 300, 0.1,
            42) or an `(X, y)` pair.
        dtype: `"float64"` (Keras with floatx float64) or `"float32"`.

    Returns:
        `FitHistory` with `loss (epochs,)`, `accuracy (epochs,)`, `weights (R, P)`.
    """
    if initial_weights is not None:
        initial_weights = _as_flat(MLP(tuple(layer_sizes)), initial_weights)[None]
    many = fit_many(
        [optimizer],
        [seed],
        epochs,
        batch_size,
        shuffle=shuffle,
        record=record,
        initial_weights=initial_weights,
        layer_sizes=layer_sizes,
        data=data,
        dtype=dtype,
    )
    return many.history(0, 0)


def fit_many(
    optimizers: Sequence[Any],
    seeds: Sequence[int],
    epochs: int | Sequence[int],
    batch_size: int = 32,
    *,
    shuffle: bool = True,
    record: str | None = "epoch",
    initial_weights: Sequence[np.ndarray] | np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    layer_sizes: Sequence[int] = ARTICLE_LAYER_SIZES,
    data: Mapping[str, Any] | tuple[np.ndarray, np.ndarray] | None = None,
    dtype: str = "float64",
    progress: bool = False,
    memory_limit: Any = DEFAULT_MEMORY_LIMIT,
) -> ManyHistory:
    """Trains every (optimizer, seed) pair in one vectorised run.

    All `K = len(optimizers) * len(seeds)` models share one batched forward and
    backward pass per step; each optimizer then steps its own `(S, ...)` slice
    (a loop over optimizer objects, never over seeds). Pair `(o, s)` is exactly
    `fit(optimizers[o], epochs[o], batch_size, seeds[s], ...)`: the seed fixes
    the initial weights and the shuffle order, shared across optimizers.

    Args:
        optimizers: `Optimizer` instances or Keras-style texts.
        seeds: non-negative ints.
        epochs: one int for all, or one per optimizer (shorter runs stop early
            and their rows are NaN-padded).
        batch_size: samples per batch.
        shuffle: reshuffle every epoch (per seed).
        record: `"epoch"`, `"step"` or None (see `fit`).
        initial_weights: Keras-order list or flat vector, either one model's
            (shared by every seed) or with a leading `(S,)` seed axis.
        labels: display labels (default: each optimizer's Keras text).
        layer_sizes: `(inputs, hidden..., classes)`.
        data: `make_moons` keyword arguments or an `(X, y)` pair.
        dtype: `"float64"` or `"float32"`.
        progress: show a progress bar over epochs.
        memory_limit: refuse runs whose histories, trajectories and training
            state would exceed this (see `simulator.budget`).

    Returns:
        `ManyHistory`: `loss (O, S, max(epochs))`, `accuracy`, per-optimizer
        trajectories `(S, R_o, P)`; `.history(o, s)` gives one `FitHistory`.
    """
    warm_allocator()  # step temporaries of ~0.3 MB; see its docstring
    opts = _check_optimizers(optimizers)
    O = len(opts)
    seeds_arr = _check_seeds(seeds) if np.size(seeds) else np.zeros(0, np.int64)
    if seeds_arr.ndim != 1 or seeds_arr.size == 0:
        raise ValueError(
            f"Argument `seeds` must be a non-empty sequence of non-negative ints. "
            f"Received: seeds={seeds!r}"
        )
    S = seeds_arr.size
    epochs_arr = _check_epochs(epochs, O)
    _check_positive_int("batch_size", batch_size)
    if record not in _RECORD:
        raise ValueError(
            f'Argument `record` must be "epoch", "step" or None. Received: '
            f"record={record!r}"
        )
    if labels is None:
        labels = legend_labels(opts)
    labels = [str(v) for v in labels]
    if len(labels) != O:
        raise ValueError(
            f"Argument `labels` must have one label per optimizer ({O}). "
            f"Received {len(labels)} labels."
        )
    dt = _float_dtype(dtype)
    model = MLP(tuple(layer_sizes))
    X, y, data_meta = resolve_data(data, model)
    X = X.astype(dt)
    y = y.astype(np.intp)
    n = X.shape[0]
    P = model.n_params
    steps_per_epoch = math.ceil(n / batch_size)
    _check_memory(epochs_arr, S, P, n, steps_per_epoch, record, dt, memory_limit)

    if initial_weights is None:
        w0 = model.flatten(model.init_weights(seeds_arr, dtype=dt))
    else:
        w0 = _as_flat(model, initial_weights)
        if w0.ndim == 2 and w0.shape[0] != S:
            raise ValueError(
                f"Argument `initial_weights` must hold one model's weights or one "
                f"per seed ({S}). Received a leading axis of {w0.shape[0]}."
            )
        w0 = np.broadcast_to(w0, (S, P)).astype(dt)

    # Internal order: longest run first, so the active optimizers at any epoch
    # are a prefix of the (O, S, P) parameter array.
    order = np.argsort(-epochs_arr, kind="stable")
    ep = epochs_arr[order]
    params = np.empty((O, S, P), dt)
    params[:] = w0
    grads = np.empty((O, S, P), dt)
    flat = [_flat_ok(opts[i]) for i in order]
    states = []
    for slot, i in enumerate(order):
        if flat[slot]:
            states.append(opts[i].init([params[slot]], batch_ndim=1, names=("flat",)))
        else:
            states.append(
                opts[i].init(
                    model.unflatten(params[slot]), batch_ndim=1, names=model.names
                )
            )
    base_point = _optimizers.Optimizer.gradient_point
    ahead = [type(opts[i]).gradient_point is not base_point for i in order]
    E = int(ep[0])
    loss = np.full((O, S, E), np.nan)
    acc = np.full((O, S, E), np.nan)
    rows = [_rows(int(e), steps_per_epoch, record) for e in ep]
    traj = [np.empty((S, len(r), P), dt) for r in rows]
    for t in traj:
        t[:, 0] = w0
    row_of = [dict(zip(r.tolist(), range(len(r)), strict=True)) for r in rows]

    step = 0
    for epoch in tqdm(
        range(E), desc="train", unit="epoch", disable=not progress, leave=False
    ):
        A = int(np.sum(ep > epoch))
        perm = (
            _permutations(seeds_arr, epoch, n)
            if shuffle
            else np.broadcast_to(np.arange(n), (S, n))
        )
        total = np.zeros((A, S), dt)
        correct = np.zeros((A, S), np.int64)
        for start in range(0, n, batch_size):
            idx = perm[:, start : start + batch_size]
            b = idx.shape[1]
            xb = X[idx] if shuffle else X[start : start + b]
            yb = y[idx] if shuffle else y[start : start + b]
            at = params[:A]
            if any(ahead[:A]):
                # Textbook Nesterov: the gradient (and the batch loss, as Keras's
                # is at its look-ahead variable) at the optimizer's gradient point.
                at = at.copy()
                for slot in np.flatnonzero(ahead[:A]):
                    opt = opts[order[slot]]
                    if flat[slot]:
                        at[slot] = opt.gradient_point([params[slot]], states[slot])[0]
                    else:
                        point = opt.gradient_point(
                            model.unflatten(params[slot]), states[slot]
                        )
                        at[slot] = model.flatten(point)
            batch_loss, batch_correct = model._loss_and_grad(at, xb, yb, grads[:A])
            # Keras's Mean tracker: total += loss * batch_size, in floatx.
            total = total + batch_loss * dt.type(b)
            correct += batch_correct
            for slot in range(A):
                if flat[slot]:
                    out = opts[order[slot]].step(
                        [params[slot]], [grads[slot]], states[slot], internals=False
                    )
                    params[slot] = out.params[0]
                else:
                    out = opts[order[slot]].step(
                        model.unflatten(params[slot]),
                        model.unflatten(grads[slot]),
                        states[slot],
                        internals=False,
                    )
                    params[slot] = model.flatten(out.params)
                states[slot] = out.state
            step += 1
            for slot in range(A):
                r = row_of[slot].get(step)
                if r is not None:
                    traj[slot][:, r] = params[slot]
        loss[:A, :, epoch] = total / dt.type(n)
        acc[:A, :, epoch] = correct / n

    # End of fit: EMA weights replace the variables (Keras finalize_variable_values).
    for slot, i in enumerate(order):
        if opts[i].use_ema:
            if flat[slot]:
                final = opts[i].finalize([params[slot]], states[slot])[0]
            else:
                final = model.flatten(
                    opts[i].finalize(model.unflatten(params[slot]), states[slot])
                )
            traj[slot][:, -1] = final

    inverse = np.argsort(order)
    metadata = {
        "batch_size": int(batch_size),
        "shuffle": bool(shuffle),
        "record": record,
        "dtype": dt.name,
        "layer_sizes": list(model.layer_sizes),
        "data": data_meta,
        "initial_weights": "given" if initial_weights is not None else "init_weights",
        "steps_per_epoch": steps_per_epoch,
        "semantics": (
            "Keras 3 model.fit: per-batch loss before the update, epoch loss = "
            "batch-size-weighted mean; sparse categorical cross-entropy with "
            "probabilities clipped to [1e-7, 1-1e-7]"
        ),
        "versions": package_versions(),
        "optimizers": [
            {
                "label": labels[i],
                "optimizer": opts[i].to_text(),
                "optimizer_class": type(opts[i]).__name__,
                "optimizer_config": jsonable(opts[i].get_config()),
                "epochs": int(epochs_arr[i]),
            }
            for i in range(O)
        ],
    }
    return ManyHistory(
        loss=_pad(loss[inverse], epochs_arr),
        accuracy=_pad(acc[inverse], epochs_arr),
        weights=tuple(traj[s] for s in inverse),
        steps=tuple(rows[s] for s in inverse),
        labels=tuple(labels),
        seeds=seeds_arr.copy(),
        epochs=epochs_arr.copy(),
        metadata=metadata,
    )


def resolve_data(
    data: Mapping[str, Any] | tuple[np.ndarray, np.ndarray] | None, model: MLP
) -> tuple[np.ndarray, np.ndarray, dict]:
    """`(X, y, metadata)` from `make_moons` kwargs, an `(X, y)` pair or None."""
    if data is None or isinstance(data, Mapping):
        kwargs = {**DATA_DEFAULTS, **dict(data or {})}
        X, y = make_moons(**kwargs)
        meta = {"make_moons": jsonable(kwargs)}
    else:
        try:
            X, y = data
        except (TypeError, ValueError):
            raise ValueError(
                "Argument `data` must be None, a dict of make_moons arguments or an "
                f"(X, y) pair. Received: data={data!r}"
            ) from None
        X, y = np.asarray(X), np.asarray(y)
        digest = hashlib.sha256(
            np.ascontiguousarray(X, np.float64).tobytes()
            + np.ascontiguousarray(y, np.int64).tobytes()
        ).hexdigest()
        meta = {"arrays": {"n_samples": len(X), "sha256": digest}}
    model._check_labels(y, model._check_inputs(X, np.dtype(np.float64)))
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(
            f"Argument `data` must hold X of shape (n, {model.layer_sizes[0]}) and "
            f"y of shape (n,) with n >= 1. Received shapes {X.shape}, {y.shape}."
        )
    return X, y, meta


def _check_memory(epochs, S, P, n, steps_per_epoch, record, dt, limit) -> None:
    """Histories, trajectories and per-model state, estimated before allocation."""
    O = len(epochs)
    E = float(max(epochs))
    rows = {
        "step": epochs.astype(float) * steps_per_epoch + 1,
        "epoch": epochs.astype(float) + 1,
        None: np.full(O, 2.0),
    }[record]
    history = 2 * 8.0 * O * S * E  # loss and accuracy (float64)
    trajectories = float(rows.sum()) * S * P * dt.itemsize
    # params, grads, optimizer slots and the batch's activations, per model.
    working = 8.0 * O * S * (8 * P + 4 * n) + 8.0 * S * n
    check(
        history + trajectories + working,
        limit,
        f"Training {O} optimizers x {S} seeds for up to {E:.0f} epochs "
        f"({format_bytes(history)} histories + {format_bytes(trajectories)} "
        "weight trajectories)",
        "fewer epochs (--epochs-scale) or seeds, or record=None",
    )


def _rows(epochs: int, steps_per_epoch: int, record: str | None) -> np.ndarray:
    total = epochs * steps_per_epoch
    if record == "step":
        return np.arange(total + 1)
    if record == "epoch":
        return np.arange(epochs + 1) * steps_per_epoch
    return np.array([0, total])


def _pad(values: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    out = values.astype(np.float64)
    for i, e in enumerate(epochs):
        out[i, :, e:] = np.nan
    return out


def _flat_ok(opt) -> bool:
    """True when one flat variable gives the same numbers as per-layer variables."""
    return (
        type(opt) in ELEMENTWISE
        and opt.clipnorm is None
        and opt.global_clipnorm is None
        and not opt._exclude_indices
        and opt._exclude_pattern is None
    )


def _as_flat(model: MLP, weights) -> np.ndarray:
    if isinstance(weights, np.ndarray) and weights.ndim in (1, 2):
        if weights.shape[-1] != model.n_params:
            raise ValueError(
                f"Argument `initial_weights` as a flat vector must have "
                f"{model.n_params} entries for layer_sizes={model.layer_sizes}. "
                f"Received shape {weights.shape}."
            )
        return np.asarray(weights)
    if not isinstance(weights, Sequence | np.ndarray):
        raise ValueError(
            "Argument `initial_weights` must be a Keras-order list of arrays or a "
            f"flat vector. Received: {type(weights).__name__}"
        )
    return model.flatten([np.asarray(w) for w in weights])


def _check_optimizers(optimizers: Sequence[Any]) -> list:
    if isinstance(optimizers, str | _optimizers.Optimizer) or not isinstance(
        optimizers, Sequence
    ):
        raise ValueError(
            "Argument `optimizers` must be a list of optimizers or Keras-style "
            f"texts. Received: optimizers={optimizers!r}"
        )
    if not optimizers:
        raise ValueError("Argument `optimizers` must not be empty.")
    out = []
    for opt in optimizers:
        if isinstance(opt, str):
            opt = _optimizers.parse(opt)
        if not isinstance(opt, _optimizers.Optimizer):
            raise ValueError(
                "Each optimizer must be an Optimizer or Keras-style text. "
                f"Received: {opt!r}"
            )
        if opt._array_hyperparameters():
            raise ValueError(
                f"Optimizer {opt.to_text()} has array hyperparameters; fit_many "
                "takes one optimizer object per hyperparameter point."
            )
        out.append(opt)
    return out


def _check_positive_int(name: str, value: Any) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"Argument `{name}` must be an integer >= 1. Received: {name}={value!r}"
        )
    return int(value)


def _check_epochs(epochs: int | Sequence[int], n: int) -> np.ndarray:
    if isinstance(epochs, numbers.Integral) and not isinstance(epochs, bool):
        return np.full(n, _check_positive_int("epochs", epochs), np.int64)
    if not isinstance(epochs, Sequence | np.ndarray) or len(epochs) != n:
        raise ValueError(
            f"Argument `epochs` must be an integer >= 1 or one per optimizer ({n}). "
            f"Received: epochs={epochs!r}"
        )
    return np.array([_check_positive_int("epochs", e) for e in epochs], np.int64)
