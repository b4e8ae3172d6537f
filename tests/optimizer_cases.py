"""The table every optimizer test iterates: Keras keyword sets per optimizer.

Between them the cases of each optimizer cover clipping (clipnorm, clipvalue,
global_clipnorm), decoupled weight decay, EMA (with overwrite), gradient
accumulation, loss scaling, a learning-rate schedule and the structural switches.
Learning rates are chosen so 100 steps on Rosenbrock and on the bowl stay in a
sensible region (no divergence).
"""

from __future__ import annotations

from typing import Any

from simulator.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

from optimizer_cases_extra import EXTRA_CASES

CASES: dict[str, list[dict[str, Any]]] = {
    "SGD": [
        {"learning_rate": 0.001, "momentum": 0.9, "nesterov": True},
        {
            "learning_rate": 0.001,
            "momentum": 0.9,
            "clipnorm": 1.0,
            "weight_decay": 0.01,
        },
        {
            "learning_rate": ExponentialDecay(0.002, decay_steps=20, decay_rate=0.5),
            "use_ema": True,
            "ema_momentum": 0.9,
            "ema_overwrite_frequency": 5,
        },
        {"learning_rate": 0.001, "gradient_accumulation_steps": 3, "clipvalue": 2.0},
    ],
    "RMSprop": [
        {"learning_rate": 0.01, "momentum": 0.9, "centered": True},
        {"learning_rate": 0.003, "global_clipnorm": 1.0, "weight_decay": 0.01},
        {
            "learning_rate": PolynomialDecay(0.005, decay_steps=60, power=2.0),
            "use_ema": True,
        },
    ],
    "Adam": [
        {"learning_rate": 0.05},
        {"learning_rate": 0.05, "amsgrad": True, "clipnorm": 2.0},
        {
            "learning_rate": InverseTimeDecay(0.05, decay_steps=10, decay_rate=0.5),
            "gradient_accumulation_steps": 2,
            "use_ema": True,
            "ema_overwrite_frequency": 7,
        },
        {"learning_rate": 0.02, "weight_decay": 0.05, "loss_scale_factor": 3.0},
    ],
    "AdamW": [
        {"learning_rate": 0.05, "weight_decay": 0.01},
        {"learning_rate": 0.05, "clipvalue": 5.0},
        {
            "learning_rate": ExponentialDecay(0.05, 25, 0.7, staircase=True),
            "amsgrad": True,
            "gradient_accumulation_steps": 3,
        },
    ],
    "Adadelta": [
        {"learning_rate": 1.0},
        {"learning_rate": 1.0, "rho": 0.9, "clipnorm": 1.0, "weight_decay": 0.01},
        {
            "learning_rate": PiecewiseConstantDecay([30, 60], [2.0, 1.0, 0.5]),
            "use_ema": True,
            "gradient_accumulation_steps": 2,
        },
    ],
    "Adagrad": [
        {"learning_rate": 0.3},
        {
            "learning_rate": 0.2,
            "initial_accumulator_value": 0.5,
            "global_clipnorm": 3.0,
        },
        {
            "learning_rate": ExponentialDecay(0.3, 50, 0.5),
            "weight_decay": 0.02,
            "use_ema": True,
            "ema_momentum": 0.8,
        },
    ],
    "Adamax": [
        {"learning_rate": 0.05},
        {"learning_rate": 0.05, "clipnorm": 2.0, "weight_decay": 0.01},
        {
            "learning_rate": PolynomialDecay(
                0.05, 40, end_learning_rate=0.01, cycle=True
            ),
            "gradient_accumulation_steps": 2,
        },
    ],
    "Nadam": [
        {"learning_rate": 0.03},
        {"learning_rate": 0.03, "clipvalue": 3.0, "weight_decay": 0.01},
        {
            "learning_rate": InverseTimeDecay(0.03, 20, 1.0, staircase=True),
            "gradient_accumulation_steps": 2,
            "use_ema": True,
            "ema_overwrite_frequency": 10,
        },
    ],
    "Lion": [
        {"learning_rate": 0.01},
        {"learning_rate": 0.01, "beta_1": 0.95, "beta_2": 0.98, "weight_decay": 0.1},
        {
            "learning_rate": ExponentialDecay(0.02, 30, 0.5),
            "global_clipnorm": 1.0,
            "use_ema": True,
            "gradient_accumulation_steps": 2,
        },
    ],
}

#: Every optimizer class name -> its cases.
ALL_CASES: dict[str, list[dict[str, Any]]] = {**CASES, **EXTRA_CASES}

#: Schedules that Keras's JAX backend evaluates with float32 `cos` even in float64
#: mode; runs that use them are compared at the float32-internals tolerance.
FLOAT32_INTERNAL_SCHEDULES = (CosineDecay, CosineDecayRestarts)


def case_id(name: str, kwargs: dict[str, Any]) -> str:
    """A short readable test id."""
    parts = []
    for key, value in kwargs.items():
        text = value.to_text() if hasattr(value, "to_text") else repr(value)
        parts.append(f"{key}={text}")
    return f"{name}({', '.join(parts)})"
