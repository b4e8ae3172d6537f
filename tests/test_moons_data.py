"""make_moons is scikit-learn's make_moons bit for bit, without importing it."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.moons import DATA_DEFAULTS, make_moons

CASES = [
    (300, 0.1, 42),
    (100, 0.2, 0),
    (7, 0.3, 123),
    (2, 1.0, 5),
    (301, None, 3),
    (64, 0.0, 2**31 - 1),
]


@pytest.mark.parametrize(("n", "noise", "seed"), CASES)
def test_bit_identical_to_sklearn(n, noise, seed):
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = make_moons(n, noise, seed)
    Xs, ys = datasets.make_moons(n_samples=n, noise=noise, random_state=seed)
    assert X.dtype == Xs.dtype
    assert y.dtype == ys.dtype
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)


def test_shuffle_false_and_randomstate_instance():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = make_moons(50, 0.1, np.random.RandomState(9), shuffle=False)
    Xs, ys = datasets.make_moons(
        n_samples=50, noise=0.1, random_state=np.random.RandomState(9), shuffle=False
    )
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)


def test_article_defaults_and_not_importing_sklearn():
    import subprocess
    import sys

    code = (
        "import sys; from simulator.moons import make_moons; make_moons(); "
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
    assert DATA_DEFAULTS == {"n_samples": 300, "noise": 0.1, "random_state": 42}
    X, y = make_moons()
    assert X.shape == (300, 2)
    assert np.bincount(y).tolist() == [150, 150]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 10.0}, "n_samples"),
        ({"n_samples": True}, "n_samples"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"noise": "0.1"}, "noise"),
        ({"random_state": "42"}, "random_state"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_moons(**kwargs)
