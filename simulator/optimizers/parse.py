"""Builds optimizers from Keras-style text that users copy; it is never eval'd."""

from __future__ import annotations

import ast
import difflib
import inspect
import keyword
import re
from typing import Any

from simulator.optimizers.base import Optimizer
from simulator.optimizers.flavours import FLAVOURS, flavour_registry

__all__ = ["get", "parse"]

MAX_LENGTH = 2000
_OPTIMIZER_PREFIXES = ("tf.keras.optimizers.", "keras.optimizers.", "optimizers.")
_SCHEDULE_PREFIXES = (
    "tf.keras.optimizers.schedules.",
    "keras.optimizers.schedules.",
    "optimizers.schedules.",
    "schedules.",
)
# A flavour prefix: `torch:`, `optax:`, `textbook:`, `article:` (or `keras:`).
_PREFIX = re.compile(r"([A-Za-z_]\w*)\s*:\s*")


def _registry() -> dict[str, type[Optimizer]]:
    from simulator.optimizers import ALL_OPTIMIZERS

    return {cls.__name__: cls for cls in ALL_OPTIMIZERS}


def _schedules() -> dict[str, type]:
    from simulator.schedules import SCHEDULES

    return SCHEDULES


def _typo_distance(a: str, b: str) -> int:
    """Edit distance counting a swap of adjacent letters as one edit (OSA)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def _call_name(cls: type) -> str:
    """`Adam`, or `torch:Adam` for a flavour class (as the user wrote it)."""
    flavour = getattr(cls, "flavour", None)
    return f"{flavour.prefix}:{cls.public_name}" if flavour else cls.__name__


def _suggest(word: str, choices: list[str]) -> str:
    lowered = {c.lower(): c for c in choices}
    word = word.lower()
    # A one- or two-letter typo (a swap counts as one: "Adma" -> "Adam") wins over
    # difflib's longest-common-block similarity, which prefers "Adamax" there.
    typos = sorted((_typo_distance(word, c), c) for c in lowered)
    if typos and typos[0][0] <= min(2, len(word) // 3):
        return f" Did you mean '{lowered[typos[0][1]]}'?"
    match = difflib.get_close_matches(word, list(lowered), n=1, cutoff=0.5)
    return f" Did you mean '{lowered[match[0]]}'?" if match else ""


def _where(node: ast.AST, text: str) -> str:
    col = getattr(node, "col_offset", None)
    return f" at column {col + 1} of {text!r}" if col is not None else f" in {text!r}"


def _dotted(node: ast.AST) -> str | None:
    """`a.b.C` as a string for Name/Attribute chains, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _strip(name: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class _Builder:
    """Turns a validated call tree into objects; refuses anything but literals.

    `registry` is the optimizer names the call may use (Keras's by default, a
    flavour's after a prefix such as `torch:`).
    """

    def __init__(
        self, text: str, registry: dict[str, type] | None = None, prefix: str = ""
    ):
        self.text = text
        self.registry = registry
        self.prefix = prefix

    def refuse(self, what: str, node: ast.AST) -> ValueError:
        return ValueError(
            f"Refused {what}{_where(node, self.text)}: only literal "
            "numbers, strings, True/False/None, lists and schedule "
            "calls are allowed."
        )

    def value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool | int | float | str) or node.value is None:
                return node.value
            raise self.refuse(f"the constant {node.value!r}", node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.value(node.operand)
            if isinstance(inner, bool) or not isinstance(inner, int | float):
                raise self.refuse("a sign on a non-number", node)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.List | ast.Tuple):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.Call):
            return self.call(node, schedules_only=True)
        kinds = {
            ast.Name: "the name",
            ast.Attribute: "attribute access",
            ast.Subscript: "subscripts",
            ast.Lambda: "a lambda",
            ast.BinOp: "arithmetic",
            ast.Dict: "a dict",
            ast.JoinedStr: "an f-string",
        }
        for kind, label in kinds.items():
            if isinstance(node, kind):
                extra = f" '{node.id}'" if isinstance(node, ast.Name) else ""
                raise self.refuse(label + extra, node)
        raise self.refuse(f"a {type(node).__name__} expression", node)

    def call(self, node: ast.Call, *, schedules_only: bool = False) -> Any:
        name = _dotted(node.func)
        if name is None:
            raise self.refuse("a call of a computed object", node)
        schedules = _schedules()
        sched_name = _strip(name, _SCHEDULE_PREFIXES)
        if sched_name in schedules:
            cls = schedules[sched_name]
            kind = "schedule"
        elif schedules_only:
            raise ValueError(
                f"Unknown learning-rate schedule '{name}'{_where(node, self.text)}."
                f"{_suggest(sched_name, list(schedules))} Available: "
                f"{', '.join(schedules)}."
            )
        else:
            registry = self.registry or _registry()
            opt_name = _strip(name, _OPTIMIZER_PREFIXES)
            cls = registry.get(opt_name) or {
                k.lower(): v for k, v in registry.items()
            }.get(opt_name.lower())
            if cls is None:
                raise ValueError(
                    f"Unknown optimizer '{self.prefix}{name}'."
                    f"{_suggest(opt_name, list(registry))} "
                    f"Available: {', '.join(registry)}."
                )
            kind = "optimizer"
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.refuse("*args", arg)
        args = [self.value(a) for a in node.args]
        kwargs = {}
        params = [
            p
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        names = [p.name for p in params]
        for kw in node.keywords:
            if kw.arg is None:
                raise self.refuse("**kwargs", kw.value)
            if kw.arg not in names and kw.arg != "decay":
                raise ValueError(
                    f"{_call_name(cls)}() got an unexpected argument '{kw.arg}'."
                    f"{_suggest(kw.arg, names)} Arguments: {', '.join(names)}."
                )
            if kw.arg in kwargs:
                raise ValueError(f"{_call_name(cls)}() got argument '{kw.arg}' twice.")
            kwargs[kw.arg] = self.value(kw.value)
        if len(args) > len(names):
            raise ValueError(
                f"{_call_name(cls)}() takes at most {len(names)} positional arguments "
                f"({', '.join(names)}); received {len(args)}."
            )
        for pos_name in names[: len(args)]:
            if pos_name in kwargs:
                raise ValueError(
                    f"{_call_name(cls)}() got argument '{pos_name}' both by position "
                    "and by keyword."
                )
        try:
            return cls(*args, **kwargs)
        except TypeError as exc:  # e.g. a list where a number belongs
            raise ValueError(
                f"Invalid arguments for {kind} {_call_name(cls)}: {exc}"
            ) from None


def _flavour_prefix(text: str) -> tuple[dict[str, type] | None, str, str]:
    """Splits `torch:Adam(...)` into the torch registry and `Adam(...)`.

    Returns `(registry, rest, "torch:")`; no prefix or `keras:` gives
    `(None, text, "")`: Keras's own registry.
    """
    match = _PREFIX.match(text)
    if match is None or keyword.iskeyword(match.group(1)):  # `lambda: ...` is code
        return None, text, ""
    prefix, rest = match.group(1), text[match.end() :]
    if prefix == "keras":
        return None, rest, ""
    if prefix not in FLAVOURS:
        choices = ["keras", *FLAVOURS]
        raise ValueError(
            f"Unknown flavour prefix '{prefix}:' in {text!r}."
            f"{_suggest(prefix, choices)} Available: {', '.join(choices)}."
        )
    return flavour_registry(prefix), rest, f"{prefix}:"


def parse(text: str) -> Optimizer:
    """Builds an optimizer from Keras-style text, e.g. `"SGD(0.01, momentum=0.9)"`.

    Accepts positional and keyword arguments, `keras.optimizers.` prefixes and
    nested schedules (`"Adam(learning_rate=CosineDecay(0.05, 150, alpha=0.1))"`).
    A flavour prefix selects another framework's rule and names:
    `"torch:Adam(lr=0.05, betas=(0.8, 0.99))"`, `"optax:adam(0.05)"`,
    `"textbook:Adam()"`, `"article:Adagrad(0.1)"`.
    The text is parsed with `ast`; only literals and whitelisted calls are
    accepted and nothing is evaluated.

    Raises:
        ValueError: naming what was wrong and where, with the closest name for a
            misspelt optimizer, schedule or argument.
    """
    if not isinstance(text, str):
        raise ValueError(f"Optimizer text must be a string. Received: {text!r}")
    stripped = text.strip()
    if not stripped:
        raise ValueError("Optimizer text is empty.")
    if len(stripped) > MAX_LENGTH:
        raise ValueError(
            f"Optimizer text is too long ({len(stripped)} characters; the limit is "
            f"{MAX_LENGTH})."
        )
    registry, body_text, prefix = _flavour_prefix(stripped)
    try:
        tree = ast.parse(body_text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(
            f"Could not parse optimizer text {stripped!r}: {exc.msg} "
            f"(column {exc.offset})."
        ) from None
    except (RecursionError, MemoryError):
        raise ValueError(
            f"Optimizer text {stripped[:60]!r}... is nested too deeply."
        ) from None
    body = tree.body
    builder = _Builder(body_text, registry, prefix)
    if isinstance(body, ast.Name | ast.Attribute):
        name = _dotted(body)
        if name is not None:
            if registry is not None:
                return _lookup(name, registry)()
            return get(_strip(name, _OPTIMIZER_PREFIXES))
    if not isinstance(body, ast.Call):
        raise ValueError(
            f"Expected an optimizer call such as 'Adam(learning_rate=0.01)'. "
            f"Received: {stripped!r}"
        )
    return builder.call(body)


def get(identifier: Any) -> Optimizer:
    """Keras `optimizers.get`: an instance, a name (`"adam"`), text or a config dict.

    Names are case-insensitive and give an optimizer with Keras's defaults.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"A config dict needs 'class_name'. Received: {identifier}"
            )
        cls = _lookup(str(identifier["class_name"]))
        return cls(**dict(identifier.get("config", {})))
    if isinstance(identifier, str):
        if "(" in identifier or ":" in identifier:
            return parse(identifier)
        return _lookup(identifier.strip())()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def _lookup(name: str, registry: dict[str, type] | None = None) -> type[Optimizer]:
    registry = registry or _registry()
    by_lower = {k.lower(): v for k, v in registry.items()}
    cls = by_lower.get(_strip(name, _OPTIMIZER_PREFIXES).lower())
    if cls is None:
        raise ValueError(
            f"Unknown optimizer '{name}'.{_suggest(name, list(registry))} "
            f"Available: {', '.join(registry)}."
        )
    return cls
