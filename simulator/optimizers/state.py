"""Optimizer state, step results and the per-variable context every rule receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from simulator.numerics import keras_pow

__all__ = ["OptState", "StepResult", "VarContext"]


class OptState(NamedTuple):
    """Immutable optimizer state for a batch of independent runs.

    Attributes:
        iterations: the raw step counter (calls to `step` so far; Keras's
            `_iterations`).
        slots: one dict per variable, slot name -> array `(*B, *var_shape)` (or
            smaller, e.g. Adafactor's factored rows/columns).
        shared: optimizer-wide state, e.g. Nadam's `u_product` of shape `B`.
        ema: EMA weights per variable, or None.
        accumulators: gradient accumulators per variable, or None.
        batch_shape: the broadcast batch shape `B`.
        var_ndims: number of variable (non-batch) axes of each variable.
        names: variable names (used by weight-decay exclusion and Muon).
        dtype: numpy dtype of every floating array.
    """

    iterations: int
    slots: tuple[dict[str, np.ndarray], ...]
    shared: dict[str, np.ndarray]
    ema: tuple[np.ndarray, ...] | None
    accumulators: tuple[np.ndarray, ...] | None
    batch_shape: tuple[int, ...]
    var_ndims: tuple[int, ...]
    names: tuple[str, ...]
    dtype: np.dtype


class StepResult(NamedTuple):
    """What `Optimizer.step` returns.

    Attributes:
        params: new parameters, each `(*B, *var_shape)`.
        state: the new `OptState`.
        internals: dict of named internals (see `simulator.optimizers.base`); empty
            when `step(..., internals=False)`.
    """

    params: tuple[np.ndarray, ...]
    state: OptState
    internals: dict[str, Any]


@dataclass
class VarContext:
    """Everything `_update` needs for one variable, cast and shaped for it.

    Attributes:
        dtype: the variable dtype.
        iterations: the step counter before this step (Keras: accumulation-adjusted).
        t: `iterations + 1` as a 0-d array of `dtype` (Keras's `local_step`).
        lr: the learning rate, cast to `dtype`, shaped `(*B, 1, ..., 1)`.
        hp: float64 hyperparameters, each shaped to broadcast against the
            variable (batch axes then ones for the variable axes). Cast them with
            `cast` only after doing any arithmetic that Keras does in Python.
        var_ndim: number of variable axes (reduce over `axes` for per-variable
            norms).
        name: the variable name.
        index: position of the variable in the list.
        shared: optimizer-wide state after `_pre_update` (e.g. Nadam's product).
        internals: whether internals are wanted (skip extra work if not).
    """

    dtype: np.dtype
    iterations: int
    t: np.ndarray
    lr: np.ndarray
    hp: dict[str, np.ndarray]
    var_ndim: int
    name: str
    index: int
    shared: dict[str, np.ndarray] = field(default_factory=dict)
    internals: bool = True

    @property
    def axes(self) -> tuple[int, ...]:
        """The variable axes, for per-variable reductions."""
        return tuple(range(-self.var_ndim, 0))

    def cast(self, value: Any) -> np.ndarray:
        """Casts a float64 quantity to the variable dtype (Keras `ops.cast`)."""
        return np.asarray(value, dtype=self.dtype)

    def pow(self, base: Any, exponent: Any = None) -> np.ndarray:
        """`base ** exponent` (default `t`) as XLA rounds it (`keras_pow`)."""
        return keras_pow(base, self.t if exponent is None else exponent, self.dtype)
