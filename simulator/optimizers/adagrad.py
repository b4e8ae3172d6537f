"""PLACEHOLDER for Keras 3 `Adagrad` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Adagrad is not implemented yet")
