"""Frame reading and the golden-frame comparison for the Manim scene tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

BASELINE_DIR = Path(__file__).parent / "baseline" / "manim"
#: Golden frames are compared at this size (small committed baselines).
GOLDEN_SIZE = (214, 120)
#: Mean absolute difference (0..255) a golden frame may differ by: Pango/cairo
#: antialiasing and PNG rounding move edges by a pixel, not a particle or a line.
GOLDEN_TOLERANCE = 4.0

#: The short configurations the tests render (CI cost: seconds per scene).
TEST_OVERRIDES = {
    "OptimizerRace": {"seconds": 4.0},
    "MomentumScene": {"seconds": 4.0, "steps": 40},
    "NesterovLookahead": {"seconds": 4.0, "steps": 30},
    "AdaptiveStepSizes": {"seconds": 4.0, "steps": 40},
    "SaddleEscape": {"seconds": 4.0, "steps": 50},
    "MoonsPlane": {"seconds": 4.0, "epochs": 12},
    "KerasVsTextbook": {"seconds": 4.0, "steps": 80},
}
#: Golden frames: seconds into each test video.
GOLDEN_TIMES = (1.0, 3.0, -0.5)


def frame_at(path: Path, seconds: float, size=None) -> np.ndarray:
    """`(h, w, 3)` uint8 frame of `path` at `seconds` (negative: from the end)."""
    args = ["ffmpeg", "-v", "error"]
    args += ["-sseof", str(seconds)] if seconds < 0 else ["-ss", str(seconds)]
    vf = [] if size is None else ["-vf", f"scale={size[0]}:{size[1]}:flags=area"]
    cmd = [
        *args,
        "-i",
        str(path),
        *vf,
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    if size is None:
        from scenes.manim.video import probe

        st = probe(path)["streams"][0]
        size = (st["width"], st["height"])
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)


def all_frames(path: Path, fps: float = 2.0, size=(107, 60)) -> np.ndarray:
    """`(n, h, w, 3)` frames sampled at `fps`."""
    cmd = [
        "ffmpeg",
        "-v",
        "error",
        "-i",
        str(path),
        "-vf",
        f"fps={fps},scale={size[0]}:{size[1]}:flags=area",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size[1], size[0], 3)


def golden_path(scene: str, t: float) -> Path:
    return BASELINE_DIR / f"{scene}_{'end' if t < 0 else f'{t:g}s'}.png"


def write_baselines(scene: str, video: Path) -> list[Path]:
    """Writes the golden frames of `video` (run by hand after a visual check)."""
    from PIL import Image

    BASELINE_DIR.mkdir(parents=True, exist_ok=True)
    out = []
    for t in GOLDEN_TIMES:
        p = golden_path(scene, t)
        Image.fromarray(frame_at(video, t, GOLDEN_SIZE)).save(p, optimize=True)
        out.append(p)
    return out


if __name__ == "__main__":  # re-baseline: python tests/manim_frames.py [SCENE ...]
    import sys
    import tempfile

    from scenes.manim import scene_class
    from scenes.manim.video import render_scene

    for name in sys.argv[1:] or list(TEST_OVERRIDES):
        with tempfile.TemporaryDirectory() as tmp:
            video = render_scene(
                scene_class(name).configured(**TEST_OVERRIDES[name]),
                Path(tmp) / f"{name}.mp4",
            )
            print(*write_baselines(name, video))
