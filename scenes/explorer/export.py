"""Explorer exports: the TOML spec, the PNG it renders, and an MP4 of the timeline."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from scenes.explorer.spec_export import fresh_stem
from scenes.spec import parse_spec
from simulator.metadata import jsonable, package_versions

__all__ = ["EXPORT_KINDS", "export", "write_video"]

EXPORT_KINDS = ("toml", "png", "mp4")
#: Every file an export may write next to its stem (none may exist yet).
_SUFFIXES = (".toml", ".png", ".json", ".mp4", ".npz")
#: Frames of an exported video (the timeline is sampled evenly).
VIDEO_FRAMES = 120
VIDEO_FPS = 30


def export(explorer: Any, directory: Path, kind: str) -> Path:
    """Writes `kind` (`"toml"`, `"png"` or `"mp4"`) for the explorer's state.

    Every kind writes the spec `explored[-N].toml` first; `"png"` then renders
    it with `optiscape render`'s own code path (so the PNG is what the spec
    reproduces), `"mp4"` animates the spec's race through the timeline.

    Returns:
        The file written for `kind`.
    """
    if kind not in EXPORT_KINDS:
        raise ValueError(
            f"`kind` must be one of {list(EXPORT_KINDS)}. Received: {kind!r}"
        )
    if not directory.is_dir():
        raise ValueError(
            f"`directory` must be an existing folder. Received: {directory}"
        )
    stem = fresh_stem(directory, "explored", _SUFFIXES)
    spec_path = stem.with_name(stem.name + ".toml")
    png = stem.with_name(stem.name + ".png")
    text = explorer.to_spec(out=str(png))
    spec_path.write_text(text)
    if kind == "toml":
        return spec_path
    spec = parse_spec(tomllib.loads(text), str(spec_path))
    if kind == "png":
        from scenes.render import render_spec

        render_spec(spec)
        return png
    mp4 = stem.with_name(stem.name + ".mp4")
    write_video(spec, mp4, text)
    return mp4


def write_video(spec: Any, path: Path, spec_text: str) -> Path:
    """An MP4 of the race a spec describes, the timeline from start to end.

    Frames are the explorer's own panels (paths, heads, glyphs, loss and
    internals with the cursor), blitted into an off-screen Agg canvas and piped
    to ffmpeg as raw RGBA; the spec and the run's metadata go into the MP4's
    `comment` tag.
    """
    from scenes.explorer.app import Explorer

    ffmpeg = shutil.which(matplotlib.rcParams["animation.ffmpeg_path"]) or shutil.which(
        "ffmpeg"
    )
    if ffmpeg is None:
        raise ValueError("MP4 export needs ffmpeg (apt install ffmpeg).")
    fig = Figure(figsize=(12.8, 7.2), dpi=100)
    FigureCanvasAgg(fig)
    surface = spec.surface.get("name") or spec.surface["expression"]
    ex = Explorer(
        surface,
        [o["text"] for o in spec.optimizers],
        spec.steps,
        spec.starts,
        noise=spec.noise,
        seed=spec.seed,
        glyph=(spec.render.get("glyphs") or ["none"])[0],
        figure=fig,
        widgets=False,
    )
    config = json.dumps(
        {
            "optiscape": jsonable({**ex.race.metadata, "spec": spec_text}),
            "versions": package_versions(),
        },
        sort_keys=True,
    )
    rows = len(ex.race.traces[0].steps_recorded)
    frames = np.unique(np.linspace(0, rows - 1, min(VIDEO_FRAMES, rows)).round())
    ex.refresh()
    width, height = fig.canvas.get_width_height()
    command = [
        ffmpeg,
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgba",
        "-s",
        f"{width}x{height}",
        "-r",
        str(VIDEO_FPS),
        "-i",
        "-",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-metadata",
        f"comment={config}",
        str(path),
    ]
    with subprocess.Popen(command, stdin=subprocess.PIPE) as proc:
        for row in frames:
            ex.set_row(int(row))
            ex.refresh()
            proc.stdin.write(bytes(fig.canvas.buffer_rgba()))
        proc.stdin.close()
        if proc.wait() != 0:
            raise ValueError(f"ffmpeg could not write {path} (exit {proc.returncode}).")
    return path
