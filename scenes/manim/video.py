"""A scene rendered to the mp4 asked for, its configuration inside and beside."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from scenes.manim import MissingDependency, require_video
from scenes.output import claim
from simulator.metadata import jsonable, package_versions

__all__ = ["check_request", "probe", "read_video_config", "render_scene"]

COMMENT_KEY = "optiscape"


def _ffmpeg(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise MissingDependency(
            f"`{tool}` was not found; install it with: sudo apt-get install ffmpeg"
        )
    return path


def probe(path: str | Path) -> dict[str, Any]:
    """ffprobe's format and first video stream of `path` (JSON)."""
    out = subprocess.run(
        [
            _ffmpeg("ffprobe"),
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            "-select_streams",
            "v:0",
            "-count_frames",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise ValueError(f"'{path}' is not a readable video: {out.stderr.strip()}")
    return json.loads(out.stdout)


def read_video_config(path: str | Path) -> dict[str, Any]:
    """The configuration embedded in an mp4 written by `render_scene`."""
    tags = probe(path).get("format", {}).get("tags", {})
    text = tags.get("comment")
    try:
        data = json.loads(text) if text else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or COMMENT_KEY not in data:
        raise ValueError(f"'{path}' has no optiscape configuration.")
    return data


def _check_out(out: Path) -> None:
    if out.suffix.lower() != ".mp4":
        raise ValueError(f"`out` must end in .mp4. Received: out='{out}'")
    claim(out)  # never a file this tool did not write (scenes.output's rule)


def check_request(out: str | Path, quality: str) -> Path:
    """Checks `out` and `quality` before anything is imported or rendered.

    Raises:
        ValueError: `out` not an .mp4 or a file optiscape did not write; an
            unknown quality.
    """
    from scenes.manim.config import QUALITIES

    out = Path(out)
    _check_out(out)
    if quality not in QUALITIES:
        raise ValueError(
            f"`quality` must be one of {', '.join(QUALITIES)}. "
            f"Received: quality={quality!r}"
        )
    return out


def render_scene(
    scene: type, out: str | Path, *, quality: str = "low", extra: dict | None = None
) -> Path:
    """Renders `scene` (a `TraceScene` class) into `out` (.mp4) and `out`.json.

    Manim renders into a temporary media directory through `tempconfig` (our
    `manim.cfg`'s `[CLI]` keys plus the quality); the movie is then copied to
    `out` with the full configuration in its `comment` tag, and written beside
    it as JSON (the `scenes.output` convention: `{"optiscape": ..., "versions":
    ...}`).

    Args:
        scene: the scene class (possibly `Scene.configured(...)`).
        out: the mp4 path; its directory is created.
        quality: `"low"` (854x480, 15 fps), `"medium"`, `"high"` or `"4k"`.
        extra: more configuration to record (e.g. the spec a video came from).

    Returns:
        `out`.

    Raises:
        ValueError: bad `out` or `quality`, or a file not ours at `out`.
        MissingDependency: Manim, Typst or ffmpeg is missing.
    """
    from scenes.manim.config import manim_config

    out = check_request(out, quality)
    require_video()
    ffmpeg = _ffmpeg("ffmpeg")
    import manim

    config = {
        **scene.scene_config(),
        "quality": quality,
        **(extra or {}),
    }
    with tempfile.TemporaryDirectory(prefix="optiscape-manim-") as tmp:
        with manim.tempconfig(manim_config(quality, tmp, "scene")):
            config["manim"] = {
                "pixel_width": manim.config.pixel_width,
                "pixel_height": manim.config.pixel_height,
                "frame_rate": manim.config.frame_rate,
                "background_color": str(manim.config.background_color),
            }
            instance = scene()
            instance.render()
            movie = Path(instance.renderer.file_writer.movie_file_path)
        full = {COMMENT_KEY: jsonable(config), "versions": package_versions()}
        text = json.dumps(full, sort_keys=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = Path(tmp) / "final.mp4"
        done = subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-y",
                "-i",
                str(movie),
                "-c",
                "copy",
                "-metadata",
                f"comment={text}",
                str(tmp_out),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise OSError(f"ffmpeg could not write the video: {done.stderr.strip()}")
        shutil.move(tmp_out, out)
    # `<file>.json` (nesterov.mp4.json), as every video's sidecar: a figure of
    # the same stem keeps its own `.json`.
    out.with_name(out.name + ".json").write_text(json.dumps(full, indent=1) + "\n")
    return out
