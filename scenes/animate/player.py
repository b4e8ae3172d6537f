"""The blitting frame loop: draw the static layers once, then only what moves."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from scenes.animate.encode import open_sink
from scenes.output import claim, target, writing
from simulator.metadata import jsonable, package_versions

__all__ = ["Animation", "BlitCanvas", "write_frames"]


class BlitCanvas:
    """A figure whose background is rendered once and restored every frame.

    The layout is computed once (constrained layout, with every artist in
    place), then frozen, so no frame can move an axes. `animated` artists are
    left out of the background and drawn onto it with `draw_artist`.

    Args:
        fig: the figure, on an Agg canvas.
        animated: every artist any update may change.
    """

    def __init__(self, fig: Figure, animated: Sequence[Any]):
        self.fig = fig
        self.animated = list(dict.fromkeys(animated))
        self._ordered = sorted(self.animated, key=lambda a: a.get_zorder())
        for a in self.animated:
            a.set_animated(True)
        canvas = fig.canvas
        canvas.draw()  # layout pass, with everything in place
        fig.set_layout_engine("none")
        canvas.draw()
        self.background = canvas.copy_from_bbox(fig.bbox)

    def render(self, changed: Sequence[Any]) -> memoryview:
        """The frame: background plus every animated artist, as RGBA bytes.

        Every animated artist is drawn (in z order), not only `changed`: a
        restored background has none of them.
        """
        del changed
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        for a in self._ordered:
            # An empty scatter (no diverged particle yet) draws nothing: skip it.
            if a.get_visible() and not (
                isinstance(a, PathCollection) and not len(a.get_offsets())
            ):
                self.fig.draw_artist(a)
        return canvas.buffer_rgba()

    def full_draw(self) -> None:
        """Draws everything as a static figure would (animated artists included)."""
        for a in self.animated:
            a.set_animated(False)
        self.fig.canvas.draw()
        for a in self.animated:
            a.set_animated(True)


@dataclass
class Animation:
    """A rendered animation: the files, their configuration and timing.

    In Jupyter it displays itself (an inline video or the HTML player).

    Attributes:
        path: the main output file (for `.png`, the first frame).
        files: every file written (frames, poster, sidecar).
        frames: frame count; fps: frames per second; size: `(width, height)`.
        rows: `(frames,)` the trace row each frame shows.
        config: the configuration stored in the file and the sidecar.
        seconds_rendering: wall time of the frame loop (encoding overlaps it).
    """

    path: Path
    files: list[Path]
    frames: int
    fps: float
    size: tuple[int, int]
    rows: list[int]
    config: dict[str, Any] = field(repr=False)
    seconds_rendering: float = 0.0

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    def _repr_html_(self) -> str:
        import base64

        fmt = self.path.suffix.lower()
        if fmt == ".html":
            return self.path.read_text("utf-8")
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        if fmt == ".gif":
            return f"<img src='data:image/gif;base64,{data}'>"
        if fmt == ".png":
            return f"<img src='data:image/png;base64,{data}'>"
        mime = "video/webm" if fmt == ".webm" else "video/mp4"
        return (
            f"<video controls loop width='{self.size[0]}' style='max-width:100%'>"
            f"<source type='{mime}' src='data:{mime};base64,{data}'></video>"
        )


def write_frames(
    canvas: BlitCanvas,
    update: Callable[[int], list[Any]],
    rows: Sequence[int],
    out: str | Path,
    *,
    fps: float,
    config: dict[str, Any],
    progress: bool = True,
    poster: bool = True,
) -> Animation:
    """Renders `update(row)` for every frame's row into `out`, with a sidecar.

    Args:
        canvas: the prepared `BlitCanvas`.
        update: moves every layer to a row; returns the changed artists.
        rows: the trace row of each frame (a `FrameClock`'s rows).
        out: output path; the suffix picks the format (see `open_sink`).
        fps: frames per second.
        config: JSON-able configuration, stored in the file and in the
            sidecar (with package versions).
        progress: a progress bar over frames.
        poster: also write `<stem>_poster.png`, the last frame drawn as a static
            figure (for `<video poster>` and slides).

    The configuration goes into the file and into `<out>.json` (e.g.
    `race.mp4.json`), so a figure `race.png` beside it keeps its `race.json`.
    The files are written through `scenes.output.target`: never over a file
    this tool did not write, and all together or not at all.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    full = {"optiscape": jsonable(config), "versions": package_versions()}
    stem = out.with_suffix("")
    poster_path = stem.with_name(stem.name + "_poster.png")
    # `race.mp4.json`: a figure of the same stem keeps its own `race.json`.
    sidecar = out.with_name(out.name + ".json")
    rows = [int(r) for r in rows]
    # One set: every file appears when the last frame is written, or none
    # does; each is checked (never a file this tool did not write) up front.
    with writing():
        for path in (out, sidecar, *([poster_path] if poster else [])):
            claim(path)
        sink = open_sink(canvas.fig, out, fps, full, place=target)
        start = time.perf_counter()
        try:
            for row in tqdm(rows, desc=out.name, unit="frame", disable=not progress):
                sink.write(canvas.render(update(row)))
            files = sink.close()
        except BaseException:
            sink.abort()
            raise
        elapsed = time.perf_counter() - start
        if poster:
            update(rows[-1])
            canvas.full_draw()
            canvas.fig.savefig(
                target(poster_path), format="png", dpi=canvas.fig.dpi,
                metadata={"optiscape": json.dumps(full)},
            )  # fmt: skip
            files.append(poster_path)
        target(sidecar).write_text(json.dumps(full, indent=1) + "\n")
        files.append(sidecar)
    size = canvas.fig.canvas.get_width_height(physical=True)
    return Animation(
        path=files[0],
        files=files,
        frames=len(rows),
        fps=fps,
        size=tuple(size),
        rows=rows,
        config=full,
        seconds_rendering=elapsed,
    )
