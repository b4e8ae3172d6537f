"""Moons figures: the article's loss curves beside its claims, and the landscape."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm

from scenes.figures.curves import plot_loss_curves, plot_loss_small_multiples
from scenes.output import save_figure
from scenes.style import CONTOUR_CMAP, OKABE_ITO, log_colorbar_ticks, series_style
from simulator import moons

__all__ = [
    "KERAS_NOTES",
    "plot_decision_boundary",
    "plot_moons_landscape",
    "plot_slice_faithfulness",
    "render_article",
]

#: What the article's formula for each configuration leaves out, from the Keras 3
#: source (reference summary, section 4); shown beside the measured curves.
KERAS_NOTES = {
    "SGD": "w ← w − lr·g: as the article says.",
    "SGD momentum": "m ← μm − lr·g; w ← w + m (Sutskever form, lr inside m).",
    "SGD Nesterov": "Keras stores the lookahead point; the update uses the new m.",
    "Adagrad": "accumulator starts at 0.1, not 0; ε = 1e-7 inside the root.",
    "RMSprop": "no bias correction: the first step is ≈ 3.16·lr.",
    "RMSprop momentum centered": "centred and momentum are independent switches.",
    "Adam": "ε-hat: ε is added to the uncorrected √v (t = iterations + 1).",
    "AdamW": "decay w ← w − wd·lr·w runs before the Adam step.",
    "Nadam": "u_t = β1(1 − 0.5·0.96^t), one running product per step.",
    "Lion": "sign of β1·m + (1 − β1)·g; the update uses the old m.",
}


def _curves(many: moons.ManyHistory) -> dict[str, np.ndarray]:
    """label -> `(epochs, seeds)` losses (NaN beyond an optimizer's epochs)."""
    return {
        label: many.loss[i, :, : int(many.epochs[i])].T
        for i, label in enumerate(many.labels)
    }


def plot_article_claims(many: moons.ManyHistory, ax: Axes) -> None:
    """A table: configuration, epochs, final loss (median over seeds), Keras detail."""
    ax.set_axis_off()
    rows = []
    for i, label in enumerate(many.labels):
        e = int(many.epochs[i])
        final = np.nanmedian(many.loss[i, :, e - 1])
        rows.append([label, str(e), f"{final:.3g}", KERAS_NOTES.get(label, "")])
    table = ax.table(
        cellText=rows,
        colLabels=["configuration", "epochs", "final loss", "what Keras 3 really does"],
        loc="center",
        cellLoc="left",
        colLoc="left",
        colWidths=[0.24, 0.08, 0.1, 0.58],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.5)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#CCCCCC")
        if r == 0:
            cell.set_text_props(weight="bold")
        elif c == 0:
            cell.get_text().set_color(series_style(r - 1)["color"])
    ax.set_title(
        f"The article's ten configurations · {len(many.seeds)} seeds · median final "
        "epoch loss",
        fontsize=9,
    )


def plot_moons_landscape(
    plane: moons.Plane,
    grid: moons.LossGrid,
    paths: Sequence[tuple[str, moons.Projection, int]],
    ax: Axes,
    *,
    levels: int = 30,
) -> Any:
    """Loss on a plane (log contours) with projected training paths.

    Args:
        plane: the plane.
        grid: `plane.loss_grid(...)`.
        paths: `(label, projection, style index)` per path; the style index keeps
            colours consistent with the loss-curve figures.
        ax: axes to draw into.
        levels: contour levels.
    """
    cs = draw_plane_contours(ax, grid, levels=levels)
    for label, proj, index in paths:
        style = series_style(index)
        ax.plot(
            proj.coords[:, 0],
            proj.coords[:, 1],
            color=style["color"],
            linestyle=style["linestyle"],
            linewidth=1.8,
            label=f"{label} (off the plane by up to {proj.off_plane.max():.2g})",
        )
        ax.scatter(
            *proj.coords[0], marker="o", s=30, c="white", edgecolors="black", zorder=5
        )
        ax.scatter(
            *proj.coords[-1],
            marker=style["marker"],
            s=50,
            c=style["color"],
            edgecolors="black",
            zorder=5,
        )
    kind = {
        "pca": "PCA plane",
        "random": "random filter-normalised plane",
        "through": "plane through three points",
    }[plane.kind]
    if plane.explained_variance_ratio is not None:
        ev = plane.explained_variance_ratio
        kind += (
            f" of the Adam path (explains {ev[0]:.0%} + {ev[1]:.0%} of its variance)"
        )
    ax.set_xlim(grid.alpha[0], grid.alpha[-1])
    ax.set_ylim(grid.beta[0], grid.beta[-1])
    ax.set_xlabel("α (first direction)")
    ax.set_ylabel("β (second direction)")
    ax.set_title(kind, fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    return cs


def draw_plane_contours(ax: Axes, grid: moons.LossGrid, *, levels: int = 30) -> Any:
    """Log-scaled filled contours of the loss on a plane, with a colour bar."""
    lo, hi = float(np.nanmin(grid.loss)), float(np.nanmax(grid.loss))
    lv = np.geomspace(max(lo, 1e-8), hi, levels)
    cs = ax.contourf(
        grid.alpha,
        grid.beta,
        np.maximum(grid.loss, lv[0]),
        levels=lv,
        cmap=CONTOUR_CMAP,
        norm=LogNorm(lv[0], lv[-1]),
    )
    ax.contour(
        grid.alpha,
        grid.beta,
        grid.loss,
        levels=lv[::3],
        colors="#2B3A4A",
        linewidths=0.3,
        alpha=0.4,
    )
    bar = ax.figure.colorbar(cs, ax=ax, pad=0.02)
    log_colorbar_ticks(bar, lv[0], lv[-1])
    bar.set_label("training loss on the plane (log scale)")
    ax.set_xlim(grid.alpha[0], grid.alpha[-1])
    ax.set_ylim(grid.beta[0], grid.beta[-1])
    return cs


def moons_data_scatter(ax: Axes, history: moons.FitHistory) -> None:
    """The training points of `history`'s data set, by class."""
    X, y = moons.make_moons(
        **{
            k: v
            for k, v in history.metadata.get("data", {}).get("make_moons", {}).items()
            if k in ("n_samples", "noise", "random_state")
        }
    )
    for cls, color, marker in ((0, OKABE_ITO[0], "o"), (1, OKABE_ITO[4], "s")):
        ax.scatter(
            X[y == cls, 0],
            X[y == cls, 1],
            s=10,
            c=color,
            marker=marker,
            edgecolors="black",
            linewidths=0.3,
            label=f"class {cls}",
        )
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")


def plot_slice_faithfulness(
    paths: Sequence[tuple[str, moons.Projection, int]], ax: Axes
) -> None:
    """True loss (solid) against the loss the slice shows (dotted) along each path.

    Where they part, the 2D picture is not where the network really was.
    """
    for label, proj, index in paths:
        color = series_style(index)["color"]
        rows = np.arange(len(proj.true_loss))
        ax.plot(rows, proj.true_loss, color=color, linewidth=1.6, label=label)
        ax.plot(rows, proj.slice_loss, color=color, linewidth=1.2, linestyle=":")
    ax.plot([], [], color="black", linewidth=1.6, label="true loss")
    ax.plot(
        [], [], color="black", linewidth=1.2, linestyle=":", label="loss on the slice"
    )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (log scale)")
    ax.set_title("How faithful is the plane?", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)


def plot_decision_boundary(
    history: moons.FitHistory, ax: Axes, *, row: int = -1
) -> Any:
    """P(class 1) over the input plane with the data, at a recorded step."""
    xx, yy, prob = moons.decision_boundary(history, 200, row=row)
    mesh = ax.contourf(
        xx, yy, prob[..., 1], levels=np.linspace(0, 1, 11), cmap="PuOr", alpha=0.8
    )
    ax.contour(xx, yy, prob[..., 1], levels=[0.5], colors="black", linewidths=1.2)
    moons_data_scatter(ax, history)
    bar = ax.figure.colorbar(mesh, ax=ax, pad=0.02)
    bar.set_label("P(class 1)")
    acc = history.accuracy[-1] if row == -1 else np.nan
    ax.set_title(
        f"Decision boundary after training ({history.metadata['optimizer']}); "
        f"accuracy {acc:.1%}",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="lower left")
    return mesh


def render_article(
    out: Path, *, seeds: int = 3, epochs_scale: float = 1.0, progress: bool = True
) -> list[Path]:
    """Trains the article's experiment and writes its figures into `out`.

    Args:
        out: output directory.
        seeds: seeds 0..seeds-1 for every configuration.
        epochs_scale: multiply the article's epochs (800 / 100) by this.
        progress: show a progress bar while training.

    Returns:
        The image paths written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    configs = moons.ARTICLE_CONFIGS
    epochs = [max(1, round(c.epochs * epochs_scale)) for c in configs]
    many = moons.fit_many(
        [c.text for c in configs],
        list(range(seeds)),
        epochs,
        labels=[c.label for c in configs],
        record="epoch",
        progress=progress,
    )
    meta = {
        **many.metadata,
        "seeds": list(range(seeds)),
        "epochs": epochs,
        "epochs_scale": epochs_scale,
    }
    written = []

    fig = plt.figure(figsize=(16, 6.5), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.1, 1])
    ax = left.subplots()
    plot_loss_curves(
        _curves(many),
        ax,
        xlabel="epoch",
        band="range",
        title="moons MLP (2-12-13-13-2), batch 32: epoch loss as Keras reports it",
    )
    plot_article_claims(many, right.subplots())
    written += save_figure(fig, out / "moons_curves.png", meta)
    plt.close(fig)

    fig = plt.figure(figsize=(15, 7), layout="constrained")
    plot_loss_small_multiples(
        _curves(many),
        fig,
        xlabel="epoch",
        band="range",
        title=f"One panel per configuration (median and range over {seeds} seeds)",
    )
    written += save_figure(fig, out / "moons_curves_panels.png", meta)
    plt.close(fig)

    # Landscape: the PCA plane of Adam's path (seed 0), with the paths of a few
    # configurations that start from the same initial weights.
    labels = [c.label for c in configs]
    chosen = ["SGD momentum", "RMSprop", "Adam", "Lion"]
    histories = {label: many.history(label, 0) for label in chosen}
    plane = moons.pca_plane(histories["Adam"])
    paths = [
        (label, plane.project(histories[label]), labels.index(label))
        for label in chosen
    ]
    coords = np.concatenate([p.coords for _, p, _ in paths])
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = 0.15 * (hi - lo) + 1e-9
    window = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
    grid = plane.loss_grid(61, window)
    fig, (a1, a2, a3) = plt.subplots(
        1, 3, figsize=(20, 6.5), layout="constrained", width_ratios=[1.2, 0.8, 1]
    )
    plot_moons_landscape(plane, grid, paths, a1)
    plot_slice_faithfulness(paths, a2)
    plot_decision_boundary(histories["Adam"], a3)
    written += save_figure(
        fig,
        out / "moons_landscape.png",
        {
            **meta,
            "plane": plane.metadata,
            "plane_kind": plane.kind,
            "grid_window": window,
        },
    )
    plt.close(fig)
    return written
