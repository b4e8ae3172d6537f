"""The moons MLP animated: the ten article trainings on a PCA plane of the loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure

from scenes.animate.player import Animation, BlitCanvas, write_frames
from scenes.animate.race import VideoSettings
from scenes.figures.curves import plot_loss_curves
from scenes.figures.layers import RaceLayer, StepLabel
from scenes.figures.moons import draw_plane_contours, moons_data_scatter
from scenes.frames import FrameReader
from simulator import moons

__all__ = ["BoundaryLayer", "animate_moons", "train_article"]


def train_article(
    seed: int = 0, epochs_scale: float = 1.0, progress: bool = True
) -> moons.ManyHistory:
    """The article's ten trainings from one seed, weights recorded every epoch."""
    configs = moons.ARTICLE_CONFIGS
    return moons.fit_many(
        [c.text for c in configs],
        [seed],
        [max(1, round(c.epochs * epochs_scale)) for c in configs],
        labels=[c.label for c in configs],
        record="epoch",
        progress=progress,
    )


class BoundaryLayer:
    """P(class 1) over the input plane for one training, at any epoch.

    The probabilities of the rows to be shown are computed once from the
    recorded weights (no re-training), so `update` only swaps an image.

    Args:
        ax: the axes.
        history: the training (`FitHistory`, weights per epoch).
        label: its name, for the caption.
        rows: the reader rows that will be shown (epoch = min(row, epochs)).
        resolution: grid points per axis.
    """

    def __init__(
        self, ax, history: moons.FitHistory, label: str, rows, resolution: int = 90
    ):
        self.history, self.label = history, label
        self.last = len(history.weights) - 1
        wanted = np.unique(np.minimum(np.asarray(rows), self.last))
        xx, yy, prob = moons.decision_boundary(
            history.weights[wanted], resolution, layer_sizes=history.model.layer_sizes
        )
        self.prob = dict(zip(wanted.tolist(), prob[..., 1], strict=True))
        extent = (xx[0, 0], xx[0, -1], yy[0, 0], yy[-1, 0])
        # Ten bands, one colour change at 0.5: the boundary shows as an edge.
        norm = BoundaryNorm(np.linspace(0, 1, 11), 256)
        self.image = ax.imshow(
            self.prob[wanted[-1]], origin="lower", extent=extent, cmap="PuOr",
            norm=norm, alpha=0.6, aspect="auto", interpolation="bilinear",
        )  # fmt: skip
        moons_data_scatter(ax, history)
        self.caption = ax.set_title("", fontsize=9, loc="left")
        self.artists = [self.image, self.caption]

    def update(self, row: int) -> list[Any]:
        epoch = min(int(row), self.last)
        self.image.set_data(self.prob[epoch])
        acc = self.history.accuracy[epoch - 1] if epoch else np.nan
        text = f"{self.label}: decision boundary after epoch {epoch}"
        self.caption.set_text(text + (f" · accuracy {acc:.1%}" if epoch else ""))
        return self.artists

    @property
    def animated(self) -> list[Any]:
        return self.artists


def _paths(many: moons.ManyHistory, plane: moons.Plane, rows: int):
    """label -> `(rows, 1, 2)` coordinates (a finished run holds its last point)."""
    paths, off = {}, {}
    for label in many.labels:
        proj = plane.project(many.history(label, 0))
        coords = np.concatenate(
            [proj.coords, np.repeat(proj.coords[-1:], rows - len(proj.coords), 0)]
        )
        paths[label] = coords[:, None, :]
        off[label] = float(proj.off_plane.max())
    return paths, off


