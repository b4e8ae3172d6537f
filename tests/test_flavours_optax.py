"""optax flavour vs live optax 0.2.8: float64 (jax x64), 250 steps, three surfaces."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax  # in the test extra: missing optax fails here, it never skips
import pytest
from flavour_surfaces import STEPS, SURFACES, gradient

from simulator.optimizers import parse

# Each alias with its defaults and with every numeric and boolean argument moved.
CASES = [
    ("adam", {"learning_rate": 0.01}),
    (
        "adam",
        {"learning_rate": 0.05, "b1": 0.8, "b2": 0.99, "eps": 1e-6, "eps_root": 1e-9},
    ),
    ("adam", {"learning_rate": 0.01, "nesterov": True}),
    ("adamw", {"learning_rate": 0.01}),
    ("adamw", {"learning_rate": 0.02, "weight_decay": 0.05, "nesterov": True}),
    ("sgd", {"learning_rate": 0.001}),
    ("sgd", {"learning_rate": 0.001, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.001, "momentum": 0.8, "nesterov": True}),
    ("rmsprop", {"learning_rate": 0.001}),
    (
        "rmsprop",
        {"learning_rate": 0.001, "centered": True, "momentum": 0.5, "decay": 0.95},
    ),
    (
        "rmsprop",
        {
            "learning_rate": 0.001,
            "eps_in_sqrt": False,
            "initial_scale": 0.1,
            "momentum": 0.9,
            "nesterov": True,
        },
    ),
    (
        "rmsprop",
        {
            "learning_rate": 0.001,
            "bias_correction": True,
            "centered": True,
            "eps": 1e-7,
        },
    ),
    ("adagrad", {"learning_rate": 0.1}),
    ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "eps": 1e-10}),
    ("nadam", {"learning_rate": 0.01}),
    (
        "nadam",
        {"learning_rate": 0.01, "b1": 0.85, "b2": 0.99, "eps": 1e-6, "eps_root": 1e-9},
    ),
    ("lion", {"learning_rate": 0.001}),
    ("lion", {"learning_rate": 0.002, "b1": 0.95, "b2": 0.98, "weight_decay": 0.0}),
    ("adamax", {"learning_rate": 0.01}),
    ("adamax", {"learning_rate": 0.02, "b1": 0.8, "b2": 0.99, "eps": 1e-6}),
]


def _text(name: str, kwargs: dict) -> str:
    return f"optax:{name}(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


@pytest.fixture(scope="module", autouse=True)
def _x64():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


# Rosenbrock in the default suite (about 6 s); the other surfaces in CI.
SURFACE_PARAMS = [
    s if s == "rosenbrock" else pytest.param(s, marks=pytest.mark.slow)
    for s in SURFACES
]


@pytest.mark.parametrize("surface", SURFACE_PARAMS)
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[_text(*c) for c in CASES])
def test_optax_flavour_matches_live_optax(name, kwargs, surface):
    tx = getattr(optax, name)(**kwargs)
    start = np.array(SURFACES[surface][1], dtype=np.float64)
    theirs = jnp.asarray(start)
    assert theirs.dtype == jnp.float64
    tx_state = tx.init(theirs)
    opt = parse(_text(name, kwargs))
    ours = start.copy()
    state = opt.init([ours], batch_ndim=1)
    worst = 0.0
    for _ in range(STEPS):
        g = jnp.asarray(gradient(surface, np.asarray(theirs), False))
        updates, tx_state = tx.update(g, tx_state, theirs)
        theirs = optax.apply_updates(theirs, updates)
        res = opt.step([ours], [gradient(surface, ours, False)], state, internals=False)
        ours, state = res.params[0], res.state
        ref = np.asarray(theirs)
        worst = max(worst, np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
    assert np.all(np.isfinite(ours))
    assert not np.allclose(ours, start), "the run must move"
    assert worst <= 1e-12, f"relative error {worst:.2e}"
