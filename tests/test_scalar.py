"""The small-batch float path (`simulator.scalar`) gives the array path's Trace.

Bit for bit: every comparison runs the same `simulate` call twice, once with
the float path and once with `scalar.ENABLED = False` (the array path), and
compares every field of the two traces exactly: arrays with `np.array_equal`
(NaN equal to NaN, so positions after divergence count), the internals' names
and order, the divergence and convergence fields and the metadata.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import surfaces
from simulator import scalar, simulate
from simulator.schedules import CosineDecay, ExponentialDecay

FIELDS = (
    "steps_recorded",
    "positions",
    "loss",
    "gradient",
    "diverged",
    "diverged_step",
    "diverged_reason",
    "converged_step",
    "converged_to",
)

#: Every supported rule, in several configurations each.
CONFIGS = (
    "SGD(learning_rate=0.002)",
    "SGD(learning_rate=0.002, momentum=0.9)",
    "SGD(learning_rate=0.002, momentum=0.9, nesterov=True)",
    "SGD(learning_rate=0.002, momentum=0.5, weight_decay=0.1)",
    "SGD(learning_rate=0.002, momentum=0.9, nesterov=True, weight_decay=0.05)",
    "Lion(learning_rate=0.01, weight_decay=0.1)",
    "RMSprop(learning_rate=0.01, momentum=-0.5)",
    "Adagrad(learning_rate=0.1)",
    "Adagrad(learning_rate=0.3, initial_accumulator_value=0.5, epsilon=1e-5)",
    "RMSprop(learning_rate=0.01)",
    "RMSprop(learning_rate=0.01, momentum=0.9)",
    "RMSprop(learning_rate=0.01, centered=True)",
    "RMSprop(learning_rate=0.01, momentum=0.9, centered=True)",
    "Adam(learning_rate=0.1)",
    "Adam(learning_rate=0.05, beta_1=0.5, beta_2=0.9, amsgrad=True)",
    "Adam(learning_rate=0.05, weight_decay=0.02)",
    "AdamW(learning_rate=0.1, weight_decay=0.01)",
    "AdamW(learning_rate=0.1, amsgrad=True)",
    "Nadam(learning_rate=0.1)",
    "Nadam(learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-4)",
    "Adamax(learning_rate=0.1)",
    "Adamax(learning_rate=0.05, beta_1=0.7)",
    "Adadelta(learning_rate=1.0)",
    "Adadelta(learning_rate=5.0, rho=0.8)",
    "Lion(learning_rate=0.01)",
    "Lion(learning_rate=0.02, beta_1=0.5, beta_2=0.9)",
)

#: Surfaces whose kernel the float path calls.
SCALAR_SURFACES = (
    "rosenbrock",
    "saddle",
    "valley",
    "long_valley",
    "beale",
    "himmelblau",
    "booth",
    "six_hump_camel",
    "goldstein_price",
    "rastrigin",
    "ackley",
    "monkey_saddle",
    "styblinski_tang",
)

RECORDS = (
    ("positions", "loss", "gradient", "internals"),
    ("positions", "loss"),
    ("positions", "velocity", "step_size", "update"),
)


def assert_same(fast, slow) -> None:
    """Every field of two traces is identical (NaN equal to NaN)."""
    for name in FIELDS:
        a, b = getattr(fast, name), getattr(slow, name)
        if a is None or b is None:
            assert a is None, name
            assert b is None, name
            continue
        assert a.dtype == b.dtype, name
        assert a.shape == b.shape, name
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
    assert list(fast.internals) == list(slow.internals)
    for name, value in slow.internals.items():
        assert fast.internals[name].dtype == value.dtype, name
        assert fast.internals[name].shape == value.shape, name
        assert np.array_equal(fast.internals[name], value, equal_nan=True), name
    assert fast.metadata == slow.metadata
    assert fast.label == slow.label


@pytest.fixture
def runs(monkeypatch):
    """`runs(...)` -> (float-path trace, array-path trace); checks which path ran."""
    calls = []
    real = scalar.run

    def counting(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(scalar, "run", counting)

    def both(*args, fast=True, **kwargs):
        calls.clear()
        a = simulate(*args, **kwargs)
        took = list(calls)
        monkeypatch.setattr(scalar, "ENABLED", False)
        try:
            calls.clear()
            b = simulate(*args, **kwargs)
            assert not calls  # the array path really ran
        finally:
            monkeypatch.setattr(scalar, "ENABLED", True)
        if fast is not None:  # None: either path (a float exception falls back)
            assert (bool(took) and all(took)) == fast, took
        return a, b

    return both


@pytest.mark.filterwarnings("ignore:record. .* has no internal")
@pytest.mark.parametrize("text", CONFIGS)
@pytest.mark.parametrize("record", RECORDS, ids=("all", "loss", "named"))
def test_rules_match_on_rosenbrock(runs, text, record):
    a, b = runs("rosenbrock", text, [(-1.2, 1.0), (1.5, -0.5)], 150, record=record)
    assert_same(a, b)


@pytest.mark.parametrize("surface", SCALAR_SURFACES)
@pytest.mark.parametrize("text", CONFIGS[::2])
def test_rules_match_on_every_surface(runs, surface, text):
    starts = surfaces.get(surface).starts
    a, b = runs(surface, text, starts, 80, record_every=7)
    assert_same(a, b)


@pytest.mark.parametrize(
    "text", ["SGD(learning_rate=0.05, momentum=0.9)", "Adam(learning_rate=2.0)"]
)
def test_divergence_matches(runs, text):
    # Far starts on Rosenbrock overflow to inf and NaN within a few steps:
    # nonfinite losses, gradients and positions, frozen positions after.
    starts = [(-1.2, 1.0), (30.0, -20.0), (1e80, 1.0), (-3.0, 3.0)]
    a, b = runs("rosenbrock", text, starts, 60)
    assert a.diverged.any()
    assert_same(a, b)


def test_every_divergence_reason_matches(runs):
    a, b = runs("rosenbrock", "SGD(learning_rate=0.01)", [(1e154, 1.0)], 5)
    assert_same(a, b)
    a, b = runs("rosenbrock", "SGD(learning_rate=0.01)", [(1e200, 1.0)], 5)
    assert a.diverged_reason[0] == "nonfinite_loss"
    assert_same(a, b)
    a, b = runs(
        "saddle", "SGD(learning_rate=0.3)", [(-1.8, 0.2), (0.1, 0.0)], 40, bound=3.0
    )
    assert "out_of_bound" in set(a.diverged_reason)
    assert_same(a, b)


def test_clipping_to_bound_matches(runs):
    a, b = runs(
        "saddle",
        "Adam(learning_rate=0.3)",
        [(-1.8, 0.2), (1.0, -0.1)],
        60,
        bound=((-2.0, 2.0), (-1.0, 1.5)),
        clip_to_bound=True,
    )
    assert a.metadata["clip_events"] > 0
    assert_same(a, b)


@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_noise_and_particle_index_match(runs, noise):
    a, b = runs(
        "himmelblau",
        "RMSprop(learning_rate=0.05, momentum=0.5)",
        [[(-0.2, -0.6), (0.0, 0.0)], [(1.0, -4.0), (2.0, 2.0)]],
        70,
        noise=noise,
        seed=11,
        particle_index=[[5, 9], [0, 3]],
    )
    assert_same(a, b)


@pytest.mark.parametrize(
    "lr",
    [
        ExponentialDecay(0.2, decay_steps=10, decay_rate=0.5),
        CosineDecay(0.1, decay_steps=50, alpha=0.1),
    ],
)
def test_schedules_match(runs, lr):
    from simulator.optimizers import SGD, Adam

    for opt in (Adam(learning_rate=lr), SGD(learning_rate=lr, momentum=0.9)):
        a, b = runs("rosenbrock", opt, [(-1.2, 1.0)], 80, record_every=3)
        assert_same(a, b)


def test_a_schedule_over_an_array_falls_back(runs):
    from simulator.optimizers import SGD

    lr = ExponentialDecay(np.array([0.01, 0.02]), decay_steps=10, decay_rate=0.5)
    opt = SGD(learning_rate=lr)
    a, b = runs("rosenbrock", opt, [(-1.2, 1.0), (1.0, 2.0)], 15, fast=False)
    assert_same(a, b)


def test_race_and_zero_steps_match(runs):
    texts = list(CONFIGS[::3])
    a, b = runs("beale", texts, [(1.0, 1.5)], 0)
    for x, y in zip(a, b, strict=True):
        assert_same(x, y)
    a, b = runs("beale", texts, [(1.0, 1.5)], 33, record_every=10)
    for x, y in zip(a, b, strict=True):
        assert_same(x, y)
    assert a.metadata == b.metadata


@pytest.mark.parametrize(
    "kwargs",
    [
        {"optimizer": "Adam(learning_rate=0.1, clipnorm=1.0)"},
        {"optimizer": "Adam(learning_rate=0.1, use_ema=True)"},
        {"optimizer": "SGD(learning_rate=0.01, gradient_accumulation_steps=2)"},
        {"optimizer": "Lamb(learning_rate=0.01)"},
        {"optimizer": "torch:Adam(lr=0.01)"},
        {"surface": surfaces.Surface("mine", lambda x, y: (x * x, 2 * x, 0 * y))},
        {"dtype": "float32"},
        {"starts": np.full((17, 2), 0.5)},
        {"noise": 0.1, "noise_scheme": "pcg64-batch"},
    ],
    ids=lambda k: "-".join(f"{a}={str(b)[:20]}" for a, b in k.items()),
)
def test_unsupported_configurations_fall_back(runs, kwargs):
    args = {
        "surface": "rosenbrock",
        "optimizer": "Adam(learning_rate=0.01)",
        "steps": 20,
        "starts": [(-1.2, 1.0), (1.0, 2.0)],
        **kwargs,
    }
    a, b = runs(
        args.pop("surface"),
        args.pop("optimizer"),
        args.pop("starts"),
        **args,
        fast=False,
    )
    assert_same(a, b)


def test_long_runs_fall_back(runs, monkeypatch):
    # The loop keeps every step: particles x steps is capped.
    monkeypatch.setattr(scalar, "MAX_PARTICLE_STEPS", 39)
    a, b = runs("rosenbrock", "Adam(0.01)", [(-1.2, 1.0), (1.0, 2.0)], 20, fast=False)
    assert_same(a, b)
    a, b = runs("rosenbrock", "Adam(0.01)", [(-1.2, 1.0)], 39)
    assert_same(a, b)


def test_array_hyperparameters_fall_back(runs):
    from simulator.optimizers import Adam

    opt = Adam(learning_rate=np.array([0.01, 0.1]))
    a, b = runs("rosenbrock", opt, [(-1.2, 1.0)], 20, fast=False)
    assert_same(a, b)


def test_a_float_exception_repeats_the_run_on_the_array_path(runs):
    # epsilon=0 with a zero gradient: 0/0 raises on floats, is NaN in numpy.
    a, b = runs(
        "saddle",
        "Adagrad(learning_rate=0.1, epsilon=0.0, initial_accumulator_value=0.0)",
        [(0.0, 0.0)],
        5,
        fast=False,
    )
    assert a.diverged_reason[0] == "nonfinite_position"
    assert_same(a, b)


#: Typed surfaces: every operator and function family of the expression grammar.
EXPRESSIONS = (
    "x**2 + 3*y**2",
    "(1 - x)**2 + 100*(y - x**2)**2",
    "x**3 - 3*x*y**2 + 0.5*y**4",
    "sin(3*x)*cos(2*y) + 0.1*(x**2 + y**2)",
    "sqrt(x**2 + y**2 + 1) + exp(-x)*0.1 - log(2 + tanh(y))",
    "abs(x) + hypot(x, y)**1.5 + where(x > 0, x, -x/2) + maximum(y, 0)",
    "log1p(x**2) + arctan2(y, x + 3) + (x % 1.5) + (y < x)*y**2",
    "x**2 / (1 + y**2) + 2**y",
)


@pytest.mark.parametrize("text", EXPRESSIONS)
@pytest.mark.parametrize(
    "opt", ["Adam(learning_rate=0.1)", "SGD(learning_rate=0.02, momentum=0.9)"]
)
def test_expression_surfaces_match(runs, text, opt):
    a, b = runs(text, opt, [(1.3, -0.7), (-2.0, 2.5)], 60, noise=0.1)
    assert_same(a, b)


@pytest.mark.parametrize("surface", SCALAR_SURFACES + EXPRESSIONS)
def test_surface_kernels_on_floats_match_the_arrays(surface):
    s = surfaces.resolve(surface)
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = s.view
    points = np.stack([rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)], axis=-1)
    points = np.concatenate([points, [[0.0, 0.0], [1e30, -1e30], [1e160, 3.0]]])
    f, g = s.value_and_grad(points[:, None])  # (N, 1, 2): the engine's strides
    kernel = scalar._scalar_kernel(s)
    for i, (x, y) in enumerate(points.tolist()):
        with np.errstate(all="ignore"):  # as in simulate
            fs, gxs, gys = kernel(x, y)
        assert {type(fs), type(gxs), type(gys)} == {float}
        got = np.array([fs, gxs, gys])
        want = np.array([f[i, 0], g[i, 0, 0], g[i, 0, 1]])
        assert np.array_equal(got, want, equal_nan=True), (surface, x, y)


_coordinate = st.floats(-4, 4, allow_subnormal=False)


@pytest.mark.filterwarnings("ignore:record. .* has no internal")
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.sampled_from(CONFIGS),
    surface=st.sampled_from(SCALAR_SURFACES),
    starts=st.lists(st.tuples(_coordinate, _coordinate), min_size=1, max_size=3),
    lr_scale=st.sampled_from([0.1, 1.0, 30.0]),
    steps=st.integers(0, 60),
    record_every=st.integers(1, 9),
    record=st.sampled_from(
        [*RECORDS, ("positions",), ("gradient", "learning_rate", "effective_lr")]
    ),
    noise=st.sampled_from([0.0, 0.5]),
    bound=st.sampled_from([None, 3.0, ((-2.0, 4.0), (-1.0, 2.0))]),
    clip=st.booleans(),
)
def test_fuzz_fast_path_equals_array_path(
    runs, text, surface, starts, lr_scale, steps, record_every, record, noise,
    bound, clip,
):  # fmt: skip
    from simulator.engine import resolve_optimizer

    opt = resolve_optimizer(text)
    config = opt.get_config()
    config["learning_rate"] = config["learning_rate"] * lr_scale
    opt = type(opt)(**config)
    a, b = runs(
        surface,
        opt,
        starts,
        steps,
        record_every=record_every,
        record=record,
        noise=noise,
        seed=len(starts),
        bound=bound,
        clip_to_bound=clip and bound is not None,
        fast=None,
    )
    assert_same(a, b)


def test_the_largest_small_batch_takes_the_float_path(runs):
    # (4, 4) starts: a 2-D batch of MAX_PARTICLES, reshaped back exactly.
    starts = np.stack(
        np.meshgrid(np.linspace(-2, 2, 4), np.linspace(-1, 3, 4)), axis=-1
    )
    assert starts.shape[:-1] == (4, 4)
    assert starts[..., 0].size == scalar.MAX_PARTICLES
    a, b = runs("rosenbrock", "Nadam(learning_rate=0.05)", starts, 40, noise=0.2)
    assert_same(a, b)
