"""The explorer's artists: the shared race and glyph layers, one set per optimizer.

The landscape is drawn by `scenes.figures.layers` over a `scenes.frames`
`FrameReader`, exactly as the race figures and videos draw it. The explorer
keeps one reader and one `RaceLayer`/`GlyphLayer` per optimizer, so a re-run
replaces only that optimizer's artists; every artist is `animated` (left out of
the cached background, drawn over it by the explorer's blit). The loss and
internals panels show each optimizer's full curve with a cursor at the
timeline's step, with quantities from `scenes.figures.internals`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from scenes.figures.internals import INTERNAL_QUANTITIES
from scenes.figures.layers import GlyphLayer, RaceLayer
from scenes.frames import FrameReader, flat
from scenes.style import series_style
from simulator.trace import Trace

__all__ = [
    "CurvesLayer",
    "SeriesLayer",
    "glyph_scale",
    "internal_curve",
    "sticky_log_limits",
]

#: Particles drawn per optimizer (a swarm has 1,024; its heads are all shown).
MAX_PARTICLES = 1024
#: Swarm mode draws short trails (rows) instead of 1,024 whole paths.
SWARM_TRAIL = 12
#: Swarm mode stamps glyphs on at most this many particles per optimizer.
SWARM_GLYPHS = 64


class SeriesLayer:
    """One optimizer's run on the landscape: `RaceLayer` + `GlyphLayer`.

    Args:
        ax: the landscape axes.
        trace: the optimizer's trace.
        index: its style index (colour, marker, line style) in the race.
        view: the landscape view.
        glyph: canonical glyph name, or None.
        scale: glyph data units per unit (shared by every optimizer).
    """

    def __init__(
        self,
        ax: Axes,
        trace: Trace,
        index: int,
        view: Any,
        glyph: str | None,
        scale: float | None,
    ):
        before = set(ax.get_children())
        swarm = trace.positions[0].size // 2 > 64
        self.reader = FrameReader(
            trace,
            view=view,
            glyphs=(glyph,) if glyph else (),
            glyph_scale=scale,
            max_particles=MAX_PARTICLES,
            first_style=index,
        )
        self.race = RaceLayer(
            ax, self.reader, trail=SWARM_TRAIL if swarm else None, fade=False
        )
        self.glyph = None
        if glyph and self.reader.has_glyph(glyph)[0]:
            reader = self.reader
            if swarm:  # glyphs on a sample of the swarm, not 1,024 arrows
                reader = FrameReader(
                    trace,
                    view=view,
                    glyphs=(glyph,),
                    glyph_scale=scale,
                    max_particles=SWARM_GLYPHS,
                    first_style=index,
                )
            self.glyph = GlyphLayer(ax, reader, glyph)
        # Every artist the layers made (the starts too): drawn by the blit,
        # removed with the layer.
        self.artists = [a for a in ax.get_children() if a not in before]
        for artist in self.artists:
            artist.set_animated(True)

    def update(self, row: int) -> None:
        """Moves the optimizer's particles (and glyph) to recorded row `row`."""
        row = min(row, self.reader.last_row)
        self.race.update(row)
        if self.glyph is not None:
            self.glyph.update(row)

    def remove(self) -> None:
        """Removes every artist of the layer from the axes."""
        for artist in self.artists:
            artist.remove()
        self.artists = []


def glyph_scale(traces: list[Trace], view: Any, glyph: str | None) -> float | None:
    """One glyph scale for the whole race, as the race figure computes it."""
    if not glyph or not traces:
        return None
    reader = FrameReader(traces, view=view, glyphs=(glyph,), max_particles=64)
    return reader.scale[glyph]


