"""Sweeps, fate maps and the moons study on a real 2-process Dask LocalCluster."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from distributed import Client, LocalCluster
from test_cluster import GRID, STARTS, assert_same_sweep

from scenes.output import read_png_config
from simulator import fate_map, sweep
from simulator.moons import lr_study


@pytest.fixture(scope="module")
def client():
    """One cluster for the module: 2 single-threaded worker processes."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.mark.parametrize("noise", [0.0, 0.6])
def test_sweep_on_dask_equals_the_in_process_run(client, noise):
    one = sweep("rosenbrock", "SGD", GRID, STARTS, 150, noise=noise, seed=5)
    on_dask = sweep(
        "rosenbrock",
        "SGD",
        GRID,
        STARTS,
        150,
        noise=noise,
        seed=5,
        client=client,
        chunks=3,
    )
    assert on_dask.metadata["execution"]["client"].startswith("client tcp://")
    assert on_dask.metadata["execution"]["computed"] == 6
    assert_same_sweep(one, on_dask)


@pytest.mark.parametrize("noise", [0.0, 0.4])
def test_fate_map_on_dask_equals_the_in_process_run(client, noise):
    # An expression surface (rebuilt on the workers from its config) whose
    # minimum was discovered on the client.
    args = ("x**2 + 3*y**2 - x*y + 0.1*x**4", "SGD(0.05, momentum=0.8)", 80)
    kw = {"resolution": 21, "noise": noise, "seed": 3}
    one = fate_map(*args, **kw)
    on_dask = fate_map(*args, client=client, chunks=4, **kw)
    for name in ("outcome", "steps_taken", "final_positions"):
        assert np.array_equal(getattr(one, name), getattr(on_dask, name)), name
    if not noise:  # most starts reach the minimum (noise keeps them moving)
        assert (one.outcome == 0).mean() > 0.5
    meta = dict(on_dask.metadata)
    assert meta.pop("execution")["chunks"] == 6
    assert meta == one.metadata


def test_moons_study_on_dask_equals_the_in_process_run(client):
    kw = {"learning_rates": [1e-3, 0.03, 1.0], "seeds": (0, 1), "epochs": 8}
    opts = ("SGD(momentum=0.9)", "Adam", "Lion")
    one = lr_study(opts, **kw)
    on_dask = lr_study(opts, client=client, chunks=2, **kw)
    assert np.array_equal(one.loss, on_dask.loss)
    assert np.array_equal(one.accuracy, on_dask.accuracy)
    assert on_dask.metadata["execution"]["chunks"] == 5
    assert one.diverged.any()  # lr = 1 breaks some: divergence is compared too


def test_resume_on_dask_recomputes_only_missing_chunks(client, tmp_path):
    kw = {"noise": 0.3, "seed": 1, "chunks": 4, "results_dir": tmp_path / "r"}
    first = sweep("rosenbrock", "SGD", GRID, STARTS, 60, client=client, **kw)
    assert first.metadata["execution"]["computed"] == 5
    for name in ("chunk-000001.npz", "chunk-000003.npz"):  # as if interrupted
        (tmp_path / "r" / name).unlink()
    resumed = sweep("rosenbrock", "SGD", GRID, STARTS, 60, client=client, **kw)
    assert resumed.metadata["execution"]["computed"] == 2
    assert resumed.metadata["execution"]["loaded"] == 3
    assert_same_sweep(
        sweep("rosenbrock", "SGD", GRID, STARTS, 60, noise=0.3, seed=1), resumed
    )


def _live_chunks(dask_scheduler) -> int:
    """Chunk tasks the scheduler still holds (finished ones are released)."""
    return sum(str(k).startswith("optiscape-") for k in dask_scheduler.tasks)


@pytest.mark.slow
def test_a_worker_killed_mid_run_still_gives_the_identical_result(client):
    grid = {"learning_rate": np.geomspace(1e-4, 2e-3, 16), "momentum": [0.0, 0.9]}
    starts = np.random.default_rng(3).uniform(-2, 2, size=(32, 2))
    kw = {"noise": 0.2, "seed": 8}
    steps = 4000
    reference = sweep("rosenbrock", "SGD", grid, starts, steps, **kw)
    pids = client.run(os.getpid)  # worker address -> process id
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            sweep,
            "rosenbrock",
            "SGD",
            grid,
            starts,
            steps,
            client=client,
            chunks=2,
            **kw,
        )
        victim, deadline = None, time.monotonic() + 120
        while victim is None and time.monotonic() < deadline and not running.done():
            busy = [w for w, keys in client.processing().items() if keys]
            if busy and client.run_on_scheduler(_live_chunks) < 16:
                victim = busy[0]  # some chunks done, this worker holds others
            else:
                time.sleep(0.02)
        assert victim is not None, "the run ended before a worker could be killed"
        os.kill(pids[victim], signal.SIGKILL)
        result = running.result(timeout=600)
    assert_same_sweep(reference, result)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert pids[victim] not in client.run(os.getpid).values()


@pytest.mark.slow
def test_cli_runs_on_a_local_cluster_of_its_own(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [
            sys.executable, "-m", "scenes.cli", "-q", "fate", "-s", "himmelblau",
            "-o", "SGD(0.01, momentum=0.9)", "--steps", "60", "--resolution", "30",
            "--noise", "0.1", "--scheduler", "local:2", "--chunks", "6",
            "--results-dir", "chunks", "--out", "fate.png",
        ],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = read_png_config(tmp_path / "fate.png")["optiscape"]
    assert config["execution"]["client"] == "local:2"
    assert config["execution"]["chunks"] == 5
    assert len(list((tmp_path / "chunks").glob("chunk-*.npz"))) == 5
    one = fate_map(
        "himmelblau", "SGD(0.01, momentum=0.9)", 60, resolution=30, noise=0.1
    )
    assert config["noise_scheme"] == one.metadata["noise_scheme"]
    again = fate_map(
        "himmelblau",
        "SGD(0.01, momentum=0.9)",
        60,
        resolution=30,
        noise=0.1,
        results_dir=tmp_path / "chunks",
    )  # resumed from the CLI's chunks: nothing computed, the same map
    assert again.metadata["execution"]["computed"] == 0
    assert np.array_equal(again.outcome, one.outcome)
    assert np.array_equal(again.final_positions, one.final_positions)
