"""`optiscape compare --animate`: the flavour race as a real video, read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from video_probe import decode, probe, rms

from scenes.animate.flavours import distance_panel
from scenes.animate.race import VideoSettings, build_race_figure
from scenes.compare import MATCHES, ZERO_FLOOR, run_comparison

FLAVOURS = "keras,torch,optax,textbook,article"


def optiscape(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "scenes.cli", "--quiet", *args],
        cwd=cwd,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_compare_animation_mp4_metadata_and_moving_panels(tmp_path):
    r = optiscape(
        "compare", "--optimizer", "RMSprop(learning_rate=0.01)", "--flavours",
        FLAVOURS, "--surface", "himmelblau", "--steps", "120", "--frames", "36",
        "--fps", "12", "--size", "800x450", "--animate", "rms.mp4", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "rms.mp4",
        "rms.mp4.json",
        "rms_poster.png",
    ]
    info = probe(tmp_path / "rms.mp4")
    assert (info["codec"], info["width"], info["height"]) == ("h264", 800, 450)
    assert info["frames"] == 36
    assert info["duration"] == pytest.approx(3.0, abs=0.1)
    stored = json.loads(info["comment"])
    assert stored == json.loads((tmp_path / "rms.mp4.json").read_text())
    cfg = stored["optiscape"]
    assert cfg["video"]["kind"] == "compare"
    assert cfg["video"]["frames"] == 36
    cmp = cfg["compare"]
    assert cmp["flavours"] == FLAVOURS.split(",")
    assert cmp["match"] == "defaults"
    assert (cmp["matches"], cmp["match_default"]) == (list(MATCHES), "defaults")
    assert cmp["statement"].startswith("Matched defaults")
    # The stored distances are the race's: recomputed here from the same run.
    run = run_comparison(
        "RMSprop(learning_rate=0.01)", FLAVOURS.split(","), "himmelblau", steps=120
    )
    assert cfg["labels"] == [e.label for e in run.comparison.entrants]
    assert cmp["reference"] == cfg["labels"][0] == run.race[run.reference].label
    assert cmp["final_distance"] == {
        t.label: float(d[-1]) for t, d in zip(run.race, run.distances, strict=True)
    }
    assert cmp["final_distance"][cmp["reference"]] == 0.0
    assert cmp["final_distance"][run.race[1].label] > 1e-3  # torch's alpha = 0.99
    frames = decode(tmp_path / "rms.mp4")
    assert len(frames) == 36
    assert rms(frames[0], frames[-1]) > 5
    diffs = [rms(frames[i], frames[i + 1]) for i in range(len(frames) - 1)]
    assert sum(d > 0.3 for d in diffs) >= 20
    # The distance panel (right third) moves with the race, not only the left.
    right = slice(frames.shape[2] * 2 // 3, None)
    assert rms(frames[8][:, right], frames[-1][:, right]) > 2


def test_distance_cursor_follows_the_trace():
    run = run_comparison(
        "Adagrad(learning_rate=0.1)", ["torch", "keras", "textbook"], "saddle", steps=40
    )
    assert run.reference == 1  # Keras is found wherever it is in the list
    settings = VideoSettings(frames=10, size=(640, 360))
    figure = build_race_figure(
        run.race, settings, side_panels={"distance": distance_panel(run)}
    )
    curves = figure.panels["distance"]
    assert list(curves.lines) == [run.race[0].label, run.race[2].label]
    # Each curve has its particle's colour.
    heads = figure.race.layers[0].heads
    for label, line in curves.lines.items():
        np.testing.assert_allclose(
            heads[label].get_facecolor()[0][:3],
            to_rgb(line.get_color()),
        )
    for row in (0, 7, 40):
        figure.update(row)
        dots = curves.cursor["dots0"].get_offsets()
        expected = np.maximum(run.distances[[0, 2], row], ZERO_FLOOR)
        np.testing.assert_array_equal(dots[:, 0], [row, row])
        np.testing.assert_allclose(dots[:, 1], expected, rtol=1e-12)
    # Adagrad's accumulator starts at 0 in torch and the paper, 0.1 in Keras.
    assert run.distances[0, 1] > 1e-3
    assert run.distances[:, 0].tolist() == [0.0, 0.0, 0.0]


def test_compare_animation_same_args_and_bad_out(tmp_path):
    r = optiscape(
        "compare", "--optimizer", "RMSprop", "--flavours", "keras,torch",
        "--surface", "rosenbrock", "--steps", "20", "--frames", "6", "--size",
        "320x240", "--same-args", "--animate", "s.gif", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    cmp = json.loads((tmp_path / "s.gif.json").read_text())["optiscape"]["compare"]
    assert cmp["match"] == "names"
    assert "alpha <- Keras rho=0.9" in cmp["statement"]
    bad = optiscape(
        "compare", "-o", "Adam", "-s", "rosenbrock", "--animate", "x.txt", cwd=tmp_path
    )
    assert bad.returncode == 2
    assert "`out` must end in one of" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    odd = optiscape(
        "compare", "-o", "Adam", "-s", "rosenbrock", "--size", "641x360",
        "--animate", "y.mp4", cwd=tmp_path,
    )  # fmt: skip
    assert odd.returncode == 2
    assert "even width and height" in odd.stderr
    assert not (tmp_path / "x.txt").exists()
    assert not (tmp_path / "y.mp4").exists()
