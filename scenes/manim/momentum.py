"""MomentumScene: plain SGD against momentum on the long valley."""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, VGroup

from scenes.manim.base import Arrows, LiveText, TraceScene, fmt, math, text
from scenes.manim.race import short_label
from scenes.style import OKABE_ITO

__all__ = ["MomentumScene", "first_overshoot"]

VEL, GRAD = OKABE_ITO[4], OKABE_ITO[5]  # blue: mu*m, vermillion: -lr*g


def first_overshoot(y: np.ndarray) -> int:
    """First row whose y has the opposite sign of the row before (-1: none)."""
    flips = np.flatnonzero(np.sign(y[1:]) * np.sign(y[:-1]) < 0)
    return int(flips[0] + 1) if flips.size else -1


class MomentumScene(TraceScene):
    """Velocity + gradient = step: Keras's `m <- mu*m - lr*g; w <- w + m`."""

    surface = "long_valley"
    view = ((-5.0, 1.0), (-2.2, 2.2))
    optimizers = ("SGD(learning_rate=0.09)", "SGD(learning_rate=0.03, momentum=0.8)")
    starts = ((-4.0, 0.8),)
    steps = 60
    seconds = 14.0
    glyphs = ("velocity",)
    easing = "uniform"

    def construct(self):
        self.paint_landscape()
        self.static(self.minima())
        self.add(self.particles())
        eq = math(
            "{{ m : mnew }} <- {{ mu m : vel }} {{ - eta g : grad }}, "
            "quad w <- w + {{ m : step }}",
            30,
        )
        legend = self.legend(
            [(i, short_label(t)) for i, t in enumerate(self.optimizers)]
        )
        key = VGroup(
            text("arrows at the momentum particle:", 16),
            text("μ·m (velocity carried over)", 16, VEL),
            text("−η·g (this step's gradient)", 16, GRAD),
            text("their sum m = the step taken", 16),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.08)
        self.panel(text("Momentum on a long valley", 26), eq, legend, key)
        counter = self.step_counter([self.plane.edges[0], self.plane.edges[2] - 0.4, 0])
        self.add(counter, self.arrows(1))
        self.hold(0.5)
        self.highlight(eq, "vel", VEL)
        self.highlight(eq, "grad", GRAD)
        ys = self.reader.series[0].positions[:, 0, 1]
        flip = first_overshoot(ys)
        caption = LiveText("", 19).pin(
            [self.plane.edges[0], self.plane.edges[2] - 0.95, 0]
        )
        self.static(caption)
        if flip > 0:
            self.advance(flip, self.seconds * flip / self.rows * 2)
            caption.set_text(
                "Plain SGD overshoots the valley floor at step "
                f"{self.reader.steps[flip]}: y {fmt(ys[flip - 1])} → {fmt(ys[flip])}"
            )
            self.hold(1.5)
        mid = min(self.rows - 1, 20)
        self.advance(mid)
        y_mom = self.reader.series[1].positions[: mid + 1, 0, 1]
        caption.set_text(
            f"By step {self.reader.steps[mid]}: momentum's swing across is "
            f"|y| = {fmt(abs(y_mom[-1]))} (from {fmt(abs(y_mom[0]))}) "
            "while it gains speed along x"
        )
        self.hold(1.5)
        self.advance(self.rows - 1)
        end = [self.reader.series[s].positions[-1, 0] for s in range(2)]
        f = [float(self.race.surface.value(p)) for p in end]
        caption.set_text(
            f"After {self.reader.steps[-1]} steps: plain SGD at x = {fmt(end[0][0])} "
            f"(f = {fmt(f[0])}), momentum at x = {fmt(end[1][0])} (f = {fmt(f[1])})"
        )
        self.hold(3.0)

    def arrows(self, s: int) -> VGroup:
        """mu*m_old, then -lr*g from its tip, and their sum m: one updater.

        All three come from the `velocity` internal through the reader (m after
        the step, so -lr*g = m_new - mu*m_old), at the run's one velocity scale.
        """
        mu = float(self.race[s].metadata["optimizer"]["config"]["momentum"])
        k = self.reader.scale["velocity"]
        carried, kick, total = Arrows(VEL), Arrows(GRAD), Arrows("#1B1B1B", width=2.5)
        group = VGroup(carried, kick, total)
        plane, fr = self.plane, self.frames

        def update(g):
            t = self.tracker.get_value()
            row = fr.row(t)
            m_new = self.reader.glyph("velocity", s, row)
            m_old = (
                self.reader.glyph("velocity", s, row - 1).vectors
                if row > 0
                else np.zeros_like(m_new.vectors)
            )
            hide = ~m_new.visible[:, None]
            at = plane.to_scene(np.where(hide, np.nan, fr.shown(s, t)), None)
            a = plane.vector(mu * m_old * k)
            b = plane.vector((m_new.vectors - mu * m_old) * k)
            carried.place(at, a)
            kick.place(at + a, b)
            total.place(at, a + b)

        group.add_updater(update)
        update(group)
        return group
