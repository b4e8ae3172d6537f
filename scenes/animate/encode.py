"""Frame sinks: raw RGBA frames into mp4/gif/webm (ffmpeg), an HTML player or PNGs.

The container formats go through matplotlib's `FFMpegWriter`, which builds the
ffmpeg command line (rawvideo on a pipe, yuv420p for H.264, a palette for GIF,
metadata tags); frames are written straight from the canvas buffer instead of
through `grab_frame`, which would redraw the whole figure with `savefig`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from matplotlib.animation import FFMpegWriter
from matplotlib.figure import Figure

from scenes.output import HTML_GENERATOR
from scenes.vocab import VIDEO_FORMATS

__all__ = [
    "FrameSink",
    "MissingTool",
    "ffmpeg_available",
    "open_sink",
    "require_ffmpeg",
    "video_format",
]

#: Extra ffmpeg output arguments per format (after matplotlib's own).
_FFMPEG_ARGS = {
    # x264 "ultrafast" at CRF 20: visually lossless for flat plots, and the only
    # preset that keeps up with the ~15 ms/frame renderer on the second core
    # (files are ~3x larger than "veryfast"); faststart lets browsers play at once.
    "mp4": ["-preset", "ultrafast", "-crf", "20", "-movflags", "+faststart"],
    "gif": ["-loop", "0"],
    # VP9 in constant-quality mode; realtime deadline keeps encoding cheap.
    "webm": [
        "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "34", "-deadline", "realtime",
        "-cpu-used", "8", "-row-mt", "1", "-pix_fmt", "yuv420p",
    ],
}  # fmt: skip


def video_format(out: str | Path) -> str:
    """The animation format of `out` from its suffix.

    Raises:
        ValueError: an unknown suffix, naming `out` and the choices.
    """
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix not in VIDEO_FORMATS:
        choices = ", ".join("." + f for f in VIDEO_FORMATS)
        raise ValueError(
            f"`out` must end in one of {choices} (.png writes a frame sequence). "
            f"Received: out='{out}'"
        )
    return suffix


def ffmpeg_available() -> bool:
    """Whether matplotlib's ffmpeg (rcParams `animation.ffmpeg_path`) runs here."""
    return FFMpegWriter.isAvailable()


class MissingTool(OSError):
    """A program the output needs is not installed (one line: how to install)."""


def require_ffmpeg(fmt: str) -> None:
    """Raises a one-line `MissingTool` saying how to install ffmpeg."""
    if fmt != "png" and not ffmpeg_available():
        raise MissingTool(
            f"Writing .{fmt} needs ffmpeg, which was not found. Install it with "
            "'sudo apt-get install ffmpeg' (or write a .png frame sequence)."
        )


class FrameSink:
    """Receives RGBA frames of a fixed size; `close()` returns the files written."""

    def write(self, rgba: memoryview) -> None:
        raise NotImplementedError

    def close(self) -> list[Path]:
        raise NotImplementedError

    def abort(self) -> None:
        """Stops without finishing; removes what was partly written."""


class _FFmpegSink(FrameSink):
    """mp4 / gif / webm through matplotlib's `FFMpegWriter` pipe."""

    def __init__(
        self, fig: Figure, path: Path, fmt: str, fps: float, comment: str, place=Path
    ):
        self.path = path
        self.placed = Path(place(path))  # a temporary inside `writing()`
        self.writer = FFMpegWriter(
            fps=fps,
            codec="h264" if fmt == "mp4" else None,
            metadata={"comment": comment, "title": "optiscape animation"},
            extra_args=_FFMPEG_ARGS[fmt],
        )
        self.writer.setup(fig, str(self.placed), dpi=fig.dpi)

    def write(self, rgba: memoryview) -> None:
        # MovieWriter pipes rawvideo in `frame_format` ('rgba') of `frame_size`.
        self.writer._proc.stdin.write(rgba)

    def close(self) -> list[Path]:
        self.writer.finish()
        return [self.path]

    def abort(self) -> None:
        self.writer._proc.kill()
        self.writer._proc.communicate()
        self.placed.unlink(missing_ok=True)


