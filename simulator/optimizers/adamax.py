"""PLACEHOLDER for Keras 3 `Adamax` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Adamax is not implemented yet")
