"""Keras 3 `BaseOptimizer` semantics as pure functions over explicit, batched state.

Variable convention
-------------------
An optimizer updates a *list of variables*. Each variable array has leading **batch
axes** (particles, models, hyperparameter grid points) followed by its own
**variable axes**. `init(params, batch_ndim=k)` declares that the first `k` axes of
every variable are batch axes. The batch shape `B` is the broadcast of every
variable's batch shape and every array hyperparameter's shape, so a learning-rate
array of shape `(H, 1)` with starts of shape `(1, N, 2)` is an `H x N` sweep.

Each batch element behaves exactly like a separate Keras run with its own optimizer:
per-variable reductions (`clipnorm`, Lamb's trust ratio, Adafactor's RMS and
factoring, Muon's orthogonalisation) reduce over one batch element's variable axes
only, and `global_clipnorm` reduces over all variables of one batch element.

A 2D particle is one variable of shape `(2,)`: a swarm is `[xy]` with `xy.shape ==
(N, 2)` and `batch_ndim=1`.

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

Internals
---------
`step` returns, besides new parameters and state, a dict of *internals* that explain
the motion. Names are shared by every optimizer (only the ones that apply appear):

- `learning_rate` (B): the learning rate in force this step (schedules evaluated).
- `grad_position`: where the gradient was evaluated (the parameters passed in).
- `gradient`: the processed gradient the rule used (unscaled, averaged, clipped).
- `update`: the displacement actually taken, `w_new - w_old` (everything included).
- `effective_lr`: displacement per unit gradient, `-update / gradient` per
  coordinate (NaN where the gradient is 0).
- `step_size`: the adaptive per-coordinate multiplier of the rule, e.g.
  `alpha_t / (sqrt(v) + eps)` for Adam or `lr / sqrt(acc + eps)` for Adagrad.
- `velocity`: a momentum buffer expressed as a displacement (SGD's `m`, RMSprop's
  `-b`): the particle moves by roughly `+velocity`.
- `first_moment`, `second_moment`: moving averages of g and g**2 (or the rule's
  equivalents: Adagrad's accumulator, Adamax's infinity norm, ...).
- `lookahead`, `nesterov_base`: Nesterov SGD. Keras stores the textbook *lookahead*
  point `theta + mu*v` as the variable, so the gradient is evaluated at the stored
  position (`lookahead == grad_position`) and the textbook iterate is
  `nesterov_base = w - mu*m`.
- `sign_update` (Lion), `trust_ratio` (Lamb, B), `ema` (EMA weights),
  `is_update_step` (B, gradient accumulation).

Per-variable internals are tuples aligned with `params`; optimizer-wide ones
(`learning_rate`, `is_update_step`) are arrays of shape `B`.

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
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "BASE_ARGUMENTS",
    "INTERNALS",
    "OptState",
    "Optimizer",
    "StepResult",
    "VarContext",
    "check_bool",
    "check_float_hyperparameter",
]

#: Every internal name some optimizer returns (the shared ones listed above plus
#: rule-specific state: Adadelta's `accumulated_delta`, Ftrl's `linear` and
#: `z`, Nadam's `momentum_schedule`, Adafactor's `relative_step_size`, AMSGrad's
#: `max_second_moment`, schedule-free AdamW's `x` and `average_gradient`).
INTERNALS = (
    "learning_rate",
    "grad_position",
    "gradient",
    "update",
    "effective_lr",
    "step_size",
    "velocity",
    "first_moment",
    "second_moment",
    "max_second_moment",
    "lookahead",
    "nesterov_base",
    "sign_update",
    "trust_ratio",
    "ema",
    "is_update_step",
    "accumulated_delta",
    "linear",
    "z",
    "momentum_schedule",
    "relative_step_size",
    "x",
    "average_gradient",
)

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


class OptState(NamedTuple):
    """Immutable optimizer state for a batch of independent runs.

    Attributes:
        iterations: Keras's raw `_iterations` counter (calls to `step` so far).
        slots: one dict per variable, slot name -> array `(*B, *var_shape)` (or
            smaller, e.g. Adafactor's factored rows/columns).
        shared: optimizer-wide state, e.g. Nadam's `u_product` of shape `B`.
        ema: EMA weights per variable, or None.
        accumulators: gradient accumulators per variable, or None.
        batch_shape: the broadcast batch shape `B`.
        var_ndims: number of variable (non-batch) axes of each variable.
        names: variable names (used by weight-decay exclusion and Muon).
        dtype: numpy dtype of every floating array.
    """

    iterations: int
    slots: tuple[dict[str, np.ndarray], ...]
    shared: dict[str, np.ndarray]
    ema: tuple[np.ndarray, ...] | None
    accumulators: tuple[np.ndarray, ...] | None
    batch_shape: tuple[int, ...]
    var_ndims: tuple[int, ...]
    names: tuple[str, ...]
    dtype: np.dtype


class StepResult(NamedTuple):
    """What `Optimizer.step` returns.

    Attributes:
        params: new parameters, each `(*B, *var_shape)`.
        state: the new `OptState`.
        internals: dict of named internals (see the module docstring); empty when
            `step(..., internals=False)`.
    """

    params: tuple[np.ndarray, ...]
    state: OptState
    internals: dict[str, Any]


@dataclass
class VarContext:
    """Everything `_update` needs for one variable, cast and shaped for it.

    Attributes:
        dtype: the variable dtype.
        iterations: accumulation-adjusted Keras `iterations` (before increment).
        t: `iterations + 1` as a 0-d array of `dtype` (Keras's `local_step`).
        lr: the learning rate, cast to `dtype`, shaped `(*B, 1, ..., 1)`.
        hp: float64 hyperparameters, each shaped to broadcast against the
            variable (batch axes then ones for the variable axes). Cast them with
            `cast` only after doing any arithmetic that Keras does in Python.
        var_ndim: number of variable axes (reduce over `axes` for per-variable
            norms).
        name: the variable name.
        index: position of the variable in the list.
        shared: optimizer-wide state after `_pre_update` (e.g. Nadam's product).
        internals: whether internals are wanted (skip extra work if not).
    """

    dtype: np.dtype
    iterations: int
    t: np.ndarray
    lr: np.ndarray
    hp: dict[str, np.ndarray]
    var_ndim: int
    name: str
    index: int
    shared: dict[str, np.ndarray] = field(default_factory=dict)
    internals: bool = True

    @property
    def axes(self) -> tuple[int, ...]:
        """The variable axes, for per-variable reductions."""
        return tuple(range(-self.var_ndim, 0))

    def cast(self, value: Any) -> np.ndarray:
        """Casts a float64 quantity to the variable dtype (Keras `ops.cast`)."""
        return np.asarray(value, dtype=self.dtype)

    def pow(self, base: Any, exponent: Any = None) -> np.ndarray:
        """`base ** exponent` (default `t`) as Keras-on-XLA rounds it (`keras_pow`)."""
        return keras_pow(base, self.t if exponent is None else exponent, self.dtype)


def _is_schedule(value: Any) -> bool:
    # Imported here: simulator.schedules imports this module. Plain floats (the
    # common case, checked on every step) need no import at all.
    if isinstance(value, float | int | np.ndarray):
        return False
    from simulator.schedules import LearningRateSchedule

    return isinstance(value, LearningRateSchedule)


def _format_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape})"
    return repr(value)


def check_float_hyperparameter(
    name: str, value: Any, *, optional: bool = False, strict: bool = False
):
    """Normalises a numeric hyperparameter to float64 (Python float or array).

    Accepts a Python float, a numpy floating scalar or a floating array (an array
    broadcasts against the batch axes). Ints and numpy scalars other than float64
    are converted unless `strict` (Keras rejects them for `learning_rate` and SGD's
    `momentum`, which must pass `isinstance(value, float)`). Bools and non-numbers
    raise a `ValueError` naming the argument and the value.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool | np.bool_) or value is None:
        raise ValueError(
            f"Argument `{name}` must be a float or an array of floats. "
            f"Received: {name}={value!r}"
        )
    if isinstance(value, float):  # includes np.float64
        return _finite(name, float(value))
    if isinstance(value, numbers.Integral):
        if not strict:
            return _finite(name, float(value))
        raise ValueError(
            f"Argument `{name}` must be a float (write {value}.0, as Keras requires)."
            f" Received: {name}={value!r}"
        )
    if strict and isinstance(value, np.generic):
        # Keras tests `isinstance(value, float)`: np.float32 is not a float there.
        raise ValueError(
            f"Argument `{name}` must be a Python float (Keras rejects "
            f"{type(value).__name__}). Received: {name}={value!r}"
        )
    try:
        arr = np.asarray(value)
    except Exception:
        arr = None
    if arr is None or arr.dtype.kind != "f":
        raise ValueError(
            f"Argument `{name}` must be a float or an array of floats. "
            f"Received: {name}={value!r}"
        )
    if arr.size == 0:
        # An empty array would give a run of zero particles.
        raise _MeaninglessValue(
            f"Argument `{name}` must not be an empty array. "
            f"Received: {name}=array(shape={arr.shape})"
        )
    _finite(name, arr)
    if arr.ndim == 0:
        return float(arr)
    return arr.astype(np.float64)


class _MeaninglessValue(ValueError):
    """A hyperparameter of the right type whose value makes the run meaningless."""


def _finite(name: str, value: Any) -> Any:
    """`value` if every element is finite; inf/NaN make every step meaningless."""
    if not np.all(np.isfinite(value)):
        shown = value if np.ndim(value) == 0 else _format_value(np.asarray(value))
        raise _MeaninglessValue(
            f"Argument `{name}` must be finite. Received: {name}={shown!r}"
        )
    return value


def check_bool(name: str, value: Any) -> bool:
    """A structural switch (`nesterov`, `amsgrad`, ...): True or False, nothing else.

    `bool("maybe")` is True, and an array of switches has no single meaning: the
    rule's structure is one for the whole run (run twice to compare).
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    shown = _format_value(value) if isinstance(value, np.ndarray) else repr(value)
    raise ValueError(
        f"Argument `{name}` must be True or False. Received: {name}={shown}"
    )


_libm_pow = np.frompyfunc(math.pow, 2, 1)


def keras_pow(base: Any, exponent: Any, dtype: Any) -> np.ndarray:
    """`base ** exponent` rounded the way Keras-on-XLA rounds it, in `dtype`.

    XLA's float64 `pow` is glibc's correctly rounded `pow` (what `math.pow`
    calls); numpy's vectorised `np.power` differs from it by one ulp for about 5%
    of integer exponents, which chaotic surfaces amplify. So float64 powers go
    through `math.pow` element by element (hyperparameter arrays are small). XLA's
    float32 `pow` is its own approximation, which no numpy routine reproduces;
    float32 uses `np.power` (within the float32 parity tolerance).
    """
    dtype = np.dtype(dtype)
    base = np.asarray(base, dtype)
    exponent = np.asarray(exponent, dtype)
    if dtype != np.float64:
        return np.power(base, exponent)
    return np.asarray(_libm_pow(base, exponent), dtype=dtype)


def _all(condition: Any) -> bool:
    return bool(np.all(condition))


class Optimizer:
    """Base class: the Keras `BaseOptimizer` pipeline, functional and batched.

    Subclasses (one per Keras optimizer) declare their numeric hyperparameters in
    `_hyperparameters`, validate them in `__init__` after calling
    `super().__init__`, and implement `_init_slots` and `_update` (and optionally
    `_init_shared` / `_pre_update` for optimizer-wide state such as Nadam's
    `u_product`). `_update` must copy the Keras `update_step` operation order so
    float64 results are bit-identical.

    Usage:
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> state = opt.init([xy], batch_ndim=1)           # xy: (N, 2)
        >>> res = opt.step([xy], [grad], state)            # grad: (N, 2)
        >>> xy, state = res.params[0], res.state
    """

    #: Numeric hyperparameters of the subclass that may be arrays.
    _hyperparameters: tuple[str, ...] = ()
    #: Keras defaults of the subclass-specific arguments, in Keras order.
    _defaults: dict[str, Any] = {}

    def __init__(
        self,
        learning_rate: Any,
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
            import warnings

            warnings.warn(
                "Argument `decay` is no longer supported and will be ignored.",
                stacklevel=3,
            )
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else _snake(type(self).__name__)

        if _is_schedule(learning_rate) or (
            callable(learning_rate) and not isinstance(learning_rate, np.ndarray)
        ):
            self._learning_rate = learning_rate
        else:
            try:
                self._learning_rate = check_float_hyperparameter(
                    "learning_rate", learning_rate, strict=True
                )
            except _MeaninglessValue:
                raise  # a float of the right type whose value means nothing
            except ValueError:
                raise ValueError(
                    "Argument `learning_rate` should be float, or an instance "
                    "of LearningRateSchedule, or a callable "
                    "(that takes in the current iteration value "
                    "and returns the corresponding learning rate value). "
                    f"Received instead: learning_rate={learning_rate!r}"
                ) from None

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
            if not _all((self.ema_momentum <= 1) & (self.ema_momentum >= 0)):
                raise ValueError(
                    "`ema_momentum` must be in the range [0, 1]. "
                    f"Received: ema_momentum={_format_value(ema_momentum)}"
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

    # ------------------------------------------------------------------ config
    @property
    def learning_rate(self) -> Any:
        """The learning rate argument (float, array, schedule or callable)."""
        return self._learning_rate

    def get_config(self) -> dict[str, Any]:
        """Every constructor argument, Keras order (subclass args first)."""
        config = {"learning_rate": self._learning_rate}
        for key in self._defaults:
            if key != "learning_rate":
                config[key] = getattr(self, key)
        for key in BASE_ARGUMENTS:
            if key not in config:
                config[key] = getattr(self, key)
        return config

    def to_text(self) -> str:
        """Keras-style constructor text: the learning rate and non-default arguments.

        `optimizers.parse(opt.to_text())` rebuilds an equal optimizer when every
        argument is a literal (floats, ints, bools, strings, schedules).
        """
        defaults = {**BASE_ARGUMENTS, **self._defaults}
        parts = []
        for key, value in self.get_config().items():
            if key == "name" and value == _snake(type(self).__name__):
                continue
            # The learning rate is always written: a legend or title that omits
            # it (because it equals the default) reads as if it were unknown.
            if (
                key != "learning_rate"
                and key in defaults
                and _same(value, defaults[key])
            ):
                continue
            parts.append(f"{key}={_text(value)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __repr__(self) -> str:
        return self.to_text()

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
        """Builds the optimizer state (Keras `build`).

        Args:
            params: list of variables; each has shape `(*B_i, *var_shape_i)` where
                the first `batch_ndim` axes are batch axes.
            batch_ndim: number of leading batch axes shared by every variable.
            names: optional variable names (default `variable_0`, ...).

        Returns:
            An `OptState` whose arrays have the broadcast batch shape `B`.
        """
        params = [np.asarray(p) for p in params]
        if not params:
            raise ValueError("`params` must contain at least one variable.")
        dtype = _float_dtype(params)
        if batch_ndim < 0 or any(p.ndim < batch_ndim for p in params):
            raise ValueError(
                f"`batch_ndim` must be between 0 and the smallest variable rank "
                f"({min(p.ndim for p in params)}). Received: batch_ndim={batch_ndim}"
            )
        var_ndims = tuple(p.ndim - batch_ndim for p in params)
        batch_shape = self._batch_shape(params, batch_ndim)
        names = (
            tuple(names)
            if names is not None
            else tuple(f"variable_{i}" for i in range(len(params)))
        )
        if len(names) != len(params):
            raise ValueError(
                f"`names` must have one name per variable ({len(params)}). "
                f"Received: names={list(names)}"
            )
        params = [
            np.broadcast_to(p, batch_shape + p.shape[batch_ndim:]).astype(dtype)
            for p in params
        ]
        hp64 = self._hyperparameter_values()
        slots = []
        for i, w in enumerate(params):
            ctx = self._context(
                dtype, 0, batch_shape, var_ndims[i], names[i], i, hp64, None, {}, True
            )
            slots.append(self._init_slots(w, ctx))
        shared = self._init_shared(params, batch_shape, dtype)
        ema = tuple(np.zeros_like(w) for w in params) if self.use_ema else None
        acc = (
            tuple(np.zeros_like(w) for w in params)
            if self.gradient_accumulation_steps
            else None
        )
        return OptState(
            iterations=0,
            slots=tuple(slots),
            shared=shared,
            ema=ema,
            accumulators=acc,
            batch_shape=batch_shape,
            var_ndims=var_ndims,
            names=names,
            dtype=dtype,
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
        if len(params) != len(state.var_ndims) or len(grads) != len(params):
            raise ValueError(
                f"Expected {len(state.var_ndims)} variables and as many gradients. "
                f"Received {len(params)} variables and {len(grads)} gradients."
            )
        dtype = state.dtype
        B = state.batch_shape
        w_in = []
        g_in = []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            vshape = np.shape(p)[np.ndim(p) - state.var_ndims[i] :]
            w_in.append(_as(p, dtype, B + vshape))
            g_in.append(_as(g, dtype, B + vshape))
        raw = state.iterations
        steps = self.gradient_accumulation_steps
        iterations = raw // steps if steps else raw
        out: dict[str, Any] = {}

        # Unscale gradients. Keras writes `g / scale`; XLA turns a division by a
        # scalar into a multiplication by its reciprocal, so we do the same.
        if self.loss_scale_factor is not None:
            g_in = [
                g * (1 / _expand(np.asarray(self.loss_scale_factor, dtype), v))
                for g, v in zip(g_in, state.var_ndims, strict=True)
            ]

        lr64 = self._current_learning_rate(raw, dtype)
        lr = np.asarray(lr64, dtype=dtype)
        hp64 = self._hyperparameter_values()

        new_slots = state.slots
        new_shared = state.shared
        new_acc = state.accumulators
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
            w = self._weight_decay(w_in, lr, state, hp64)
            new_shared = self._pre_update(state.shared, iterations, dtype, hp64, B)
            new_w = []
            slots_out = []
            per_var_internals: list[dict[str, Any]] = []
            for i, (wi, gi) in enumerate(zip(w, g_used, strict=True)):
                ctx = self._context(
                    dtype,
                    iterations,
                    B,
                    state.var_ndims[i],
                    state.names[i],
                    i,
                    hp64,
                    lr,
                    new_shared,
                    internals,
                )
                w_new, s_new, info = self._update(gi, wi, state.slots[i], ctx)
                new_w.append(w_new)
                slots_out.append(s_new)
                per_var_internals.append(info)
            new_slots = tuple(slots_out)
        else:
            g_used = g_in
            new_w = list(w_in)
            per_var_internals = [{} for _ in w_in]

        new_ema = state.ema
        if self.use_ema:
            mu64 = self.ema_momentum
            new_ema = []
            for wi, avg, vnd in zip(new_w, state.ema, state.var_ndims, strict=True):
                # momentum = cast(iterations != 0) * ema_momentum, in var dtype.
                mom = np.asarray(
                    _expand(np.asarray(mu64, dtype), vnd) * dtype.type(iterations != 0),
                    dtype,
                )
                new_ema.append(mom * avg + (1 - mom) * wi)
            new_ema = tuple(new_ema)
            freq = self.ema_overwrite_frequency
            if freq is not None and (iterations + 1) % freq == 0:
                new_w = list(new_ema)

        new_state = state._replace(
            iterations=raw + 1,
            slots=new_slots,
            shared=new_shared,
            ema=new_ema,
            accumulators=new_acc,
        )
        if internals:
            out = self._collect_internals(
                w_in,
                new_w,
                g_used,
                per_var_internals,
                lr,
                B,
                state,
                is_update,
                new_ema,
            )
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

    # ------------------------------------------------------- subclass hooks
    def _init_slots(self, w: np.ndarray, ctx: VarContext) -> dict[str, np.ndarray]:
        """Returns the slot arrays of one variable `w` of shape `(*B, *var)`."""
        del w, ctx
        return {}

    def _init_shared(
        self, params: list[np.ndarray], batch_shape: tuple[int, ...], dtype: np.dtype
    ) -> dict[str, np.ndarray]:
        """Returns optimizer-wide state (e.g. Nadam's `u_product`)."""
        del params, batch_shape, dtype
        return {}

    def _pre_update(
        self,
        shared: dict[str, np.ndarray],
        iterations: int,
        dtype: np.dtype,
        hp: dict[str, Any],
        batch_shape: tuple[int, ...],
    ) -> dict[str, np.ndarray]:
        """Updates optimizer-wide state once per real step, before `_update`."""
        del iterations, dtype, hp, batch_shape
        return shared

    def _update(
        self,
        g: np.ndarray,
        w: np.ndarray,
        slots: dict[str, np.ndarray],
        ctx: VarContext,
    ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
        """Keras `update_step` for one variable.

        Args:
            g: processed gradient `(*B, *var)` in `ctx.dtype`.
            w: the variable after weight decay, `(*B, *var)`.
            slots: this variable's slots (never mutate them).
            ctx: casts, hyperparameters, learning rate and step counter.

        Returns:
            `(w_new, new_slots, internals)`.
        """
        raise NotImplementedError

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

    # -------------------------------------------------------------- helpers
    def _hyperparameter_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._hyperparameters}

    def _array_hyperparameters(self) -> dict[str, np.ndarray]:
        names = (
            *self._hyperparameters,
            "weight_decay",
            "clipnorm",
            "clipvalue",
            "global_clipnorm",
            "loss_scale_factor",
            "ema_momentum",
        )
        found = {n: getattr(self, n) for n in names}
        found["learning_rate"] = self._learning_rate
        return {n: v for n, v in found.items() if isinstance(v, np.ndarray)}

    def _batch_shape(
        self, params: list[np.ndarray], batch_ndim: int
    ) -> tuple[int, ...]:
        shapes = [p.shape[:batch_ndim] for p in params]
        arrays = self._array_hyperparameters()
        try:
            return tuple(
                np.broadcast_shapes(*shapes, *(a.shape for a in arrays.values()))
            )
        except ValueError:
            described = ", ".join(f"{n}: {a.shape}" for n, a in arrays.items())
            raise ValueError(
                "Hyperparameter arrays must broadcast against the batch axes of the "
                f"variables. Variable batch shapes: {shapes}; hyperparameters: "
                f"{described}."
            ) from None

    def _context(
        self,
        dtype: np.dtype,
        iterations: int,
        batch_shape: tuple[int, ...],
        var_ndim: int,
        name: str,
        index: int,
        hp64: dict[str, Any],
        lr: np.ndarray | None,
        shared: dict[str, np.ndarray],
        internals: bool,
    ) -> VarContext:
        hp = {
            k: (_expand(np.asarray(v, np.float64), var_ndim) if v is not None else None)
            for k, v in hp64.items()
        }
        lr_e = _expand(lr, var_ndim) if lr is not None else np.asarray(0.0, dtype)
        return VarContext(
            dtype=dtype,
            iterations=iterations,
            t=np.asarray(iterations + 1, dtype=dtype),
            lr=lr_e,
            hp=hp,
            var_ndim=var_ndim,
            name=name,
            index=index,
            shared=shared,
            internals=internals,
        )

    def _current_learning_rate(self, raw_iterations: int, dtype: np.dtype) -> Any:
        lr = self._learning_rate
        if _is_schedule(lr):
            return lr(raw_iterations, dtype=dtype)
        if callable(lr) and not isinstance(lr, np.ndarray):
            return np.asarray(lr(), dtype=np.float64)  # Keras calls it with no args
        return lr

    def _clip(self, grads: list[np.ndarray], state: OptState) -> list[np.ndarray]:
        dtype = state.dtype
        if self.clipnorm is not None and _any_positive(self.clipnorm):
            out = []
            for g, vnd in zip(grads, state.var_ndims, strict=True):
                c = _expand(np.asarray(self.clipnorm, dtype), vnd)
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
                g * _expand(np.asarray(scale, dtype), v)
                for g, v in zip(grads, state.var_ndims, strict=True)
            ]
        if self.clipvalue is not None and _any_positive(self.clipvalue):
            out = []
            for g, vnd in zip(grads, state.var_ndims, strict=True):
                v = _expand(np.asarray(self.clipvalue, dtype), vnd)
                clipped = np.clip(g, -v, v)
                out.append(np.where(v > 0, clipped, g) if np.ndim(v) else clipped)
            return out
        return grads

    def _weight_decay(
        self, params: list[np.ndarray], lr: np.ndarray, state: OptState, hp64: dict
    ) -> list[np.ndarray]:
        out = []
        for i, (w, vnd) in enumerate(zip(params, state.var_ndims, strict=True)):
            wd = self._weight_decay_coefficient(i, state.names[i], vnd)
            if wd is None:
                out.append(w)
                continue
            wd_c = _expand(np.asarray(wd, state.dtype), vnd)
            lr_c = _expand(self._weight_decay_lr(lr, hp64), vnd)
            out.append(w - w * wd_c * lr_c)
        return out

    def _weight_decay_lr(self, lr: np.ndarray, hp64: dict) -> np.ndarray:
        del hp64
        return lr

    def _collect_internals(
        self,
        w_in: list[np.ndarray],
        w_out: list[np.ndarray],
        g_used: list[np.ndarray],
        per_var: list[dict[str, Any]],
        lr: np.ndarray,
        B: tuple[int, ...],
        state: OptState,
        is_update: bool,
        ema: tuple[np.ndarray, ...] | None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "learning_rate": np.broadcast_to(lr, B),
            "grad_position": tuple(w_in),
            "gradient": tuple(g_used),
        }
        updates = tuple(b - a for a, b in zip(w_in, w_out, strict=True))
        out["update"] = updates
        with np.errstate(divide="ignore", invalid="ignore"):
            out["effective_lr"] = tuple(
                np.where(g != 0, -u / np.where(g != 0, g, 1), np.nan)
                for u, g in zip(updates, g_used, strict=True)
            )
        keys: list[str] = []
        for info in per_var:
            keys.extend(k for k in info if k not in keys)
        for key in keys:
            if key == "trust_ratio" or key.endswith("_scalar"):
                out[key] = tuple(info.get(key) for info in per_var)
            else:
                out[key] = tuple(
                    info.get(key, np.full_like(w, np.nan))
                    for info, w in zip(per_var, w_in, strict=True)
                )
        if ema is not None:
            out["ema"] = tuple(ema)
        if self.gradient_accumulation_steps:
            out["is_update_step"] = np.full(B, is_update)
        del state
        return out


# ---------------------------------------------------------------- utilities
def _snake(name: str) -> str:
    """Keras's `to_snake_case` (`AdamW` -> `adam_w`), without its uniquifying."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _float_dtype(params: list[np.ndarray]) -> np.dtype:
    kinds = {p.dtype for p in params if p.dtype.kind == "f"}
    if not kinds:
        return np.dtype(np.float64)
    if len(kinds) > 1:
        raise ValueError(
            "All variables must share one floating dtype. "
            f"Received dtypes: {sorted(str(k) for k in kinds)}"
        )
    dtype = kinds.pop()
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"Variables must be float32 or float64. Received: {dtype}")
    return dtype


def _as(value: Any, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.shape != shape:
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(
                f"Expected an array of shape {shape}. Received shape {arr.shape}."
            ) from None
    return arr


def _expand(value: Any, var_ndim: int) -> np.ndarray:
    """Appends `var_ndim` unit axes so a batch-shaped value meets a variable."""
    arr = np.asarray(value)
    if arr.ndim == 0 or var_ndim == 0:
        return arr
    return arr.reshape(arr.shape + (1,) * var_ndim)


def _any_positive(value: Any) -> bool:
    # Keras: `if self.clipnorm and self.clipnorm > 0`; 0 or negative means off.
    return bool(np.any(np.asarray(value) > 0))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        return a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


def _text(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return repr(value.tolist())
    if hasattr(value, "to_text"):
        return value.to_text()
    return repr(value)


def hyperparameters_text(config: Mapping[str, Any]) -> str:
    """Formats a config dict as `key=value, ...` for legends and titles."""
    return ", ".join(f"{k}={_text(v)}" for k, v in config.items())


UpdateFn = Callable[..., tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]]
