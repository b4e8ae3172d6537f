"""The engine: trace shapes, divergence, convergence, noise, save/load, memory cap."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import surfaces
from simulator import MemoryLimitError, Race, Trace, load, optimizers, simulate
from simulator.trace import DIVERGENCE_REASONS

STARTS = np.array([[-1.2, 1.0], [0.5, -0.5], [1.5, 2.0]])


def _manual_run(surface, opt, start, steps):
    """The reference: a plain loop over `opt.step` for ONE particle."""
    x = np.asarray(start, dtype=np.float64)
    state = opt.init([x])
    xs = [x]
    for _ in range(steps):
        x = opt.step([x], [surface.grad(x)], state, internals=False)
        x, state = x.params[0], x.state
        xs.append(x)
    return np.array(xs)


def test_shapes_keys_and_rows():
    trace = simulate(
        "rosenbrock",
        "SGD(learning_rate=0.001, momentum=0.9, nesterov=True)",
        STARTS,
        40,
    )
    assert isinstance(trace, Trace)
    assert trace.positions.shape == (41, 3, 2)
    assert trace.loss.shape == (41, 3)
    assert trace.gradient.shape == (41, 3, 2)
    np.testing.assert_array_equal(trace.positions[0], STARTS)
    np.testing.assert_array_equal(trace.steps_recorded, np.arange(41))
    for name in (
        "learning_rate",
        "velocity",
        "lookahead",
        "nesterov_base",
        "update",
        "gradient",
        "effective_lr",
        "grad_position",
    ):
        assert name in trace.internals, name
    assert trace.internals["velocity"].shape == (40, 3, 2)
    assert trace.internals["learning_rate"].shape == (40, 3)
    # Internals row i is the step from row i to row i+1.
    np.testing.assert_allclose(
        trace.internals["update"], np.diff(trace.positions, axis=0), rtol=0, atol=0
    )
    np.testing.assert_array_equal(
        trace.internals["grad_position"], trace.positions[:-1]
    )
    surface = surfaces.get("rosenbrock")
    np.testing.assert_array_equal(trace.loss, surface.value(trace.positions))
    np.testing.assert_array_equal(trace.gradient, surface.grad(trace.positions))


@pytest.mark.parametrize(
    "text",
    [
        "Adam(learning_rate=0.05)",
        "SGD(learning_rate=0.001, momentum=0.9)",
        "RMSprop(learning_rate=0.01, momentum=0.5, centered=True)",
        "Lion(learning_rate=0.01)",
    ],
)
def test_batched_run_equals_single_particle_loops(text):
    trace = simulate("rosenbrock", text, STARTS, 60)
    surface = surfaces.get("rosenbrock")
    for k, start in enumerate(STARTS):
        ref = _manual_run(surface, optimizers.parse(text), start, 60)
        np.testing.assert_array_equal(trace.positions[:, k], ref)


def test_record_every_and_field_choice():
    with pytest.warns(UserWarning, match="no internal velocity"):  # said, not silent
        trace = simulate(
            "saddle",
            "Adam(0.1)",
            STARTS,
            25,
            record_every=10,
            record=("loss", "velocity"),
        )
    np.testing.assert_array_equal(trace.steps_recorded, [0, 10, 20, 25])
    assert trace.positions.shape == (4, 3, 2)
    assert trace.gradient is None
    assert set(trace.internals) == set()  # Adam has no velocity internal
    full = simulate("saddle", "Adam(0.1)", STARTS, 25)
    np.testing.assert_array_equal(trace.positions, full.positions[[0, 10, 20, 25]])
    sgd = simulate(
        "saddle",
        "SGD(0.1, momentum=0.5)",
        STARTS,
        25,
        record_every=10,
        record=("velocity",),
    )
    full = simulate("saddle", "SGD(0.1, momentum=0.5)", STARTS, 25)
    assert set(sgd.internals) == {"velocity"}
    # Row i of a thinned trace holds the internals of the step that produced row i+1.
    np.testing.assert_array_equal(
        sgd.internals["velocity"], full.internals["velocity"][[9, 19, 24]]
    )


def test_hyperparameter_array_broadcasts_into_a_sweep():
    lrs = np.array([1e-4, 1e-3, 2e-3])
    trace = simulate(
        "rosenbrock", optimizers.SGD(learning_rate=lrs[:, None]), STARTS, 30
    )
    assert trace.positions.shape == (31, 3, 3, 2)
    for i, lr in enumerate(lrs):
        single = simulate(
            "rosenbrock", optimizers.SGD(learning_rate=float(lr)), STARTS, 30
        )
        np.testing.assert_array_equal(trace.positions[:, i], single.positions)


def test_race_shares_starts_and_labels():
    race = simulate(
        "valley",
        ["SGD(learning_rate=0.05)", "SGD(0.05, momentum=0.9)"],
        None,
        100,
        labels=["plain", "momentum"],
    )
    assert isinstance(race, Race)
    assert race.labels == ["plain", "momentum"]
    assert race["momentum"] is race[1]
    start = surfaces.get("valley").starts[0]
    for trace in race:
        np.testing.assert_array_equal(trace.positions[0, 0], start)
    with pytest.raises(KeyError, match="No trace labelled 'adam'"):
        race["adam"]


def test_divergence_frozen_and_flagged_others_continue():
    starts = np.array([[-1.2, 1.0], [3.0, 3.0], [0.0, 0.0]])
    trace = simulate("rosenbrock", "SGD(learning_rate=0.002)", starts, 200)
    assert trace.diverged.tolist() == [False, True, False]
    step = trace.diverged_step[1]
    assert 0 < step < 200
    assert trace.diverged_reason[1] in DIVERGENCE_REASONS[1:]
    # Frozen: finite, unchanged from the divergence step on.
    pos = trace.positions[:, 1]
    assert np.isfinite(pos).all()
    assert (pos[step:] == pos[step]).all()
    # The others match a run without the diverging particle.
    alone = simulate("rosenbrock", "SGD(learning_rate=0.002)", starts[[0, 2]], 200)
    np.testing.assert_array_equal(trace.positions[:, [0, 2]], alone.positions)
    # Internals after the divergence are NaN (nothing to draw), before are finite.
    upd = trace.internals["update"][:, 1]
    assert np.isnan(upd[step:]).all()
    assert np.isfinite(upd[: step - 1]).all()
    assert trace.valid_rows()[:, 1].sum() == step + 1


def test_bound_marks_out_of_bound_or_clips_when_asked():
    trace = simulate("saddle", "SGD(learning_rate=0.1)", [[0.5, 0.01]], 100, bound=2.0)
    assert trace.diverged[0]
    assert trace.diverged_reason[0] == "out_of_bound"
    assert np.abs(trace.positions[:, 0]).max() <= 2.0
    clipped = simulate(
        "saddle",
        "SGD(learning_rate=0.1)",
        [[0.5, 0.01]],
        100,
        bound=2.0,
        clip_to_bound=True,
    )
    assert not clipped.diverged[0]
    assert clipped.metadata["clip_events"] > 0
    assert clipped.metadata["clip_to_bound"]
    assert clipped.positions[-1, 0, 1] == 2.0


def test_convergence_step_and_minimum_index():
    surface = surfaces.get("himmelblau")
    starts = np.array([m.xy for m in surface.minima]) + 0.3
    trace = simulate(surface, "Adam(learning_rate=0.02)", starts, 1500, tolerance=1e-4)
    np.testing.assert_array_equal(trace.converged_to, np.arange(4))
    for k in range(4):
        step = trace.converged_step[k]
        d = np.linalg.norm(trace.positions[:, k] - surface.minima[k].xy, axis=-1)
        assert (d[step:] <= 1e-4).all()
        assert d[step - 1] > 1e-4


def test_saddle_counts_as_other_stationary_point():
    trace = simulate("saddle", "SGD(learning_rate=0.1)", [[0.5, 0.0]], 200)
    assert trace.converged_to[0] == -2
    assert trace.converged_step[0] > 0


def test_noise_is_seeded_and_changes_the_path():
    a = simulate(
        "long_valley", "SGD(0.05, momentum=0.9)", STARTS, 50, noise=0.5, seed=3
    )
    b = simulate(
        "long_valley", "SGD(0.05, momentum=0.9)", STARTS, 50, noise=0.5, seed=3
    )
    c = simulate(
        "long_valley", "SGD(0.05, momentum=0.9)", STARTS, 50, noise=0.5, seed=4
    )
    exact = simulate("long_valley", "SGD(0.05, momentum=0.9)", STARTS, 50)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert not np.array_equal(a.positions, c.positions)
    assert not np.array_equal(a.positions, exact.positions)
    # The recorded gradient is the exact one at the position; the noisy one used
    # by the optimizer is the `gradient` internal.
    surface = surfaces.get("long_valley")
    np.testing.assert_array_equal(a.gradient, surface.grad(a.positions))
    assert not np.array_equal(a.internals["gradient"], a.gradient[:-1])


def test_float32_mode_keeps_dtype():
    trace = simulate("rosenbrock", "Adam(0.01)", STARTS, 10, dtype="float32")
    assert trace.positions.dtype == np.float32
    assert trace.internals["first_moment"].dtype == np.float32
    assert trace.metadata["dtype"] == "float32"


def test_metadata_carries_the_full_configuration():
    trace = simulate(
        "beale", "Adam(learning_rate=0.01, amsgrad=True)", STARTS, 5, seed=7, noise=0.1
    )
    meta = trace.metadata
    assert meta["surface"] == {"name": "beale"}
    assert meta["optimizer"]["text"] == "Adam(learning_rate=0.01, amsgrad=True)"
    assert meta["optimizer"]["config"]["beta_1"] == 0.9
    assert meta["seed"] == 7
    assert meta["noise"] == 0.1
    assert meta["steps"] == 5
    assert meta["starts"] == STARTS.tolist()
    assert meta["versions"]["numpy"] == np.__version__
    json.dumps(meta)  # JSON-able


def test_save_load_round_trip_exact(tmp_path):
    trace = simulate(
        "expr:x**2 + 10*y**2 + sin(x*y)", "Nadam(0.05)", STARTS, 30, noise=0.1
    )
    path = trace.save(tmp_path / "run")
    assert path.suffix == ".npz"
    back = Trace.load(path)
    for name in (
        "positions",
        "loss",
        "gradient",
        "diverged",
        "diverged_step",
        "diverged_reason",
        "converged_step",
        "converged_to",
        "steps_recorded",
    ):
        np.testing.assert_array_equal(getattr(back, name), getattr(trace, name))
        assert getattr(back, name).dtype == getattr(trace, name).dtype
    assert back.internals.keys() == trace.internals.keys()
    for name in trace.internals:
        np.testing.assert_array_equal(back.internals[name], trace.internals[name])
    assert back.metadata == trace.metadata
    assert back.label == trace.label
    np.testing.assert_array_equal(
        back.surface.value(STARTS), trace.surface.value(STARTS)
    )
    race = simulate("saddle", ["Adam(0.1)", "Lion(0.01)"], STARTS, 10)
    rback = load(race.save(tmp_path / "race.npz"))
    assert isinstance(rback, Race)
    assert rback.labels == race.labels
    np.testing.assert_array_equal(rback[1].positions, race[1].positions)


def test_truncated_or_tampered_files_fail_clearly(tmp_path):
    path = simulate("saddle", "Adam(0.1)", STARTS, 10).save(tmp_path / "t.npz")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated\.npz"):
        Trace.load(truncated)
    # Tamper: rewrite one array inside the archive, keep the old checksum.
    tampered = tmp_path / "tampered.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "positions.npy":
                content = content[:-8] + np.float64(42.0).tobytes()
            dst.writestr(item, content)
    with pytest.raises(ValueError, match="checksum"):
        Trace.load(tampered)
    with pytest.raises(ValueError, match="not found"):
        Trace.load(tmp_path / "missing.npz")


def test_memory_cap_refuses_with_estimate_and_advice():
    with pytest.raises(MemoryLimitError, match=r"record_every") as err:
        simulate(
            "rosenbrock",
            "Adam(0.01)",
            np.zeros((1000, 2)),
            10_000,
            memory_limit="100MB",
        )
    assert "GiB" in str(err.value) or "MiB" in str(err.value)
    # The same run thinned fits.
    trace = simulate(
        "rosenbrock",
        "Adam(0.01)",
        np.zeros((1000, 2)),
        10_000,
        memory_limit="100MB",
        record_every=1000,
        record=("loss",),
    )
    assert trace.positions.shape == (11, 1000, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": -1}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"record_every": 0}, "record_every"),
        ({"noise": -1.0}, "noise"),
        ({"dtype": "float16"}, "dtype"),
        ({"starts": [[1.0, 2.0, 3.0]]}, "starts"),
        ({"starts": [[np.nan, 0.0]]}, "starts"),
        ({"bound": -1.0}, "bound"),
        ({"clip_to_bound": True}, "bound"),
        ({"memory_limit": "lots"}, "memory_limit"),
        ({"record": ("positions", "Bad Name")}, "record"),
        ({"tolerance": 0}, "tolerance"),
    ],
)
def test_bad_arguments_name_argument_and_value(kwargs, match):
    args = {"starts": STARTS, "steps": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        simulate("rosenbrock", "Adam(0.01)", **args)


def test_unknown_surface_and_optimizer_suggest_names():
    with pytest.raises(ValueError, match="rosenbrock"):
        simulate("rosenbrok", "Adam(0.01)", STARTS, 5)
    with pytest.raises(ValueError, match="Adam"):
        simulate("rosenbrock", "Adma(0.01)", STARTS, 5)
