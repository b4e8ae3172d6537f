"""Animation speed: `optiscape animate` against FuncAnimation + FFMpegWriter.

Both sides are whole processes (start-up, simulation, drawing, encoding) making
the same video: the 3-optimizer Rosenbrock race of the issue (240 steps, 120
frames, 1280x720, loss panel). The reference draws the same figure (the same
artists, built by `build_race_figure`) the way matplotlib's animation guide
does: `FuncAnimation(...).save(writer=FFMpegWriter)`, which redraws the whole
figure for every frame. Ratios are measured in the same run.

Also reported: the frame loop alone (ms per frame), a 10-optimizer race with
glyphs and both panels, a 1,000-particle swarm, and GIF against MP4.

    python benchmarks/bench_animate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RACE = [
    "--surface", "rosenbrock",
    "--optimizer", "Adam(learning_rate=0.1)",
    "--optimizer", "SGD(learning_rate=0.001, momentum=0.9)",
    "--optimizer", "RMSprop(learning_rate=0.01)",
    "--steps", "240", "--frames", "120", "--fps", "30", "--size", "1280x720",
    "--panels", "loss",
]  # fmt: skip

REFERENCE = """
import sys
from matplotlib.animation import FFMpegWriter, FuncAnimation
from scenes.animate.race import VideoSettings, build_race_figure
from simulator import simulate
race = simulate("rosenbrock", ["Adam(learning_rate=0.1)",
                "SGD(learning_rate=0.001, momentum=0.9)",
                "RMSprop(learning_rate=0.01)"], None, 240)
settings = VideoSettings(frames=120, fps=30, size=(1280, 720), panels=("loss",),
                         dpi=100)
figure = build_race_figure(race, settings)
rows = settings.clock(figure.reader).rows
anim = FuncAnimation(figure.fig, figure.update, frames=rows, blit=False)
anim.save(sys.argv[1], writer=FFMpegWriter(fps=30), dpi=100)
"""


def _timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def _optiscape(args: list[str], out: Path) -> list[str]:
    return [sys.executable, "-m", "scenes.cli", "--quiet", "animate", *args,
            "--out", str(out)]  # fmt: skip


def _frame_loop(args: dict) -> tuple[float, float, int]:
    """In-process: ms per frame of the frame loop, whole seconds, file bytes."""
    from scenes.animate.race import VideoSettings, animate_race
    from simulator import simulate

    race = simulate(
        args["surface"], args["optimizers"], args.get("starts"), args["steps"]
    )
    settings = VideoSettings(**args["settings"])
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        anim = animate_race(
            race, Path(tmp) / args["out"], settings, glyphs=args.get("glyphs", ()),
            progress=False,
        )  # fmt: skip
        whole = time.perf_counter() - start
        size = (Path(tmp) / args["out"]).stat().st_size
    return 1000 * anim.seconds_rendering / anim.frames, whole, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    ours, ref = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for _ in range(args.repeat):
            ours.append(_timed(_optiscape(RACE, tmp / "ours.mp4"), root))
            ref.append(
                _timed([sys.executable, "-c", REFERENCE, str(tmp / "ref.mp4")], root)
            )
    o, r = statistics.median(ours), statistics.median(ref)
    print("3-optimizer Rosenbrock race, 120 frames, 1280x720, loss panel")
    print(f"  optiscape animate (whole process)      {o:6.2f} s  (runs {ours})")
    print(f"  FuncAnimation + FFMpegWriter (process) {r:6.2f} s")
    print(f"  ratio                                  {r / o:6.1f}x  (target >= 4)")

    race3 = {
        "surface": "rosenbrock",
        "optimizers": RACE[3:8:2],
        "steps": 240,
        "settings": {
            "frames": 120, "fps": 30, "size": (1280, 720), "panels": ("loss",)
        },
        "out": "r.mp4",
    }  # fmt: skip
    ms, whole, size = _frame_loop(race3)
    print(f"  frame loop (draw + pipe)               {ms:6.1f} ms/frame (target <= 25)")

    from scenes.gallery import article_optimizers

    ten = {
        "surface": "rosenbrock",
        "optimizers": [t for _, t in article_optimizers(0.001, 0.1, 0.01)],
        "starts": [(-1.2, 1.0)],
        "steps": 500,
        "settings": {"frames": 300, "fps": 30, "size": (1280, 720),
                     "panels": ("loss", "internals")},
        "glyphs": ("velocity", "step_size"),
        "out": "ten.mp4",
    }  # fmt: skip
    ms, whole, size = _frame_loop(ten)
    print("10 optimizers, glyphs, loss + internals panels, 300 frames, 1280x720")
    print(f"  {ms:.1f} ms/frame, {whole:.2f} s in all, {size / 1e6:.2f} MB")

    import numpy as np

    g = np.linspace(-4.5, 4.5, 32)
    starts = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)[:1000]
    swarm = {
        "surface": "himmelblau",
        "optimizers": ["SGD(learning_rate=0.01, momentum=0.9)"],
        "starts": starts,
        "steps": 200,
        "settings": {"frames": 150, "fps": 30, "size": (1280, 720), "trail": 15},
        "out": "swarm.mp4",
    }
    ms, whole, size = _frame_loop(swarm)
    print(
        f"1,000-particle swarm, trail 15, 150 frames: {ms:.1f} ms/frame, {whole:.2f} s"
    )

    for out in ("r.mp4", "r.gif"):
        ms, whole, size = _frame_loop({**race3, "out": out})
        print(
            f"{out[2:]:>4}: {whole:.2f} s in all, {size / 1e6:.2f} MB "
            f"({ms:.1f} ms/frame)"
        )
    print(json.dumps({"ratio": r / o}))


if __name__ == "__main__":
    main()
