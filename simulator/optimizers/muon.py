"""PLACEHOLDER for Keras 3 `Muon` (being written; replace this whole file)."""

from simulator.optimizers.base import Optimizer

__all__ = ["Muon"]


class Muon(Optimizer):
    """Placeholder."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("Muon is not implemented yet")
