"""`optiscape render spec.toml` with `[video] renderer = "manim"`: a spec as a scene."""

from __future__ import annotations

from pathlib import Path

from scenes.manim import scene_class

__all__ = ["render_spec_video"]


def render_spec_video(spec, out: str | Path | None = None) -> Path:
    """Renders `spec` (a `SceneSpec`) as its `[video] scene` (default OptimizerRace).

    The spec's surface (name or typed expression, and view), optimizers, labels,
    starts, steps, noise and seed override the scene's class attributes.

    Returns:
        The mp4 written (with its `.json` sidecar).
    """
    from scenes.manim.video import render_scene

    video = spec.video
    cls = scene_class(video.get("scene", "OptimizerRace"))
    surface = dict(spec.surface)
    overrides = {
        "surface": surface.get("name") or surface["expression"],
        "optimizers": tuple(o["text"] for o in spec.optimizers),
        "labels": tuple(o.get("label", o["text"]) for o in spec.optimizers),
        "steps": spec.steps,
        "noise": spec.noise,
        "seed": spec.seed,
    }
    if spec.starts is not None:
        overrides["starts"] = tuple(map(tuple, spec.starts))
    if "view" in surface:
        overrides["view"] = tuple(map(tuple, surface["view"]))
    if "seconds" in video:
        overrides["seconds"] = float(video["seconds"])
    out = out or video.get("out") or Path(spec.source).with_suffix(".mp4").name
    return render_scene(
        cls.configured(**overrides),
        out,
        quality=video.get("quality", "low"),
        extra={"spec": spec.to_config()},
    )
