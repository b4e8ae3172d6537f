"""Figures of the moons learning-rate study; sweep slice plots and small multiples."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D

from scenes.output import save_figure
from scenes.style import DIVERGED_MARKER, HEATMAP_CMAP, STALLED_COLOR, series_style

__all__ = [
    "DEFAULT_THRESHOLD",
    "plot_epochs_heatmap",
    "plot_lr_sensitivity",
    "plot_sweep_slices",
    "render_study",
    "render_sweep_slices",
    "render_sweep_small_multiples",
]


#: Loss threshold of the epochs-to-threshold heatmap.
DEFAULT_THRESHOLD = 0.05


def _is_geometric(values: np.ndarray) -> bool:
    """Positive values whose ratios are (near) constant: draw on a log axis."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 3 or np.any(v <= 0):
        return bool(len(v) == 2 and np.all(v > 0) and v.max() / v.min() >= 100)
    ratios = v[1:] / v[:-1]
    return bool(np.allclose(ratios, ratios[0], rtol=1e-6) and ratios[0] != 1)


def plot_lr_sensitivity(
    result, ax: Axes, metric: str = "loss", band: tuple[float, float] = (0, 100)
) -> list[Line2D]:
    """Final training loss (or accuracy) against learning rate, per optimizer.

    The line is the median over seeds, the band spans the `band` percentiles
    (default min to max), both computed over the seeds that did not diverge;
    an `X` marks a learning rate at which any seed diverged (see
    `StudyResult.diverged`), drawn at the top of the axis for a loss.

    Args:
        result: a `StudyResult` (`(O, L, S)` finals).
        ax: the axes.
        metric: `"loss"` (log scale) or `"accuracy"`.
        band: percentiles of the shaded band.

    Returns:
        The median lines, one per optimizer.
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(
            f'`metric` must be "loss" or "accuracy". Received: metric={metric!r}'
        )
    values = result.final_loss if metric == "loss" else result.final_accuracy
    diverged = result.diverged
    ok = np.where(diverged, np.nan, values)
    lrs = result.learning_rates
    lines = []
    with warnings.catch_warnings():
        # All seeds diverged at a point: NaN there (nothing drawn), no warning.
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(ok, axis=-1)
        lo = np.nanpercentile(ok, band[0], axis=-1)
        hi = np.nanpercentile(ok, band[1], axis=-1)
    for o, label in enumerate(result.labels):
        style = series_style(o)
        (line,) = ax.plot(
            lrs,
            median[o],
            color=style["color"],
            linestyle=style["linestyle"],
            marker=style["marker"],
            markersize=4,
            label=label,
        )
        ax.fill_between(lrs, lo[o], hi[o], color=style["color"], alpha=0.18, lw=0)
        lines.append(line)
    ax.set_xscale("log")
    if metric == "loss":
        ax.set_yscale("log")
    top = ax.get_ylim()[1] if metric == "loss" else 0.0
    for o in range(len(result.labels)):
        bad = diverged[o].any(axis=-1)
        if bad.any():
            y = np.where(np.isfinite(median[o]), median[o], top)
            y = y if metric == "accuracy" else np.minimum(y, top)
            ax.scatter(
                lrs[bad],
                np.where(np.isnan(median[o][bad]), top, y[bad]),
                **{**DIVERGED_MARKER, "c": series_style(o)["color"], "s": 60},
                clip_on=False,
            )
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final training loss" if metric == "loss" else "final accuracy")
    ax.grid(True, which="major", alpha=0.3)
    return lines


def plot_epochs_heatmap(result, ax: Axes, threshold: float, metric: str = "loss"):
    """Median epochs to reach `threshold`, optimizers x learning rates.

    Cells where fewer than half the seeds reach it are blank (light grey) and
    say "never"; the colour scale is logarithmic in epochs.

    Returns:
        The `QuadMesh`.
    """
    epochs = result.epochs_to(threshold, metric).astype(np.float64)
    epochs[epochs < 0] = np.inf
    med = np.median(epochs, axis=-1)  # (O, L); inf if half never reach it
    shown = np.ma.masked_invalid(med)
    ax.set_facecolor(STALLED_COLOR)
    n_lr = len(result.learning_rates)
    E = result.loss.shape[-1]
    finite = med[np.isfinite(med)]
    norm = LogNorm(vmin=1, vmax=max(E, 2)) if finite.size else None
    mesh = ax.pcolormesh(
        np.arange(n_lr + 1),
        np.arange(len(result.labels) + 1),
        shown,
        cmap=HEATMAP_CMAP,
        norm=norm,
    )
    for (o, i), v in np.ndenumerate(med):
        text = "never" if not np.isfinite(v) else f"{v:.0f}"
        dark = np.isfinite(v) and norm is not None and norm(v) < 0.6
        ax.text(
            i + 0.5,
            o + 0.5,
            text,
            ha="center",
            va="center",
            fontsize=7,
            color="white" if dark else "black",
        )
    ax.set_xticks(np.arange(n_lr) + 0.5)
    ax.set_xticklabels([f"{v:.0e}" for v in result.learning_rates], rotation=60)
    ax.set_yticks(np.arange(len(result.labels)) + 0.5)
    ax.set_yticklabels(result.labels)
    ax.invert_yaxis()  # first optimizer on top, as in the curves' legend
    ax.set_xlabel("learning rate")
    what = "loss ≤" if metric == "loss" else "accuracy ≥"
    ax.set_title(f"median epochs until {what} {threshold:g}")
    bar = ax.figure.colorbar(mesh, ax=ax, pad=0.02)
    bar.set_label("epochs")
    return mesh


def render_study(
    result,
    out: str | Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    formats: tuple[str, ...] | None = None,
    config: dict[str, Any] | None = None,
    dpi: int = 150,
) -> list[Path]:
    """The study's two figures: sensitivity curves (`out`) and the epochs heatmap
    (`<stem>_epochs`); both carry the study's configuration."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix else out
    fmts = formats or ((out.suffix.lstrip(".") or "png"),)
    meta = {**result.metadata, "threshold": threshold, **(config or {})}
    E = result.loss.shape[-1]
    S = len(result.seeds)
    fig, (a_loss, a_acc) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    plot_lr_sensitivity(result, a_loss, "loss")
    plot_lr_sensitivity(result, a_acc, "accuracy")
    handles, labels = a_loss.get_legend_handles_labels()
    handles.append(Line2D([], [], linestyle="", **_legend_x()))
    labels.append("a seed diverged")
    a_acc.legend(handles, labels, fontsize=8, loc="lower left")
    fig.suptitle(
        f"Moons MLP: learning-rate sensitivity after {E} epochs "
        f"(median and range over {S} seeds)"
    )
    written = save_figure(fig, stem, meta, formats=fmts, dpi=dpi)
    plt.close(fig)
    height = 1.2 + 0.45 * len(result.labels)
    fig, ax = plt.subplots(figsize=(11, height), layout="constrained")
    plot_epochs_heatmap(result, ax, threshold)
    written += save_figure(
        fig, stem.with_name(stem.name + "_epochs"), meta, formats=fmts, dpi=dpi
    )
    plt.close(fig)
    return written


