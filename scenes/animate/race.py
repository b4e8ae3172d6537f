"""The race animation: particles over the landscape, with linked panels."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from scenes.animate.player import Animation, BlitCanvas, write_frames
from scenes.figures.curves import plot_loss_curves
from scenes.figures.internals import available_quantities, plot_internals
from scenes.figures.landscape import (
    RaceArtists,
    draw_contours,
    draw_minima,
    minima_handle,
    plot_race_3d,
    title_of,
)
from scenes.figures.layers import GlyphLayer, RaceLayer, StepLabel
from scenes.frames import FrameClock, FrameReader, as_traces
from scenes.vocab import PANELS
from simulator.trace import Race, Trace

__all__ = ["VideoSettings", "animate_race", "build_race_figure"]

#: `builder(fig, slot, reader) -> layer` of a caller's own linked panel.
PanelBuilder = Callable[[Figure, Any, FrameReader], Any]


@dataclass
class VideoSettings:
    """How an animation is timed and sized (validated on creation).

    Attributes:
        frames: frames in all (holds included); or None with `seconds`.
        seconds: duration; frames = round(seconds * fps).
        fps: frames per second (> 0).
        size: `(width, height)` in pixels; even for H.264.
        panels: any of `PANELS` (`loss`, `internals`, `3d`).
        trail: rows of fading trail (None: the whole path).
        easing: `"ease"` (frames follow the motion) or `"uniform"`.
        hold: seconds on the first and last frame `(start, end)`.
        dpi: pixels per inch of the figure (text size follows it).
    """

    frames: int | None = None
    seconds: float | None = None
    fps: float = 30.0
    size: tuple[int, int] = (1280, 720)
    panels: tuple[str, ...] = ()
    trail: int | None = None
    easing: str = "ease"
    hold: tuple[float, float] = (0.5, 1.5)
    dpi: float = 100.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        fps = self.fps
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
            raise ValueError(f"`fps` must be a number > 0. Received: fps={fps!r}")
        if not np.isfinite(fps) or fps > 240:
            raise ValueError(f"`fps` must be at most 240. Received: fps={fps!r}")
        if self.frames is None and self.seconds is None:
            self.seconds = 6.0
        if self.frames is None:
            s = self.seconds
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not s > 0:
                raise ValueError(
                    f"`seconds` must be a number > 0. Received: seconds={s!r}"
                )
            self.frames = round(s * fps)
        f = self.frames
        if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 1:
            raise ValueError(
                f"`frames` must be an integer >= 1. Received: frames={f!r}"
            )
        if f > 100_000:
            raise ValueError(f"`frames` must be at most 100000. Received: frames={f}")
        w, h = self.size
        if not all(
            isinstance(v, (int, np.integer)) and 64 <= v <= 7680 for v in (w, h)
        ):
            raise ValueError(
                f"`size` must be two integers from 64 to 7680 pixels. "
                f"Received: size={self.size!r}"
            )
        unknown = [p for p in self.panels if p not in PANELS]
        if unknown:
            raise ValueError(
                f"Unknown panel {unknown[0]!r}; choose from {sorted(PANELS)}."
            )
        if self.trail is not None and (
            isinstance(self.trail, bool) or int(self.trail) < 2
        ):
            raise ValueError(
                "`trail` must be an integer >= 2 or None. "
                f"Received: trail={self.trail!r}"
            )
        FrameClock(2, 1, easing=self.easing)  # validates the easing name

    def check_even(self, fmt: str) -> None:
        """H.264 (and the HTML player's mp4) needs even pixel sizes."""
        w, h = self.size
        if fmt in ("mp4", "html") and (w % 2 or h % 2):
            raise ValueError(
                f"H.264 needs an even width and height. Received: size={w}x{h}; "
                f"use {w - w % 2}x{h - h % 2}"
            )

    def clock(self, reader: FrameReader) -> FrameClock:
        """The frame clock: holds, then frames spread by `easing`.

        A hold never takes more than 10% (start) or 20% (end) of the frames, so
        a short clip still spends most of its time moving.
        """
        caps = (0.1, 0.2)
        hold = [
            min(round(s * self.fps), int(c * self.frames))
            for s, c in zip(self.hold, caps, strict=True)
        ]
        return FrameClock(
            reader.n_rows,
            int(self.frames),
            easing=self.easing,
            motion=reader.motion(),
            hold_start=hold[0],
            hold_end=hold[1],
        )

    def to_config(self) -> dict[str, Any]:
        return {
            "renderer": "matplotlib",
            "frames": int(self.frames),
            "fps": float(self.fps),
            "size": [int(v) for v in self.size],
            "panels": list(self.panels),
            "trail": self.trail,
            "easing": self.easing,
            "hold": list(self.hold),
            "dpi": float(self.dpi),
            **self.extra,
        }


@dataclass
class RaceFigure:
    """The animation figure: every layer and linked panel, moved by `update`."""

    fig: Figure
    reader: FrameReader
    race: RaceArtists
    panels: dict[str, Any] = field(default_factory=dict)

    @property
    def layers(self) -> list[Any]:
        return [self.race, *self.panels.values()]

    @property
    def animated(self) -> list[Any]:
        return [a for layer in self.layers for a in layer.animated]

    def update(self, row: int) -> list[Any]:
        changed: list[Any] = []
        for layer in self.layers:
            changed += layer.update(row)
        return changed


def _grid(fig: Figure, panels: Sequence[str], extra: Sequence[str] = ()):
    """The landscape on the left; the panels stacked in a column on the right.

    `extra` names caller-built panels (`build_race_figure(side_panels=...)`),
    stacked above the built-in ones.
    """
    side = [*extra, *(p for p in ("loss", "internals", "3d") if p in panels)]
    if not side:
        return fig.add_subplot(), {}
    heights = {"loss": 1.0, "internals": 1.6 if len(side) < 3 else 1.1, "3d": 1.4}
    heights |= {p: 1.0 for p in extra}
    outer = fig.add_gridspec(1, 2, width_ratios=(1.25, 1.0))
    ax = fig.add_subplot(outer[0])
    right = outer[1].subgridspec(len(side), 1, height_ratios=[heights[p] for p in side])
    return ax, {p: right[i] for i, p in enumerate(side)}


def build_race_figure(
    run: Trace | Race | Sequence[Trace],
    settings: VideoSettings,
    *,
    glyphs: Sequence[str] = (),
    max_particles: int = 1000,
    title: str | bool = True,
    side_panels: Mapping[str, PanelBuilder] | None = None,
) -> RaceFigure:
    """Creates every artist of the race animation once (nothing drawn yet).

    Args:
        side_panels: name -> `builder(fig, slot, reader)` returning a layer
            (`update(row)` and `animated`, e.g. a `CurveArtists` with a
            cursor), drawn in its own slot of the right column, above the
            `settings.panels`; for linked panels of one caller's own (the
            flavour comparison's distance to Keras).
    """
    traces = as_traces(run)
    reader = FrameReader(traces, glyphs=glyphs, max_particles=max_particles)
    w, h = settings.size
    fig = Figure(figsize=(w / settings.dpi, h / settings.dpi), dpi=settings.dpi)
    FigureCanvasAgg(fig)  # off-screen, whatever the pyplot backend
    fig.set_layout_engine("constrained")
    side_panels = dict(side_panels or {})
    ax, slots = _grid(fig, settings.panels, list(side_panels))
    art = RaceArtists(ax=ax, reader=reader)
    art.contour, art.colorbar = draw_contours(ax, reader.surface, reader.view)
    n_particles = sum(se.n_particles for se in reader.series)
    race = RaceLayer(
        ax,
        reader,
        trail=settings.trail,
        head_size=55 if n_particles <= 50 else 12,
        linewidth=1.8 if n_particles <= 50 else 0.6,
    )
    art.layers.append(race)
    handles = race.series_handles()
    for glyph in reader.glyphs:
        layer = GlyphLayer(ax, reader, glyph, width=0.006)
        if layer.artists:
            art.layers.append(layer)
            art.glyphs[glyph] = layer.artists
            handles.append(layer.legend_handle())
    if reader.surface.minima:
        draw_minima(ax, reader.surface)
        handles.append(minima_handle())
    handles += race.marker_handles()
    art.layers.append(StepLabel(ax, reader))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        fontsize=8,
        ncols=min(
            len(handles), 4 if max(len(hd.get_label()) for hd in handles) < 40 else 2
        ),
        frameon=False,
    )
    if title:
        fig.suptitle(title if isinstance(title, str) else title_of(traces), fontsize=11)
    figure = RaceFigure(fig=fig, reader=reader, race=art)
    for name, builder in side_panels.items():
        figure.panels[name] = builder(fig, slots[name], reader)
    _add_panels(figure, traces, slots, settings)
    return figure


