"""The flavour comparison animated: the race, and the distance to Keras's path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scenes.animate.player import Animation
from scenes.animate.race import VideoSettings, animate_race
from scenes.compare import ZERO_FLOOR, ComparisonRun, rule_title, run_comparison
from scenes.figures.curves import CurveArtists, plot_loss_curves
from scenes.figures.landscape import surface_title
from scenes.frames import FrameReader
from scenes.style import series_style
from simulator.optimizers.text import value_text

__all__ = ["animate_comparison", "distance_panel"]


def distance_panel(run: ComparisonRun):
    """A `side_panels` builder: each flavour's distance to Keras, log y, cursor.

    The curves are `plot_loss_curves` of the distances (one run each), restyled
    to their trace's colour and line style, so a curve matches its particle;
    the reference itself has no curve. Distances of exactly 0 (every flavour at
    step 0, and rules that agree bit for bit) are drawn at `ZERO_FLOOR`.
    """
    race, ref, dist = run.race, run.reference, run.distances

    def build(fig, slot, reader: FrameReader) -> CurveArtists:
        ax = fig.add_subplot(slot)
        others = [i for i in range(len(race)) if i != ref]
        data = {race[i].label: np.maximum(dist[i], ZERO_FLOOR) for i in others}
        x = race[ref].steps_recorded.astype(np.float64)
        curves = plot_loss_curves(
            data, ax, x=x, legend=False, band=None, xlabel="step", ylabel=""
        )
        # Flavours that agree draw on top of each other: their markers, at
        # staggered steps, keep every curve visible.
        every = max(1, len(x) // 10)
        for k, (i, line) in enumerate(zip(others, curves.lines.values(), strict=True)):
            style = series_style(i)
            line.set_color(style["color"])
            line.set_linestyle(style["linestyle"])
            line.set_marker(style["marker"])
            line.set_markersize(5)
            line.set_markevery((k * every // len(others), every))
        curves.steps = reader.steps
        curves.add_cursor()
        # Its own label, or the landscape colourbar's "f(x, y)" beside it reads
        # as this axis's.
        ax.set_ylabel("distance to Keras", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_title(
            f"distance to {race[ref].label}'s path\n"
            f"(max over starts, log scale; 0 drawn at {ZERO_FLOOR:g})",
            fontsize=9,
            loc="left",
        )
        return curves

    return build


def animate_comparison(
    optimizer: str,
    flavours: Sequence[str],
    surface: Any,
    out: str | Path,
    settings: VideoSettings | None = None,
    *,
    learning_rate: float | None = None,
    match: str = "defaults",
    starts: Any = None,
    steps: int = 200,
    progress: bool = True,
) -> Animation:
    """`compare` as a video: the flavours racing, with their distance to Keras.

    Left, the flavours of one optimizer from the same starts (the race
    animation of `scenes.animate.race`); right, a linked panel of how far each
    flavour's path is from Keras's, its cursor moving with the race. The
    configuration (flavours, arguments, match mode and its statement, formula
    table, final distances) goes into the file's metadata and sidecar under
    `compare`, as in the figure.

    Args:
        optimizer, flavours, surface, learning_rate, match, starts, steps: as
            in `scenes.compare.compare`.
        out: `.mp4`, `.gif`, `.webm`, `.html` or `.png` (frames).
        settings: timing and size; `settings.panels` (loss, internals, 3d) go
            under the distance panel.
        progress: progress bars.
    """
    from scenes.animate.encode import video_format

    settings = settings or VideoSettings(seconds=8)
    settings.check_even(video_format(out))
    run = run_comparison(
        optimizer,
        flavours,
        surface,
        learning_rate=learning_rate,
        match=match,
        starts=starts,
        steps=steps,
        progress=progress,
    )
    keras = run.comparison.keras
    settings.extra = {**settings.extra, "kind": "compare"}
    how = "matched names" if match == "names" else "matched defaults"
    title = (
        f"{rule_title(keras)}, learning rate {value_text(keras.learning_rate)}, "
        f"{how}: {len(run.race)} flavours on {surface_title(run.race[0].surface)}"
    )
    return animate_race(
        run.race,
        out,
        settings,
        title=title,
        config={"compare": run.config},
        progress=progress,
        side_panels={"distance": distance_panel(run)},
    )
