"""The six learning-rate schedules against live Keras: values, validation, config."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import optimizers, schedules

from keras_reference import floatx, keras

pytestmark = pytest.mark.keras

STEPS = np.arange(301)

# (class name, args, kwargs): several argument sets per schedule.
CASES = [
    ("ExponentialDecay", (0.1, 10, 0.5), {}),
    ("ExponentialDecay", (0.1, 10, 0.5), {"staircase": True}),
    ("ExponentialDecay", (1.0, 7, 0.96), {}),
    ("ExponentialDecay", (0.05, 3.5, 0.9), {"staircase": True}),
    ("PiecewiseConstantDecay", ([10, 20], [0.1, 0.05, 0.01]), {}),
    ("PiecewiseConstantDecay", ([0, 50, 100, 200], [1.0, 0.5, 0.25, 0.1, 0.05]), {}),
    ("PiecewiseConstantDecay", ([10.7, 99.2], [0.3, 0.2, 0.1]), {}),  # truncated
    ("PolynomialDecay", (0.1, 100), {}),
    ("PolynomialDecay", (0.1, 50, 0.01), {"power": 2.0, "cycle": True}),
    ("PolynomialDecay", (1.0, 120, 0.0), {"power": 0.5}),
    ("PolynomialDecay", (0.1, 30, 0.001), {"power": 3.0, "cycle": True}),
    ("InverseTimeDecay", (0.1, 5, 0.5), {}),
    ("InverseTimeDecay", (0.1, 5, 0.5), {"staircase": True}),
    ("InverseTimeDecay", (1.0, 30, 2.0), {}),
    ("CosineDecay", (0.1, 200), {"alpha": 0.1}),
    ("CosineDecay", (0.1, 100), {}),  # flat after decay_steps
    (
        "CosineDecay",
        (0.0, 150),
        {"alpha": 0.1, "warmup_target": 0.2, "warmup_steps": 50},
    ),
    ("CosineDecay", (0.01, 100), {"warmup_target": 0.1, "warmup_steps": 20}),
    ("CosineDecayRestarts", (0.1, 20), {}),
    ("CosineDecayRestarts", (0.1, 13), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.5, 10), {"t_mul": 1.5, "m_mul": 0.8}),
]
COSINE = ("CosineDecay", "CosineDecayRestarts")


def case(name, args, kwargs):
    text = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
    return pytest.param(name, args, kwargs, id=f"{name}({text})")


PARAMS = [case(*c) for c in CASES]


def vmapped(name, kwargs) -> bool:
    """Schedules with an `ops.cond`: CosineDecayRestarts, CosineDecay with warmup."""
    return name == "CosineDecayRestarts" or "warmup_target" in kwargs


def keras_values(name, args, kwargs, dtype):
    """Keras's schedule at steps 0..300 in Keras's `dtype` mode (floatx)."""
    import jax

    with floatx(dtype):
        schedule = getattr(keras().optimizers.schedules, name)(*args, **kwargs)
        if vmapped(name, kwargs):
            # Eager calls of these retrace `ops.cond` (50-200 ms per step); vmap
            # turns the cond into a select (as eager calls: see the test below).
            return np.asarray(jax.jit(jax.vmap(schedule))(STEPS), np.float64)
        return np.array([float(schedule(int(s))) for s in STEPS])


def our_values(name, args, kwargs, dtype):
    schedule = getattr(schedules, name)(*args, **kwargs)
    values = [schedule(int(s), dtype=dtype) for s in STEPS]
    assert {np.asarray(v).dtype for v in values} == {np.dtype(dtype)}
    return np.array(values, np.float64)


# Non-cosine schedules are exact in float64. Keras on JAX evaluates `cos` in
# float32 and, without warmup, CosineDecay even returns a float32 value in float64
# mode, so the cosine ones can only agree to a couple of float32 ulps of the scale
# (measured: up to 1.3e-7); float32 mode agrees to float32 rounding.
TOL_FLOAT64 = 1e-15
TOL_COSINE_FLOAT64 = 2.0**-22  # 2.4e-7: two float32 ulps at the scale
TOL_FLOAT32 = 1e-5


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "args", "kwargs"), PARAMS)
def test_values_match_keras_over_300_steps(name, args, kwargs, dtype):
    ref = keras_values(name, args, kwargs, dtype)
    ours = our_values(name, args, kwargs, dtype)
    if dtype == "float32":
        tol = TOL_FLOAT32
    else:
        tol = TOL_COSINE_FLOAT64 if name in COSINE else TOL_FLOAT64
    if name in COSINE:  # relative to the scale: cos errs by a share of the amplitude
        np.testing.assert_allclose(ours, ref, rtol=0, atol=tol * np.max(np.abs(ref)))
    else:
        np.testing.assert_allclose(ours, ref, rtol=tol, atol=0)


@pytest.mark.parametrize(
    ("name", "args", "kwargs"), [p for p in PARAMS if vmapped(p.values[0], p.values[2])]
)
def test_vmapped_keras_schedule_equals_eager_calls(name, args, kwargs):
    """The shortcut in `keras_values` returns what per-step Keras calls return."""
    steps = [0, 19, 20, 51, 173, 300]
    with floatx("float64"):
        schedule = getattr(keras().optimizers.schedules, name)(*args, **kwargs)
        eager = [float(schedule(s)) for s in steps]
    vmap = keras_values(name, args, kwargs, "float64")[steps]
    np.testing.assert_allclose(vmap, eager, rtol=1e-15, atol=0)


# Constructor arguments Keras rejects (decay_steps <= 0, length mismatch; None is a
# TypeError in Keras's comparison).
BAD = [
    ("ExponentialDecay", (0.1, 0, 0.5), {}, "decay_steps"),
    ("ExponentialDecay", (0.1, -10, 0.5), {}, "decay_steps"),
    ("ExponentialDecay", (0.1, None, 0.5), {}, "decay_steps"),
    ("PolynomialDecay", (0.1, 0), {}, "decay_steps"),
    ("PolynomialDecay", (0.1, -1.5), {"cycle": True}, "decay_steps"),
    ("InverseTimeDecay", (0.1, 0, 0.5), {}, "decay_steps"),
    ("CosineDecay", (0.1, 0), {}, "decay_steps"),
    (
        "CosineDecay",
        (0.1, -5),
        {"warmup_target": 0.2, "warmup_steps": 5},
        "decay_steps",
    ),
    ("CosineDecayRestarts", (0.1, 0), {}, "first_decay_steps"),
    ("CosineDecayRestarts", (0.1, -3), {}, "first_decay_steps"),
    ("PiecewiseConstantDecay", ([10, 20], [0.1, 0.05]), {}, "boundaries"),
    ("PiecewiseConstantDecay", ([10], [0.1, 0.05, 0.01]), {}, "boundaries"),
]
GOOD = [
    ("ExponentialDecay", (0.1, 0.5, 1.5), {}),
    ("PolynomialDecay", (0.1, 1), {"end_learning_rate": 0.5, "power": -1.0}),
    ("InverseTimeDecay", (0.1, 1, -0.5), {}),
    ("CosineDecay", (0.1, 1), {"alpha": 2.0}),
    ("CosineDecayRestarts", (0.1, 0.5), {"t_mul": 0.5, "m_mul": 2.0}),
    ("PiecewiseConstantDecay", ([], [0.1]), {}),
]


def raised(build):
    try:
        build()
    except Exception as exc:
        return exc
    return None


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "arg"), BAD, ids=[f"{b[0]}{b[1]}" for b in BAD]
)
def test_rejected_as_keras_rejects(name, args, kwargs, arg):
    keras_cls = getattr(keras().optimizers.schedules, name)
    assert raised(lambda: keras_cls(*args, **kwargs)) is not None
    exc = raised(lambda: getattr(schedules, name)(*args, **kwargs))
    assert isinstance(exc, ValueError), repr(exc)
    assert arg in str(exc)


@pytest.mark.parametrize(
    ("name", "args", "kwargs"), GOOD, ids=[f"{g[0]}{g[1]}" for g in GOOD]
)
def test_accepted_as_keras_accepts(name, args, kwargs):
    keras_cls = getattr(keras().optimizers.schedules, name)
    assert raised(lambda: keras_cls(*args, **kwargs)) is None
    assert raised(lambda: getattr(schedules, name)(*args, **kwargs)) is None


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ExponentialDecay", (None, 10, 0.5)),
        ("PolynomialDecay", ("0.1", 10)),
        ("InverseTimeDecay", (0.1, True, 0.5)),
        ("PiecewiseConstantDecay", ([10], [0.1, None])),
    ],
)
def test_non_numbers_refused_up_front(name, args):
    """Stricter than Keras, whose constructors let these through (to fail at the
    first call, or to read True as 1)."""
    keras_cls = getattr(keras().optimizers.schedules, name)
    assert raised(lambda: keras_cls(*args)) is None, "Keras rejects it now: see BAD"
    with pytest.raises(ValueError, match="must be a number"):
        getattr(schedules, name)(*args)


@pytest.mark.parametrize(("name", "args", "kwargs"), PARAMS)
def test_config_round_trips_and_equals_keras(name, args, kwargs):
    ours = getattr(schedules, name)(*args, **kwargs)
    config = ours.get_config()
    assert (
        config
        == getattr(keras().optimizers.schedules, name)(*args, **kwargs).get_config()
    )
    assert type(ours)(**config) == ours
    rebuilt = optimizers.parse(f"Adam(learning_rate={ours.to_text()})").learning_rate
    assert rebuilt == ours
    assert [rebuilt(s) for s in (0, 7, 150)] == [ours(s) for s in (0, 7, 150)]
