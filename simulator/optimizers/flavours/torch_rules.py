"""`torch.optim` update rules (single-tensor CPU path), batched over particles.

Each class copies the operation order of `torch.optim`'s `_single_tensor_*`
function (the path torch takes on CPU: `foreach` and `fused` are CUDA defaults) so
float64 trajectories match the recorded goldens. torch's CPU kernels are compiled
with fused multiply-adds (`fma(a, b, c)`, one rounding), which matters: without
them centered RMSprop on Rosenbrock drifts 1e-3 from torch within 200 steps. Its
primitives round as:

```
add(a, b, alpha)          fma(alpha, b, a)
addcmul(a, b, c, value)   fma(value*b, c, a)
addcdiv(a, b, c, value)   a + (value*b)/c
lerp(a, b, w)             fma(w, b - a, a)  if |w| < 0.5  else  fma(-(b - a), 1 - w, b)
```

Scalars torch computes in Python (`beta1**step`, `lr / bias_correction1`) are
float64 here, with glibc's `pow` (`keras_pow`). `numerics.fma` is the FMA
instruction itself (through BLAS `daxpy` or numpy's complex multiply, checked
once per process), so these roundings are the hardware's, not an emulation's.
`step` is torch's per-parameter counter, `t = iterations + 1`. Not modelled:
`foreach`, `fused`, `capturable`, `differentiable` (implementation switches
with the same maths) and sparse gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.numerics import addcmul, fma, fma_scaled, keras_pow
from simulator.optimizers.flavours.common import Flavour, FlavourOptimizer

__all__ = [
    "TORCH",
    "TORCH_OPTIMIZERS",
    "TorchAdadelta",
    "TorchAdagrad",
    "TorchAdam",
    "TorchAdamW",
    "TorchAdamax",
    "TorchNAdam",
    "TorchRAdam",
    "TorchRMSprop",
    "TorchSGD",
]

TORCH = Flavour("torch", "PyTorch", "torch.optim (goldens from torch 2.13.0, CPU)")


class _Torch(FlavourOptimizer):
    """Shared torch arguments: `lr`, `weight_decay` (L2, coupled) and `maximize`."""

    flavour = TORCH
    _lr_name = "lr"
    #: Round `addcmul`, `lerp` and `add(alpha=)` as torch's FMA kernels do
    #: (`numerics.fma`/`addcmul`: the FMA instruction through BLAS `daxpy`,
    #: free, or numpy's complex multiply, four strided passes for `addcmul`).
    #: `opt.emulate_fma = False` rounds twice: within 3e-14 of torch on smooth
    #: runs, 1e-3 away on chaotic ones (see module docstring).
    emulate_fma: bool = True

    def _fma(self, a: Any, b: Any, c: Any) -> np.ndarray:
        return fma(a, b, c) if self.emulate_fma else a * b + c

    def _fma_scaled(self, a: Any, b: Any, c: Any, k: Any) -> np.ndarray:
        """`fma(a, b, c*k)`, the scaling rounded first (`c.mul_(k).add...`)."""
        return fma_scaled(a, b, c, k) if self.emulate_fma else a * b + c * k

    def _lerp(self, a: np.ndarray, b: np.ndarray, w: Any) -> np.ndarray:
        """torch's `lerp(a, b, w)` with its two branches (w is a float or array)."""
        d = b - a
        if np.ndim(w) == 0:
            return self._fma(w, d, a) if abs(w) < 0.5 else self._fma(-d, 1 - w, b)
        return np.where(np.abs(w) < 0.5, self._fma(w, d, a), self._fma(-d, 1 - w, b))

    def _add(self, a: np.ndarray, b: np.ndarray, alpha: Any) -> np.ndarray:
        """torch's `a.add(b, alpha=alpha)`: `fma(alpha, b, a)`."""
        return self._fma(alpha, b, a)

    def _addcmul(self, a, b, c, value: Any) -> np.ndarray:
        """torch's `a.addcmul(b, c, value=value)`: `fma(value*b, c, a)`."""
        if self.emulate_fma:
            return addcmul(a, None, value, b, c)
        return value * b * c + a

    def _scaled_addcmul(self, a, k, b, c, value: Any) -> np.ndarray:
        """torch's `a.mul(k).addcmul(b, c, value=value)`."""
        if self.emulate_fma:
            return addcmul(a, k, value, b, c)
        return value * b * c + a * k

    def __init__(self, lr: Any, weight_decay: Any, maximize: bool):
        super().__init__(lr)
        self.weight_decay = self.check("weight_decay", weight_decay, minimum=0.0)
        self.maximize = bool(maximize)

    @property
    def lr(self) -> Any:
        """torch's name for the learning rate."""
        return self._learning_rate

    def _grad(self, g: np.ndarray, w: np.ndarray, ctx) -> np.ndarray:
        """`-g` if maximize, then coupled L2: `g + weight_decay*w` (torch skips 0)."""
        if self.maximize:
            g = -g
        if _nonzero(self.weight_decay):
            g = self._add(g, w, ctx.hp["weight_decay"])
        return g


