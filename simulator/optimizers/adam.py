"""Keras 3 `Adam`: Kingma & Ba with the epsilon-hat placement and optional AMSGrad."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_bool, check_float_hyperparameter

__all__ = ["Adam"]


class Adam(KerasOptimizer):
    """Optimizer that implements the Adam algorithm (Keras 3 exact).

    With `b1 = beta_1`, `b2 = beta_2`, `eps = epsilon` and `t = iterations + 1`:

    ```
    alpha = lr * sqrt(1 - b2**t) / (1 - b1**t)
    m <- m + (g - m)*(1 - b1)
    v <- v + (g**2 - v)*(1 - b2)
    amsgrad: vhat <- max(vhat, v)  and vhat replaces v below (max of RAW v)
    w <- w - (m*alpha) / (sqrt(v) + eps)
    ```

    Epsilon is Kingma & Ba's "epsilon hat" (the formula before their Section 2.1):
    it sits on the *uncorrected* `sqrt(v)`, which equals the textbook
    `lr*mhat/(sqrt(vhat) + eps_t)` with `eps_t = eps/sqrt(1 - b2**t)` (3.16e-6 at
    t=1 for eps=1e-7). PyTorch and optax use the textbook form with eps=1e-8.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        beta_1: decay of the first moment. Defaults to `0.9`.
        beta_2: decay of the second moment. Defaults to `0.999`.
        epsilon: epsilon hat. Defaults to `1e-7`.
        amsgrad: bool; use the running maximum of v. Defaults to `False`.
        **kwargs: the shared Keras keyword tail (`weight_decay`, `clipnorm`, ...).

    Internals: `first_moment` (m), `second_moment` (v), `max_second_moment`
    (amsgrad), `step_size` (`alpha/(sqrt(v) + eps)`, multiplies m).
    """

    _hyperparameters = ("beta_1", "beta_2", "epsilon")
    _defaults = {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
    }

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: Any = 0.9,
        beta_2: Any = 0.999,
        epsilon: Any = 1e-7,
        amsgrad: bool = False,
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
        self.amsgrad = check_bool("amsgrad", amsgrad)

    def _init_slots(self, w, ctx):
        del ctx
        slots = {"momentum": np.zeros_like(w), "velocity": np.zeros_like(w)}
        if self.amsgrad:
            slots["velocity_hat"] = np.zeros_like(w)
        return slots

    def _update(self, g, w, slots, ctx):
        lr = ctx.lr
        b1 = ctx.cast(ctx.hp["beta_1"])
        b2 = ctx.cast(ctx.hp["beta_2"])
        # ops.power(cast(beta, dtype), cast(iterations + 1, dtype)) in var dtype.
        beta_1_power = ctx.pow(b1)
        beta_2_power = ctx.pow(b2)
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        # `1 - self.beta_1` is computed in Python (float64) before the cast.
        m = slots["momentum"] + (g - slots["momentum"]) * ctx.cast(1 - ctx.hp["beta_1"])
        v = slots["velocity"] + (np.square(g) - slots["velocity"]) * ctx.cast(
            1 - ctx.hp["beta_2"]
        )
        new = {"momentum": m, "velocity": v}
        v_used = v
        if self.amsgrad:
            v_used = np.maximum(slots["velocity_hat"], v)
            new["velocity_hat"] = v_used
        denom = np.sqrt(v_used) + ctx.cast(ctx.hp["epsilon"])
        w_new = w - (m * alpha) / denom
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = v
            if self.amsgrad:
                info["max_second_moment"] = v_used
            info["step_size"] = alpha / denom
        return w_new, new, info
