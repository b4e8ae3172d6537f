"""Keras 3 learning-rate schedules, evaluated in numpy at any step and dtype."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simulator.numerics import keras_pow

__all__ = [
    "SCHEDULES",
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]


def _num(name: str, value: Any) -> Any:
    """Validates a numeric schedule argument (number or numeric array)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(
            f"Argument `{name}` must be a number. Received: {name}={value!r}"
        )
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise ValueError(
            f"Argument `{name}` must be a number. Received: {name}={value!r}"
        )
    return value


class LearningRateSchedule:
    """Base class: `schedule(step, dtype=np.float64)` returns the learning rate.

    `step` is Keras's raw iteration counter before the increment (the first
    update uses step 0). Keras computes a schedule in the dtype of
    `convert_to_tensor(initial_learning_rate)`, i.e. floatx: float32 by default,
    float64 in float64 mode. `dtype` plays that role here. Numeric arguments may
    be numpy arrays that broadcast (a sweep over `initial_learning_rate`).
    """

    def __call__(self, step: int, dtype: Any = np.float64) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Keras's config keys, so `keras.optimizers.schedules.X(**config)` works."""
        raise NotImplementedError

    def to_text(self) -> str:
        """Keras-style constructor text, e.g. `CosineDecay(0.05, 150, alpha=0.1)`."""
        parts = []
        for key, value in self.get_config().items():
            if key == "name" and value == self._default_name:
                continue
            if isinstance(value, np.ndarray):
                value = value.tolist()
            parts.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    _default_name = ""

    def __repr__(self) -> str:
        return self.to_text()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        a, b = self.get_config(), other.get_config()
        return a.keys() == b.keys() and all(
            np.array_equal(
                np.asarray(a[k], dtype=object), np.asarray(b[k], dtype=object)
            )
            for k in a
        )

    __hash__ = None  # type: ignore[assignment]


