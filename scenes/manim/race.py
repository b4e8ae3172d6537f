"""OptimizerRace (the article's optimizers on Rosenbrock) and the benchmark swarm."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from manim import DOWN, LEFT, FadeIn, VGroup

from scenes.gallery import ARTICLE_RACES, article_optimizers
from scenes.manim.base import TraceScene, card, fmt, math, short_label, text

__all__ = ["OptimizerRace", "SwarmScene", "first_below", "short_label"]

_ROSEN = ARTICLE_RACES[0]


def first_below(trace, target: float) -> int:
    """The first recorded step with median loss below `target` (-1: never)."""
    loss = np.median(trace.loss.reshape(len(trace.steps_recorded), -1), axis=1)
    hit = np.flatnonzero(loss < target)
    return int(trace.steps_recorded[hit[0]]) if hit.size else -1


class OptimizerRace(TraceScene):
    """The article's ten Keras optimizers from one start on Rosenbrock."""

    surface = _ROSEN.surface
    optimizers = tuple(t for _, t in article_optimizers(*_ROSEN.lrs))
    starts = _ROSEN.starts
    steps = _ROSEN.steps
    seconds = 14.0
    #: "Reached" means median loss below this.
    target: ClassVar[float] = 1e-2
    PARAMETERS = (*TraceScene.PARAMETERS, "target")

    def construct(self):
        race = self.race
        n = len(race)
        title = text(f"{n} Keras optimizers on {race.surface.name}", 28)
        rule = math("w_(t+1) = w_t + Delta w(g_t), quad g_t = nabla f(w_t)", 26)
        legend = self.legend(
            [(i, short_label(t.label)) for i, t in enumerate(race)], 15
        )
        self.panel(title, rule, legend)
        counter = self.step_counter(legend.get_corner(DOWN + LEFT) + DOWN * 0.4)
        self.paint_landscape()
        self.static(self.minima())
        self.add(self.particles())
        self.add(counter)
        self.hold(1.0)  # a beat to read the panel
        # Beats: the first to reach the target, and each divergence.
        hits = {t.label: first_below(t, self.target) for t in race}
        events = sorted(
            [
                (
                    s,
                    f"{short_label(k)} reaches f < {fmt(self.target)} first, "
                    f"at step {s}",
                )
                for k, s in hits.items()
                if s >= 0
            ][:1]
            + [
                (
                    int(t.diverged_step.min()),
                    f"{short_label(t.label)} diverges at step "
                    f"{int(t.diverged_step.min())}",
                )
                for t in race
                if t.diverged.any()
            ]
        )
        for step, caption in events:
            row = self.row_of_step(step)
            self.advance(row)
            note = text(caption, 18).next_to(
                counter, DOWN, aligned_edge=LEFT, buff=0.25
            )
            self.static(note)
            self.hold(1.4)
            self.remove(note)
        self.advance(self.rows - 1)
        self.hold(0.5)
        self.play(FadeIn(self.closing_card(hits)), run_time=0.6)
        self.hold(2.5)

    def closing_card(self, hits: dict[str, int]) -> VGroup:
        """Who reached the target and when, who diverged: computed from the run."""
        reached = sorted((s, k) for k, s in hits.items() if s >= 0)
        lines = [f"Reached f < {fmt(self.target)} (median over starts):"]
        lines += [f"  {short_label(k)}: step {s}" for s, k in reached[:5]]
        if not reached:
            lines.append("  none within the run")
        div = [t for t in self.race if t.diverged.any()]
        lines.append(
            "Diverged: "
            + (
                ", ".join(
                    f"{short_label(t.label)} (step {int(t.diverged_step.min())})"
                    for t in div
                )
                if div
                else "none"
            )
        )
        best = min(self.race, key=lambda t: float(np.median(t.final_loss)))
        lines.append(
            f"Lowest final loss: {short_label(best.label)}, "
            f"{fmt(float(np.median(best.final_loss)))}"
        )
        return card(lines, 17).move_to(self.plane.center)


class SwarmScene(TraceScene):
    """300 Adam particles on Himmelblau: the benchmark swarm (no trails, no math)."""

    surface = "himmelblau"
    optimizers = ("Adam(learning_rate=0.05)",)
    starts = tuple(
        map(tuple, np.random.default_rng(0).uniform(-4.5, 4.5, size=(300, 2)).round(3))
    )
    steps = 150
    seconds = 6.0

    def construct(self):
        self.paint_landscape()
        self.static(self.minima())
        self.add(self.group(0, trails=False))
        label = text(f"{len(self.starts)} particles, {self.optimizers[0]}", 20)
        label.next_to(
            self.plane.center + np.array([self.plane.width / 2, 3.4, 0]),
            direction=np.array([1, 0, 0]),
        )
        self.static(label)
        self.add(self.step_counter(label.get_left() + DOWN * 0.6))
        self.advance(self.rows - 1)
