"""Contour and 3D views of a surface with optimizer paths and per-step glyphs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, LogNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse

from scenes.style import (
    CONTOUR_CMAP,
    DIVERGED_MARKER,
    MINIMUM_STYLE,
    START_STYLE,
    UNDEFINED_COLOR,
    log_colorbar_ticks,
    series_style,
    surface_title,
)
from simulator.trace import Race, Trace

__all__ = [
    "GLYPHS",
    "RaceArtists",
    "draw_contours",
    "plot_race",
    "plot_race_3d",
    "plot_race_panels",
]

#: Glyph name -> the trace internal it draws.
GLYPHS = {
    "gradient": "gradient",
    "velocity": "velocity",
    "lookahead": "nesterov_base",
    "step_size": "step_size",
}


@dataclass
class RaceArtists:
    """What `plot_race` drew, for further styling or tests.

    Attributes:
        ax: the axes.
        contour: the filled-contour set (None without contours).
        colorbar: the colour bar (None without).
        paths: label -> list of path lines (one per particle).
        diverged: label -> number of diverged particles.
        glyphs: glyph name -> list of artists.
        legend: the legend (None without).
    """

    ax: Axes
    contour: Any = None
    colorbar: Any = None
    paths: dict[str, list[Line2D]] = field(default_factory=dict)
    diverged: dict[str, int] = field(default_factory=dict)
    glyphs: dict[str, list[Any]] = field(default_factory=dict)
    legend: Any = None


def _as_traces(run: Trace | Race | Sequence[Trace]) -> list[Trace]:
    if isinstance(run, Trace):
        return [run]
    if isinstance(run, Race):
        return list(run.traces)
    traces = list(run)
    if not traces or not all(isinstance(t, Trace) for t in traces):
        raise ValueError(
            f"Expected a Trace, a Race or a list of Traces. Received: {run!r}"
        )
    return traces


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


def _valid_rows(trace: Trace) -> np.ndarray:
    """`(R, P)` bool: rows to draw per flattened particle."""
    return trace.valid_rows().reshape(len(trace.steps_recorded), -1)


def _flat(trace: Trace, array: np.ndarray) -> np.ndarray:
    """`(R, *B, ...)` -> `(R, P, ...)` with the batch flattened."""
    nb = len(trace.batch_shape)
    return array.reshape(array.shape[0], -1, *array.shape[1 + nb :])


def _drawable(positions: np.ndarray, view) -> np.ndarray:
    """Positions far outside the view are pulled onto a frame 50 views wide.

    Only for drawing: the particle has left (it is flagged in the legend), and
    Agg cannot rasterise coordinates like 1e178. The data are untouched.
    """
    (x0, x1), (y0, y1) = view
    w, h = x1 - x0, y1 - y0
    lo = np.array([x0 - 50 * w, y0 - 50 * h])
    hi = np.array([x1 + 50 * w, y1 + 50 * h])
    return np.clip(positions, lo, hi)


def _exit_points(pos: np.ndarray, valid: np.ndarray, view) -> np.ndarray:
    """Where each diverged path is last seen: its last finite point if inside the
    view, else where it crosses the view's edge for the last time. `(R, P, 2)`."""
    (x0, x1), (y0, y1) = view
    lo, hi = np.array([x0, y0]), np.array([x1, y1])
    inside = valid & np.all((pos >= lo) & (pos <= hi), axis=-1)
    out = np.empty((pos.shape[1], 2))
    for p in range(pos.shape[1]):  # a handful of diverged particles
        rows = np.flatnonzero(valid[:, p])
        last = rows[-1]
        if inside[last, p] or not inside[:, p].any():
            out[p] = pos[last, p]
            continue
        i = np.flatnonzero(inside[:, p])[-1]
        a, b = pos[i, p], pos[i + 1, p]
        d = b - a
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(d > 0, (hi - a) / d, np.where(d < 0, (lo - a) / d, np.inf))
        out[p] = a + min(1.0, float(t.min())) * d
    return out


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
) -> RaceArtists:
    """Paths of one or several optimizers over the surface's contours.

    Args:
        run: a `Trace`, a `Race` or a list of traces on the same surface.
        ax: axes to draw into (default: a new figure).
        view: `((xmin, xmax), (ymin, ymax))`, default the surface's view.
        contours, levels, log, colorbar: contour options (`log=None` follows
            `surface.log_contours`).
        glyphs: any of `GLYPHS`: `"gradient"` (arrow of -gradient),
            `"velocity"` (momentum displacement), `"lookahead"` (Keras Nesterov:
            the textbook iterate `w - mu*m`; the path itself is the lookahead
            point where Keras evaluates the gradient), `"step_size"`
            (per-coordinate adaptive step, an ellipse with semi-axes proportional
            to the two step sizes).
        glyph_steps: recorded steps at which to draw glyphs (default: 4 evenly
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

    Returns:
        `RaceArtists`.
    """
    traces = _as_traces(run)
    surface = traces[0].surface
    view = surface.view if view is None else view
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 7.5), layout="constrained")
    unknown = [g for g in glyphs if g not in GLYPHS]
    if unknown:
        raise ValueError(f"Unknown glyph {unknown[0]!r}; choose from {sorted(GLYPHS)}.")
    art = RaceArtists(ax=ax)
    if contours:
        art.contour, art.colorbar = draw_contours(
            ax, surface, view, levels=levels, log=log, colorbar=colorbar
        )
    else:
        ax.set_xlim(*view[0])
        ax.set_ylim(*view[1])
    handles: list[Any] = []
    for i, trace in enumerate(traces, start=first_style):
        style = series_style(i)
        pos = _drawable(_flat(trace, trace.positions), view)
        valid = _valid_rows(trace)
        n = min(pos.shape[1], max_particles)
        lines = []
        for p in range(n):  # drawing: one Line2D per particle is matplotlib's unit
            rows = valid[:, p]
            (line,) = ax.plot(
                pos[rows, p, 0],
                pos[rows, p, 1],
                color=style["color"],
                linestyle=style["linestyle"],
                linewidth=1.6,
                alpha=0.95,
                zorder=3,
            )
            lines.append(line)
        last = pos[np.argmax(np.cumsum(valid[:, :n], axis=0), axis=0), np.arange(n)]
        diverged = trace.diverged.reshape(-1)[:n]
        if diverged.any():
            last[diverged] = _exit_points(
                pos[:, :n][:, diverged], valid[:, :n][:, diverged], view
            )
        ok = ~diverged
        ax.scatter(
            last[ok, 0],
            last[ok, 1],
            marker=style["marker"],
            s=55,
            c=style["color"],
            edgecolors="black",
            linewidths=0.8,
            zorder=7,
        )
        if diverged.any():
            ax.scatter(last[diverged, 0], last[diverged, 1], **DIVERGED_MARKER)
        ax.scatter(pos[0, :n, 0], pos[0, :n, 1], **START_STYLE)
        ndiv = int(trace.diverged.sum())
        art.paths[trace.label] = lines
        art.diverged[trace.label] = ndiv
        label = trace.label
        if ndiv:
            steps = trace.diverged_step[trace.diverged]
            label += f"  [{ndiv}/{trace.diverged.size} diverged, step {steps.min()}"
            label += (
                "]" if ndiv == 1 or steps.min() == steps.max() else f"–{steps.max()}]"
            )
        handles.append(
            Line2D(
                [],
                [],
                color=style["color"],
                linestyle=style["linestyle"],
                marker=style["marker"],
                markeredgecolor="black",
                label=label,
            )
        )
    if glyphs:
        glyph_handles = _draw_glyphs(
            ax, traces, glyphs, glyph_steps, glyph_scale, view, art, max_particles
        )
        handles.extend(glyph_handles)
    if show_minima and surface.minima:
        mins = np.array([m.xy for m in surface.minima])
        ax.scatter(mins[:, 0], mins[:, 1], **MINIMUM_STYLE)
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="*",
                markersize=12,
                markerfacecolor="white",
                markeredgecolor="black",
                label="known minima",
            )
        )
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markerfacecolor="white",
            markeredgecolor="black",
            label="start",
        )
    )
    if any(art.diverged.values()):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="X",
                markersize=9,
                markerfacecolor=DIVERGED_MARKER["c"],
                markeredgecolor="black",
                label="diverged: last seen here",
            )
        )
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
        ax.set_title(title if isinstance(title, str) else _title(traces), fontsize=10)
    return art


