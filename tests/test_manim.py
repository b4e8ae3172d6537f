"""Manim scenes: configuration, CLI errors, rendered mp4s, golden frames, numbers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from manim_frames import (
    GOLDEN_SIZE,
    GOLDEN_TIMES,
    GOLDEN_TOLERANCE,
    TEST_OVERRIDES,
    all_frames,
    frame_at,
    golden_path,
)

from scenes.manim import SCENES, MissingDependency, require_video, scene_class
from scenes.manim.config import QUALITIES, load_style, manim_config


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "scenes.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


# -- fast: configuration and errors ------------------------------------------------


def test_quality_presets_are_manims():
    import manim

    with manim.tempconfig(manim_config("low", "/tmp/unused", "x")):
        assert (manim.config.pixel_width, manim.config.pixel_height) == (854, 480)
        assert manim.config.frame_rate == 15
    assert set(QUALITIES) == {"low", "medium", "high", "4k"}
    with pytest.raises(ValueError, match=r"`quality` must be one of .*quality='8k'"):
        manim_config("8k", "/tmp/unused", "x")


def test_our_cfg_keys_are_validated(tmp_path):
    cfg = tmp_path / "manim.cfg"
    cfg.write_text("[CLI]\nbackground_color = #FFFFFF\n[optiscape]\ntrail_widht = 3\n")
    with pytest.raises(ValueError, match="trail_widht: unknown key"):
        load_style(cfg)
    cfg.write_text("[optiscape]\nmarker_radius = 5\n")
    with pytest.raises(ValueError, match=r"`marker_radius` must be a number in"):
        load_style(cfg)
    cfg.write_text("[optiscape]\nink = black\n")
    with pytest.raises(ValueError, match="ink='black'"):
        load_style(cfg)
    assert load_style().ink.startswith("#")  # the shipped manim.cfg is valid


def test_scene_parameters_are_validated():
    cls = scene_class("SaddleEscape")
    with pytest.raises(ValueError, match="`stepz` is not a parameter of SaddleEscape"):
        cls.configured(stepz=3)
    with pytest.raises(ValueError, match=r"`seconds` must be a number in \[1, 600\]"):
        cls.configured(seconds=0)
    sub = cls.configured(steps=7)
    assert sub.steps == 7
    assert cls.steps != 7
    assert sub.scene_config()["steps"] == 7


def test_missing_typst_is_one_line_saying_what_to_install(monkeypatch, capsys):
    import importlib.util

    from scenes import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "typst" else real(n, *a)
    )
    with pytest.raises(MissingDependency, match="pip install 'optiscape\\[video\\]'"):
        require_video()
    assert cli.main(["video", "--scene", "SaddleEscape"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "Typst" in err
    assert "pip install" in err


def test_video_cli_list_and_errors(tmp_path):
    done = _cli("video", "--list", cwd=tmp_path)
    assert done.returncode == 0
    for name in SCENES:
        assert name in done.stdout
    for args, needle in [
        (("video", "--scene", "Nope"), "scene='Nope'"),
        (("video", "--scene", "SaddleEscape", "--quality", "8k"), "quality='8k'"),
        (("video", "--scene", "SaddleEscape", "--out", "x.gif"), "out='x.gif'"),
        (("video",), "--scene"),
    ]:
        bad = _cli(*args, cwd=tmp_path)
        assert bad.returncode == 2, args
        assert needle in bad.stderr, bad.stderr
        assert bad.stderr.count("\n") == 1, bad.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_foreign_mp4_is_not_overwritten(tmp_path):
    from scenes.manim.video import render_scene

    out = tmp_path / "theirs.mp4"
    out.write_bytes(b"not ours")
    with pytest.raises(ValueError, match="this tool did not write it"):
        render_scene(scene_class("SaddleEscape"), out)
    assert out.read_bytes() == b"not ours"


def test_spec_video_table_is_validated():
    from scenes.spec import SpecError, parse_spec

    base = {
        "surface": {"name": "saddle"},
        "optimizers": [{"text": "SGD(learning_rate=0.02)"}],
    }
    spec = parse_spec({**base, "video": {"renderer": "manim", "seconds": 3}})
    assert spec.video == {"renderer": "manim", "seconds": 3}
    with pytest.raises(SpecError, match="renderer"):
        parse_spec({**base, "video": {"renderer": "blender"}})
    with pytest.raises(SpecError, match="unknown key"):
        parse_spec({**base, "video": {"renderr": "manim"}})


def test_helpers_computed_from_data():
    from scenes.manim.momentum import first_overshoot
    from scenes.manim.race import short_label

    assert first_overshoot(np.array([0.8, 0.3, -0.1, 0.05])) == 2
    assert first_overshoot(np.array([0.8, 0.3, 0.1])) == -1
    assert (
        short_label("SGD(learning_rate=0.001, momentum=0.9, nesterov=True)")
        == "SGD lr=0.001 μ=0.9 Nesterov"
    )


# -- slow: every scene rendered at low quality ---------------------------------------

_RENDERED: dict = {}


def _render(name, tmp_path_factory):
    if name not in _RENDERED:
        from scenes.manim.video import render_scene

        cls = scene_class(name).configured(**TEST_OVERRIDES[name])
        out = tmp_path_factory.mktemp("manim") / f"{name}.mp4"
        holder = {}
        orig = cls.construct

        def construct(self):  # keep the instance: its numbers are checked below
            holder["scene"] = self
            orig(self)

        cls.construct = construct
        render_scene(cls, out)
        _RENDERED[name] = (out, holder["scene"])
    return _RENDERED[name]


def _texts(scene) -> str:
    """Every string on screen at the end: Texts as typed, LiveTexts' last value."""
    from manim import Text

    from scenes.manim.base import GlyphText, LiveText

    out = []
    for top in scene.mobjects:
        for m in top.get_family():
            if isinstance(m, (LiveText, GlyphText)):
                out.append(m.text)
            elif isinstance(m, Text):  # (a LiveText child keeps its first text)
                out.append(m.original_text)
    return "\n".join(out)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TEST_OVERRIDES))
