"""Keras 3 `Lion`: the sign of an interpolated momentum, updated after the step."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_float_hyperparameter

__all__ = ["Lion"]


class Lion(KerasOptimizer):
    """Optimizer that implements the Lion algorithm (Keras 3 exact).

    ```
    w <- w - lr*sign(m*b1 + g*(1 - b1))     # OLD m; sign(0) = 0 -> no move
    m <- m*b2 + g*(1 - b2)
    ```

    Every coordinate moves by exactly `lr` (or 0), so the first step is
    `lr*sign(g)`. No default weight decay (optax's lion defaults to 1e-3).

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        beta_1: interpolation factor of the update; must be in (0, 1] (Keras's
            message says [0, 1] but rejects 0). Defaults to `0.9`.
        beta_2: decay of the momentum (not checked). Defaults to `0.99`.
        **kwargs: the shared Keras keyword tail.

    Internals: `first_moment` (m after the step), `sign_update` (the sign vector),
    `step_size` (lr).
    """

    _hyperparameters = ("beta_1", "beta_2")
    _defaults = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99}

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: Any = 0.9,
        beta_2: Any = 0.99,
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
        if np.any(np.asarray(self.beta_1) <= 0) or np.any(np.asarray(self.beta_1) > 1):
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}."
            )

    def _init_slots(self, w, ctx):
        del ctx
        return {"momentum": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        beta_1 = ctx.cast(ctx.hp["beta_1"])
        beta_2 = ctx.cast(ctx.hp["beta_2"])
        m = slots["momentum"]
        sign = np.sign(m * beta_1 + g * (1.0 - beta_1))
        w_new = w - ctx.lr * sign
        m_new = m * beta_2 + g * (1.0 - beta_2)
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m_new
            info["sign_update"] = sign
            info["step_size"] = np.broadcast_to(ctx.lr, w.shape)
        return w_new, {"momentum": m_new}, info
