"""KerasVsTextbook: one optimizer as Keras 3 runs it and as its paper states it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    FadeIn,
    Indicate,
    VGroup,
)

from scenes.compare import MATCHES, ComparisonRun, build_comparison, run_comparison
from scenes.manim.base import INK, LiveText, TraceScene, card, fmt, math, text
from scenes.manim.race import first_below
from scenes.style import OKABE_ITO
from simulator.engine import resolve_surface
from simulator.optimizers.flavours.common import KERAS_FORMULA

__all__ = ["RULES", "KerasVsTextbook", "flavour_events"]

#: Highlight colours of the terms that differ (ε placement, bias correction, ...).
TERM_COLORS = {"eps": OKABE_ITO[5], "bias": OKABE_ITO[2], "init": OKABE_ITO[5]}

#: Keras class name (SGD: "SGD" / "SGD nesterov") -> (Keras lines, textbook
#: lines) of Typst math; `{{ ... : eps }}` / `bias` / `init` mark the terms that
#: differ. `{a0}` is Keras's initial accumulator value.
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Adam": (
        (
            "m <- beta_1 m + (1 - beta_1) g, quad v <- beta_2 v + (1 - beta_2) g^2",
            "{{ alpha_t = eta sqrt(1 - beta_2^t) / (1 - beta_1^t) : bias }}",
            "w <- w - {{ alpha_t : bias }} m / (sqrt(v) + {{ hat(epsilon) : eps }})",
        ),
        (
            "m <- beta_1 m + (1 - beta_1) g, quad v <- beta_2 v + (1 - beta_2) g^2",
            "{{ hat(m) = m / (1 - beta_1^t) : bias }}, quad "
            "{{ hat(v) = v / (1 - beta_2^t) : bias }}",
            "w <- w - eta {{ hat(m) : bias }} / (sqrt({{ hat(v) : bias }}) "
            "+ {{ epsilon : eps }})",
        ),
    ),
    "RMSprop": (
        (
            "v <- rho v + (1 - rho) g^2",
            "w <- w - eta g / {{ sqrt(v + epsilon) : eps }}",
        ),
        ("v <- rho v + (1 - rho) g^2", "w <- w - eta g / {{ sqrt(v) : eps }}"),
    ),
    "Adagrad": (
        (
            "{{ A_0 = {a0} : init }}, quad A <- A + g^2",
            "w <- w - eta g / {{ sqrt(A + epsilon) : eps }}",
        ),
        (
            "{{ A_0 = 0 : init }}, quad A <- A + g^2",
            "w <- w - eta g / ({{ sqrt(A) + delta : eps }})",
        ),
    ),
    "SGD nesterov": (
        (
            "m <- mu m - eta nabla f({{ w : bias }})",
            "w <- w + mu m - eta nabla f(w)",
        ),
        (
            "v <- mu v - eta nabla f({{ theta + mu v : bias }})",
            "theta <- theta + v",
        ),
    ),
}

#: Paper each textbook column cites (by Keras class name).
PAPERS = {
    "Adam": "Kingma & Ba 2015, Algorithm 1",
    "RMSprop": "Tieleman & Hinton 2012",
    "Adagrad": "Duchi et al. 2011",
    "SGD nesterov": "Sutskever et al. 2013",
}


@dataclass
class Event:
    """A caption at a step: what the trace says happened there."""

    step: int
    caption: str


def flavour_events(
    run: ComparisonRun, tolerance: float, caption_steps: tuple[int, ...]
) -> tuple[list[Event], dict[str, Any]]:
    """The scene's captions and the numbers in them, from the race alone.

    Returns:
        `(events sorted by step, facts)`; facts has `first_step` (label -> the
        length of step 1, max over starts), `distance` (step -> largest
        distance of any flavour from Keras), `reached` (label -> first step
        with median f < tolerance, -1 never) and `widest` (step, distance).
    """
    race, ref, dist = run.race, run.reference, run.distances
    steps = race[ref].steps_recorded
    others = [i for i in range(len(race)) if i != ref]
    with np.errstate(all="ignore"):
        spread = np.nanmax(dist[others], axis=0)
    events: list[Event] = []
    facts: dict[str, Any] = {"first_step": {}, "distance": {}, "reached": {}}
    if len(steps) > 1:
        for t in race:
            d = np.linalg.norm(t.positions[1] - t.positions[0], axis=-1)
            facts["first_step"][t.label] = float(np.max(d))
        caption = "first step: " + ", ".join(
            f"{_who(lab)} {fmt(v)}" for lab, v in facts["first_step"].items()
        )
        grad = race[ref].internals.get("gradient")
        if grad is not None:
            facts["start_gradient"] = float(np.max(np.linalg.norm(grad[0], axis=-1)))
            caption += f"\n  |g| = {fmt(facts['start_gradient'])} at the start"
            keras = run.comparison.keras.get_config()
            if type(run.comparison.keras).__name__ == "Adam":
                # Keras's eps-hat on the raw sqrt(v) is eps-hat/sqrt(1 - beta_2)
                # on the bias-corrected sqrt(v-hat) at step 1.
                eps1 = keras["epsilon"] / np.sqrt(1 - keras["beta_2"])
                facts["keras_eps_step1"] = float(eps1)
                caption += f";\n  Keras's ε̂ acts as {fmt(eps1)} on √v̂ at step 1"
        events.append(Event(int(steps[1]), caption))
    for s in caption_steps:
        row = int(np.searchsorted(steps, s))
        if row < len(steps) and np.isfinite(spread[row]):
            facts["distance"][int(steps[row])] = float(spread[row])
            events.append(
                Event(
                    int(steps[row]),
                    f"step {int(steps[row])}: the paths are {fmt(spread[row])} apart",
                )
            )
    hits = {t.label: first_below(t, tolerance) for t in race}
    facts["reached"] = hits
    # In race order within a step: flavours that tie are named together.
    reached = sorted(
        ((s, i, lab) for i, (lab, s) in enumerate(hits.items()) if s >= 0),
    )
    if reached:
        s0 = reached[0][0]
        first = [_who(lab) for s, _, lab in reached if s == s0]
        tail = [f"{_who(lab)} at step {s}" for s, _, lab in reached if s != s0]
        never = [_who(lab) for lab, s in hits.items() if s < 0]
        who = " and ".join(first)
        verb = "reaches" if len(first) == 1 else "reach"
        caption = f"{who} {verb} f < {fmt(tolerance)} first, at step {s0}"
        if tail:
            caption += ";\n  " + ", ".join(tail)
        if never:
            caption += ";\n  " + ", ".join(never) + " never"
        events.append(Event(s0, caption))
    if np.isfinite(spread).any():
        row = int(np.nanargmax(spread))
        facts["widest"] = (int(steps[row]), float(spread[row]))
    else:
        facts["widest"] = (0, float("nan"))
    events.sort(key=lambda e: e.step)
    return events, facts


def _who(label: str) -> str:
    """`Adam · PyTorch` -> `PyTorch` (the flavour is what differs)."""
    return label.rpartition(" · ")[2] or label


class KerasVsTextbook(TraceScene):
    """The same optimizer, hyperparameters and start: Keras 3 against the paper.

    `optimizers` holds the ONE Keras text compared (spec-compatible); each
    flavour in `flavours` runs it with `match` (`"defaults"`: its own defaults
    but the learning rate and the arguments set; `"names"`: Keras's values).
    The default start sits on a plateau where |g| is about 1e-7: there
    Keras's ε̂ = 1e-7 on the uncorrected √v (worth ε̂/√(1 - β₂ᵗ) ≈ 3e-6 at
    step 1) swamps the gradient, while the paper's ε = 1e-8 on √v̂ does not,
    so the textbook Adam moves at once and Keras crawls.
    """

    #: A plateau around a Gaussian well; its own view, so a spec's surface
    #: (which replaces this) keeps the view that surface has.
    surface = {
        "expression": "1 - exp(-(x**2 + y**2)/2)",
        "name": "plateau",
        "view": ((-6.5, 1.5), (-2.0, 3.0)),
    }
    optimizers = ("Adam(learning_rate=0.1)",)
    flavours: ClassVar[tuple[str, ...]] = ("keras", "textbook")
    match: ClassVar[str] = "defaults"
    starts = ((-5.6, 2.0),)
    steps = 120
    seconds = 12.0
    #: "Reached" means median f below this.
    tolerance: ClassVar[float] = 1e-2
    #: Steps at which a caption states the distance between the paths.
    caption_steps: ClassVar[tuple[int, ...]] = (10, 20)
    easing = "uniform"
    #: At most 5 units tall, whatever the view: the rules go under the landscape.
    MAX_BOX = (8.0, 5.0)
    PARAMETERS = (
        *TraceScene.PARAMETERS,
        "flavours",
        "match",
        "tolerance",
        "caption_steps",
    )

    @classmethod
    def _comparison(cls):
        if len(cls.optimizers) != 1:
            raise ValueError(
                "KerasVsTextbook compares ONE optimizer. Received: optimizers="
                f"{list(cls.optimizers)!r}"
            )
        if "keras" not in cls.flavours or "textbook" not in cls.flavours:
            raise ValueError(
                "KerasVsTextbook needs 'keras' and 'textbook' in `flavours`. "
                f"Received: flavours={list(cls.flavours)!r}"
            )
        return build_comparison(cls.optimizers[0], cls.flavours, match=cls.match)

    @classmethod
    def scene_config(cls) -> dict[str, Any]:
        cmp = cls._comparison()
        return {
            **super().scene_config(),
            "compare": {
                "optimizer": cmp.keras.to_text(),
                "flavours": [e.flavour for e in cmp.entrants],
                "runs_as": [e.optimizer.to_text() for e in cmp.entrants],
                "match": cmp.match,
                "matches": list(MATCHES),
                "match_default": MATCHES[0],
                "statement": cmp.statement,
            },
        }

    def simulate(self):
        self._comparison()  # one-line errors before the run
        if self.noise:
            raise ValueError(
                f"KerasVsTextbook runs without gradient noise. Received: "
                f"noise={self.noise!r}"
            )
        surface = resolve_surface(self.surface)
        if self.view is not None:
            from dataclasses import replace

            surface = replace(surface, view=tuple(map(tuple, self.view)))
        self.run = run_comparison(
            self.optimizers[0],
            self.flavours,
            surface,
            match=self.match,
            starts=self.starts,
            steps=self.steps,
        )
        return self.run.race

    def rule_key(self) -> str:
        keras = self.run.comparison.keras
        name = type(keras).__name__
        if name == "SGD" and keras.get_config().get("nesterov"):
            return "SGD nesterov"
        return name

    def construct(self):
        run = self.run
        race = self.race
        name = type(run.comparison.keras).__name__
        self.paint_landscape()
        self.static(self.minima())
        self.add(self.particles())
        events, self.facts = flavour_events(run, self.tolerance, self.caption_steps)
        legend = self.legend([(i, t.label) for i, t in enumerate(race)], 16)
        statement = run.comparison.statement.splitlines()
        notes = [text(line.strip(), 12) for line in statement[1:]]
        header = self.panel(
            text(f"{name}: Keras 3 vs the textbook", 24),
            text(
                f"same start, learning rate {fmt(run.comparison.keras.learning_rate)}"
                f", matched {self.match}",
                15,
            ),
            legend,
            *notes,
            buff=0.18,
        )
        counter = self.step_counter(header.get_corner(DOWN + LEFT) + DOWN * 0.35)
        self.add(counter)
        columns = self.rules()
        caption = LiveText("", 14, max_width=7.1 - 0.25 - self.panel_left)
        caption.pin(counter.get_left() + DOWN * 0.3, edge=UP + LEFT)
        self.static(caption)
        self.hold(1.0)
        # Each differing term lights up in both rules at once.
        for label in dict.fromkeys(lab for _, lab in columns.highlights):
            parts = [eq.select(lab) for eq, lab in columns.highlights if lab == label]
            color = TERM_COLORS[label]
            self.play(*[p.animate.set_color(color) for p in parts], run_time=0.4)
            self.play(
                *[Indicate(p, color=color, scale_factor=1.15) for p in parts],
                run_time=0.6,
            )
        shown: list[str] = []
        for event in events:
            self.advance(self.row_of_step(event.step))
            shown.append(event.caption)
            caption.set_text("\n".join("\n".join(shown).splitlines()[-7:]))
            self.hold(1.2)
        self.advance(self.rows - 1)
        self.hold(0.4)
        self.play(FadeIn(self.closing_card()), run_time=0.5)
        self.hold(2.5)

    def rules(self) -> VGroup:
        """The two update rules side by side under the landscape, terms labelled."""
        key = self.rule_key()
        entrants = {e.flavour: e for e in self.run.comparison.entrants}
        keras_cfg = self.run.comparison.keras.get_config()
        top = self.plane.edges[2] - 0.2
        left, right = self.plane.edges[0], 7.0
        width = (right - left - 0.3) / 2
        cols = VGroup()
        highlights = []
        keras_name = type(entrants["keras"].optimizer).__name__
        facts = {
            "keras": dict(KERAS_FORMULA.get(keras_name, {})),
            "textbook": dict(entrants["textbook"].optimizer.formula),
        }
        for col, flavour in enumerate(("keras", "textbook")):
            title = (
                "Keras 3 (what runs)"
                if flavour == "keras"
                else f"textbook: {PAPERS.get(key, 'the paper')}"
            )
            parts = [text(title, 16, INK)]
            if key in RULES:
                for line in RULES[key][col]:
                    src = line.replace(
                        "{a0}", fmt(keras_cfg.get("initial_accumulator_value", 0.1))
                    )
                    eq = math(src, 22)
                    parts.append(eq)
                    for label in TERM_COLORS:
                        if f": {label} }}}}" in src:
                            highlights.append((eq, label))
            # The formula facts the flavours state, where both state one.
            for topic, fact in facts[flavour].items():
                other = facts["textbook" if col == 0 else "keras"].get(topic)
                if other not in (None, fact):
                    parts.append(text(f"{topic}: {fact}", 12))
            column = VGroup(*parts).arrange(DOWN, aligned_edge=LEFT, buff=0.12)
            if column.width > width:
                column.scale_to_fit_width(width)
            cols.add(column)
        cols.arrange(RIGHT, aligned_edge=UP, buff=0.3)
        room = top + 3.9  # down to the frame's bottom edge, less a margin
        if cols.height > room:
            cols.scale_to_fit_height(room)
        cols.move_to([left, top, 0], aligned_edge=UP + LEFT)
        self.static(cols)
        cols.highlights = highlights
        return cols

    def closing_card(self) -> VGroup:
        """How far apart the paths went and who got there first: from the run."""
        facts = self.facts
        step, widest = facts["widest"]
        lines = [f"Widest gap between the paths: {fmt(widest)} at step {step}"]
        final = self.run.distances[:, -1]
        ref = _who(self.race[self.run.reference].label)
        for t, d in zip(self.race, final, strict=True):
            if t.label != self.race[self.run.reference].label:
                lines.append(f"{_who(t.label)} ends {fmt(float(d))} from {ref}")
        tol = fmt(self.tolerance)
        for label, s in facts["reached"].items():
            lines.append(
                f"{_who(label)}: f < {tol} at step {s}"
                if s >= 0
                else f"{_who(label)}: f never < {tol}"
            )
        # At the bottom of the landscape: the paths stay readable beside it.
        closing = card(lines, 15)
        l, r, b, t = self.plane.edges
        if closing.width > r - l - 0.2:
            closing.scale_to_fit_width(r - l - 0.2)
        return closing.move_to([(l + r) / 2, b + 0.12, 0], aligned_edge=DOWN)
