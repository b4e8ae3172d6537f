"""PLACEHOLDER for Keras 3 `Adafactor` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Adafactor is not implemented yet")
