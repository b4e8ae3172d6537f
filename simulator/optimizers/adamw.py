"""PLACEHOLDER for Keras 3 `AdamW` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["AdamW"]


class AdamW(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("AdamW is not implemented yet")
