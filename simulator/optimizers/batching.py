"""Batch axes: broadcasting variables, gradients and hyperparameter arrays together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simulator.optimizers.state import VarContext

__all__ = ["as_batched", "batch_shape", "expand", "make_context"]


def as_batched(value: Any, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """`value` as a `dtype` array of exactly `shape` (broadcast, never copied)."""
    arr = np.asarray(value, dtype=dtype)
    if arr.shape != shape:
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(
                f"Expected an array of shape {shape}. Received shape {arr.shape}."
            ) from None
    return arr


def expand(value: Any, var_ndim: int) -> np.ndarray:
    """Appends `var_ndim` unit axes so a batch-shaped value meets a variable."""
    arr = np.asarray(value)
    if arr.ndim == 0 or var_ndim == 0:
        return arr
    return arr.reshape(arr.shape + (1,) * var_ndim)


def batch_shape(
    params: list[np.ndarray], batch_ndim: int, arrays: Mapping[str, np.ndarray]
) -> tuple[int, ...]:
    """The broadcast of the variables' batch shapes and the hyperparameter arrays.

    Args:
        params: variables, each `(*B_i, *var_shape_i)`.
        batch_ndim: number of leading batch axes.
        arrays: array hyperparameters by name (named in the error message).
    """
    shapes = [p.shape[:batch_ndim] for p in params]
    try:
        return tuple(np.broadcast_shapes(*shapes, *(a.shape for a in arrays.values())))
    except ValueError:
        described = ", ".join(f"{n}: {a.shape}" for n, a in arrays.items())
        raise ValueError(
            "Hyperparameter arrays must broadcast against the batch axes of the "
            f"variables. Variable batch shapes: {shapes}; hyperparameters: "
            f"{described}."
        ) from None


def make_context(
    *,
    dtype: np.dtype,
    iterations: int,
    var_ndim: int,
    name: str,
    index: int,
    hp64: Mapping[str, Any],
    lr: np.ndarray | None,
    shared: dict[str, np.ndarray],
    internals: bool,
) -> VarContext:
    """A `VarContext` with hyperparameters and learning rate shaped for a variable."""
    hp = {
        k: (expand(np.asarray(v, np.float64), var_ndim) if v is not None else None)
        for k, v in hp64.items()
    }
    lr_e = expand(lr, var_ndim) if lr is not None else np.asarray(0.0, dtype)
    return VarContext(
        dtype=dtype,
        iterations=iterations,
        t=np.asarray(iterations + 1, dtype=dtype),
        lr=lr_e,
        hp=hp,
        var_ndim=var_ndim,
        name=name,
        index=index,
        shared=shared,
        internals=internals,
    )
