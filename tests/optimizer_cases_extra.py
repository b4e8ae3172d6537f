"""Parity/contract cases for Lamb, Ftrl, Adafactor, Muon and ScheduleFreeAdamW."""

from __future__ import annotations

from typing import Any

from simulator.schedules import CosineDecayRestarts, ExponentialDecay, PolynomialDecay

#: Optimizer class name -> list of Keras keyword-argument dicts.
EXTRA_CASES: dict[str, list[dict[str, Any]]] = {
    "Lamb": [
        {"learning_rate": 0.01},
        {"learning_rate": 0.01, "weight_decay": 0.01, "clipnorm": 3.0},
        {
            "learning_rate": ExponentialDecay(0.02, 40, 0.5),
            "use_ema": True,
            "gradient_accumulation_steps": 2,
        },
    ],
    "Ftrl": [
        {"learning_rate": 0.5},
        {
            "learning_rate": 0.5,
            "l1_regularization_strength": 0.1,
            "l2_regularization_strength": 0.1,
            "l2_shrinkage_regularization_strength": 0.05,
            "beta": 0.5,
            "clipvalue": 10.0,
        },
        {
            "learning_rate": PolynomialDecay(0.5, 50),
            "learning_rate_power": -0.7,
            "use_ema": True,
            "gradient_accumulation_steps": 3,
        },
    ],
    "Adafactor": [
        {"learning_rate": 0.1},
        {"learning_rate": 0.02, "clipnorm": 2.0, "weight_decay": 0.01},
        {
            "learning_rate": ExponentialDecay(0.1, 10, 0.9),
            "use_ema": True,
            "gradient_accumulation_steps": 2,
        },
    ],
    "Muon": [
        {"learning_rate": 0.05},
        {"learning_rate": 0.05, "adam_weight_decay": 0.01, "global_clipnorm": 2.0},
        {
            "learning_rate": CosineDecayRestarts(0.05, 20),
            "use_ema": True,
            "gradient_accumulation_steps": 2,
        },
    ],
    "ScheduleFreeAdamW": [
        {"learning_rate": 0.05},
        {"learning_rate": 0.05, "warmup_steps": 10, "weight_decay": 0.01},
        {
            "learning_rate": 0.05,
            "clipnorm": 2.0,
            "use_ema": True,
            "ema_overwrite_frequency": 6,
            "gradient_accumulation_steps": 2,
        },
    ],
}
