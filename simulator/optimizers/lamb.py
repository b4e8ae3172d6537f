"""PLACEHOLDER for Keras 3 `Lamb` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Lamb"]


class Lamb(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Lamb is not implemented yet")
