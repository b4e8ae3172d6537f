"""SaddleEscape: SGD creeps along the ridge of x^2 - y^2; momentum and Adam escape."""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, VGroup

from scenes.manim.base import LiveText, TraceScene, fmt, math, text
from scenes.manim.race import short_label

__all__ = ["SaddleEscape", "escape_step"]


def escape_step(trace, limit: float) -> int:
    """First recorded step with |y| > `limit` (-1: never)."""
    y = np.abs(trace.positions.reshape(len(trace.steps_recorded), -1, 2)[:, 0, 1])
    hit = np.flatnonzero(y > limit)
    return int(trace.steps_recorded[hit[0]]) if hit.size else -1


class SaddleEscape(TraceScene):
    """Starting almost on the ridge y = 0: who leaves the saddle, and when."""

    surface = "saddle"
    optimizers = (
        "SGD(learning_rate=0.02)",
        "SGD(learning_rate=0.02, momentum=0.9)",
        "Adam(learning_rate=0.05)",
    )
    starts = ((-1.5, 0.01),)
    steps = 60
    seconds = 12.0
    easing = "uniform"

    def construct(self):
        self.paint_landscape()
        self.static(self.minima())
        self.add(self.particles())
        surface = math("f(x, y) = x^2 - y^2, quad {{ g = (2x, -2y) : grad }}", 26)
        self.panel(
            text("Escaping a saddle", 26),
            surface,
            self.legend([(i, short_label(t)) for i, t in enumerate(self.race.labels)]),
            text("near y = 0 the push along y is −2y: tiny", 16),
        )
        self.add(self.step_counter([self.panel_left, -0.6, 0]))
        self.hold(0.5)
        self.highlight(surface, "grad", "#D55E00")
        limit = 0.5 * (self.reader.view[1][1] - self.reader.view[1][0]) * 0.5
        escapes = sorted(
            (escape_step(t, limit), t.label)
            for t in self.race
            if escape_step(t, limit) >= 0
        )
        caption = LiveText("", 18).pin([self.panel_left, -1.2, 0])
        self.static(caption)
        shown = []
        for step, label in escapes:
            self.advance(self.row_of_step(step))
            shown.append(
                f"{short_label(label).split()[0]}"
                f"{' +μ' if 'momentum' in label else ''}: "
                f"|y| > {fmt(limit)} at step {step}"
            )
            caption.set_text("\n".join(shown))
            self.hold(1.0)
        self.advance(self.rows - 1)
        stuck = [t for t in self.race if escape_step(t, limit) < 0]
        lines = VGroup(
            *[
                text(
                    f"{short_label(t.label)}: still "
                    f"|y| = {fmt(abs(t.final_positions.reshape(-1, 2)[0, 1]))} "
                    f"after {t.steps} steps",
                    16,
                )
                for t in stuck
            ]
        ).arrange(DOWN, aligned_edge=LEFT)
        if stuck:
            lines.next_to(caption, DOWN, aligned_edge=LEFT, buff=0.3)
            self.static(lines)
        self.hold(2.5)
