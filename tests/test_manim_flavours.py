"""KerasVsTextbook: its configuration, its captions against the trace, Manim's CLI.

The render itself (duration, size, frames change, no blank frames, golden
frames) is checked with the other scenes in `test_manim.py` (`TEST_OVERRIDES`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_manim import _render, _texts

from scenes.compare import MATCHES
from scenes.manim import scene_class
from scenes.manim.base import fmt

ROOT = Path(__file__).parent.parent


def test_config_records_the_comparison_and_bad_attributes_are_one_line():
    cls = scene_class("KerasVsTextbook")
    cfg = cls.scene_config()["compare"]
    assert cfg["flavours"] == ["keras", "textbook"]
    assert cfg["runs_as"] == [
        "Adam(learning_rate=0.1)",
        "textbook:Adam(learning_rate=0.1)",
    ]
    assert (cfg["match"], cfg["matches"], cfg["match_default"]) == (
        "defaults",
        list(MATCHES),
        "defaults",
    )
    assert "epsilon=1e-08 (its default; Keras epsilon=1e-07)" in cfg["statement"]
    names = cls.configured(match="names").scene_config()["compare"]
    assert names["runs_as"][1] == "textbook:Adam(learning_rate=0.1, epsilon=1e-07)"
    for overrides, message in [
        ({"flavours": ("keras", "torch")}, "needs 'keras' and 'textbook'"),
        ({"optimizers": ("Adam", "SGD")}, "compares ONE optimizer"),
        ({"optimizers": ("Lamb",)}, "The textbook flavour has no Lamb"),
        ({"match": "both"}, "`match` must be one of"),
    ]:
        with pytest.raises(ValueError, match=message) as err:
            cls.configured(**overrides).scene_config()
        assert "\n" not in str(err.value)


@pytest.mark.slow
def test_captions_agree_with_the_trace(tmp_path_factory):
    _, scene = _render("KerasVsTextbook", tmp_path_factory)
    shown = _texts(scene)
    keras, textbook = scene.race  # flavours ("keras", "textbook"), one start
    # Captions name the flavour: the part of the legend label after " · ".
    kname, tname = (t.label.rpartition(" · ")[2] for t in scene.race)
    assert [e.flavour for e in scene.run.comparison.entrants] == ["keras", "textbook"]
    w_k, w_t = keras.positions[:, 0], textbook.positions[:, 0]
    # Step 1, independently: the length of each first step.
    first = [float(np.linalg.norm(w[1] - w[0])) for w in (w_k, w_t)]
    assert f"first step: {kname} {fmt(first[0])}, {tname} {fmt(first[1])}" in shown
    assert first[1] > 10 * first[0]  # the premise: Keras's eps-hat swamps |g|
    g0 = float(np.linalg.norm(keras.internals["gradient"][0, 0]))
    assert f"|g| = {fmt(g0)} at the start" in shown
    assert f"acts as {fmt(1e-7 / np.sqrt(1 - 0.999))} on √v̂ at step 1" in shown
    # The distance between the paths at the chosen steps.
    gap = np.linalg.norm(w_k - w_t, axis=-1)
    for step in scene.caption_steps:
        assert f"step {step}: the paths are {fmt(gap[step])} apart" in shown
    widest = int(np.argmax(gap))
    assert f"Widest gap between the paths: {fmt(gap[widest])} at step {widest}" in (
        shown
    )
    assert f"{tname} ends {fmt(gap[-1])} from {kname}" in shown
    # Who reaches f < tol first (one start: the median is the loss itself).
    reached = [
        int(np.flatnonzero(t.loss[:, 0] < scene.tolerance)[0]) for t in scene.race
    ]
    assert reached[1] < reached[0]
    tol = fmt(scene.tolerance)
    assert f"{tname} reaches f < {tol} first, at step {reached[1]}" in shown
    assert f"{kname} at step {reached[0]}" in shown
    assert f"{kname}: f < {tol} at step {reached[0]}" in shown


@pytest.mark.slow
def test_renders_from_the_manim_cli(tmp_path):
    # Manim's own CLI, last frame only (-s): the file is a valid scene module.
    done = subprocess.run(
        [sys.executable, "-m", "manim", "-ql", "-s", "--media_dir", str(tmp_path),
         "--disable_caching", str(ROOT / "scenes" / "manim" / "flavours.py"),
         "KerasVsTextbook"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (png,) = tmp_path.rglob("KerasVsTextbook*.png")
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (854, 480)
        assert np.asarray(im.convert("L")).std() > 20
