"""Keras 3 `AdamW`: Adam plus the base class's decoupled weight decay (0.004)."""

from __future__ import annotations

from typing import Any

from simulator.optimizers.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Optimizer that implements the AdamW algorithm (Keras 3 exact).

    Exactly `Adam` (see its docstring) with the base class's decoupled decay run
    first, on the pre-update weights and with the same (scheduled) learning rate:

    ```
    w <- w - w*weight_decay*lr          # before the Adam step
    (Adam step)
    ```

    `Adam(weight_decay=0.004)` is numerically identical to `AdamW()`. PyTorch's
    default decay is 1e-2, optax's 1e-4.

    Args:
        learning_rate: float, float array, schedule or callable. Defaults to `0.001`.
        weight_decay: float (or array). Defaults to `0.004`; `None` raises.
        beta_1: Defaults to `0.9`.
        beta_2: Defaults to `0.999`.
        epsilon: epsilon hat. Defaults to `1e-7`.
        amsgrad: bool. Defaults to `False`.
        **kwargs: the rest of the shared Keras keyword tail.
    """

    _defaults = {
        "learning_rate": 0.001,
        "weight_decay": 0.004,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
    }

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: Any = 0.004,
        beta_1: Any = 0.9,
        beta_2: Any = 0.999,
        epsilon: Any = 1e-7,
        amsgrad: bool = False,
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
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
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
        if self.weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )
