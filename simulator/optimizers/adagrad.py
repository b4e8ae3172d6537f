"""Keras 3 `Adagrad`: accumulator starts at 0.1 and epsilon sits inside the root."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_float_hyperparameter

__all__ = ["Adagrad"]


class Adagrad(KerasOptimizer):
    """Optimizer that implements the Adagrad algorithm (Keras 3 exact).

    ```
    A starts at initial_accumulator_value (0.1, NOT 0)
    A <- A + g**2
    w <- w - lr*g / sqrt(A + eps)       # eps INSIDE the sqrt
    ```

    The first step is `lr*g/sqrt(0.1 + g**2 + 1e-7)`. PyTorch starts the
    accumulator at 0 and puts eps=1e-10 outside the root.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        initial_accumulator_value: starting value of A (Keras does not check that
            it is non-negative). Defaults to `0.1`.
        epsilon: Defaults to `1e-7`.
        **kwargs: the shared Keras keyword tail.

    Internals: `second_moment` (A), `step_size` (`lr/sqrt(A + eps)`).
    """

    _hyperparameters = ("initial_accumulator_value", "epsilon")
    _defaults = {
        "learning_rate": 0.001,
        "initial_accumulator_value": 0.1,
        "epsilon": 1e-7,
    }

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: Any = 0.1,
        epsilon: Any = 1e-7,
        weight_decay: Any = None,
        clipnorm: Any = None,
        clipvalue: Any = None,
        global_clipnorm: Any = None,
        use_ema: bool = False,
        ema_momentum: Any = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: Any = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.initial_accumulator_value = check_float_hyperparameter(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.epsilon = check_float_hyperparameter("epsilon", epsilon)

    def _init_slots(self, w, ctx):
        init = ctx.cast(ctx.hp["initial_accumulator_value"])
        return {"accumulator": np.broadcast_to(init, w.shape).astype(w.dtype)}

    def _update(self, g, w, slots, ctx):
        acc = slots["accumulator"] + np.square(g)
        denom = np.sqrt(acc + ctx.cast(ctx.hp["epsilon"]))
        w_new = w - (ctx.lr * g) / denom
        info: dict[str, Any] = {}
        if ctx.internals:
            info["second_moment"] = acc
            info["step_size"] = ctx.lr / denom
        return w_new, {"accumulator": acc}, info
