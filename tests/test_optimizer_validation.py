"""Every constructor check live Keras makes, made here under the same condition."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from simulator import optimizers
from simulator.schedules import ExponentialDecay

from keras_reference import make_keras_optimizer

pytestmark = pytest.mark.keras

NAMES = [cls.__name__ for cls in optimizers.ALL_OPTIMIZERS]

# The shared BaseOptimizer checks (keras/src/optimizers/base_optimizer.py): every
# optimizer must raise on these. Each entry: kwargs that Keras rejects.
SHARED_BAD = [
    {"learning_rate": 1},  # an int is not a float
    {"learning_rate": np.float32(0.1)},  # np.float32 is not a float either
    {"learning_rate": "0.1"},
    {"learning_rate": None},
    {"learning_rate": True},
    {"clipnorm": 1.0, "global_clipnorm": 1.0},
    {"clipnorm": 0.0, "clipvalue": 1.0},  # tested on `is not None`
    {"clipvalue": 1.0, "global_clipnorm": 2.0},
    {"clipnorm": 1.0, "clipvalue": 1.0, "global_clipnorm": 1.0},
    {"use_ema": True, "ema_momentum": 1.5},
    {"use_ema": True, "ema_momentum": -0.1},
    {"use_ema": True, "ema_overwrite_frequency": 2.0},
    {"use_ema": True, "ema_overwrite_frequency": -1},
    {"gradient_accumulation_steps": 1},
    {"gradient_accumulation_steps": -3},
    {"gradient_accumulation_steps": 1.5},
    {"lr": 0.1},  # the legacy name is not recognised
    {"foo": 1},
]

# Values Keras accepts, so must we.
SHARED_GOOD = [
    {"learning_rate": np.float64(0.1)},  # a float subclass
    {"learning_rate": ExponentialDecay(0.1, 10, 0.5)},
    {"learning_rate": lambda: 0.05},  # a callable
    {"use_ema": False, "ema_momentum": 1.5},  # only checked with use_ema
    {"use_ema": True, "ema_momentum": 0.0, "ema_overwrite_frequency": 3},
    {"use_ema": True, "ema_momentum": 1.0, "ema_overwrite_frequency": 0},
    {"gradient_accumulation_steps": 0},  # falsy: off
    {"gradient_accumulation_steps": 2},
    {"loss_scale_factor": -2.0},
    {"clipnorm": 1},
    {"clipvalue": 0.0},
    {"global_clipnorm": 2.0},
    {"weight_decay": 0.1},
    {"decay": 0.1},  # ignored with a warning
]

# Optimizer-specific checks (sgd.py, adamw.py, lion.py, ftrl.py; the others have
# none). Each entry: (kwargs, Keras rejects them).
SPECIFIC = {
    "SGD": [
        ({"momentum": 0}, True),  # ints raise
        ({"momentum": 1}, True),
        ({"momentum": 1.5}, True),
        ({"momentum": -0.1}, True),
        ({"momentum": np.float32(0.5)}, True),
        ({"momentum": None}, True),
        ({"momentum": 0.0}, False),
        ({"momentum": 1.0}, False),
        ({"momentum": 0.9, "nesterov": True}, False),
    ],
    "RMSprop": [
        ({"rho": 1.5}, False),
        ({"momentum": -1.0}, False),  # silently "no momentum"
        ({"epsilon": 0.0, "centered": True}, False),
    ],
    "Adam": [({"beta_1": 1.5}, False), ({"beta_2": 1}, False)],
    "AdamW": [
        ({"weight_decay": None}, True),
        ({"weight_decay": 0.0}, False),
        ({"weight_decay": -1.0}, False),
    ],
    "Adadelta": [({"rho": 1.5}, False)],
    "Adagrad": [({"initial_accumulator_value": -1.0}, False)],  # not checked
    "Adamax": [({"beta_1": 1.5}, False)],
    "Nadam": [({"beta_1": -1.0}, False)],
    "Lion": [
        ({"beta_1": 0.0}, True),  # the message says [0, 1] but 0 is rejected
        ({"beta_1": 0}, True),
        ({"beta_1": -0.5}, True),
        ({"beta_1": 1.5}, True),
        ({"beta_1": "x"}, True),  # Keras: TypeError
        ({"beta_1": None}, True),  # Keras: TypeError
        ({"beta_1": 1.0}, False),
        ({"beta_1": 1}, False),
        ({"beta_2": 2.0}, False),
    ],
    "Lamb": [({"beta_1": 1.5}, False), ({"epsilon": -1.0}, False)],
    "Ftrl": [
        ({"learning_rate_power": 0.5}, True),
        ({"initial_accumulator_value": -0.1}, True),
        ({"l1_regularization_strength": -0.1}, True),
        ({"l2_regularization_strength": -0.1}, True),
        ({"l2_shrinkage_regularization_strength": -0.1}, True),
        ({"l1_regularization_strength": None}, True),  # Keras: TypeError
        ({"learning_rate_power": 0.0}, False),
        ({"learning_rate_power": 0}, False),
        ({"initial_accumulator_value": 0.0}, False),
        ({"beta": -1.0}, False),  # beta is not checked
    ],
    "Adafactor": [
        ({"beta_2_decay": 0.5}, False),
        ({"epsilon_1": -1.0}, False),
        ({"clip_threshold": 0.0, "relative_step": False}, False),
    ],
    "Muon": [
        ({"momentum": 1.5}, False),
        ({"rms_rate": None}, False),
        ({"weight_decay": None, "adam_weight_decay": None}, False),
        ({"exclude_layers": ["dense"], "exclude_embeddings": False}, False),
        ({"ns_steps": 0, "nesterov": False, "adam_lr_ratio": 0.1}, False),
    ],
    "ScheduleFreeAdamW": [
        ({"warmup_steps": 10.0}, False),  # Keras casts it to the variable dtype
        ({"warmup_steps": -5}, False),
        ({"beta_1": 1.5}, False),
    ],
}

# Deliberately stricter than Keras: values Keras's constructor lets through but
# that are nonsense or only fail later, at the first `apply`. We refuse them
# up front. Each entry: (optimizer, kwargs, why).
STRICTER = [
    ("SGD", {"momentum": math.nan}, "Keras's range test is False for NaN; w -> NaN"),
    ("Adam", {"use_ema": True, "ema_momentum": math.nan}, "NaN passes Keras's test"),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": True}, "a bool, not a count"),
    ("SGD", {"gradient_accumulation_steps": 2.5}, "Keras's message says integer"),
    ("SGD", {"weight_decay": "x"}, "Keras fails at the first apply"),
    ("SGD", {"clipnorm": "x"}, "Keras fails at the first apply"),
    ("SGD", {"loss_scale_factor": "a"}, "Keras fails at the first apply"),
    ("Muon", {"ns_steps": 2.0}, "Keras fails at the first apply (range(2.0))"),
    ("Muon", {"ns_steps": -1}, "Keras silently runs 0 Newton-Schulz iterations"),
    ("Lion", {"beta_1": math.nan}, "NaN passes Keras's range test; w -> NaN"),
    ("SGD", {"learning_rate": math.inf}, "every step leaves to infinity"),
    ("Adam", {"epsilon": math.inf}, "every update is 0"),
    ("SGD", {"nesterov": "maybe"}, "bool('maybe') is True"),
    ("Adam", {"amsgrad": "no"}, "bool('no') is True"),
    ("RMSprop", {"centered": 2}, "a switch, not a count"),
]


def outcome(build):
    """The exception `build()` raises, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build()
    except Exception as exc:
        return exc
    return None