def animate_moons(
    out: str | Path,
    settings: VideoSettings | None = None,
    *,
    many: moons.ManyHistory | None = None,
    boundary: str = "Adam",
    seed: int = 0,
    epochs_scale: float = 1.0,
    resolution: int = 61,
    progress: bool = True,
) -> Animation:
    """The ten article configurations moving on a PCA plane of the moons loss.

    Left: the training loss on the plane of the top two principal components of
    all ten weight paths (seed `seed`, same initial weights), each training a
    particle. Right: the epoch loss curves, and the decision boundary of the
    `boundary` configuration, in sync, computed from the recorded weights.
    The plane is a 2D slice of a 335-dimensional space: each legend entry says
    how far that path is from the plane at most.

    Args:
        out: output path (`.mp4`, `.gif`, `.webm`, `.html`, `.png` frames).
        settings: timing and size (`panels` are fixed here).
        many: a trained `train_article()` result (default: train now).
        boundary: the configuration whose decision boundary is shown.
        seed, epochs_scale: training seed and epoch multiplier (when training).
        resolution: loss grid points per axis on the plane.
        progress: progress bars.
    """
    from scenes.animate.encode import video_format

    settings = settings or VideoSettings(seconds=12)
    settings.check_even(video_format(out))
    many = many or train_article(seed, epochs_scale, progress)
    if boundary not in many.labels:
        raise ValueError(
            f"`boundary` must be one of {list(many.labels)}. Received: {boundary!r}"
        )
    histories = [many.history(label, 0) for label in many.labels]
    plane = moons.pca_plane(histories, center="final")
    R = int(many.epochs.max()) + 1
    paths, off = _paths(many, plane, R)
    coords = np.concatenate([p[:, 0] for p in paths.values()])
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = 0.12 * (hi - lo) + 1e-9
    view = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
    labelled = {f"{k} (off plane ≤ {off[k]:.2g})": v for k, v in paths.items()}
    reader = FrameReader.from_paths(labelled, np.arange(R), view)
    clock = settings.clock(reader)

    w, h = settings.size
    fig = Figure(figsize=(w / settings.dpi, h / settings.dpi), dpi=settings.dpi)
    FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained")
    outer = fig.add_gridspec(1, 2, width_ratios=(1.2, 1.0))
    ax = fig.add_subplot(outer[0])
    right = outer[1].subgridspec(2, 1, height_ratios=(1.0, 1.1))
    grid = plane.loss_grid(resolution, view)
    draw_plane_contours(ax, grid)
    ev = plane.explained_variance_ratio
    ax.set_title(
        f"PCA plane of the ten weight paths (explains {ev[0]:.0%} + {ev[1]:.0%})",
        fontsize=9,
        loc="right",  # the epoch counter is on the left
    )
    ax.set_xlabel("α (first principal direction)")
    ax.set_ylabel("β (second principal direction)")
    race = RaceLayer(ax, reader, trail=settings.trail, head_size=45, annotate=0)
    step = StepLabel(ax, reader, unit="epoch")
    fig.legend(
        handles=race.series_handles(), loc="outside lower center", fontsize=7,
        ncols=3, frameon=False,
    )  # fmt: skip
    fig.suptitle(
        "moons MLP 2-12-13-13-2, batch 32: the article's ten Keras 3 configurations",
        fontsize=11,
    )
    ax_loss = fig.add_subplot(right[0])
    losses = {
        label: many.loss[i, 0, : int(many.epochs[i])]
        for i, label in enumerate(many.labels)
    }
    curves = plot_loss_curves(losses, ax_loss, legend=False, band=None, xlabel="epoch")
    curves.steps = np.arange(R)
    curves.add_cursor()
    ax_loss.set_title(
        "epoch loss (as Keras reports it, log scale)", fontsize=9, loc="left"
    )
    ax_loss.set_ylabel("")
    ax_b = fig.add_subplot(right[1])
    layer = BoundaryLayer(
        ax_b, histories[many.labels.index(boundary)], boundary, clock.rows
    )

    layers = [race, step, curves, layer]
    animated = [a for lay in (race, step) for a in lay.artists]
    animated += curves.animated + layer.animated

    def update(row: int) -> list[Any]:
        return [a for lay in layers for a in lay.update(row)]

    config = {
        **many.metadata,
        "labels": list(many.labels),
        "epochs": [int(e) for e in many.epochs],
        "seed": int(many.seeds[0]),
        "video": {**settings.to_config(), "kind": "moons", "boundary": boundary},
        "plane": plane.metadata,
        "plane_window": view,
        "off_plane_max": off,
    }
    return write_frames(
        BlitCanvas(fig, animated), update, clock.rows, out, fps=settings.fps,
        config=config, progress=progress,
    )  # fmt: skip
