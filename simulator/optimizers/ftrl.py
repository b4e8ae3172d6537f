"""PLACEHOLDER for Keras 3 `Ftrl` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Ftrl"]


class Ftrl(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Ftrl is not implemented yet")
