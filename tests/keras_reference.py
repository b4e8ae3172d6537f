"""Drives real Keras 3 (JAX backend) as the reference the parity tests compare to."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")


def keras():
    """Imports Keras with the JAX backend and x64 enabled (float64 parity)."""
    import keras as _keras

    assert _keras.backend.backend() == "jax", "parity tests need KERAS_BACKEND=jax"
    return _keras


@contextlib.contextmanager
def floatx(dtype: str) -> Iterator[None]:
    """Temporarily sets Keras's floatx ("float32" or "float64")."""
    k = keras()
    old = k.config.floatx()
    k.config.set_floatx(dtype)
    try:
        yield
    finally:
        k.config.set_floatx(old)


def to_keras_value(value: Any) -> Any:
    """Converts our schedules (and nested values) to their Keras counterparts."""
    from simulator.schedules import LearningRateSchedule

    if isinstance(value, LearningRateSchedule):
        cls = getattr(keras().optimizers.schedules, type(value).__name__)
        config = {k: v for k, v in value.get_config().items() if k != "name"}
        return cls(**config)
    return value


def make_keras_optimizer(name: str, kwargs: dict[str, Any]):
    """Builds `keras.optimizers.<name>(**kwargs)`, converting schedules."""
    cls = getattr(keras().optimizers, name)
    return cls(**{k: to_keras_value(v) for k, v in kwargs.items()})


def keras_trajectory(
    name: str,
    kwargs: dict[str, Any],
    grad_fn: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    steps: int,
    dtype: str = "float64",
    finalize: bool = False,
) -> np.ndarray:
    """Runs one Keras optimizer on one variable, the golden-file protocol.

    Each step: g = grad_fn(current value) in float64 numpy, cast to the variable
    dtype, then `opt.apply([g], [var])`.

    Returns:
        (steps + 1, *start.shape) float64 array; row 0 is the start.
    """
    k = keras()
    with floatx(dtype):
        var = k.Variable(np.asarray(start, np.float64), dtype=dtype, name="particle")
        opt = make_keras_optimizer(name, kwargs)
        out = [np.asarray(var.numpy(), np.float64)]
        for _ in range(steps):
            g = grad_fn(np.asarray(var.numpy(), np.float64))
            opt.apply([k.ops.convert_to_tensor(g.astype(dtype))], [var])
            out.append(np.asarray(var.numpy(), np.float64))
        if finalize and getattr(opt, "use_ema", False):
            opt.finalize_variable_values([var])
            out.append(np.asarray(var.numpy(), np.float64))
    return np.stack(out)


def our_trajectory(
    optimizer,
    grad_fn: Callable[[np.ndarray], np.ndarray],
    starts: np.ndarray,
    steps: int,
    dtype: str = "float64",
    batch_ndim: int | None = None,
) -> np.ndarray:
    """Runs our optimizer with the same protocol; `starts` may carry batch axes.

    Gradients are computed in float64 from the current value and cast, exactly
    like `keras_trajectory`.

    Returns:
        (steps + 1, *B, *var_shape) float64 array.
    """
    x = np.asarray(starts, dtype=dtype)
    if batch_ndim is None:
        batch_ndim = x.ndim - 1
    state = optimizer.init([x], batch_ndim=batch_ndim)
    x = np.broadcast_to(x, state.batch_shape + x.shape[batch_ndim:]).astype(dtype)
    out = [x.astype(np.float64)]
    for _ in range(steps):
        g = grad_fn(x.astype(np.float64)).astype(dtype)
        res = optimizer.step([x], [g], state, internals=False)
        x, state = res.params[0], res.state
        out.append(x.astype(np.float64))
    return np.stack(out)


def max_relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """Largest |ours - ref| over the run, relative to the largest |ref| at that step.

    Scale-relative per step (not per coordinate), so a coordinate that crosses
    zero does not blow up the figure.
    """
    ours = np.asarray(ours, np.float64)
    ref = np.asarray(ref, np.float64)
    axes = tuple(range(1, ref.ndim))
    scale = np.maximum(np.max(np.abs(ref), axis=axes), 1e-300)
    return float(np.max(np.max(np.abs(ours - ref), axis=axes) / scale))
