"""Our `manim.cfg` keys (validated: Manim ignores unknown ones); quality presets."""

from __future__ import annotations

import configparser
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CFG_PATH",
    "QUALITIES",
    "Style",
    "load_style",
    "manim_config",
]

#: The `manim.cfg` beside the scenes.
CFG_PATH = Path(__file__).with_name("manim.cfg")

#: Our quality names -> Manim's (`low` is 854x480 at 15 fps, Manim's `-ql`).
QUALITIES = {
    "low": "low_quality",
    "medium": "medium_quality",
    "high": "high_quality",
    "4k": "fourk_quality",
}

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class Style:
    """The `[optiscape]` section of `manim.cfg`.

    Attributes:
        landscape_oversample: landscape image pixels per output pixel (0.5..4).
        trail_width: trail stroke width (Manim stroke units, 0.5..12).
        marker_radius: particle marker radius in scene units (0.02..0.3).
        ink: text and outline colour, `#RRGGBB`.
    """

    landscape_oversample: float = 1.5
    trail_width: float = 3.0
    marker_radius: float = 0.085
    ink: str = "#1B1B1B"


_RANGES = {
    "landscape_oversample": (0.5, 4.0),
    "trail_width": (0.5, 12.0),
    "marker_radius": (0.02, 0.3),
}


def load_style(path: str | Path = CFG_PATH) -> Style:
    """Reads and validates the `[optiscape]` section of a `manim.cfg`.

    Raises:
        ValueError: unknown key, or a value of the wrong type or range (one line
            naming the file, the key and the value).
    """
    parser = configparser.ConfigParser(
        inline_comment_prefixes=None
    )  # "#" starts colours
    parser.optionxform = str  # keys are case-sensitive, as written
    if not parser.read(path):
        raise ValueError(f"Cannot read the Manim configuration '{path}'.")
    if not parser.has_section("optiscape"):
        return Style()
    values: dict[str, Any] = {}
    allowed = Style.__dataclass_fields__
    for key, raw in parser.items("optiscape"):
        if key not in allowed:
            raise ValueError(
                f"{path}: [optiscape] {key}: unknown key (allowed: "
                f"{', '.join(allowed)}). Received: {key}={raw!r}"
            )
        if key == "ink":
            if not _COLOR.fullmatch(raw):
                raise ValueError(
                    f"{path}: [optiscape] `ink` must be a colour #RRGGBB. "
                    f"Received: ink={raw!r}"
                )
            values[key] = raw
            continue
        lo, hi = _RANGES[key]
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if not lo <= number <= hi:
            raise ValueError(
                f"{path}: [optiscape] `{key}` must be a number in [{lo}, {hi}]. "
                f"Received: {key}={raw!r}"
            )
        values[key] = number
    return Style(**values)


def _manim_cli_section(path: Path, section: str = "CLI") -> dict[str, str]:
    """The keys of Manim's own `section` of `path` (passed to `tempconfig`)."""
    parser = configparser.ConfigParser(inline_comment_prefixes=None)
    parser.optionxform = str
    parser.read(path)
    return dict(parser.items(section)) if parser.has_section(section) else {}


def manim_config(
    quality: str, media_dir: str | Path, output_file: str, path: Path = CFG_PATH
) -> dict[str, Any]:
    """The dict for `manim.tempconfig`: our `manim.cfg`'s `[CLI]` plus the run's keys.

    Args:
        quality: one of `QUALITIES` (`"low"`, `"medium"`, `"high"`, `"4k"`).
        media_dir: Manim's working directory for this render (partial movies).
        output_file: file name (no suffix) of the movie inside `media_dir`.

    Raises:
        ValueError: unknown quality.
    """
    if quality not in QUALITIES:
        raise ValueError(
            f"`quality` must be one of {', '.join(QUALITIES)}. "
            f"Received: quality={quality!r}"
        )
    cfg: dict[str, Any] = {}
    for key, value in _manim_cli_section(path).items():
        cfg[key] = {"true": True, "false": False}.get(value.lower(), value)
    # x264 options (e.g. the preset: encoding is most of a -ql frame's cost).
    options = _manim_cli_section(path, "video_encoder.options")
    if options:
        cfg["video_encoder_options"] = options
    cfg.update(
        quality=QUALITIES[quality],
        media_dir=str(media_dir),
        output_file=output_file,
        write_to_movie=True,
        save_last_frame=False,
        verbosity="ERROR",
        preview=False,
    )
    return cfg


def style_dict(style: Style) -> dict[str, Any]:
    """`Style` as a JSON-able dict (stored in every video's configuration)."""
    return asdict(style)
