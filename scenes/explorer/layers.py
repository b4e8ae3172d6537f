"""Create-once explorer artists: paths, heads and glyphs, loss and internals curves.

Each layer makes its artists once (`animated=True`: they are left out of the
cached background and drawn over it by the explorer's blit) and changes them
with `set_trace(i, trace)` (a re-run) and `set_row(row)` (the timeline). The
contours come from `scenes.landscape.draw_contours` and the styles from
`scenes.style`, so the explorer draws what the race figures draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from scenes.landscape import _drawable, _exit_points, _flat, _valid_rows
from scenes.style import DIVERGED_MARKER, MINIMUM_STYLE, series_style
from simulator.trace import Trace

__all__ = ["CurvesLayer", "PathsLayer", "TraceFrames", "internal_norm"]

#: Paths drawn per trace in swarm mode (every particle still gets a head).
MAX_PATHS = 48


class TraceFrames:
    """One trace's drawable arrays, computed once per run (not per frame).

    Attributes:
        steps: `(R,)` recorded steps.
        positions: `(R, P, 2)` positions, clipped to a frame around the view.
        valid: `(R, P)` rows before divergence.
        last: `(P,)` index of each particle's last valid row.
        diverged: `(P,)` bool.
        exits: `(P, 2)` where each diverged particle was last seen (NaN else).
    """

    def __init__(self, trace: Trace, view: Any):
        self.trace = trace
        self.steps = trace.steps_recorded
        self.positions = _drawable(_flat(trace, trace.positions), view)
        self.valid = _valid_rows(trace)
        self.last = self.valid.shape[0] - 1 - np.argmax(self.valid[::-1], axis=0)
        self.diverged = trace.diverged.reshape(-1)
        self.exits = np.full((self.positions.shape[1], 2), np.nan)
        if self.diverged.any():
            self.exits[self.diverged] = _exit_points(
                self.positions[:, self.diverged], self.valid[:, self.diverged], view
            )

    def heads(self, row: int) -> np.ndarray:
        """`(P, 2)` positions at `row` (a diverged particle stays where it left)."""
        rows = np.minimum(row, self.last)
        return self.positions[rows, np.arange(len(rows))]

    def glyph(self, name: str, row: int) -> np.ndarray | None:
        """`(P, 2)` glyph vectors of the step from `row` (None past the last step).

        `"gradient"` is drawn as the descent direction, `-gradient`.
        """
        trace = self.trace
        if name == "gradient":
            data = trace.gradient
            if data is None or row >= len(self.steps):
                return None
            return -_flat(trace, data)[row]
        data = trace.internals.get(name)
        if data is None or data.ndim != trace.positions.ndim or row >= len(data):
            return None
        return _flat(trace, data)[row]


def internal_norm(trace: Trace, name: str) -> np.ndarray | None:
    """`(R-1,)` median over particles of `|internal|` per recorded step, or None.

    Per-coordinate internals are reduced to their Euclidean norm; rows after a
    particle diverged are NaN (left out of the median).
    """
    data = trace.internals.get(name)
    if data is None:
        return None
    flat = _flat(trace, data).astype(np.float64)
    values = np.hypot(flat[..., 0], flat[..., 1]) if flat.ndim == 3 else np.abs(flat)
    with np.errstate(all="ignore"):
        values = np.where(np.isfinite(values), values, np.nan)
        if not np.isfinite(values).any():
            return np.full(values.shape[0], np.nan)
        return np.nanmedian(values, axis=1)


def _path_xy(frames: TraceFrames, paths: int) -> np.ndarray:
    """All shown paths of a trace as one polyline, particles separated by NaN."""
    pos = frames.positions[:, :paths]
    pos = np.where(frames.valid[:, :paths, None], pos, np.nan)
    gap = np.full((1, pos.shape[1], 2), np.nan)
    return np.concatenate([pos, gap]).transpose(1, 0, 2).reshape(-1, 2)


class PathsLayer:
    """Per trace: its paths, the heads at the current row, divergence and a glyph."""

    def __init__(self, ax: Axes, n: int, glyph: str | None = "velocity"):
        self.ax = ax
        self.glyph = glyph
        self.frames: list[TraceFrames | None] = [None] * n
        self.paths: list[Line2D] = []
        self.heads: list[Line2D] = []
        self.exits: list[Line2D] = []
        self.glyphs: list[Any] = []
        self.scale = 1.0
        self.row = 0
        for i in range(n):
            self._add_artists(i)

    def _add_artists(self, i: int) -> None:
        style = series_style(i)
        ax = self.ax
        common = {"animated": True}
        (path,) = ax.plot(
            [],
            [],
            color=style["color"],
            linestyle=style["linestyle"],
            linewidth=1.6,
            alpha=0.95,
            zorder=3,
            **common,
        )
        (head,) = ax.plot(
            [],
            [],
            linestyle="none",
            marker=style["marker"],
            markersize=7,
            color=style["color"],
            markeredgecolor="black",
            markeredgewidth=0.8,
            zorder=7,
            **common,
        )
        (exit_,) = ax.plot(
            [],
            [],
            linestyle="none",
            marker=DIVERGED_MARKER["marker"],
            markersize=9,
            color=DIVERGED_MARKER["c"],
            markeredgecolor="black",
            zorder=8,
            **common,
        )
        quiver = ax.quiver(
            [0.0],
            [0.0],
            [np.nan],
            [np.nan],
            color=style["color"],
            angles="xy",
            scale_units="xy",
            scale=1,
            width=0.004,
            zorder=6,
            **common,
        )
        self.paths.append(path)
        self.heads.append(head)
        self.exits.append(exit_)
        self.glyphs.append(quiver)

    def resize(self, n: int) -> None:
        """Keeps artists for `n` traces (adds or removes at the end)."""
        while len(self.paths) < n:
            self._add_artists(len(self.paths))
            self.frames.append(None)
        while len(self.paths) > n:
            for group in (self.paths, self.heads, self.exits, self.glyphs):
                group.pop().remove()
            self.frames.pop()

    def artists(self) -> list[Any]:
        """Every artist of the layer, in drawing order."""
        return [*self.paths, *self.glyphs, *self.heads, *self.exits]

    def set_trace(self, i: int, trace: Trace | None, view: Any) -> None:
        """Trace `i` was (re-)run; None hides it."""
        if trace is None:
            self.frames[i] = None
            for artist in (self.paths[i], self.heads[i], self.exits[i]):
                artist.set_data([], [])
            self._set_glyph(i, None)
            return
        frames = TraceFrames(trace, view)
        self.frames[i] = frames
        xy = _path_xy(frames, MAX_PATHS)
        self.paths[i].set_data(xy[:, 0], xy[:, 1])
        exits = frames.exits[frames.diverged]
        self.exits[i].set_data(exits[:, 0], exits[:, 1])
        self.scale = self._glyph_scale(view)
        self._set_glyph(i, frames)

    def _glyph_scale(self, view: Any) -> float:
        """Glyph length per unit: the 95th-percentile glyph spans 8% of the diagonal."""
        mags = []
        for frames in self.frames:
            if frames is None or self.glyph is None:
                continue
            data = frames.glyph(self.glyph, 0)
            if data is None:
                continue
            name = "gradient" if self.glyph == "gradient" else self.glyph
            source = (
                frames.trace.gradient
                if name == "gradient"
                else (frames.trace.internals[name])
            )
            flat = _flat(frames.trace, source)[:, :MAX_PATHS]
            mags.append(np.hypot(flat[..., 0], flat[..., 1]).ravel())
        if not mags:
            return 1.0
        mags = np.concatenate(mags)
        mags = mags[np.isfinite(mags) & (mags > 0)]
        if not len(mags):
            return 1.0
        (x0, x1), (y0, y1) = view
        return 0.08 * float(np.hypot(x1 - x0, y1 - y0)) / float(np.percentile(mags, 95))

    def _set_glyph(self, i: int, frames: TraceFrames | None) -> None:
        quiver = self.glyphs[i]
        vectors = (
            None
            if frames is None or self.glyph is None
            else frames.glyph(self.glyph, self.row)
        )
        if vectors is None:
            quiver.set_visible(False)
            return
        heads = frames.heads(self.row)[:MAX_PATHS]
        vectors = vectors[:MAX_PATHS] * self.scale
        alive = frames.last[:MAX_PATHS] > self.row
        vectors = np.where(alive[:, None], vectors, np.nan)
        if quiver.N != len(heads):
            quiver.N = len(heads)
        quiver.set_offsets(heads)
        quiver.set_UVC(vectors[:, 0], vectors[:, 1])
        quiver.set_visible(True)

    def set_row(self, row: int) -> None:
        """Moves every head and glyph to recorded row `row`."""
        self.row = row
        for i, frames in enumerate(self.frames):
            if frames is None:
                continue
            heads = frames.heads(min(row, len(frames.steps) - 1))
            self.heads[i].set_data(heads[:, 0], heads[:, 1])
            self._set_glyph(i, frames)


class CurvesLayer:
    """One line per trace over recorded steps, and a cursor at the current step."""

    def __init__(self, ax: Axes, n: int):
        self.ax = ax
        self.lines: list[Line2D] = []
        self.cursor = ax.axvline(0, color="black", linewidth=0.8, animated=True)
        self.resize(n)

    def resize(self, n: int) -> None:
        """Keeps one line per trace for `n` traces."""
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

    Kept while the data fit and span at least a quarter of the shown decades;
    changing limits means redrawing the background, so small moves of a slider
    do not rescale the axis (and stay a blit).
    """
    c0, c1 = current
    shown = np.log10(c1) - np.log10(c0)
    span = np.log10(hi) - np.log10(lo)
    if c0 <= lo and hi <= c1 and span >= 0.25 * shown:
        return None
    pad = max(0.3, 0.1 * span)
    return 10 ** (np.log10(lo) - pad), 10 ** (np.log10(hi) + pad)


def draw_minima(ax: Axes, surface: Any) -> None:
    """Known minima as stars (part of the background)."""
    if surface.minima:
        mins = np.array([m.xy for m in surface.minima])
        ax.scatter(mins[:, 0], mins[:, 1], **MINIMUM_STYLE)


def starts_xy(starts: Sequence[Sequence[float]]) -> np.ndarray:
    """`(N, 2)` float array of start points."""
    return np.asarray(starts, dtype=np.float64).reshape(-1, 2)
