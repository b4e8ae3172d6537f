"""Surfaces and starts shared by the flavour goldens generator and the flavour tests.

Written out here (not taken from `surfaces/`) so the torch goldens depend only on
these formulas: a change to the package's surfaces cannot silently move them.
"""

from __future__ import annotations

import numpy as np

#: name -> (gradient function of a (N, 2) array, starts (N, 2)).
SURFACES = {
    # f = (x**2 + 10*y**2)/2
    "bowl": (
        lambda p: np.stack([p[:, 0], 10.0 * p[:, 1]], axis=1),
        [[-2.0, 1.0], [1.5, -0.7]],
    ),
    # f = (1 - x)**2 + 100*(y - x**2)**2
    "rosenbrock": (
        lambda p: np.stack(
            [
                -2.0 * (1.0 - p[:, 0]) - 400.0 * p[:, 0] * (p[:, 1] - p[:, 0] ** 2),
                200.0 * (p[:, 1] - p[:, 0] ** 2),
            ],
            axis=1,
        ),
        [[-0.5, 0.5], [0.3, -0.2]],
    ),
    # f = ((x**2 + y - 11)**2 + (x + y**2 - 7)**2)/50
    "himmelblau": (
        lambda p: np.stack(
            [
                (
                    4.0 * p[:, 0] * (p[:, 0] ** 2 + p[:, 1] - 11.0)
                    + 2.0 * (p[:, 0] + p[:, 1] ** 2 - 7.0)
                )
                / 50.0,
                (
                    2.0 * (p[:, 0] ** 2 + p[:, 1] - 11.0)
                    + 4.0 * p[:, 1] * (p[:, 0] + p[:, 1] ** 2 - 7.0)
                )
                / 50.0,
            ],
            axis=1,
        ),
        [[0.0, 0.0], [-1.0, 2.5]],
    ),
}

#: Steps per recorded run, and the recorded rows (after step k+1 for k in ROWS).
STEPS = 250
ROWS = [*range(10), *range(19, STEPS, 10)]


def gradient(surface: str, p: np.ndarray, maximize: bool) -> np.ndarray:
    """The surface gradient at `p`; negated when the optimizer maximises (so
    `maximize=True` on `-f` walks the same way as minimising `f`)."""
    g = SURFACES[surface][0](p)
    return -g if maximize else g