def _nonzero(value: Any) -> bool:
    return isinstance(value, np.ndarray) or value != 0


class _TorchBetas(_Torch):
    """torch optimizers with `betas=(beta1, beta2)` and `eps`."""

    def __init__(self, lr, betas, eps, weight_decay, maximize):
        super().__init__(lr, weight_decay, maximize)
        self.beta1, self.beta2 = self.check_betas(betas)
        self.eps = self.check("eps", eps, minimum=0.0)

    @property
    def betas(self) -> tuple[Any, Any]:
        """`(beta1, beta2)`."""
        return (self.beta1, self.beta2)


class TorchSGD(_Torch):
    """`torch.optim.SGD`: momentum with the learning rate outside the buffer.

    ```
    g <- g + weight_decay*w
    b <- g                                   (first step: undamped copy)
    b <- momentum*b + (1 - dampening)*g      (later steps)
    d <- g + momentum*b  (nesterov)  |  b
    w <- w - lr*d
    ```

    Keras keeps `lr` inside its velocity (`m <- mu*m - lr*g`): equal for a
    constant lr and no dampening. Internals: `velocity` (`-lr*b`), `step_size` (lr).
    """

    public_name = "SGD"
    mirrors = "SGD"
    keras_names = {
        "lr": "learning_rate",
        "momentum": "momentum",
        "nesterov": "nesterov",
    }
    formula = {
        "learning rate": "outside the buffer: w -= lr*(mu*b + (1-dampening)*g)",
        "first step": "buffer starts as g (no dampening on step 1)",
        "nesterov": "w -= lr*(g + mu*b_new)",
        "weight decay": "L2, added to the gradient",
    }
    _hyperparameters = ("momentum", "dampening", "weight_decay")
    _defaults = {
        "lr": 1e-3,
        "momentum": 0.0,
        "dampening": 0.0,
        "weight_decay": 0.0,
        "nesterov": False,
        "maximize": False,
    }

    def __init__(
        self,
        lr: Any = 1e-3,
        momentum: Any = 0.0,
        dampening: Any = 0.0,
        weight_decay: Any = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ):
        super().__init__(lr, weight_decay, maximize)
        self.momentum = self.check("momentum", momentum, minimum=0.0)
        self.dampening = self.check("dampening", dampening)
        self.nesterov = bool(nesterov)
        if self.nesterov and (
            not np.all(np.asarray(self.momentum) > 0) or _nonzero(self.dampening)
        ):
            raise self.invalid(
                "nesterov",
                nesterov,
                "False unless momentum > 0 and dampening = 0 (torch's rule)",
            )

    def _init_slots(self, w, ctx):
        del ctx
        return {"momentum_buffer": np.zeros_like(w)} if _nonzero(self.momentum) else {}

    def _update(self, g, w, slots, ctx):
        g = self._grad(g, w, ctx)
        lr = ctx.lr
        info: dict[str, Any] = {}
        if not _nonzero(self.momentum):
            if ctx.internals:
                info["step_size"] = np.broadcast_to(lr, w.shape)
            return self._add(w, g, -lr), slots, info
        mu = ctx.hp["momentum"]
        if ctx.iterations == 0:
            buf = g.copy()
        else:
            buf = self._fma_scaled(
                g, 1 - ctx.hp["dampening"], slots["momentum_buffer"], mu
            )
        if isinstance(self.momentum, np.ndarray):
            # torch has no buffer where momentum == 0: the direction is g itself.
            buf = np.where(mu != 0, buf, g)
        d = self._add(g, buf, mu) if self.nesterov else buf
        if ctx.internals:
            info["velocity"] = (-lr) * buf
            info["step_size"] = np.broadcast_to(lr, w.shape)
        return self._add(w, d, -lr), {"momentum_buffer": buf}, info


