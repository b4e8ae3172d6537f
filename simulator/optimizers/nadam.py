"""PLACEHOLDER for Keras 3 `Nadam` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Nadam"]


class Nadam(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Nadam is not implemented yet")