def test_scene_renders_a_sound_mp4(name, tmp_path_factory):
    from scenes.manim.video import probe, read_video_config

    path, scene = _render(name, tmp_path_factory)
    info = probe(path)
    stream = info["streams"][0]
    assert (stream["width"], stream["height"]) == (854, 480)
    assert stream["r_frame_rate"] == "15/1"
    duration = float(info["format"]["duration"])
    assert duration == pytest.approx(scene.renderer.time, abs=0.15)
    assert duration >= TEST_OVERRIDES[name]["seconds"]
    assert int(stream["nb_read_frames"]) == pytest.approx(duration * 15, abs=2)
    frames = all_frames(path).astype(float)
    # No blank frames: every sampled frame has the landscape and text on it.
    assert (frames.std(axis=(1, 2, 3)) > 20).all()
    # Frames change over time (the particles move), start to end and mid-run.
    diffs = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    assert (diffs > 0.05).sum() >= len(diffs) // 3
    cfg = read_video_config(path)["optiscape"]
    assert cfg["scene"] == name
    assert cfg["quality"] == "low"
    assert cfg["manim"]["pixel_width"] == 854
    side = json.loads(path.with_name(path.name + ".json").read_text())
    assert side["optiscape"] == cfg


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TEST_OVERRIDES))
def test_golden_frames(name, tmp_path_factory):
    from PIL import Image

    path, _ = _render(name, tmp_path_factory)
    for t in GOLDEN_TIMES:
        golden = golden_path(name, t)
        assert golden.exists(), f"missing baseline {golden} (tests/manim_frames.py)"
        want = np.asarray(Image.open(golden).convert("RGB"), dtype=float)
        got = frame_at(path, t, GOLDEN_SIZE).astype(float)
        diff = float(np.abs(got - want).mean())
        assert diff <= GOLDEN_TOLERANCE, f"{golden.name}: mean |diff| {diff:.2f}"


@pytest.mark.slow
def test_race_card_numbers_agree_with_the_trace(tmp_path_factory):
    from scenes.manim.race import short_label

    _, scene = _render("OptimizerRace", tmp_path_factory)
    shown = _texts(scene)
    reached = []
    for trace in scene.race:  # independently: first recorded step below target
        loss = np.median(trace.loss.reshape(len(trace.steps_recorded), -1), axis=1)
        hit = np.flatnonzero(loss < scene.target)
        if hit.size:
            reached.append((int(trace.steps_recorded[hit[0]]), trace.label))
    assert reached, "the default race must have someone reach the target"
    for step, label in sorted(reached)[:5]:  # the card lists the first five
        assert f"{short_label(label)}: step {step}" in shown
    assert "Diverged: none" in shown


