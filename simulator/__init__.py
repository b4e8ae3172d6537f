"""optiscape simulation core: Keras-3-exact optimizers, engine, traces, training."""

from simulator import optimizers, schedules
from simulator.engine import MemoryLimitError, simulate
from simulator.sweeps import FateMap, SweepResult, fate_map, sweep
from simulator.trace import Race, Trace, load

__all__ = [
    "FateMap",
    "MemoryLimitError",
    "Race",
    "SweepResult",
    "Trace",
    "fate_map",
    "load",
    "optimizers",
    "schedules",
    "simulate",
    "sweep",
]
