"""The reference goldens (real Keras 3.15.1/JAX) and Keras's own single-step values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simulator import optimizers
from simulator.schedules import CosineDecay, CosineDecayRestarts

from keras_reference import max_relative_error

GOLDENS = json.loads(
    (Path(__file__).parent / "data" / "keras3-optimizer-goldens.json").read_text()
)
MODES = ("float64", "float32")
MATRIX_T = np.array(GOLDENS["surfaces"]["matrix3x2"]["T"])


def _rosen(w: np.ndarray) -> np.ndarray:
    x, y = w[..., 0], w[..., 1]
    return np.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], -1)


# The generator's gradients (keras3-optimizer-goldens-gen.py), computed in float64.
GRADIENTS = {
    "bowl": lambda w: w * np.array([1.0, 10.0]),
    "rosenbrock": _rosen,
    "rosenbrock_swarm4x2": _rosen,
    "matrix3x2": lambda w: (w - MATRIX_T) + 0.1 * w * w,
}

# Tolerances of spec section 6 (max relative error, scale-relative per step).
TOL_FLOAT64 = 1e-12
# Keras on JAX computes `mean`, `norm` and `cos` in float32 even for float64
# variables: Adafactor's RMS/means, Muon's Frobenius norm and the cosine schedules
# can only agree to float32 rounding.
TOL_FLOAT32_INTERNALS = 1e-7
TOL_FLOAT32_MODE = 1e-5


def build(key: str) -> optimizers.Optimizer:
    """The optimizer of a golden key such as `"Lamb(learning_rate=0.1) [matrix]"`."""
    return optimizers.parse(key.split(" [")[0])


def run(opt, surface: str, dtype: str, batch_axes: int = 0) -> np.ndarray:
    """The golden protocol: 10 applies, returning w after each (float64)."""
    w = np.asarray(GOLDENS["surfaces"][surface]["start"], dtype=dtype)
    w = w.reshape((1,) * batch_axes + w.shape)
    state = opt.init([w], batch_ndim=batch_axes, names=["particle"])
    out = []
    for _ in range(10):
        g = GRADIENTS[surface](w.astype(np.float64)).astype(dtype)
        res = opt.step([w], [g], state, internals=False)
        w, state = res.params[0], res.state
        assert w.dtype == np.dtype(dtype)
        out.append(w.reshape(w.shape[batch_axes:]).astype(np.float64))
    return np.stack(out)


def tolerance(key: str, dtype: str) -> float:
    if dtype == "float32":
        return TOL_FLOAT32_MODE
    if key.startswith(("Adafactor", "Muon")):
        return TOL_FLOAT32_INTERNALS
    return TOL_FLOAT64


OPTIMIZER_KEYS = list(GOLDENS["float64"]["optimizers"])


def test_golden_file_has_every_entry_in_both_modes():
    assert len(OPTIMIZER_KEYS) == 36
    for mode in MODES:
        assert list(GOLDENS[mode]["optimizers"]) == OPTIMIZER_KEYS
        assert len(GOLDENS[mode]["schedules_steps_0_to_40"]) == 11


@pytest.mark.parametrize("dtype", MODES)
@pytest.mark.parametrize("key", OPTIMIZER_KEYS)
def test_optimizer_golden(key, dtype):
    entry = GOLDENS[dtype]["optimizers"][key]
    ref = np.array(entry["trajectory_after_each_step"])
    ours = run(build(key), entry["surface"], dtype)
    assert max_relative_error(ours, ref) <= tolerance(key, dtype)


@pytest.mark.parametrize("key", OPTIMIZER_KEYS)
def test_leading_batch_axis_of_one_changes_nothing(key):
    """`(1, *shape)` with `batch_ndim=1` is the same single Keras run, bit for bit."""
    surface = GOLDENS["float64"]["optimizers"][key]["surface"]
    plain = run(build(key), surface, "float64")
    np.testing.assert_array_equal(run(build(key), surface, "float64", 1), plain)


SWARM_KEYS = [k for k in OPTIMIZER_KEYS if k.endswith("[swarm4x2]")]
ELEMENTWISE = ("Adam(",)


@pytest.mark.parametrize("key", SWARM_KEYS)
def test_swarm_rows_as_particles_decouple_only_coupled_optimizers(key):
    """Spec 2.7: one (4, 2) Keras variable equals 4 particles only if elementwise.

    With `batch_ndim=1` each row is its own particle (a separate Keras run), so
    Lamb, Adafactor and clipnorm (which reduce over the whole variable) must
    leave the golden, while Adam must still match it exactly.
    """
    ref = np.array(GOLDENS["float64"]["optimizers"][key]["trajectory_after_each_step"])
    w = np.array(GOLDENS["surfaces"]["rosenbrock_swarm4x2"]["start"])
    opt = build(key)
    state = opt.init([w], batch_ndim=1)
    for _ in range(10):
        res = opt.step([w], [_rosen(w)], state, internals=False)
        w, state = res.params[0], res.state
    error = max_relative_error(w[None], ref[-1:])
    if key.startswith(ELEMENTWISE):
        assert error <= TOL_FLOAT64
    else:
        assert error > 1e-3


SCHEDULE_KEYS = list(GOLDENS["float64"]["schedules_steps_0_to_40"])


def build_schedule(key: str):
    """The schedule of a golden key, through the same ast-only parser."""
    return optimizers.parse(f"SGD(learning_rate={key})").learning_rate


@pytest.mark.parametrize("dtype", MODES)
@pytest.mark.parametrize("key", SCHEDULE_KEYS)
def test_schedule_golden(key, dtype):
    ref = np.array(GOLDENS[dtype]["schedules_steps_0_to_40"][key])
    schedule = build_schedule(key)
    ours = np.array([schedule(step, dtype=np.dtype(dtype)) for step in range(41)])
    assert ours.dtype == np.dtype(dtype)
    cosine = isinstance(schedule, CosineDecay | CosineDecayRestarts)
    tol = TOL_FLOAT32_MODE if dtype == "float32" else TOL_FLOAT64
    if cosine and dtype == "float64":
        tol = TOL_FLOAT32_INTERNALS
    # Relative to the schedule's scale (as for trajectories): float32 `cos` errs by
    # a fraction of the amplitude, not of a value that may be near zero.
    np.testing.assert_allclose(ours, ref, rtol=0, atol=tol * np.max(np.abs(ref)))


# Spec section 6, "Quick single-step checks from Keras' own tests": vars [1,2,3,4],
# grads [1,6,7,2], learning_rate 0.5, one step, defaults otherwise. The values are
# printed to 4 decimals, hence the 1e-4 tolerance (Keras's tests use 1e-4 too).
SINGLE_STEP = {
    "SGD": [0.5, -1, -0.5, 3],
    "Adam": [0.5, 1.5, 2.5, 3.5],
    "AdamW": [0.498, 1.496, 2.494, 3.492],
    "RMSprop": [-0.5811, 0.4189, 1.4189, 2.4189],
    "Adagrad": [0.5233, 1.5007, 2.5005, 3.5061],
    "Adadelta": [0.9993, 1.9993, 2.9993, 3.9993],
    "Adamax": [0.5, 1.5, 2.5, 3.5],
    "Nadam": [0.4686, 1.4686, 2.4686, 3.4686],
    "Lion": [0.5, 1.5, 2.5, 3.5],
    "Lamb": [-0.3693, 0.6306, 1.6306, 2.6306],
    "Ftrl": [0.2218, 1.3954, 2.3651, 2.8814],
    "Adafactor": [-0.3693, 0.6307, 1.6307, 2.6307],
}


def one_step(opt, w, g, dtype):
    w = np.asarray(w, dtype=dtype)
    state = opt.init([w])  # one unbatched variable, as in Keras's tests
    return opt.step([w], [np.asarray(g, dtype=dtype)], state).params[0]


@pytest.mark.parametrize("dtype", MODES)
@pytest.mark.parametrize("name", SINGLE_STEP)
def test_keras_single_step_value(name, dtype):
    opt = getattr(optimizers, name)(learning_rate=0.5)
    out = one_step(opt, [1.0, 2.0, 3.0, 4.0], [1.0, 6.0, 7.0, 2.0], dtype)
    np.testing.assert_allclose(out, SINGLE_STEP[name], rtol=0, atol=1e-4)


@pytest.mark.parametrize("dtype", MODES)
def test_keras_single_step_adafactor_matrix(dtype):
    """Adafactor factors a 2-D variable: rows and columns, not elementwise."""
    opt = optimizers.Adafactor(learning_rate=0.5)
    out = one_step(opt, [[1.0, 2.0], [3.0, 4.0]], [[1.0, 6.0], [7.0, 2.0]], dtype)
    expected = [[0.7007, -0.0081], [1.2492, 3.4407]]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-4)


DECAYING = [
    "SGD",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adadelta",
    "Adagrad",
    "Adamax",
    "Nadam",
    "Lion",
    "Lamb",
    "Adafactor",
    "Muon",
]


def zero_gradient_run(name: str, dtype: str, steps: int = 3) -> np.ndarray:
    kwargs = {"learning_rate": 1.0}
    if name != "Muon":  # Muon's scalar (Adam path) decays by adam_weight_decay
        kwargs["weight_decay"] = 0.004
    opt = getattr(optimizers, name)(**kwargs)
    w = np.asarray(2.0, dtype=dtype)
    state = opt.init([w])
    for _ in range(steps):
        res = opt.step([w], [np.zeros_like(w)], state)
        w, state = res.params[0], res.state
    return w


@pytest.mark.parametrize("dtype", MODES)
@pytest.mark.parametrize("name", DECAYING)
def test_weight_decay_compounds_to_two_times_0_996_cubed(name, dtype):
    """Spec 6: wd 0.004, lr 1, zero gradient, 3 steps on w = 2 gives 1.9760959."""
    w = zero_gradient_run(name, dtype)
    assert w.dtype == np.dtype(dtype)
    atol = 5e-8 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(w, 1.9760959, rtol=0, atol=atol)


def test_weight_decay_check_does_not_hold_for_ftrl_and_schedule_free():
    """Spec 6: Ftrl and ScheduleFreeAdamW rewrite w from their state."""
    assert zero_gradient_run("Ftrl", "float64") == 0.0
    sf = zero_gradient_run("ScheduleFreeAdamW", "float64")
    assert abs(sf - 1.9760959) > 1e-3
