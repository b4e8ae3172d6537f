"""The two-moons data set, identical to `sklearn.datasets.make_moons`, in numpy."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["DATA_DEFAULTS", "make_moons"]

#: The article's data set: `make_moons(n_samples=300, noise=0.1, random_state=42)`.
DATA_DEFAULTS: dict[str, object] = {"n_samples": 300, "noise": 0.1, "random_state": 42}


def make_moons(
    n_samples: int = 300,
    noise: float | None = 0.1,
    random_state: int | np.random.RandomState | None = 42,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, bit for bit what scikit-learn returns.

    Replicates `sklearn.datasets.make_moons` (scikit-learn 1.x): the outer moon
    takes `n_samples // 2` points, both moons are stacked, shuffled with one
    `RandomState.shuffle` of the row indices, and then Gaussian noise is drawn
    with `RandomState.normal(scale=noise, size=X.shape)`. Defaults are the
    article's (300, 0.1, 42), not scikit-learn's.

    Args:
        n_samples: total number of points (an int >= 2).
        noise: standard deviation of the Gaussian noise; None or 0 for none.
        random_state: seed or `numpy.random.RandomState` (None: numpy's global
            RandomState, as scikit-learn does).
        shuffle: shuffle the rows (scikit-learn's `shuffle`).

    Returns:
        `X` of shape `(n_samples, 2)` float64 and `y` of shape `(n_samples,)`
        int (`np.intp`): 0 for the outer (upper) moon, 1 for the inner one.
    """
    if (
        not isinstance(n_samples, numbers.Integral)
        or isinstance(n_samples, bool)
        or n_samples < 2
    ):
        raise ValueError(
            f"Argument `n_samples` must be an integer >= 2. Received: "
            f"n_samples={n_samples!r}"
        )
    if noise is not None and (
        isinstance(noise, bool)
        or not isinstance(noise, numbers.Real)
        or not np.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(
            f"Argument `noise` must be a finite number >= 0 or None. Received: "
            f"noise={noise!r}"
        )
    generator = _random_state(random_state)
    n_out = int(n_samples) // 2
    n_in = int(n_samples) - n_out
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    if shuffle:
        indices = np.arange(n_samples)
        generator.shuffle(indices)
        X, y = X[indices], y[indices]
    if noise is not None:
        X += generator.normal(scale=noise, size=X.shape)
    return X, y


def _random_state(seed) -> np.random.RandomState:
    """scikit-learn's `check_random_state`."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.RandomState(seed)
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(
        "Argument `random_state` must be None, an int or a numpy RandomState. "
        f"Received: random_state={seed!r}"
    )
