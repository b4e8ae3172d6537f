"""Keras 3 `Ftrl`: Follow The Regularized Leader, which rewrites w from its state."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.numerics import keras_pow
from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_float_hyperparameter

__all__ = ["Ftrl"]


class Ftrl(KerasOptimizer):
    """Optimizer that implements the FTRL algorithm (Keras 3 exact).

    With `p = learning_rate_power` (<= 0), `l1`, `l2`, `l2s` (shrinkage), `beta`:

    ```
    l2' = l2 + beta/(2*lr)
    gs  = g + 2*l2s*w                 # shrinkage gradient, used only in z
    n'  = n + g**2                    # raw g
    z  <- z + gs - ((n'**(-p) - n**(-p))/lr)*w
    q   = n'**(-p)/lr + 2*l2'         # Keras's docstring says l2; the code uses 2*l2
    w  <- (clip(z, -l1, l1) - z)/q    # 0 if |z| <= l1
    n  <- n'
    ```

    Because w is recomputed from (z, n), a zero gradient does not keep w fixed and
    weight decay does not compound as for other optimizers.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        learning_rate_power: must be <= 0. Defaults to `-0.5`.
        initial_accumulator_value: must be >= 0. Defaults to `0.1`.
        l1_regularization_strength: must be >= 0. Defaults to `0.0`.
        l2_regularization_strength: must be >= 0. Defaults to `0.0`.
        l2_shrinkage_regularization_strength: must be >= 0. Defaults to `0.0`.
        beta: Defaults to `0.0`.
        **kwargs: the shared Keras keyword tail.

    Internals: `second_moment` (n), `linear` (z), `step_size` (`1/q`).
    """

    _hyperparameters = (
        "learning_rate_power",
        "initial_accumulator_value",
        "l1_regularization_strength",
        "l2_regularization_strength",
        "l2_shrinkage_regularization_strength",
        "beta",
    )
    _defaults = {
        "learning_rate": 0.001,
        "learning_rate_power": -0.5,
        "initial_accumulator_value": 0.1,
        "l1_regularization_strength": 0.0,
        "l2_regularization_strength": 0.0,
        "l2_shrinkage_regularization_strength": 0.0,
        "beta": 0.0,
    }

    def __init__(
        self,
        learning_rate: Any = 0.001,
        learning_rate_power: Any = -0.5,
        initial_accumulator_value: Any = 0.1,
        l1_regularization_strength: Any = 0.0,
        l2_regularization_strength: Any = 0.0,
        l2_shrinkage_regularization_strength: Any = 0.0,
        beta: Any = 0.0,
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
        checks = [
            (
                "initial_accumulator_value",
                initial_accumulator_value,
                "positive or zero",
            ),
            ("learning_rate_power", learning_rate_power, "negative or zero"),
            (
                "l1_regularization_strength",
                l1_regularization_strength,
                "positive or zero",
            ),
            (
                "l2_regularization_strength",
                l2_regularization_strength,
                "positive or zero",
            ),
            (
                "l2_shrinkage_regularization_strength",
                l2_shrinkage_regularization_strength,
                "positive or zero",
            ),
        ]
        for arg, value, rule in checks:
            value = check_float_hyperparameter(arg, value)
            bad = value > 0.0 if rule == "negative or zero" else value < 0.0
            if np.any(bad):
                raise ValueError(
                    f"`{arg}` needs to be {rule}. Received: {arg}={value}."
                )
            setattr(self, arg, value)
        self.beta = check_float_hyperparameter("beta", beta)

    def _init_slots(self, w, ctx):
        init = ctx.cast(ctx.hp["initial_accumulator_value"])
        return {
            "accumulator": np.broadcast_to(init, w.shape).astype(w.dtype),
            "linear": np.zeros_like(w),
        }

    def _update(self, g, w, slots, ctx):
        lr = ctx.lr
        hp = ctx.hp
        lr_power = ctx.cast(hp["learning_rate_power"])
        # `l2 + beta / (2.0 * lr)`: Python floats meet the lr tensor.
        l2_reg = ctx.cast(hp["l2_regularization_strength"]) + ctx.cast(hp["beta"]) / (
            2.0 * lr
        )
        grad_to_use = g + ctx.cast(2 * hp["l2_shrinkage_regularization_strength"]) * w
        accum = slots["accumulator"]
        new_accum = accum + np.square(g)
        inv_lr = 1 / lr  # `x / lr` with a scalar lr: XLA multiplies by 1/lr
        neg_power = -lr_power
        new_pow = (
            np.power(new_accum, neg_power)
            if ctx.dtype != np.float64
            else (_libm_pow_array(new_accum, neg_power))
        )
        old_pow = (
            np.power(accum, neg_power)
            if ctx.dtype != np.float64
            else (_libm_pow_array(accum, neg_power))
        )
        linear = slots["linear"] + (grad_to_use - ((new_pow - old_pow) * inv_lr) * w)
        quadratic = new_pow * inv_lr + 2 * l2_reg
        l1 = ctx.cast(hp["l1_regularization_strength"])
        linear_clipped = np.clip(linear, -l1, l1)
        w_new = (linear_clipped - linear) / quadratic
        info: dict[str, Any] = {}
        if ctx.internals:
            info["second_moment"] = new_accum
            info["linear"] = linear
            info["step_size"] = 1 / quadratic
        return w_new, {"accumulator": new_accum, "linear": linear}, info


def _libm_pow_array(base: np.ndarray, exponent: Any) -> np.ndarray:
    """Elementwise glibc pow (XLA's float64 pow) for a state array."""
    return keras_pow(base, np.broadcast_to(exponent, np.shape(base)), base.dtype)
