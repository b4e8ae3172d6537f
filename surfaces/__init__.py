"""Analytic 2D loss surfaces, a name registry and safe user expressions."""

from __future__ import annotations

import difflib
from typing import Any

from surfaces.analytic import BUILTIN
from surfaces.base import CriticalPoint, Surface, as_points
from surfaces.discover import find_minima, with_minima
from surfaces.expression import check_not_degenerate, from_expression

__all__ = [
    "SURFACES",
    "CriticalPoint",
    "Surface",
    "as_points",
    "check_not_degenerate",
    "find_minima",
    "from_config",
    "from_expression",
    "get",
    "names",
    "resolve",
    "with_minima",
]

SURFACES: dict[str, Surface] = {s.name: s for s in BUILTIN}


def names() -> list[str]:
    """Registered surface names, sorted."""
    return sorted(SURFACES)


def _unknown(name: str) -> ValueError:
    close = difflib.get_close_matches(name.lower(), names(), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(
        f"Unknown surface {name!r}.{hint} Available: {', '.join(names())}"
    )


def get(name: str | Surface) -> Surface:
    """Return the registered surface `name` (a Surface instance passes through).

    Raises:
        ValueError: unknown name, with the closest registered name suggested.
    """
    if isinstance(name, Surface):
        return name
    if not isinstance(name, str):
        raise ValueError(f"Surface name must be a string. Received: {name!r}")
    try:
        return SURFACES[name]
    except KeyError:
        raise _unknown(name) from None


def resolve(spec: str | Surface | dict[str, Any]) -> Surface:
    """A Surface from a registered name, an expression text, a config or itself.

    A bare identifier that is neither registered nor a valid expression (only
    `x`, `y`, `pi`, `e` are) is reported as an unknown surface with a suggestion,
    so a typo like `"rosenbrok"` gets "Did you mean 'rosenbrock'?". The
    `"expr:<text>"` names of expression surfaces resolve to the expression.
    """
    if isinstance(spec, Surface):
        return spec
    if isinstance(spec, dict):
        return from_config(spec)
    if not isinstance(spec, str):
        raise ValueError(f"Cannot make a surface from {spec!r}.")
    text = spec.strip()
    if text.startswith("expr:"):  # the name an expression surface carries
        return from_expression(text[len("expr:") :])
    if text in SURFACES:
        return SURFACES[text]
    if text.isidentifier() and text not in ("x", "y", "pi", "e"):
        raise _unknown(text)
    return check_not_degenerate(from_expression(spec), text)


def from_config(config: dict[str, Any]) -> Surface:
    """Rebuild a surface from `Surface.to_config()` output."""
    if not isinstance(config, dict):
        raise ValueError(f"`config` must be a dict. Received: config={config!r}")
    if "expression" in config:
        return from_expression(
            config["expression"], name=config.get("name"), view=config.get("view")
        )
    if "name" in config:
        return get(config["name"])
    raise ValueError(
        f"`config` needs a 'name' or an 'expression' key. Received: config={config!r}"
    )
