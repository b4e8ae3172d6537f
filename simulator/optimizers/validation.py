"""Argument checks shared by every optimizer: one line naming the argument and value."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["check_float_hyperparameter", "float_dtype", "format_value"]


def format_value(value: Any) -> str:
    """`repr(value)`, or `array(shape=...)` for an array (keeps messages one line)."""
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape})"
    return repr(value)


def check_float_hyperparameter(
    name: str, value: Any, *, optional: bool = False, strict: bool = False
):
    """Normalises a numeric hyperparameter to float64 (Python float or array).

    Accepts a Python float, a numpy floating scalar or a floating array (an array
    broadcasts against the batch axes). Ints and numpy scalars other than float64
    are converted unless `strict` (Keras rejects them for `learning_rate` and SGD's
    `momentum`, which must pass `isinstance(value, float)`). Bools and non-numbers
    raise a `ValueError` naming the argument and the value.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool | np.bool_) or value is None:
        raise ValueError(
            f"Argument `{name}` must be a float or an array of floats. "
            f"Received: {name}={value!r}"
        )
    if isinstance(value, float):  # includes np.float64
        return float(value)
    if isinstance(value, numbers.Integral):
        if not strict:
            return float(value)
        raise ValueError(
            f"Argument `{name}` must be a float (write {value}.0, as Keras requires)."
            f" Received: {name}={value!r}"
        )
    if strict and isinstance(value, np.generic):
        # Keras tests `isinstance(value, float)`: np.float32 is not a float there.
        raise ValueError(
            f"Argument `{name}` must be a Python float (Keras rejects "
            f"{type(value).__name__}). Received: {name}={value!r}"
        )
    try:
        arr = np.asarray(value)
    except Exception:
        arr = None
    if arr is None or arr.dtype.kind != "f":
        raise ValueError(
            f"Argument `{name}` must be a float or an array of floats. "
            f"Received: {name}={value!r}"
        )
    if arr.ndim == 0:
        return float(arr)
    return arr.astype(np.float64)


def float_dtype(params: list[np.ndarray]) -> np.dtype:
    """The one floating dtype (float32 or float64) shared by every variable."""
    kinds = {p.dtype for p in params if p.dtype.kind == "f"}
    if not kinds:
        return np.dtype(np.float64)
    if len(kinds) > 1:
        raise ValueError(
            "All variables must share one floating dtype. "
            f"Received dtypes: {sorted(str(k) for k in kinds)}"
        )
    dtype = kinds.pop()
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"Variables must be float32 or float64. Received: {dtype}")
    return dtype
