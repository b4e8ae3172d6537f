"""Keras 3 `RMSprop`: epsilon inside the root, optional centering and momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_bool, check_float_hyperparameter

__all__ = ["RMSprop"]


class RMSprop(KerasOptimizer):
    """Optimizer that implements the RMSprop algorithm (Keras 3 exact).

    With `rho`, `mu = momentum`, `eps = epsilon` and learning rate `lr`:

    ```
    v <- rho*v + (1 - rho)*g**2
    centered:   gbar <- rho*gbar + (1 - rho)*g ;  d = v - gbar**2 + eps
    otherwise:  d = v + eps
    inc = lr*g / sqrt(d)               # eps INSIDE the sqrt; no bias correction
    momentum > 0:  b <- mu*b + inc ;  w <- w - b      # the buffer includes lr
    otherwise:     w <- w - inc
    ```

    Unlike PyTorch (`sqrt(v) + eps`, eps=1e-8, alpha=0.99), Keras puts epsilon
    inside the root. With no bias correction the first step is about
    `lr*|g|/sqrt(0.1*g**2) = 3.162*lr`.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        rho: discounting factor of the gradient history. Defaults to `0.9`.
        momentum: momentum factor; Keras creates the buffer only if `> 0` (a
            negative value silently means no momentum). Defaults to `0.0`.
        epsilon: small constant added inside the root. Defaults to `1e-7`.
        centered: bool; normalise by the estimated variance. Defaults to `False`.
        **kwargs: the shared Keras keyword tail (`weight_decay`, `clipnorm`, ...).

    Internals: `second_moment` (v), `step_size` (`lr/sqrt(d)`), `average_gradient`
    (centered), `velocity` (`-b`, momentum only).
    """

    _hyperparameters = ("rho", "momentum", "epsilon")
    _defaults = {
        "learning_rate": 0.001,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-7,
        "centered": False,
    }

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: Any = 0.9,
        momentum: Any = 0.0,
        epsilon: Any = 1e-7,
        centered: bool = False,
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
        self.momentum = check_float_hyperparameter("momentum", momentum)
        self.epsilon = check_float_hyperparameter("epsilon", epsilon)
        self.centered = check_bool("centered", centered)

    @property
    def _has_momentum(self) -> bool:
        return bool(np.any(np.asarray(self.momentum) > 0))

    def _init_slots(self, w, ctx):
        del ctx
        slots = {"velocity": np.zeros_like(w)}
        if self._has_momentum:
            slots["momentum"] = np.zeros_like(w)
        if self.centered:
            slots["average_gradient"] = np.zeros_like(w)
        return slots

    def _update(self, g, w, slots, ctx):
        lr = ctx.lr
        rho = ctx.cast(ctx.hp["rho"])
        one_minus_rho = ctx.cast(1 - ctx.hp["rho"])  # `1 - rho` in Python (float64)
        eps = ctx.cast(ctx.hp["epsilon"])
        new = {}
        velocity = rho * slots["velocity"] + one_minus_rho * np.square(g)
        new["velocity"] = velocity
        if self.centered:
            average_grad = rho * slots["average_gradient"] + one_minus_rho * g
            new["average_gradient"] = average_grad
            denominator = velocity - np.square(average_grad) + eps
        else:
            denominator = velocity + eps
        increment = (lr * g) / np.sqrt(denominator)
        info: dict[str, Any] = {}
        if self._has_momentum:
            mu = ctx.cast(ctx.hp["momentum"])
            buf = mu * slots["momentum"] + increment
            # A negative momentum entry (array case) means "no momentum" in Keras.
            if np.ndim(mu) and np.any(mu <= 0):
                buf = np.where(mu > 0, buf, increment)
            new["momentum"] = buf
            w_new = w - buf
            if ctx.internals:
                info["velocity"] = -buf
        else:
            w_new = w - increment
        if ctx.internals:
            info["second_moment"] = velocity
            info["step_size"] = lr / np.sqrt(denominator)
            if self.centered:
                info["average_gradient"] = average_grad
        return w_new, new, info