def _check_decay_steps(name: str, value: Any) -> None:
    if np.any(np.asarray(value) <= 0):
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class ExponentialDecay(LearningRateSchedule):
    """`lr = initial_learning_rate * decay_rate ** p`, `p = step / decay_steps`.

    With `staircase=True`, `p = floor(step / decay_steps)`.

    Args:
        initial_learning_rate: float (or array).
        decay_steps: must be > 0.
        decay_rate: float.
        staircase: bool. Defaults to `False`.
        name: Defaults to `"ExponentialDecay"`.
    """

    _default_name = "ExponentialDecay"

    def __init__(
        self,
        initial_learning_rate: Any,
        decay_steps: Any,
        decay_rate: Any,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ):
        self.initial_learning_rate = _num(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _num("decay_steps", decay_steps)
        self.decay_rate = _num("decay_rate", decay_rate)
        self.staircase = staircase
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step, dtype=np.float64):
        lr0 = np.asarray(self.initial_learning_rate, dtype)
        p = np.asarray(step, dtype) / np.asarray(self.decay_steps, dtype)
        if self.staircase:
            p = np.floor(p)
        return lr0 * keras_pow(np.asarray(self.decay_rate, dtype), p, dtype)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` for `step <= boundaries[0]`, `values[i]` for
    `boundaries[i-1] < step <= boundaries[i]`, `values[-1]` after the last.

    As in Keras, boundaries are cast to the step's integer dtype (float
    boundaries are truncated) and the result has the dtype of `values[0]`.

    Args:
        boundaries: increasing list of step numbers.
        values: one more value than boundaries.
        name: Defaults to `"PiecewiseConstant"`.
    """

    _default_name = "PiecewiseConstant"

    def __init__(self, boundaries, values, name: str = "PiecewiseConstant"):
        boundaries = list(boundaries)
        values = list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of "
                f"values. Received: boundaries={boundaries} of length "
                f"{len(boundaries)}, and values={values} "
                f"of length {len(values)}."
            )
        for i, b in enumerate(boundaries):
            _num(f"boundaries[{i}]", b)
        for i, v in enumerate(values):
            _num(f"values[{i}]", v)
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step, dtype=np.float64):
        dtype = np.dtype(dtype)
        step = int(step)
        bounds = [int(b) for b in self.boundaries]  # cast to the int step dtype
        values = [np.asarray(v, dtype) for v in self.values]
        result = np.asarray(0, dtype) + dtype.type(step <= bounds[0]) * values[0]
        result = result + np.dtype(dtype).type(step > bounds[-1]) * values[-1]
        for low, high, value in zip(bounds[:-1], bounds[1:], values[1:-1], strict=True):
            result = result + np.dtype(dtype).type(low < step <= high) * value
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """`lr = (lr0 - end)*(1 - s'/D)**power + end`.

    Without cycle `s' = min(step, decay_steps)` and `D = decay_steps`; with cycle
    `D = decay_steps*ceil(step/decay_steps)` (1 at step 0) and `s' = step`.

    Args:
        initial_learning_rate: float (or array).
        decay_steps: must be > 0.
        end_learning_rate: Defaults to `0.0001`.
        power: Defaults to `1.0`.
        cycle: bool. Defaults to `False`.
        name: Defaults to `"PolynomialDecay"`.
    """

    _default_name = "PolynomialDecay"

    def __init__(
        self,
        initial_learning_rate: Any,
        decay_steps: Any,
        end_learning_rate: Any = 0.0001,
        power: Any = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        self.initial_learning_rate = _num(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _num("decay_steps", decay_steps)
        self.end_learning_rate = _num("end_learning_rate", end_learning_rate)
        self.power = _num("power", power)
        self.cycle = cycle
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step, dtype=np.float64):
        dtype = np.dtype(dtype)
        lr0 = np.asarray(self.initial_learning_rate, dtype)
        end = np.asarray(self.end_learning_rate, dtype)
        power = np.asarray(self.power, dtype)
        s = np.asarray(step, dtype)
        d = np.asarray(self.decay_steps, dtype)
        if self.cycle:
            # `global_step / self.decay_steps`: the Python number enters weakly.
            multiplier = np.where(s == 0, dtype.type(1.0), np.ceil(s / d))
            d = d * multiplier
        else:
            s = np.minimum(s, d)
        p = s / d
        return (lr0 - end) * keras_pow(1 - p, power, dtype) + end

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """`lr = lr0 / (1 + decay_rate*p)`, `p = step/decay_steps` (floored if staircase).

    Args:
        initial_learning_rate: float (or array).
        decay_steps: must be > 0.
        decay_rate: float.
        staircase: bool. Defaults to `False`.
        name: Defaults to `"InverseTimeDecay"`.
    """

    _default_name = "InverseTimeDecay"

    def __init__(
        self,
        initial_learning_rate: Any,
        decay_steps: Any,
        decay_rate: Any,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ):
        self.initial_learning_rate = _num(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _num("decay_steps", decay_steps)
        self.decay_rate = _num("decay_rate", decay_rate)
        self.staircase = staircase
        self.name = name
        _check_decay_steps("decay_steps", decay_steps)

    def __call__(self, step, dtype=np.float64):
        lr0 = np.asarray(self.initial_learning_rate, dtype)
        p = np.asarray(step, dtype) / np.asarray(self.decay_steps, dtype)
        if self.staircase:
            p = np.floor(p)
        denom = np.asarray(1, dtype) + np.asarray(self.decay_rate, dtype) * p
        return lr0 / denom

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter 2016) with optional linear warmup.

    `decay(x, L) = L*((1 - alpha)*0.5*(1 + cos(pi*x/decay_steps)) + alpha)`.
    Without warmup: `lr = decay(min(step, decay_steps), lr0)`. With
    `warmup_target`: `s = min(step, warmup_steps + decay_steps)`; for
    `s < warmup_steps` the rate rises linearly from lr0 to `warmup_target`, then
    `lr = decay(s - warmup_steps, warmup_target)`.

    Keras on the JAX backend evaluates `cos` in float32 even for float64 input
    (and without warmup returns a float32 value); this uses float64 `cos`, so in
    float64 mode the two differ by up to ~1.3e-7 of the schedule's scale.

    Args:
        initial_learning_rate: float (or array).
        decay_steps: must be > 0.
        alpha: floor as a fraction. Defaults to `0.0`.
        name: Defaults to `"CosineDecay"`.
        warmup_target: Defaults to `None` (no warmup).
        warmup_steps: Defaults to `0`.
    """

    _default_name = "CosineDecay"

    def __init__(
        self,
        initial_learning_rate: Any,
        decay_steps: Any,
        alpha: Any = 0.0,
        name: str = "CosineDecay",
        warmup_target: Any = None,
        warmup_steps: Any = 0,
    ):
        self.initial_learning_rate = _num(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _num("decay_steps", decay_steps)
        self.alpha = _num("alpha", alpha)
        self.name = name
        self.warmup_target = (
            None if warmup_target is None else _num("warmup_target", warmup_target)
        )
        self.warmup_steps = _num("warmup_steps", warmup_steps)
        _check_decay_steps("decay_steps", decay_steps)

    def _decay(self, step, decay_steps, decay_from_lr, dtype):
        completed_fraction = step / decay_steps
        pi = np.asarray(math.pi, dtype)
        cosine_decayed = 0.5 * (1.0 + np.cos(pi * completed_fraction))
        decayed = (1 - np.asarray(self.alpha, np.float64)).astype(dtype) * (
            cosine_decayed
        ) + np.asarray(self.alpha, dtype)
        return decay_from_lr * decayed

    def __call__(self, step, dtype=np.float64):
        dtype = np.dtype(dtype)
        lr0 = np.asarray(self.initial_learning_rate, dtype)
        decay_steps = np.asarray(self.decay_steps, dtype)
        s = np.asarray(step, dtype)
        if self.warmup_target is None:
            return self._decay(np.minimum(s, decay_steps), decay_steps, lr0, dtype)
        target = np.asarray(self.warmup_target, dtype)
        warmup_steps = np.asarray(self.warmup_steps, dtype)
        s = np.minimum(s, decay_steps + warmup_steps)
        with np.errstate(divide="ignore", invalid="ignore"):
            warm = (target - lr0) * (s / warmup_steps) + lr0
        decayed = self._decay(s - warmup_steps, decay_steps, target, dtype)
        return np.where(s < warmup_steps, warm, decayed)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay with warm restarts (Loshchilov & Hutter 2016).

    `f = step/first_decay_steps`. If `t_mul == 1`: `i = floor(f)`, `f' = f - i`;
    else `i = floor(log(1 - f*(1 - t_mul))/log(t_mul))`,
    `f' = (f - (1 - t_mul**i)/(1 - t_mul))/t_mul**i`. Then
    `lr = lr0*((1 - alpha)*0.5*m_mul**i*(1 + cos(pi*f')) + alpha)`. `alpha` is
    not scaled by `m_mul**i`; period i lasts `first_decay_steps*t_mul**i` steps.

    Args:
        initial_learning_rate: float (or array).
        first_decay_steps: must be > 0.
        t_mul: Defaults to `2.0`.
        m_mul: Defaults to `1.0`.
        alpha: Defaults to `0.0`.
        name: Defaults to `"SGDRDecay"`.
    """

    _default_name = "SGDRDecay"

    def __init__(
        self,
        initial_learning_rate: Any,
        first_decay_steps: Any,
        t_mul: Any = 2.0,
        m_mul: Any = 1.0,
        alpha: Any = 0.0,
        name: str = "SGDRDecay",
    ):
        self.initial_learning_rate = _num(
            "initial_learning_rate", initial_learning_rate
        )
        self.first_decay_steps = _num("first_decay_steps", first_decay_steps)
        self.t_mul = _num("t_mul", t_mul)
        self.m_mul = _num("m_mul", m_mul)
        self.alpha = _num("alpha", alpha)
        self.name = name
        _check_decay_steps("first_decay_steps", first_decay_steps)

    def __call__(self, step, dtype=np.float64):
        dtype = np.dtype(dtype)
        lr0 = np.asarray(self.initial_learning_rate, dtype)
        alpha = np.asarray(self.alpha, dtype)
        t_mul = np.asarray(self.t_mul, dtype)
        m_mul = np.asarray(self.m_mul, dtype)
        fraction = np.asarray(step, dtype) / np.asarray(self.first_decay_steps, dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            i_geo = np.floor(np.log(1.0 - fraction * (1.0 - t_mul)) / np.log(t_mul))
            sum_r = (1.0 - keras_pow(t_mul, i_geo, dtype)) / (1.0 - t_mul)
            f_geo = (fraction - sum_r) / keras_pow(t_mul, i_geo, dtype)
        i_lin = np.floor(fraction)
        f_lin = fraction - i_lin
        geometric = t_mul != 1.0
        i_restart = np.where(geometric, i_geo, i_lin)
        fraction = np.where(geometric, f_geo, f_lin)
        m_fac = keras_pow(m_mul, i_restart, dtype)
        cosine = 0.5 * m_fac * (1.0 + np.cos(np.asarray(math.pi, dtype) * fraction))
        return lr0 * ((1 - alpha) * cosine + alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


#: Schedule class name -> class.
SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    c.__name__: c
    for c in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}
