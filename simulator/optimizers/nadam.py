"""Keras 3 `Nadam`: Dozat's Nesterov Adam with Keras's 0.96**t momentum schedule."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.numerics import keras_pow
from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_float_hyperparameter

__all__ = ["Nadam"]


class Nadam(KerasOptimizer):
    """Optimizer that implements the Nadam algorithm (Keras 3 exact).

    One optimizer-wide product `P` (starts at 1) is updated once per real step,
    before any variable: `P <- P*b1*(1 - 0.5*0.96**t)`. Then per variable:

    ```
    u_t   = b1*(1 - 0.5*0.96**t)         # decay base 0.96, exponent t (not 0.004*t)
    u_t1  = b1*(1 - 0.5*0.96**(t + 1))
    P_t   = P (already includes u_t);  P_t1 = P_t*u_t1
    m <- m + (g - m)*(1 - b1)
    v <- v + (g**2 - v)*(1 - b2)
    mhat = u_t1*m/(1 - P_t1) + (1 - u_t)*g/(1 - P_t)
    vhat = v/(1 - b2**t)
    w <- w - mhat*lr/(sqrt(vhat) + eps)   # eps outside sqrt of corrected v
    ```

    mu_t/b1 runs 0.52 (t=1), 0.668 (t=10), 0.992 (t=100). PyTorch uses
    `0.96**(0.004*t)`; optax's nadam has no schedule at all.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        beta_1: Defaults to `0.9`.
        beta_2: Defaults to `0.999`.
        epsilon: Defaults to `1e-7`.
        **kwargs: the shared Keras keyword tail.

    Internals: `first_moment` (m), `second_moment` (v), `momentum_schedule`
    (u_t), `step_size` (`lr/(sqrt(vhat) + eps)`, multiplies mhat).
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

    def _init_shared(self, params, batch_shape, dtype):
        # Keras: one scalar Variable(1.0) with the dtype of the first variable.
        return {"u_product": np.ones(batch_shape, dtype=params[0].dtype)}

    def _pre_update(self, shared, iterations, dtype, hp, batch_shape):
        p = shared["u_product"]
        b1 = np.asarray(hp["beta_1"], np.float64)
        t = np.asarray(iterations + 1, p.dtype)
        # `P * beta_1 * (1.0 - 0.5 * power(0.96, t))`; Python floats enter weakly.
        factor = np.asarray(1.0 - 0.5 * keras_pow(0.96, t, p.dtype), p.dtype)
        new_p = (p * np.asarray(b1, p.dtype)) * factor
        return {"u_product": np.broadcast_to(new_p, batch_shape).astype(p.dtype)}

    def _update(self, g, w, slots, ctx):
        lr = ctx.lr
        next_step = np.asarray(ctx.iterations + 2, ctx.dtype)
        decay = ctx.cast(0.96)
        beta_1 = ctx.cast(ctx.hp["beta_1"])
        beta_2 = ctx.cast(ctx.hp["beta_2"])
        u_t = beta_1 * (1.0 - 0.5 * ctx.pow(decay))
        u_t_1 = beta_1 * (1.0 - 0.5 * ctx.pow(decay, next_step))
        p = ctx.shared["u_product"]
        u_product_t = ctx.cast(p.reshape(p.shape + (1,) * ctx.var_ndim))
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = ctx.pow(beta_2)
        m = slots["momentum"] + (g - slots["momentum"]) * (1 - beta_1)
        v = slots["velocity"] + (np.square(g) - slots["velocity"]) * (1 - beta_2)
        # Array / scalar divisions: XLA multiplies by the reciprocal (base.py).
        m_hat = (u_t_1 * m) * (1 / (1 - u_product_t_1)) + ((1 - u_t) * g) * (
            1 / (1 - u_product_t)
        )
        v_hat = v * (1 / (1 - beta_2_power))
        denom = np.sqrt(v_hat) + ctx.cast(ctx.hp["epsilon"])
        w_new = w - (m_hat * lr) / denom
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = v
            info["momentum_schedule"] = np.broadcast_to(u_t, w.shape)
            info["step_size"] = lr / denom
        return w_new, {"momentum": m, "velocity": v}, info
