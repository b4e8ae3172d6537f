"""AdaptiveStepSizes: Adagrad, RMSprop and Adam's per-coordinate step sizes."""

from __future__ import annotations

import numpy as np
from manim import LEFT, UP, VGroup

from scenes.manim.base import Ellipses, GlyphText, LiveText, TraceScene, fmt, math, text
from scenes.manim.race import short_label
from scenes.style import series_style

__all__ = ["AdaptiveStepSizes"]


class AdaptiveStepSizes(TraceScene):
    """Ellipses with semi-axes proportional to each coordinate's step size.

    Adagrad and RMSprop scale the gradient by `lr/sqrt(A + eps)` (eps inside
    the root; Adagrad's A starts at 0.1), Adam scales m by
    `alpha_t/(sqrt(v) + eps_hat)`; the trace's `step_size` internal is exactly
    that factor, read through the frame reader at the run's one scale.
    """

    surface = "long_valley"
    view = ((-5.0, 1.0), (-2.2, 2.2))
    optimizers = (
        "Adagrad(learning_rate=0.5)",
        "RMSprop(learning_rate=0.05)",
        "Adam(learning_rate=0.2)",
    )
    starts = ((-4.0, 0.8),)
    steps = 60
    seconds = 14.0
    glyphs = ("step_size",)
    easing = "uniform"

    def construct(self):
        self.paint_landscape()
        self.static(self.minima())
        self.add(self.particles())
        rules = [
            math(
                "{{ A : acc }} <- A + g^2, "
                "quad w <- w - {{ eta / sqrt(A + epsilon) : step }} g",
                24,
            ),
            math(
                "v <- rho v + (1 - rho) g^2, "
                "quad w <- w - {{ eta / sqrt(v + epsilon) : step }} g",
                24,
            ),
            math(
                "w <- w - {{ alpha_t / (sqrt(v) + hat(epsilon)) : step }} m, "
                "quad alpha_t = eta sqrt(1 - beta_2^t) / (1 - beta_1^t)",
                24,
            ),
        ]
        rows = []
        for i, (rule, label) in enumerate(zip(rules, self.race.labels, strict=True)):
            rows += [text(short_label(label), 17, series_style(i)["color"]), rule]
        live = [GlyphText("", 15) for _ in self.race]
        panel = self.panel(
            text("Adaptive step sizes, per coordinate", 26),
            *rows,
            text("Adagrad's A starts at 0.1; Adam's ε̂ sits outside the root", 15),
        )
        for i, lt in enumerate(live):
            lt.pin([self.plane.edges[0], self.plane.edges[2] - 0.9 - 0.32 * i, 0])
        self.add(
            self.step_counter([self.plane.edges[0], self.plane.edges[2] - 0.4, 0]),
            *live,
        )
        self.add(self.ellipses(live))
        self.hold(0.5)
        for i, rule in enumerate(rules):
            self.highlight(rule, "step", series_style(i)["color"], 0.3)
        self.highlight(rules[0], "acc", series_style(0)["color"], 0.3)
        self.advance(self.rows - 1)
        ratio = []
        for s in range(len(self.race)):
            g = self.reader.glyph("step_size", s, self.rows - 2).vectors[0]
            ratio.append(
                f"{short_label(self.race[s].label).split()[0]} {fmt(g[0] / g[1])}"
            )
        end = LiveText("step size x / y at the end:\n" + "\n".join(ratio), 17)
        # Below the panel (a fixed height ran into its last line).
        end.pin([self.panel_left, panel.get_bottom()[1] - 0.3, 0], UP + LEFT)
        self.static(end)
        self.hold(3.0)

    def ellipses(self, live: list[LiveText]) -> VGroup:
        """One Ellipses mobject per optimizer and its live numbers: one updater."""
        k = self.reader.scale["step_size"]
        shapes = [Ellipses(series_style(i)["color"]) for i in range(len(self.race))]
        group = VGroup(*shapes)
        fr, plane = self.frames, self.plane

        def update(g):
            t = self.tracker.get_value()
            for s, shape in enumerate(shapes):
                at, _ = fr.glyph("step_size", s, t)
                gl = self.reader.glyph("step_size", s, fr.row(t))
                axes = np.where(gl.visible[:, None], np.abs(gl.vectors) * k, np.nan)
                shape.place(plane.to_scene(self.in_view(at), None), plane.vector(axes))
                v = gl.vectors[0]
                live[s].set_text(
                    f"{short_label(self.race[s].label).split()[0]}: step size "
                    f"x {fmt(v[0])}, y {fmt(v[1])}"
                )

        group.add_updater(update)
        update(group)
        return group
