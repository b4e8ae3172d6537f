"""`optiscape compare`: real files written by the CLI, read back and checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from scenes.compare import build_comparison, formula_table
from scenes.output import read_png_config
from simulator import simulate
from simulator.optimizers import parse


def optiscape(*args, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-m", "scenes.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_compare_writes_figure_table_and_statement(tmp_path):
    result = optiscape(
        "compare",
        "--optimizer",
        "Adam",
        "--flavours",
        "keras,torch,optax,textbook,article",
        "--surface",
        "rosenbrock",
        "--learning-rate",
        "0.05",
        "--steps",
        "60",
        "--out",
        "adam.png",
        "-q",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "adam.png") as image:
        assert image.size[0] > 1000
        pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 10  # not blank
    config = read_png_config(tmp_path / "adam.png")["optiscape"]
    cmp = config["compare"]
    assert cmp["match"] == "defaults"
    assert config["labels"] == [
        "Adam · Keras",
        "Adam · PyTorch",
        "adam · optax",
        "Adam · textbook",
        "Adam · article",
    ]
    # The distances are those of the runs, recomputed here independently.
    race = simulate(
        "rosenbrock",
        [
            "Adam(0.05)",
            "torch:Adam(lr=0.05)",
            "textbook:Adam(0.05)",
            "article:Adam(0.05)",
        ],
        None,
        60,
    )
    far = np.linalg.norm(race[1].positions[-1] - race[0].positions[-1], axis=-1).max()
    assert cmp["final_distance"]["Adam · PyTorch"] == pytest.approx(far, rel=1e-12)
    assert far > 0
    assert cmp["final_distance"]["Adam · article"] == 0.0  # the article is Keras here
    table = cmp["table"]
    assert table[0][1:] == config["labels"]
    eps = next(r for r in table if r[0] == "epsilon")
    assert "uncorrected" in eps[1]
    assert "1e-8" in eps[2]
    assert table[-1][2] == "torch:Adam(lr=0.05)"
    md = (tmp_path / "adam.md").read_text()
    assert "| epsilon |" in md
    assert "Matched defaults" in md
    assert "eps=1e-08 (its default; Keras epsilon=1e-07)" in md
    sidecar = json.loads((tmp_path / "adam.json").read_text())["optiscape"]
    assert sidecar["compare"] == cmp


def test_same_args_matches_names_and_says_so(tmp_path):
    result = optiscape(
        "compare",
        "-o",
        "RMSprop(momentum=0.5)",
        "--flavours",
        "keras,torch,optax",
        "-s",
        "himmelblau",
        "--same-args",
        "-n",
        "30",
        "--out",
        "rms.svg",
        "-q",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rms.svg").read_text().lstrip().startswith("<?xml")
    cmp = json.loads((tmp_path / "rms.json").read_text())["optiscape"]["compare"]
    assert cmp["match"] == "names"
    assert "Matched names" in cmp["statement"]
    assert "alpha <- Keras rho=0.9 (default 0.99)" in cmp["statement"]
    assert cmp["table"][-1][2] == (
        "torch:RMSprop(lr=0.001, alpha=0.9, eps=1e-07, momentum=0.5)"
    )


def test_compare_table_goes_through_the_output_policy(tmp_path):
    args = ("compare", "-o", "Adam", "-s", "rosenbrock", "-n", "10", "-q")
    first = optiscape(*args, "--out", "a.png", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = optiscape(*args, "--out", "a.png", cwd=tmp_path)  # ours: overwritten
    assert again.returncode == 0, again.stderr
    (tmp_path / "b.md").write_text("my notes\n")
    refused = optiscape(*args, "--out", "b.png", cwd=tmp_path)
    assert refused.returncode == 2
    assert "b.md" in refused.stderr
    assert "did not write it" in refused.stderr
    assert (tmp_path / "b.md").read_text() == "my notes\n"
    assert not (tmp_path / "b.png").exists()  # neither file appears


def test_matched_names_rmsprop_optax_equals_keras_where_it_should():
    # optax.rmsprop with Keras's eps is Keras's rule (reference §5); torch's is not.
    cmp = build_comparison("RMSprop(0.01)", ["keras", "torch", "optax"], match="names")
    race = simulate("himmelblau", [e.optimizer for e in cmp.entrants], None, 100)
    keras, torch, optax = (t.positions for t in race)
    assert np.max(np.abs(optax - keras)) < 1e-12
    assert np.max(np.abs(torch - keras)) > 1e-9  # eps outside the sqrt


def test_formula_table_comes_from_the_flavour_classes():
    cmp = build_comparison("Adagrad(0.1)", ["keras", "torch", "textbook"])
    rows = formula_table(cmp)
    start = next(r for r in rows if r[0] == "accumulator start")
    assert start[1:] == ["0.1", "0 (Keras 0.1)", "0"]
    assert parse(rows[-1][2]).initial_accumulator_value == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "Adam", "--flavours", "keras,jax"], "Unknown flavour 'jax'"),
        (["-o", "Lamb", "--flavours", "keras,torch"], "The torch flavour has no Lamb"),
        (["-o", "torch:Adam", "--flavours", "keras"], "no flavour prefix"),
        (
            ["-o", "RMSprop(centered=True)", "--flavours", "keras,textbook"],
            "textbook:RMSprop has no counterpart of Keras's centered.",
        ),
        (
            ["-o", "Adam(clipnorm=1.0)", "--flavours", "keras,torch"],
            "torch:Adam has no counterpart of Keras's clipnorm.",
        ),
        (["-o", "Adam", "--out", "x.txt"], "--out must end in"),
    ],
)
def test_compare_bad_input_is_one_line_exit_2(
    tmp_path, monkeypatch, capsys, args, message
):
    # In-process (`main` is what `python -m scenes.cli` calls) to keep this fast;
    # the two tests above run the real subprocess.
    from scenes.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["compare", "-s", "rosenbrock", "-n", "5", "-q", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_moons_flavours_start_from_the_same_weights(tmp_path):
    from scenes.compare import (
        moons_comparison,
        moons_deviation,
        render_moons_comparison,
    )

    result = moons_comparison(seeds=(0,), epochs=3)
    labels = result["labels"]
    keras, torch = result["loss"]["keras"], result["loss"]["torch"]
    sgd = labels.index("SGD")
    # Plain SGD is the same rule in torch: same start, same batches, same curve.
    np.testing.assert_allclose(torch[sgd], keras[sgd], rtol=1e-12)
    dev = moons_deviation(result)
    assert dev["torch"][labels.index("Adagrad")] > 0.01  # A0 = 0 vs 0.1
    assert dev["textbook"][labels.index("Lion")] == 0.0
    assert any(s.startswith("Lion · torch") for s in result["skipped"])
    assert result["texts"]["torch"][labels.index("RMSprop")] == "torch:RMSprop(lr=0.01)"
    (path,) = render_moons_comparison(result, tmp_path / "moons.png")
    saved = read_png_config(path)["optiscape"]["moons_flavours"]
    assert saved["max_decades_from_keras"] == json.loads(json.dumps(dev))
    assert saved["final_loss"]["keras"][sgd] == [keras[sgd][0, -1]]


@pytest.mark.slow
def test_gallery_flavour_entries(tmp_path):
    from scenes.compare import GALLERY_COMPARISONS, render_flavour_gallery

    entries = render_flavour_gallery(tmp_path, quick=True)
    assert len(entries) == len(GALLERY_COMPARISONS) == 4
    for _, files, caption in entries:
        png = next(f for f in files if f.suffix == ".png")
        config = read_png_config(png)["optiscape"]
        assert config["steps"] == 60
        assert config["compare"]["reference"].endswith("· Keras")
        assert caption


def test_list_flavours_shows_each_framework_defaults(capsys):
    from scenes.cli import main

    assert main(["list", "flavours"]) == 0
    out = capsys.readouterr().out
    assert "torch:RMSprop(lr=0.01, alpha=0.99, eps=1e-08" in out
    assert "optax:adagrad(learning_rate=0.001, initial_accumulator_value=0.1" in out
    assert (
        "textbook:Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-08)"
        in out
    )
    for text in (line.strip() for line in out.splitlines() if line.startswith("    ")):
        assert parse(text).to_text().startswith(text.split("(")[0])


def test_compare_nesterov_textbook_runs_mu_v_behind_keras(tmp_path):
    from scenes.compare import compare

    text = "SGD(learning_rate=0.0005, momentum=0.9, nesterov=True)"
    starts = [[-1.0, 1.5], [1.5, 2.0]]
    files = compare(
        text,
        ["keras", "torch", "textbook"],
        "rosenbrock",
        tmp_path / "nesterov.png",
        starts=starts,
        steps=80,
    )
    config = read_png_config(files[0])["optiscape"]
    final = config["compare"]["final_distance"]
    assert config["labels"] == ["SGD · Keras", "SGD · PyTorch", "SGD · textbook"]
    assert final["SGD · PyTorch"] < 1e-10  # lr in or out of the buffer: rounding
    book = simulate("rosenbrock", f"textbook:{text}", starts, 80)
    mu_v = np.linalg.norm(0.9 * book.internals["velocity"][-1], axis=-1).max()
    assert final["SGD · textbook"] == pytest.approx(mu_v, rel=1e-9)
    assert mu_v > 1e-3
    table = (tmp_path / "nesterov.md").read_text()
    assert "g at theta + mu*v (eq. 3)" in table


def test_titles_name_the_switches_that_decide_the_rule():
    from scenes.compare import rule_title
    from simulator.optimizers import parse

    assert rule_title(parse("SGD(0.01)")) == "SGD"
    assert rule_title(parse("SGD(0.01, momentum=0.9, nesterov=True)")) == (
        "SGD (momentum 0.9, nesterov)"
    )
    assert rule_title(parse("RMSprop(centered=True)")) == "RMSprop (centered)"
    assert rule_title(parse("Adam(amsgrad=True)")) == "Adam (amsgrad)"
