"""Counter-based gradient noise: batch-independent, seeded, Gaussian; old traces."""

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simulator import Trace, simulate
from simulator.noise import COUNTER, LEGACY, GradientNoise, normals, scheme_of

DATA = Path(__file__).parent / "data"
STARTS = np.random.default_rng(5).uniform(-2, 2, size=(12, 2))


def test_a_particle_gets_the_same_noise_in_any_batch():
    """The property chunked and Dask runs rely on: noise = f(seed, index, step)."""
    opt = "SGD(learning_rate=0.002, momentum=0.9)"
    full = simulate("rosenbrock", opt, STARTS, 60, noise=0.7, seed=11)
    pick = np.array([7, 2, 9])
    part = simulate(
        "rosenbrock", opt, STARTS[pick], 60, noise=0.7, seed=11, particle_index=pick
    )
    assert np.array_equal(part.positions, full.positions[:, pick])
    alone = simulate("rosenbrock", opt, STARTS[pick], 60, noise=0.7, seed=11)
    assert not np.array_equal(alone.positions, full.positions[:, pick])


def test_noise_is_seeded_and_recorded():
    a = simulate("himmelblau", "Adam(0.05)", STARTS, 30, noise=0.3, seed=2)
    b = simulate("himmelblau", "Adam(0.05)", STARTS, 30, noise=0.3, seed=2)
    c = simulate("himmelblau", "Adam(0.05)", STARTS, 30, noise=0.3, seed=3)
    assert np.array_equal(a.positions, b.positions)
    assert not np.array_equal(a.positions, c.positions)
    assert a.metadata["noise_scheme"] == COUNTER
    assert scheme_of(a.metadata) == COUNTER


def test_small_batches_draw_blocks_of_steps_with_the_same_numbers():
    """Few particles draw many steps per call; the numbers are those of one step."""
    idx = np.array([[0, 5], [3, 1]])
    gen = GradientNoise(4, (2, 2), steps=300, index=idx)
    assert gen._block > 300  # the whole run in one block
    for k in (0, 1, 137, 299):
        assert np.array_equal(gen.draw(k), normals(4, [k], idx)[0])


def test_normals_are_standard_gaussian_pairs():
    z = normals(0, np.arange(4), np.arange(50_000))  # (4, 50000, 2)
    flat = z.reshape(-1, 2)
    assert stats.kstest(flat[:, 0], "norm").pvalue > 0.01
    assert stats.kstest(flat[:, 1], "norm").pvalue > 0.01
    assert abs(np.corrcoef(flat[:, 0], flat[:, 1])[0, 1]) < 0.01
    # Steps and particles are independent streams: no correlation across them.
    assert abs(np.corrcoef(z[0, :, 0], z[1, :, 0])[0, 1]) < 0.02
    assert abs(np.corrcoef(z[0, :-1, 0], z[0, 1:, 0])[0, 1]) < 0.02
    assert abs(flat.mean()) < 0.01
    assert abs(flat.std() - 1) < 0.01


def test_traces_saved_before_the_counter_scheme_load_and_reproduce():
    """A trace written by the previous engine (one batch PCG64 stream)."""
    old = Trace.load(DATA / "legacy-noise-trace.npz")
    meta = old.metadata
    assert "noise_scheme" not in meta
    assert scheme_of(meta) == LEGACY
    again = simulate(
        meta["surface"]["name"],
        meta["optimizer"]["text"],
        meta["starts"],
        meta["steps"],
        noise=meta["noise"],
        seed=meta["seed"],
        record=tuple(meta["record"]),
        noise_scheme=scheme_of(meta),
    )
    assert np.array_equal(again.positions, old.positions)
    assert np.array_equal(again.loss, old.loss)
    assert again.metadata["noise_scheme"] == LEGACY


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"noise_scheme": "mt19937"}, "noise_scheme"),
        ({"particle_index": np.arange(5)}, "particle_index"),
        ({"particle_index": -np.arange(12)}, "particle_index"),
        ({"particle_index": np.arange(12), "noise_scheme": LEGACY}, "particle_index"),
    ],
)
def test_bad_noise_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate("rosenbrock", "SGD(0.001)", STARTS, 3, noise=0.1, **kwargs)
