"""Keras 3 `Lamb`: Adam direction scaled by a per-variable trust ratio ||w|| / ||r||."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_float_hyperparameter

__all__ = ["Lamb"]


class Lamb(KerasOptimizer):
    """Optimizer that implements the Lamb algorithm (Keras 3 exact).

    ```
    m <- m + (g - m)*(1 - b1) ;  v <- v + (g**2 - v)*(1 - b2)
    r = (m/(1 - b1**t)) / (sqrt(v/(1 - b2**t)) + eps)
    ratio = ||w||/||r|| if ||w|| > 0 and ||r|| > 0 else 1   # norms over the variable
    w <- w - ratio*lr*r
    ```

    Norms reduce over ONE batch element's variable axes (a particle's two
    coordinates), so each particle has its own trust ratio. `||w||` is measured
    after the decoupled weight decay, and unlike the LAMB paper the decay term is
    not part of `r`.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        beta_1: Defaults to `0.9`.
        beta_2: Defaults to `0.999`.
        epsilon: Defaults to `1e-7`.
        **kwargs: the shared Keras keyword tail.

    Internals: `first_moment`, `second_moment`, `trust_ratio` (shape B),
    `step_size` (`ratio*lr`, multiplies r).
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
        return {"momentum": np.zeros_like(w), "velocity": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        beta_1_power = ctx.pow(ctx.cast(ctx.hp["beta_1"]))
        beta_2_power = ctx.pow(ctx.cast(ctx.hp["beta_2"]))
        m = slots["momentum"] + (g - slots["momentum"]) * ctx.cast(1 - ctx.hp["beta_1"])
        v = slots["velocity"] + (np.square(g) - slots["velocity"]) * ctx.cast(
            1 - ctx.hp["beta_2"]
        )
        # Divisions by the scalar bias corrections: XLA multiplies by reciprocals.
        m_t_hat = m * (1 / (1.0 - beta_1_power))
        v_sqrt = np.sqrt(v * (1 / (1.0 - beta_2_power))) + ctx.cast(ctx.hp["epsilon"])
        update = m_t_hat / v_sqrt
        w_norm = np.sqrt(np.sum(np.square(w), axis=ctx.axes, keepdims=True))
        g_norm = np.sqrt(np.sum(np.square(update), axis=ctx.axes, keepdims=True))
        one = np.ones((), ctx.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(
                w_norm > 0, np.where(g_norm > 0, w_norm / g_norm, one), one
            )
        w_new = w - ratio * ctx.lr * update
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = v
            info["trust_ratio"] = ratio.reshape(
                ratio.shape[: ratio.ndim - ctx.var_ndim]
            )
            info["step_size"] = np.broadcast_to(ratio * ctx.lr, w.shape)
        return w_new, {"momentum": m, "velocity": v}, info
