"""Reading videos back for tests: ffprobe's facts and decoded frames."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np


def _need(tool: str) -> str:
    path = shutil.which(tool)
    # A renderer test must fail, never skip, when it cannot check.
    assert path, f"{tool} is required to check rendered videos (apt-get install ffmpeg)"
    return path


def probe(path: str | Path) -> dict:
    """ffprobe's stream and format facts, with the exact decoded frame count."""
    out = subprocess.run(
        [
            _need("ffprobe"), "-v", "error", "-count_frames", "-select_streams", "v:0",
            "-show_entries",
            "stream=codec_name,width,height,r_frame_rate,nb_read_frames,pix_fmt"
            ":format=duration:format_tags=comment",
            "-of", "json", str(path),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    stream = data["streams"][0]
    num, den = stream["r_frame_rate"].split("/")
    return {
        "codec": stream["codec_name"],
        "width": int(stream["width"]),
        "height": int(stream["height"]),
        "fps": float(num) / float(den),
        "frames": int(stream["nb_read_frames"]),
        "pix_fmt": stream.get("pix_fmt"),
        "duration": float(data["format"].get("duration", "nan")),
        "comment": data["format"].get("tags", {}).get("comment"),
    }


def decode(path: str | Path) -> np.ndarray:
    """Every frame as `(F, H, W, 3)` uint8."""
    info = probe(path)
    raw = subprocess.run(
        [_need("ffmpeg"), "-v", "error", "-i", str(path), "-f", "rawvideo",
         "-pix_fmt", "rgb24", "pipe:"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    frames = np.frombuffer(raw, np.uint8)
    return frames.reshape(-1, info["height"], info["width"], 3)


def rms(a: np.ndarray, b: np.ndarray) -> float:
    """Root-mean-square difference on 0-255 levels."""
    return float(np.sqrt(np.mean((a.astype(float) - b.astype(float)) ** 2)))