def _legend_x() -> dict[str, Any]:
    return {
        "marker": "X",
        "markersize": 8,
        "markerfacecolor": "#777777",
        "markeredgecolor": "black",
    }


def plot_sweep_slices(result, fig, metric: str = "final_loss") -> list[Axes]:
    """Optuna-style slice plots: the metric against each swept hyperparameter.

    One panel per grid axis; each grid point is a dot (its median over starts),
    coloured by the next axis's value, so a small multiple of the third axis
    reads across panels. Log axes where the values are geometric.

    Args:
        result: a `SweepResult`.
        fig: the figure (panels are added to it).
        metric: `"final_loss"` (median final loss, diverged = inf, drawn at the
            top with an X) or `"steps"` (median steps to converge).

    Returns:
        The panel axes.
    """
    if metric not in ("final_loss", "steps"):
        raise ValueError(
            f'`metric` must be "final_loss" or "steps". Received: metric={metric!r}'
        )
    value = (
        result.median_final_loss()
        if metric == "final_loss"
        else result.median_steps_to_converge()
    )
    names = list(result.axes)
    axes = fig.subplots(1, len(names), squeeze=False, sharey=True)[0]
    mesh = np.meshgrid(*result.axes.values(), indexing="ij")
    finite = value[np.isfinite(value)]
    top = finite.max() * 3 if finite.size else 1.0
    for i, (name, ax) in enumerate(zip(names, axes, strict=True)):
        other = names[(i + 1) % len(names)] if len(names) > 1 else name
        colour = mesh[names.index(other)].ravel()
        y = value.ravel()
        bad = ~np.isfinite(y)
        norm = LogNorm() if _is_geometric(result.axes[other]) else None
        coloured = len(names) > 1  # one axis: nothing else to colour by
        points = ax.scatter(
            mesh[i].ravel()[~bad],
            y[~bad],
            c=colour[~bad] if coloured else series_style(0)["color"],
            s=12,
            cmap=HEATMAP_CMAP if coloured else None,
            norm=norm if coloured else None,
        )
        if bad.any():
            ax.scatter(
                mesh[i].ravel()[bad],
                np.full(bad.sum(), top),
                **{**DIVERGED_MARKER, "s": 30},
                clip_on=False,
            )
        if _is_geometric(result.axes[name]):
            ax.set_xscale("log")
        ax.set_xlabel(name)
        if coloured:
            bar = fig.colorbar(points, ax=ax, pad=0.01)
            bar.set_label(other)
    if metric == "final_loss" and finite.size and finite.min() > 0:
        axes[0].set_yscale("log")
    axes[0].set_ylabel(
        "median final loss" if metric == "final_loss" else "median steps to converge"
    )
    return list(axes)


