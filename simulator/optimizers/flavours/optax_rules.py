"""optax's optimizer aliases (0.2.8) as batched numpy rules, float64-faithful.

optax chains gradient transformations; each alias here is its chain folded into
one rule, in optax's operation order:

```
update_moment:      m <- (1 - b)*g + b*m
bias_correction:    m_hat = m * (1/(1 - b**count))   (XLA: / scalar is * 1/scalar)
scale_by_lr:        u <- (-lr)*u;   apply_updates: w <- w + u
```

`count` is optax's step counter after the increment (`t = iterations + 1`);
`b**count` rounds like glibc's `pow` (`keras_pow`). optax's `rsqrt` is XLA's own
approximation, within one ulp of `1/sqrt` used here. optax's `mask` arguments
and `mu_dtype` are not modelled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.flavours.common import Flavour, FlavourOptimizer

__all__ = [
    "OPTAX",
    "OPTAX_OPTIMIZERS",
    "OptaxAdagrad",
    "OptaxAdam",
    "OptaxAdamW",
    "OptaxAdamax",
    "OptaxLion",
    "OptaxNadam",
    "OptaxRMSprop",
    "OptaxSGD",
]

OPTAX = Flavour("optax", "optax", "optax 0.2.8 (live, float64 via jax x64)")


def _moment(g: np.ndarray, m: np.ndarray, b: Any) -> np.ndarray:
    """optax `update_moment`: `(1 - b)*g + b*m`."""
    return (1 - b) * g + b * m


def _corrected(m: np.ndarray, b: Any, ctx, exponent: Any = None) -> np.ndarray:
    """optax `bias_correction` as XLA computes it: `m * (1/(1 - b**count))`."""
    return m * (1 / (1 - ctx.pow(b, exponent)))


class _Optax(FlavourOptimizer):
    flavour = OPTAX

    def _apply(self, w: np.ndarray, u: np.ndarray, ctx) -> np.ndarray:
        """`scale_by_learning_rate` then `apply_updates`: `w + (-lr)*u`."""
        return w + (-ctx.lr) * u


class OptaxAdam(_Optax):
    """`optax.adam` (Kingma & Ba, textbook eps), optionally Nesterov (= `optax.nadam`).

    ```
    m <- (1 - b1)*g + b1*m;  v <- (1 - b2)*g**2 + b2*v
    m_hat = m/(1 - b1**t)      nesterov: b1*m/(1 - b1**(t+1)) + (1 - b1)*g/(1 - b1**t)
    v_hat = v/(1 - b2**t)
    w <- w - lr*m_hat/(sqrt(v_hat + eps_root) + eps)
    ```

    Internals: `first_moment`, `second_moment`, `step_size` (multiplies m_hat).
    """

    public_name = "adam"
    mirrors = "Adam"
    keras_names = {
        "learning_rate": "learning_rate",
        "b1": "beta_1",
        "b2": "beta_2",
        "eps": "epsilon",
    }
    formula = {
        "epsilon": "outside sqrt of the bias-corrected v (textbook), 1e-8",
        "bias correction": "m and v both corrected",
    }
    _hyperparameters = ("b1", "b2", "eps", "eps_root")
    _defaults = {
        "learning_rate": 1e-3,
        "b1": 0.9,
        "b2": 0.999,
        "eps": 1e-8,
        "eps_root": 0.0,
        "nesterov": False,
    }

    def __init__(
        self,
        learning_rate: Any = 1e-3,
        b1: Any = 0.9,
        b2: Any = 0.999,
        eps: Any = 1e-8,
        eps_root: Any = 0.0,
        nesterov: bool = False,
    ):
        super().__init__(learning_rate)
        self.b1 = self.check("b1", b1, minimum=0.0, below=1.0)
        self.b2 = self.check("b2", b2, minimum=0.0, below=1.0)
        self.eps = self.check("eps", eps, minimum=0.0)
        self.eps_root = self.check("eps_root", eps_root, minimum=0.0)
        self.nesterov = bool(nesterov)

    def _init_slots(self, w, ctx):
        del ctx
        return {"mu": np.zeros_like(w), "nu": np.zeros_like(w)}

    def _direction(self, g, w, slots, ctx):
        b1, b2 = ctx.hp["b1"], ctx.hp["b2"]
        mu = _moment(g, slots["mu"], b1)
        nu = _moment(g**2, slots["nu"], b2)
        if self.nesterov:
            mu_hat = b1 * _corrected(mu, b1, ctx, ctx.t + 1) + (1 - b1) * _corrected(
                g, b1, ctx
            )
        else:
            mu_hat = _corrected(mu, b1, ctx)
        nu_hat = _corrected(nu, b2, ctx)
        denom = np.sqrt(nu_hat + ctx.hp["eps_root"]) + ctx.hp["eps"]
        info = {"first_moment": mu, "second_moment": nu} if ctx.internals else {}
        if ctx.internals:
            info["step_size"] = ctx.lr / denom
        return mu_hat / denom, {"mu": mu, "nu": nu}, info

    def _update(self, g, w, slots, ctx):
        u, new, info = self._direction(g, w, slots, ctx)
        return self._apply(w, u, ctx), new, info


class OptaxNadam(OptaxAdam):
    """`optax.nadam`, i.e. `optax.adam(nesterov=True)`: no momentum schedule."""

    public_name = "nadam"
    mirrors = "Nadam"
    formula = {
        "epsilon": "outside sqrt(v_hat), 1e-8",
        "momentum schedule": "none: constant b1 in m_hat (Keras: b1*(1 - 0.5*0.96**t))",
    }
    _defaults = {
        "learning_rate": 1e-3,
        "b1": 0.9,
        "b2": 0.999,
        "eps": 1e-8,
        "eps_root": 0.0,
    }

    def __init__(self, learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
        super().__init__(learning_rate, b1, b2, eps, eps_root, nesterov=True)


class OptaxAdamW(OptaxAdam):
    """`optax.adamw`: `w <- w - lr*(adam_direction + weight_decay*w)`.

    The decay joins the Adam direction before the lr scaling (Keras subtracts
    `w*wd*lr` first, from the same w: equal up to rounding); default 1e-4
    (Keras 0.004).
    """

    public_name = "adamw"
    mirrors = "AdamW"
    keras_names = {**OptaxAdam.keras_names, "weight_decay": "weight_decay"}
    formula = {
        **OptaxAdam.formula,
        "weight decay": "decoupled, added to the direction before lr; default 1e-4",
    }
    _hyperparameters = ("b1", "b2", "eps", "eps_root", "weight_decay")
    _defaults = {
        "learning_rate": 1e-3,
        "b1": 0.9,
        "b2": 0.999,
        "eps": 1e-8,
        "eps_root": 0.0,
        "weight_decay": 1e-4,
        "nesterov": False,
    }

    def __init__(
        self,
        learning_rate: Any = 1e-3,
        b1: Any = 0.9,
        b2: Any = 0.999,
        eps: Any = 1e-8,
        eps_root: Any = 0.0,
        weight_decay: Any = 1e-4,
        nesterov: bool = False,
    ):
        super().__init__(learning_rate, b1, b2, eps, eps_root, nesterov)
        self.weight_decay = self.check("weight_decay", weight_decay)

    def _update(self, g, w, slots, ctx):
        u, new, info = self._direction(g, w, slots, ctx)
        if isinstance(self.weight_decay, np.ndarray) or self.weight_decay != 0:
            u = u + ctx.hp["weight_decay"] * w  # optax skips a constant 0.0
        return self._apply(w, u, ctx), new, info


class OptaxSGD(_Optax):
    """`optax.sgd`: `trace` (lr outside the buffer) then the lr scaling.

    ```
    b <- g + momentum*b;   d = g + momentum*b (nesterov) | b;   w <- w - lr*d
    ```

    `momentum=None` (the default) means no trace at all.
    """

    public_name = "sgd"
    mirrors = "SGD"
    keras_names = {
        "learning_rate": "learning_rate",
        "momentum": "momentum",
        "nesterov": "nesterov",
    }
    formula = {
        "learning rate": "outside the buffer: b = g + mu*b; w -= lr*b",
        "first step": "buffer starts at 0, so b = g",
    }
    _hyperparameters = ("momentum",)
    _defaults = {"learning_rate": 1e-3, "momentum": None, "nesterov": False}

    def __init__(
        self, learning_rate: Any = 1e-3, momentum: Any = None, nesterov: bool = False
    ):
        super().__init__(learning_rate)
        self.momentum = self.check("momentum", momentum, minimum=0.0, optional=True)
        self.nesterov = bool(nesterov)

    def _init_slots(self, w, ctx):
        del ctx
        return {} if self.momentum is None else {"trace": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        info: dict[str, Any] = {}
        if ctx.internals:
            info["step_size"] = np.broadcast_to(ctx.lr, w.shape)
        if self.momentum is None:
            return self._apply(w, g, ctx), slots, info
        mu = ctx.hp["momentum"]
        trace = g + mu * slots["trace"]
        d = g + mu * trace if self.nesterov else trace
        if ctx.internals:
            info["velocity"] = (-ctx.lr) * trace
        return self._apply(w, d, ctx), {"trace": trace}, info


class OptaxRMSprop(_Optax):
    """`optax.rmsprop`: eps inside the sqrt by default, optional centring and momentum.

    ```
    v <- (1 - decay)*g**2 + decay*v          (v starts at initial_scale)
    centered: gbar <- (1 - decay)*g + decay*gbar;  s = v - gbar**2   else s = v
    bias_correction: v, gbar divided by (1 - decay**t)
    u = g/sqrt(s + eps)  (eps_in_sqrt)  |  g/(sqrt(s) + eps)
    u <- -lr*u;  momentum: b <- u + momentum*b;  u = b  (or u + momentum*b, nesterov)
    w <- w + u
    ```

    Momentum comes after the lr scaling (lr inside the buffer, like Keras).
    """

    public_name = "rmsprop"
    mirrors = "RMSprop"
    keras_names = {
        "learning_rate": "learning_rate",
        "decay": "rho",
        "eps": "epsilon",
        "centered": "centered",
        "momentum": "momentum",
    }
    formula = {
        "epsilon": "inside the sqrt (eps_in_sqrt=True), 1e-8",
        "decay": "0.9 (as Keras rho)",
        "learning rate": "inside the momentum buffer (as Keras)",
    }
    _hyperparameters = ("decay", "eps", "initial_scale", "momentum")
    _defaults = {
        "learning_rate": 1e-3,
        "decay": 0.9,
        "eps": 1e-8,
        "initial_scale": 0.0,
        "eps_in_sqrt": True,
        "centered": False,
        "momentum": None,
        "nesterov": False,
        "bias_correction": False,
    }

    def __init__(
        self,
        learning_rate: Any = 1e-3,
        decay: Any = 0.9,
        eps: Any = 1e-8,
        initial_scale: Any = 0.0,
        eps_in_sqrt: bool = True,
        centered: bool = False,
        momentum: Any = None,
        nesterov: bool = False,
        bias_correction: bool = False,
    ):
        super().__init__(learning_rate)
        self.decay = self.check("decay", decay, minimum=0.0, maximum=1.0)
        self.eps = self.check("eps", eps, minimum=0.0)
        self.initial_scale = self.check("initial_scale", initial_scale, minimum=0.0)
        self.eps_in_sqrt = bool(eps_in_sqrt)
        self.centered = bool(centered)
        self.momentum = self.check("momentum", momentum, minimum=0.0, optional=True)
        self.nesterov = bool(nesterov)
        self.bias_correction = bool(bias_correction)

    def _init_slots(self, w, ctx):
        scale = ctx.cast(ctx.hp["initial_scale"])
        slots = {"nu": np.broadcast_to(scale, w.shape).copy()}
        if self.centered:
            slots["mu"] = np.zeros_like(w)
        if self.momentum is not None:
            slots["trace"] = np.zeros_like(w)
        return slots

    def _update(self, g, w, slots, ctx):
        decay = ctx.hp["decay"]
        nu = _moment(g**2, slots["nu"], decay)
        new = {"nu": nu}
        info: dict[str, Any] = {}
        nu_hat = _corrected(nu, decay, ctx) if self.bias_correction else nu
        if self.centered:
            mu = _moment(g, slots["mu"], decay)
            new["mu"] = mu
            mu_hat = _corrected(mu, decay, ctx) if self.bias_correction else mu
            s = nu_hat - mu_hat * mu_hat
            info["first_moment"] = mu
        else:
            s = nu_hat
        if self.eps_in_sqrt:
            scaling = 1 / np.sqrt(s + ctx.hp["eps"])
        else:
            scaling = 1 / (np.sqrt(s) + ctx.hp["eps"])
        u = (-ctx.lr) * (scaling * g)
        if self.momentum is not None:
            mom = ctx.hp["momentum"]
            trace = u + mom * slots["trace"]
            new["trace"] = trace
            u = u + mom * trace if self.nesterov else trace
            info["velocity"] = trace
        if not ctx.internals:
            return w + u, new, {}
        info["second_moment"] = nu
        info["step_size"] = ctx.lr * scaling
        return w + u, new, info


class OptaxAdagrad(_Optax):
    """`optax.adagrad`: Keras's rule (A0 = 0.1, eps inside), zero where `A == 0`.

    ```
    A <- g*g + A;   u = rsqrt(A + eps)*g if A > 0 else 0;   w <- w - lr*u
    ```
    """

    public_name = "adagrad"
    mirrors = "Adagrad"
    keras_names = {
        "learning_rate": "learning_rate",
        "initial_accumulator_value": "initial_accumulator_value",
        "eps": "epsilon",
    }
    formula = {
        "epsilon": "inside the sqrt, 1e-7 (as Keras)",
        "accumulator start": "0.1 (as Keras)",
    }
    _hyperparameters = ("initial_accumulator_value", "eps")
    _defaults = {
        "learning_rate": 1e-3,
        "initial_accumulator_value": 0.1,
        "eps": 1e-7,
    }

    def __init__(
        self,
        learning_rate: Any = 1e-3,
        initial_accumulator_value: Any = 0.1,
        eps: Any = 1e-7,
    ):
        super().__init__(learning_rate)
        self.initial_accumulator_value = self.check(
            "initial_accumulator_value", initial_accumulator_value, minimum=0.0
        )
        self.eps = self.check("eps", eps, minimum=0.0)

    def _init_slots(self, w, ctx):
        a0 = ctx.cast(ctx.hp["initial_accumulator_value"])
        return {"sum_of_squares": np.broadcast_to(a0, w.shape).copy()}

    def _update(self, g, w, slots, ctx):
        acc = g * g
        acc += slots["sum_of_squares"]
        inv = acc + ctx.hp["eps"]
        np.sqrt(inv, out=inv)
        with np.errstate(divide="ignore"):
            np.divide(1.0, inv, out=inv)
        # optax zeroes rsqrt where A == 0; one min() instead of a where over
        # every element when no A is 0 (or NaN, which fails `> 0` as in optax).
        if acc.size and not acc.min() > 0:
            inv = np.where(acc > 0, inv, 0.0)
        info: dict[str, Any] = {}
        if ctx.internals:
            info["second_moment"] = acc
            info["step_size"] = ctx.lr * inv
        return self._apply(w, inv * g, ctx), {"sum_of_squares": acc}, info


class OptaxLion(_Optax):
    """`optax.lion` (Chen et al. 2023) with optax's default weight decay 1e-3.

    ```
    u = sign((1 - b1)*g + b1*m);  m <- (1 - b2)*g + b2*m
    w <- w - lr*(u + weight_decay*w)
    ```
    """

    public_name = "lion"
    mirrors = "Lion"
    keras_names = {
        "learning_rate": "learning_rate",
        "b1": "beta_1",
        "b2": "beta_2",
        "weight_decay": "weight_decay",
    }
    formula = {
        "weight decay": "1e-3 by default, inside the lr scaling (Keras: none)",
    }
    _hyperparameters = ("b1", "b2", "weight_decay")
    _defaults = {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.99, "weight_decay": 1e-3}

    def __init__(
        self,
        learning_rate: Any = 1e-3,
        b1: Any = 0.9,
        b2: Any = 0.99,
        weight_decay: Any = 1e-3,
    ):
        super().__init__(learning_rate)
        self.b1 = self.check("b1", b1, minimum=0.0, maximum=1.0)
        self.b2 = self.check("b2", b2, minimum=0.0, maximum=1.0)
        self.weight_decay = self.check("weight_decay", weight_decay)

    def _init_slots(self, w, ctx):
        del ctx
        return {"mu": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        b1, b2 = ctx.hp["b1"], ctx.hp["b2"]
        u = np.sign((1.0 - b1) * g + b1 * slots["mu"])
        mu = _moment(g, slots["mu"], b2)
        if isinstance(self.weight_decay, np.ndarray) or self.weight_decay != 0:
            u = u + ctx.hp["weight_decay"] * w
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = mu
            info["sign_update"] = u
            info["step_size"] = np.broadcast_to(ctx.lr, w.shape)
        return self._apply(w, u, ctx), {"mu": mu}, info


class OptaxAdamax(_Optax):
    """`optax.adamax`: eps inside the max, like torch.

    ```
    m <- (1 - b1)*g + b1*m;   u <- max(|g| + eps, b2*u)
    w <- w - lr*(m/(1 - b1**t))/u
    ```
    """

    public_name = "adamax"
    mirrors = "Adamax"
    keras_names = {
        "learning_rate": "learning_rate",
        "b1": "beta_1",
        "b2": "beta_2",
        "eps": "epsilon",
    }
    formula = {"epsilon": "inside the max: max(|g| + eps, b2*u), 1e-8"}
    _hyperparameters = ("b1", "b2", "eps")
    _defaults = {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8}

    def __init__(
        self, learning_rate: Any = 1e-3, b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8
    ):
        super().__init__(learning_rate)
        self.b1 = self.check("b1", b1, minimum=0.0, below=1.0)
        self.b2 = self.check("b2", b2, minimum=0.0, below=1.0)
        self.eps = self.check("eps", eps, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"mu": np.zeros_like(w), "nu": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        mu = _moment(g, slots["mu"], ctx.hp["b1"])
        nu = np.maximum(np.abs(g) + ctx.hp["eps"], ctx.hp["b2"] * slots["nu"])
        mu_hat = _corrected(mu, ctx.hp["b1"], ctx)
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = mu
            info["second_moment"] = nu
            info["step_size"] = ctx.lr * (1 / (1 - ctx.pow(ctx.hp["b1"]))) / nu
        return self._apply(w, mu_hat / nu, ctx), {"mu": mu, "nu": nu}, info


OPTAX_OPTIMIZERS: tuple[type[FlavourOptimizer], ...] = (
    OptaxAdam,
    OptaxAdamW,
    OptaxSGD,
    OptaxRMSprop,
    OptaxAdagrad,
    OptaxNadam,
    OptaxLion,
    OptaxAdamax,
)
