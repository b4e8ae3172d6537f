"""Chunked runs without a cluster: identical results, chunk plans, resumable results."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scenes import cli
from scenes.output import read_png_config
from scenes.spec import SpecError, parse_spec
from scenes.study import render_study
from simulator import MemoryLimitError, cluster, fate_map, sweep, sweeps
from simulator.moons.study import StudyResult, lr_study

GRID = {"learning_rate": np.geomspace(1e-4, 3e-3, 6), "momentum": [0.0, 0.5, 0.9]}
STARTS = np.random.default_rng(1).uniform(-2, 2, size=(5, 2))
SWEEP_FIELDS = (
    "final_loss",
    "final_positions",
    "converged_step",
    "converged_to",
    "diverged",
    "diverged_step",
    "diverged_reason",
)


def assert_same_sweep(a, b):
    for name in SWEEP_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape, name
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name
    meta = dict(b.metadata)
    meta.pop("execution")
    assert meta == a.metadata


@pytest.mark.parametrize("noise", [0.0, 0.6])
def test_a_chunked_sweep_equals_the_single_run_bit_for_bit(noise):
    one = sweep("rosenbrock", "SGD", GRID, STARTS, 120, noise=noise, seed=9)
    assert one.diverged.any()  # the comparison covers diverged runs too
    assert not one.diverged.all()
    chunked = sweep(
        "rosenbrock", "SGD", GRID, STARTS, 120, noise=noise, seed=9, chunks=4
    )
    assert chunked.metadata["execution"]["chunks"] == 5  # 18 points, 4 per chunk
    assert_same_sweep(one, chunked)


def test_a_chunked_fate_map_with_noise_equals_the_single_run():
    kw = {"resolution": 17, "noise": 0.3, "seed": 2}
    one = fate_map("x**2 + 3*y**2 - x*y", "SGD(0.05, momentum=0.8)", 60, **kw)
    rows = fate_map(
        "x**2 + 3*y**2 - x*y", "SGD(0.05, momentum=0.8)", 60, chunks=5, **kw
    )
    for name in ("outcome", "steps_taken", "final_positions", "x", "y"):
        assert np.array_equal(getattr(one, name), getattr(rows, name)), name
    assert rows.metadata["execution"]["chunk_ranges"][-1] == [15, 17]


def test_chunk_plan_follows_workers_memory_and_override():
    # 1000 points of 64 particles, 2 workers: 4 chunks per worker of 125 points.
    plan = cluster.plan_chunks(1000, 64 * 500, 64, 2**30, 2, None, "points")
    assert [hi - lo for lo, hi in plan] == [125] * 8
    # ... but at least MIN_CHUNK_PARTICLES = 4096 particles (128 points of 32).
    plan = cluster.plan_chunks(1000, 32 * 500, 32, 2**30, 2, None, "points")
    assert [hi - lo for lo, hi in plan] == [128] * 7 + [104]
    # The memory cap wins: 100 points fit.
    plan = cluster.plan_chunks(1000, 1000, 64, 100_000, 2, None, "points")
    assert len(plan) == 10
    assert cluster.plan_chunks(10, 1, 1, None, 2, 3, "points")[-1] == (9, 10)
    with pytest.raises(MemoryLimitError, match=r"`chunks`=200 points .* above"):
        cluster.plan_chunks(1000, 1000, 64, 100_000, 2, 200, "points")


def test_a_chunk_above_the_memory_cap_is_refused_in_one_line():
    with pytest.raises(MemoryLimitError, match="memory_limit") as err:
        sweep("rosenbrock", "SGD", GRID, STARTS, 10, chunks=10, memory_limit="1KiB")
    assert "\n" not in str(err.value)


def test_an_interrupted_sweep_resumes_without_recomputing(tmp_path, monkeypatch):
    calls = []
    real = sweeps._sweep_chunk

    interrupt = [True]

    def flaky(task):
        calls.append(task["range"])
        if interrupt[0] and len(calls) == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C in chunk 3
        return real(task)

    monkeypatch.setattr(sweeps, "_sweep_chunk", flaky)
    kw = {"noise": 0.2, "chunks": 4, "results_dir": tmp_path / "run"}
    with pytest.raises(KeyboardInterrupt):
        sweep("rosenbrock", "SGD", GRID, STARTS, 80, **kw)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "chunk-000000.npz",
        "chunk-000001.npz",
        "optiscape-run.json",
    ]
    calls.clear()
    interrupt[0] = False
    resumed = sweep("rosenbrock", "SGD", GRID, STARTS, 80, **kw)
    assert calls == [(8, 12), (12, 16), (16, 18)]  # only the unfinished chunks
    assert resumed.metadata["execution"]["loaded"] == 2
    assert resumed.metadata["execution"]["computed"] == 3
    assert_same_sweep(sweep("rosenbrock", "SGD", GRID, STARTS, 80, noise=0.2), resumed)
    calls.clear()
    again = sweep("rosenbrock", "SGD", GRID, STARTS, 80, **kw)
    assert calls == []  # nothing left to compute, nothing written twice
    assert again.metadata["execution"]["loaded"] == 5
    # Resuming without `chunks` reuses the stored layout.
    kw.pop("chunks")
    assert sweep("rosenbrock", "SGD", GRID, STARTS, 80, **kw).metadata["execution"][
        "chunk_ranges"
    ] == [[0, 4], [4, 8], [8, 12], [12, 16], [16, 18]]


def test_results_dir_refuses_what_it_did_not_write(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="did not write"):
        sweep("rosenbrock", "SGD", GRID, STARTS, 5, results_dir=foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    run = tmp_path / "run"
    sweep("rosenbrock", "SGD", GRID, STARTS, 5, results_dir=run, chunks=9)
    with pytest.raises(ValueError, match="another run"):
        sweep("rosenbrock", "SGD", GRID, STARTS, 6, results_dir=run)
    with pytest.raises(ValueError, match="same `chunks`"):
        sweep("rosenbrock", "SGD", GRID, STARTS, 5, results_dir=run, chunks=4)


def test_results_dir_writes_each_chunk_once_and_reads_it_back(tmp_path):
    path = tmp_path / "r"
    store = cluster.ResultsDir(path, {"kind": "demo", "n": 1}, [(0, 2), (2, 3)])
    assert store.load(0) is None
    store.save(0, {"x": np.arange(2.0)}, {"note": "first"})
    before = (path / "chunk-000000.npz").read_bytes()
    with pytest.raises(ValueError, match="left as it is"):
        store.save(0, {"x": np.zeros(2)}, {})
    assert (path / "chunk-000000.npz").read_bytes() == before
    assert not [p for p in path.iterdir() if p.name.startswith(".")]  # no temps
    reopened = cluster.ResultsDir(path, {"kind": "demo", "n": 1}, [(0, 3)])
    assert reopened.ranges == [(0, 2), (2, 3)]  # the stored layout
    arrays, meta = reopened.load(0)
    assert np.array_equal(arrays["x"], np.arange(2.0))
    assert meta == {"note": "first"}
    assert json.loads((path / "optiscape-run.json").read_text())["tool"] == "optiscape"


def test_a_damaged_chunk_file_is_named(tmp_path):
    run = tmp_path / "run"
    sweep("rosenbrock", "SGD", GRID, STARTS, 5, results_dir=run, chunks=9)
    path = run / "chunk-000001.npz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"chunk-000001\.npz"):
        sweep("rosenbrock", "SGD", GRID, STARTS, 5, results_dir=run)


@pytest.mark.parametrize(
    ("client", "match"),
    [
        ("local:0", "needs N >= 1"),
        ("local:two", "needs N >= 1"),
        ("no such host", "scheduler address"),
        (3.5, "scheduler address"),
    ],
)
def test_bad_clients_are_named_in_one_line(client, match):
    with pytest.raises(ValueError, match=match) as err:
        sweep("rosenbrock", "SGD", GRID, STARTS, 5, client=client)
    assert f"client={client!r}" in str(err.value)


def test_an_unreachable_scheduler_fails_fast(monkeypatch):
    import time

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="Cannot reach the Dask scheduler"):
        fate_map("himmelblau", "SGD(0.01)", 5, resolution=4, client="tcp://127.0.0.1:9")
    assert time.perf_counter() - t0 < 10


def test_cli_bad_scheduler_and_chunks_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["sweep", "-s", "rosenbrock", "-o", "SGD", "--grid", "momentum=0,0.5"]
    assert cli.main([*base, "--steps", "5", "--scheduler", "local:0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "--scheduler='local:0'" in err
    assert cli.main([*base, "--steps", "5", "--chunks", "0"]) == 2
    assert "--chunks=0" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written


def test_spec_scheduler_is_read_for_sweeps_and_refused_for_races():
    spec = parse_spec(
        {
            "scene": {"kind": "fate"},
            "surface": {"name": "himmelblau"},
            "run": {"scheduler": "local:2"},
            "fate": {"optimizer": "SGD(0.01)"},
        }
    )
    assert spec.scheduler == "local:2"
    assert spec.to_config()["scheduler"] == "local:2"
    with pytest.raises(SpecError, match=r"\[run\] scheduler"):
        parse_spec(
            {
                "surface": {"name": "himmelblau"},
                "run": {"scheduler": "local:2"},
                "optimizers": [{"text": "SGD(0.01)"}],
            }
        )


def test_study_chunks_equal_one_run_and_figures_carry_the_config(tmp_path):
    kw = {"learning_rates": [1e-3, 3e-2, 1.0], "seeds": (0, 4), "epochs": 6}
    one = lr_study(("SGD", "Adam(beta_1=0.8)"), **kw)
    parts = lr_study(("SGD", "Adam(beta_1=0.8)"), chunks=4, **kw)
    assert np.array_equal(one.loss, parts.loss)
    assert np.array_equal(one.accuracy, parts.accuracy)
    assert one.labels == ("SGD", "Adam(beta_1=0.8)")
    assert one.loss.shape == (2, 3, 2, 6)
    written = render_study(one, tmp_path / "study.png", threshold=0.5)
    assert [p.name for p in written] == ["study.png", "study_epochs.png"]
    for path in written:
        config = read_png_config(path)["optiscape"]
        assert config["kind"] == "moons_study"
        assert config["learning_rates"] == [1e-3, 3e-2, 1.0]
        assert config["threshold"] == 0.5
    back = StudyResult.load(one.save(tmp_path / "study.npz"))
    assert np.array_equal(back.loss, one.loss)
    assert back.metadata == one.metadata


def test_study_divergence_and_epochs_to_threshold():
    loss = np.array([[[[0.6, 0.3, 0.1, 0.04]], [[0.6, np.nan, np.nan, np.nan]]]])
    result = StudyResult(
        labels=("X",),
        learning_rates=np.array([0.1, 1.0]),
        seeds=np.array([0]),
        loss=np.concatenate([loss, [[[[0.9, 1.2, 1.5, 1.9]]]]], axis=1),
        accuracy=np.full((1, 3, 1, 4), 0.5),
        initial_loss=np.array([0.69]),
    )
    assert result.diverged[0, :, 0].tolist() == [False, True, True]
    assert result.epochs_to(0.1)[0, :, 0].tolist() == [3, -1, -1]
    assert result.epochs_to(0.5, "accuracy")[0, :, 0].tolist() == [1, 1, 1]


def test_study_bad_arguments_are_named():
    with pytest.raises(ValueError, match="sets learning_rate"):
        lr_study(["Adam(0.01)"], epochs=1)
    with pytest.raises(ValueError, match="learning_rates"):
        lr_study(["Adam"], learning_rates=[0.1, -1], epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        lr_study(["Adam"], epochs=0)


def test_without_dask_a_client_is_refused_in_one_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    with pytest.raises(
        ValueError, match=r"needs Dask: pip install 'optiscape\[dask\]'"
    ):
        sweep("rosenbrock", "SGD", GRID, STARTS, 5, client="local:2")
    # the default needs no Dask at all
    assert sweep("rosenbrock", "SGD", GRID, STARTS, 5).final_loss.shape == (6, 3, 5)
