"""PLACEHOLDER for Keras 3 `Adam` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Adam"]


class Adam(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Adam is not implemented yet")
