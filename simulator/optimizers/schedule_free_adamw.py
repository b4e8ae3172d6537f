"""Keras 3 `ScheduleFreeAdamW` (3.14+): Defazio et al.'s schedule-free AdamW."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_float_hyperparameter

__all__ = ["ScheduleFreeAdamW"]


class ScheduleFreeAdamW(KerasOptimizer):
    """Optimizer that implements schedule-free AdamW (Keras 3.14+ exact).

    The variable holds y; the slot z (initialised to a copy of w) takes the Adam
    steps, and x (derived) is their running average:

    ```
    warmup_steps > 0:  lr <- lr*min(t/warmup_steps, 1)
    v <- v + (g**2 - v)*(1 - b2)
    z_old = z ;  z <- z - lr*g/(sqrt(v/(1 - b2**t)) + eps)
    c = 1/t
    x_old = (y - (1 - b1)*z_old)/b1 ;  x_new = (1 - c)*x_old + c*z
    y <- (1 - b1)*z + b1*x_new
    ```

    The gradient is evaluated at y (the stored variable). Keras never swaps in x
    for evaluation. Note the epsilon default is 1e-8 here, unlike other Keras
    optimizers.

    Args:
        learning_rate: Defaults to `0.0025`.
        beta_1: Defaults to `0.9`.
        beta_2: Defaults to `0.999`.
        epsilon: Defaults to `1e-8`.
        warmup_steps: Defaults to `0`.
        **kwargs: the shared Keras keyword tail.

    Internals: `second_moment` (v), `z`, `x` (the averaged iterate), `step_size`
    (`lr/(sqrt(vhat) + eps)` applied to z).
    """

    _hyperparameters = ("beta_1", "beta_2", "epsilon")
    _defaults = {
        "learning_rate": 0.0025,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-8,
        "warmup_steps": 0,
    }

    def __init__(
        self,
        learning_rate: Any = 0.0025,
        beta_1: Any = 0.9,
        beta_2: Any = 0.999,
        epsilon: Any = 1e-8,
        warmup_steps: float = 0,
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
        # Keras casts `warmup_steps` to the variable dtype, so a float works too.
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int | float):
            raise ValueError(
                "`warmup_steps` must be a number. "
                f"Received: warmup_steps={warmup_steps!r}"
            )
        self.warmup_steps = warmup_steps

    def _init_slots(self, w, ctx):
        del ctx
        return {"momentum": np.array(w, copy=True), "velocity": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        lr = ctx.lr
        t = ctx.t
        beta_1 = ctx.cast(ctx.hp["beta_1"])
        beta_2 = ctx.cast(ctx.hp["beta_2"])
        eps = ctx.cast(ctx.hp["epsilon"])
        if self.warmup_steps > 0:
            lr = lr * np.minimum(t / ctx.cast(self.warmup_steps), ctx.cast(1.0))
        z_old = slots["momentum"]
        bias_correction_2 = 1 - ctx.pow(beta_2)
        v = slots["velocity"] + (np.square(g) - slots["velocity"]) * (1 - beta_2)
        # v / bias_correction_2 and (...) / beta_1: XLA multiplies by reciprocals.
        denom = np.sqrt(v * (1 / bias_correction_2)) + eps
        z = z_old - (lr * g) / denom
        weight = 1.0 / t
        x_old = (w - (1 - beta_1) * z_old) * (1 / beta_1)
        x_new = (1 - weight) * x_old + weight * z
        y_new = (1 - beta_1) * z + beta_1 * x_new
        info: dict[str, Any] = {}
        if ctx.internals:
            info["second_moment"] = v
            info["z"] = z
            info["x"] = x_new
            info["step_size"] = lr / denom
        return y_new, {"momentum": z, "velocity": v}, info
