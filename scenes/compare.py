"""`optiscape compare`: one optimizer as Keras, torch, optax, its paper, the article."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from scenes.landscape import plot_race
from scenes.output import save_figure
from scenes.style import series_style
from simulator import simulate
from simulator.optimizers import KerasOptimizer, Optimizer, parse
from simulator.optimizers.flavours import FLAVOUR_OPTIMIZERS, FLAVOURS
from simulator.optimizers.flavours.common import KERAS_FORMULA, FlavourOptimizer
from simulator.optimizers.text import same_value, value_text

__all__ = ["MATCHES", "Comparison", "build_comparison", "compare", "formula_table"]

MATCHES = ("defaults", "names")
#: Distances of exactly 0 are drawn here on the log axis (and said so).
ZERO_FLOOR = 1e-17


@dataclass
class Entrant:
    """One flavour in the comparison.

    Attributes:
        flavour: `keras`, `torch`, `optax`, `textbook` or `article`.
        optimizer: the optimizer that runs.
        notes: how its arguments were chosen (for the match statement).
    """

    flavour: str
    optimizer: Optimizer
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """`Adam · Keras`, `Adam · PyTorch`, ..."""
        if isinstance(self.optimizer, FlavourOptimizer):
            return self.optimizer.label
        return f"{type(self.optimizer).__name__} · Keras"


@dataclass
class Comparison:
    """The flavours of one optimizer with the arguments they run with."""

    keras: KerasOptimizer
    entrants: list[Entrant]
    match: str
    statement: str


def _keras_reference(optimizer: str, learning_rate: float | None) -> KerasOptimizer:
    text = optimizer if "(" in optimizer else f"{optimizer}()"
    opt = parse(text)
    if not isinstance(opt, KerasOptimizer):
        raise ValueError(
            "`--optimizer` names the Keras optimizer to compare (no flavour "
            f"prefix). Received: --optimizer={optimizer!r}"
        )
    if learning_rate is not None:
        config = {**opt.get_config(), "learning_rate": float(learning_rate)}
        opt = type(opt)(**config)
    if not isinstance(opt.learning_rate, float):
        raise ValueError(
            "compare needs a constant float learning rate. "
            f"Received: learning_rate={opt.learning_rate!r}"
        )
    return opt


def _flavour_class(prefix: str, keras_name: str) -> type[FlavourOptimizer]:
    if prefix not in FLAVOUR_OPTIMIZERS:
        choices = ["keras", *FLAVOURS]
        raise ValueError(
            f"Unknown flavour {prefix!r}. Available: {', '.join(choices)}. "
            f"Received: --flavours containing {prefix!r}"
        )
    classes = [c for c in FLAVOUR_OPTIMIZERS[prefix] if c.mirrors == keras_name]
    if not classes:
        have = sorted({c.mirrors for c in FLAVOUR_OPTIMIZERS[prefix]})
        raise ValueError(
            f"The {prefix} flavour has no {keras_name}; it has {', '.join(have)}. "
            f"Received: --optimizer {keras_name} with --flavours {prefix}"
        )
    # torch's RAdam also mirrors Adam: prefer the class of the same name.
    classes.sort(key=lambda c: c.public_name.lower() != keras_name.lower())
    return classes[0]


def _flavour_arguments(
    cls: type[FlavourOptimizer], keras: KerasOptimizer, match: str
) -> tuple[dict[str, Any], list[str]]:
    """The flavour's keyword arguments and notes on where each came from."""
    config = keras.get_config()
    keras_defaults = {**type(keras)._defaults}
    kwargs: dict[str, Any] = {cls._lr_name: keras.learning_rate}
    notes = []
    for name, keras_name in cls.keras_names.items():
        if name == cls._lr_name:
            continue
        if name == "betas":
            value: Any = (config["beta_1"], config["beta_2"])
            given = not (
                same_value(config["beta_1"], keras_defaults["beta_1"])
                and same_value(config["beta_2"], keras_defaults["beta_2"])
            )
        elif keras_name in config:
            value = config[keras_name]
            given = not same_value(value, keras_defaults.get(keras_name))
        else:
            continue
        default = cls._defaults.get(name)
        if match == "names" or given:
            kwargs[name] = value
            if not same_value(value, default):
                why = (
                    "set in --optimizer" if given else f"default {value_text(default)}"
                )
                notes.append(
                    f"{name} <- Keras {keras_name}={value_text(value)} ({why})"
                )
        elif not same_value(value, default):
            notes.append(
                f"{name}={value_text(default)} (its default; Keras {keras_name}="
                f"{value_text(value)})"
            )
    return kwargs, notes


def build_comparison(
    optimizer: str,
    flavours: Sequence[str],
    *,
    learning_rate: float | None = None,
    match: str = "defaults",
) -> Comparison:
    """The flavours of a Keras optimizer with matched names or matched defaults.

    Args:
        optimizer: Keras text (`"Adam"`, `"SGD(momentum=0.9, nesterov=True)"`).
        flavours: prefixes, e.g. `["keras", "torch", "optax", "textbook"]`.
        learning_rate: overrides the text's learning rate for every flavour.
        match: `"defaults"`: each flavour keeps its own defaults except the
            learning rate and the arguments set in `optimizer`; `"names"`: every
            argument takes the Keras value of the argument that means the same
            (torch's `alpha` <- Keras's `rho`).
    """
    if match not in MATCHES:
        raise ValueError(f"`match` must be one of {MATCHES}. Received: match={match!r}")
    if not flavours:
        raise ValueError("`flavours` is empty. Received: flavours=[]")
    keras = _keras_reference(optimizer, learning_rate)
    name = type(keras).__name__
    entrants = []
    for prefix in dict.fromkeys(flavours):
        if prefix == "keras":
            entrants.append(Entrant("keras", keras))
            continue
        cls = _flavour_class(prefix, name)
        kwargs, notes = _flavour_arguments(cls, keras, match)
        try:
            opt = cls(**kwargs)
        except ValueError as err:
            raise ValueError(f"{prefix} cannot take Keras's values: {err}") from None
        entrants.append(Entrant(prefix, opt, notes))
    return Comparison(keras, entrants, match, _statement(keras, entrants, match))