def _add_panels(
    figure: RaceFigure,
    traces: list[Trace],
    slots: dict[str, Any],
    settings: VideoSettings,
) -> None:
    fig, reader = figure.fig, figure.reader
    if "loss" in slots and all(t.loss is not None for t in traces):
        ax = fig.add_subplot(slots["loss"])
        curves = plot_loss_curves(traces, ax, legend=False, band=None, xlabel="step")
        curves.steps = reader.steps
        curves.add_cursor()
        ax.set_title("loss (median over starts, log scale)", fontsize=9, loc="left")
        ax.set_ylabel("")  # the title says it; the colour bar's label is beside it
        ax.tick_params(labelsize=8)
        figure.panels["loss"] = curves
    if "internals" in slots:
        # Each small axes needs ~90 px to stay legible.
        room = settings.size[1] * (0.45 if len(slots) < 3 else 0.3)
        quantities = available_quantities(reader, limit=max(1, int(room // 90)))
        if quantities:
            sub = slots["internals"].subgridspec(len(quantities), 1)
            axes = [fig.add_subplot(sub[i]) for i in range(len(quantities))]
            for a in axes[1:]:
                a.sharex(axes[0])
            art = plot_internals(reader, axes, quantities)
            art.add_cursor(progressive=False)
            figure.panels["internals"] = art
    if "3d" in slots:
        ax = fig.add_subplot(slots["3d"], projection="3d")
        # A 3D view of a swarm is a thicket: at most 20 paths, trailing.
        art3d = plot_race_3d(
            traces,
            ax,
            title=False,
            max_particles=min(reader.max_particles, 20),
            trail=settings.trail,
        )
        art3d.legend.remove()
        figure.panels["3d"] = art3d


def animate_race(
    run: Trace | Race | Sequence[Trace],
    out: str | Path,
    settings: VideoSettings | None = None,
    *,
    glyphs: Sequence[str] = (),
    max_particles: int = 1000,
    title: str | bool = True,
    config: dict[str, Any] | None = None,
    progress: bool = True,
    side_panels: Mapping[str, PanelBuilder] | None = None,
) -> Animation:
    """Renders the race as a video (or HTML player, or PNG frames).

    Args:
        run: a `Trace`, a `Race` or a list of traces.
        out: output path; `.mp4`, `.gif`, `.webm`, `.html` or `.png` (frames).
        settings: timing, size, panels and trail (default `VideoSettings()`).
        glyphs: glyphs that move with the particles (`scenes.vocab.GLYPHS`).
        max_particles: particles drawn per trace.
        title: True for a generated title, a string, or False.
        config: extra configuration to store (merged over the run's metadata).
        progress: a progress bar over frames.
        side_panels: caller-built linked panels (see `build_race_figure`).

    Returns:
        The `Animation` (displays itself in Jupyter).
    """
    from scenes.animate.encode import video_format

    settings = settings or VideoSettings()
    settings.check_even(video_format(out))
    figure = build_race_figure(
        run,
        settings,
        glyphs=glyphs,
        max_particles=max_particles,
        title=title,
        side_panels=side_panels,
    )
    clock = settings.clock(figure.reader)
    canvas = BlitCanvas(figure.fig, figure.animated)
    traces = as_traces(run)
    meta = traces[0].metadata if len(traces) == 1 else _race_metadata(run, traces)
    full = {
        **meta,
        **(config or {}),
        "video": settings.to_config(),
        "glyphs": list(figure.reader.glyphs),
    }
    return write_frames(
        canvas,
        figure.update,
        clock.rows,
        out,
        fps=settings.fps,
        config=full,
        progress=progress,
    )


def _race_metadata(run: Any, traces: list[Trace]) -> dict[str, Any]:
    if isinstance(run, Race):
        return run.metadata
    return {"traces": [t.metadata for t in traces]}
