"""Manim benchmark: render time vs video time, a 300-particle swarm, and a naive race.

Run: `.venv/bin/python benchmarks/bench_manim.py` (from the repository root).
All figures are measured in this run on this machine:

1. NesterovLookahead and OptimizerRace at -ql: the whole `manim -ql` process
   (imports, simulation, landscape, Typst with a cold cache in a fresh media
   directory, encoding) against the video's own duration. Target <= 1.5x.
2. SwarmScene (300 particles): milliseconds per frame of the motion (render
   time after setup, divided by the frames). Target <= 60 ms.
3. The same race drawn naively (one `always_redraw` per dot and per trail,
   nothing drawn outside the view; no divergence or off-view marks, which only
   ours draws) against ours (`TraceScene.particles`: one updater for all
   traces, vectorised): CPU time of the motion (after the landscape and the
   layers are built), same landscape, quality, seconds and frames; target >= 2x
   faster. Printed twice: the whole process (with Manim's x264 encoding thread,
   the same work for both) and the main thread (the drawing).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def whole_process(scene: str, module: str) -> tuple[float, float, float]:
    """(wall, CPU seconds of `manim -ql` with its encoding; video seconds), cold."""
    from scenes.manim.video import probe

    with tempfile.TemporaryDirectory() as media:
        cmd = [
            sys.executable,
            "-m",
            "manim",
            "-ql",
            "--config_file",
            str(ROOT / "scenes/manim/manim.cfg"),
            "--media_dir",
            media,
            str(ROOT / f"scenes/manim/{module}.py"),
            scene,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        movie = next(Path(media).rglob(f"{scene}.mp4"))
        return wall, cpu, float(probe(movie)["format"]["duration"])


def render_timed(cls) -> tuple[float, float, float, int]:
    """(total, motion, motion main thread) CPU seconds and frames, at -ql.

    Motion: from `scene.t_motion` (set just before the tracker moves) or, if the
    scene does not set it, from the end of `setup`, to the end of the render.

    CPU time, not wall time (on a machine shared with other jobs wall time
    would measure the others). Manim 0.22 encodes with PyAV (libx264) in a
    thread of this process, so the process's CPU time includes the encoding,
    which is the same for every scene of a size; the main thread's CPU time is
    the drawing alone (updaters, cairo, frame copies).
    """
    import manim

    from scenes.manim.config import manim_config

    marks = {}
    orig_setup = cls.setup

    def setup(self):
        orig_setup(self)
        marks["setup"] = (time.process_time(), time.thread_time())

    cls.setup = setup
    with tempfile.TemporaryDirectory() as media:
        with manim.tempconfig(manim_config("low", media, "bench")):
            scene = cls()
            t0 = time.process_time()
            scene.render()
            t1, th1 = time.process_time(), time.thread_time()
            start, th0 = getattr(scene, "t_motion", marks["setup"])
            frames = scene.renderer.num_plays and round(
                scene.renderer.time * manim.config.frame_rate
            )
    return t1 - t0, t1 - start, th1 - th0, frames


def race_pair(starts=None):
    """Our race motion and the naive one: same race, landscape, trails, seconds.

    Args:
        starts: start points (default: the article's one start per optimizer).
    """
    import numpy as np
    from manim import Dot, VGroup, VMobject, always_redraw

    from scenes.manim.race import OptimizerRace
    from scenes.style import series_style

    base = OptimizerRace if starts is None else OptimizerRace.configured(starts=starts)

    class Ours(base):
        seconds = 8.0

        def construct(self):
            self.paint_landscape()
            self.add(self.particles())
            self.t_motion = (time.process_time(), time.thread_time())
            self.advance(self.rows - 1)

    class Naive(base):
        seconds = 8.0

        def construct(self):
            self.paint_landscape()
            mobs = []
            for s, se in enumerate(self.reader.series):
                color = series_style(s)["color"]
                for p in range(se.n_particles):

                    def trail(s=s, p=p, color=color):
                        t = self.tracker.get_value()
                        path = self.in_view(self.frames.trail(s, t)[:, p])
                        path = self.plane.to_scene(path[np.isfinite(path).all(1)])
                        line = VMobject().set_stroke(color, 3)
                        if len(path) > 1:
                            line.set_points_as_corners(path)
                        return line

                    def dot(s=s, p=p, color=color):
                        t = self.tracker.get_value()
                        xy = self.in_view(self.frames.at(s, t)[p])
                        if not np.isfinite(xy).all():
                            return VMobject()
                        return Dot(self.plane.to_scene(xy), radius=0.085, color=color)

                    mobs += [always_redraw(trail), always_redraw(dot)]
            self.add(VGroup(*mobs))
            self.t_motion = (time.process_time(), time.thread_time())
            self.advance(self.rows - 1)

    return Ours, Naive


def best(cls, repeats: int = 2) -> tuple[float, float, float, int]:
    """The fastest of `repeats` renders (the first warms fonts and caches)."""
    return min((render_timed(cls) for _ in range(repeats)), key=lambda r: r[1])


def main() -> None:
    print("1. whole process, manim -ql, cold Typst cache (target <= 1.5x real time)")
    for scene, module in (("NesterovLookahead", "nesterov"), ("OptimizerRace", "race")):
        wall, cpu, video = whole_process(scene, module)
        print(
            f"   {scene:18s} video {video:5.1f} s  wall {wall:5.1f} s "
            f"({wall / video:4.2f}x)"
            f"  CPU {cpu:5.1f} s ({cpu / video:4.2f}x)"
        )
    from scenes.manim.race import SwarmScene

    total, motion, main, frames = best(SwarmScene)
    print("2. SwarmScene, 300 particles (target <= 60 ms/frame), CPU time")
    print(
        f"   {frames} frames, {motion:.2f} s after setup: "
        f"{1e3 * motion / frames:.1f} ms/frame incl. encoding, "
        f"{1e3 * main / frames:.1f} ms/frame drawing "
        f"(setup: simulation {total - motion:.2f} s)"
    )
    print(
        "3. the article race, trails + markers, CPU time of the motion (target >= 2x):"
        "\n   whole process (incl. the x264 encoding thread) / drawing (main thread)"
    )
    grid = [(x, y) for x in (-1.5, -0.5, 0.5, 1.5) for y in (-0.5, 1.0, 2.5)]
    for what, starts in (("1 start (10 dots)", None), ("12 starts (120 dots)", grid)):
        ours, naive = race_pair(starts)
        _, t_ours, m_ours, f_ours = best(ours)
        _, t_naive, m_naive, f_naive = best(naive)
        assert f_ours == f_naive, (f_ours, f_naive)
        print(
            f"   {what:21s} {f_ours} frames: ours {t_ours:5.2f} / {m_ours:5.2f} s, "
            f"naive (always_redraw per dot and trail) {t_naive:5.2f} / "
            f"{m_naive:5.2f} s: {t_naive / t_ours:4.2f}x / {m_naive / m_ours:4.2f}x"
        )


if __name__ == "__main__":
    main()
