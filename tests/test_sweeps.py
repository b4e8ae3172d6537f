"""Sweeps and fate maps: one vectorised run equals the individual runs."""

from __future__ import annotations

import numpy as np
import pytest

import surfaces
from simulator import FateMap, SweepResult, fate_map, optimizers, simulate, sweep
from simulator.sweeps import DIVERGED, STALLED

STARTS = np.array([[-1.2, 1.0], [0.5, -0.5], [-0.5, 2.0]])
GRID = {"learning_rate": [1e-4, 1e-3, 3e-3], "momentum": [0.0, 0.5, 0.9, 0.99]}


@pytest.fixture(scope="module")
def result() -> SweepResult:
    return sweep("rosenbrock", "SGD", GRID, STARTS, 300, fixed={"nesterov": True})


def test_sweep_shapes_and_axes(result):
    assert result.grid_shape == (3, 4)
    assert result.final_loss.shape == (3, 4, 3)
    assert result.final_positions.shape == (3, 4, 3, 2)
    assert list(result.axes) == ["learning_rate", "momentum"]
    assert result.median_final_loss().shape == (3, 4)
    assert result.fraction_diverged().shape == (3, 4)
    assert result.diverged.any()
    assert not result.diverged.all()


def test_sweep_equals_individual_runs(result):
    for i, lr in enumerate(GRID["learning_rate"]):
        for j, mom in enumerate(GRID["momentum"]):
            opt = optimizers.SGD(learning_rate=lr, momentum=mom, nesterov=True)
            trace = simulate("rosenbrock", opt, STARTS, 300)
            np.testing.assert_array_equal(
                result.final_positions[i, j], trace.positions[-1]
            )
            np.testing.assert_array_equal(result.diverged[i, j], trace.diverged)
            np.testing.assert_array_equal(
                result.converged_step[i, j], trace.converged_step
            )
            np.testing.assert_array_equal(result.final_loss[i, j], trace.loss[-1])


def test_sweep_metadata_and_round_trip(result, tmp_path):
    meta = result.metadata
    assert meta["grid"] == GRID
    assert meta["base_arguments"] == {"nesterov": True}
    assert meta["optimizer"]["text"].startswith(
        "SGD(nesterov=True, learning_rate=<3 values"
    )
    back = SweepResult.load(result.save(tmp_path / "sweep"))
    np.testing.assert_array_equal(back.final_loss, result.final_loss)
    assert list(back.axes) == list(result.axes)
    assert back.metadata == result.metadata


def test_sweep_from_text_keeps_its_arguments():
    res = sweep("saddle", "Adam(beta_1=0.5)", {"learning_rate": [0.01, 0.1]}, STARTS, 5)
    ref = simulate("saddle", "Adam(learning_rate=0.1, beta_1=0.5)", STARTS, 5)
    np.testing.assert_array_equal(res.final_positions[1], ref.positions[-1])


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({}, "grid"),
        ({"learning_rat": [0.1]}, "learning_rat"),
        ({"learning_rate": []}, "learning_rate"),
        ({"learning_rate": [[0.1]]}, "learning_rate"),
        ({"momentum": ["a"]}, "momentum"),
    ],
)
def test_sweep_bad_grid(grid, match):
    with pytest.raises(ValueError, match=match):
        sweep("rosenbrock", "SGD", grid, STARTS, 5)


def test_sweep_validation_of_values_is_kerass():
    with pytest.raises(ValueError, match="momentum"):
        sweep("rosenbrock", "SGD", {"momentum": [0.5, 1.5]}, STARTS, 5)


def test_fate_map_himmelblau_finds_four_minima(tmp_path):
    fate = fate_map(
        "himmelblau", "SGD(learning_rate=0.01, momentum=0.9)", 400, resolution=60
    )
    assert fate.outcome.shape == (60, 60)
    assert fate.steps_taken.shape == (60, 60)
    counts = fate.counts()
    assert {0, 1, 2, 3} <= set(counts)
    assert sum(counts[k] for k in range(4)) > 0.9 * 3600
    # Each start's outcome agrees with where its particle ended.
    surface = surfaces.get("himmelblau")
    reached = fate.outcome >= 0
    minima = np.array([m.xy for m in surface.minima])
    d = np.linalg.norm(
        fate.final_positions[reached] - minima[fate.outcome[reached]], axis=-1
    )
    assert (d <= 1e-3).all()
    # Rows are y, columns are x; the start that is a minimum's neighbour goes there.
    (i, j) = np.unravel_index(
        np.argmin(np.hypot(fate.x[None, :] - 3.0, fate.y[:, None] - 2.0)), (60, 60)
    )
    assert fate.outcome[i, j] == 0
    back = FateMap.load(fate.save(tmp_path / "fate"))
    np.testing.assert_array_equal(back.outcome, fate.outcome)


def test_fate_map_marks_divergence():
    fate = fate_map("rosenbrock", "SGD(learning_rate=0.003)", 100, resolution=20)
    assert (fate.outcome == DIVERGED).any()
    assert (fate.outcome == STALLED).any()
    div = fate.outcome == DIVERGED
    assert (fate.steps_taken[div] < 100).all()


def test_fate_map_bad_resolution():
    with pytest.raises(ValueError, match="resolution"):
        fate_map("himmelblau", "Adam(0.1)", 10, resolution=1)


def test_fate_map_of_an_expression_round_trips_its_discovered_minima(tmp_path):
    fate = fate_map(
        "expr:(x**2 - 1)**2 + y**2",
        "Adam(learning_rate=0.05)",
        100,
        resolution=8,
        view=((-2, 2), (-1, 1)),
    )
    back = FateMap.load(fate.save(tmp_path / "fate"))
    assert back.surface.minima == fate.surface.minima
    assert len(back.surface.minima) == 2