class TorchAdam(_TorchBetas):
    """`torch.optim.Adam` (Kingma & Ba's Algorithm 1; eps on the corrected sqrt(v)).

    ```
    g <- g + weight_decay*w              (coupled L2)   |  decoupled_weight_decay:
                                          w <- w*(1 - lr*weight_decay)
    m <- lerp(m, g, 1 - b1);   v <- v*b2 + (1 - b2)*g*g
    amsgrad: vmax <- max(vmax, v), used below instead of v
    denom = sqrt(v)/sqrt(1 - b2**t) + eps
    w <- w - (lr/(1 - b1**t))*m/denom
    ```

    Internals: `first_moment`, `second_moment`, `max_second_moment` (amsgrad),
    `step_size` (`(lr/(1 - b1**t))/denom`, multiplies m).
    """

    public_name = "Adam"
    mirrors = "Adam"
    _decoupled_default = False
    keras_names = {
        "lr": "learning_rate",
        "betas": "beta_1, beta_2",
        "eps": "epsilon",
        "amsgrad": "amsgrad",
    }
    formula = {
        "epsilon": "outside sqrt of the bias-corrected v (textbook), 1e-8",
        "bias correction": "m and v both corrected",
        "weight decay": "L2, added to g (decoupled_weight_decay=True: as AdamW)",
    }
    _hyperparameters = ("beta1", "beta2", "eps", "weight_decay")
    _defaults = {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
        "maximize": False,
        "decoupled_weight_decay": False,
    }

    def __init__(
        self,
        lr: Any = 1e-3,
        betas: Any = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        super().__init__(lr, betas, eps, weight_decay, maximize)
        self.amsgrad = bool(amsgrad)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _init_slots(self, w, ctx):
        del ctx
        slots = {"exp_avg": np.zeros_like(w), "exp_avg_sq": np.zeros_like(w)}
        if self.amsgrad:
            slots["max_exp_avg_sq"] = np.zeros_like(w)
        return slots

    def _decay(self, g, w, ctx):
        """torch's weight decay: coupled (into g) or decoupled (`w *= 1 - lr*wd`)."""
        if self.maximize:
            g = -g
        if _nonzero(self.weight_decay):
            if self.decoupled_weight_decay:
                w = w * (1 - ctx.lr * ctx.hp["weight_decay"])
            else:
                g = self._add(g, w, ctx.hp["weight_decay"])
        return g, w

    def _update(self, g, w, slots, ctx):
        g, w = self._decay(g, w, ctx)
        b1, b2 = ctx.hp["beta1"], ctx.hp["beta2"]
        m = self._lerp(slots["exp_avg"], g, 1 - b1)
        v = self._scaled_addcmul(slots["exp_avg_sq"], b2, g, g, 1 - b2)
        new = {"exp_avg": m, "exp_avg_sq": v}
        bc1 = 1 - ctx.pow(b1)
        bc2_sqrt = keras_pow(1 - ctx.pow(b2), 0.5, ctx.dtype)  # Python `** 0.5`
        step_size = ctx.lr / bc1
        v_used = v
        if self.amsgrad:
            v_used = np.maximum(slots["max_exp_avg_sq"], v)
            new["max_exp_avg_sq"] = v_used
        denom = np.sqrt(v_used) / bc2_sqrt + ctx.hp["eps"]
        w_new = w + (-step_size) * m / denom
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = v
            if self.amsgrad:
                info["max_second_moment"] = v_used
            info["step_size"] = step_size / denom
        return w_new, new, info


class TorchAdamW(TorchAdam):
    """`torch.optim.AdamW`: Adam with `w <- w*(1 - lr*weight_decay)` first.

    Keras's AdamW subtracts `w*wd*lr` before its step too (same maths); defaults
    differ: weight_decay 1e-2 (Keras 0.004), eps 1e-8 (Keras 1e-7).
    """

    public_name = "AdamW"
    mirrors = "AdamW"
    keras_names = {**TorchAdam.keras_names, "weight_decay": "weight_decay"}
    formula = {
        **TorchAdam.formula,
        "weight decay": "decoupled: w *= 1 - lr*wd before the moments; default 1e-2",
    }
    _defaults = {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 1e-2,
        "amsgrad": False,
        "maximize": False,
    }

    def __init__(
        self,
        lr: Any = 1e-3,
        betas: Any = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ):
        super().__init__(
            lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True
        )


class TorchNAdam(TorchAdam):
    """`torch.optim.NAdam` (Dozat 2016 with torch's momentum schedule).

    ```
    mu_t = b1*(1 - 0.5*0.96**(t*momentum_decay))       (and mu_{t+1})
    prod <- prod*mu_t                                  (per parameter, starts at 1)
    m <- lerp(m, g, 1 - b1);  v <- v*b2 + (1 - b2)*g*g
    denom = sqrt(v/(1 - b2**t)) + eps
    w <- w + (-lr*(1 - mu_t)/(1 - prod))*g/denom
    w <- w + ((-lr*mu_{t+1})/(1 - prod*mu_{t+1}))*m/denom
    ```

    Keras uses `0.96**t` (momentum_decay 1 in torch's terms): torch's schedule
    leaves mu near b1/2 for thousands of steps.
    """

    public_name = "NAdam"
    mirrors = "Nadam"
    keras_names = {"lr": "learning_rate", "betas": "beta_1, beta_2", "eps": "epsilon"}
    formula = {
        "epsilon": "outside sqrt(v_hat), 1e-8",
        "momentum schedule": "mu_t = b1*(1 - 0.5*0.96**(0.004*t)) (Keras: 0.96**t)",
        "bias correction": "running product of mu_t for m, 1 - b2**t for v",
    }
    _hyperparameters = ("beta1", "beta2", "eps", "weight_decay", "momentum_decay")
    _defaults = {
        "lr": 2e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum_decay": 4e-3,
        "decoupled_weight_decay": False,
        "maximize": False,
    }

    def __init__(
        self,
        lr: Any = 2e-3,
        betas: Any = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 0.0,
        momentum_decay: Any = 4e-3,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ):
        super().__init__(
            lr, betas, eps, weight_decay, False, maximize, decoupled_weight_decay
        )
        self.momentum_decay = self.check("momentum_decay", momentum_decay, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {
            "exp_avg": np.zeros_like(w),
            "exp_avg_sq": np.zeros_like(w),
            "mu_product": np.ones_like(w),
        }

    def _update(self, g, w, slots, ctx):
        g, w = self._decay(g, w, ctx)
        b1, b2, md = ctx.hp["beta1"], ctx.hp["beta2"], ctx.hp["momentum_decay"]
        t = ctx.t
        bc2 = 1 - ctx.pow(b2)
        mu = b1 * (1.0 - 0.5 * ctx.pow(0.96, t * md))
        mu_next = b1 * (1.0 - 0.5 * ctx.pow(0.96, (t + 1) * md))
        prod = slots["mu_product"] * mu
        m = self._lerp(slots["exp_avg"], g, 1 - b1)
        v = self._scaled_addcmul(slots["exp_avg_sq"], b2, g, g, 1 - b2)
        denom = np.sqrt(v / bc2) + ctx.hp["eps"]
        prod_next = prod * mu_next
        lr = ctx.lr
        c_g = -lr * (1.0 - mu) / (1.0 - prod)
        c_m = (-lr * mu_next) / (1.0 - prod_next)
        w_new = w + c_g * g / denom
        w_new = w_new + c_m * m / denom
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = v
            info["step_size"] = -c_m / denom
        return w_new, {"exp_avg": m, "exp_avg_sq": v, "mu_product": prod}, info


class TorchRAdam(TorchAdam):
    """`torch.optim.RAdam` (Liu et al. 2020): Adam with a variance rectification.

    ```
    m <- lerp(m, g, 1 - b1);  v <- v*b2 + (1 - b2)*g*g
    rho_inf = 2/(1 - b2) - 1;  rho_t = rho_inf - 2*t*b2**t/(1 - b2**t)
    rho_t > 5:  w <- w - (m/(1 - b1**t))*lr*(sqrt(1 - b2**t)/(sqrt(v) + eps))*r_t
    r_t = sqrt((rho_t - 4)*(rho_t - 2)*rho_inf/((rho_inf - 4)*(rho_inf - 2)*rho_t))
    otherwise:  w <- w - (m/(1 - b1**t))*lr              (SGD with momentum)
    ```

    Keras has no RAdam; it mirrors Adam. The first steps (t <= 5 for b2 = 0.999)
    are un-normalised momentum steps: their size is lr*|g|, not lr.
    """

    public_name = "RAdam"
    mirrors = "Adam"
    keras_names = {"lr": "learning_rate", "betas": "beta_1, beta_2", "eps": "epsilon"}
    formula = {
        "epsilon": "outside the uncorrected sqrt(v), times sqrt(1 - b2**t)",
        "first steps": "plain momentum steps lr*m_hat while rho_t <= 5",
        "bias correction": "m and v, plus the rectification r_t",
    }
    _defaults = {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "decoupled_weight_decay": False,
        "maximize": False,
    }

    def __init__(
        self,
        lr: Any = 1e-3,
        betas: Any = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 0.0,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ):
        super().__init__(
            lr, betas, eps, weight_decay, False, maximize, decoupled_weight_decay
        )

    def _update(self, g, w, slots, ctx):
        g, w = self._decay(g, w, ctx)
        b1, b2, t = ctx.hp["beta1"], ctx.hp["beta2"], ctx.t
        m = self._lerp(slots["exp_avg"], g, 1 - b1)
        v = self._scaled_addcmul(slots["exp_avg_sq"], b2, g, g, 1 - b2)
        b2_t = ctx.pow(b2)
        bc1 = 1 - ctx.pow(b1)
        bc2 = 1 - b2_t
        m_hat = m / bc1
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2_t / bc2
        use = rho_t > 5.0
        # `** 0.5` of a negative number raises in Python: torch only takes it where
        # rho_t > 5, so the other elements get a harmless 1.
        arg = (
            (rho_t - 4)
            * (rho_t - 2)
            * rho_inf
            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        rect = keras_pow(np.where(use, arg, 1.0), 0.5, ctx.dtype)
        # `python_float / tensor` is `tensor.reciprocal() * python_float` in torch.
        adaptive = (1 / (np.sqrt(v) + ctx.hp["eps"])) * keras_pow(bc2, 0.5, ctx.dtype)
        rectified = m_hat * ctx.lr * adaptive * rect
        plain = m_hat * ctx.lr
        w_new = w + (-1.0) * np.where(use, rectified, plain)
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = v
            scale = np.where(use, adaptive * rect, 1.0)
            info["step_size"] = np.broadcast_to(ctx.lr * scale / bc1, w.shape)
        return w_new, {"exp_avg": m, "exp_avg_sq": v}, info


class TorchRMSprop(_Torch):
    """`torch.optim.RMSprop`: eps outside the sqrt, alpha = 0.99, lr outside the buffer.

    ```
    v <- v*alpha + (1 - alpha)*g*g
    centered: gbar <- lerp(gbar, g, 1 - alpha);  avg = sqrt(v - gbar*gbar) + eps
    otherwise: avg = sqrt(v) + eps
    momentum > 0: b <- b*momentum + g/avg;  w <- w - lr*b
    otherwise:    w <- w - lr*g/avg
    ```

    Keras: `rho` = 0.9 and eps = 1e-7 *inside* the sqrt, its momentum buffer holds
    lr. Internals: `second_moment`, `first_moment` (centered), `velocity`
    (`-lr*b`), `step_size` (`lr/avg`).
    """

    public_name = "RMSprop"
    mirrors = "RMSprop"
    keras_names = {
        "lr": "learning_rate",
        "alpha": "rho",
        "eps": "epsilon",
        "momentum": "momentum",
        "centered": "centered",
    }
    formula = {
        "epsilon": "outside the sqrt: sqrt(v) + eps, 1e-8",
        "decay": "alpha = 0.99 (Keras rho = 0.9)",
        "learning rate": "outside the momentum buffer",
        "weight decay": "L2, added to the gradient",
    }
    _hyperparameters = ("alpha", "eps", "weight_decay", "momentum")
    _defaults = {
        "lr": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum": 0.0,
        "centered": False,
        "maximize": False,
    }

    def __init__(
        self,
        lr: Any = 1e-2,
        alpha: Any = 0.99,
        eps: Any = 1e-8,
        weight_decay: Any = 0.0,
        momentum: Any = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ):
        super().__init__(lr, weight_decay, maximize)
        self.alpha = self.check("alpha", alpha, minimum=0.0)
        self.eps = self.check("eps", eps, minimum=0.0)
        self.momentum = self.check("momentum", momentum, minimum=0.0)
        self.centered = bool(centered)

    def _has_momentum(self) -> bool:
        return isinstance(self.momentum, np.ndarray) or self.momentum > 0

    def _init_slots(self, w, ctx):
        del ctx
        slots = {"square_avg": np.zeros_like(w)}
        if self._has_momentum():
            slots["momentum_buffer"] = np.zeros_like(w)
        if self.centered:
            slots["grad_avg"] = np.zeros_like(w)
        return slots

    def _update(self, g, w, slots, ctx):
        g = self._grad(g, w, ctx)
        alpha = ctx.hp["alpha"]
        v = self._scaled_addcmul(slots["square_avg"], alpha, g, g, 1 - alpha)
        new = {"square_avg": v}
        info: dict[str, Any] = {}
        if self.centered:
            gbar = self._lerp(slots["grad_avg"], g, 1 - alpha)
            new["grad_avg"] = gbar
            avg = np.sqrt(self._addcmul(v, gbar, gbar, -1.0)) + ctx.hp["eps"]
            info["first_moment"] = gbar
        else:
            avg = np.sqrt(v) + ctx.hp["eps"]
        lr = ctx.lr
        if self._has_momentum():
            buf = slots["momentum_buffer"] * ctx.hp["momentum"] + g / avg
            new["momentum_buffer"] = buf
            w_new = self._add(w, buf, -lr)
            info["velocity"] = (-lr) * buf
        else:
            w_new = w + (-lr) * g / avg
        if not ctx.internals:
            return w_new, new, {}
        info["second_moment"] = v
        info["step_size"] = lr / avg
        return w_new, new, info


class TorchAdagrad(_Torch):
    """`torch.optim.Adagrad`: accumulator from 0, eps = 1e-10 outside the sqrt.

    ```
    clr = lr/(1 + (t - 1)*lr_decay)
    A <- A + g*g                       (A starts at initial_accumulator_value = 0)
    w <- w - clr*g/(sqrt(A) + eps)
    ```

    Keras starts `A` at 0.1 and puts eps = 1e-7 inside the sqrt, so its first
    step is lr*g/sqrt(0.1 + g*g) where torch's is lr*sign(g).
    """

    public_name = "Adagrad"
    mirrors = "Adagrad"
    keras_names = {
        "lr": "learning_rate",
        "initial_accumulator_value": "initial_accumulator_value",
        "eps": "epsilon",
    }
    formula = {
        "epsilon": "outside the sqrt: sqrt(A) + eps, 1e-10",
        "accumulator start": "0 (Keras 0.1)",
        "learning rate": "lr/(1 + (t-1)*lr_decay)",
    }
    _hyperparameters = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    _defaults = {
        "lr": 1e-2,
        "lr_decay": 0.0,
        "weight_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "eps": 1e-10,
        "maximize": False,
    }

    def __init__(
        self,
        lr: Any = 1e-2,
        lr_decay: Any = 0.0,
        weight_decay: Any = 0.0,
        initial_accumulator_value: Any = 0.0,
        eps: Any = 1e-10,
        maximize: bool = False,
    ):
        super().__init__(lr, weight_decay, maximize)
        self.lr_decay = self.check("lr_decay", lr_decay, minimum=0.0)
        self.initial_accumulator_value = self.check(
            "initial_accumulator_value", initial_accumulator_value, minimum=0.0
        )
        self.eps = self.check("eps", eps, minimum=0.0)

    def _init_slots(self, w, ctx):
        return {
            "sum": np.broadcast_to(
                ctx.cast(ctx.hp["initial_accumulator_value"]), w.shape
            ).copy()
        }

    def _update(self, g, w, slots, ctx):
        g = self._grad(g, w, ctx)
        clr = ctx.lr / (1 + (ctx.t - 1) * ctx.hp["lr_decay"])
        acc = self._addcmul(slots["sum"], g, g, 1.0)
        std = np.sqrt(acc) + ctx.hp["eps"]
        w_new = w + (-clr) * g / std
        info: dict[str, Any] = {}
        if ctx.internals:
            info["second_moment"] = acc
            info["step_size"] = clr / std
        return w_new, {"sum": acc}, info


class TorchAdamax(_TorchBetas):
    """`torch.optim.Adamax`: eps inside the max.

    ```
    m <- lerp(m, g, 1 - b1);   u <- max(u*b2, |g| + eps)
    w <- w - (lr/(1 - b1**t))*m/u
    ```

    Keras: `u <- max(b2*u, |g|)` and eps added to u in the denominator.
    """

    public_name = "Adamax"
    mirrors = "Adamax"
    keras_names = {"lr": "learning_rate", "betas": "beta_1, beta_2", "eps": "epsilon"}
    formula = {
        "epsilon": "inside the max: max(b2*u, |g| + eps), 1e-8",
        "bias correction": "m only",
    }
    _hyperparameters = ("beta1", "beta2", "eps", "weight_decay")
    _defaults = {
        "lr": 2e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "maximize": False,
    }

    def __init__(
        self,
        lr: Any = 2e-3,
        betas: Any = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 0.0,
        maximize: bool = False,
    ):
        super().__init__(lr, betas, eps, weight_decay, maximize)

    def _init_slots(self, w, ctx):
        del ctx
        return {"exp_avg": np.zeros_like(w), "exp_inf": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        g = self._grad(g, w, ctx)
        m = self._lerp(slots["exp_avg"], g, 1 - ctx.hp["beta1"])
        u = np.maximum(slots["exp_inf"] * ctx.hp["beta2"], np.abs(g) + ctx.hp["eps"])
        clr = ctx.lr / (1 - ctx.pow(ctx.hp["beta1"]))
        w_new = w + (-clr) * m / u
        info: dict[str, Any] = {}
        if ctx.internals:
            info["first_moment"] = m
            info["second_moment"] = u
            info["step_size"] = clr / u
        return w_new, {"exp_avg": m, "exp_inf": u}, info


class TorchAdadelta(_Torch):
    """`torch.optim.Adadelta`: Zeiler's rule with lr = 1.0, rho = 0.9, eps = 1e-6.

    ```
    v <- v*rho + (1 - rho)*g*g
    d = (sqrt(D + eps)/sqrt(v + eps))*g
    D <- D*rho + (1 - rho)*d*d
    w <- w - lr*d
    ```

    Keras's structure is the same with lr 1e-3, rho 0.95, eps 1e-7.
    """

    public_name = "Adadelta"
    mirrors = "Adadelta"
    keras_names = {"lr": "learning_rate", "rho": "rho", "eps": "epsilon"}
    formula = {
        "epsilon": "inside both sqrts, 1e-6",
        "defaults": "lr 1.0, rho 0.9 (Keras lr 1e-3, rho 0.95)",
    }
    _hyperparameters = ("rho", "eps", "weight_decay")
    _defaults = {
        "lr": 1.0,
        "rho": 0.9,
        "eps": 1e-6,
        "weight_decay": 0.0,
        "maximize": False,
    }

    def __init__(
        self,
        lr: Any = 1.0,
        rho: Any = 0.9,
        eps: Any = 1e-6,
        weight_decay: Any = 0.0,
        maximize: bool = False,
    ):
        super().__init__(lr, weight_decay, maximize)
        self.rho = self.check("rho", rho, minimum=0.0, maximum=1.0)
        self.eps = self.check("eps", eps, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"square_avg": np.zeros_like(w), "acc_delta": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        g = self._grad(g, w, ctx)
        rho, eps = ctx.hp["rho"], ctx.hp["eps"]
        v = self._scaled_addcmul(slots["square_avg"], rho, g, g, 1 - rho)
        std = np.sqrt(v + eps)
        delta = np.sqrt(slots["acc_delta"] + eps) / std * g
        acc = self._scaled_addcmul(slots["acc_delta"], rho, delta, delta, 1 - rho)
        w_new = self._add(w, delta, -ctx.lr)
        info: dict[str, Any] = {}
        if ctx.internals:
            info["second_moment"] = v
            info["step_size"] = ctx.lr * np.sqrt(slots["acc_delta"] + eps) / std
        return w_new, {"square_avg": v, "acc_delta": acc}, info


TORCH_OPTIMIZERS: tuple[type[FlavourOptimizer], ...] = (
    TorchSGD,
    TorchAdam,
    TorchAdamW,
    TorchNAdam,
    TorchRAdam,
    TorchRMSprop,
    TorchAdagrad,
    TorchAdamax,
    TorchAdadelta,
)
