"""Keras 3 `Muon` (3.13+): Newton-Schulz orthogonalised momentum for 2D weights."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.validation import check_bool, check_float_hyperparameter

__all__ = ["Muon"]


class Muon(KerasOptimizer):
    """Optimizer that implements the Muon algorithm (Keras 3.13+ exact).

    A variable takes the **Adam path** if its rank (variable axes) is not 2, if
    `exclude_embeddings` and "embedding" is in its name, or if a regex of
    `exclude_layers` matches its name; otherwise the **Muon path**:

    ```
    m <- m + (g + m*(mu - 1))                 # i.e. mu*m + g
    G = g + mu*m if nesterov else m           # NEW m
    X = G (transposed if rows > cols) ;  X <- X/(||X||_F + 1e-7)
    repeat ns_steps:  A = X X^T ;  B = b*A + c*A A ;  X <- a*X + B X
    step = lr*X (transposed back) ;  if rms_rate: step *= sqrt(max(rows, cols))*rms_rate
    w <- w - step
    ```

    The Adam path is Keras Adam without amsgrad, with `lr*adam_lr_ratio`,
    `adam_beta_*` and `epsilon`. Weight decay is per path: `adam_weight_decay` on
    the Adam path, `weight_decay` on the Muon path, both with the unscaled lr. A 2D
    particle (shape (2,)) therefore runs Adam with decoupled decay 0.004. Keras's
    JAX backend computes `norm` in float32, so Muon-path float64 results differ
    from Keras by ~1e-8 relative.

    Args:
        learning_rate: Defaults to `0.001`.
        adam_beta_1: Defaults to `0.9`.
        adam_beta_2: Defaults to `0.999`.
        adam_weight_decay: Defaults to `0.004`.
        epsilon: Defaults to `1e-7`.
        weight_decay: Defaults to `0.004`.
        exclude_layers: regexes of variable names that use the Adam path.
        exclude_embeddings: Defaults to `True`.
        muon_a, muon_b, muon_c: Newton-Schulz coefficients (3.4445, -4.7750, 2.0315).
        adam_lr_ratio: Defaults to `1`.
        momentum: Defaults to `0.95`.
        ns_steps: Defaults to `5`.
        nesterov: Defaults to `True`.
        rms_rate: Defaults to `0.2` (None disables the shape scaling).
        **kwargs: the rest of the shared Keras keyword tail.

    Internals: `first_moment` (m), Adam path `second_moment` and `step_size`;
    Muon path `orthogonalized_update` (X).
    """

    _hyperparameters = (
        "adam_beta_1",
        "adam_beta_2",
        "adam_weight_decay",
        "epsilon",
        "muon_a",
        "muon_b",
        "muon_c",
        "adam_lr_ratio",
        "momentum",
        "rms_rate",
    )
    _defaults = {
        "learning_rate": 0.001,
        "adam_beta_1": 0.9,
        "adam_beta_2": 0.999,
        "adam_weight_decay": 0.004,
        "epsilon": 1e-7,
        "weight_decay": 0.004,
        "exclude_layers": None,
        "exclude_embeddings": True,
        "muon_a": 3.4445,
        "muon_b": -4.7750,
        "muon_c": 2.0315,
        "adam_lr_ratio": 1,
        "momentum": 0.95,
        "ns_steps": 5,
        "nesterov": True,
        "rms_rate": 0.2,
    }

    def __init__(
        self,
        learning_rate: Any = 0.001,
        adam_beta_1: Any = 0.9,
        adam_beta_2: Any = 0.999,
        adam_weight_decay: Any = 0.004,
        epsilon: Any = 1e-7,
        weight_decay: Any = 0.004,
        clipnorm: Any = None,
        clipvalue: Any = None,
        global_clipnorm: Any = None,
        use_ema: bool = False,
        ema_momentum: Any = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: Any = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        exclude_layers: list[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: Any = 3.4445,
        muon_b: Any = -4.7750,
        muon_c: Any = 2.0315,
        adam_lr_ratio: Any = 1,
        momentum: Any = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: Any = 0.2,
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
        for arg, value in [
            ("adam_beta_1", adam_beta_1),
            ("adam_beta_2", adam_beta_2),
            ("epsilon", epsilon),
            ("muon_a", muon_a),
            ("muon_b", muon_b),
            ("muon_c", muon_c),
            ("momentum", momentum),
        ]:
            setattr(self, arg, check_float_hyperparameter(arg, value))
        self.adam_weight_decay = check_float_hyperparameter(
            "adam_weight_decay", adam_weight_decay, optional=True
        )
        self.adam_lr_ratio = check_float_hyperparameter("adam_lr_ratio", adam_lr_ratio)
        self.rms_rate = check_float_hyperparameter("rms_rate", rms_rate, optional=True)
        self.exclude_layers = list(exclude_layers) if exclude_layers else None
        self.exclude_embeddings = check_bool("exclude_embeddings", exclude_embeddings)
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(
                "`ns_steps` must be a non-negative integer. "
                f"Received: ns_steps={ns_steps}"
            )
        self.ns_steps = ns_steps
        self.nesterov = check_bool("nesterov", nesterov)

    def get_config(self):
        config = super().get_config()
        config["adam_lr_ratio"] = self.adam_lr_ratio
        return config

    def _should_use_adamw(self, name: str, var_ndim: int) -> bool:
        if var_ndim != 2:
            return True
        if self.exclude_embeddings and "embedding" in name.lower():
            return True
        return any(re.search(p, name) for p in self.exclude_layers or ())

    def _hyperparameter_values(self):
        values = super()._hyperparameter_values()
        # Optional ones may be None; keep them out of the array machinery.
        return {k: v for k, v in values.items() if v is not None}

    def _weight_decay_coefficient(self, index, name, var_ndim):
        if not self._uses_weight_decay(index, name):
            return None
        if self._should_use_adamw(name, var_ndim):
            return self.adam_weight_decay
        return self.weight_decay

    def _init_slots(self, w, ctx):
        slots = {"momentum": np.zeros_like(w)}
        if self._should_use_adamw(ctx.name, ctx.var_ndim):
            slots["velocity"] = np.zeros_like(w)
        return slots

    def _update(self, g, w, slots, ctx):
        if "velocity" in slots:
            return self._adam_update(g, w, slots, ctx)
        return self._muon_update(g, w, slots, ctx)

    def _adam_update(self, g, w, slots, ctx):
        hp = ctx.hp
        lr = (
            ctx.cast(ctx.lr * hp["adam_lr_ratio"])
            if ctx.dtype == np.float64
            else (ctx.cast(ctx.lr * ctx.cast(hp["adam_lr_ratio"])))
        )
        b1p = ctx.pow(ctx.cast(hp["adam_beta_1"]))
        b2p = ctx.pow(ctx.cast(hp["adam_beta_2"]))
        alpha = lr * np.sqrt(1 - b2p) / (1 - b1p)
        m = slots["momentum"] + (g - slots["momentum"]) * ctx.cast(
            1 - hp["adam_beta_1"]
        )
        v = slots["velocity"] + (np.square(g) - slots["velocity"]) * ctx.cast(
            1 - hp["adam_beta_2"]
        )
        denom = np.sqrt(v) + ctx.cast(hp["epsilon"])
        w_new = w - (m * alpha) / denom
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = v
            info["step_size"] = alpha / denom
        return w_new, {"momentum": m, "velocity": v}, info

    def _muon_update(self, g, w, slots, ctx):
        hp = ctx.hp
        mu = ctx.cast(hp["momentum"])
        m = slots["momentum"] + (g + slots["momentum"] * ctx.cast(hp["momentum"] - 1))
        update_in = g + mu * m if self.nesterov else m
        x = self._newton_schulz(update_in, ctx)
        step = ctx.lr * x
        if self.rms_rate is not None:
            rows, cols = w.shape[-2], w.shape[-1]
            step = step * np.sqrt(ctx.cast(max(rows, cols))) * ctx.cast(hp["rms_rate"])
        w_new = w - step
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["orthogonalized_update"] = x
        return w_new, {"momentum": m}, info

    def _newton_schulz(self, x, ctx):
        """Quintic Newton-Schulz iteration on the last two axes, batched."""
        a = ctx.cast(ctx.hp["muon_a"])
        b = ctx.cast(ctx.hp["muon_b"])
        c = ctx.cast(ctx.hp["muon_c"])
        transposed = x.shape[-2] > x.shape[-1]
        if transposed:
            x = np.swapaxes(x, -1, -2)
        norm = np.sqrt(np.sum(np.square(x), axis=(-2, -1), keepdims=True))
        x = x * (1 / (norm + ctx.cast(1e-7)))  # XLA: division by a broadcast scalar
        for _ in range(self.ns_steps):
            temp_a = x @ np.swapaxes(x, -1, -2)
            temp_b = b * temp_a + (c * temp_a) @ temp_a
            x = a * x + temp_b @ x
        if transposed:
            x = np.swapaxes(x, -1, -2)
        return x
