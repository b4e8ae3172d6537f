"""Sweep heatmaps and fate maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from scenes.style import (
    DIVERGED_COLOR,
    HEATMAP_CMAP,
    MINIMUM_STYLE,
    SERIES_COLORS,
    STALLED_COLOR,
    surface_title,
)
from scenes.vocab import SWEEP_METRICS as METRICS
from simulator.sweeps import DIVERGED, STALLED, FateMap, SweepResult

__all__ = ["METRICS", "MapArtists", "plot_fate", "plot_sweep", "share_text"]


@dataclass
class MapArtists:
    """What a map drew."""

    ax: Axes
    mesh: Any
    colorbar: Any = None
    legend: Any = None


def _edges(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """Cell edges for `values`, in log space when they are positive and geometric."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 1:
        return np.array([v[0] * 0.9, v[0] * 1.1]) if v[0] else np.array(
            [-0.5, 0.5]
        ), False
    geometric = bool(np.all(v > 0)) and np.allclose(
        np.diff(np.log(v)), np.log(v[1] / v[0]), rtol=1e-6
    )
    w = np.log(v) if geometric else v
    mid = (w[1:] + w[:-1]) / 2
    e = np.concatenate([[w[0] - (mid[0] - w[0])], mid, [w[-1] + (w[-1] - mid[-1])]])
    return (np.exp(e) if geometric else e), geometric


def share_text(count: int, total: int) -> str:
    """A percentage that never rounds a non-zero share to 0% (or a partial to 100%)."""
    share = count / total if total else 0.0
    if 0 < share < 0.005:
        return "<1%" if share >= 0.0005 else f"{count} of {total}"
    if 0.995 < share < 1:
        return ">99%"
    return f"{share:.0%}"


