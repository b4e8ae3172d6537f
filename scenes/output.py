"""Every file the tool writes goes through here; none it did not write is replaced."""

# Three rules, decided in this one module for every writer (figures, sidecars,
# archives, the gallery page, videos):
#
# 1. Ownership. A path that exists may be replaced only if this tool wrote it
#    (`is_own_file`: the `optiscape` configuration embedded in a PNG text chunk,
#    an SVG/PDF `Creator`, a JSON sidecar's top-level key, an `.npz` archive's
#    metadata member, the gallery page's generator tag), or under `force()`
#    (the command line's `--force`). Writers of new formats register how their
#    files are recognised with `register_recogniser`.
# 2. All or nothing. Inside `writing()` every file goes to a hidden temporary
#    beside its target and is renamed into place only when the whole block
#    succeeds; a figure that fails to draw leaves no half of a set behind.
#    Nested `writing()` blocks join the outermost one.
# 3. Size. `save_figure` estimates the raster's pixels before drawing
#    (`simulator.budget`).
#
# Where a path may be is decided by the caller (`scenes.render.render_spec`
# keeps a spec's outputs inside the spec's directory, see `inside`).

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from scenes.vocab import FIGURE_FORMATS
from simulator.budget import DEFAULT_MEMORY_LIMIT, check
from simulator.metadata import jsonable, package_versions

__all__ = [
    "FORMATS",
    "MAX_DPI",
    "OutputRefused",
    "force",
    "inside",
    "is_own_file",
    "read_png_config",
    "register_recogniser",
    "save_figure",
    "target",
    "write_text",
    "writing",
]

FORMATS = FIGURE_FORMATS
PNG_KEY = "optiscape"
#: Upper bound on a raster's resolution (print quality is 300-600).
MAX_DPI = 2400
#: Bytes per pixel while a raster figure is drawn: the RGBA canvas, its copy for
#: the PNG encoder, and Agg's coverage buffers.
BYTES_PER_PIXEL = 12
#: The gallery page's marker (see `scenes.gallery`).
HTML_GENERATOR = '<meta name="generator" content="optiscape">'
#: The last line of the Markdown this tool writes (an HTML comment: invisible
#: when rendered), how `is_own_file` knows a `.md` may be overwritten.
MARKDOWN_GENERATOR = "<!-- generator: optiscape -->"


class OutputRefused(ValueError):
    """A path may not be written (not ours, or not where outputs may go)."""


# --------------------------------------------------------------- recognition


def _png_is_own(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as image:
        text = getattr(image, "text", {}) or {}
    return PNG_KEY in text or text.get("Software") == "optiscape"


def _json_is_own(path: Path) -> bool:
    if path.stat().st_size > 64 * 2**20:
        return False
    data = json.loads(path.read_text())
    return isinstance(data, dict) and "optiscape" in data


def _tail_or_head_has(path: Path, needle: bytes, span: int = 1 << 16) -> bool:
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(span)
        f.seek(max(0, size - span))
        tail = f.read(span)
    return needle in head or needle in tail


def _svg_is_own(path: Path) -> bool:
    return _tail_or_head_has(path, b"<dc:title>optiscape</dc:title>")


def _pdf_is_own(path: Path) -> bool:
    return _tail_or_head_has(path, b"/Creator (optiscape)")


def _npz_is_own(path: Path) -> bool:
    with zipfile.ZipFile(path) as z:
        return "__metadata__.npy" in z.namelist()


def _html_is_own(path: Path) -> bool:
    return _tail_or_head_has(path, HTML_GENERATOR.encode())


def _markdown_is_own(path: Path) -> bool:
    return _tail_or_head_has(path, MARKDOWN_GENERATOR.encode())


def _video_is_own(path: Path) -> bool:
    """An mp4/webm with this tool's configuration in its comment tag (the JSON
    key `"optiscape"` is near the head with faststart, or the tail), or a GIF
    (which has no comment tag) whose sidecar `<file>.json` is this tool's."""
    if _tail_or_head_has(path, b'"optiscape"', span=1 << 20):
        return True
    sidecar = path.with_name(path.name + ".json")
    return sidecar.is_file() and _json_is_own(sidecar)


_RECOGNISERS: dict[str, Callable[[Path], bool]] = {
    ".png": _png_is_own,
    ".json": _json_is_own,
    ".svg": _svg_is_own,
    ".pdf": _pdf_is_own,
    ".npz": _npz_is_own,
    ".html": _html_is_own,
    ".md": _markdown_is_own,
    ".mp4": _video_is_own,
    ".webm": _video_is_own,
    ".gif": _video_is_own,
}


def register_recogniser(suffix: str, recognise: Callable[[Path], bool]) -> None:
    """Tells `is_own_file` how to recognise this tool's files ending in `suffix`.

    Args:
        suffix: e.g. ".mp4" (case-insensitive).
        recognise: path -> True when the file carries this tool's configuration.
            Exceptions count as "not ours".
    """
    _RECOGNISERS[suffix.lower()] = recognise


def is_own_file(path: str | Path) -> bool:
    """True if `path` is a regular file this tool wrote (its embedded config)."""
    path = Path(path)
    recognise = _RECOGNISERS.get(path.suffix.lower())
    if recognise is None or not path.is_file():
        return False
    try:
        return bool(recognise(path))
    except Exception:  # unreadable or damaged: certainly not provably ours
        return False


# ------------------------------------------------------------------- policy

_FORCE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "optiscape_force", default=False
)


@contextlib.contextmanager
def force(enabled: bool = True) -> Iterator[None]:
    """Within this block, files this tool did not write may be overwritten."""
    token = _FORCE.set(bool(enabled))
    try:
        yield
    finally:
        _FORCE.reset(token)