def _title(traces: list[Trace]) -> str:
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


def _glyph_rows(trace: Trace, glyph_steps: Sequence[int] | None) -> np.ndarray:
    """Indices into the internals rows (row i = the step from row i to i+1)."""
    rows = trace.steps_recorded
    if glyph_steps is None:
        n = len(rows) - 1
        return np.unique(np.linspace(0, max(n - 1, 0), 4).round().astype(int))
    wanted = np.asarray(glyph_steps)
    idx = np.searchsorted(rows, wanted)
    bad = (idx >= len(rows) - 1) | (rows[np.minimum(idx, len(rows) - 1)] != wanted)
    if bad.any():
        raise ValueError(
            f"`glyph_steps` must be recorded steps before the last "
            f"(every {trace.metadata.get('record_every')}). Received: "
            f"{wanted[bad].tolist()}"
        )
    return idx


def _draw_glyphs(ax, traces, glyphs, glyph_steps, scale, view, art, max_particles):
    (x0, x1), (y0, y1) = view
    diag = float(np.hypot(x1 - x0, y1 - y0))
    handles = []
    for glyph in glyphs:
        name = GLYPHS[glyph]
        vectors, anchors, colors = [], [], []
        for i, trace in enumerate(traces):
            source = trace.gradient if name == "gradient" else trace.internals.get(name)
            if source is None:
                continue
            rows = _glyph_rows(trace, glyph_steps)
            pos = _flat(trace, trace.positions)[rows, :max_particles]
            data = _flat(trace, source)[rows, :max_particles]
            if data.ndim != 3:
                continue
            alive = ~trace.diverged.reshape(-1)[:max_particles]
            keep = np.isfinite(data).all(-1) & np.isfinite(pos).all(-1) & alive
            vec = -data if name == "gradient" else data
            anchors.append(pos[keep])
            vectors.append(vec[keep])
            colors += [series_style(i)["color"]] * int(keep.sum())
        if not vectors or not sum(len(v) for v in vectors):
            continue
        anchors = np.concatenate(anchors)
        vectors = np.concatenate(vectors)
        if glyph == "lookahead":
            # The textbook iterate w - mu*m beside the path (which is the lookahead).
            pts = ax.scatter(
                vectors[:, 0],
                vectors[:, 1],
                marker="D",
                s=22,
                facecolors="none",
                edgecolors=colors,
                linewidths=1.2,
                zorder=6,
            )
            segs = [
                ax.plot(
                    [a[0], b[0]],
                    [a[1], b[1]],
                    color=c,
                    linewidth=0.8,
                    linestyle=":",
                    zorder=6,
                )[0]
                for a, b, c in zip(anchors, vectors, colors, strict=True)
            ]
            art.glyphs[glyph] = [pts, *segs]
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="D",
                    markerfacecolor="none",
                    markeredgecolor="black",
                    label="Nesterov: textbook iterate w − μ·m (path = lookahead)",
                )
            )
            continue
        # The 95th percentile, not the max: one huge early gradient would
        # otherwise shrink every other glyph to a dot.
        mags = np.abs(vectors) if glyph == "step_size" else np.hypot(*vectors.T)
        size = float(np.percentile(mags, 95))
        reach = 0.04 if glyph == "step_size" else 0.08  # of the view diagonal
        k = scale if scale is not None else (reach * diag / size if size > 0 else 1.0)
        if glyph == "step_size":
            patches = []
            for a, v, c in zip(anchors, vectors, colors, strict=True):
                e = Ellipse(
                    a,
                    2 * k * abs(v[0]),
                    2 * k * abs(v[1]),
                    facecolor="none",
                    edgecolor=c,
                    linewidth=1.2,
                    zorder=6,
                )
                ax.add_patch(e)
                patches.append(e)
            art.glyphs[glyph] = patches
            handles.append(
                Ellipse(
                    (0, 0),
                    1,
                    0.6,
                    facecolor="none",
                    edgecolor="black",
                    label=f"adaptive step size per coordinate (×{k:.3g})",
                )
            )
            continue
        q = ax.quiver(
            anchors[:, 0],
            anchors[:, 1],
            k * vectors[:, 0],
            k * vectors[:, 1],
            color=colors,
            angles="xy",
            scale_units="xy",
            scale=1,
            width=0.004,
            zorder=6,
        )
        art.glyphs[glyph] = [q]
        what = (
            "−gradient" if glyph == "gradient" else "velocity (momentum displacement)"
        )
        handles.append(
            Line2D(
                [],
                [],
                color="black",
                marker=r"$\rightarrow$",
                markersize=12,
                linestyle="none",
                label=f"{what} (×{k:.3g})",
            )
        )
    return handles


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
) -> RaceArtists:
    """The surface in 3D with each path lying on it.

    With a log scale the height is `log10(f - f* + 1)` (labelled so), which keeps
    steep walls like Rosenbrock's from flattening the valley floor.
    """
    traces = _as_traces(run)
    surface = traces[0].surface
    (x0, x1), (y0, y1) = surface.view if view is None else view
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
    art = RaceArtists(ax=ax)
    handles = []
    for i, trace in enumerate(traces):
        style = series_style(i)
        pos = _flat(trace, trace.positions)
        valid = _valid_rows(trace)
        inside = (
            (pos[..., 0] >= x0)
            & (pos[..., 0] <= x1)
            & (pos[..., 1] >= y0)
            & (pos[..., 1] <= y1)
        )
        lines = []
        for p in range(min(pos.shape[1], max_particles)):
            rows = valid[:, p] & inside[:, p]
            z = height(surface.value(pos[rows, p]))
            (line,) = ax.plot(
                pos[rows, p, 0],
                pos[rows, p, 1],
                z,
                color=style["color"],
                linestyle=style["linestyle"],
                linewidth=2,
                zorder=10,
            )
            lines.append(line)
        art.paths[trace.label] = lines
        art.diverged[trace.label] = int(trace.diverged.sum())
        handles.append(
            Line2D(
                [],
                [],
                color=style["color"],
                linestyle=style["linestyle"],
                label=trace.label,
            )
        )
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel(f"log10({_shifted('f(x, y)', 1 - floor)})" if log else "f(x, y)")
    ax.view_init(elev=elev, azim=azim)
    art.legend = ax.legend(handles=handles, loc="upper left", fontsize=8)
    if title:
        ax.set_title(title if isinstance(title, str) else _title(traces), fontsize=10)
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
    traces = _as_traces(run)
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
        for other in traces:
            if other is trace:
                continue
            pos = _drawable(_flat(other, other.positions), view)
            valid = _valid_rows(other)
            for p in range(min(pos.shape[1], max_particles)):
                ax.plot(
                    pos[valid[:, p], p, 0],
                    pos[valid[:, p], p, 1],
                    color="#8A8A8A",
                    linewidth=0.6,
                    alpha=0.5,
                    zorder=2,
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
        fig.suptitle(title if isinstance(title, str) else _title(traces), fontsize=10)
    return arts
