"""Every figure function writes real, non-blank files that carry their configuration."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.image import imread

from scenes.figures.curves import plot_loss_curves, plot_loss_small_multiples
from scenes.figures.landscape import plot_race, plot_race_3d, plot_race_panels
from scenes.figures.layers import polylines
from scenes.figures.maps import plot_fate, plot_sweep
from scenes.output import read_png_config, save_figure
from simulator import fate_map, simulate, sweep

STARTS = [[-1.2, 1.0], [2.0, -0.5]]


@pytest.fixture(scope="module")
def race():
    return simulate(
        "rosenbrock",
        [
            "Adam(learning_rate=0.05)",
            "SGD(learning_rate=0.001, momentum=0.9, nesterov=True)",
        ],
        STARTS,
        120,
    )


def _assert_real_png(path, min_size=(400, 300), min_ink=0.2):
    """Exists, has the expected size, is not one flat colour and has enough ink."""
    image = imread(path)
    assert image.shape[1] >= min_size[0]
    assert image.shape[0] >= min_size[1]
    rgb = image[..., :3]
    assert rgb.std() > 0.05, f"{path} looks blank"
    # Not mostly white either: a filled plot covers a good part of the canvas.
    assert (rgb.mean(axis=-1) < 0.95).mean() > min_ink


def test_race_plot_draws_every_path_and_flags_divergence(race, tmp_path):
    art = plot_race(
        race, glyphs=("velocity", "lookahead", "step_size"), glyph_steps=[5, 20]
    )
    assert set(art.paths) == set(race.labels)
    assert all(len(polylines(bands)) == 2 for bands in art.paths.values())
    nesterov = race.labels[1]
    assert art.diverged[nesterov] == 1  # the (2, -0.5) start diverges
    labels = [t.get_text() for t in art.legend.get_texts()]
    assert any("1/2 diverged" in text for text in labels)
    assert any("diverged: last seen here" in text for text in labels)
    # `lookahead` is the old name of the textbook-iterate glyph.
    assert {"velocity", "textbook_iterate", "step_size"} <= set(art.glyphs)
    # The drawn path stops at the divergence step (plus the start row).
    step = race[1].diverged_step[1]
    assert len(polylines(art.paths[nesterov])[1]) == step + 1
    files = save_figure(art.ax.figure, tmp_path / "race.png", race.metadata)
    _assert_real_png(files[0], (1000, 900))
    assert read_png_config(files[0])["optiscape"]["labels"] == race.labels
    plt.close("all")


def test_race_plot_legend_matches_configuration(race):
    art = plot_race(race)
    texts = [t.get_text() for t in art.legend.get_texts()]
    assert texts[0] == "Adam(learning_rate=0.05)"
    assert art.ax.get_title() == "rosenbrock · 120 steps · 2 starts"
    plt.close("all")


def test_log_contours_colorbar_and_linear_levels(race):
    art = plot_race(race)
    assert "log scale" in art.colorbar.ax.get_ylabel()
    valley = simulate("valley", "SGD(0.05)", None, 10)
    art2 = plot_race(valley)
    assert "equal-area" in art2.colorbar.ax.get_ylabel()
    plt.close("all")


def test_bad_glyph_is_refused(race):
    with pytest.raises(ValueError, match="Unknown glyph 'acceleration'"):
        plot_race(race, glyphs=("acceleration",))
    with pytest.raises(ValueError, match="glyph_steps"):
        plot_race(race, glyphs=("velocity",), glyph_steps=[500])
    plt.close("all")


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_formats_and_sidecar(race, tmp_path, fmt):
    art = plot_race(race)
    (path,) = save_figure(art.ax.figure, tmp_path / f"race.{fmt}", race.metadata)
    assert path.suffix == f".{fmt}"
    assert path.stat().st_size > 10_000
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["optiscape"]["steps"] == 120
    assert sidecar["versions"]["matplotlib"]
    raw = path.read_bytes()
    if fmt == "svg":
        assert b"optiscape" in raw
        assert b"learning_rate" in raw
    plt.close("all")


def test_save_figure_refuses_unknown_suffix(race, tmp_path):
    art = plot_race(race)
    with pytest.raises(ValueError, match=r"\.gif"):
        save_figure(art.ax.figure, tmp_path / "race.gif", {})
    plt.close("all")


def test_3d_and_panels(race, tmp_path):
    art = plot_race_3d(race)
    (p,) = save_figure(art.ax.figure, tmp_path / "r3d.png", race.metadata)
    _assert_real_png(p)
    fig = plt.figure(figsize=(10, 4), layout="constrained")
    arts = plot_race_panels(race, fig, ncols=2)
    assert len(arts) == 2
    titles = [a.ax.get_title() for a in arts]
    assert "diverged" in titles[1]
    assert "final loss" in titles[0]
    (p,) = save_figure(fig, tmp_path / "panels.png", race.metadata)
    _assert_real_png(p)
    plt.close("all")


def test_loss_curves_overlay_and_multiples(race, tmp_path):
    art = plot_loss_curves(race)
    assert art.axes[0].get_yscale() == "log"
    assert set(art.lines) == set(race.labels)
    label = art.lines[race.labels[1]].get_label()
    assert "1 diverged" in label
    assert "median of 2" in label
    (p,) = save_figure(art.axes[0].figure, tmp_path / "loss.png", race.metadata)
    _assert_real_png(p, min_ink=0.03)
    seeds = {
        "A": np.exp(-np.linspace(0, 3, 50))[:, None] * [1, 2, 3],
        "B": np.exp(-np.linspace(0, 1, 50)),
    }
    art = plot_loss_small_multiples(seeds, ncols=2, xlabel="epoch")
    assert len(art.axes) == 2
    assert art.bands["A"] is not None
    assert art.bands["B"] is None
    (p,) = save_figure(art.axes[0].figure, tmp_path / "multi.png", {})
    _assert_real_png(p, (500, 200), min_ink=0.03)
    plt.close("all")


def test_sweep_heatmap_and_fate_map(tmp_path):
    result = sweep(
        "rosenbrock",
        "SGD",
        {"learning_rate": np.geomspace(1e-4, 4e-3, 8), "momentum": [0, 0.5, 0.9]},
        STARTS,
        200,
    )
    m = plot_sweep(result)
    assert m.ax.get_yscale() == "log"
    assert m.ax.get_xscale() == "linear"
    assert m.legend is not None  # some cells diverged
    (p,) = save_figure(m.ax.figure, tmp_path / "sweep.png", result.metadata)
    _assert_real_png(p)
    with pytest.raises(ValueError, match="metric"):
        plot_sweep(result, metric="accuracy")
    fate = fate_map("himmelblau", "Adam(learning_rate=0.1)", 200, resolution=40)
    m = plot_fate(fate)
    labels = [t.get_text() for t in m.legend.get_texts()]
    assert sum("global minimum" in t for t in labels) == 4
    (p,) = save_figure(m.ax.figure, tmp_path / "fate.png", fate.metadata)
    _assert_real_png(p)
    plt.close("all")


def test_fate_map_on_an_expression_discovers_minima(tmp_path):
    fate = fate_map(
        "expr:(x**2 - 1)**2 + y**2",
        "Adam(learning_rate=0.05)",
        300,
        resolution=20,
        view=((-2, 2), (-1, 1)),
    )
    assert fate.metadata["minima_discovered"]
    xs = sorted(round(m[0], 6) for m in fate.metadata["minima"])
    assert xs == [-1.0, 1.0]
    assert set(fate.counts()) <= {0, 1, -1}
    m = plot_fate(fate)
    (p,) = save_figure(m.ax.figure, tmp_path / "fate.png", fate.metadata)
    _assert_real_png(p)
    plt.close("all")


def test_draw_minima_on_a_surface_without_minima_draws_nothing():
    import matplotlib.pyplot as plt

    from scenes.figures.landscape import draw_minima
    from surfaces import get as get_surface

    fig, ax = plt.subplots()
    assert not get_surface("saddle").minima
    assert draw_minima(ax, get_surface("saddle")) is None
    assert not ax.collections
    assert draw_minima(ax, get_surface("rosenbrock")) is ax.collections[0]
    plt.close(fig)
