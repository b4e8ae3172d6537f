"""Explorer exports: the TOML spec, and the PNG or MP4 `optiscape render` makes."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from scenes.explorer.spec_export import fresh_stem
from scenes.spec import parse_spec

__all__ = ["EXPORT_KINDS", "export"]

EXPORT_KINDS = ("toml", "png", "mp4")
#: Every file an export may write next to its stem (none may exist yet).
_SUFFIXES = (".toml", ".png", ".json", ".mp4", ".mp4.json", ".npz")


def export(explorer: Any, directory: Path, kind: str) -> Path:
    """Writes `kind` (`"toml"`, `"png"` or `"mp4"`) for the explorer's state.

    Every kind writes the spec `explored[-N].toml` first; `"png"` and `"mp4"`
    then render that spec with `optiscape render`'s own code path (the MP4
    through the spec's `[video]` table), so what is exported is exactly what
    the spec reproduces.

    Returns:
        The file written for `kind`.
    """
    if kind not in EXPORT_KINDS:
        raise ValueError(
            f"`kind` must be one of {list(EXPORT_KINDS)}. Received: kind={kind!r}"
        )
    if not directory.is_dir():
        raise ValueError(
            f"`directory` must be an existing folder. Received: {directory}"
        )
    stem = fresh_stem(directory, "explored", _SUFFIXES)
    spec_path = stem.with_name(stem.name + ".toml")
    png = stem.with_name(stem.name + ".png")
    mp4 = stem.with_name(stem.name + ".mp4")
    text = explorer.to_spec(out=str(png), video=str(mp4) if kind == "mp4" else None)
    spec_path.write_text(text)
    if kind == "toml":
        return spec_path
    from scenes.render import render_spec

    render_spec(parse_spec(tomllib.loads(text), str(spec_path)))
    return png if kind == "png" else mp4
