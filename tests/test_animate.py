"""Animations written to real files and read back (ffprobe, decoded frames)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from video_probe import decode, probe, rms

from scenes.animate.race import VideoSettings, animate_race, build_race_figure
from scenes.output import read_png_config
from simulator import simulate

EXAMPLES = Path(__file__).parent.parent / "examples"
EXAMPLE = [
    "animate", "--surface", "rosenbrock",
    "--optimizer", "Adam(learning_rate=0.1)",
    "--optimizer", "SGD(learning_rate=0.001, momentum=0.9)",
    "--steps", "240", "--frames", "120", "--fps", "30", "--size", "1280x720",
    "--panels", "loss", "--out", "race.mp4",
]  # fmt: skip


@pytest.fixture(scope="module")
def race():
    # Three optimizers from one start; the Nesterov run diverges at step 5.
    return simulate(
        "rosenbrock",
        [
            "Adam(learning_rate=0.05)",
            "SGD(learning_rate=0.002, momentum=0.9, nesterov=True)",
            "RMSprop(0.01)",
        ],
        [[-1.2, 1.0], [2.0, -0.5]],
        60,
    )


def optiscape(*args, cwd=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "scenes.cli", "--quiet", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_mp4_frames_size_fps_metadata_and_poster(race, tmp_path):
    settings = VideoSettings(frames=40, fps=20, size=(640, 360), panels=("loss",))
    anim = animate_race(
        race, tmp_path / "r.mp4", settings, glyphs=("velocity",), progress=False
    )
    info = probe(anim.path)
    assert (info["codec"], info["pix_fmt"]) == ("h264", "yuv420p")
    assert (info["width"], info["height"], info["frames"]) == (640, 360, 40)
    assert info["fps"] == 20
    assert info["duration"] == pytest.approx(2.0, abs=0.06)
    # The container's comment tag and the sidecar carry the same configuration.
    stored = json.loads(info["comment"])
    sidecar = json.loads((tmp_path / "r.mp4.json").read_text())
    assert stored == sidecar
    cfg = stored["optiscape"]
    assert cfg["labels"] == race.labels
    assert cfg["steps"] == 60
    assert cfg["video"]["frames"] == 40
    assert cfg["video"]["panels"] == ["loss"]
    assert cfg["glyphs"] == ["velocity"]
    frames = decode(anim.path)
    assert len(frames) == 40
    # Frames change over time; the holds repeat the first and last row.
    assert rms(frames[0], frames[-1]) > 5
    diffs = [rms(frames[i], frames[i + 1]) for i in range(len(frames) - 1)]
    assert sum(d > 0.5 for d in diffs) >= 20
    assert anim.rows[0] == 0
    assert anim.rows[-1] == 60
    # The last frame (blitted) is the poster (a full, static draw), up to H.264.
    poster = np.asarray(Image.open(tmp_path / "r_poster.png").convert("RGB"))
    assert rms(frames[-1], poster) < 4
    assert read_png_config(tmp_path / "r_poster.png") == sidecar


def test_first_frame_shows_the_starts(race, tmp_path):
    settings = VideoSettings(frames=12, fps=12, size=(640, 480), hold=(0, 0))
    anim = animate_race(race, tmp_path / "s.mp4", settings, progress=False)
    first = decode(anim.path)[0]
    # The same figure, moved to row 0 and drawn whole (no blitting).
    figure = build_race_figure(race, settings)
    figure.fig.canvas.draw()  # the layout pass comes first, as in the animation
    figure.fig.set_layout_engine("none")
    figure.update(0)
    for label, heads in figure.race.layers[0].heads.items():
        np.testing.assert_array_equal(heads.get_offsets(), race[label].positions[0])
    figure.fig.canvas.draw()
    expected = np.asarray(figure.fig.canvas.buffer_rgba())[..., :3]
    assert rms(first, expected) < 4
    assert rms(first, decode(anim.path)[-1]) > 5


@pytest.mark.parametrize(("suffix", "codec"), [("gif", "gif"), ("webm", "vp9")])
def test_gif_and_webm(race, tmp_path, suffix, codec):
    settings = VideoSettings(frames=16, fps=8, size=(480, 270))
    anim = animate_race(race, tmp_path / f"r.{suffix}", settings, progress=False)
    info = probe(anim.path)
    assert info["codec"] == codec
    assert (info["width"], info["height"], info["frames"]) == (480, 270, 16)
    frames = decode(anim.path)
    assert rms(frames[0], frames[-1]) > 5
    assert (
        json.loads((tmp_path / f"r.{suffix}.json").read_text())["optiscape"]["video"][
            "fps"
        ]
        == 8
    )


def test_html_player_is_self_contained(race, tmp_path):
    settings = VideoSettings(frames=10, fps=10, size=(320, 240))
    anim = animate_race(race, tmp_path / "p.html", settings, progress=False)
    html = anim.path.read_text()
    assert "<video controls" in html
    assert not list(tmp_path.glob("*tmp*"))  # the intermediate mp4 is gone
    config = re.search(r"id='optiscape-config'>(.*?)</script>", html, re.S)[1]
    assert json.loads(config)["optiscape"]["labels"] == race.labels
    data = re.search(r"base64,([A-Za-z0-9+/=]+)'", html)[1]
    mp4 = tmp_path / "inner.mp4"
    mp4.write_bytes(base64.b64decode(data))
    assert probe(mp4)["frames"] == 10
    assert "<video" in anim._repr_html_()


def test_png_frame_sequence(race, tmp_path):
    settings = VideoSettings(frames=5, fps=5, size=(320, 240))
    anim = animate_race(race, tmp_path / "f.png", settings, progress=False)
    frames = sorted(tmp_path.glob("f_0*.png"))
    assert [p.name for p in frames] == [f"f_{i:04d}.png" for i in range(5)]
    assert Image.open(frames[0]).size == (320, 240)
    assert read_png_config(frames[3])["optiscape"]["video"]["frames"] == 5
    assert anim.path == frames[0]


def test_settings_refuse_bad_values():
    with pytest.raises(ValueError, match="`fps` must be a number > 0"):
        VideoSettings(fps=0)
    with pytest.raises(ValueError, match="`frames` must be an integer >= 1"):
        VideoSettings(frames=0)
    with pytest.raises(ValueError, match="Unknown panel 'speed'"):
        VideoSettings(panels=("loss", "speed"))
    with pytest.raises(ValueError, match="even width and height"):
        VideoSettings(size=(641, 360)).check_even("mp4")
    VideoSettings(size=(641, 360)).check_even("gif")  # GIF takes odd sizes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fps", "0"], "`fps` must be a number > 0. Received: fps=0.0"),
        (["--frames", "0"], "`frames` must be an integer >= 1"),
        (["--panels", "loss,speed"], "Unknown panel 'speed'"),
        (["--size", "1281x720"], "H.264 needs an even width and height"),
        (["--size", "big"], "--size must be WIDTHxHEIGHT"),
        (["--out", "race.avi"], "`out` must end in one of .mp4, .gif"),
        (["--trail", "1"], "--trail must be 0 (whole path) or >= 2"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path, args, message):
    base = ["animate", "-s", "valley", "-o", "SGD(0.05)", "--steps", "10"]
    r = optiscape(*base, *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not list(tmp_path.iterdir())  # refused before any work


def test_cli_unwritable_directory_and_missing_ffmpeg(tmp_path):
    base = ["animate", "-s", "valley", "-o", "SGD(0.05)", "--steps", "10"]
    (tmp_path / "notes.txt").write_text("a file, not a directory")
    r = optiscape(*base, "--out", "notes.txt/sub/x.mp4", cwd=tmp_path)
    assert r.returncode == 2
    assert "cannot write into" in r.stderr
    assert (tmp_path / "notes.txt").read_text() == "a file, not a directory"
    rc = tmp_path / "matplotlibrc"
    rc.write_text("animation.ffmpeg_path: /nonexistent/ffmpeg\n")
    r = optiscape(*base, "--out", "x.mp4", cwd=tmp_path, env={"MATPLOTLIBRC": str(rc)})
    assert r.returncode == 2
    assert "needs ffmpeg" in r.stderr
    assert "apt-get install ffmpeg" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_cli_example_from_the_issue(tmp_path):
    r = optiscape(*EXAMPLE, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    info = probe(tmp_path / "race.mp4")
    assert (info["width"], info["height"], info["frames"]) == (1280, 720, 120)
    assert info["duration"] == pytest.approx(4.0, abs=0.05)
    assert json.loads(info["comment"])["optiscape"]["steps"] == 240


@pytest.mark.slow
def test_swarm_and_every_panel(tmp_path):
    r = optiscape(
        "animate", "-s", "himmelblau", "-o", "SGD(0.01, momentum=0.9)",
        "-o", "Adam(0.05)", "--swarm", "23", "--steps", "150", "--frames", "30",
        "--size", "960x540", "--panels", "loss,internals,3d", "--trail", "12",
        "--glyph", "velocity", "--out", "swarm.mp4", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    info = probe(tmp_path / "swarm.mp4")
    assert (info["width"], info["height"], info["frames"]) == (960, 540, 30)
    frames = decode(tmp_path / "swarm.mp4")
    assert rms(frames[3], frames[-1]) > 3
    assert len(json.loads(info["comment"])["optiscape"]["labels"]) == 2


@pytest.mark.slow
def test_render_spec_writes_figure_and_video(tmp_path):
    spec = tmp_path / "v.toml"
    spec.write_text(
        (EXAMPLES / "valley_video.toml")
        .read_text()
        .replace("seconds = 8", "seconds = 2")
        .replace("size = [1280, 720]", "size = [640, 360]")
    )
    r = optiscape("render", str(spec), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    figure = tmp_path / "out" / "valley_video.png"
    video = tmp_path / "out" / "valley_video.mp4"
    assert probe(video)["frames"] == 60
    # The figure and the video keep their own sidecars; both carry the spec.
    fig_cfg = json.loads((tmp_path / "out" / "valley_video.json").read_text())
    vid_cfg = json.loads((tmp_path / "out" / "valley_video.mp4.json").read_text())
    assert fig_cfg["optiscape"]["spec"]["video"]["fps"] == 30
    assert vid_cfg["optiscape"]["spec"] == fig_cfg["optiscape"]["spec"]
    assert read_png_config(figure)["optiscape"]["spec"]["kind"] == "race"
    # --out with a video suffix writes only that video.
    r = optiscape("render", str(spec), "--out", "only.gif", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert probe(tmp_path / "only.gif")["frames"] == 60
    assert not (tmp_path / "only.png").exists()


@pytest.mark.slow
def test_moons_animation_from_recorded_weights(tmp_path):
    r = optiscape(
        "moons", "--animate", "m.mp4", "--epochs-scale", "0.05", "--seconds", "2",
        "--fps", "10", "--size", "640x360", "--boundary", "Lion", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    info = probe(tmp_path / "m.mp4")
    assert (info["width"], info["height"], info["frames"]) == (640, 360, 20)
    cfg = json.loads(info["comment"])["optiscape"]
    assert cfg["video"]["boundary"] == "Lion"
    assert len(cfg["labels"]) == 10
    # The off-plane error is stated, per configuration.
    assert set(cfg["off_plane_max"]) == set(cfg["labels"])
    assert all(v >= 0 for v in cfg["off_plane_max"].values())
    frames = decode(tmp_path / "m.mp4")
    assert rms(frames[2], frames[-1]) > 3
    bad = optiscape("moons", "--animate", "m.mp4", "--boundary", "adam", cwd=tmp_path)
    assert bad.returncode == 2
    assert "--boundary must be one of" in bad.stderr
