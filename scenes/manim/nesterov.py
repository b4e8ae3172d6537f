"""NesterovLookahead: Keras's reparameterised Nesterov against the textbook form."""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, VGroup

from scenes.manim.base import (
    INK,
    STYLE,
    Arrows,
    LiveText,
    Markers,
    TraceScene,
    Trails,
    fmt,
    math,
    text,
)
from scenes.style import OKABE_ITO, series_style

__all__ = ["NesterovLookahead"]

GRAD, SHIFT = OKABE_ITO[5], OKABE_ITO[0]


class NesterovLookahead(TraceScene):
    """The stored variable *is* the look-ahead point; the textbook iterate trails it.

    Keras (Sutskever's reparameterisation) stores `w = theta + mu*v`: the
    gradient is evaluated at the stored variable, and the textbook iterate is
    `theta = w - mu*m_old` (the trace's `nesterov_base` internal; `lookahead`
    is `w` itself). Solid: the textbook particle theta; ghost: the look-ahead
    point w with the gradient there; the two paths are the same path, shifted
    by mu*m.
    """

    surface = "long_valley"
    view = ((-5.0, 1.0), (-2.2, 2.2))
    optimizers = ("SGD(learning_rate=0.03, momentum=0.8, nesterov=True)",)
    starts = ((-4.0, 0.8),)
    steps = 40
    seconds = 14.0
    glyphs = ("gradient", "velocity", "textbook_iterate")
    easing = "uniform"

    def setup(self):
        super().setup()
        r = self.reader
        self.mu = float(self.race[0].metadata["optimizer"]["config"]["momentum"])
        # theta_r for every row but the last (internals rows), through the reader.
        self.theta = np.stack(
            [r.glyph("textbook_iterate", 0, i).vectors for i in range(r.n_rows - 1)]
        )
        vel = np.stack([r.glyph("velocity", 0, i).vectors for i in range(r.n_rows - 1)])
        m_old = np.concatenate([np.zeros_like(vel[:1]), vel[:-1]])
        w = self.reader.series[0].positions[:-1]
        #: max |w - theta - mu*m_old| over the run: the reparameterisation, measured.
        self.identity_error = float(np.abs(w - self.theta - self.mu * m_old).max())

    def construct(self):
        self.paint_landscape()
        self.static(self.minima())
        textbook = math(
            "v <- mu v - eta nabla f({{ theta + mu v : look }}), "
            "quad theta <- theta + v",
            26,
        )
        keras = math(
            "m <- mu m - eta {{ nabla f(w) : grad }}, "
            "quad w <- w + mu m - eta nabla f(w)",
            26,
        )
        same = math("{{ w = theta + mu m_(t-1) : same }}", 26)
        self.panel(
            text("Nesterov momentum, two ways", 26),
            text("textbook (gradient at the look-ahead point):", 16),
            textbook,
            text("Keras (stores the look-ahead point):", 16),
            keras,
            same,
            VGroup(
                text("● textbook iterate θ", 16, series_style(2)["color"]),
                text("○ ghost: look-ahead point w = Keras's variable", 16, INK),
                text("→ −∇f at the ghost; shift μ·m from θ to w", 16, GRAD),
            ).arrange(DOWN, aligned_edge=LEFT, buff=0.06),
        )
        self.add(self.step_counter([self.plane.edges[0], self.plane.edges[2] - 0.4, 0]))
        self.add(self.pair())
        caption = LiveText("", 19).pin(
            [self.plane.edges[0], self.plane.edges[2] - 0.95, 0]
        )
        self.static(caption)
        self.hold(0.5)
        self.highlight(textbook, "look", SHIFT)
        self.highlight(keras, "grad", GRAD)
        self.advance(min(8, self.rows - 1))
        shift = self.mu * np.hypot(*self.reader.glyph("velocity", 0, 7).vectors[0])
        caption.set_text(
            f"Step {self.reader.steps[min(8, self.rows - 1)]}: the ghost leads θ by "
            f"|μ·m| = {fmt(shift)}; the gradient is taken there, not at θ"
        )
        self.hold(1.5)
        self.highlight(same, "same", SHIFT)
        caption.set_text(
            f"w − θ − μ·m(t−1): at most {self.identity_error:.1e} over the run — "
            "one path, shifted by μ·m"
        )
        self.advance(self.rows - 1)
        self.hold(2.5)

    def pair(self) -> VGroup:
        """theta (solid), the ghost w, its gradient and the shift: one updater."""
        st = series_style(2)
        plane, fr, r = self.plane, self.frames, self.reader
        theta_trail = Trails(st["color"], STYLE.trail_width)
        w_trail = Trails(INK, 1.5).set_stroke(opacity=0.45)
        theta_dot = Markers("o", st["color"], STYLE.marker_radius)
        ghost = Markers("o", "#FFFFFF", STYLE.marker_radius * 1.1)
        ghost.set_fill("#FFFFFF", opacity=0.35).set_stroke(INK, width=1.5)
        grad, shift = Arrows(GRAD), Arrows(SHIFT, width=2.5, head=0.09)
        group = VGroup(w_trail, theta_trail, shift, grad, theta_dot, ghost)
        k = r.scale["gradient"]
        last = len(self.theta) - 1

        def theta_at(t):
            i = min(int(t), last)
            j = min(i + 1, last)
            f = min(t - i, 1.0) if j > i else 0.0
            return self.theta[i] + f * (self.theta[j] - self.theta[i])

        def update(g):
            t = self.tracker.get_value()
            w = fr.at(0, t)
            th = theta_at(t)
            path = np.concatenate([self.theta[: min(int(t), last) + 1], th[None]])
            box = plane.edges
            theta_trail.place(plane.to_scene(np.swapaxes(path, 0, 1), None), box)
            w_trail.place(plane.to_scene(np.swapaxes(fr.trail(0, t), 0, 1), None), box)
            # Outside the view nothing is drawn at the edge (the view holds
            # the run; `particles` would mark a leaving particle).
            th, w = self.in_view(th), self.in_view(w)
            theta_dot.place(plane.to_scene(th, None))
            ghost.place(plane.to_scene(w, None))
            gl = r.glyph("gradient", 0, fr.row(t))
            vec = np.where(gl.visible[:, None], gl.vectors * k, np.nan)
            grad.place(plane.to_scene(w, None), plane.vector(vec))
            shift.place(plane.to_scene(th, None), plane.vector(w - th))

        group.add_updater(update)
        update(group)
        return group