def _cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of the cells centred on evenly spaced `centres` (W + 1 values)."""
    c = np.asarray(centres, dtype=np.float64)
    half = (c[1] - c[0]) / 2 if len(c) > 1 else 0.5
    return np.concatenate([[c[0] - half], (c[1:] + c[:-1]) / 2, [c[-1] + half]])


def plot_sweep(
    result: SweepResult,
    ax: Axes | None = None,
    *,
    metric: str = "final_loss",
    title: str | bool = True,
    annotate_diverged: bool = True,
) -> MapArtists:
    """Heatmap of a two-hyperparameter sweep; diverged cells are grey and crossed.

    Args:
        result: a `SweepResult` with exactly two grid axes (first = y, second = x).
        ax: axes to draw into.
        metric: one of `METRICS`.
        title: True (generated from the configuration), a string, or False.
        annotate_diverged: cross out cells where more than half the starts diverged.
    """
    if metric not in METRICS:
        raise ValueError(
            f"`metric` must be one of {sorted(METRICS)}. Received: {metric!r}"
        )
    if len(result.axes) != 2:
        raise ValueError(
            f"A sweep heatmap needs exactly 2 swept hyperparameters. "
            f"Received: {list(result.axes)}"
        )
    (ny, yv), (nx, xv) = result.axes.items()
    values = {
        "final_loss": result.median_final_loss,
        "steps": result.median_steps_to_converge,
        "diverged": result.fraction_diverged,
        "converged": result.fraction_converged,
    }[metric]()
    mostly_diverged = result.fraction_diverged() > 0.5
    shown = np.ma.masked_invalid(
        np.where(mostly_diverged & (metric != "diverged"), np.nan, values)
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 6), layout="constrained")
    label, log = METRICS[metric]
    norm = None
    if log and shown.count() and (shown > 0).any():
        pos = shown[shown > 0]
        norm = LogNorm(max(float(pos.min()), 1e-300), float(pos.max()))
        shown = np.ma.masked_where(~(shown > 0), shown)
    cmap = plt.get_cmap(HEATMAP_CMAP).with_extremes(bad=DIVERGED_COLOR)
    xe, xlog = _edges(xv)
    ye, ylog = _edges(yv)
    mesh = ax.pcolormesh(xe, ye, shown, cmap=cmap, norm=norm, shading="flat")
    if xlog:
        ax.set_xscale("log")
    if ylog:
        ax.set_yscale("log")
    bar = ax.figure.colorbar(mesh, ax=ax, pad=0.02)
    bar.set_label(label + (" (log scale)" if norm is not None else ""))
    handles = []
    if annotate_diverged and mostly_diverged.any() and metric != "diverged":
        xc = np.sqrt(xe[1:] * xe[:-1]) if xlog else (xe[1:] + xe[:-1]) / 2
        yc = np.sqrt(ye[1:] * ye[:-1]) if ylog else (ye[1:] + ye[:-1]) / 2
        jj, ii = np.nonzero(mostly_diverged.T)
        ax.scatter(xc[jj], yc[ii], marker="x", c="black", s=12, linewidths=0.8)
        handles.append(
            Line2D(
                [],
                [],
                marker="x",
                color="black",
                linestyle="none",
                label="more than half of the starts diverged",
            )
        )
    if metric == "steps":
        never = np.isnan(values) & ~mostly_diverged
        if never.any():
            handles.append(
                Patch(color=DIVERGED_COLOR, label="most starts never converged")
            )
    ax.set_xlabel(nx)
    ax.set_ylabel(ny)
    legend = None
    if handles:
        legend = ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            fontsize=8,
            frameon=False,
        )
    if title:
        meta = result.metadata
        n = int(np.prod(result.final_loss.shape[2:]))
        fixed = ", ".join(
            f"{k}={v}" for k, v in (meta.get("base_arguments") or {}).items()
        )
        auto = (
            f"{meta.get('optimizer_class')}({fixed}) on "
            f"{surface_title(meta.get('surface_name', '?'))}: "
            f"{label}\n{n} starts · {meta.get('steps')} steps each"
        )
        ax.set_title(title if isinstance(title, str) else auto, fontsize=9)
    return MapArtists(ax=ax, mesh=mesh, colorbar=bar, legend=legend)


def plot_fate(
    fate: FateMap,
    ax: Axes | None = None,
    *,
    shade_steps: bool = True,
    contours: bool = True,
    title: str | bool = True,
) -> MapArtists:
    """Which minimum each start reaches (colour), and how fast (lighter = slower).

    Args:
        fate: a `FateMap`.
        ax: axes to draw into.
        shade_steps: blend each colour towards white in proportion to the steps
            taken (a start that converges at once is fully saturated).
        contours: overlay faint contour lines of the surface.
        title: True (generated), a string or False.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 7), layout="constrained")
    surface = fate.surface
    n_min = len(surface.minima)
    # At least one row: a surface without minima (a saddle) still indexes it.
    palette = np.array(
        [to_rgb(SERIES_COLORS[i % len(SERIES_COLORS)]) for i in range(max(n_min, 1))]
    )
    rgb = np.empty((*fate.outcome.shape, 3))
    rgb[:] = to_rgb(STALLED_COLOR)
    rgb[fate.outcome == DIVERGED] = to_rgb(DIVERGED_COLOR)
    reached = fate.outcome >= 0
    base = palette[np.where(reached, fate.outcome, 0)]
    steps = fate.metadata.get("steps") or max(int(fate.steps_taken.max()), 1)
    if shade_steps:
        t = np.clip(fate.steps_taken / steps, 0, 1)[..., None]
        base = base * (1 - 0.75 * t) + 0.75 * t  # towards white: slower is paler
    rgb[reached] = base[reached]
    # Pixels are placed by their edges: each start is the centre of its cell.
    xe, ye = _cell_edges(fate.x), _cell_edges(fate.y)
    extent = (xe[0], xe[-1], ye[0], ye[-1])
    img = ax.imshow(
        rgb, origin="lower", extent=extent, aspect="auto", interpolation="nearest"
    )
    if contours:
        X, Y = np.meshgrid(fate.x, fate.y)
        with np.errstate(all="ignore"):
            Z = surface.value(np.stack([X, Y], -1))
        Z = np.where(np.isfinite(Z), Z, np.nan)
        if np.isfinite(Z).sum() > 1:  # NaN-only or constant surfaces: no lines
            lv = np.unique(np.nanquantile(Z, np.linspace(0.02, 0.98, 14)))
            if len(lv) > 1:
                ax.contour(
                    X, Y, Z, levels=lv, colors="black", linewidths=0.4, alpha=0.35
                )
    total = fate.outcome.size
    counts = fate.counts()
    handles = []
    for i, m in enumerate(surface.minima):
        handles.append(
            Patch(
                color=palette[i],
                label=f"→ {m.kind} minimum ({m.xy[0]:.3g}, {m.xy[1]:.3g}): "
                f"{share_text(counts.get(i, 0), total)}",
            )
        )
    for code, color, what in (
        (STALLED, STALLED_COLOR, "no minimum reached"),
        (DIVERGED, DIVERGED_COLOR, "diverged"),
    ):
        if counts.get(code):
            handles.append(
                Patch(
                    facecolor=color,
                    edgecolor="grey",
                    label=f"{what}: {share_text(counts[code], total)}",
                )
            )
    if n_min:
        mins = np.array([m.xy for m in surface.minima])
        ax.scatter(mins[:, 0], mins[:, 1], **{**MINIMUM_STYLE, "zorder": 6})
    if shade_steps:
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="grey",
                label=f"paler = more steps (of {steps})",
            )
        )
    legend = ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    ax.set_xlabel("start x")
    ax.set_ylabel("start y")
    if title:
        meta = fate.metadata
        auto = (
            f"Fate map: {meta['optimizer']['text']} on {surface_title(surface)}\n"
            f"{fate.outcome.shape[1]}×{fate.outcome.shape[0]} starts · "
            f"{meta.get('steps')} steps · tolerance {meta.get('tolerance')}"
        )
        ax.set_title(title if isinstance(title, str) else auto, fontsize=9)
    return MapArtists(ax=ax, mesh=img, legend=legend)
