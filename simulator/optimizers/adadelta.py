"""PLACEHOLDER for Keras 3 `Adadelta` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Adadelta is not implemented yet")