@pytest.mark.slow
def test_nesterov_numbers_agree_with_the_trace(tmp_path_factory):
    _, scene = _render("NesterovLookahead", tmp_path_factory)
    tr = scene.race[0]
    mu = 0.8
    w = tr.positions[:-1, 0]
    m = tr.internals["velocity"][:, 0]
    m_old = np.concatenate([np.zeros((1, 2)), m[:-1]])
    theta = tr.internals["nesterov_base"][:, 0]
    err = float(np.abs(w - theta - mu * m_old).max())
    assert err < 1e-12
    assert f"at most {err:.1e} over the run" in _texts(scene)


@pytest.mark.slow
def test_moons_off_plane_statement_agrees_with_the_projection(tmp_path_factory):
    _, scene = _render("MoonsPlane", tmp_path_factory)
    off = np.array([p.off_plane[-1] for p in scene.projections])
    span = np.array(
        [np.linalg.norm(h.weights[-1] - h.weights[0]) for h in scene.histories]
    )
    # Independently: the residual of the least-squares projection of the final
    # weights onto the plane (origin + directions), against the distance moved.
    pl = scene.moons_plane
    for h, o in zip(scene.histories, off, strict=True):
        d = h.weights[-1] - pl.origin
        coef = np.linalg.lstsq(pl.directions.T, d, rcond=None)[0]
        assert np.linalg.norm(d - coef @ pl.directions) == pytest.approx(o, rel=1e-9)
    from scenes.manim.base import fmt

    assert f"{fmt(float(np.median(off / span)) * 100)}% of the distance" in _texts(
        scene
    )


@pytest.mark.slow
def test_gallery_section_writes_playable_videos(tmp_path):
    from scenes.gallery import _write_index
    from scenes.manim.gallery import render_manim_gallery
    from scenes.manim.video import probe

    entries = render_manim_gallery(tmp_path, quick=True)
    page = _write_index(tmp_path, entries).read_text()
    for e in entries:
        (video,) = e["videos"]
        assert f'<source src="{video["src"]}" type="video/mp4">' in page
        assert f'poster="{video["poster"]}"' in page
        assert float(probe(tmp_path / video["src"])["format"]["duration"]) > 3
        assert (tmp_path / video["config"]).exists()
        assert (tmp_path / video["poster"]).stat().st_size > 1000


@pytest.mark.slow
def test_divergence_is_marked_where_it_left_with_the_step(tmp_path):
    from scenes.manim.race import short_label
    from scenes.manim.video import render_scene

    cls = scene_class("OptimizerRace").configured(
        optimizers=("SGD(learning_rate=0.008)", "Adam(learning_rate=0.1)"),
        steps=40,
        seconds=2.0,
    )
    holder = {}
    orig = cls.construct

    def construct(self):
        holder["scene"] = self
        orig(self)

    cls.construct = construct
    render_scene(cls, tmp_path / "div.mp4")
    scene = holder["scene"]
    sgd = scene.race[0]
    assert sgd.diverged[0]  # the premise: lr 0.008 leaves Rosenbrock from (-1.2, 1)
    step = int(sgd.diverged_step[0])
    shown = _texts(scene)
    assert f"Diverged: {short_label(sgd.label)} (step {step})" in shown
    reason = str(sgd.diverged_reason[0]).replace("nonfinite_", "non-finite ")
    assert f"diverged at step {step}: {reason.replace('_', ' ')}" in shown
    # The X sits at the reader's exit point (pulled 0.25 units inside the box).
    layer = scene.groups[0]
    first = layer.crosses.points[: len(layer.crosses.template)]
    centre = (first.min(0) + first.max(0)) / 2
    exit_xy = scene.plane.to_scene(scene.reader.series[0].exit_xy, margin=-0.25)[0]
    assert np.allclose(centre[:2], exit_xy[:2], atol=0.02)
    # One X only: Adam did not diverge.
    assert len(layer.crosses.points) == len(layer.crosses.template)


