"""The demo gallery: races, glyphs, a sweep, a fate map, moons; and its index.html."""

from __future__ import annotations

import html
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from scenes.animate.moons import animate_moons
from scenes.animate.race import animate_race
from scenes.figures.moons import render_article
from scenes.output import HTML_GENERATOR, write_text
from scenes.render import render_fate, render_race, render_sweep
from simulator import fate_map, simulate, sweep

__all__ = ["ARTICLE_RACES", "article_optimizers", "render_gallery"]


def article_optimizers(
    sgd: float, adaptive: float, lion: float
) -> list[tuple[str, str]]:
    """The article's ten configurations with learning rates scaled for a surface.

    Returns (label, Keras text) pairs; the label carries the learning rate so a
    legend can never disagree with the run.
    """
    texts = [
        f"SGD(learning_rate={sgd})",
        f"SGD(learning_rate={sgd}, momentum=0.9)",
        f"SGD(learning_rate={sgd}, momentum=0.9, nesterov=True)",
        f"Adagrad(learning_rate={adaptive})",
        f"RMSprop(learning_rate={adaptive})",
        f"RMSprop(learning_rate={adaptive}, momentum=0.9, centered=True)",
        f"Adam(learning_rate={adaptive})",
        f"AdamW(learning_rate={adaptive}, weight_decay=0.01)",
        f"Nadam(learning_rate={adaptive})",
        f"Lion(learning_rate={lion})",
    ]
    return [(t, t) for t in texts]


@dataclass(frozen=True)
class RaceSetup:
    """A gallery race: surface, starts, steps and per-family learning rates."""

    surface: str
    starts: tuple[tuple[float, float], ...]
    steps: int
    lrs: tuple[float, float, float]  # SGD family, adaptive family, Lion
    caption: str


#: The three article races. Learning rates were chosen per surface (by a small
#: sweep) so that each family moves visibly without diverging.
ARTICLE_RACES = (
    RaceSetup(
        "rosenbrock",
        ((-1.2, 1.0),),
        500,
        (0.001, 0.1, 0.01),
        "The curved Rosenbrock valley from (−1.2, 1): which optimizers reach the "
        "floor and follow it to the minimum at (1, 1)?",
    ),
    RaceSetup(
        "saddle",
        ((-1.5, 0.01),),
        60,
        (0.02, 0.05, 0.01),
        "A saddle x² − y²: starting almost on the ridge, every method must escape "
        "along y (the loss is unbounded below).",
    ),
    RaceSetup(
        "valley",
        ((-2.5, 1.0),),
        300,
        (0.05, 0.1, 0.02),
        "The local-minimum valley: who settles in the shallow basin at (−1, 0), "
        "and who carries over the ridge to the deeper one at (2, 0)?",
    ),
)


def _race_summary(race) -> str:
    """A caption sentence computed from the run (so it cannot disagree with it)."""
    parts = []
    names = [m.xy for m in race.surface.minima]
    for trace in race:
        if trace.diverged[0]:
            parts.append(f"{trace.label}: diverged at step {trace.diverged_step[0]}")
            continue
        where = ""
        if trace.converged_to[0] >= 0:
            x, y = names[trace.converged_to[0]]
            where = f", at ({x:.3g}, {y:.3g}) from step {trace.converged_step[0]}"
        parts.append(f"{trace.label}: final loss {trace.final_loss[0]:.3g}{where}")
    return "Measured: " + "; ".join(parts) + "."


def _entry(title: str, files: list[Path], caption: str, out: Path) -> dict:
    videos = [p for p in files if p.suffix in (".mp4", ".webm")]
    posters = {p.with_name(p.stem + "_poster.png") for p in videos}
    return {
        "title": title,
        "images": [
            str(p.relative_to(out))
            for p in files
            if p.suffix == ".png" and p not in posters
        ],
        "videos": [
            {
                "src": str(v.relative_to(out)),
                "poster": str(v.with_name(v.stem + "_poster.png").relative_to(out)),
                "config": str(v.with_name(v.name + ".json").relative_to(out)),
            }
            for v in videos
        ],
        "caption": caption,
    }


def _video_settings(quick: bool, seconds: float, **kw):
    """Gallery videos: 1280x720 at 30 fps; quick: 480x270 at 10 fps."""
    from scenes.animate.race import VideoSettings

    if quick:
        return VideoSettings(seconds=min(seconds, 2), fps=10, size=(480, 270),
                             dpi=270 / 7.2, **kw)  # fmt: skip
    return VideoSettings(seconds=seconds, fps=30, size=(1280, 720), **kw)


