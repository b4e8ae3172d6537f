"""The explorer's state as a TOML race spec that `optiscape render` reproduces."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["fresh_stem", "race_spec_text"]


def _toml_value(value: Any) -> str:
    """A TOML literal for a str, bool, int, float or (nested) list."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a spec value must be finite. Received: {value!r}")
        return repr(value)  # shortest round-trip repr: parses back to the same float
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def race_spec_text(
    *,
    surface: dict[str, Any],
    optimizers: Sequence[tuple[str, str]],
    starts: Sequence[Sequence[float]],
    steps: int,
    noise: float,
    seed: int,
    out: str,
    title: str | None = None,
    glyphs: Sequence[str] = (),
    save_trace: bool = False,
    video: str | None = None,
) -> str:
    """TOML text of a race spec (`scenes.spec` format).

    Args:
        surface: `{"name": ...}` or `{"expression": ..., "view": ...}`.
        optimizers: `(text, label)` pairs in race order.
        starts: `[x, y]` start points.
        steps, noise, seed: the run.
        out: `[scene] out`, the file `optiscape render` writes.
        title: optional figure title.
        glyphs: `[render] glyphs` names.
        save_trace: also write the trace `.npz` next to `out`.
        video: a `[video] out` path: `optiscape render` also writes the video.
    """
    lines = ["# Written by the optiscape explorer: `optiscape render` this file.", ""]
    lines += ["[scene]", 'kind = "race"', f"out = {_toml_value(out)}"]
    if title:
        lines.append(f"title = {_toml_value(title)}")
    lines += ["", "[surface]"]
    for key in ("name", "expression", "view"):
        if surface.get(key) is not None:
            value = surface[key]
            if key == "view":
                value = [[float(a), float(b)] for a, b in value]
            lines.append(f"{key} = {_toml_value(value)}")
    lines += ["", "[run]", f"steps = {int(steps)}"]
    lines.append("starts = " + _toml_value([[float(x), float(y)] for x, y in starts]))
    lines += [f"noise = {_toml_value(float(noise))}", f"seed = {int(seed)}"]
    for text, label in optimizers:
        lines += ["", "[[optimizers]]", f"text = {_toml_value(text)}"]
        if label != text:
            lines.append(f"label = {_toml_value(label)}")
    render = {}
    if glyphs:
        render["glyphs"] = list(glyphs)
    if save_trace:
        render["save_trace"] = True
    if render:
        lines += ["", "[render]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in render.items()]
    if video is not None:
        lines += ["", "[video]", f"out = {_toml_value(video)}"]
        if glyphs:
            lines.append(f"glyphs = {_toml_value(list(glyphs))}")
    return "\n".join(lines) + "\n"


def fresh_stem(directory: str | Path, stem: str, suffixes: Sequence[str]) -> Path:
    """`directory/stem`, or `stem-1`, ...: the first for which no `stem + suffix`
    exists, so an export never overwrites a file (its own or anyone's)."""
    directory = Path(directory)
    candidate = directory / stem
    n = 1
    while any(candidate.with_name(candidate.name + s).exists() for s in suffixes):
        candidate = directory / f"{stem}-{n}"
        n += 1
    return candidate
