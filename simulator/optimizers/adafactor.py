"""Keras 3 `Adafactor`: factored second moments, relative step size, update clipping."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_bool, check_float_hyperparameter

__all__ = ["Adafactor"]


class Adafactor(KerasOptimizer):
    """Optimizer that implements the Adafactor algorithm (Keras 3 exact).

    ```
    lr_ = min(lr, 1/sqrt(t)) if lr is a float and relative_step
    rho_t = min(lr_, 1/sqrt(t))            # applied always
    alpha_t = max(eps2, RMS(w))*rho_t      # RMS over the variable
    G2 = g**2 + eps1                       # eps1 added before averaging
    b2_t = 1 - t**beta_2_decay             # 0 at t = 1
    rank >= 2:  r <- b2_t*r + (1 - b2_t)*mean(G2, -1)
                c <- b2_t*c + (1 - b2_t)*mean(G2, -2)
                v = (r/mean(r, -1))[..., None] * c[..., None, :]
    otherwise:  v <- b2_t*v + (1 - b2_t)*G2
    U = g/sqrt(v) ;  Uhat = U/max(1, RMS(U)/clip_threshold)
    w <- w - alpha_t*Uhat
    ```

    There is no first moment. A 2D particle (rank 1) is not factored. On the JAX
    backend Keras computes `mean` in float32 even for float64 variables, so Keras
    float64 runs differ from this float64 implementation by ~1e-8 relative.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        beta_2_decay: Defaults to `-0.8`.
        epsilon_1: Defaults to `1e-30`.
        epsilon_2: Defaults to `1e-3`.
        clip_threshold: Defaults to `1.0`.
        relative_step: bool. Defaults to `True`.
        **kwargs: the shared Keras keyword tail.

    Internals: `second_moment` (v), `relative_step_size` (alpha_t, shape B),
    `step_size` (`alpha_t/(sqrt(v)*max(1, RMS(U)/d))`, multiplies g).
    """

    _hyperparameters = ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold")
    _defaults = {
        "learning_rate": 0.001,
        "beta_2_decay": -0.8,
        "epsilon_1": 1e-30,
        "epsilon_2": 1e-3,
        "clip_threshold": 1.0,
        "relative_step": True,
    }

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_2_decay: Any = -0.8,
        epsilon_1: Any = 1e-30,
        epsilon_2: Any = 1e-3,
        clip_threshold: Any = 1.0,
        relative_step: bool = True,
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
        self.beta_2_decay = check_float_hyperparameter("beta_2_decay", beta_2_decay)
        self.epsilon_1 = check_float_hyperparameter("epsilon_1", epsilon_1)
        self.epsilon_2 = check_float_hyperparameter("epsilon_2", epsilon_2)
        self.clip_threshold = check_float_hyperparameter(
            "clip_threshold", clip_threshold
        )
        self.relative_step = check_bool("relative_step", relative_step)

    def _init_slots(self, w, ctx):
        slots = {"velocity": np.zeros_like(w)}
        if ctx.var_ndim >= 2:
            slots["r"] = np.zeros(w.shape[:-1], w.dtype)
            slots["c"] = np.zeros(w.shape[:-2] + w.shape[-1:], w.dtype)
        return slots

    def _rms(self, x, ctx):
        return np.sqrt(np.mean(np.square(x), axis=ctx.axes, keepdims=True))

    def _update(self, g, w, slots, ctx):
        lr = ctx.lr
        hp = ctx.hp
        eps2 = ctx.cast(hp["epsilon_2"])
        inv_sqrt_t = 1 / np.sqrt(ctx.t)
        # Keras: `not callable(self._learning_rate)`: a float lr (a Variable) is
        # clamped, a schedule or callable is not. rho_t clamps again regardless.
        if self.relative_step and not callable(self.learning_rate):
            lr = np.minimum(lr, inv_sqrt_t)
        rho_t = np.minimum(lr, inv_sqrt_t)
        alpha_t = np.maximum(eps2, self._rms(w, ctx)) * rho_t
        regulated = np.square(g) + ctx.cast(hp["epsilon_1"])
        beta_2_t = 1 - ctx.pow(ctx.t, ctx.cast(hp["beta_2_decay"]))
        new = {}
        if ctx.var_ndim >= 2:
            # r and c have one variable axis fewer than w: drop one unit axis.
            b2c = beta_2_t[..., 0] if np.ndim(beta_2_t) else beta_2_t
            r = b2c * slots["r"] + (1 - b2c) * np.mean(regulated, axis=-1)
            c = b2c * slots["c"] + (1 - b2c) * np.mean(regulated, axis=-2)
            # r / mean(r, keepdims): XLA multiplies by the reciprocal.
            r_factor = r * (1 / np.mean(r, axis=-1, keepdims=True))
            v = r_factor[..., :, None] * c[..., None, :]
            new.update(r=r, c=c)
        else:
            v = beta_2_t * slots["velocity"] + (1 - beta_2_t) * regulated
        new["velocity"] = v
        u_t = g / np.sqrt(v)
        clip_factor = np.maximum(
            ctx.cast(1.0), self._rms(u_t, ctx) / ctx.cast(hp["clip_threshold"])
        )
        u_t_hat = u_t * (1 / clip_factor)
        w_new = w - alpha_t * u_t_hat
        info: dict[str, Any] = {}
        if ctx.internals:
            info["second_moment"] = v
            info["relative_step_size"] = alpha_t.reshape(
                alpha_t.shape[: alpha_t.ndim - ctx.var_ndim]
            )
            info["step_size"] = alpha_t / (np.sqrt(v) * clip_factor)
        return w_new, new, info
