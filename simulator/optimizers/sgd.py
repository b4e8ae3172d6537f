"""Keras 3 `SGD`: plain, momentum (Sutskever form) and reparameterised Nesterov."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.state import VarContext
from simulator.optimizers.validation import check_bool, check_float_hyperparameter

__all__ = ["SGD"]


class SGD(KerasOptimizer):
    """Optimizer that implements gradient descent with momentum (Keras 3 exact).

    Update rule for a variable `w` with gradient `g` (`mu = momentum`):

    ```
    momentum == 0:   w <- w - g*lr
    otherwise:       m <- m*mu - g*lr                # velocity holds lr, signed
                     nesterov:  w <- w + (m*mu - g*lr)   # uses the NEW m
                     else:      w <- w + m
    ```

    Keras's Nesterov is the Sutskever reparameterisation: the stored variable is
    the textbook *lookahead* point `theta + mu*v`, so the gradient is always
    evaluated at the stored `w` and the textbook iterate is `w - mu*m_old`.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.01`.
        momentum: float (or float array) in [0, 1]. Defaults to `0.0`. Keras
            rejects ints (`momentum=0`); so does this.
        nesterov: bool. Whether to apply Nesterov momentum. Defaults to `False`.
        **kwargs: the shared Keras keyword tail (`weight_decay`, `clipnorm`, ...).

    Internals: `velocity` (m after the step), `step_size` (lr), and with Nesterov
    `lookahead` (= `grad_position`) and `nesterov_base` (`w - mu*m_old`).
    """

    _hyperparameters = ("momentum",)
    _defaults = {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: Any = 0.0,
        nesterov: bool = False,
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
            learning_rate=learning_rate,
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        try:
            value = check_float_hyperparameter("momentum", momentum, strict=True)
        except ValueError:
            value = None
        if value is None or not np.all((value >= 0) & (value <= 1)):
            raise ValueError(
                "`momentum` must be a float between [0, 1]. "
                f"Received: momentum={momentum!r}"
            )
        self.momentum = value
        self.nesterov = check_bool("nesterov", nesterov)

    @property
    def _has_momentum(self) -> bool:
        # Keras creates the slot only if momentum != 0; an array always gets one.
        return isinstance(self.momentum, np.ndarray) or self.momentum != 0

    def _init_slots(self, w: np.ndarray, ctx: VarContext) -> dict[str, np.ndarray]:
        del ctx
        return {"momentum": np.zeros_like(w)} if self._has_momentum else {}

    def _update(self, g, w, slots, ctx):
        lr = ctx.lr
        info: dict[str, Any] = {}
        if not self._has_momentum:
            w_new = w - g * lr
            if ctx.internals:
                info["step_size"] = np.broadcast_to(lr, w.shape)
            return w_new, slots, info
        mu = ctx.cast(ctx.hp["momentum"])
        m_old = slots["momentum"]
        m = m_old * mu - g * lr
        if self.nesterov:
            w_new = w + (m * mu - g * lr)
        else:
            w_new = w + m
        if ctx.internals:
            info["velocity"] = m
            info["step_size"] = np.broadcast_to(lr, w.shape)
            if self.nesterov:
                info["lookahead"] = w
                info["nesterov_base"] = w - mu * m_old
        return w_new, {"momentum": m}, info
