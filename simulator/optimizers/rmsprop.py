"""PLACEHOLDER for Keras 3 `RMSprop` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("RMSprop is not implemented yet")
