"""Batching, array hyperparameters, immutability, dtype, internals and config."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import optimizers
from simulator.schedules import InverseTimeDecay

from keras_reference import keras, our_trajectory
from optimizer_cases import ALL_CASES, case_id

STEPS = 30
STARTS = np.array([[-1.2, 1.0], [0.5, 0.3], [-0.5, 0.2], [1.2, 1.4], [0.0, -0.3]])


def rosen_grad(w: np.ndarray) -> np.ndarray:
    """Rosenbrock gradient on the last axis, elementwise in the particles.

    Not scipy's `rosen_der`: its result for one particle depends on the array
    layout by an ulp, which would hide the exactness this module checks.
    """
    x, y = w[..., 0], w[..., 1]
    return np.stack([-400 * x * (y - x * x) - 2 * (1 - x), 200 * (y - x * x)], -1)


def make(name: str, **kwargs) -> optimizers.Optimizer:
    return getattr(optimizers, name)(**kwargs)


FIRST_CASES = [(name, cases[0]) for name, cases in ALL_CASES.items()]
PIPELINE_CASES = [
    ("SGD", ALL_CASES["SGD"][3]),  # accumulation + clipvalue
    ("Adam", ALL_CASES["Adam"][2]),  # schedule + accumulation + EMA overwrite
    ("Lion", ALL_CASES["Lion"][2]),  # global_clipnorm + EMA + accumulation
    ("Lamb", ALL_CASES["Lamb"][1]),  # clipnorm + weight decay (per-variable norms)
]
CONTRACT_CASES = [
    pytest.param(n, kw, id=case_id(n, kw)) for n, kw in FIRST_CASES + PIPELINE_CASES
]


@pytest.mark.parametrize(("name", "kwargs"), CONTRACT_CASES)
def test_batched_run_equals_loop_over_single_particles(name, kwargs):
    batched = our_trajectory(make(name, **kwargs), rosen_grad, STARTS, STEPS)
    for i, start in enumerate(STARTS):
        single = our_trajectory(
            make(name, **kwargs), rosen_grad, start, STEPS, batch_ndim=0
        )
        np.testing.assert_array_equal(batched[:, i], single)


# One more numeric hyperparameter per optimizer, swept as a (3, 1) array.
SWEPT = {
    "SGD": ("momentum", [0.0, 0.5, 0.9]),
    "RMSprop": ("rho", [0.8, 0.9, 0.99]),
    "Adam": ("beta_1", [0.5, 0.9, 0.99]),
    "AdamW": ("beta_2", [0.9, 0.99, 0.999]),
    "Adadelta": ("rho", [0.5, 0.9, 0.95]),
    "Adagrad": ("initial_accumulator_value", [0.0, 0.1, 1.0]),
    "Adamax": ("beta_2", [0.9, 0.99, 0.999]),
    "Nadam": ("beta_1", [0.5, 0.9, 0.99]),
    "Lion": ("beta_2", [0.9, 0.95, 0.99]),
    "Lamb": ("beta_1", [0.5, 0.9, 0.99]),
    "Ftrl": ("l1_regularization_strength", [0.0, 0.1, 1.0]),
    "Adafactor": ("beta_2_decay", [-0.5, -0.8, -1.0]),
    "Muon": ("adam_beta_1", [0.5, 0.9, 0.99]),
    "ScheduleFreeAdamW": ("beta_1", [0.5, 0.9, 0.95]),
}


def sweep_cases() -> list:
    cases = []
    for name, kwargs in FIRST_CASES:
        lr = kwargs["learning_rate"]
        cases.append(pytest.param(name, kwargs, "learning_rate", [lr / 2, lr, 2 * lr]))
        cases.append(pytest.param(name, kwargs, *SWEPT[name]))
    return cases


@pytest.mark.parametrize(("name", "kwargs", "arg", "values"), sweep_cases())
def test_array_hyperparameter_equals_matching_scalar_runs(name, kwargs, arg, values):
    """Values (3, 1) against starts (1, 4, 2) is a 3 x 4 grid of scalar runs."""
    array = np.array(values).reshape(3, 1)
    opt = make(name, **{**kwargs, arg: array})
    grid = our_trajectory(opt, rosen_grad, STARTS[None, :4], STEPS, batch_ndim=2)
    assert grid.shape == (STEPS + 1, 3, 4, 2)
    for h, value in enumerate(values):
        scalar_opt = make(name, **{**kwargs, arg: value})
        for j in range(4):
            single = our_trajectory(
                scalar_opt, rosen_grad, STARTS[j], STEPS, batch_ndim=0
            )
            np.testing.assert_array_equal(grid[:, h, j], single)


def state_arrays(state) -> list[np.ndarray]:
    """Every array held by an `OptState`."""
    arrays = [a for slots in state.slots for a in slots.values()]
    arrays += list(state.shared.values())
    arrays += list(state.ema or ()) + list(state.accumulators or ())
    return arrays


def freeze(arrays) -> list[np.ndarray]:
    """Makes arrays read-only and returns copies to compare against later."""
    copies = [np.array(a, copy=True) for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    return copies


MUTATION_CASES = [
    pytest.param(n, kw, id=case_id(n, kw))
    for n, cases in ALL_CASES.items()
    for kw in cases
]


@pytest.mark.parametrize(("name", "kwargs"), MUTATION_CASES)
def test_inputs_are_never_mutated(name, kwargs):
    lr = np.array([[0.5], [1.0]]) * 0.01
    opt = make(name, **{**kwargs, "learning_rate": lr})
    w = np.array(STARTS[:3])
    state = opt.init([w], batch_ndim=1)
    lr_copy = freeze([lr])[0]
    for _ in range(6):
        g = rosen_grad(w)
        inputs = [w, g, *state_arrays(state)]
        copies = freeze(inputs)
        res = opt.step([w], [g], state)
        for before, after in zip(copies, inputs, strict=True):
            np.testing.assert_array_equal(before, after)
        w, state = res.params[0], res.state
    np.testing.assert_array_equal(lr, lr_copy)
    assert state.batch_shape == (2, 3)


@pytest.mark.parametrize(("name", "kwargs"), MUTATION_CASES)
def test_new_params_and_state_never_alias_the_gradient(name, kwargs):
    """Callers may reuse their gradient buffer (the moons training writes every
    step's gradient into one array), so nothing a step returns may be a view of
    the gradient it was given."""
    opt = make(name, **kwargs)
    w = np.array(STARTS[:3])
    state = opt.init([w], batch_ndim=1)
    for _ in range(4):
        g = rosen_grad(w)
        res = opt.step([w], [g], state, internals=False)
        for out in [*res.params, *state_arrays(res.state)]:
            assert not np.shares_memory(out, g)
        w, state = res.params[0], res.state


def float_leaves(tree):
    """The floating arrays of a nested tuple/dict of internals."""
    if isinstance(tree, dict):
        for value in tree.values():
            yield from float_leaves(value)
    elif isinstance(tree, tuple | list):
        for value in tree:
            yield from float_leaves(value)
    elif isinstance(tree, np.ndarray) and tree.dtype.kind == "f":
        yield tree


@pytest.mark.parametrize(("name", "kwargs"), CONTRACT_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(name, kwargs, dtype):
    opt = make(name, **kwargs)
    w = STARTS.astype(dtype)
    state = opt.init([w], batch_ndim=1)
    for _ in range(3):
        res = opt.step([w], [rosen_grad(w).astype(dtype)], state)
        w, state = res.params[0], res.state
        arrays = [w, *state_arrays(state), *float_leaves(res.internals)]
        assert {a.dtype for a in arrays} == {np.dtype(dtype)}


COMMON_INTERNALS = {"learning_rate", "grad_position", "gradient", "update"}
COMMON_INTERNALS |= {"effective_lr"}
# Optimizer -> (kwargs that switch every documented internal on, their names).
DOCUMENTED = {
    "SGD": (
        {"momentum": 0.9, "nesterov": True},
        {"velocity", "step_size", "lookahead", "nesterov_base"},
    ),
    "RMSprop": (
        {"momentum": 0.9, "centered": True},
        {"second_moment", "step_size", "average_gradient", "velocity"},
    ),
    "Adam": (
        {"amsgrad": True},
        {"first_moment", "second_moment", "max_second_moment", "step_size"},
    ),
    "AdamW": (
        {"amsgrad": True},
        {"first_moment", "second_moment", "max_second_moment", "step_size"},
    ),
    "Adadelta": ({}, {"second_moment", "accumulated_delta", "step_size"}),
    "Adagrad": ({}, {"second_moment", "step_size"}),
    "Adamax": ({}, {"first_moment", "second_moment", "step_size"}),
    "Nadam": (
        {},
        {"first_moment", "second_moment", "momentum_schedule", "step_size"},
    ),
    "Lion": ({}, {"first_moment", "sign_update", "step_size"}),
    "Lamb": ({}, {"first_moment", "second_moment", "trust_ratio", "step_size"}),
    "Ftrl": ({}, {"second_moment", "linear", "step_size"}),
    "Adafactor": ({}, {"second_moment", "relative_step_size", "step_size"}),
    "Muon": ({}, {"first_moment", "second_moment", "step_size"}),  # Adam path
    "ScheduleFreeAdamW": ({}, {"second_moment", "z", "x", "step_size"}),
}
BATCH_SHAPED = {"trust_ratio", "relative_step_size"}  # one value per batch element


@pytest.mark.parametrize("name", DOCUMENTED)
def test_internals_have_documented_names_and_shapes(name):
    kwargs, names = DOCUMENTED[name]
    opt = make(name, learning_rate=0.01, **kwargs)
    w = STARTS
    state = opt.init([w], batch_ndim=1)
    res = opt.step([w], [rosen_grad(w)], state)
    out = res.internals
    assert set(out) == COMMON_INTERNALS | names
    assert out["learning_rate"].shape == (5,)
    for key in set(out) - {"learning_rate"}:
        (value,) = out[key]  # one entry per variable
        assert value.shape == ((5,) if key in BATCH_SHAPED else (5, 2)), key
    (update,), (gradient,) = out["update"], out["gradient"]
    np.testing.assert_array_equal(update, res.params[0] - w)
    np.testing.assert_array_equal(out["grad_position"][0], w)
    np.testing.assert_array_equal(out["effective_lr"][0], -update / gradient)
    if name == "SGD":  # Keras stores the lookahead point: gradients are taken there
        np.testing.assert_array_equal(out["lookahead"][0], w)


def test_pipeline_internals_ema_and_accumulation():
    opt = optimizers.Adam(
        learning_rate=0.01, use_ema=True, gradient_accumulation_steps=2
    )
    state = opt.init([STARTS], batch_ndim=1)
    flags = []
    w = STARTS
    for _ in range(4):
        res = opt.step([w], [rosen_grad(w)], state)
        w, state = res.params[0], res.state
        assert res.internals["ema"][0].shape == (5, 2)
        np.testing.assert_array_equal(res.internals["ema"][0], state.ema[0])
        flags.append(res.internals["is_update_step"])
    assert [f.shape for f in flags] == [(5,)] * 4
    assert [bool(f.all()) for f in flags] == [False, True, False, True]


def test_muon_internals_per_path_for_a_vector_and_a_matrix():
    """A (2,) variable takes the Adam path, a (3, 2) one the Muon path."""
    opt = optimizers.Muon(learning_rate=0.01)
    params = [np.array([0.5, -1.0]), np.arange(6.0).reshape(3, 2) / 6]
    state = opt.init(params)
    res = opt.step(params, [p - 0.1 for p in params], state)
    out = res.internals
    assert {"second_moment", "orthogonalized_update"} <= set(out)
    assert np.all(np.isfinite(out["second_moment"][0]))
    assert np.all(np.isnan(out["second_moment"][1]))  # not on the Muon path
    assert np.all(np.isnan(out["orthogonalized_update"][0]))
    assert out["orthogonalized_update"][1].shape == (3, 2)


@pytest.mark.parametrize(("name", "kwargs"), MUTATION_CASES)
def test_to_text_parse_round_trip(name, kwargs):
    opt = make(name, **kwargs)
    again = optimizers.parse(opt.to_text())
    assert type(again) is type(opt)
    assert again.get_config() == opt.get_config()
    np.testing.assert_array_equal(
        our_trajectory(again, rosen_grad, STARTS, 12),
        our_trajectory(opt, rosen_grad, STARTS, 12),
    )


def test_to_text_names_only_non_defaults():
    opt = optimizers.SGD(learning_rate=InverseTimeDecay(0.1, 10, 0.5), momentum=0.9)
    assert opt.to_text() == (
        "SGD(learning_rate=InverseTimeDecay(initial_learning_rate=0.1, "
        "decay_steps=10, decay_rate=0.5, staircase=False), momentum=0.9)"
    )


@pytest.mark.keras
@pytest.mark.parametrize("cls", optimizers.ALL_OPTIMIZERS, ids=lambda c: c.__name__)
def test_get_config_keys_and_name_match_keras(cls):
    from keras.src.utils.naming import to_snake_case

    ours = cls().get_config()
    theirs = getattr(keras().optimizers, cls.__name__)().get_config()
    assert set(ours) == set(theirs)
    assert ours["name"] == to_snake_case(cls.__name__)


# Valid hyperparameter ranges per optimizer for the property test (beyond lr).
VALID = {
    "SGD": {"momentum": st.floats(0.0, 1.0), "nesterov": st.booleans()},
    "RMSprop": {"rho": st.floats(0.0, 0.999), "momentum": st.floats(0.0, 0.99)},
    "Adam": {"beta_1": st.floats(0.0, 0.999), "amsgrad": st.booleans()},
    "AdamW": {"weight_decay": st.floats(0.0, 0.1), "beta_2": st.floats(0.5, 0.999)},
    "Adadelta": {"rho": st.floats(0.0, 0.999), "epsilon": st.floats(1e-8, 1e-3)},
    "Adagrad": {"initial_accumulator_value": st.floats(0.0, 1.0)},
    "Adamax": {"beta_1": st.floats(0.0, 0.999), "beta_2": st.floats(0.5, 0.999)},
    "Nadam": {"beta_1": st.floats(0.0, 0.999), "beta_2": st.floats(0.5, 0.999)},
    "Lion": {"beta_1": st.floats(0.01, 1.0), "beta_2": st.floats(0.0, 0.999)},
    "Lamb": {"beta_1": st.floats(0.0, 0.999), "epsilon": st.floats(1e-8, 1e-3)},
    "Ftrl": {
        "learning_rate_power": st.floats(-1.0, 0.0),
        "l1_regularization_strength": st.floats(0.0, 1.0),
        "beta": st.floats(0.0, 1.0),
    },
    "Adafactor": {
        "beta_2_decay": st.floats(-1.0, -0.1),
        "clip_threshold": st.floats(0.1, 2.0),
    },
    "Muon": {"momentum": st.floats(0.0, 0.99), "ns_steps": st.integers(0, 6)},
    "ScheduleFreeAdamW": {
        "beta_1": st.floats(0.1, 0.99),
        "warmup_steps": st.integers(0, 5),
    },
}
PIPELINE = st.sampled_from(
    [
        {},
        {"clipnorm": 1.0},
        {"clipvalue": 0.5},
        {"global_clipnorm": 2.0},
        {"use_ema": True, "ema_overwrite_frequency": 2},
        {"gradient_accumulation_steps": 2, "weight_decay": 0.01},
    ]
)


@pytest.mark.parametrize("name", VALID)
def test_random_valid_hyperparameters_never_crash(name):
    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(
        kwargs=st.fixed_dictionaries(VALID[name]),
        lr=st.floats(1e-4, 1.0),
        pipeline=PIPELINE,
        starts=st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=1),
        matrix=st.booleans(),
    )
    def run(kwargs, lr, pipeline, starts, matrix):
        opt = make(name, learning_rate=lr, **{**pipeline, **kwargs})
        w = np.array(starts)
        if matrix:  # one (n, 2) matrix variable: per-variable reductions
            w = w[None]
        with np.errstate(all="ignore"):  # divergence is allowed, crashes are not
            out = our_trajectory(opt, rosen_grad, w, 5)
        assert out.shape == (6, *w.shape)

    run()
