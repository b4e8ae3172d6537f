"""Keras 3's `BaseOptimizer` pipeline (JAX backend) around each optimizer's rule.

Pipeline of one `step` (keras/src/optimizers/base_optimizer.py, JAX backend)
---------------------------------------------------------------------------
```
g <- g / loss_scale_factor                         (if set)
gradient accumulation (N steps): on a micro-step acc <- acc + g and nothing else
    changes (the EMA still runs); on every N-th call g <- (g + acc) / N, acc <- 0
clip: clipnorm (per variable) | global_clipnorm | clipvalue
w <- w - w*wd*lr                                   (decoupled weight decay, if set)
update_step(g, w, lr) per variable, with t = iterations + 1
EMA: average <- mu*average + (1 - mu)*w, mu = 0 on the first step; overwrite
    w <- average every `ema_overwrite_frequency` steps
iterations <- iterations + 1                       (raw counter, every call)
```

Bit-exactness notes (Keras on XLA)
----------------------------------
- XLA rewrites a division by a broadcast scalar, `array / s`, as
  `array * (1 / s)`; where Keras divides an array by a scalar (per-variable norm,
  bias correction, loss scale, accumulation count) we multiply by the reciprocal.
- XLA's float64 `pow` is glibc's; use `keras_pow` / `VarContext.pow`, not
  `np.power` (which is off by one ulp for ~5% of exponents).

dtype
-----
The dtype is the parameters' dtype (float64 by default). In float32 mode numbers are
cast the way Keras casts them: a float `learning_rate` is a float32 value, Python
float hyperparameters enter float32 arithmetic as float32, and quantities Keras
computes in Python (such as `1 - beta_1`) are computed in float64 and then cast.

The variable convention and the internals vocabulary are the base class's
(`simulator.optimizers.base`); this module adds only what Keras does around the rule.
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from simulator.optimizers.base import Optimizer
from simulator.optimizers.batching import expand
from simulator.optimizers.internals import collect_internals
from simulator.optimizers.state import OptState, StepResult
from simulator.optimizers.validation import (
    check_bool,
    check_float_hyperparameter,
    format_value,
)

__all__ = ["BASE_ARGUMENTS", "KerasOptimizer"]

# The keyword tail every Keras optimizer accepts, in Keras order, with defaults.
BASE_ARGUMENTS: dict[str, Any] = {
    "weight_decay": None,
    "clipnorm": None,
    "clipvalue": None,
    "global_clipnorm": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
    "name": None,
}


class KerasOptimizer(Optimizer):
    """Base class of the Keras-exact optimizers: the `BaseOptimizer` pipeline.

    Subclasses (one per Keras optimizer) implement the Keras `update_step` in
    `_update`, copying its operation order so float64 results are bit-identical,
    and pass the shared keyword tail on by keyword.
    """

    _tail_defaults = BASE_ARGUMENTS
    _tail_hyperparameters = (
        "weight_decay",
        "clipnorm",
        "clipvalue",
        "global_clipnorm",
        "loss_scale_factor",
        "ema_momentum",
    )
    _strict_lr = True

    @property
    def label(self) -> str:
        """`Adam · Keras`: the name beside flavours (`Adam · PyTorch`)."""
        return f"{type(self).__name__} · Keras"

    def __init__(
        self,
        learning_rate: Any,
        *,
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
        if kwargs.pop("decay", None) is not None:
            warnings.warn(
                "Argument `decay` is no longer supported and will be ignored.",
                stacklevel=3,
            )
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        super().__init__(learning_rate, name=name)
        self.weight_decay = check_float_hyperparameter(
            "weight_decay", weight_decay, optional=True
        )
        self.clipnorm = check_float_hyperparameter("clipnorm", clipnorm, optional=True)
        self.clipvalue = check_float_hyperparameter(
            "clipvalue", clipvalue, optional=True
        )
        self.global_clipnorm = check_float_hyperparameter(
            "global_clipnorm", global_clipnorm, optional=True
        )
        self.loss_scale_factor = check_float_hyperparameter(
            "loss_scale_factor", loss_scale_factor, optional=True
        )
        self.use_ema = check_bool("use_ema", use_ema)
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps:
            if (
                not isinstance(gradient_accumulation_steps, numbers.Integral)
                or not gradient_accumulation_steps >= 2
            ):
                raise ValueError(
                    "`gradient_accumulation_steps` must be an integer >= 2. "
                    "Received: gradient_accumulation_steps="
                    f"{gradient_accumulation_steps}"
                )
        self.ema_momentum = check_float_hyperparameter("ema_momentum", ema_momentum)
        if use_ema:
            if not _all_true((self.ema_momentum <= 1) & (self.ema_momentum >= 0)):
                raise ValueError(
                    "`ema_momentum` must be in the range [0, 1]. "
                    f"Received: ema_momentum={format_value(ema_momentum)}"
                )
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int)
                or isinstance(ema_overwrite_frequency, bool)
                or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or "
                    "None. Received: ema_overwrite_frequency="
                    f"{ema_overwrite_frequency}"
                )
        self.ema_overwrite_frequency = ema_overwrite_frequency
        clip_args_sum = sum(
            a is not None for a in [clipnorm, clipvalue, global_clipnorm]
        )
        if clip_args_sum > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                f"be set. Received: clipnorm={clipnorm}, "
                f"clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self._exclude_pattern: re.Pattern | None = None
        self._exclude_indices: frozenset[int] = frozenset()

    def _learning_rate_message(self, value: Any) -> str:
        return (
            "Argument `learning_rate` should be float, or an instance "
            "of LearningRateSchedule, or a callable "
            "(that takes in the current iteration value "
            "and returns the corresponding learning rate value). "
            f"Received instead: learning_rate={value!r}"
        )

    def exclude_from_weight_decay(
        self,
        var_list: Sequence[int] | None = None,
        var_names: Sequence[str] | None = None,
    ) -> Optimizer:
        """Excludes variables from weight decay (Keras semantics).

        Args:
            var_list: indices of variables (in the `params` list) to exclude.
            var_names: substrings/regexes; a variable whose name matches any of
                them (`re.search`) is excluded.

        Returns:
            self, for chaining.
        """
        self._exclude_indices = frozenset(var_list or ())
        self._exclude_pattern = (
            re.compile("|".join(set(var_names))) if var_names else None
        )
        return self

    # ------------------------------------------------------------- public API
    def init(
        self,
        params: Sequence[Any],
        *,
        batch_ndim: int = 0,
        names: Sequence[str] | None = None,
    ) -> OptState:
        """Builds the optimizer state (Keras `build`), with EMA and accumulators."""
        state = super().init(params, batch_ndim=batch_ndim, names=names)
        zeros = tuple(
            np.zeros(state.batch_shape + np.shape(p)[np.ndim(p) - v :], state.dtype)
            for p, v in zip(params, state.var_ndims, strict=True)
        )
        return state._replace(
            ema=zeros if self.use_ema else None,
            accumulators=zeros if self.gradient_accumulation_steps else None,
        )

    def step(
        self,
        params: Sequence[Any],
        grads: Sequence[Any],
        state: OptState,
        *,
        internals: bool = True,
    ) -> StepResult:
        """One Keras `optimizer.apply(grads, params)` for every batch element.

        Args:
            params: variables, each broadcastable to `(*B, *var_shape)`.
            grads: gradients, same shapes as `params`.
            state: the state returned by `init` or the previous `step`.
            internals: also compute the internals dict (costs a little time).

        Returns:
            `StepResult(params, state, internals)`. Inputs are never mutated.
        """
        w_in, g_in = self._inputs(params, grads, state)
        dtype = state.dtype
        B = state.batch_shape
        raw = state.iterations
        steps = self.gradient_accumulation_steps
        iterations = raw // steps if steps else raw

        # Unscale gradients. Keras writes `g / scale`; XLA turns a division by a
        # scalar into a multiplication by its reciprocal, so we do the same.
        if self.loss_scale_factor is not None:
            g_in = [
                g * (1 / expand(np.asarray(self.loss_scale_factor, dtype), v))
                for g, v in zip(g_in, state.var_ndims, strict=True)
            ]

        lr = np.asarray(self._current_learning_rate(raw, dtype), dtype=dtype)
        new_slots, new_shared, new_acc = state.slots, state.shared, state.accumulators
        is_update = True
        if steps:
            is_update = (raw + 1) % steps == 0
            if is_update:
                # `(g + acc) / steps` as XLA computes it: times the reciprocal.
                inv_steps = 1 / np.asarray(steps, dtype)
                g_in = [
                    (g + acc) * inv_steps
                    for g, acc in zip(g_in, state.accumulators, strict=True)
                ]
                new_acc = tuple(np.zeros_like(a) for a in state.accumulators)
            else:
                new_acc = tuple(
                    g + acc for g, acc in zip(g_in, state.accumulators, strict=True)
                )

        if is_update:
            g_used = self._clip(g_in, state)
            w = self._weight_decay(w_in, lr, state)
            new_w, new_slots, new_shared, per_var = self._apply_rule(
                w, g_used, state, lr, iterations, internals
            )
        else:
            g_used = g_in
            new_w = list(w_in)
            per_var = [{} for _ in w_in]

        new_ema = self._ema(new_w, state, iterations)
        freq = self.ema_overwrite_frequency
        if self.use_ema and freq is not None and (iterations + 1) % freq == 0:
            new_w = list(new_ema)

        new_state = state._replace(
            iterations=raw + 1,
            slots=new_slots,
            shared=new_shared,
            ema=new_ema,
            accumulators=new_acc,
        )
        out: dict[str, Any] = {}
        if internals:
            out = collect_internals(w_in, new_w, g_used, per_var, lr, B)
            if new_ema is not None:
                out["ema"] = tuple(new_ema)
            if steps:
                out["is_update_step"] = np.full(B, is_update)
        return StepResult(tuple(new_w), new_state, out)

    def finalize(
        self, params: Sequence[Any], state: OptState
    ) -> tuple[np.ndarray, ...]:
        """Keras `finalize_variable_values`: EMA weights replace the variables.

        `model.fit` calls this at the end of training when `use_ema=True`.
        """
        if self.use_ema and state.ema is not None:
            return tuple(np.array(a) for a in state.ema)
        return tuple(np.asarray(p) for p in params)

    # -------------------------------------------------------- pipeline hooks
    def _uses_weight_decay(self, index: int, name: str) -> bool:
        if index in self._exclude_indices:
            return False
        if self._exclude_pattern is not None and self._exclude_pattern.search(name):
            return False
        return True

    def _weight_decay_coefficient(self, index: int, name: str, var_ndim: int) -> Any:
        """The decay coefficient of one variable, or None (Muon overrides)."""
        del var_ndim
        if self.weight_decay is None or not self._uses_weight_decay(index, name):
            return None
        return self.weight_decay

    # ------------------------------------------------------ pipeline stages
    def _ema(
        self, new_w: list[np.ndarray], state: OptState, iterations: int
    ) -> tuple[np.ndarray, ...] | None:
        """EMA weights after this step: `mu*average + (1 - mu)*w`, mu = 0 at first."""
        if not self.use_ema:
            return state.ema
        dtype = state.dtype
        mu64 = self.ema_momentum
        out = []
        for wi, avg, vnd in zip(new_w, state.ema, state.var_ndims, strict=True):
            # momentum = cast(iterations != 0) * ema_momentum, in var dtype.
            mom = np.asarray(
                expand(np.asarray(mu64, dtype), vnd) * dtype.type(iterations != 0),
                dtype,
            )
            out.append(mom * avg + (1 - mom) * wi)
        return tuple(out)

    def _clip(self, grads: list[np.ndarray], state: OptState) -> list[np.ndarray]:
        dtype = state.dtype
        if self.clipnorm is not None and _any_positive(self.clipnorm):
            out = []
            for g, vnd in zip(grads, state.var_ndims, strict=True):
                c = expand(np.asarray(self.clipnorm, dtype), vnd)
                axes = tuple(range(-vnd, 0))
                l2sum = np.sum(np.square(g), axis=axes, keepdims=True)
                pred = l2sum > 0
                l2sum_safe = np.where(pred, l2sum, np.ones_like(l2sum))
                l2norm = np.where(pred, np.sqrt(l2sum_safe), l2sum)
                # Keras writes (g*c) / max(norm, c); XLA rewrites a division by a
                # broadcast scalar as a multiplication by its reciprocal, so this
                # is the value Keras actually computes (bit for bit).
                clipped = (g * c) * (1 / np.maximum(l2norm, c))
                out.append(np.where(c > 0, clipped, g) if np.ndim(c) else clipped)
            return out
        if self.global_clipnorm is not None and _any_positive(self.global_clipnorm):
            squared = [
                np.sum(np.square(g), axis=tuple(range(-v, 0)))
                for g, v in zip(grads, state.var_ndims, strict=True)
            ]
            use_norm = np.sqrt(np.sum(np.stack(squared), axis=0))
            c = np.asarray(self.global_clipnorm, dtype)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = c * np.minimum(1.0 / use_norm, 1.0 / c)
                scale = scale + (use_norm - use_norm)
            if np.ndim(c):
                scale = np.where(c > 0, scale, dtype.type(1))
            return [
                g * expand(np.asarray(scale, dtype), v)
                for g, v in zip(grads, state.var_ndims, strict=True)
            ]
        if self.clipvalue is not None and _any_positive(self.clipvalue):
            out = []
            for g, vnd in zip(grads, state.var_ndims, strict=True):
                v = expand(np.asarray(self.clipvalue, dtype), vnd)
                clipped = np.clip(g, -v, v)
                out.append(np.where(v > 0, clipped, g) if np.ndim(v) else clipped)
            return out
        return grads

    def _weight_decay(
        self, params: list[np.ndarray], lr: np.ndarray, state: OptState
    ) -> list[np.ndarray]:
        """Decoupled decay before the rule: `w <- w - w*wd*lr`."""
        out = []
        for i, (w, vnd) in enumerate(zip(params, state.var_ndims, strict=True)):
            wd = self._weight_decay_coefficient(i, state.names[i], vnd)
            if wd is None:
                out.append(w)
                continue
            wd_c = expand(np.asarray(wd, state.dtype), vnd)
            out.append(w - w * wd_c * expand(lr, vnd))
        return out


def _all_true(condition: Any) -> bool:
    return bool(np.all(condition))


def _any_positive(value: Any) -> bool:
    # Keras: `if self.clipnorm and self.clipnorm > 0`; 0 or negative means off.
    return bool(np.any(np.asarray(value) > 0))