def inside(path: str | Path, root: str | Path, *, what: str, allow: bool) -> Path:
    """`path` resolved against `root`; refused if it leaves `root` (unless `allow`).

    Args:
        path: relative (to `root`) or absolute path.
        root: the directory outputs must stay in (e.g. the spec's directory).
        what: names the setting in the refusal, e.g. "spec.toml: [scene] out".
        allow: permit paths outside `root` (the command line said so).
    """
    root = Path(root).resolve()
    resolved = (root / Path(path)).resolve()
    if not allow and not resolved.is_relative_to(root):
        raise OutputRefused(
            f"{what} = {str(path)!r} leaves the spec's directory ({root}). A spec "
            "writes only beside itself; give a path inside it, --out on the "
            "command line, or --allow-outside."
        )
    return resolved


def claim(path: str | Path) -> Path:
    """Checks that `path` may be written now; returns it.

    Raises:
        OutputRefused: it is a directory, or a file this tool did not write
            (and `force` is off).
    """
    path = Path(path)
    if path.is_dir():
        raise OutputRefused(f"Cannot write '{path}': it is a directory.")
    if (path.exists() or path.is_symlink()) and not _FORCE.get():
        if path.is_symlink() or not is_own_file(path):
            raise OutputRefused(
                f"Refusing to overwrite '{path}': this tool did not write it. "
                "Choose another output path, move the file, or pass --force."
            )
    return path


# -------------------------------------------------------------- transaction


@dataclass
class _Transaction:
    """Temporary file -> target, renamed on success."""

    pending: dict[Path, Path] = field(default_factory=dict)

    def target(self, path: Path) -> Path:
        path = claim(path)
        if path in self.pending:
            return self.pending[path]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
        self.pending[path] = tmp
        return tmp

    def commit(self) -> None:
        for path, tmp in self.pending.items():
            if tmp.exists():
                os.replace(tmp, path)

    def abort(self) -> None:
        for tmp in self.pending.values():
            tmp.unlink(missing_ok=True)


_TRANSACTION: contextvars.ContextVar[_Transaction | None] = contextvars.ContextVar(
    "optiscape_transaction", default=None
)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """All files written through `target` in this block appear together, or none."""
    if _TRANSACTION.get() is not None:  # joins the outer block
        yield
        return
    tx = _Transaction()
    token = _TRANSACTION.set(tx)
    try:
        yield
    except BaseException:
        tx.abort()
        raise
    else:
        try:
            tx.commit()
        except BaseException:
            tx.abort()
            raise
    finally:
        _TRANSACTION.reset(token)


def target(path: str | Path) -> Path:
    """Where to write `path` now: checked by `claim`, a temporary inside `writing`.

    Outside a `writing()` block the path itself is returned (after `claim`).
    """
    tx = _TRANSACTION.get()
    if tx is None:
        path = claim(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    return tx.target(Path(path))


def write_text(path: str | Path, text: str) -> Path:
    """Writes `text` to `path` under the rules above."""
    with writing():
        target(path).write_text(text)
    return Path(path)


# ------------------------------------------------------------------ figures


def check_raster(fig: Figure, dpi: float, limit: Any = DEFAULT_MEMORY_LIMIT) -> None:
    """Refuses a dpi above `MAX_DPI` or a raster that would not fit `limit`."""
    if (
        isinstance(dpi, bool)
        or not isinstance(dpi, (int, float))
        or not (1 <= dpi <= MAX_DPI)
    ):
        raise ValueError(
            f"`dpi` must be a number in [1, {MAX_DPI}]. Received: dpi={dpi!r}"
        )
    w, h = fig.get_size_inches()
    pixels = float(w * dpi) * float(h * dpi)
    check(
        pixels * BYTES_PER_PIXEL,
        limit,
        f"A {w:.3g} x {h:.3g} inch figure at dpi={dpi:g} "
        f"({w * dpi:,.0f} x {h * dpi:,.0f} pixels)",
        "a lower dpi or a smaller size",
    )


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
    Every path is checked before anything is drawn (`claim`), and the files are
    written as one `writing()` set.

    Args:
        fig: the figure.
        path: output path; its suffix picks the format unless `formats` is given.
        config: JSON-able configuration of the run that produced the figure.
        formats: write these formats (same stem) instead of the suffix's.
        dpi: raster resolution for PNG (at most `MAX_DPI`).

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
    check_raster(fig, dpi)
    stem = path.with_suffix("") if suffix in FORMATS else path
    outs = [stem.with_name(f"{stem.name}.{fmt}") for fmt in formats]
    sidecar = stem.with_name(f"{stem.name}.json")
    for p in (*outs, sidecar):  # refuse before drawing anything
        claim(p)
    full = {"optiscape": jsonable(config), "versions": package_versions()}
    text = json.dumps(full, sort_keys=True)
    with writing():
        for fmt, out in zip(formats, outs, strict=True):
            metadata = {
                "png": {PNG_KEY: text, "Software": "optiscape"},
                "svg": {"Description": text, "Creator": "optiscape"},
                "pdf": {"Subject": text, "Creator": "optiscape"},
            }[fmt]
            fig.savefig(target(out), format=fmt, dpi=dpi, metadata=metadata)
        target(sidecar).write_text(json.dumps(full, indent=1) + "\n")
    return outs


def read_png_config(path: str | Path) -> dict[str, Any]:
    """The configuration embedded in a PNG written by `save_figure`."""
    from PIL import Image

    with Image.open(path) as image:
        text = image.text.get(PNG_KEY)
    if text is None:
        raise ValueError(f"'{path}' has no optiscape configuration.")
    return json.loads(text)
