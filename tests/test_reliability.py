"""Hand-picked inputs of issue 14's six classes: each failed before its fix."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

import scenes.render
import surfaces
from scenes import output
from scenes.cli import main
from scenes.output import OutputRefused, is_own_file, read_png_config
from scenes.spec import SpecError, load_spec
from scenes.style import set_log_scale
from simulator import MemoryLimitError, Trace, fate_map, optimizers, simulate, sweep
from simulator.budget import check_run
from simulator.metadata import load_archive, save_archive
from simulator.moons import fit_many
from simulator.sweeps import FateMap, SweepResult, grid_axis


def cli(*args: str) -> int:
    """`optiscape ARGS` in-process; argparse's exits become return codes."""
    try:
        return main(["-q", *args])
    except SystemExit as exc:
        return exc.code


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def one_error_line(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("optiscape"), err
    for needle in needles:
        assert needle in err, err
    return err


def peak_mib(fn) -> float:
    """Peak traced allocation (numpy's included) while `fn` runs, in MiB."""
    tracemalloc.start()
    try:
        fn()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / 2**20


# ---------------------------------------------------------------- 1. tracebacks


@pytest.mark.parametrize("surface", ["saddle", "monkey_saddle", "x + 0*y"])
def test_fate_map_of_a_surface_without_minima_renders(here, surface):
    code = cli(
        "fate", "-s", surface, "-o", "SGD(0.01)", "--steps", "20",
        "--resolution", "12", "--out", "f.png",
    )  # fmt: skip
    assert code == 0
    config = read_png_config(here / "f.png")["optiscape"]
    assert config["minima"] == []


def test_loss_figure_of_losses_near_1e290_is_written(here):
    code = cli(
        "plot", "-s", "rosenbrock", "-o", "SGD(learning_rate=0.02)", "--loss",
        "--steps", "100", "--out", "l.png",
    )  # fmt: skip
    assert code == 0
    assert (here / "l.png").is_file()
    assert (here / "l_loss.png").is_file()


@pytest.mark.parametrize("top", [1e290, 1e300, 1.7e308])
def test_log_scale_stays_finite_up_to_float_max(tmp_path, top):
    fig, ax = plt.subplots(layout="constrained")
    ax.plot([0, 1], [1e-3, top])
    set_log_scale(ax, [1e-3, top])
    fig.savefig(tmp_path / "t.png")
    plt.close(fig)
    lo, hi = ax.get_ylim()
    assert lo <= 1e-3
    assert hi >= min(top, 1.7e308)
    assert math.isfinite(hi)


def test_a_failing_figure_leaves_no_part_of_the_set(here, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(scenes.render, "plot_loss_curves", broken)
    race = simulate("himmelblau", ["Adam(0.1)"], steps=5)
    with pytest.raises(RuntimeError):
        scenes.render.render_race(race, here / "r.png", three_d=True, loss_curves=True)
    assert sorted(p.name for p in here.iterdir()) == []


# -------------------------------------------------------------------- 2. memory


@pytest.mark.parametrize(
    ("what", "run"),
    [
        ("steps", lambda: simulate("rosenbrock", "SGD(0.001)", steps=10**9)),
        ("steps", lambda: simulate("rosenbrock", "SGD(0.001)", steps=10**15)),
        ("fate", lambda: fate_map("himmelblau", "SGD(0.01)", 3, resolution=4000)),
        ("fate", lambda: fate_map("himmelblau", "SGD(0.01)", 3, resolution=100_000)),
        (
            "sweep",
            lambda: sweep(
                "himmelblau",
                "SGD",
                {"learning_rate": np.ones(100_000), "momentum": np.zeros(100_000)},
                steps=3,
            ),
        ),
        ("grid", lambda: grid_axis("geomspace", 1e-5, 1.0, 10**9)),
        ("moons", lambda: fit_many(["SGD(0.01)"], [0], 10**12)),
    ],
)
def test_refused_with_the_estimate_before_allocating(what, run):
    def attempt():
        with pytest.raises(MemoryLimitError, match=r"would need about .* memory_limit"):
            run()

    assert peak_mib(attempt) < 64, what


def test_working_set_estimate_bounds_the_measured_peak():
    res, steps = 300, 3

    def run():
        fate_map("himmelblau", "Adam(0.01)", steps, resolution=res)

    measured = peak_mib(run) * 2**20
    points = len(surfaces.with_minima(surfaces.get("himmelblau")).minima) + 5
    estimate = check_run(res * res, 2, 2, 8, None, stationary_points=points)
    # An upper bound, but not a wild one (the 5.7 GB peak was ~11x the recording).
    assert measured <= estimate <= 4 * measured, (measured, estimate)


@pytest.mark.parametrize("dpi", [10_000, 0, -5])
def test_figure_dpi_is_bounded(tmp_path, dpi):
    fig, _ = plt.subplots(figsize=(4, 3))
    with pytest.raises(ValueError, match="dpi"):
        output.save_figure(fig, tmp_path / "x.png", {}, dpi=dpi)
    plt.close(fig)
    assert not list(tmp_path.iterdir())


def test_figure_pixels_are_estimated(tmp_path):
    fig, _ = plt.subplots(figsize=(40, 40))
    with pytest.raises(MemoryLimitError, match="pixels"):
        output.save_figure(fig, tmp_path / "x.png", {}, dpi=2400)
    plt.close(fig)


# --------------------------------------------------------------------- 3. files


def test_a_foreign_sidecar_is_not_overwritten(here, capsys):
    (here / "package.json").write_text('{"name": "mine"}')
    assert cli("plot", "-s", "himmelblau", "-o", "Adam(0.1)", "--steps", "5",
               "--out", "package.png") == 2  # fmt: skip
    one_error_line(capsys, "package.json", "--force")
    assert (here / "package.json").read_text() == '{"name": "mine"}'
    assert not (here / "package.png").exists()
    assert [p.name for p in here.iterdir()] == ["package.json"]  # no temporaries


def test_force_overwrites_and_own_files_are_rewritten(here):
    (here / "r.png").write_bytes(b"not a png of ours")
    args = ("plot", "-s", "himmelblau", "-o", "Adam(0.1)", "--steps", "5", "--out")
    assert cli(*args, "r.png") == 2
    assert cli(*args, "r.png", "--force") == 0
    assert cli(*args, "r.png") == 0  # ours now: no --force needed
    assert is_own_file(here / "r.png")
    assert is_own_file(here / "r.json")
    assert cli("run", "-s", "himmelblau", "-o", "Adam(0.1)", "--steps", "5",
               "--out", "t.npz") == 0  # fmt: skip
    assert is_own_file(here / "t.npz")


def test_own_files_are_recognised_by_their_embedded_config(tmp_path):
    fig, _ = plt.subplots(figsize=(2, 2))
    written = output.save_figure(
        fig, tmp_path / "f", {"a": 1}, formats=("png", "svg", "pdf")
    )
    plt.close(fig)
    for path in [*written, tmp_path / "f.json"]:
        assert is_own_file(path), path
        foreign = tmp_path / f"foreign{path.suffix}"
        foreign.write_bytes(path.read_bytes().replace(b"optiscape", b"somebody"))
        assert not is_own_file(foreign), foreign
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    assert not is_own_file(tmp_path / "plain.npz")


def test_new_writers_register_how_their_files_are_recognised(tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"....optiscape-config....")
    assert not is_own_file(video)
    output.register_recogniser(".mp4", lambda p: b"optiscape-config" in p.read_bytes())
    try:
        assert is_own_file(video)
        with output.writing():
            output.target(video).write_bytes(b"new optiscape-config")
        assert video.read_bytes() == b"new optiscape-config"
    finally:
        output._RECOGNISERS.pop(".mp4")


SPEC = """
[scene]
out = "{out}"
[surface]
name = "himmelblau"
[run]
steps = 3
[[optimizers]]
text = "Adam(0.1)"
"""


@pytest.mark.parametrize("out", ["../../x/pwn.png", "ABSOLUTE", "a/../../b.png"])
def test_spec_outputs_may_not_leave_the_spec_directory(here, capsys, out):
    # An absolute path outside the spec's directory, unique to this test run
    # (a fixed /tmp name could be left over by anything and fail the test).
    absolute = here / "elsewhere" / "pwn.png"
    out = str(absolute) if out == "ABSOLUTE" else out
    spec = here / "specs" / "s.toml"
    spec.parent.mkdir()
    spec.write_text(SPEC.format(out=out))
    assert cli("render", str(spec)) == 2
    one_error_line(capsys, "[scene] out", "--allow-outside")
    assert not absolute.exists()
    assert [p.name for p in here.iterdir()] == ["specs"]


def test_spec_outputs_resolve_beside_the_spec(here):
    spec = here / "specs" / "s.toml"
    spec.parent.mkdir()
    spec.write_text(SPEC.format(out="sub/ok.png"))
    assert cli("render", str(spec)) == 0
    assert (here / "specs" / "sub" / "ok.png").is_file()
    spec.write_text(SPEC.format(out="../up.png"))
    assert cli("render", str(spec), "--allow-outside") == 0
    assert (here / "up.png").is_file()


# ------------------------------------------------------------------ 4. archives


def _npy_header(shape, dtype="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()  # magic string included


def test_zip_bomb_is_refused_before_inflating(tmp_path):
    bomb = tmp_path / "bomb.npz"
    n = 64 * 2**20
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("positions.npy", "w") as f:
            f.write(_npy_header((n // 8,)))
            for _ in range(n // 2**20):
                f.write(bytes(2**20))
    assert bomb.stat().st_size < 2**20

    def load():
        with pytest.raises(ValueError, match=r"bomb\.npz.*would need about 64"):
            load_archive(bomb, memory_limit="16MiB")

    assert peak_mib(load) < 8


def test_an_8_tb_header_is_refused(tmp_path):
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("positions.npy", _npy_header((10**12,)) + bytes(64))
    with pytest.raises(ValueError, match=r"huge\.npz.*claims shape \(1000000000000,\)"):
        Trace.load(path)


@pytest.fixture
def trace_parts():
    trace = simulate("himmelblau", "Adam(0.1)", steps=4)
    return trace._arrays(), {"kind": "trace", **trace._meta()}


@pytest.mark.parametrize(
    "damage",
    [
        lambda a, m: a.pop("diverged"),
        lambda a, m: a.update(positions=a["positions"][..., 0]),
        lambda a, m: a.update(loss=a["loss"][:-1]),
        lambda a, m: a.update(diverged=a["diverged"].astype(float)),
        lambda a, m: a.update({"internals/velocity": np.zeros((2, 3))}),
        lambda a, m: m.pop("label"),
        lambda a, m: m.update(metadata={"surface": {"name": 3}}),
        lambda a, m: m.update(metadata=[]),
    ],
)
def test_checksummed_but_malformed_traces_raise_valueerror(
    tmp_path, trace_parts, damage
):
    arrays, meta = trace_parts
    damage(arrays, meta)
    path = save_archive(tmp_path / "bad.npz", arrays, meta)  # a valid checksum
    with pytest.raises(ValueError, match=r"bad\.npz"):
        Trace.load(path)


def test_malformed_fate_maps_and_sweeps_raise_valueerror(tmp_path):
    fate = fate_map("himmelblau", "SGD(0.01)", 3, resolution=4)
    save_archive(
        tmp_path / "f.npz",
        {"x": fate.x, "y": fate.y, "outcome": fate.outcome[:2]},
        {"kind": "fate", "metadata": fate.metadata},
    )
    with pytest.raises(ValueError, match=r"f\.npz"):
        FateMap.load(tmp_path / "f.npz")
    result = sweep("himmelblau", "SGD", {"learning_rate": [0.01, 0.02]}, steps=2)
    arrays = {f"axis/{k}": v for k, v in result.axes.items()}
    arrays.update(final_loss=result.final_loss[:1])
    save_archive(
        tmp_path / "s.npz", arrays, {"kind": "sweep", "axis_order": ["momentum"]}
    )
    with pytest.raises(ValueError, match=r"s\.npz"):
        SweepResult.load(tmp_path / "s.npz")


# ------------------------------------------------------- 5. meaningless results


def test_infinite_tolerance_is_refused(here, capsys):
    assert cli("fate", "-s", "himmelblau", "-o", "SGD(0.01)", "--steps", "5",
               "--resolution", "5", "--tolerance", "inf") == 2  # fmt: skip
    one_error_line(capsys, "tolerance", "inf")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("SGD(learning_rate=1e999)", "learning_rate"),
        ("SGD(nesterov='maybe')", "nesterov"),
        ("Adam(amsgrad='no')", "amsgrad"),
    ],
)
def test_meaningless_optimizer_values_are_refused(text, needle):
    with pytest.raises(ValueError, match=needle):
        optimizers.parse(text)


def test_empty_learning_rate_array_is_refused():
    with pytest.raises(ValueError, match=r"learning_rate.*empty"):
        optimizers.SGD(learning_rate=np.array([]))


def test_misspelt_record_field_is_refused_and_absent_one_warned():
    with pytest.raises(ValueError, match="Did you mean 'velocity'"):
        simulate("himmelblau", "SGD(0.01)", record=("velocty",))
    with pytest.warns(UserWarning, match="Adam.*velocity"):
        simulate("himmelblau", "Adam(0.01)", steps=2, record=("velocity",))


def test_glyph_nobody_has_is_refused_and_partial_one_warned(here, capsys):
    base = ("plot", "-s", "himmelblau", "--steps", "5", "--glyph", "lookahead")
    assert cli(*base, "-o", "Adam(0.1)") == 2
    one_error_line(capsys, "lookahead", "Adam")
    assert cli(*base, "-o", "Adam(0.1)", "-o", "SGD(0.01, momentum=0.9, nesterov=True)",
               "--out", "g.png") == 0  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err.startswith("optiscape plot: warning:")
    assert len(err.splitlines()) == 1


def test_start_outside_the_view(here, capsys):
    base = ("plot", "-s", "himmelblau", "-o", "Adam(0.1)", "--steps", "5")
    assert cli(*base, "--start", "50,50") == 2
    one_error_line(capsys, "outside the view", "(50, 50)")
    assert cli(*base, "--start", "50,50", "--start", "1,1", "--out", "p.png") == 0
    assert "warning" in capsys.readouterr().err


# ----------------------------------------------------- 6. errors name the input


@pytest.mark.parametrize("surface", ["1", "0/0", "x**9**9**9"])
def test_degenerate_surfaces_give_one_line_naming_them(here, capsys, surface):
    assert cli("plot", "-s", surface, "-o", "SGD(0.01)", "--steps", "3",
               "--start", "0.5,0.5") == 2  # fmt: skip
    one_error_line(capsys, repr(surface))


def test_switch_in_a_grid_and_repeated_grid_keys(here, capsys):
    base = ("sweep", "-s", "himmelblau", "-o", "SGD", "--steps", "3")
    assert cli(*base, "--grid", "nesterov=0,1", "--grid", "learning_rate=0.1,0.2") == 2
    one_error_line(capsys, "nesterov", "switch")
    assert cli(*base, "--grid", "learning_rate=0.1", "--grid", "learning_rate=0.2") == 2
    one_error_line(capsys, "learning_rate", "twice")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (
            '[sweep]\noptimizer = "SGD"\nfixed = 3\n'
            "[sweep.grid]\nlearning_rate = [0.1]",
            "[sweep] fixed",
        ),
        (
            '[sweep]\noptimizer = "SGD"\nfixed = { nesterov = "maybe" }\n'
            "[sweep.grid]\nlearning_rate = [0.1]",
            "[sweep] fixed",
        ),
        ('[sweep]\noptimizer = "SGD"\n[sweep.grid]\nnesterov = [0, 1]', "[sweep.grid]"),
        (
            '[sweep]\noptimizer = "SGD"\n[sweep.grid]\nlearning_rate = '
            "{ geomspace = [1e-5, 1, 1000000000] }",
            "[sweep.grid] learning_rate",
        ),
        ('[fate]\noptimizer = "SGD(0.01)"\ntolerance = inf', "[fate] tolerance"),
        ('[fate]\noptimizer = "SGD(0.01)"\ntolerance = 0', "[fate] tolerance"),
        ('[fate]\noptimizer = "SGD(lr=0.1)"', "[fate] optimizer"),
        ("[render]\ndpi = 100000", "[render] dpi"),
    ],
)
def test_spec_errors_name_file_and_key(tmp_path, body, key):
    kind = "sweep" if "[sweep]" in body else "fate" if "[fate]" in body else "race"
    path = tmp_path / "s.toml"
    extra = '[[optimizers]]\ntext = "Adam(0.1)"\n' if kind == "race" else ""
    path.write_text(
        f'[scene]\nkind = "{kind}"\n[surface]\nname = "himmelblau"\n{extra}{body}\n'
    )
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert str(err.value).startswith(f"{path}: {key}"), err.value


def test_spec_surface_errors_name_the_key(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[surface]\nexpression = "0/0"\n[[optimizers]]\ntext = "SGD(0.1)"\n'
    )
    with pytest.raises(
        SpecError, match=r"s\.toml: \[surface\] expression: .*undefined"
    ):
        load_spec(path)


def test_closed_pipe_is_silent():
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scenes.cli", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # the reader (`head`) has gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert err == ""


# ------------------------------------------------------------- honest figures


def test_fate_legend_never_rounds_a_nonzero_share_to_zero():
    from scenes.figures.maps import share_text

    assert share_text(1, 40_000) == "1 of 40000"
    assert share_text(30, 10_000) == "<1%"
    assert share_text(9_999, 10_000) == ">99%"
    assert share_text(0, 10) == "0%"
    assert share_text(10, 10) == "100%"


def test_fate_pixels_are_placed_by_their_edges():
    from scenes.figures.maps import plot_fate

    fate = fate_map("himmelblau", "SGD(0.01)", 3, resolution=5)
    fig, ax = plt.subplots()
    art = plot_fate(fate, ax, contours=False)
    x0, x1, y0, y1 = art.mesh.get_extent()
    half = (fate.x[1] - fate.x[0]) / 2
    assert (x0, x1) == pytest.approx((fate.x[0] - half, fate.x[-1] + half))
    assert (y0, y1) == pytest.approx((fate.y[0] - half, fate.y[-1] + half))
    plt.close(fig)


def test_undefined_parts_of_a_surface_are_hatched():
    from scenes.figures.landscape import draw_contours

    fig, ax = plt.subplots()
    draw_contours(ax, surfaces.resolve("log(x) + y**2"), colorbar=False)
    hatched = [c for c in ax.collections if "xx" in (getattr(c, "hatches", None) or ())]
    assert hatched, "no hatched region for log(x) at x <= 0"
    assert any("undefined" in t.get_text() for t in ax.texts)
    plt.close(fig)


def test_rastrigin_lists_every_minimum_in_its_view():
    s = surfaces.get("rastrigin")
    xy = np.array([m.xy for m in s.minima])
    assert len(xy) == 121
    assert [m.kind for m in s.minima].count("global") == 1
    _, g = s.value_and_grad(xy)
    assert np.abs(g).max() < 1e-9
    found = surfaces.find_minima(s, s.view)
    for m in found:  # every minimum a search finds is listed
        assert np.min(np.hypot(*(xy - m.xy).T)) < 1e-6


def test_titles_and_labels_read_as_written():
    from scenes.figures.landscape import _shifted
    from scenes.style import surface_title

    assert surface_title(surfaces.resolve("x**2 + 10*y**2")) == "f(x, y) = x^2 + 10·y^2"
    assert _shifted("f(x, y)", 4.008) == "f(x, y) + 4.008"
    assert _shifted("f(x, y)", -2.5) == "f(x, y) − 2.5"
    race = simulate("x**2 + 10*y**2", ["Adam(0.1)"], [[1.0, 1.0]], 3)
    fig, ax = plt.subplots()
    from scenes.figures.landscape import plot_race

    plot_race(race, ax)
    assert "expr:" not in ax.get_title()
    plt.close(fig)


def test_output_policy_is_the_one_used_by_every_writer(tmp_path):
    """A foreign file at the gallery's page path is refused too."""
    (tmp_path / "index.html").write_text("<html>someone's page</html>")
    with pytest.raises(OutputRefused):
        output.write_text(tmp_path / "index.html", "x")
    output.write_text(tmp_path / "own.html", output.HTML_GENERATOR)
    assert is_own_file(tmp_path / "own.html")
    assert json.loads(json.dumps({"ok": True}))