def _statement(keras: KerasOptimizer, entrants: list[Entrant], match: str) -> str:
    lr = value_text(keras.learning_rate)
    if match == "names":
        head = (
            f"Matched names: every flavour ran with learning rate {lr} and took "
            "the Keras value of each argument that means the same."
        )
    else:
        head = (
            f"Matched defaults: every flavour ran with learning rate {lr}, the "
            "arguments set in --optimizer, and its own defaults for the rest."
        )
    lines = [head]
    for e in entrants:
        if e.notes:
            lines.append(f"  {e.label}: " + "; ".join(e.notes))
    return "\n".join(lines)


def formula_table(comparison: Comparison) -> list[list[str]]:
    """Rows `[topic, keras, flavour...]`: the formula facts each flavour states."""
    columns = [e for e in comparison.entrants]
    facts = []
    for e in columns:
        if isinstance(e.optimizer, FlavourOptimizer):
            facts.append(dict(e.optimizer.formula))
        else:
            facts.append(dict(KERAS_FORMULA.get(type(e.optimizer).__name__, {})))
    topics = list(dict.fromkeys(t for f in facts for t in f))
    rows = [["", *(e.label for e in columns)]]
    rows += [[t, *(f.get(t, "(not stated)") for f in facts)] for t in topics]
    rows.append(["runs as", *(e.optimizer.to_text() for e in columns)])
    return rows


def _markdown(rows: list[list[str]]) -> str:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join(
        [line(rows[0]), line(["---"] * len(rows[0])), *(line(r) for r in rows[1:])]
    )


def distances(race: Any, reference: int = 0) -> np.ndarray:
    """`(F, R)` largest distance over particles from the reference trace, per row."""
    ref = race[reference].positions
    return np.array(
        [
            np.max(np.linalg.norm(t.positions - ref, axis=-1).reshape(len(ref), -1), 1)
            for t in race
        ]
    )


def compare(
    optimizer: str,
    flavours: Sequence[str],
    surface: Any,
    out: str | Path,
    *,
    learning_rate: float | None = None,
    match: str = "defaults",
    starts: Any = None,
    steps: int = 200,
    progress: bool = False,
) -> list[Path]:
    """Race figure, distance-to-Keras plot and formula table of the flavours.

    Writes `<out>` (PNG/SVG/PDF, configuration embedded, `<stem>.json` sidecar)
    and `<stem>.md` (the table and the match statement).

    Returns:
        The paths written.
    """
    cmp = build_comparison(
        optimizer, flavours, learning_rate=learning_rate, match=match
    )
    race = simulate(
        surface,
        [e.optimizer for e in cmp.entrants],
        starts,
        steps,
        labels=[e.label for e in cmp.entrants],
        progress=progress,
    )
    ref = next((i for i, e in enumerate(cmp.entrants) if e.flavour == "keras"), 0)
    dist = distances(race, ref)
    rows = formula_table(cmp)
    fig, (ax_race, ax_dist) = plt.subplots(
        1, 2, figsize=(14, 6.5), layout="constrained", width_ratios=(1.1, 1)
    )
    plot_race(race, ax_race, title=f"{type(cmp.keras).__name__}: flavours")
    _plot_distances(ax_dist, race, dist, ref)
    config = {
        **race.metadata,
        "compare": {
            "optimizer": cmp.keras.to_text(),
            "flavours": [e.flavour for e in cmp.entrants],
            "match": match,
            "statement": cmp.statement,
            "table": rows,
            "reference": race[ref].label,
            "final_distance": {
                t.label: float(d[-1]) for t, d in zip(race, dist, strict=True)
            },
        },
    }
    written = save_figure(fig, out, config)
    plt.close(fig)
    md = Path(written[0]).with_suffix(".md")
    md.write_text(
        f"# {type(cmp.keras).__name__}: flavours compared\n\n{_markdown(rows)}\n\n"
        + "\n".join(f"    {line}" for line in cmp.statement.splitlines())
        + "\n"
    )
    return [*written, md]


def _plot_distances(ax, race, dist: np.ndarray, ref: int) -> None:
    steps = np.arange(dist.shape[1])
    zero = False
    for i, (trace, d) in enumerate(zip(race, dist, strict=True)):
        if i == ref:
            continue
        zero |= bool(np.any(d == 0))
        ax.plot(
            steps,
            np.maximum(d, ZERO_FLOOR),
            label=trace.label,
            markevery=max(1, len(steps) // 12),
            **series_style(i),
        )
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(f"distance to {race[ref].label} (max over particles)")
    title = "How far each flavour's path is from " + race[ref].label
    if zero:
        title += f"\n(identical positions drawn at {ZERO_FLOOR:g})"
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
