"""The `valley` design claim, checked with the real Keras-exact SGD.

Plain SGD(learning_rate=0.01) from the default start is trapped in the shallow
local minimum (-1, 0); SGD(learning_rate=0.01, momentum=0.9) coasts over the
ridge into the global minimum (2, 0). Robustness: the claim must hold for a
neighbourhood of starts and a range of learning rates, not just one point.
"""

from __future__ import annotations

import numpy as np
import pytest

import surfaces
from simulator.optimizers import SGD

VALLEY = surfaces.get("valley")
GLOBAL = np.array(VALLEY.minima[0].xy)
LOCAL = np.array(VALLEY.minima[1].xy)


def _run(starts: np.ndarray, opt: SGD, steps: int = 500) -> np.ndarray:
    xy = np.asarray(starts, dtype=np.float64)
    state = opt.init([xy], batch_ndim=xy.ndim - 1)
    for _ in range(steps):
        res = opt.step([xy], [VALLEY.grad(xy)], state)
        xy, state = res.params[0], res.state
    return xy


def _neighbourhood(radius: float = 0.2, n: int = 5) -> np.ndarray:
    """An n x n grid of starts around the default start."""
    sx, sy = VALLEY.starts[0]
    offsets = np.linspace(-radius, radius, n)
    dx, dy = np.meshgrid(offsets, offsets)
    return np.stack([sx + dx, sy + dy], axis=-1).reshape(-1, 2)


def test_minima_are_the_documented_ones():
    assert VALLEY.minima[0].kind == "global"
    assert VALLEY.minima[1].kind == "local"
    np.testing.assert_array_equal(GLOBAL, [2.0, 0.0])
    np.testing.assert_array_equal(LOCAL, [-1.0, 0.0])
    assert VALLEY.saddles[0].xy == (0.0, 0.0)
    assert VALLEY.starts[0] == (-2.5, 1.0)


def test_default_start_plain_sgd_trapped_momentum_escapes():
    start = np.array(VALLEY.starts[0])
    plain = _run(start, SGD(learning_rate=0.01))
    heavy = _run(start, SGD(learning_rate=0.01, momentum=0.9))
    np.testing.assert_allclose(plain, LOCAL, atol=1e-3)
    np.testing.assert_allclose(heavy, GLOBAL, atol=1e-3)


@pytest.mark.parametrize("lr", [0.006, 0.008, 0.01, 0.012, 0.015])
def test_claim_holds_for_nearby_starts_and_learning_rates(lr):
    starts = _neighbourhood()
    plain = _run(starts, SGD(learning_rate=lr))
    heavy = _run(starts, SGD(learning_rate=lr, momentum=0.9))
    assert np.all(np.linalg.norm(plain - LOCAL, axis=-1) < 1e-2), plain
    assert np.all(np.linalg.norm(heavy - GLOBAL, axis=-1) < 1e-2), heavy


def test_claim_is_not_vacuous_momentum_needs_enough_energy():
    """Momentum started next to the local minimum stays trapped, so the escape
    comes from the height of the start, not from momentum always winning."""
    near = _run(np.array([-1.2, 0.1]), SGD(learning_rate=0.01, momentum=0.9))
    np.testing.assert_allclose(near, LOCAL, atol=1e-3)