@pytest.mark.slow
def test_a_particle_leaving_the_view_is_marked_where_it_left(tmp_path_factory):
    _, scene = _render("SaddleEscape", tmp_path_factory)
    shown = _texts(scene)
    (x0, x1), (y0, y1) = scene.reader.view
    (layer,) = scene.groups
    left = 0
    for s, trace in enumerate(scene.race):
        # Independently of the reader: the first step outside and the crossing.
        pos = trace.positions.reshape(len(trace.steps_recorded), -1, 2)[:, 0]
        x, y = pos[:, 0], pos[:, 1]
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        dots = layer.dots[s].points
        if inside[-1]:
            assert len(dots)
            assert len(layer.offs[s].points) == 0
            continue
        left += 1
        assert len(dots) == 0  # not drawn at the edge: marked instead
        i = np.flatnonzero(inside)[-1]
        step = int(trace.steps_recorded[i + 1])
        assert f"left the view at step {step}" in shown
        (a, b), edge = pos[i : i + 2], (y1 if pos[i + 1, 1] > y1 else y0)
        cross_x = a[0] + (edge - a[1]) / (b[1] - a[1]) * (b[0] - a[0])
        tri = layer.offs[s].points
        at = scene.plane.to_scene(np.array([cross_x, edge]))
        centre = (tri.min(0) + tri.max(0)) / 2
        assert abs(centre[0] - at[0]) < 0.03
        assert 0 < abs(centre[1] - at[1]) < 0.3  # just inside the edge
        # The trail (baked into the background as it settles) is cut at the
        # crossing, not drawn beyond it: what the layer strokes for the path.
        from scenes.manim.base import trail_segments

        full = scene.reader.trail(s, scene.rows - 1)
        pts, _ = trail_segments(
            scene.plane.to_scene(np.swapaxes(full, 0, 1)), scene.plane.edges
        )
        _, _, bottom, top = scene.plane.edges
        assert pts[:, 1].max() <= top + 1e-9
        assert pts[:, 1].min() >= bottom - 1e-9
        assert np.allclose(pts[-1, :2], at[:2])
    assert left >= 1, "the premise: someone escapes the saddle's view"


def test_trails_are_cut_at_the_box_and_marks_read_mid_row():
    from scenes.frames import FrameReader
    from scenes.manim.base import clip_segments
    from scenes.manim.reader import ContinuousFrames

    a = np.array([[0.0, 0.0, 0], [3.0, 3.0, 0], [0.0, 0.5, 0]])
    b = np.array([[2.0, 0.0, 0], [4.0, 3.0, 0], [0.0, -2.0, 0]])
    ca, cb, kept = clip_segments(a, b, (-1, 1, -1, 1))
    assert kept.tolist() == [True, False, True]
    assert np.allclose(ca, [[0, 0, 0], [0, 0.5, 0]])
    assert np.allclose(cb, [[1, 0, 0], [0, -1, 0]])
    # Between rows the head crosses the edge: the row it heads to says where.
    path = np.array([[[0.0, 0.0]], [[0.5, 0.0]], [[1.5, 0.0]]])
    frames = ContinuousFrames(
        FrameReader.from_paths({"p": path}, np.arange(3), ((-1, 1), (-1, 1)))
    )
    assert np.isfinite(frames.shown(0, 1.4)).all()
    points, steps = frames.left_view(0, 1.7)
    assert np.isnan(frames.shown(0, 1.7)).all()
    assert np.allclose(points, [[1.0, 0.0]])
    assert steps.tolist() == [2]


def test_joined_reads_are_the_readers_per_series():
    from scenes.frames import FrameReader
    from scenes.manim.reader import ContinuousFrames
    from simulator import simulate

    race = simulate(
        "rosenbrock",
        ["SGD(learning_rate=0.008)", "Adam(learning_rate=0.1)"],
        [(-1.2, 1.0), (0.5, 2.0)],
        30,
    )
    assert race[0].diverged.any()  # the premise: a divergence row to respect
    frames = ContinuousFrames(FrameReader(race))
    both = [0, 1]
    for t in (0.0, 3.4, 6.999, 7.5, 12.25, 30.0):
        head = frames.at_many(both, t)
        np.testing.assert_array_equal(
            head, np.concatenate([frames.at(s, t) for s in both])
        )
        for start in (0, frames.row(t) // 2):
            joined = frames.trail_many(both, t, start, head)
            per = [frames.trail(s, t, start) for s in both]
            np.testing.assert_array_equal(joined, np.concatenate(per, axis=1))
            assert [p.shape for p in frames.split(both, joined, 1)] == [
                p.shape for p in per
            ]
