"""The explorer driven headlessly: widgets by synthetic events, the API, exports."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from scenes.explorer import Explorer
from scenes.explorer.controls import controls_for, slider_value
from scenes.output import read_png_config
from simulator import simulate
from simulator.trace import Race

from explorer_events import click, press, type_text

ROOT = Path(__file__).resolve().parents[1]
STEPS = 60
TEXTS = [
    "SGD(learning_rate=0.001, momentum=0.9)",
    "Adam(learning_rate=0.05)",
    "RMSprop(learning_rate=0.01, centered=True)",
]


@pytest.fixture
def ex():
    import matplotlib.pyplot as plt

    # A small canvas: the tests drive widgets, they do not look at pixels.
    figure = plt.figure(figsize=(15, 8.8), dpi=50)
    explorer = Explorer(
        "rosenbrock", TEXTS, steps=STEPS, starts=[(-1.2, 1.0)], figure=figure
    )
    explorer.refresh()
    yield explorer
    import matplotlib.pyplot as plt

    plt.close(explorer.figure)


def _config(trace):
    return trace.metadata["optimizer"]["config"]


def test_slider_drag_reruns_only_that_optimizer(ex):
    click(ex.ui.choice.ax, _radio_xy(ex.ui.choice, 1), coords="axes")
    assert ex.selected == 1
    before = list(ex.race.traces)
    slider, control = ex.ui.sliders["learning_rate"]
    assert control.log  # learning rates move on a log scale
    click(slider.ax, (0.8, 0.5), coords="axes")
    expected = slider_value(control, slider.val)
    after = ex.race.traces
    assert _config(after[1])["learning_rate"] == expected != 0.05
    assert after[0] is before[0]
    assert after[2] is before[2]
    fresh = simulate(
        "rosenbrock", f"Adam(learning_rate={expected!r})", [(-1.2, 1)], STEPS
    )
    np.testing.assert_array_equal(after[1].positions, fresh.positions)
    assert slider.valtext.get_text() == f"{expected:.4g}"


def _entry_xy(ax, markers, index):
    """Axes-fraction position of entry `index` of a Radio/CheckButtons' markers."""
    pixels = markers.get_offset_transform().transform(markers.get_offsets()[index])
    return tuple(ax.transAxes.inverted().transform(pixels))


def _radio_xy(radio, index):
    return _entry_xy(radio.ax, radio._buttons, index)


def test_toggle_switches_a_flag(ex):
    click(ex.ui.choice.ax, _radio_xy(ex.ui.choice, 0), coords="axes")
    names = [c.name for c in controls_for(ex.optimizers[0]) if c.kind == "bool"]
    assert names == ["nesterov"]
    box = ex.ui.toggles
    click(box.ax, _entry_xy(box.ax, box._frames, 0), coords="axes")
    assert _config(ex.race.traces[0])["nesterov"] is True


def test_click_moves_start_and_shift_click_adds(ex):
    click(ex.ax, (0.5, 2.0))
    (start,) = ex.starts
    np.testing.assert_allclose(start, (0.5, 2.0), atol=0.02)
    for trace in ex.race:
        np.testing.assert_array_equal(trace.positions[0, 0], start)
    click(ex.ax, (-1.5, -0.5), key="shift")
    assert len(ex.starts) == 2
    assert ex.race.traces[0].batch_shape == (2,)
    assert "starts" in ex.log[-1]


def test_bad_values_show_the_error_and_keep_the_run(ex):
    race = ex.race
    assert not ex.set_hyperparameter(1, "learning_rate", -1)
    assert (
        ex.error
        == "learning_rate: `learning_rate` must be > 0. Received: learning_rate=-1"
    )
    assert ex._message.get_text() == ex.error
    type_text(ex.ui.keras, "Adam(learning_rate=-1)")  # Keras: an int is no float
    assert "learning_rate" in ex.error
    assert "-1" in ex.error
    type_text(ex.ui.surface, "x**2 +* y")
    assert ex.error.startswith("surface: ")
    assert ex.surface.name == "rosenbrock"
    assert [t for t in ex.race] == list(race)  # the same runs, not re-run
    assert ex.set_hyperparameter(1, "learning_rate", 0.01)
    assert ex.error is None


def test_keras_text_and_add_box(ex):
    type_text(ex.ui.add, "Lion(learning_rate=0.003)")
    assert ex.race.labels[-1] == "Lion(learning_rate=0.003)"
    assert len(ex.ui.choice.labels) == 4
    type_text(ex.ui.keras, "Nadam(learning_rate=0.02)")
    assert ex.race.labels[ex.selected] == "Nadam(learning_rate=0.02)"


def test_surface_expression_steps_noise(ex):
    assert ex.set_surface("x**2 + 10*y**2")
    assert ex.race.surface.name.startswith("expr:")
    assert ex.set_steps(40)
    assert ex.race.traces[0].steps_recorded[-1] == 40
    assert ex.set_noise(0.5)
    assert ex.race.metadata["noise"] == 0.5
    assert ex.ui.timeline.valmax == 40