class _HTMLSink(FrameSink):
    """A self-contained HTML player: the mp4 inlined as a data URI."""

    def __init__(
        self, fig: Figure, path: Path, fps: float, config: dict[str, Any], place=Path
    ):
        self.path, self.config = path, config
        self.placed = Path(place(path))
        self.tmp = path.with_name(f".{path.stem}.optiscape-tmp.mp4")
        self.inner = _FFmpegSink(fig, self.tmp, "mp4", fps, json.dumps(config))
        self.size = self.inner.writer.frame_size

    def write(self, rgba: memoryview) -> None:
        self.inner.write(rgba)

    def close(self) -> list[Path]:
        self.inner.close()
        data = base64.b64encode(self.tmp.read_bytes()).decode("ascii")
        self.tmp.unlink()
        self.placed.write_text(html_player(data, self.size, self.config), "utf-8")
        return [self.path]

    def abort(self) -> None:
        self.inner.abort()


def html_player(mp4_base64: str, size: tuple[int, int], config: dict[str, Any]) -> str:
    """An HTML page (or notebook cell) that plays an inlined mp4 with controls."""
    w, h = size
    text = json.dumps(config, sort_keys=True).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"{HTML_GENERATOR}"
        "<title>optiscape animation</title></head><body style='margin:0'>\n"
        f"<video controls autoplay loop muted playsinline width='{w}' "
        f"style='max-width:100%;height:auto' data-height='{h}'>\n"
        f"<source type='video/mp4' src='data:video/mp4;base64,{mp4_base64}'>\n"
        "</video>\n"
        f"<script type='application/json' id='optiscape-config'>{text}</script>\n"
        "</body></html>\n"
    )


class _PNGSink(FrameSink):
    """A numbered PNG per frame (`<stem>_0000.png`), each with its configuration."""

    def __init__(self, fig: Figure, path: Path, comment: str, place=Path):
        from PIL import PngImagePlugin

        self.place = place
        self.stem = path.with_suffix("")
        w, h = fig.canvas.get_width_height(physical=True)
        self.size = (w, h)
        self.info = PngImagePlugin.PngInfo()
        self.info.add_text("optiscape", comment)
        self.files: list[Path] = []

    def write(self, rgba: memoryview) -> None:
        from PIL import Image

        image = Image.frombuffer("RGBA", self.size, bytes(rgba), "raw", "RGBA", 0, 1)
        out = self.stem.with_name(f"{self.stem.name}_{len(self.files):04d}.png")
        # Level 1: frames of flat plots compress nearly as well, 5x faster.
        image.convert("RGB").save(
            self.place(out), format="png", pnginfo=self.info, compress_level=1
        )
        self.files.append(out)

    def close(self) -> list[Path]:
        return list(self.files)

    def abort(self) -> None:
        pass  # frames were placed as temporaries: `writing()` removes them


def open_sink(
    fig: Figure, out: str | Path, fps: float, config: dict[str, Any], place=Path
) -> FrameSink:
    """A sink for frames of `fig`'s canvas size, by `out`'s suffix.

    Args:
        fig: the figure whose canvas buffer is written (its pixel size).
        out: output path; `.mp4`, `.gif`, `.webm`, `.html` or `.png` (frames).
        fps: frames per second.
        config: the full configuration, stored in the file's metadata.
        place: `path -> where to write it now` (`scenes.output.target`: the
            tool's overwrite rule and all-or-nothing sets of files).
    """
    path = Path(out)
    fmt = video_format(path)
    require_ffmpeg(fmt if fmt != "html" else "mp4")
    comment = json.dumps(config, sort_keys=True)
    if fmt == "png":
        return _PNGSink(fig, path, comment, place)
    if fmt == "html":
        return _HTMLSink(fig, path, fps, config, place)
    return _FFmpegSink(fig, path, fmt, fps, comment, place)
