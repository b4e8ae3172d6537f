"""PLACEHOLDER for Keras 3 `Lion` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Lion"]


class Lion(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Lion is not implemented yet")