def test_timeline_keys_and_play(ex):
    assert ex.row == STEPS  # it opens on the outcome
    ex.set_row(0)
    press(ex.figure, "right", ax=ex.ax)
    press(ex.figure, "right", ax=ex.ax)
    assert ex.row == 2
    assert ex.ui.timeline.val == 2
    layer = ex.series[1].race
    heads = layer.heads[ex.race.labels[1]].get_offsets()
    np.testing.assert_array_equal(heads, ex.race.traces[1].positions[2])
    assert ex.play()
    assert not ex.play()


def test_divergence_is_drawn_and_stated():
    ex = Explorer("rosenbrock", ["SGD(learning_rate=0.1)"], steps=50, widgets=False)
    assert ex.race.traces[0].diverged.all()
    assert "1/1 diverged" in ex.status
    exits = ex.series[0].race.exits[ex.race.labels[0]].get_offsets()
    assert len(exits) == 1


def test_swarm_mode_runs_a_grid_for_the_selected_optimizer(ex):
    ex.select(1)
    assert ex.set_swarm(True)
    (trace,) = ex.race.traces
    assert trace.batch_shape == (1024,)
    assert trace.label == ex.optimizers[1].to_text()
    assert ex.set_swarm(False)
    assert len(ex.race) == 3


def test_refresh_blits_and_matches_a_full_draw(ex):
    draws = []
    ex.figure.canvas.mpl_connect("draw_event", lambda e: draws.append(e))
    ex.set_hyperparameter(1, "learning_rate", 0.02)
    ex.refresh()
    assert not draws  # a blit, no full draw
    blitted = np.asarray(ex.figure.canvas.buffer_rgba()).copy()
    ex._background_dirty = True
    ex.refresh()
    assert len(draws) == 1
    np.testing.assert_array_equal(blitted, np.asarray(ex.figure.canvas.buffer_rgba()))


@pytest.mark.slow  # a CLI subprocess
def test_export_then_render_reproduces_the_race_bit_for_bit(ex, tmp_path):
    ex.set_hyperparameter(1, "learning_rate", 0.0316)
    ex.add_start((0.3, 2.5))
    ex.set_noise(0.25)
    out = tmp_path / "explored.png"
    spec = tmp_path / "explored.toml"
    spec.write_text(ex.to_spec(out=str(out), save_trace=True))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "scenes.cli", "-q", "render", str(spec)],
        check=True,
        cwd=tmp_path,
        env=env,
    )
    rendered = Race.load(out.with_suffix(".npz"))
    assert rendered.labels == ex.race.labels
    for a, b in zip(ex.race, rendered, strict=True):
        for name in ("positions", "loss", "gradient", "diverged_step"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert sorted(a.internals) == sorted(b.internals)
        for key in a.internals:
            np.testing.assert_array_equal(a.internals[key], b.internals[key])
    assert read_png_config(out)["optiscape"]["spec"]["steps"] == STEPS


def test_png_export_never_overwrites(ex, tmp_path):
    (tmp_path / "explored.toml").write_text("not ours")
    png = ex.export(tmp_path, "png")
    assert png == tmp_path / "explored-1.png"
    assert (tmp_path / "explored.toml").read_text() == "not ours"
    config = read_png_config(png)["optiscape"]
    assert config["labels"] == ex.race.labels
    assert ex.status == f"wrote {png}"


@pytest.mark.slow
def test_mp4_export_renders_the_spec_video(ex, tmp_path):
    import json

    path = ex.export(tmp_path, "mp4")
    assert path == tmp_path / "explored.mp4"
    assert "[video]" in (tmp_path / "explored.toml").read_text()
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=nb_read_frames:format_tags=comment", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    info = json.loads(probe.stdout)
    assert int(info["streams"][0]["nb_read_frames"]) > 10
    comment = info["format"]["tags"]["comment"]
    for label in ex.race.labels:
        assert json.dumps(label) in comment


@pytest.mark.slow  # a CLI subprocess
def test_browser_front_end_refuses_a_busy_port(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "scenes.cli", "explore", "--browser", "--no-open",
             "--port", str(port), "--steps", "5", "--optimizer", "SGD(0.01)"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"optiscape explore: error: port {port} on 127.0.0.1 is in use. "
        f"Received: port={port}"
    )


def test_export_button_writes_a_fresh_spec(ex, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    export = ex.ui.export_buttons[0]
    click(export.ax, (0.5, 0.5), coords="axes")
    spec = tmp_path / "explored.toml"
    assert spec.read_text() == ex.to_spec(out=str(Path("explored.png")))
    click(export.ax, (0.5, 0.5), coords="axes")
    assert (tmp_path / "explored-1.toml").exists()
    assert ex.status == f"wrote {Path('explored-1.toml')}"


@pytest.mark.slow  # a CLI subprocess
def test_desktop_without_a_display_says_what_to_install(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "scenes.cli", "explore", "--steps", "5"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(
        "optiscape explore: error: no interactive matplotlib backend is available"
    )
    assert "optiscape explore --browser" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"starts": [("a", 1)]}, "`starts` must be (x, y) pairs of numbers."),
        ({"glyph": "arrow"}, "`glyph` must be one of"),
        ({"internal": "foo"}, "`internal` must be one of"),
        ({"steps": -1}, "`steps` must be >= 0. Received: steps=-1"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        Explorer("rosenbrock", ["SGD(0.01)"], **{"steps": 10, **kwargs}, widgets=False)
