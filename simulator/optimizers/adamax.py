"""Keras 3 `Adamax`: the infinity-norm Adam, epsilon added to u outside the max."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_float_hyperparameter

__all__ = ["Adamax"]


class Adamax(KerasOptimizer):
    """Optimizer that implements the Adamax algorithm (Keras 3 exact).

    ```
    m <- m + (g - m)*(1 - b1)
    u <- max(b2*u, |g|)
    w <- w - lr*m / ((1 - b1**t)*(u + eps))      # t = iterations + 1
    ```

    PyTorch and optax put eps inside the max (`max(b2*u, |g| + eps)`).

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        beta_1: Defaults to `0.9`.
        beta_2: decay of the infinity norm. Defaults to `0.999`.
        epsilon: Defaults to `1e-7`.
        **kwargs: the shared Keras keyword tail.

    Internals: `first_moment` (m), `second_moment` (the infinity norm u),
    `step_size` (`lr/((1 - b1**t)*(u + eps))`, multiplies m).
    """

    _hyperparameters = ("beta_1", "beta_2", "epsilon")
    _defaults = {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
    }

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: Any = 0.9,
        beta_2: Any = 0.999,
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
        self.beta_1 = check_float_hyperparameter("beta_1", beta_1)
        self.beta_2 = check_float_hyperparameter("beta_2", beta_2)
        self.epsilon = check_float_hyperparameter("epsilon", epsilon)

    def _init_slots(self, w, ctx):
        del ctx
        return {"momentum": np.zeros_like(w), "norm": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        beta_1_power = ctx.pow(ctx.cast(ctx.hp["beta_1"]))
        m = slots["momentum"] + (g - slots["momentum"]) * ctx.cast(1 - ctx.hp["beta_1"])
        u = np.maximum(ctx.cast(ctx.hp["beta_2"]) * slots["norm"], np.abs(g))
        denom = (1 - beta_1_power) * (u + ctx.cast(ctx.hp["epsilon"]))
        w_new = w - (ctx.lr * m) / denom
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = u
            info["step_size"] = ctx.lr / denom
        return w_new, {"momentum": m, "norm": u}, info