def render_gallery(out: Path, *, quick: bool = False, progress: bool = True) -> Path:
    """Renders every gallery figure into `out` and writes `out/index.html`.

    Args:
        out: output directory.
        quick: smaller grids, fewer seeds and epochs (for tests); the figures are
            the same kinds.
        progress: show progress bars.

    Returns:
        The path of `index.html`.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    jobs = ["races", "glyphs", "sweep", "fate", "moons", "flavours", "manim"]
    bar = tqdm(jobs, desc="gallery", disable=not progress)
    for job in bar:
        bar.set_postfix_str(job)
        if job == "races":
            for setup in ARTICLE_RACES:
                pairs = article_optimizers(*setup.lrs)
                race = simulate(
                    setup.surface,
                    [t for _, t in pairs],
                    setup.starts,
                    setup.steps,
                    labels=[lab for lab, _ in pairs],
                )
                files = render_race(
                    race,
                    out / f"race_{setup.surface}.png",
                    loss_curves=True,
                    panels=True,
                    size=(9, 8.5),
                )
                files += animate_race(
                    race,
                    out / f"race_{setup.surface}.mp4",
                    _video_settings(quick, 12, panels=("loss",)),
                    progress=progress,
                ).files
                entries.append(
                    _entry(
                        f"Ten Keras optimizers on {setup.surface}",
                        files,
                        f"{setup.caption} {_race_summary(race)}",
                        out,
                    )
                )
        elif job == "glyphs":
            race = simulate(
                "long_valley",
                [
                    "SGD(learning_rate=0.04, momentum=0.8)",
                    "SGD(learning_rate=0.04, momentum=0.8, nesterov=True)",
                    "Adam(learning_rate=0.2)",
                ],
                [(-4.0, 0.8)],
                40,
            )
            # Each glyph applies to some of the three on purpose (velocity to
            # the SGDs, the textbook iterate to Nesterov, step sizes to all):
            # the warning a user gets for a partial glyph is expected here.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="--glyph")
                files = render_race(
                    race,
                    out / "glyphs_long_valley.png",
                    glyphs=("velocity", "textbook_iterate", "step_size"),
                    glyph_steps=[2, 6, 12, 24],
                    three_d=True,
                )
            files += animate_race(
                race,
                out / "glyphs_long_valley.mp4",
                _video_settings(quick, 12, panels=("internals",), easing="uniform"),
                glyphs=("velocity", "textbook_iterate", "step_size"),
                progress=progress,
            ).files
            entries.append(
                _entry(
                    "What moves a particle: velocity, Nesterov lookahead, step sizes",
                    files,
                    "Arrows: the momentum velocity (a displacement). Diamonds: the "
                    "textbook Nesterov iterate w − μ·m; Keras stores the lookahead "
                    "point, so the drawn path is the lookahead. Ellipses: Adam's "
                    "per-coordinate step size α_t/(√v + ε), wide along the shallow x "
                    "direction and narrow across the steep y direction.",
                    out,
                )
            )
        elif job == "sweep":
            n = 16 if quick else 48
            result = sweep(
                "rosenbrock",
                "SGD",
                {
                    "learning_rate": np.geomspace(1e-5, 3e-3, n),
                    "momentum": np.linspace(0.0, 0.99, n),
                },
                [(-1.2, 1.0), (0.5, -0.5), (-0.5, 2.0), (1.5, 2.5)],
                500,
            )
            files = render_sweep(result, out / "sweep_sgd_rosenbrock.png")
            entries.append(
                _entry(
                    "Learning rate × momentum for SGD on Rosenbrock",
                    files,
                    "Median final loss over four starts after 500 steps. "
                    "Crosses: most starts diverged.",
                    out,
                )
            )
        elif job == "fate":
            res = 60 if quick else 200
            fate = fate_map(
                "himmelblau",
                "SGD(learning_rate=0.01, momentum=0.9)",
                300,
                resolution=res,
            )
            files = render_fate(fate, out / "fate_himmelblau.png")
            entries.append(
                _entry(
                    "Fate map on Himmelblau",
                    files,
                    "Which of the four minima SGD with momentum reaches "
                    "from each start; paler means slower.",
                    out,
                )
            )
        elif job == "manim":
            from scenes.manim.gallery import render_manim_gallery

            entries.extend(render_manim_gallery(out, quick=quick))
        elif job == "flavours":
            entries += _flavour_entries(out, quick)
        else:
            files = render_article(
                out / "moons",
                seeds=2 if quick else 5,
                epochs_scale=0.05 if quick else 1.0,
                progress=progress,
            )
            files += animate_moons(
                out / "moons" / "moons_training.mp4",
                _video_settings(quick, 14),
                epochs_scale=0.05 if quick else 1.0,
                progress=progress,
            ).files
            entries.append(
                _entry(
                    "The article's moons experiment",
                    files,
                    "Loss curves of the ten configurations (median and "
                    "range over seeds) beside the landscape of the "
                    "trained network on the PCA plane of the Adam "
                    "trajectory, with its decision boundary.",
                    out,
                )
            )
        plt.close("all")
    return _write_index(out, entries)


#: Flavour comparisons (Keras text in `GALLERY_COMPARISONS`) also animated: the
#: ones whose paths part visibly (Nesterov: the textbook's θ trails Keras's
#: look-ahead point by μ·v).
FLAVOUR_ANIMATIONS = (
    "RMSprop(learning_rate=0.01)",
    "Adagrad(learning_rate=0.1)",
    "SGD(learning_rate=0.0005, momentum=0.9, nesterov=True)",
)


def _flavour_entries(out: Path, quick: bool) -> list[dict]:
    """Flavour races (Adam, RMSprop, Adagrad, Nesterov SGD) and the moons runs."""
    from scenes.animate.flavours import animate_comparison
    from scenes.compare import (
        GALLERY_COMPARISONS,
        moons_comparison,
        render_flavour_gallery,
        render_moons_comparison,
    )

    entries = []
    for (title, files, caption), (text, flavours, surface, steps, _) in zip(
        render_flavour_gallery(out, quick=quick), GALLERY_COMPARISONS, strict=True
    ):
        if text in FLAVOUR_ANIMATIONS:
            files = [
                *files,
                *animate_comparison(
                    text,
                    flavours,
                    surface,
                    files[0].with_suffix(".mp4"),
                    _video_settings(quick, 10),
                    steps=60 if quick else steps,
                    progress=False,
                ).files,
            ]
            caption += (
                " The video: the same race, with the distance panel's cursor "
                "moving with the particles."
            )
        entries.append(_entry(title, files, caption, out))
    result = moons_comparison(
        seeds=(0, 1) if quick else (0, 1, 2), epochs=5 if quick else None
    )
    files = render_moons_comparison(result, out / "moons" / "moons_flavours.png")
    entries.append(
        _entry(
            "The article's moons trainings as PyTorch and the textbook define them",
            files,
            "Same initial weights and batches as Keras; each legend gives the "
            "largest distance from Keras's loss curve in decades (log10), over "
            "epochs and seeds.",
            out,
        )
    )
    return entries


def _sidecar(image: str) -> str:
    return Path(image).with_suffix(".json").as_posix()


def _write_index(out: Path, entries: list[dict]) -> Path:
    cards = []
    for e in entries:
        media = "".join(
            f'<figure><video controls preload="none" loop muted playsinline '
            f'poster="{html.escape(v["poster"])}" width="560">'
            f'<source src="{html.escape(v["src"])}" type="video/mp4"></video>'
            f'<a class="cfg" href="{html.escape(v["config"])}">configuration</a>'
            "</figure>"
            for v in e.get("videos", [])
        )
        media += "".join(
            f'<figure><a href="{html.escape(i)}"><img src="{html.escape(i)}" '
            f'loading="lazy" alt="{html.escape(e["title"])}"></a>'
            f'<a class="cfg" href="{html.escape(_sidecar(i))}">configuration</a>'
            "</figure>"
            for i in e["images"]
        )
        cards.append(
            f"<section><h2>{html.escape(e['title'])}</h2>"
            f"<p>{html.escape(e['caption'])}</p><div class='imgs'>{media}</div>"
            "</section>"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>optiscape gallery</title>
{HTML_GENERATOR}
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; color: #222; }}
section {{ margin-bottom: 3em; }}
.imgs {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
.imgs img, .imgs video {{ max-width: 560px; width: 100%; border: 1px solid #ddd; }}
figure {{ margin: 0; }}
.cfg {{ font-size: 0.8em; display: block; }}
</style></head><body>
<h1>optiscape gallery</h1>
<p>Keras-3-exact optimizers on analytic surfaces and on the moons MLP. Every image and
video has its full configuration beside it (JSON) and inside it (PNG text chunk, the
video's comment tag).</p>
{"".join(cards)}
</body></html>
"""
    path = out / "index.html"
    write_text(path, page)
    manifest = {"optiscape": {"kind": "gallery"}, "entries": entries}
    write_text(out / "gallery.json", json.dumps(manifest, indent=1))
    return path
