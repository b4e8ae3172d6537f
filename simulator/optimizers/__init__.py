"""Keras-3-exact optimizers over batched numpy state, under their Keras names."""

from __future__ import annotations

from simulator.optimizers.adadelta import Adadelta
from simulator.optimizers.adafactor import Adafactor
from simulator.optimizers.adagrad import Adagrad
from simulator.optimizers.adam import Adam
from simulator.optimizers.adamax import Adamax
from simulator.optimizers.adamw import AdamW
from simulator.optimizers.base import Optimizer, OptState, StepResult, VarContext
from simulator.optimizers.ftrl import Ftrl
from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.lamb import Lamb
from simulator.optimizers.lion import Lion
from simulator.optimizers.muon import Muon
from simulator.optimizers.nadam import Nadam
from simulator.optimizers.parse import get, parse
from simulator.optimizers.rmsprop import RMSprop
from simulator.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from simulator.optimizers.sgd import SGD

#: Every optimizer class, in Keras's `ALL_OBJECTS` spirit.
ALL_OPTIMIZERS: tuple[type[KerasOptimizer], ...] = (
    SGD,
    RMSprop,
    Adam,
    AdamW,
    Adadelta,
    Adagrad,
    Adamax,
    Nadam,
    Lion,
    Lamb,
    Ftrl,
    Adafactor,
    Muon,
    ScheduleFreeAdamW,
)

#: Lower-cased class name -> class (Keras `ALL_OBJECTS_DICT`).
OPTIMIZERS: dict[str, type[Optimizer]] = {c.__name__.lower(): c for c in ALL_OPTIMIZERS}

__all__ = [
    "ALL_OPTIMIZERS",
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "KerasOptimizer",
    "Lamb",
    "Lion",
    "Muon",
    "Nadam",
    "OptState",
    "Optimizer",
    "RMSprop",
    "ScheduleFreeAdamW",
    "StepResult",
    "VarContext",
    "get",
    "parse",
]
