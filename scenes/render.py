"""Run-then-render recipes shared by the CLI, scene specs and the gallery."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import surfaces
from scenes.curves import plot_loss_curves
from scenes.landscape import GLYPHS, plot_race, plot_race_3d, plot_race_panels
from scenes.maps import plot_fate, plot_sweep
from scenes.output import inside, save_figure, target, writing
from scenes.spec import SceneSpec
from scenes.style import surface_title
from simulator import fate_map, simulate, sweep
from simulator.trace import Race

__all__ = ["render_fate", "render_race", "render_spec", "render_sweep"]


def _stem(out: str | Path) -> Path:
    out = Path(out)
    return (
        out.with_suffix("") if out.suffix.lower() in (".png", ".svg", ".pdf") else out
    )


def _formats(out: str | Path, formats) -> tuple[str, ...]:
    if formats:
        return tuple(formats)
    suffix = Path(out).suffix.lower().lstrip(".")
    if not suffix:
        return ("png",)
    if suffix not in ("png", "svg", "pdf"):
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
        name = GLYPHS.get(glyph)
        if name is None:
            continue  # plot_race names the unknown glyph
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
    outside = ~(
        (starts[:, 0] >= x0) & (starts[:, 0] <= x1)
        & (starts[:, 1] >= y0) & (starts[:, 1] <= y1)
    )  # fmt: skip
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

    Args:
        spec: the validated spec.
        out: output path from the command line (as given, relative to the
            working directory); overrides the spec's `[scene] out`.
        progress: show progress bars.
        allow_outside: let the spec's `[scene] out` leave the spec's directory.
            A spec is a file people share: its `out` is resolved relative to the
            spec and, unless this is set, may not point outside that directory
            (`../../x.png`, an absolute path).
    """
    if out is None and spec.out:
        out = inside(
            spec.out,
            Path(spec.source).parent,
            what=f"{spec.source}: [scene] out",
            allow=allow_outside,
        )
    out = out or Path(spec.source).with_suffix(".png").name
    with writing():
        return _render_spec(spec, out, progress)


def _render_spec(spec: SceneSpec, out: str | Path, progress: bool) -> list[Path]:
    surface = surfaces.resolve(
        {"name": spec.surface["name"]}
        if "name" in spec.surface
        else {
            "expression": spec.surface["expression"],
            "view": spec.surface.get("view"),
        }
    )
    if "name" in spec.surface and "view" in spec.surface:
        from dataclasses import replace

        surface = replace(surface, view=tuple(map(tuple, spec.surface["view"])))
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
            labels=[o.get("label", _text(o["text"])) for o in spec.optimizers],
            record_every=spec.record_every,
            **common,
        )
        written = render_race(
            race,
            out,
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
        if r.get("save_trace"):
            npz = _stem(out).with_suffix(".npz")
            race.save(target(npz))
            written.append(npz)
        return written
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


def _text(text: str) -> str:
    """The canonical text of an optimizer (so labels match the run)."""
    from simulator.engine import resolve_optimizer

    return resolve_optimizer(text).to_text()
