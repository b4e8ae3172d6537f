"""Keras 3 `Adadelta`: epsilon inside both roots, default learning rate 0.001."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_float_hyperparameter

__all__ = ["Adadelta"]


class Adadelta(KerasOptimizer):
    """Optimizer that implements the Adadelta algorithm (Keras 3 exact).

    ```
    Eg <- rho*Eg + (1 - rho)*g**2
    delta = -sqrt(Ex + eps)*g / sqrt(Eg + eps)     # Ex is the OLD value
    Ex <- rho*Ex + (1 - rho)*delta**2
    w <- w + lr*delta
    ```

    Zeiler's paper uses lr = 1; Keras's default lr = 0.001 makes the first step
    for |g| = 1 about `0.001*sqrt(1e-7)/sqrt(0.05) = 1.4e-6`, so particles look
    frozen unless you raise it.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        rho: decay rate. Defaults to `0.95`.
        epsilon: added inside both square roots. Defaults to `1e-7`.
        **kwargs: the shared Keras keyword tail.

    Internals: `second_moment` (Eg), `accumulated_delta` (Ex), `step_size`
    (`lr*sqrt(Ex_old + eps)/sqrt(Eg + eps)`).
    """

    _hyperparameters = ("rho", "epsilon")
    _defaults = {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: Any = 0.95,
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
        self.rho = check_float_hyperparameter("rho", rho)
        self.epsilon = check_float_hyperparameter("epsilon", epsilon)

    def _init_slots(self, w, ctx):
        del ctx
        return {
            "accumulated_grad": np.zeros_like(w),
            "accumulated_delta_var": np.zeros_like(w),
        }

    def _update(self, g, w, slots, ctx):
        rho = ctx.cast(ctx.hp["rho"])
        one_minus_rho = ctx.cast(1 - ctx.hp["rho"])
        eps = ctx.cast(ctx.hp["epsilon"])
        acc_grad = rho * slots["accumulated_grad"] + one_minus_rho * np.square(g)
        rms_delta = np.sqrt(slots["accumulated_delta_var"] + eps)
        rms_grad = np.sqrt(acc_grad + eps)
        delta_var = -((rms_delta * g) / rms_grad)
        acc_delta = rho * slots["accumulated_delta_var"] + one_minus_rho * np.square(
            delta_var
        )
        w_new = w + ctx.lr * delta_var
        info: dict[str, Any] = {}
        if ctx.internals:
            info["second_moment"] = acc_grad
            info["accumulated_delta"] = acc_delta
            info["step_size"] = ctx.lr * rms_delta / rms_grad
        return (
            w_new,
            {"accumulated_grad": acc_grad, "accumulated_delta_var": acc_delta},
            info,
        )
