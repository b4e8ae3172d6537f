"""Saving figures with their configuration: PNG/SVG/PDF metadata plus a JSON sidecar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from scenes.vocab import FIGURE_FORMATS
from simulator.metadata import jsonable, package_versions

__all__ = ["FORMATS", "read_png_config", "save_figure"]

FORMATS = FIGURE_FORMATS
PNG_KEY = "optiscape"


def save_figure(
    fig: Figure,
    path: str | Path,
    config: dict[str, Any],
    *,
    formats: tuple[str, ...] | None = None,
    dpi: int = 150,
) -> list[Path]:
    """Writes `fig` with its configuration embedded and beside it.

    The configuration (JSON) goes into the PNG text chunk `optiscape`, the SVG
    `Description` and the PDF `Subject`, and into `<path>.json` next to the image.

    Args:
        fig: the figure.
        path: output path; its suffix picks the format unless `formats` is given.
        config: JSON-able configuration of the run that produced the figure.
        formats: write these formats (same stem) instead of the suffix's.
        dpi: raster resolution for PNG.

    Returns:
        The image paths written (the sidecar is `<stem>.json`).
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if formats is None:
        if suffix not in FORMATS:
            raise ValueError(
                f"`out` must end in one of {', '.join('.' + f for f in FORMATS)}. "
                f"Received: out='{path}'"
            )
        formats = (suffix,)
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"Unknown format {fmt!r}; choose from {FORMATS}.")
    stem = path.with_suffix("") if suffix in FORMATS else path
    stem.parent.mkdir(parents=True, exist_ok=True)
    full = {"optiscape": jsonable(config), "versions": package_versions()}
    text = json.dumps(full, sort_keys=True)
    written = []
    for fmt in formats:
        out = stem.with_name(f"{stem.name}.{fmt}")
        metadata = {
            "png": {PNG_KEY: text, "Software": "optiscape"},
            "svg": {"Description": text, "Creator": "optiscape"},
            "pdf": {"Subject": text, "Creator": "optiscape"},
        }[fmt]
        fig.savefig(out, format=fmt, dpi=dpi, metadata=metadata)
        written.append(out)
    stem.with_name(f"{stem.name}.json").write_text(json.dumps(full, indent=1) + "\n")
    return written


def read_png_config(path: str | Path) -> dict[str, Any]:
    """The configuration embedded in a PNG written by `save_figure`."""
    from PIL import Image

    with Image.open(path) as image:
        text = image.text.get(PNG_KEY)
    if text is None:
        raise ValueError(f"'{path}' has no optiscape configuration.")
    return json.loads(text)
