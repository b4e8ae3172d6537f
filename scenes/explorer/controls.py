"""Slider and toggle descriptions generated from an optimizer's Keras signature."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

from simulator.optimizers.base import Optimizer
from simulator.optimizers.keras_pipeline import BASE_ARGUMENTS

__all__ = ["Control", "controls_for", "with_hyperparameter"]

#: Hyperparameters shown on a log scale (they span decades).
LOG_SCALE = ("learning_rate", "epsilon")
#: Log-scale ranges (inclusive) for the explorer's sliders.
LOG_RANGE = {"learning_rate": (1e-5, 10.0), "epsilon": (1e-12, 1.0)}
#: Decay rates and momenta live in [0, 1); the top of the slider stays below 1.
UNIT_INTERVAL = ("beta", "rho", "momentum", "decay")


@dataclass(frozen=True)
class Control:
    """One widget for one constructor argument of an optimizer.

    Attributes:
        name: the Keras argument name (`"learning_rate"`, `"nesterov"`).
        kind: `"float"` (a slider) or `"bool"` (a toggle).
        value: the optimizer's current value.
        lo, hi: slider range (floats only).
        log: the slider moves `log10(value)`.
    """

    name: str
    kind: str
    value: Any
    lo: float = 0.0
    hi: float = 1.0
    log: bool = False


def _float_range(name: str, default: float, value: float) -> tuple[float, float]:
    if any(part in name for part in UNIT_INTERVAL) and 0 <= default <= 1:
        return 0.0, 0.9999
    span = max(1.0, 10 * abs(default), 2 * abs(value))
    return (-span, 0.0) if default < 0 else (0.0, span)


def controls_for(optimizer: Optimizer) -> list[Control]:
    """The optimizer's own numeric arguments (sliders) and switches (toggles).

    Read from the class's Keras signature: every argument before the shared
    keyword tail (`weight_decay`, `clipnorm`, ...) whose default is a float or a
    bool. Array-valued or scheduled arguments get no widget (their text box
    still edits them).
    """
    config = optimizer.get_config()
    out = []
    for name, param in inspect.signature(type(optimizer)).parameters.items():
        if name in BASE_ARGUMENTS or param.kind is param.VAR_KEYWORD:
            break
        default, value = param.default, config.get(name, param.default)
        if isinstance(default, bool):
            out.append(Control(name, "bool", bool(value)))
        elif isinstance(default, float) and isinstance(value, float):
            if name in LOG_SCALE:
                lo, hi = LOG_RANGE[name]
                out.append(Control(name, "float", value, lo, hi, log=True))
            else:
                lo, hi = _float_range(name, default, value)
                out.append(Control(name, "float", value, lo, hi))
    return out


def check_value(control: Control, value: Any) -> float | bool:
    """`value` for `control`, or a ValueError naming the argument and the value."""
    name = control.name
    if control.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(
                f"`{name}` must be True or False. Received: {name}={value!r}"
            )
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value}")
    if control.log and value <= 0:
        raise ValueError(f"`{name}` must be > 0. Received: {name}={value:g}")
    return value


def with_hyperparameter(optimizer: Optimizer, name: str, value: Any) -> Optimizer:
    """A new optimizer equal to `optimizer` except `name=value` (Keras validation).

    Raises:
        ValueError: `name` is not a slider or toggle of this optimizer, or the
            value is invalid (the message names the argument and the value).
    """
    controls = {c.name: c for c in controls_for(optimizer)}
    if name not in controls:
        raise ValueError(
            f"`{name}` is not a hyperparameter of {type(optimizer).__name__} with a "
            f"slider or toggle (those are: {', '.join(controls)}). Received: {name!r}"
        )
    config = optimizer.get_config()
    config[name] = check_value(controls[name], value)
    return type(optimizer)(**config)


def slider_value(control: Control, position: float) -> float:
    """A slider position -> the hyperparameter, rounded to 4 significant digits.

    Log sliders move `log10(value)`. Rounding keeps the exported Keras text
    readable (`0.0316`, not `0.031622776601683`) and exact to re-parse.
    """
    value = 10.0**position if control.log else position
    return float(f"{value:.4g}")


def slider_position(control: Control, value: float) -> float:
    """The slider position that shows `value` (inverse of `slider_value`)."""
    return math.log10(value) if control.log else float(value)
