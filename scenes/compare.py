"""`optiscape compare`: one optimizer as Keras, torch, optax, its paper, the article."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from scenes.figures.landscape import plot_race
from scenes.output import MARKDOWN_GENERATOR, save_figure, write_text, writing
from scenes.style import series_style
from simulator import simulate
from simulator.optimizers import KerasOptimizer, Optimizer, parse
from simulator.optimizers.flavours import FLAVOUR_OPTIMIZERS, FLAVOURS
from simulator.optimizers.flavours.common import KERAS_FORMULA, FlavourOptimizer
from simulator.optimizers.keras_pipeline import BASE_ARGUMENTS
from simulator.optimizers.text import same_value, value_text

__all__ = [
    "MATCHES",
    "Comparison",
    "ComparisonRun",
    "build_comparison",
    "compare",
    "formula_table",
    "run_comparison",
]

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
        """`Adam · Keras`, `Adam · PyTorch`, ... (`Optimizer.label`, the names
        `legend_labels` gives any race with a flavour in it)."""
        return self.optimizer.label


@dataclass
class Comparison:
    """The flavours of one optimizer with the arguments they run with."""

    keras: KerasOptimizer
    entrants: list[Entrant]
    match: str
    statement: str


def rule_title(keras: KerasOptimizer) -> str:
    """The compared rule for a title: `"SGD (momentum 0.9, nesterov)"`, `"Adam"`.

    The class name alone hides what decides the rule (Nesterov SGD's flavours
    differ where plain momentum's do not), so its switches that are on and a
    scalar momentum are named.
    """
    notes = [
        flag
        for flag in ("nesterov", "centered", "amsgrad")
        if getattr(keras, flag, False) is True
    ]
    momentum = getattr(keras, "momentum", None)
    if isinstance(momentum, int | float) and momentum:
        notes.insert(0, f"momentum {momentum:g}")
    name = type(keras).__name__
    return f"{name} ({', '.join(notes)})" if notes else name


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
    keras_defaults = {**BASE_ARGUMENTS, **type(keras)._defaults}
    covered = {k for v in cls.keras_names.values() for k in v.split(", ")}
    for key, value in config.items():
        if key in ("learning_rate", "name") or key in covered:
            continue
        if not same_value(value, keras_defaults.get(key)):
            raise ValueError(
                f"{cls.flavour.prefix}:{cls.public_name} has no counterpart of "
                f"Keras's {key}. Received: {key}={value_text(value)}"
            )
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
        if value is None and isinstance(default, float):
            value = 0.0  # Keras's "no weight decay" is None; a flavour's is 0.0
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
    """`(F, R)` largest distance over particles from the reference trace, per row.

    A particle counts only while neither run of it has diverged (a diverged
    particle's position is frozen at its last finite value); a row where every
    particle has diverged is NaN.
    """
    ref = race[reference]
    rows = np.arange(ref.positions.shape[0]).reshape((-1,) + (1,) * ref.diverged.ndim)

    def alive(trace):
        step = np.where(trace.diverged, trace.diverged_step, np.iinfo(np.int64).max)
        return rows < step

    out = []
    for trace in race:
        d = np.linalg.norm(trace.positions - ref.positions, axis=-1)
        d = np.where(alive(trace) & alive(ref), d, np.nan)
        flat = d.reshape(len(d), -1)
        with np.errstate(all="ignore"):
            out.append(np.where(np.all(np.isnan(flat), 1), np.nan, np.nanmax(flat, 1)))
    return np.array(out)


@dataclass
class ComparisonRun:
    """A comparison raced: the flavours, their race and the distances to Keras.

    Attributes:
        comparison: the flavours and their arguments.
        race: one trace per entrant, in entrant order, labelled `Entrant.label`.
        reference: index of the reference (Keras) trace.
        distances: `(F, R)` see `distances`.
    """

    comparison: Comparison
    race: Any
    reference: int
    distances: np.ndarray

    @property
    def config(self) -> dict[str, Any]:
        """The `compare` table of the metadata (figure, animation, scene)."""
        cmp, race, dist = self.comparison, self.race, self.distances
        return {
            "optimizer": cmp.keras.to_text(),
            "flavours": [e.flavour for e in cmp.entrants],
            "match": cmp.match,
            "matches": list(MATCHES),
            "match_default": MATCHES[0],
            "statement": cmp.statement,
            "table": formula_table(cmp),
            "reference": race[self.reference].label,
            "final_distance": {
                t.label: float(d[-1]) for t, d in zip(race, dist, strict=True)
            },
        }


def run_comparison(
    optimizer: str,
    flavours: Sequence[str],
    surface: Any,
    *,
    learning_rate: float | None = None,
    match: str = "defaults",
    starts: Any = None,
    steps: int = 200,
    progress: bool = False,
) -> ComparisonRun:
    """Builds the flavours and races them from the same starts."""
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
    return ComparisonRun(cmp, race, ref, distances(race, ref))


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
    run = run_comparison(
        optimizer,
        flavours,
        surface,
        learning_rate=learning_rate,
        match=match,
        starts=starts,
        steps=steps,
        progress=progress,
    )
    cmp, race, ref, dist = run.comparison, run.race, run.reference, run.distances
    rows = formula_table(cmp)
    fig, (ax_race, ax_dist) = plt.subplots(
        1, 2, figsize=(14, 6.5), layout="constrained", width_ratios=(1.1, 1)
    )
    plot_race(race, ax_race, title=f"{rule_title(cmp.keras)}: flavours")
    _plot_distances(ax_dist, race, dist, ref)
    config = {**race.metadata, "compare": run.config}
    with writing():  # the figure and its table appear together, or neither
        written = save_figure(fig, out, config)
        plt.close(fig)
        md = write_text(
            Path(written[0]).with_suffix(".md"),
            f"# {type(cmp.keras).__name__}: flavours compared\n\n{_markdown(rows)}\n\n"
            + "\n".join(f"    {line}" for line in cmp.statement.splitlines())
            + f"\n\n{MARKDOWN_GENERATOR}\n",
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


# ------------------------------------------------------------------- moons
def moons_comparison(
    flavours: Sequence[str] = ("torch", "textbook"),
    seeds: Sequence[int] = (0,),
    epochs: int | None = None,
) -> dict[str, Any]:
    """The article's ten moons trainings as Keras and as each flavour, same start.

    Every training of one seed starts from the same initial weights and visits
    the batches in the same order (`fit_many` seeds both); a configuration a
    flavour cannot express (torch has no Lion, the textbook RMSprop has no
    momentum) is listed under `skipped`.

    Returns:
        `{"labels": [config labels], "loss": {flavour: (10, S, E) array or None
        per config}, "texts": ..., "skipped": [...], "epochs": [...]}`; Keras's
        losses are under `"keras"`.
    """
    from simulator.moons import ARTICLE_CONFIGS
    from simulator.moons.training import fit_many

    runs: list[tuple[int, str, Optimizer]] = []
    skipped = []
    for i, config in enumerate(ARTICLE_CONFIGS):
        for prefix in ("keras", *flavours):
            try:
                entrant = build_comparison(config.text, [prefix]).entrants[0]
            except ValueError as err:
                skipped.append(f"{config.label} · {prefix}: {err}")
                continue
            runs.append((i, prefix, entrant.optimizer))
    epochs_list = [
        ARTICLE_CONFIGS[i].epochs if epochs is None else epochs for i, *_ in runs
    ]
    many = fit_many([opt for *_, opt in runs], seeds, epochs_list, 32)
    loss: dict[str, list[Any]] = {
        p: [None] * len(ARTICLE_CONFIGS) for p in ("keras", *flavours)
    }
    texts: dict[str, list[Any]] = {p: [None] * len(ARTICLE_CONFIGS) for p in loss}
    for k, (i, prefix, opt) in enumerate(runs):
        loss[prefix][i] = many.loss[k, :, : epochs_list[k]]
        texts[prefix][i] = opt.to_text()
    return {
        "labels": [c.label for c in ARTICLE_CONFIGS],
        "loss": loss,
        "texts": texts,
        "skipped": skipped,
        "seeds": list(seeds),
    }


def moons_deviation(result: dict[str, Any]) -> dict[str, list[float | None]]:
    """Per flavour and configuration: the largest `|log10(loss / keras loss)|`
    over epochs and seeds (how many decades the loss curve moved)."""
    out: dict[str, list[float | None]] = {}
    keras = result["loss"]["keras"]
    for prefix, losses in result["loss"].items():
        if prefix == "keras":
            continue
        out[prefix] = [
            None if lo is None else float(np.max(np.abs(np.log10(lo / k))))
            for lo, k in zip(losses, keras, strict=True)
        ]
    return out


def render_moons_comparison(result: dict[str, Any], out: str | Path) -> list[Path]:
    """Ten panels: each article configuration's loss curves, Keras and flavours."""
    labels = result["labels"]
    dev = moons_deviation(result)
    fig, axes = plt.subplots(2, 5, figsize=(17, 7), layout="constrained", sharey=True)
    prefixes = list(result["loss"])
    for i, ax in enumerate(axes.flat):
        for j, prefix in enumerate(prefixes):
            lo = result["loss"][prefix][i]
            if lo is None:
                continue
            epochs = np.arange(1, lo.shape[-1] + 1)
            name = "Keras" if prefix == "keras" else FLAVOURS[prefix].label
            if prefix != "keras":
                name += f" (max {dev[prefix][i]:.2f} dec)"
            style = series_style(j)
            ax.plot(
                epochs,
                lo[0],
                label=name,
                color=style["color"],
                linestyle=style["linestyle"],
            )
        ax.set_yscale("log")
        ax.set_title(labels[i], fontsize=10)
        ax.legend(fontsize=7, loc="upper right")
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"training loss (seed {result['seeds'][0]})")
    fig.suptitle(
        "The article's moons trainings as Keras, PyTorch and the textbook define "
        "the optimizers (same initial weights, same batches)"
    )
    config = {
        "moons_flavours": {
            "labels": labels,
            "texts": result["texts"],
            "skipped": result["skipped"],
            "seeds": result["seeds"],
            "max_decades_from_keras": dev,
            "final_loss": {
                p: [None if lo is None else lo[:, -1].tolist() for lo in losses]
                for p, losses in result["loss"].items()
            },
        }
    }
    written = save_figure(fig, out, config)
    plt.close(fig)
    return written


# ----------------------------------------------------------------- gallery
#: Gallery comparisons: (Keras text, flavours, surface, steps, caption).
GALLERY_COMPARISONS = (
    (
        "Adam(learning_rate=0.05)",
        ("keras", "torch", "optax", "textbook", "article"),
        "saddle",
        100,
        "Adam five ways from the same starts. torch, optax and Kingma & Ba put ε "
        "on the bias-corrected √v̂ (ε = 1e-8); Keras and the article put ε̂ = 1e-7 "
        "on the raw √v: near the ridge, where the gradient across it is tiny, that "
        "is enough to move the escape by about 1e-6.",
    ),
    (
        "RMSprop(learning_rate=0.01)",
        ("keras", "torch", "optax", "textbook", "article"),
        "himmelblau",
        300,
        "RMSprop: torch decays with α = 0.99 (Keras ρ = 0.9) and puts ε outside "
        "the square root; its paths leave Keras's within a few steps. optax with "
        "Keras's defaults differs only by ε = 1e-8 vs 1e-7 inside the root.",
    ),
    (
        "Adagrad(learning_rate=0.1)",
        ("keras", "torch", "optax", "textbook", "article"),
        "saddle",
        100,
        "Adagrad: Keras (and optax) start the accumulator at 0.1; torch, Duchi et "
        "al. and a literal reading of the article start at 0, so their first step "
        "is about lr·sign(g), a different path from step one.",
    ),
    (
        "SGD(learning_rate=0.0005, momentum=0.9, nesterov=True)",
        ("keras", "torch", "optax", "textbook", "article"),
        "rosenbrock",
        300,
        "Nesterov SGD: Keras keeps lr inside the velocity, torch and optax outside "
        "(w -= lr·(g + μ·b)); with a constant lr the two are the same rule, so the "
        "distance stays at rounding level. Sutskever et al. (2013) take the "
        "gradient at θ + μ·v and record θ; Keras records that look-ahead point "
        "itself, so the textbook path is Keras's shifted back by μ·v.",
    ),
)


def render_flavour_gallery(out: Path, *, quick: bool = False) -> list[tuple]:
    """The gallery's flavour races: `(title, files, caption)` per comparison."""
    entries = []
    for text, flavours, surface, steps, caption in GALLERY_COMPARISONS:
        name = text.split("(")[0].lower()
        if "nesterov=True" in text:
            name = "nesterov_sgd"
        files = compare(
            text,
            flavours,
            surface,
            Path(out) / f"flavours_{name}.png",
            steps=60 if quick else steps,
        )
        title = f"{text.split('(')[0]} as Keras, PyTorch, optax, the paper, the article"
        if "nesterov=True" in text:
            title = "Nesterov SGD as Keras, PyTorch, optax, the paper, the article"
        entries.append((title, files, caption))
    return entries
