"""Keras 3 learning-rate schedules, evaluated in numpy at any step and dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LearningRateSchedule"]


class LearningRateSchedule:
    """Base class: `schedule(step, dtype=np.float64)` returns the learning rate.

    `step` is Keras's raw iteration counter before the increment (the first update
    uses step 0). Subclasses compute in `dtype` the way Keras computes in the dtype
    of `initial_learning_rate` (float32 by default in Keras; float64 here unless
    asked), and expose `get_config()` with Keras's argument names.
    """

    def __call__(self, step: int, dtype: Any = np.float64) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_text(self) -> str:
        """Keras-style constructor text, e.g. `CosineDecay(0.05, 150, alpha=0.1)`."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                         if k != "name")
        return f"{type(self).__name__}({args})"

    def __repr__(self) -> str:
        return self.to_text()
