"""Argument checks shared by every optimizer: one line naming the argument and value."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "MeaninglessValue",
    "check_bool",
    "check_float_hyperparameter",
    "float_dtype",
    "format_value",
]


class MeaninglessValue(ValueError):
    """A hyperparameter of the right type whose value makes the run meaningless."""


def _finite(name: str, value: Any) -> Any:
    """`value` if every element is finite; inf/NaN make every step meaningless."""
    if not np.all(np.isfinite(value)):
        shown = value if np.ndim(value) == 0 else format_value(np.asarray(value))
        raise MeaninglessValue(
            f"Argument `{name}` must be finite. Received: {name}={shown!r}"
        )
    return value


def check_bool(name: str, value: Any) -> bool:
    """A structural switch (`nesterov`, `amsgrad`, ...): True or False, nothing else.

    `bool("maybe")` is True, and an array of switches has no single meaning: the
    rule's structure is one for the whole run (run twice to compare).
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    shown = format_value(value) if isinstance(value, np.ndarray) else repr(value)
    raise ValueError(
        f"Argument `{name}` must be True or False. Received: {name}={shown}"
    )


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
        return _finite(name, float(value))
    if isinstance(value, numbers.Integral):
        if not strict:
            return _finite(name, float(value))
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
    if arr.size == 0:
        # An empty array would give a run of zero particles.
        raise MeaninglessValue(
            f"Argument `{name}` must not be an empty array. "
            f"Received: {name}=array(shape={arr.shape})"
        )
    _finite(name, arr)
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
