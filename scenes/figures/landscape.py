"""Contour and 3D views of a surface with optimizer paths and per-step glyphs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, LogNorm
from matplotlib.lines import Line2D

from scenes.figures.layers import GlyphLayer, Race3DLayer, RaceLayer
from scenes.frames import FrameReader, as_traces, stamp_rows
from scenes.style import (
    CONTOUR_CMAP,
    MINIMUM_STYLE,
    UNDEFINED_COLOR,
    log_colorbar_ticks,
    surface_title,
)
from simulator.trace import Race, Trace

__all__ = [
    "RaceArtists",
    "draw_contours",
    "draw_minima",
    "plot_race",
    "plot_race_3d",
    "plot_race_panels",
]


@dataclass
class RaceArtists:
    """What `plot_race` drew; `update(row)` moves it to any recorded row.

    Attributes:
        ax: the axes.
        reader: the `FrameReader` the artists read.
        contour: the filled-contour set (None without contours).
        colorbar: the colour bar (None without).
        paths: label -> its path artists (`scenes.figures.layers.polylines`
            reads the drawn polylines back, one per particle).
        diverged: label -> number of diverged particles.
        glyphs: glyph name -> list of artists.
        legend: the legend (None without).
        layers: the updatable layers (race, glyphs, step label).
    """

    ax: Axes
    reader: FrameReader | None = None
    contour: Any = None
    colorbar: Any = None
    paths: dict[str, Any] = field(default_factory=dict)
    diverged: dict[str, int] = field(default_factory=dict)
    glyphs: dict[str, list[Any]] = field(default_factory=dict)
    legend: Any = None
    layers: list[Any] = field(default_factory=list)

    def update(self, row: int) -> list[Any]:
        """Moves every layer to `row`; returns the artists that changed."""
        changed: list[Any] = []
        for layer in self.layers:
            changed += layer.update(row)
        return changed

    @property
    def animated(self) -> list[Any]:
        """Every artist `update` may change (to mark animated for blitting)."""
        return [a for layer in self.layers for a in layer.artists]


def _surface_floor(surface: Any, Z: np.ndarray) -> float:
    """The lowest value to offset a log scale by: the global minimum if known."""
    known = [m.value for m in surface.minima if m.kind == "global"]
    floor = min(known) if known else float(np.nanmin(Z))
    return min(floor, float(np.nanmin(Z)))


def draw_contours(
    ax: Axes,
    surface: Any,
    view: Any = None,
    *,
    resolution: int = 300,
    levels: int = 25,
    log: bool | None = None,
    colorbar: bool = True,
    filled: bool = True,
) -> tuple[Any, Any]:
    """Filled contours of `surface` over `view`, log-spaced when the surface asks.

    On a log scale the plotted quantity is `f - f* + d`, with `f*` the global
    minimum value (or the grid minimum) and `d` a small offset (1e-3 of the range
    on the grid, floored), so surfaces with negative minima still read; the colour
    bar says exactly what is shown.

    Returns:
        `(contour_set, colorbar)`.
    """
    (x0, x1), (y0, y1) = surface.view if view is None else view
    X, Y = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    Z = surface.value(np.stack([X, Y], axis=-1))
    Z = np.where(np.isfinite(Z), Z, np.nan)
    log = surface.log_contours if log is None else log
    if log:
        floor = _surface_floor(surface, Z)
        span = float(np.nanmax(Z)) - floor
        offset = max(span * 1e-6, 1e-12) if floor == 0 else max(span * 1e-3, 1e-12)
        shown = Z - floor + offset
        lo = max(float(np.nanmin(shown)), offset)
        lvls = np.geomspace(lo, float(np.nanmax(shown)), levels)
        norm = LogNorm(lvls[0], lvls[-1])
        label = (
            "f(x, y)"
            if floor == 0 and offset < span * 1e-5
            else _shifted("f(x, y)", offset - floor)
        )
    else:
        shown = Z
        lvls = _equal_area_levels(Z, levels)
        norm = BoundaryNorm(lvls, ncolors=256)  # one colour step per band
        label = "f(x, y), equal-area levels"
    draw = ax.contourf if filled else ax.contour
    cs = draw(X, Y, shown, levels=lvls, cmap=CONTOUR_CMAP, norm=norm, extend="neither")
    ax.contour(
        X,
        Y,
        shown,
        levels=lvls[::2],
        colors="#2B3A4A",
        linewidths=0.3,
        alpha=0.35,
        norm=norm,
    )
    _mark_undefined(ax, X, Y, Z)
    bar = None
    if colorbar:
        bar = ax.figure.colorbar(cs, ax=ax, pad=0.02, fraction=0.046)
        bar.set_label(label + (" (log scale)" if log else ""))
        if log:
            log_colorbar_ticks(bar, lvls[0], lvls[-1])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("auto")
    return cs, bar


def _mark_undefined(ax: Axes, X, Y, Z) -> None:
    """Hatches where f is NaN/inf: left blank it would read as the lowest band."""
    undefined = np.isnan(Z)
    if not undefined.any():
        return
    ax.contourf(
        X,
        Y,
        undefined.astype(np.float64),
        levels=[0.5, 1.5],
        colors=[UNDEFINED_COLOR],
        hatches=["xx"],
    )
    ax.text(
        0.01,
        0.01,
        "hatched: f undefined (NaN or ±inf)",
        transform=ax.transAxes,
        fontsize=7,
        bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0},
    )


def _shifted(quantity: str, shift: float) -> str:
    """`f(x, y) + 4.008` as a person writes it (not `f(x, y) − (-4) + 0.008`)."""
    if shift == 0:
        return quantity
    return f"{quantity} {'+' if shift > 0 else '−'} {abs(shift):.4g}"


def _equal_area_levels(Z: np.ndarray, levels: int) -> np.ndarray:
    """Linear-scale levels at quantiles of Z, rounded to 3 significant digits.

    Evenly spaced levels put most of a surface like the valley (values -2.7..23)
    into one or two bands; quantile levels give every band a similar area, so the
    shape of the basins shows. The colour bar lists the level values.
    """
    q = np.nanquantile(Z, np.linspace(0, 1, levels))
    rounded = np.array([float(f"{v:.3g}") for v in q])
    rounded[0], rounded[-1] = np.nanmin(Z), np.nanmax(Z)
    return np.unique(rounded)


def plot_race(
    run: Trace | Race | Sequence[Trace],
    ax: Axes | None = None,
    *,
    view: Any = None,
    contours: bool = True,
    levels: int = 25,
    log: bool | None = None,
    colorbar: bool = True,
    glyphs: Sequence[str] = (),
    glyph_steps: Sequence[int] | None = None,
    glyph_scale: float | None = None,
    show_minima: bool = True,
    legend: bool | str = "below",
    title: str | bool = True,
    max_particles: int = 200,
    first_style: int = 0,
    row: int | None = None,
) -> RaceArtists:
    """Paths of one or several optimizers over the surface's contours.

    The figure is built from updatable layers over a `FrameReader`: this is the
    last row of the run (`row=None`); `RaceArtists.update(r)` moves it to row `r`.

    Args:
        run: a `Trace`, a `Race` or a list of traces on the same surface.
        ax: axes to draw into (default: a new figure).
        view: `((xmin, xmax), (ymin, ymax))`, default the surface's view.
        contours, levels, log, colorbar: contour options (`log=None` follows
            `surface.log_contours`).
        glyphs: names from `scenes.frames.GLYPHS`: `"gradient"` (arrow of
            -gradient), `"velocity"` (momentum displacement),
            `"textbook_iterate"` (Keras Nesterov: the textbook iterate `w - mu*m`;
            the path itself is the lookahead point where Keras evaluates the
            gradient; `"lookahead"` is its old name), `"step_size"`
            (per-coordinate adaptive step, an ellipse with semi-axes
            proportional to the two step sizes).
        glyph_steps: recorded steps at which to stamp glyphs (default: 4 evenly
            spaced recorded steps).
        glyph_scale: arrow/ellipse length per unit (default: the longest glyph
            spans 8% of the view diagonal); the legend states it.
        show_minima: mark known minima with stars.
        legend: legend location, or False.
        title: True for a title generated from the configuration, a string, or
            False.
        max_particles: draw at most this many particles per trace.
        first_style: style index of the first trace (panels keep each
            optimizer's colour, marker and line style from the overlay).
        row: the recorded row to show (default the last).

    Returns:
        `RaceArtists`.
    """
    traces = as_traces(run)
    surface = traces[0].surface
    view = surface.view if view is None else view
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 7.5), layout="constrained")
    stamps = stamp_rows(
        traces[0].steps_recorded,
        glyph_steps,
        record_every=traces[0].metadata.get("record_every"),
    )
    reader = FrameReader(
        traces,
        view=view,
        glyphs=glyphs,
        glyph_rows=stamps,
        glyph_scale=glyph_scale,
        max_particles=max_particles,
        first_style=first_style,
    )
    art = RaceArtists(ax=ax, reader=reader)
    if contours:
        art.contour, art.colorbar = draw_contours(
            ax, surface, view, levels=levels, log=log, colorbar=colorbar
        )
    else:
        ax.set_xlim(*view[0])
        ax.set_ylim(*view[1])
    race = RaceLayer(ax, reader, annotate=0)
    art.layers.append(race)
    art.paths = dict(race.paths)
    art.diverged = {t.label: int(t.diverged.sum()) for t in traces}
    handles = race.series_handles()
    for glyph in reader.glyphs:
        layer = GlyphLayer(ax, reader, glyph, stamps=stamps)
        if layer.artists:
            art.layers.append(layer)
            art.glyphs[glyph] = layer.artists
            handles.append(layer.legend_handle())
    if show_minima and surface.minima:
        draw_minima(ax, surface)
        handles.append(minima_handle())
    handles += race.marker_handles()
    art.update(reader.last_row if row is None else row)
    if legend == "below":
        longest = max(len(h.get_label()) for h in handles)
        art.legend = ax.figure.legend(
            handles=handles,
            loc="outside lower center",
            fontsize=8,
            ncols=1 if longest > 45 else 2,
            frameon=False,
        )
    elif legend:
        art.legend = ax.legend(handles=handles, loc=legend, fontsize=8, framealpha=0.9)
    if title:
        ax.set_title(title if isinstance(title, str) else title_of(traces), fontsize=10)
    return art


def draw_minima(ax: Axes, surface: Any) -> Any:
    """Stars at the surface's known minima; `None` when it lists none (a saddle)."""
    if not surface.minima:
        return None
    mins = np.array([m.xy for m in surface.minima])
    return ax.scatter(mins[:, 0], mins[:, 1], **MINIMUM_STYLE)


def minima_handle() -> Line2D:
    """The legend proxy of `draw_minima`."""
    return Line2D(
        [],
        [],
        linestyle="none",
        marker="*",
        markersize=12,
        markerfacecolor="white",
        markeredgecolor="black",
        label="known minima",
    )


def title_of(traces: list[Trace]) -> str:
    """The generated title: surface, steps, starts, noise, dtype."""
    meta = traces[0].metadata
    n = int(np.prod(traces[0].batch_shape))
    parts = [
        surface_title(traces[0].surface),
        f"{meta.get('steps')} steps",
        f"{n} start{'s' if n > 1 else ''}",
    ]
    if meta.get("noise"):
        parts.append(f"gradient noise σ={meta['noise']:g} (seed {meta.get('seed')})")
    if meta.get("dtype") and meta["dtype"] != "float64":
        parts.append(meta["dtype"])
    return " · ".join(parts)


def plot_race_3d(
    run: Trace | Race | Sequence[Trace],
    ax: Axes | None = None,
    *,
    view: Any = None,
    resolution: int = 120,
    log: bool | None = None,
    title: str | bool = True,
    max_particles: int = 50,
    elev: float = 35,
    azim: float = -60,
    row: int | None = None,
    trail: int | None = None,
) -> RaceArtists:
    """The surface in 3D with each path lying on it, up to `row` (default last).

    With a log scale the height is `log10(f - f* + 1)` (labelled so), which keeps
    steep walls like Rosenbrock's from flattening the valley floor. Paths are
    drawn while inside the view; a diverged particle is marked `X` where it left,
    and its legend entry says when.
    """
    traces = as_traces(run)
    surface = traces[0].surface
    view = surface.view if view is None else view
    (x0, x1), (y0, y1) = view
    if ax is None:
        fig = plt.figure(figsize=(8, 6), layout="constrained")
        ax = fig.add_subplot(projection="3d")
    X, Y = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    Z = surface.value(np.stack([X, Y], -1))
    log = surface.log_contours if log is None else log
    floor = _surface_floor(surface, Z)

    def height(z):
        return np.log10(np.maximum(z - floor, 0) + 1) if log else z

    ax.plot_surface(
        X,
        Y,
        height(Z),
        cmap=CONTOUR_CMAP,
        alpha=0.55,
        linewidth=0,
        antialiased=True,
        rstride=2,
        cstride=2,
    )
    reader = FrameReader(traces, view=view, max_particles=max_particles)
    layer = Race3DLayer(ax, reader, height, trail=trail)
    art = RaceArtists(ax=ax, reader=reader, layers=[layer])
    art.paths = dict(layer.paths)
    art.diverged = {t.label: int(t.diverged.sum()) for t in traces}
    art.update(reader.last_row if row is None else row)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel(f"log10({_shifted('f(x, y)', 1 - floor)})" if log else "f(x, y)")
    ax.view_init(elev=elev, azim=azim)
    art.legend = ax.legend(handles=layer.legend_handles(), loc="upper left", fontsize=8)
    if title:
        ax.set_title(title if isinstance(title, str) else title_of(traces), fontsize=10)
    return art


def plot_race_panels(
    run: Race | Sequence[Trace],
    fig: Any = None,
    *,
    ncols: int = 5,
    view: Any = None,
    log: bool | None = None,
    title: str | bool = True,
    max_particles: int = 50,
) -> list[RaceArtists]:
    """One panel per optimizer: its paths in colour, the others in faint grey.

    A ten-optimizer race overlaid on one axes hides paths that share a valley;
    panels keep the comparison (same contours, same view) and show each path.
    """
    traces = as_traces(run)
    n = len(traces)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(
            figsize=(3.2 * ncols + 1, 3.0 * nrows + 0.8), layout="constrained"
        )
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    surface = traces[0].surface
    view = surface.view if view is None else view
    arts = []
    cs = None
    for i, (ax, trace) in enumerate(zip(axes, traces, strict=False)):
        cs, _ = draw_contours(
            ax, surface, view, resolution=150, log=log, colorbar=False
        )
        others = [t for t in traces if t is not trace]
        if others:
            grey = FrameReader(others, view=view, max_particles=max_particles)
            ax.add_collection(
                LineCollection(
                    np.concatenate(
                        [
                            grey.trail(s, grey.last_row).transpose(1, 0, 2)
                            for s in range(len(grey.series))
                        ]
                    ),
                    colors="#8A8A8A",
                    linewidths=0.6,
                    alpha=0.5,
                    zorder=2,
                ),
                autolim=False,
            )
        art = plot_race(
            [trace],
            ax,
            view=view,
            contours=False,
            legend=False,
            title=False,
            max_particles=max_particles,
            first_style=i,
        )
        if trace.diverged.any():
            n_div, last = int(trace.diverged.sum()), trace.diverged_step.max()
            outcome = f"{n_div} diverged (by step {last})"
        else:
            outcome = f"final loss {np.median(trace.final_loss):.3g}"
        ax.set_title(f"{trace.label}\n{outcome}", fontsize=7)
        if i % ncols:
            ax.set_ylabel("")
        if i < n - ncols:
            ax.set_xlabel("")
        arts.append(art)
    for ax in axes[n:]:
        ax.set_visible(False)
    if cs is not None:
        bar = fig.colorbar(cs, ax=axes[:n].tolist(), shrink=0.8, pad=0.01)
        if isinstance(cs.norm, LogNorm):
            log_colorbar_ticks(bar, cs.levels[0], cs.levels[-1])
        bar.set_label(
            "f(x, y)"
            + (" (log scale)" if (surface.log_contours if log is None else log) else "")
        )
    if title:
        fig.suptitle(title if isinstance(title, str) else title_of(traces), fontsize=10)
    return arts