def render_sweep_slices(
    result, out: str | Path, *, metric: str = "final_loss", dpi: int = 150
) -> list[Path]:
    """Slice plots of a sweep into `out` (format from its suffix)."""
    out = Path(out)
    fig = plt.figure(figsize=(4.2 * len(result.axes) + 2, 3.8), layout="constrained")
    plot_sweep_slices(result, fig, metric)
    fig.suptitle(
        f"{result.metadata['optimizer']['text']} on {_surface(result)}", fontsize=9
    )
    written = save_figure(
        fig,
        out.with_suffix(""),
        result.metadata,
        formats=(out.suffix.lstrip(".") or "png",),
        dpi=dpi,
    )
    plt.close(fig)
    return written


def _surface(result) -> str:
    return str(result.metadata.get("surface_name", "surface"))


def _slice_sweep(result, index: int):
    """The 2-axis `SweepResult` at `index` of a 3-axis sweep's third axis."""
    import dataclasses

    names = list(result.axes)
    arrays = {
        f.name: getattr(result, f.name)[:, :, index]
        for f in dataclasses.fields(result)
        if f.name not in ("axes", "metadata")
    }
    axes = {k: result.axes[k] for k in names[:2]}
    return dataclasses.replace(result, axes=axes, **arrays)


def render_sweep_small_multiples(
    result, out: str | Path, *, metric: str = "final_loss", panels: int = 6, dpi=150
) -> list[Path]:
    """Heatmaps of the first two grid axes, one per value of the third (at most
    `panels`, evenly spaced), in one figure; log axes for geometric values.

    Raises:
        ValueError: the sweep does not have exactly 3 grid axes.
    """
    from scenes.figures.maps import plot_sweep

    if len(result.axes) != 3:
        raise ValueError(
            "Small multiples need a sweep over exactly 3 hyperparameters. "
            f"Received: {list(result.axes)}"
        )
    third, values = list(result.axes.items())[2]
    picks = np.unique(np.linspace(0, len(values) - 1, min(panels, len(values))))
    picks = picks.round().astype(int)
    cols = min(3, len(picks))
    rows = -(-len(picks) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(5.2 * cols, 4.2 * rows), layout="constrained",
        squeeze=False,
    )  # fmt: skip
    for ax, k in zip(axes.ravel(), picks, strict=False):
        plot_sweep(_slice_sweep(result, int(k)), ax, metric=metric, title=False)
        ax.set_title(f"{third} = {values[k]:.6g}")
    for ax in axes.ravel()[len(picks) :]:
        ax.set_visible(False)
    fig.suptitle(f"{result.metadata['optimizer']['text']} on {_surface(result)}")
    out = Path(out)
    written = save_figure(
        fig,
        out.with_suffix(""),
        result.metadata,
        formats=(out.suffix.lstrip(".") or "png",),
        dpi=dpi,
    )
    plt.close(fig)
    return written
