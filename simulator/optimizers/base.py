"""The optimizer base class: batched state, a plain step and the shared internals.

Every optimizer, Keras-exact (`simulator.optimizers.keras_pipeline`) or a flavour
(`simulator.optimizers.flavours`), is an `Optimizer`: `init` builds batched state,
`step` applies the rule, and both share the vocabulary below. This module holds no
framework's pipeline; the parts it is built from are neutral modules: `state` (state
types), `validation` (argument checks), `batching` (batch axes), `internals` and
`text` (constructor text).

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

Internals
---------
`step` returns, besides new parameters and state, a dict of *internals* that explain
the motion. Names are shared by every optimizer (only the ones that apply appear):

- `learning_rate` (B): the learning rate in force this step (schedules evaluated).
- `grad_position`: where the gradient was evaluated (the parameters passed in;
  textbook Nesterov's look-ahead, see `Optimizer.gradient_point`).
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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simulator.optimizers.batching import (
    as_batched,
    batch_shape,
    make_context,
)
from simulator.optimizers.internals import collect_internals
from simulator.optimizers.state import OptState, StepResult, VarContext
from simulator.optimizers.text import constructor_text, snake_case
from simulator.optimizers.validation import (
    MeaninglessValue,
    check_float_hyperparameter,
    float_dtype,
)
from simulator.schedules import LearningRateSchedule

__all__ = ["OptState", "Optimizer", "StepResult", "VarContext"]


def is_schedule(value: Any) -> bool:
    """Whether `value` is a learning-rate schedule (called with the step counter)."""
    return isinstance(value, LearningRateSchedule)


def is_callable_lr(value: Any) -> bool:
    """Whether `value` is a zero-argument learning-rate callable (not an array)."""
    return (
        callable(value)
        and not isinstance(value, np.ndarray)
        and not isinstance(value, LearningRateSchedule)
    )


class Optimizer:
    """Base class of every optimizer: batched init/step over explicit state.

    Subclasses declare their numeric hyperparameters in `_hyperparameters` and
    their defaults in `_defaults`, validate arguments in `__init__` after calling
    `super().__init__`, and implement `_init_slots` and `_update` (and optionally
    `_init_shared` / `_pre_update` for optimizer-wide state such as Nadam's
    `u_product`). The plain `step` here is gradient in, rule, internals out;
    `KerasOptimizer` wraps the rule in Keras's pipeline (clipping, decoupled
    weight decay, EMA, accumulation), flavours use it as it is.

    Usage:
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> state = opt.init([xy], batch_ndim=1)           # xy: (N, 2)
        >>> res = opt.step([xy], [grad], state)            # grad: (N, 2)
        >>> xy, state = res.params[0], res.state
    """

    #: Numeric hyperparameters of the subclass that may be arrays.
    _hyperparameters: tuple[str, ...] = ()
    #: Defaults of the subclass-specific arguments, in the framework's order.
    _defaults: dict[str, Any] = {}
    #: The keyword tail shared by a family of optimizers, with its defaults.
    _tail_defaults: dict[str, Any] = {"name": None}
    #: Tail arguments that may be arrays (they widen the batch shape).
    _tail_hyperparameters: tuple[str, ...] = ()
    #: The learning rate's argument name (`lr` in torch).
    _lr_name: str = "learning_rate"
    #: Whether an int learning rate is refused (Keras requires a float).
    _strict_lr: bool = False
    #: No EMA and no accumulation unless a pipeline adds them (moons reads these).
    use_ema: bool = False
    gradient_accumulation_steps: int | None = None

    def __init__(self, learning_rate: Any, name: str | None = None):
        self.name = name if name is not None else snake_case(type(self).__name__)
        if is_schedule(learning_rate) or is_callable_lr(learning_rate):
            self._learning_rate = learning_rate
            return
        try:
            self._learning_rate = check_float_hyperparameter(
                self._lr_name, learning_rate, strict=self._strict_lr
            )
        except MeaninglessValue:
            raise  # a float of the right type whose value means nothing
        except ValueError:
            raise ValueError(self._learning_rate_message(learning_rate)) from None

    def _learning_rate_message(self, value: Any) -> str:
        """The one-line error for a learning rate that is not a number."""
        name = self._lr_name
        return (
            f"Argument `{name}` must be a float, a float array or a schedule. "
            f"Received: {name}={value!r}"
        )

    # ------------------------------------------------------------------ config
    @property
    def learning_rate(self) -> Any:
        """The learning rate argument (float, array, schedule or callable)."""
        return self._learning_rate

    @property
    def label(self) -> str:
        """The name and its framework, e.g. `Adam · Keras`, `Adam · PyTorch`
        (`text.legend_labels` uses it wherever a race holds a flavour)."""
        return type(self).__name__

    def get_config(self) -> dict[str, Any]:
        """Every constructor argument, in the framework's order (own args first)."""
        config = {self._lr_name: self._learning_rate}
        for key in self._defaults:
            if key != self._lr_name:
                config[key] = getattr(self, key)
        for key in self._tail_defaults:
            if key not in config:
                config[key] = getattr(self, key)
        return config

    def _text_call(self) -> str:
        """What `to_text` writes before the parenthesis."""
        return type(self).__name__

    def to_text(self) -> str:
        """Constructor text: the learning rate and every non-default argument.

        `optimizers.parse(opt.to_text())` rebuilds an equal optimizer when every
        argument is a literal (floats, ints, bools, strings, schedules).
        """
        return constructor_text(
            self._text_call(),
            self.get_config(),
            {**self._tail_defaults, **self._defaults},
            always=(self._lr_name,),
            default_name=snake_case(type(self).__name__),
        )

    def __repr__(self) -> str:
        return self.to_text()

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
        dtype = float_dtype(params)
        if batch_ndim < 0 or any(p.ndim < batch_ndim for p in params):
            raise ValueError(
                f"`batch_ndim` must be between 0 and the smallest variable rank "
                f"({min(p.ndim for p in params)}). Received: batch_ndim={batch_ndim}"
            )
        var_ndims = tuple(p.ndim - batch_ndim for p in params)
        B = batch_shape(params, batch_ndim, self._array_hyperparameters())
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
            np.broadcast_to(p, B + p.shape[batch_ndim:]).astype(dtype) for p in params
        ]
        hp64 = self._hyperparameter_values()
        slots = []
        for i, w in enumerate(params):
            ctx = make_context(
                dtype=dtype,
                iterations=0,
                var_ndim=var_ndims[i],
                name=names[i],
                index=i,
                hp64=hp64,
                lr=None,
                shared={},
                internals=True,
            )
            slots.append(self._init_slots(w, ctx))
        return OptState(
            iterations=0,
            slots=tuple(slots),
            shared=self._init_shared(params, B, dtype),
            ema=None,
            accumulators=None,
            batch_shape=B,
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
        """One update of every batch element: `w <- rule(w, g)`, `t <- t + 1`.

        Args:
            params: variables, each broadcastable to `(*B, *var_shape)`.
            grads: gradients, same shapes as `params`.
            state: the state returned by `init` or the previous `step`.
            internals: also compute the internals dict (costs a little time).

        Returns:
            `StepResult(params, state, internals)`. Inputs are never mutated.
        """
        w_in, g_in = self._inputs(params, grads, state)
        lr = np.asarray(
            self._current_learning_rate(state.iterations, state.dtype), state.dtype
        )
        new_w, slots, shared, per_var = self._apply_rule(
            w_in, g_in, state, lr, state.iterations, internals
        )
        new_state = state._replace(
            iterations=state.iterations + 1, slots=slots, shared=shared
        )
        out: dict[str, Any] = {}
        if internals:
            out = collect_internals(w_in, new_w, g_in, per_var, lr, state.batch_shape)
        return StepResult(tuple(new_w), new_state, out)

    def gradient_point(self, params: Sequence[Any], state: OptState) -> Sequence[Any]:
        """Where the gradient of the next `step` is evaluated, per variable.

        `params` itself (the same objects) for every rule that takes the
        gradient at its iterate; textbook Nesterov returns its look-ahead
        `theta + mu*v`. `simulate` and the moons trainer evaluate there and
        still record `params` (the iterate) and its loss.
        """
        del state
        return params

    def finalize(
        self, params: Sequence[Any], state: OptState
    ) -> tuple[np.ndarray, ...]:
        """The final variable values (Keras's EMA pipeline overrides this)."""
        del state
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
        """The update rule for one variable.

        Args:
            g: processed gradient `(*B, *var)` in `ctx.dtype`.
            w: the variable (after any pipeline stage before the rule), `(*B, *var)`.
            slots: this variable's slots (never mutate them).
            ctx: casts, hyperparameters, learning rate and step counter.

        Returns:
            `(w_new, new_slots, internals)`.
        """
        raise NotImplementedError

    # -------------------------------------------------------------- helpers
    def _inputs(
        self, params: Sequence[Any], grads: Sequence[Any], state: OptState
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Parameters and gradients cast to the state dtype and batch shape."""
        if len(params) != len(state.var_ndims) or len(grads) != len(params):
            raise ValueError(
                f"Expected {len(state.var_ndims)} variables and as many gradients. "
                f"Received {len(params)} variables and {len(grads)} gradients."
            )
        w_in, g_in = [], []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            shape = state.batch_shape + np.shape(p)[np.ndim(p) - state.var_ndims[i] :]
            w_in.append(as_batched(p, state.dtype, shape))
            g_in.append(as_batched(g, state.dtype, shape))
        return w_in, g_in

    def _apply_rule(
        self,
        w: list[np.ndarray],
        g: list[np.ndarray],
        state: OptState,
        lr: np.ndarray,
        iterations: int,
        internals: bool,
    ) -> tuple[list, tuple, dict, list[dict[str, Any]]]:
        """`_pre_update` once, then `_update` per variable.

        Returns:
            `(new_w, new_slots, new_shared, per_variable_internals)`.
        """
        hp64 = self._hyperparameter_values()
        shared = self._pre_update(
            state.shared, iterations, state.dtype, hp64, state.batch_shape
        )
        new_w, slots, per_var = [], [], []
        for i, (wi, gi) in enumerate(zip(w, g, strict=True)):
            ctx = make_context(
                dtype=state.dtype,
                iterations=iterations,
                var_ndim=state.var_ndims[i],
                name=state.names[i],
                index=i,
                hp64=hp64,
                lr=lr,
                shared=shared,
                internals=internals,
            )
            w_new, s_new, info = self._update(gi, wi, state.slots[i], ctx)
            new_w.append(w_new)
            slots.append(s_new)
            per_var.append(info)
        return new_w, tuple(slots), shared, per_var

    def _hyperparameter_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._hyperparameters}

    def _array_hyperparameters(self) -> dict[str, np.ndarray]:
        """Every hyperparameter given as an array (they widen the batch shape)."""
        names = (*self._hyperparameters, *self._tail_hyperparameters)
        found: Mapping[str, Any] = {n: getattr(self, n) for n in names}
        found = {**found, "learning_rate": self._learning_rate}
        return {n: v for n, v in found.items() if isinstance(v, np.ndarray)}

    def _current_learning_rate(self, raw_iterations: int, dtype: np.dtype) -> Any:
        lr = self._learning_rate
        if is_schedule(lr):
            return lr(raw_iterations, dtype=dtype)
        if is_callable_lr(lr):
            return np.asarray(lr(), dtype=np.float64)  # Keras calls it with no args
        return lr
