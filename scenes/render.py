"""Run-then-render recipes shared by the CLI, scene specs and the gallery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

import surfaces
from scenes.curves import plot_loss_curves
from scenes.landscape import plot_race, plot_race_3d, plot_race_panels
from scenes.maps import plot_fate, plot_sweep
from scenes.output import save_figure
from scenes.spec import SceneSpec
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
    """Race figure (and optional 3D view and loss curves) from a computed `Race`."""
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
        plot_loss_curves(race, ax, title=f"loss on {race.surface.name}")
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
    spec: SceneSpec, out: str | Path | None = None, *, progress: bool = False
) -> list[Path]:
    """Runs what `spec` describes and renders it; returns the files written."""
    out = out or spec.out or Path(spec.source).with_suffix(".png").name
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
            written.append(race.save(_stem(out).with_suffix(".npz")))
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


def _text(text: str) -> str:
    """The canonical text of an optimizer (so labels match the run)."""
    from simulator.engine import resolve_optimizer

    return resolve_optimizer(text).to_text()
