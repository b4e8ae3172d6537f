"""The gallery's Manim section: every scene at low quality (quick: a short one)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scenes.manim import SCENES, scene_class

__all__ = ["GALLERY_SCENES", "render_manim_gallery"]

#: The scenes the gallery renders (the benchmark swarm is not a lesson).
GALLERY_SCENES = tuple(name for name in SCENES if name != "SwarmScene")


def render_manim_gallery(out: Path, *, quick: bool = False) -> list[dict]:
    """Renders the teaching scenes into `out/videos/` at low quality.

    Args:
        out: the gallery directory.
        quick: only SaddleEscape, 3 s of motion (for tests).

    Returns:
        Gallery entries as `scenes.gallery` writes them (`title`, `images` [],
        `videos` [{src, poster, config}], `caption`); the poster is the last frame.
    """
    from scenes.manim.video import render_scene

    names = ("SaddleEscape",) if quick else GALLERY_SCENES
    entries = []
    for name in names:
        cls = scene_class(name)
        if quick:
            cls = cls.configured(seconds=3.0)
        path = render_scene(cls, out / "videos" / f"{name}.mp4", quality="low")
        poster = path.with_name(f"{path.stem}_poster.png")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-sseof", "-0.2", "-i", str(path),
             "-frames:v", "1", str(poster)],
            check=True, capture_output=True,
        )  # fmt: skip
        entries.append(
            {
                "title": f"Manim: {name}",
                "images": [],
                "videos": [
                    {
                        "src": path.relative_to(out).as_posix(),
                        "poster": poster.relative_to(out).as_posix(),
                        "config": path.with_name(path.name + ".json")
                        .relative_to(out)
                        .as_posix(),
                    }
                ],
                "caption": SCENES[name][1]
                + " (854×480, 15 fps; optiscape video --scene "
                + f"{name} --quality high for 1080p)",
            }
        )
    return entries
