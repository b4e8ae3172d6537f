"""MoonsPlane: the moons MLP's ten configurations on a PCA plane of the loss."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from manim import LEFT, VGroup

from scenes.frames import FrameReader
from scenes.manim.base import (
    INK,
    LiveText,
    Markers,
    Plane,
    TraceScene,
    Trails,
    fmt,
    math,
    text,
)
from scenes.style import series_style

__all__ = ["GridSurface", "MoonsPlane"]


@dataclass
class GridSurface:
    """A loss sampled on a plane, as the surface `draw_contours` and traces expect.

    Attributes:
        alpha, beta: `(n,)` plane coordinates of the grid's columns and rows.
        loss: `(n, n)` loss at the grid (row = beta).
        name: shown in configurations.
    """

    alpha: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    name: str = "moons PCA plane"
    minima: list = field(default_factory=list)
    log_contours: bool = True

    @property
    def view(self):
        return (
            (float(self.alpha[0]), float(self.alpha[-1])),
            (float(self.beta[0]), float(self.beta[-1])),
        )

    def value(self, xy: np.ndarray) -> np.ndarray:
        """Bilinear interpolation of the sampled loss (what the picture shows)."""
        from scipy.interpolate import RegularGridInterpolator

        f = RegularGridInterpolator(
            (self.beta, self.alpha), self.loss, bounds_error=False, fill_value=None
        )
        xy = np.asarray(xy, dtype=float)
        return f(np.stack([xy[..., 1], xy[..., 0]], axis=-1))

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "grid": list(self.loss.shape)}


class MoonsPlane(TraceScene):
    """Ten Keras configurations training the moons MLP, seen on one PCA plane.

    Every configuration trains from the same initial weights (seed) for the same
    number of epochs (so one row is one epoch for all). The plane is the PCA
    plane of all ten weight trajectories; each particle is a configuration's
    projection, the landscape the loss on the plane (log colour scale as the
    static figures). The plane hides the rest of weight space: the off-plane
    distance and the loss the picture shows vs the true loss are stated.
    """

    epochs: ClassVar[int] = 40
    seed: ClassVar[int] = 0
    inset: ClassVar[str] = "Adam"
    seconds = 12.0
    easing = "uniform"
    PARAMETERS = ("epochs", "seed", "inset", "seconds")

    def read(self) -> FrameReader:
        """Trains the ten configurations and reads their projections on the PCA
        plane through `FrameReader.from_paths` (one row per epoch)."""
        from simulator import moons

        configs = moons.ARTICLE_CONFIGS
        labels = [c.label for c in configs]
        if self.inset not in labels:
            raise ValueError(
                f"`inset` must be one of {labels}. Received: inset={self.inset!r}"
            )
        many = moons.fit_many(
            [c.text for c in configs], [self.seed], self.epochs, labels=labels
        )
        self.labels = labels
        self.histories = [many.history(label, 0) for label in labels]
        self.moons_plane = moons.pca_plane(list(self.histories), center="mean")
        self.projections = [self.moons_plane.project(h) for h in self.histories]
        coords = np.concatenate([p.coords for p in self.projections])
        lo, hi = coords.min(0), coords.max(0)
        pad = 0.12 * (hi - lo) + 1e-9
        # Equal scales on both axes (distances mean something), but at least
        # 0.6 as tall as wide so the landscape around the paths shows.
        pad[1] += (
            max(0.0, 0.6 * (hi[0] - lo[0] + 2 * pad[0]) - (hi[1] - lo[1] + 2 * pad[1]))
            / 2
        )
        window = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
        grid = self.moons_plane.loss_grid(61, window)
        rows = len(self.projections[0].coords)
        return FrameReader.from_paths(
            {
                label: p.coords[:, None, :]
                for label, p in zip(labels, self.projections, strict=True)
            },
            np.arange(rows),
            window,
            loss={
                label: p.slice_loss[:, None]
                for label, p in zip(labels, self.projections, strict=True)
            },
            surface=GridSurface(grid.alpha, grid.beta, grid.loss),
        )

    def construct(self):
        self.paint_landscape()
        self.add(self.particles())
        evr = self.moons_plane.explained_variance_ratio
        legend = self.legend(list(enumerate(self.labels)), 14)
        self.panel(
            text("Moons MLP: ten optimizers on one PCA plane", 24),
            math("w(a, b) = overline(w) + a thin d_1 + b thin d_2", 22),
            text(
                f"d1, d2: top PCA directions of all ten paths "
                f"({100 * evr[0]:.0f}% + {100 * evr[1]:.0f}% of their variance)",
                14,
            ),
            legend,
        )
        counter = self.epoch_counter()
        self.add(counter, self.inset_boundary())
        caption = LiveText("", 15).pin(
            [self.plane.edges[0], self.plane.edges[2] - 0.9, 0]
        )
        self.static(caption)
        self.hold(1.0)
        self.advance(self.rows - 1)
        off = np.array([p.off_plane[-1] for p in self.projections])
        span = np.array(
            [np.linalg.norm(h.weights[-1] - h.weights[0]) for h in self.histories]
        )
        gap = np.array(
            [abs(p.slice_loss[-1] - p.true_loss[-1]) for p in self.projections]
        )
        worst = int(np.argmax(off / span))
        true_end = [float(p.true_loss[-1]) for p in self.projections]
        median = fmt(float(np.median(off / span)) * 100)
        caption.set_text(
            f"Off the plane at the end: {median}% of the distance travelled\n"
            f"(median; worst {self.labels[worst]} "
            f"{fmt(float(off[worst] / span[worst]) * 100)}%).\n"
            f"Loss shown on the plane vs true loss: up to {fmt(float(gap.max()))} "
            f"apart (true final losses {fmt(min(true_end))}–{fmt(max(true_end))})."
        )
        self.hold(4.0)

    def epoch_counter(self):
        from scenes.manim.base import GlyphText

        live = GlyphText(f"epoch 0 / {self.epochs}", 20).pin(
            [self.plane.edges[0], self.plane.edges[2] - 0.4, 0]
        )
        live.add_updater(
            lambda m: m.set_text(
                f"epoch {self.frames.row(self.tracker.get_value())} / {self.epochs}"
            )
        )
        return live

    def inset_boundary(self) -> VGroup:
        """The decision boundary (p = 0.5) of `inset` over the data: one updater."""
        import contourpy

        from simulator import moons

        s = self.labels.index(self.inset)
        view = ((-1.5, 2.5), (-1.0, 1.5))
        box = Plane(view, (4.9, -2.45, 0), 3.6, 2.25)
        xx, yy, prob = moons.decision_boundary(self.histories[s].weights, 80, view)
        lines = []
        for p in prob[..., 1]:
            segs = contourpy.contour_generator(xx, yy, p).lines(0.5)
            parts = [np.vstack([seg, [np.nan, np.nan]]) for seg in segs]
            lines.append(np.vstack(parts) if parts else np.full((1, 2), np.nan))
        X, y = self.moons_plane.X, self.moons_plane.y
        frame = Trails(INK, 1.5).place(
            box.to_scene(
                np.array(
                    [
                        [
                            [view[0][0], view[1][0]],
                            [view[0][1], view[1][0]],
                            [view[0][1], view[1][1]],
                            [view[0][0], view[1][1]],
                            [view[0][0], view[1][0]],
                        ]
                    ]
                ),
                None,
            )
        )
        dots = VGroup(
            Markers("o", series_style(4)["color"], 0.025).place(
                box.to_scene(X[y == 0])
            ),
            Markers("s", series_style(0)["color"], 0.025).place(
                box.to_scene(X[y == 1])
            ),
        )
        boundary = Trails(series_style(s)["color"], 3.5)
        title = text(f"decision boundary of {self.inset} (p = 0.5)", 14)
        title.next_to(frame, direction=np.array([0, 1, 0]), buff=0.08).align_to(
            frame, LEFT
        )
        group = VGroup(frame, dots, boundary, title)

        def update(g):
            row = self.frames.row(self.tracker.get_value())
            boundary.place(box.to_scene(lines[min(row, len(lines) - 1)][None], None))

        group.add_updater(update)
        update(group)
        return group
