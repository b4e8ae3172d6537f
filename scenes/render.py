"""Run-then-render recipes shared by the CLI, scene specs and the gallery."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import surfaces
from scenes.figures.curves import plot_loss_curves
from scenes.figures.landscape import plot_race, plot_race_3d, plot_race_panels
from scenes.figures.maps import plot_fate, plot_sweep
from scenes.frames import glyph_name, inside_view
from scenes.output import inside, save_figure, target, writing
from scenes.spec import SceneSpec
from scenes.style import surface_title
from scenes.vocab import FIGURE_FORMATS, GLYPHS, VIDEO_FORMATS
from simulator import fate_map, simulate, sweep
from simulator.trace import Race

__all__ = ["render_fate", "render_race", "render_spec", "render_sweep"]


def _stem(out: str | Path) -> Path:
    out = Path(out)
    return (
        out.with_suffix("") if out.suffix.lower().lstrip(".") in FIGURE_FORMATS else out
    )


def _formats(out: str | Path, formats) -> tuple[str, ...]:
    if formats:
        return tuple(formats)
    suffix = Path(out).suffix.lower().lstrip(".")
    if not suffix:
        return ("png",)
    if suffix not in FIGURE_FORMATS:
        raise ValueError(f"`out` must end in .png, .svg or .pdf. Received: out='{out}'")
    return (suffix,)


def render_race(
    race: Race,
    out: str | Path,
    *,
    formats=None,
    config: dict[str, Any] | None = None,
    glyphs=(),
    glyph_steps=None,
    three_d: bool = False,
    log: bool | None = None,
    loss_curves: bool = False,
    panels: bool = False,
    title: str | bool = True,
    size=(8, 7.5),
    dpi: int = 150,
) -> list[Path]:
    """Race figure (and optional 3D view and loss curves) from a computed `Race`.

    The figures are written as one set: if a later one fails, none is left.
    """
    with writing():
        return _render_race(
            race,
            out,
            formats=formats,
            config=config,
            glyphs=glyphs,
            glyph_steps=glyph_steps,
            three_d=three_d,
            log=log,
            loss_curves=loss_curves,
            panels=panels,
            title=title,
            size=size,
            dpi=dpi,
        )


def check_race_request(race: Race, glyphs=(), view=None) -> None:
    """Refuses (or warns about) a figure that would silently show nothing asked for.

    - a glyph whose internal no trace recorded (`--glyph lookahead` on Adam)
      raises; one that only some traces have warns, naming the others;
    - starts that all lie outside the view raise (the figure would be blank);
      some outside warn.
    """
    for glyph in glyphs:
        name = GLYPHS[glyph_name(glyph)]
        lacking = [
            t.label
            for t in race
            if (t.gradient if name == "gradient" else t.internals.get(name)) is None
        ]
        if len(lacking) == len(race):
            raise ValueError(
                f"--glyph {glyph} draws the internal '{name}', which "
                f"{' and '.join(lacking)} does not have (or did not record): the "
                "figure would show no glyph. Choose another glyph or optimizer."
            )
        if lacking:
            warnings.warn(
                f"--glyph {glyph}: {', '.join(lacking)} has no '{name}'; "
                "drawn for the others only.",
                stacklevel=3,
            )
    (x0, x1), (y0, y1) = race.surface.view if view is None else view
    starts = np.asarray(race[0].positions[0]).reshape(-1, 2)
    outside = ~inside_view(starts, ((x0, x1), (y0, y1)))
    if outside.all():
        raise ValueError(
            f"Every start ({_points(starts[outside])}) lies outside the view "
            f"x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}] of "
            f"{surface_title(race.surface)}: the figure would be blank. Give a "
            "start inside the view (or a spec's [surface] view that contains it)."
        )
    if outside.any():
        warnings.warn(
            f"start {_points(starts[outside])} lies outside the view "
            f"x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]; it is not drawn.",
            stacklevel=3,
        )


def _points(points: np.ndarray) -> str:
    shown = ", ".join(f"({x:g}, {y:g})" for x, y in points[:3])
    return shown + (f" and {len(points) - 3} more" if len(points) > 3 else "")


def _render_race(
    race,
    out,
    *,
    formats,
    config,
    glyphs,
    glyph_steps,
    three_d,
    log,
    loss_curves,
    panels,
    title,
    size,
    dpi,
) -> list[Path]:
    check_race_request(race, glyphs)
    config = {**race.metadata, **(config or {})}
    stem = _stem(out)
    fmts = _formats(out, formats)
    written = []
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    plot_race(race, ax, glyphs=glyphs, glyph_steps=glyph_steps, log=log, title=title)
    written += save_figure(fig, stem, config, formats=fmts, dpi=dpi)
    plt.close(fig)
    if three_d:
        fig = plt.figure(figsize=size, layout="constrained")
        ax = fig.add_subplot(projection="3d")
        plot_race_3d(race, ax, log=log, title=title)
        written += save_figure(
            fig, stem.with_name(stem.name + "_3d"), config, formats=fmts, dpi=dpi
        )
        plt.close(fig)
    if panels:
        fig = plt.figure(
            figsize=(17, 3.2 * -(-len(race) // 5) + 1), layout="constrained"
        )
        plot_race_panels(race, fig, log=log, title=title)
        written += save_figure(
            fig, stem.with_name(stem.name + "_panels"), config, formats=fmts, dpi=dpi
        )
        plt.close(fig)
    if loss_curves:
        fig, ax = plt.subplots(figsize=(size[0], size[0] * 0.6), layout="constrained")
        plot_loss_curves(race, ax, title=f"loss on {surface_title(race.surface)}")
        written += save_figure(
            fig, stem.with_name(stem.name + "_loss"), config, formats=fmts, dpi=dpi
        )
        plt.close(fig)
    return written


def render_sweep(
    result, out, *, metric="final_loss", formats=None, config=None, title=True, dpi=150
) -> list[Path]:
    """Sweep heatmap from a computed `SweepResult`."""
    fig, ax = plt.subplots(figsize=(7.5, 6), layout="constrained")
    plot_sweep(result, ax, metric=metric, title=title)
    written = save_figure(
        fig,
        _stem(out),
        {**result.metadata, **(config or {})},
        formats=_formats(out, formats),
        dpi=dpi,
    )
    plt.close(fig)
    return written


def render_fate(
    fate, out, *, formats=None, config=None, title=True, dpi=150
) -> list[Path]:
    """Fate map from a computed `FateMap`."""
    fig, ax = plt.subplots(figsize=(7.5, 7), layout="constrained")
    plot_fate(fate, ax, title=title)
    written = save_figure(
        fig,
        _stem(out),
        {**fate.metadata, **(config or {})},
        formats=_formats(out, formats),
        dpi=dpi,
    )
    plt.close(fig)
    return written


def render_spec(
    spec: SceneSpec,
    out: str | Path | None = None,
    *,
    progress: bool = False,
    allow_outside: bool = False,
) -> list[Path]:
    """Runs what `spec` describes and renders it; returns the files written.

    A race spec with a `[video]` table also writes the video (`[video] out`, or
    `<out>.mp4`); with a `[video]` table and no `[scene] out` only the video. An
    `out` given here replaces `[scene] out`, or `[video] out` if it is a video.

    A spec is a file people share: its own outputs are resolved relative to the
    spec and, unless `allow_outside`, may not point outside its directory
    (`../../x.png`, an absolute path); an `out` from the command line is taken
    as given (relative to the working directory).
    """
    figure_out, video_out = _spec_outputs(spec, out, allow_outside)
    with writing():
        return _render_spec(spec, figure_out, video_out, progress)


def _render_spec(spec, figure_out, video_out, progress) -> list[Path]:
    surface = _spec_surface(spec)
    config = {"spec": spec.to_config()}
    r = spec.render
    title = spec.title or True
    common = {
        "noise": spec.noise,
        "seed": spec.seed,
        "dtype": spec.dtype,
        "bound": spec.bound,
        "progress": progress,
    }
    if spec.kind == "race":
        race = simulate(
            surface,
            [o["text"] for o in spec.optimizers],
            spec.starts,
            spec.steps,
            labels=[
                o.get("label", default)
                for o, default in zip(
                    spec.optimizers, _labels(spec.optimizers), strict=True
                )
            ],
            record_every=spec.record_every,
            **common,
        )
        written = []
        if figure_out is not None:
            written += render_race(
                race,
                figure_out,
                formats=spec.formats,
                config=config,
                glyphs=r.get("glyphs", ()),
                glyph_steps=r.get("glyph_steps"),
                three_d=r.get("three_d", False),
                log=r.get("log"),
                loss_curves=r.get("loss_curves", False),
                title=title,
                size=tuple(r.get("size", (8, 7.5))),
                dpi=r.get("dpi", 150),
            )
        if video_out is not None:
            written += render_video(race, video_out, spec, config, progress)
        if r.get("save_trace"):
            npz = _stem(figure_out or video_out).with_suffix(".npz")
            race.save(target(npz))
            written.append(npz)
        return written
    out = figure_out
    if spec.kind == "sweep":
        sw = spec.sweep
        common.pop("progress")
        result = sweep(
            surface,
            sw["optimizer"],
            sw["grid"],
            spec.starts,
            spec.steps,
            fixed=sw["fixed"],
            progress=progress,
            client=spec.scheduler,
            **common,
        )
        return render_sweep(
            result,
            out,
            metric=sw["metric"],
            formats=spec.formats,
            config=config,
            title=title,
            dpi=r.get("dpi", 150),
        )
    fa = spec.fate
    fate = fate_map(
        surface,
        fa["optimizer"],
        spec.steps,
        resolution=fa["resolution"],
        tolerance=fa["tolerance"],
        client=spec.scheduler,
        **common,
    )
    return render_fate(
        fate,
        out,
        formats=spec.formats,
        config=config,
        title=title,
        dpi=r.get("dpi", 150),
    )


def _spec_surface(spec: SceneSpec):
    """The spec's surface: a registered name (with an optional view) or an
    expression."""
    if "name" not in spec.surface:
        return surfaces.resolve(
            {"expression": spec.surface["expression"], "view": spec.surface.get("view")}
        )
    surface = surfaces.resolve({"name": spec.surface["name"]})
    if "view" in spec.surface:
        from dataclasses import replace

        surface = replace(surface, view=tuple(map(tuple, spec.surface["view"])))
    return surface


def _spec_outputs(
    spec: SceneSpec, out: str | Path | None, allow_outside: bool = False
) -> tuple[Path | None, Path | None]:
    """Where the figure and the video go (None: not written).

    Without `out`: the figure at `[scene] out` and, with a `[video]` table, the
    video at `[video] out` (default `<figure stem>.mp4`; with a `[video]` table
    and no `[scene] out`, only the video). With `out`: only that file, a video
    if its suffix says so (a race spec without `[video]` then animates with the
    defaults).
    """
    suffix = None if out is None else Path(out).suffix.lower().lstrip(".")
    if suffix in VIDEO_FORMATS and suffix not in FIGURE_FORMATS:
        if spec.kind != "race":
            raise ValueError(
                f"Only a race scene can be animated. Received: out='{out}'"
            )
        spec.video = spec.video or {"renderer": "matplotlib"}
        return None, Path(out)
    if out is not None:
        return Path(out), None
    home = Path(spec.source).parent

    def beside(path, key):
        return inside(path, home, what=f"{spec.source}: {key}", allow=allow_outside)

    figure_out = beside(spec.out, "[scene] out") if spec.out else None
    if not spec.video:
        return Path(figure_out or Path(spec.source).with_suffix(".png").name), None
    video_out = spec.video.get("out")
    video_out = beside(video_out, "[video] out") if video_out else None
    if video_out is None:
        stem = _stem(figure_out or Path(spec.source).with_suffix("").name)
        video_out = stem.with_suffix(".mp4")
    return (None if figure_out is None else Path(figure_out)), Path(video_out)


def render_video(
    race: Race, out: Path, spec: SceneSpec, config, progress: bool
) -> list[Path]:
    """The spec's `[video]` for a computed race (matplotlib renderer)."""
    from scenes.animate.race import animate_race
    from scenes.spec import video_settings

    video = spec.video
    if video["renderer"] == "manim":  # the spec's run as a Manim scene
        from scenes.manim.spec_video import render_spec_video

        return [render_spec_video(spec, out)]
    settings = video_settings(video)
    glyphs = video.get("glyphs", spec.render.get("glyphs", ()))
    title = spec.title or True
    return animate_race(
        race,
        out,
        settings,
        glyphs=glyphs,
        title=title,
        config=config,
        progress=progress,
    ).files


def _labels(optimizers) -> list[str]:
    """The default legend labels of a spec's optimizers (as `simulate` gives)."""
    from simulator.engine import resolve_optimizer
    from simulator.optimizers.text import legend_labels

    return legend_labels([resolve_optimizer(o["text"]) for o in optimizers])
