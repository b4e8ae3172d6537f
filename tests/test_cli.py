"""The optiscape command line, run as a user runs it (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenes.output import read_png_config

EXAMPLES = Path(__file__).parent.parent / "examples"


def optiscape(*args, cwd=None):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "scenes.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_issue_example_works_as_written(tmp_path):
    result = optiscape(
        "plot",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "Adam(learning_rate=0.05)",
        "--optimizer",
        "SGD(learning_rate=0.001, momentum=0.9, nesterov=True)",
        "--steps",
        "200",
        "--out",
        "race.png",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    config = read_png_config(tmp_path / "race.png")["optiscape"]
    assert config["labels"] == [
        "Adam(learning_rate=0.05)",
        "SGD(learning_rate=0.001, momentum=0.9, nesterov=True)",
    ]
    assert config["steps"] == 200
    assert (tmp_path / "race.json").exists()


def test_list_shows_surfaces_and_keras_defaults():
    result = optiscape("list")
    assert result.returncode == 0
    assert "rosenbrock" in result.stdout
    assert "valley" in result.stdout
    assert (
        "Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07"
        in result.stdout
    )
    assert "CosineDecay" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["plot", "--surface", "rosenbrok", "--optimizer", "Adam(0.1)"],
            "Did you mean 'rosenbrock'?",
        ),
        (
            ["plot", "--surface", "saddle", "--optimizer", "Adma(0.1)"],
            "Did you mean 'Adam'?",
        ),
        (
            ["plot", "--surface", "saddle", "--optimizer", "SGD(momentum=1.5)"],
            "momentum=1.5",
        ),
        (
            [
                "plot",
                "--surface",
                "__import__('os').system('echo hi')",
                "--optimizer",
                "SGD()",
            ],
            "Refused",
        ),
        (
            ["plot", "--surface", "saddle", "--optimizer", "SGD()", "--steps", "-3"],
            "steps=-3",
        ),
        (
            ["plot", "--surface", "saddle", "--optimizer", "SGD()", "--start", "1,a"],
            "--start must be X,Y",
        ),
        (
            ["plot", "--surface", "saddle", "--optimizer", "SGD()", "--out", "x.gif"],
            "out='x.gif'",
        ),
        (
            ["sweep", "--surface", "saddle", "--optimizer", "SGD", "--grid", "lr=0.1"],
            "'lr' is not an argument of SGD",
        ),
        (
            [
                "sweep",
                "--surface",
                "saddle",
                "--optimizer",
                "SGD",
                "--grid",
                "momentum=linspace:0:1",
            ],
            "--grid momentum",
        ),
        (["render", "missing.toml"], "missing.toml"),
        (["plot", "--surface", "saddle"], "required: --optimizer"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message, tmp_path):
    result = optiscape(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert not list(tmp_path.glob("*.png"))


def test_sweep_fate_run_and_render_write_files(tmp_path):
    r = optiscape(
        "-q",
        "sweep",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "SGD",
        "--grid",
        "learning_rate=geomspace:1e-4:3e-3:6",
        "--grid",
        "momentum=0,0.5,0.9",
        "--fixed",
        "nesterov=True",
        "--steps",
        "100",
        "--out",
        "sweep.svg",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "sweep.svg").stat().st_size > 5000
    assert json.loads((tmp_path / "sweep.json").read_text())["optiscape"]["grid"][
        "momentum"
    ] == [0.0, 0.5, 0.9]
    r = optiscape(
        "-q",
        "fate",
        "--surface",
        "himmelblau",
        "--optimizer",
        "Adam(0.1)",
        "--steps",
        "100",
        "--resolution",
        "20",
        "--out",
        "fate.png",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    r = optiscape(
        "-q",
        "run",
        "--surface",
        "saddle",
        "--optimizer",
        "Adam(0.1)",
        "--optimizer",
        "Lion(0.01)",
        "--steps",
        "20",
        "--out",
        "s.npz",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    from simulator import Race

    assert Race.load(tmp_path / "s.npz").labels == [
        "Adam(learning_rate=0.1)",
        "Lion(learning_rate=0.01)",
    ]
    r = optiscape(
        "-q", "render", str(EXAMPLES / "valley.toml"), "--out", "v.png", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "v.png").exists()
    assert (tmp_path / "v_loss.png").exists()
    spec = read_png_config(tmp_path / "v.png")["optiscape"]["spec"]
    assert spec["optimizers"][1]["label"] == "SGD + momentum 0.9"


def test_progress_bars_and_quiet(tmp_path):
    args = (
        "plot",
        "--surface",
        "saddle",
        "--optimizer",
        "Adam(0.1)",
        "--steps",
        "3000",
        "--out",
        "p.png",
    )
    loud = optiscape(*args, cwd=tmp_path)
    quiet = optiscape("--quiet", *args, cwd=tmp_path)
    assert loud.returncode == quiet.returncode == 0
    assert "simulate" in loud.stderr
    assert quiet.stderr == ""


@pytest.mark.parametrize(
    "command", ["list", "plot", "sweep", "fate", "moons", "run", "render", "gallery"]
)
def test_every_subcommand_has_help_with_an_example(command):
    result = optiscape(command, "--help")
    assert result.returncode == 0
    assert "example:" in result.stdout
    assert f"optiscape {command}" in result.stdout


def test_moons_command_writes_curves_and_landscape(tmp_path):
    r = optiscape(
        "moons", "--seeds", "1", "--epochs-scale", "0.02", "--out", "m", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "train" in r.stderr  # a progress bar
    for name in ("moons_curves.png", "moons_curves_panels.png", "moons_landscape.png"):
        config = read_png_config(tmp_path / "m" / name)["optiscape"]
        assert config["epochs"] == [16, 16, 16, 16, 2, 2, 2, 2, 2, 2]
    bad = optiscape("moons", "--seeds", "0", cwd=tmp_path)
    assert bad.returncode == 2
    assert "--seeds must be >= 1" in bad.stderr


def test_negative_start_point_is_a_value_not_an_option(tmp_path):
    r = optiscape(
        "-q",
        "plot",
        "--surface",
        "x**2 + 10*y**2",
        "--optimizer",
        "SGD(0.05, momentum=0.9)",
        "--start",
        "-2,1",
        "--start",
        "-1.5e0,-0.5",
        "--out",
        "bowl.png",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert read_png_config(tmp_path / "bowl.png")["optiscape"]["starts"] == [
        [-2.0, 1.0],
        [-1.5, -0.5],
    ]
