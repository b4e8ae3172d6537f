"""Three figures without text, compared with stored baselines (tests/baseline/)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from scenes.figures.landscape import plot_race
from scenes.figures.maps import plot_fate, plot_sweep
from simulator import fate_map, simulate, sweep

BASELINE_DPI = 60


def _bare(fig):
    for ax in fig.axes:
        ax.set_axis_off()
        ax.set_title("")
    return fig


def race_figure():
    race = simulate(
        "valley",
        ["SGD(learning_rate=0.05)", "SGD(0.05, momentum=0.9)"],
        [[-2.5, 1.0], [-2.8, -1.0]],
        200,
    )
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_race(
        race,
        ax,
        legend=False,
        title=False,
        colorbar=False,
        glyphs=("velocity",),
        glyph_steps=[10, 40],
    )
    return _bare(fig)


def fate_figure():
    fate = fate_map(
        "himmelblau", "SGD(learning_rate=0.01, momentum=0.9)", 200, resolution=50
    )
    fig, ax = plt.subplots(figsize=(5, 4))
    art = plot_fate(fate, ax, title=False)
    art.legend.remove()
    return _bare(fig)


def sweep_figure():
    import numpy as np

    result = sweep(
        "rosenbrock",
        "SGD",
        {
            "learning_rate": np.geomspace(1e-4, 4e-3, 12),
            "momentum": np.linspace(0, 0.95, 12),
        },
        [[-1.2, 1.0], [0.5, -0.5]],
        200,
    )
    fig, ax = plt.subplots(figsize=(5, 4))
    art = plot_sweep(result, ax, title=False)
    art.colorbar.remove()
    if art.legend is not None:
        art.legend.remove()
    return _bare(fig)


FIGURES = {
    "race_valley": race_figure,
    "fate_himmelblau": fate_figure,
    "sweep_rosenbrock": sweep_figure,
}

if __name__ == "__main__":  # regenerate: python tests/baseline_figures.py
    from pathlib import Path

    here = Path(__file__).parent / "baseline"
    for name, make in FIGURES.items():
        make().savefig(here / f"{name}.png", dpi=BASELINE_DPI)
        print(here / f"{name}.png")
