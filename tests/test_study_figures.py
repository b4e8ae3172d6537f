"""Sweep slice plots and small multiples: real files with their configuration."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from scenes import cli
from scenes.output import read_png_config
from scenes.study import (
    plot_sweep_slices,
    render_sweep_slices,
    render_sweep_small_multiples,
)
from simulator import sweep

STARTS = [[-1.0, 1.5], [1.5, -0.5], [0.5, 2.0]]


def test_slice_plots_use_log_axes_for_geometric_values(tmp_path):
    grid = {"learning_rate": np.geomspace(1e-4, 3e-3, 5), "momentum": [0, 0.5, 0.9]}
    result = sweep("rosenbrock", "SGD", grid, STARTS, 50)
    fig = plt.figure()
    axes = plot_sweep_slices(result, fig)
    assert [ax.get_xscale() for ax in axes] == ["log", "linear"]
    assert [ax.get_xlabel() for ax in axes] == ["learning_rate", "momentum"]
    # every grid point is drawn once per panel: a dot, or an X where it diverged
    diverged = int(np.isinf(result.median_final_loss()).sum())
    assert 0 < diverged < 15
    for ax in axes:
        dots, crosses = (len(c.get_offsets()) for c in ax.collections)
        assert (dots, crosses) == (15 - diverged, diverged)
    plt.close(fig)
    (path,) = render_sweep_slices(result, tmp_path / "slices.png")
    assert read_png_config(path)["optiscape"]["grid"]["momentum"] == [0, 0.5, 0.9]


def test_small_multiples_draw_one_heatmap_per_third_axis_value(tmp_path):
    grid = {
        "learning_rate": np.geomspace(1e-3, 0.1, 4),
        "beta_1": [0.5, 0.9],
        "beta_2": [0.9, 0.99, 0.999],
    }
    result = sweep("rosenbrock", "Adam", grid, STARTS, 30)
    (path,) = render_sweep_small_multiples(result, tmp_path / "sm.png")
    assert read_png_config(path)["optiscape"]["grid"]["beta_2"] == [0.9, 0.99, 0.999]
    with pytest.raises(ValueError, match="exactly 3"):
        render_sweep_small_multiples(
            sweep("rosenbrock", "Adam", {"beta_1": [0.5, 0.9]}, STARTS, 3),
            tmp_path / "x.png",
        )


def test_cli_sweep_picks_the_figure_for_the_number_of_axes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["-q", "sweep", "-s", "rosenbrock", "--steps", "20", "--start", "1,1.5"]
    two = [*base, "-o", "SGD", "--grid", "momentum=0,0.9", "--out", "a.png"]
    assert cli.main(two) == 0
    three = [*base, "-o", "Adam", "--grid", "beta_1=0.5,0.9", "--out", "b.png"]
    three += ["--grid", "beta_2=0.9,0.99", "--grid", "learning_rate=0.01,0.1"]
    assert cli.main(three) == 0
    assert read_png_config(tmp_path / "a.png")["optiscape"]["kind"] == "sweep"
    assert read_png_config(tmp_path / "b.png")["optiscape"]["grid"]["beta_2"] == [
        0.9,
        0.99,
    ]


def test_cli_study_writes_both_figures_and_the_result(tmp_path, monkeypatch):
    from simulator.moons import StudyResult

    monkeypatch.chdir(tmp_path)
    args = ["-q", "study", "-o", "SGD", "-o", "RMSprop", "--lr", "0.01,0.3"]
    args += ["--seeds", "2", "--epochs", "4", "--threshold", "0.6"]
    assert cli.main([*args, "--save", "s.npz", "--out", "s.png"]) == 0
    config = read_png_config(tmp_path / "s_epochs.png")["optiscape"]
    assert config["threshold"] == 0.6
    assert [o["label"] for o in config["optimizers"]] == ["SGD", "RMSprop"]
    result = StudyResult.load(tmp_path / "s.npz")
    assert result.loss.shape == (2, 2, 2, 4)
    assert read_png_config(tmp_path / "s.png")["optiscape"] == config