def keras_outcome(name, kwargs):
    return outcome(lambda: make_keras_optimizer(name, kwargs))


def our_outcome(name, kwargs):
    return outcome(lambda: getattr(optimizers, name)(**kwargs))


def assert_names_argument_and_value(exc, kwargs):
    """Our message names every offending argument with its value."""
    message = str(exc)
    for key, value in kwargs.items():
        if key == "use_ema":
            continue
        assert key in message, message
        assert repr(value) in message or str(value) in message, message


def _id_text(value):
    # Stable across processes (pytest-xdist compares ids): no object addresses.
    return "<callable>" if callable(value) else repr(value)


def case(name, kwargs):
    text = ", ".join(f"{k}={_id_text(v)}" for k, v in kwargs.items())
    return pytest.param(name, kwargs, id=f"{name}-{{{text}}}")


BAD = [case(n, kw) for n in NAMES for kw in SHARED_BAD] + [
    case(n, kw) for n, cases in SPECIFIC.items() for kw, bad in cases if bad
]
GOOD = [case(n, kw) for n in NAMES for kw in SHARED_GOOD] + [
    case(n, kw) for n, cases in SPECIFIC.items() for kw, bad in cases if not bad
]


def test_every_optimizer_has_specific_cases():
    assert set(SPECIFIC) == set(NAMES)


@pytest.mark.parametrize(("name", "kwargs"), BAD)
def test_rejected_as_keras_rejects(name, kwargs):
    assert keras_outcome(name, kwargs) is not None, "Keras must reject this case"
    exc = our_outcome(name, kwargs)
    assert isinstance(exc, ValueError), f"expected ValueError, got {exc!r}"
    assert_names_argument_and_value(exc, kwargs)


@pytest.mark.parametrize(("name", "kwargs"), GOOD)
def test_accepted_as_keras_accepts(name, kwargs):
    assert keras_outcome(name, kwargs) is None, "Keras must accept this case"
    assert our_outcome(name, kwargs) is None


@pytest.mark.parametrize(("name", "kwargs"), [case(n, kw) for n, kw, _ in STRICTER])
def test_stricter_than_keras_on_nonsense(name, kwargs):
    """Keras's constructor lets these through; we refuse them with a message."""
    assert keras_outcome(name, kwargs) is None, "now rejected by Keras: move to BAD"
    exc = our_outcome(name, kwargs)
    assert isinstance(exc, ValueError), f"expected ValueError, got {exc!r}"
    assert_names_argument_and_value(exc, kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_legacy_decay_warns_like_keras(name):
    with pytest.warns(UserWarning, match="decay"):
        make_keras_optimizer(name, {"decay": 0.1})
    with pytest.warns(UserWarning, match="decay"):
        getattr(optimizers, name)(decay=0.1)
