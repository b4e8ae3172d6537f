"""Updatable matplotlib artists over a `FrameReader`: create once, `update(row)`.

A layer creates its artists once and moves them to any recorded row with
`update(row)`, returning the artists it changed (for blitting). A static figure
is `update(last_row)`; an animation calls `update` once per frame.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import EllipseCollection, LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, PathPatch
from matplotlib.path import Path

from scenes.frames import FrameReader, inside_view
from scenes.style import (
    DIVERGED_MARKER,
    OFF_VIEW_MARKER,
    START_STYLE,
    series_style,
)
from scenes.vocab import GLYPH_MEANING

__all__ = ["GlyphLayer", "RaceLayer", "StepLabel"]


class RaceLayer:
    """Paths, heads, starts and divergence markers of every series.

    Args:
        ax: the axes.
        reader: the frame reader.
        trail: rows of trail behind each particle (None: the whole path).
        fade: fade the trail out with age (only with `trail`); a faded trail
            is drawn as solid segments.
        linewidth: path width in points.
        annotate: label diverged particles with their step and reason (at most
            this many per figure; 0: none).

    Attributes:
        paths: label -> the `PathPatch` bands of that series' trail, oldest
            first (one band without `fade`); see `polylines`.
        heads, exits, off: label -> scatter of current positions, divergence
            markers and off-view edge markers.
    """

    def __init__(
        self,
        ax: Axes,
        reader: FrameReader,
        *,
        trail: int | None = None,
        fade: bool = True,
        linewidth: float = 1.6,
        annotate: int = 6,
        head_size: float = 55,
    ):
        self.ax, self.reader = ax, reader
        self.trail = None if trail is None else max(int(trail), 2)
        self.fade = bool(fade and trail is not None)
        self.paths: dict[str, list[PathPatch]] = {}
        self.heads: dict[str, Any] = {}
        self.exits: dict[str, Any] = {}
        self.off: dict[str, Any] = {}
        self.notes: list[Any] = []
        self._annotate = annotate
        empty = np.empty((0, 2))
        # Fading in bands of one alpha each; a swarm's bands cost the most
        # (Agg strokes every segment), so it gets three.
        many = sum(se.n_particles for se in reader.series) > 200
        self._bands = 1 if not self.fade else min(3 if many else 5, self.trail - 1)
        for se in reader.series:
            style = series_style(se.index)
            alphas = np.linspace(0.15, 1.0, self._bands) if self.fade else [0.95]
            self.paths[se.label] = [
                ax.add_patch(
                    PathPatch(
                        Path(np.zeros((1, 2))),
                        fill=False,
                        edgecolor=style["color"],
                        linestyle="solid" if self.fade else style["linestyle"],
                        linewidth=linewidth,
                        alpha=float(a),
                        capstyle="round" if self.fade else "projecting",
                        joinstyle="round",
                        zorder=3,
                    )
                )
                for a in alphas
            ]
            self.heads[se.label] = ax.scatter(
                *empty.T,
                marker=style["marker"],
                s=head_size,
                c=style["color"],
                edgecolors="black",
                linewidths=0.8,
                zorder=7,
            )
            self.exits[se.label] = ax.scatter(*empty.T, **DIVERGED_MARKER)
            self.off[se.label] = ax.scatter(
                *empty.T, **{**OFF_VIEW_MARKER, "c": style["color"]}
            )
        # A swarm's starts are a light grid, not hundreds of discs.
        starts = np.concatenate([se.positions[0] for se in reader.series])
        n = len(starts)
        style = START_STYLE if n <= 50 else {**START_STYLE, "s": 4, "linewidths": 0.3}
        ax.scatter(*starts.T, **style)
        if annotate:
            self._make_notes()

    def _make_notes(self) -> None:
        """One text per diverged particle ("step 37: non-finite loss"), hidden."""
        entries = []
        for s, se in enumerate(self.reader.series):
            for p in np.flatnonzero(se.diverged):
                entries.append((se.diverged_row[p], s, p))
        for row, s, p in sorted(entries)[: self._annotate]:
            se = self.reader.series[s]
            reason = se.diverged_reason[p].replace("nonfinite_", "non-finite ")
            (x0, x1), (y0, y1) = self.reader.view
            x, y = se.exit_xy[p]
            right, top = x > (x0 + x1) / 2, y > (y0 + y1) / 2
            # Towards the view's centre, so the text stays inside the axes.
            text = self.ax.annotate(
                f"step {se.diverged_step[p]}: {reason.replace('_', ' ')}",
                (x, y),
                xytext=(-6 if right else 6, -10 if top else 10),
                textcoords="offset points",
                ha="right" if right else "left",
                va="top" if top else "bottom",
                fontsize=7,
                color="#7A2A00",
                zorder=8,
                bbox={
                    "boxstyle": "round,pad=0.15",
                    "fc": "white",
                    "ec": "none",
                    "alpha": 0.75,
                },
            )
            text.set_visible(False)
            self.notes.append((row, text))

    @property
    def artists(self) -> list[Any]:
        """Every artist `update` may change."""
        out: list[Any] = []
        for label in self.paths:
            out += [
                *self.paths[label],
                self.off[label],
                self.exits[label],
                self.heads[label],
            ]
        return out + [t for _, t in self.notes]

    def _bands_of(self, s: int, row: int) -> list[Path]:
        """The trail of series `s` as compound paths, oldest band first.

        One `Path` per band holds every particle (a MOVETO per particle, NaN rows
        break the line), so drawing a 1,000-particle swarm costs a handful of
        paths per frame, not one object per particle or segment.
        """
        trail = self.reader.trail(s, row, self.trail)  # (L, P, 2), NaN after exit
        if len(trail) < 2:
            return [Path(np.zeros((1, 2)))] * self._bands
        edges = np.linspace(0, len(trail) - 1, self._bands + 1).round().astype(int)
        return [polyline_path(trail[a : b + 1]) for a, b in pairwise(edges)]

    def update(self, row: int) -> list[Any]:
        """Moves every series to `row`; returns the changed artists."""
        r = self.reader
        for s, se in enumerate(r.series):
            for patch, path in zip(
                self.paths[se.label], self._bands_of(s, row), strict=True
            ):
                patch.set_path(path)
            pos = r.positions(s, row)
            alive = np.isfinite(pos).all(-1)
            off = r.off_view(s, row)
            self.heads[se.label].set_offsets(pos[alive & ~off])
            self.off[se.label].set_offsets(r.edge_points(s, row)[off])
            self.exits[se.label].set_offsets(se.exit_xy[r.markers(s, row)])
        for show_from, text in self.notes:
            text.set_visible(row >= show_from)
        return self.artists

    def series_handles(self) -> list[Any]:
        """Legend proxies: one per series."""
        return [series_handle(se) for se in self.reader.series]

    def marker_handles(self) -> list[Any]:
        """Legend proxies of the markers: start, divergence, off-view."""
        handles = [_marker_handle("o", "white", "start")]
        if any(se.diverged.any() for se in self.reader.series):
            handles.append(
                _marker_handle(
                    "X", DIVERGED_MARKER["c"], "diverged: last seen here", size=9
                )
            )
        if self.ends_off_view():
            handles.append(
                _marker_handle(
                    OFF_VIEW_MARKER["marker"],
                    "#808080",
                    "outside the view (at its edge)",
                )
            )
        return handles

    def ends_off_view(self) -> bool:
        """Some live particle is outside the view on the last row."""
        last = self.reader.last_row
        return any(
            self.reader.off_view(s, last).any() for s in range(len(self.reader.series))
        )


def series_handle(se: Any) -> Line2D:
    """The legend proxy of one series: colour, line style, marker, label."""
    style = series_style(se.index)
    return Line2D(
        [],
        [],
        color=style["color"],
        linestyle=style["linestyle"],
        marker=style["marker"],
        markeredgecolor="black",
        label=se.legend_label(),
    )


def _marker_handle(marker: str, face: str, label: str, size: float = 7) -> Line2D:
    return Line2D(
        [],
        [],
        linestyle="none",
        marker=marker,
        markersize=size,
        markerfacecolor=face,
        markeredgecolor="black",
        label=label,
    )


def polyline_path(rows: np.ndarray) -> Path:
    """`(L, P, 2)` -> one compound `Path`: a polyline per particle.

    Each particle's line starts with a MOVETO; NaN rows break a line (Agg,
    SVG and PDF skip NaN vertices and resume at the next finite one).
    """
    L, P = rows.shape[:2]
    verts = rows.transpose(1, 0, 2).reshape(-1, 2)
    codes = np.full(L * P, Path.LINETO, dtype=Path.code_type)
    codes[::L] = Path.MOVETO
    return Path(verts, codes)


def polylines(patches: Any) -> list[np.ndarray]:
    """The finite polylines drawn by `RaceLayer` paths (for tests and readers).

    Args:
        patches: one `PathPatch` or a list of them (a series' bands).

    Returns:
        One `(n, 2)` array per subpath with its NaN rows removed.
    """
    patches = patches if isinstance(patches, list) else [patches]
    out = []
    for patch in patches:
        path = patch.get_path()
        if path.codes is None:
            continue
        starts = np.flatnonzero(path.codes == Path.MOVETO)
        for piece in np.split(path.vertices, starts[1:]):
            out.append(piece[np.isfinite(piece).all(axis=1)])
    return out


class GlyphLayer:
    """One glyph for every series: arrows, step-size ellipses or Nesterov points.

    Args:
        ax: the axes.
        reader: the frame reader (its `scale` fixes the glyph size for the run).
        glyph: canonical glyph name.
        stamps: internals rows to stamp (a static figure: each appears once the
            particle has passed it); None: the glyph follows the particles.
    """

    def __init__(
        self,
        ax: Axes,
        reader: FrameReader,
        glyph: str,
        *,
        stamps: np.ndarray | None = None,
        width: float = 0.004,
    ):
        self.ax, self.reader, self.glyph = ax, reader, glyph
        self.stamps = None if stamps is None else np.asarray(stamps, int)
        self.series = [s for s, ok in enumerate(reader.has_glyph(glyph)) if ok]
        self.scale = reader.scale[glyph]
        n_rows = 1 if self.stamps is None else len(self.stamps)
        colors = []
        for s in self.series:
            color = series_style(reader.series[s].index)["color"]
            colors += [color] * (reader.series[s].n_particles * n_rows)
        self.colors = colors
        self.artists: list[Any] = []
        if not colors:
            return
        zero = np.zeros((len(colors), 2))
        if glyph == "textbook_iterate":
            self.points = ax.scatter(
                *zero.T,
                marker="D",
                s=22,
                facecolors="none",
                edgecolors=colors,
                linewidths=1.2,
                zorder=6,
            )
            self.links = ax.add_collection(
                LineCollection(
                    [], colors=colors, linewidths=0.8, linestyles=":", zorder=6
                ),
                autolim=False,
            )
            self.artists = [self.links, self.points]
        elif glyph == "step_size":
            self.ellipses = ax.add_collection(
                EllipseCollection(
                    np.zeros(len(colors)),
                    np.zeros(len(colors)),
                    np.zeros(len(colors)),
                    units="xy",
                    offsets=zero,
                    offset_transform=ax.transData,
                    facecolors="none",
                    edgecolors=colors,
                    linewidths=1.2,
                    zorder=6,
                ),
                autolim=False,
            )
            self.artists = [self.ellipses]
        else:
            # Gradient arrows are hollow, so they never pass for velocity.
            hollow = glyph == "gradient"
            self.quiver = ax.quiver(
                *zero.T,
                *zero.T,
                facecolors="none" if hollow else colors,
                edgecolors=colors,
                linewidths=1.0 if hollow else 0.0,
                angles="xy",
                scale_units="xy",
                scale=1,
                width=width,
                zorder=6,
            )
            self.artists = [self.quiver]

    def _frames(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Anchors, vectors and visibility of every glyph instance at `row`."""
        rows = (
            [min(row, self.reader.n_rows - 2)] if self.stamps is None else self.stamps
        )
        anchors, vectors, visible = [], [], []
        for s in self.series:
            for i in rows:
                g = self.reader.glyph(self.glyph, s, int(i))
                anchors.append(g.anchors)
                vectors.append(g.vectors)
                # A stamp appears once the particle has taken that step.
                visible.append(
                    g.visible if self.stamps is None else g.visible & (i < row)
                )
        return np.concatenate(anchors), np.concatenate(vectors), np.concatenate(visible)

    def update(self, row: int) -> list[Any]:
        """Moves the glyphs to `row`; returns the changed artists."""
        if not self.artists:
            return []
        anchors, vectors, visible = self._frames(row)
        anchors = np.where(visible[:, None], anchors, np.nan)
        if self.glyph == "textbook_iterate":
            pts = np.where(visible[:, None], vectors, np.nan)
            self.points.set_offsets(pts)
            self.links.set_segments(
                [np.array([a, b]) for a, b in zip(anchors, pts, strict=True)]
            )
        elif self.glyph == "step_size":
            k = self.scale
            self.ellipses.set_offsets(np.nan_to_num(anchors, nan=1e30))
            self.ellipses.set_widths(
                np.where(visible, 2 * k * np.abs(vectors[:, 0]), 0)
            )
            self.ellipses.set_heights(
                np.where(visible, 2 * k * np.abs(vectors[:, 1]), 0)
            )
        else:
            k = self.scale
            uv = np.where(visible[:, None], k * vectors, 0.0)
            self.quiver.set_offsets(np.nan_to_num(anchors, nan=1e30))
            self.quiver.set_UVC(uv[:, 0], uv[:, 1])
        return self.artists

    def legend_handle(self) -> Any:
        """A legend proxy that states the scale."""
        if not self.artists:
            return None
        meaning = GLYPH_MEANING[self.glyph]
        if self.glyph == "textbook_iterate":
            return _marker_handle("D", "none", meaning)
        if self.glyph == "step_size":
            return Ellipse(
                (0, 0),
                1,
                0.6,
                facecolor="none",
                edgecolor="black",
                label=f"{meaning} (×{self.scale:.3g})",
            )
        return Line2D(
            [],
            [],
            color="black",
            marker=r"$\rightarrow$",
            markersize=12,
            linestyle="none",
            label=f"{meaning} (×{self.scale:.3g})",
        )


class StepLabel:
    """A text in the corner of the axes: step, and what is happening."""

    def __init__(
        self,
        ax: Axes,
        reader: FrameReader,
        *,
        fontsize: float = 10,
        unit: str = "step",
    ):
        self.reader, self.unit = reader, unit
        # Above the axes, left: it never hides a particle or a marker.
        self.text = ax.text(
            0.0,
            1.01,
            "",
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=fontsize,
            family="monospace",
            zorder=9,
        )
        self.artists = [self.text]

    def update(self, row: int) -> list[Any]:
        r = self.reader
        total = int(r.steps[-1])
        width = len(str(total))
        text = f"{self.unit} {int(r.steps[row]):>{width}d} / {total}"
        gone = sum(int(r.markers(s, row).sum()) for s in range(len(r.series)))
        if gone:
            text += f"   · {gone} diverged"
        self.text.set_text(text)
        return self.artists


class Race3DLayer:
    """Paths lying on a 3D surface, heads, and divergence markers.

    Args:
        ax: a 3D axes.
        reader: the frame reader.
        height: `f -> z`, the surface's height transform (e.g. log).
        trail: rows of path behind each particle (None: the whole path).
    """

    def __init__(
        self, ax: Axes, reader: FrameReader, height: Any, trail: int | None = None
    ):
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        self.ax, self.reader, self.trail = ax, reader, trail
        self.paths: dict[str, Any] = {}
        self.heads: dict[str, Any] = {}
        self.exits: dict[str, Any] = {}
        self._z: list[np.ndarray] = []
        surface = reader.surface
        for se in reader.series:
            style = series_style(se.index)
            with np.errstate(all="ignore"):
                z = height(surface.value(se.positions))
            # Drawn while inside the view: outside, the surface is not there.
            z = np.where(inside_view(se.positions, reader.view) & se.valid, z, np.nan)
            self._z.append(z)
            self.paths[se.label] = ax.add_collection3d(
                Line3DCollection(
                    [],
                    colors=style["color"],
                    linestyles=style["linestyle"],
                    linewidths=2,
                    zorder=10,
                ),
                autolim=False,
            )
            (self.heads[se.label],) = ax.plot(
                [],
                [],
                [],
                linestyle="none",
                marker=style["marker"],
                color=style["color"],
                markeredgecolor="black",
                zorder=11,
            )
            (self.exits[se.label],) = ax.plot(
                [],
                [],
                [],
                linestyle="none",
                marker="X",
                markersize=9,
                color=DIVERGED_MARKER["c"],
                markeredgecolor="black",
                zorder=11,
            )
        self.artists = [
            a for d in (self.paths, self.heads, self.exits) for a in d.values()
        ]

    def update(self, row: int) -> list[Any]:
        r = self.reader
        for s, se in enumerate(r.series):
            z = self._z[s][: row + 1]
            xyz = np.concatenate([se.positions[: row + 1], z[..., None]], axis=-1)
            shown = xyz if self.trail is None else xyz[-self.trail :]
            self.paths[se.label].set_segments(shown.transpose(1, 0, 2))
            # A collection is projected by its axes' draw; blitting skips that
            # (before the first draw the axes has no projection yet).
            if getattr(self.ax, "M", None) is not None:
                self.paths[se.label].do_3d_projection()
            head = xyz[-1][np.isfinite(xyz[-1]).all(-1) & ~r.markers(s, row)]
            self.heads[se.label].set_data_3d(*head.T)
            # Where it was last seen on the surface.
            seen = np.isfinite(z)
            last = len(z) - 1 - np.argmax(seen[::-1], axis=0)
            gone = r.markers(s, row) & seen.any(axis=0)
            cols = np.flatnonzero(gone)
            self.exits[se.label].set_data_3d(*xyz[last[cols], cols].T)
        return self.artists

    def legend_handles(self) -> list[Any]:
        """One entry per series (saying how many diverged), then the marker."""
        handles = [series_handle(se) for se in self.reader.series]
        if any(se.diverged.any() for se in self.reader.series):
            handles.append(
                _marker_handle("X", DIVERGED_MARKER["c"], "diverged: last seen here", 9)
            )
        return handles
