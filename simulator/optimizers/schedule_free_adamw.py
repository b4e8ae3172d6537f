"""PLACEHOLDER for Keras 3 `ScheduleFreeAdamW` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["ScheduleFreeAdamW"]


class ScheduleFreeAdamW(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("ScheduleFreeAdamW is not implemented yet")
