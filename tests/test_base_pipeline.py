"""The shared Keras pipeline (clipping, decay, EMA, accumulation) against live Keras."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import rosen_der

from simulator.optimizers import SGD

from keras_reference import keras_trajectory, max_relative_error, our_trajectory

pytestmark = pytest.mark.keras


def rosen_grad(w: np.ndarray) -> np.ndarray:
    """Rosenbrock gradient on the last axis, via scipy (first-axis convention)."""
    return np.moveaxis(rosen_der(np.moveaxis(w, -1, 0)), 0, -1)


PIPELINE_CASES = [
    {"learning_rate": 0.001, "momentum": 0.9, "nesterov": True},
    {"learning_rate": 0.001, "momentum": 0.9, "clipnorm": 1.0},
    {"learning_rate": 0.002, "global_clipnorm": 0.5, "weight_decay": 0.1},
    {
        "learning_rate": 0.001,
        "momentum": 0.5,
        "clipvalue": 2.0,
        "use_ema": True,
        "ema_momentum": 0.9,
        "ema_overwrite_frequency": 4,
    },
    {
        "learning_rate": 0.001,
        "momentum": 0.8,
        "gradient_accumulation_steps": 3,
        "use_ema": True,
        "loss_scale_factor": 4.0,
    },
]


@pytest.mark.parametrize("kwargs", PIPELINE_CASES, ids=lambda c: ",".join(c))
@pytest.mark.parametrize(("dtype", "steps"), [("float64", 100), ("float32", 10)])
def test_pipeline_matches_keras_bit_for_bit(kwargs, dtype, steps):
    starts = np.array([[-1.2, 1.0], [0.5, -0.5]])
    ours = our_trajectory(SGD(**kwargs), rosen_grad, starts, steps, dtype)
    for i, start in enumerate(starts):
        ref = keras_trajectory("SGD", kwargs, rosen_grad, start, steps, dtype)
        assert max_relative_error(ours[:, i], ref) == 0.0
