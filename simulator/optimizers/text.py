"""Constructor text for legends, titles and `parse`: one writer for every optimizer."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "constructor_text",
    "legend_labels",
    "same_value",
    "snake_case",
    "value_text",
]


def snake_case(name: str) -> str:
    """Keras's `to_snake_case` (`AdamW` -> `adam_w`), without its uniquifying."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def same_value(a: Any, b: Any) -> bool:
    """Whether an argument equals its default (arrays never do; NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, tuple) and isinstance(b, tuple):  # torch's betas
        return len(a) == len(b) and all(map(same_value, a, b))
    return type(a) is type(b) and a == b


def value_text(value: Any) -> str:
    """An argument as literal text `parse` reads back (arrays as lists)."""
    if isinstance(value, np.ndarray):
        return repr(value.tolist())
    if isinstance(value, tuple):  # torch's betas, possibly holding arrays
        inner = ", ".join(value_text(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if hasattr(value, "to_text"):
        return value.to_text()
    return repr(value)


def constructor_text(
    call: str,
    config: Mapping[str, Any],
    defaults: Mapping[str, Any],
    *,
    always: tuple[str, ...] = (),
    default_name: str | None = None,
) -> str:
    """`call(key=value, ...)` listing the arguments that differ from `defaults`.

    Args:
        call: what precedes the parenthesis, e.g. `"Adam"` or `"torch:Adam"`.
        config: every constructor argument.
        defaults: default values; equal arguments are left out.
        always: arguments written even at their default (the learning rate: a
            legend that omits it reads as if it were unknown).
        default_name: the `name` argument's default, left out when equal.
    """
    parts = []
    for key, value in config.items():
        if key == "name" and value == default_name:
            continue
        if key not in always and key in defaults and same_value(value, defaults[key]):
            continue
        parts.append(f"{key}={value_text(value)}")
    return f"{call}({', '.join(parts)})"


def legend_labels(optimizers: Sequence[Any]) -> list[str]:
    """Legend labels of optimizers run together: the one vocabulary of every
    figure, video, Manim scene and `compare`.

    Only Keras optimizers: each one's text (`Adam(learning_rate=0.05)`). With a
    flavour among them: `Optimizer.label`, the name and its framework (`Adam ·
    Keras`, `Adam · PyTorch`, `adam · optax`); a name that occurs twice gets
    its arguments (`Adam · PyTorch (lr=0.05)`). The full text is always in the
    trace metadata (`optimizer.text`).
    """
    if not any(getattr(o, "flavour", None) is not None for o in optimizers):
        return [o.to_text() for o in optimizers]
    names = [o.label for o in optimizers]
    labels = []
    for opt, name in zip(optimizers, names, strict=True):
        if names.count(name) > 1:
            arguments = opt.to_text().partition("(")[2][:-1]
            name = f"{name} ({arguments})" if arguments else name
        labels.append(name)
    return labels