def internal_curve(trace: Trace, quantity: str) -> np.ndarray | None:
    """`(R - 1,)` median over particles of `quantity` (norm over coordinates).

    `quantity` is a key of `scenes.figures.internals.INTERNAL_QUANTITIES`; None
    if the trace did not record it. Rows after a particle diverged are NaN and
    left out of the median.
    """
    _, read, _ = INTERNAL_QUANTITIES[quantity]
    data = read(trace)
    if data is None:
        return None
    data = np.asarray(data, dtype=np.float64)
    values = np.hypot(data[..., 0], data[..., 1]) if data.ndim == 3 else np.abs(data)
    alive = flat(trace, trace.valid_rows())[1:]
    values = np.where(alive & np.isfinite(values), values, np.nan)
    return _nanmedian(values)


def loss_curve(trace: Trace, floor: float) -> np.ndarray:
    """`(R,)` median over particles of `f - floor` (the gap to the minimum)."""
    loss = flat(trace, trace.loss).astype(np.float64) - floor
    alive = flat(trace, trace.valid_rows())
    return _nanmedian(np.where(alive & (loss > 0), loss, np.nan))


def _nanmedian(values: np.ndarray) -> np.ndarray:
    """Median over axis 1 ignoring NaN; NaN (no warning) where a row has none.

    One sort (NaN sorts last) and the middle of each row's finite values:
    `np.nanmedian` over a swarm's `(500, 1024)` rows costs ten times more.
    """
    if values.shape[1] == 1:
        return values[:, 0].copy()
    ordered = np.sort(values, axis=1)
    n = np.isfinite(values).sum(axis=1)
    lo = np.maximum((n - 1) // 2, 0)[:, None]
    hi = np.maximum(n // 2, 0)[:, None]
    middle = np.take_along_axis(ordered, lo, 1) + np.take_along_axis(ordered, hi, 1)
    return np.where(n > 0, 0.5 * middle[:, 0], np.nan)


class CurvesLayer:
    """One line per optimizer over recorded steps, and a cursor at the step."""

    def __init__(self, ax: Axes, n: int):
        self.ax = ax
        self.lines: list[Line2D] = []
        self.cursor = ax.axvline(0, color="#333333", linewidth=0.8, animated=True)
        self.resize(n)

    def resize(self, n: int) -> None:
        """Keeps one line per optimizer for `n` optimizers."""
        while len(self.lines) < n:
            style = series_style(len(self.lines))
            (line,) = self.ax.plot(
                [],
                [],
                color=style["color"],
                linestyle=style["linestyle"],
                linewidth=1.4,
                animated=True,
            )
            self.lines.append(line)
        while len(self.lines) > n:
            self.lines.pop().remove()

    def artists(self) -> list[Any]:
        """Every artist of the layer."""
        return [*self.lines, self.cursor]

    def set_curve(self, i: int, x: np.ndarray | None, y: np.ndarray | None) -> None:
        """Curve `i` (None hides it)."""
        if x is None or y is None:
            self.lines[i].set_data([], [])
        else:
            self.lines[i].set_data(x, y)

    def set_step(self, step: float) -> None:
        """Moves the cursor to `step`."""
        self.cursor.set_xdata([step, step])

    def limits(self) -> tuple[float, float] | None:
        """The finite positive y range of every curve (None if there is none)."""
        ys = [np.asarray(line.get_ydata(), float) for line in self.lines]
        ys = [y[np.isfinite(y) & (y > 0)] for y in ys if len(y)]
        ys = [y for y in ys if len(y)]
        if not ys:
            return None
        return float(min(y.min() for y in ys)), float(max(y.max() for y in ys))


def sticky_log_limits(
    current: tuple[float, float], lo: float, hi: float
) -> tuple[float, float] | None:
    """New log-axis limits for data in `[lo, hi]`, or None to keep `current`.

    Kept while the data fit and span at least a quarter of the shown decades:
    changing limits means redrawing the background, so small slider moves do
    not rescale the axis (and stay a blit).
    """
    c0, c1 = current
    shown = np.log10(c1) - np.log10(c0)
    span = np.log10(hi) - np.log10(lo)
    if c0 <= lo and hi <= c1 and span >= 0.25 * shown:
        return None
    pad = max(0.3, 0.1 * span)
    return 10 ** (np.log10(lo) - pad), 10 ** (np.log10(hi) + pad)
