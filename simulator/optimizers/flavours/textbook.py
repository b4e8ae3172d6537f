"""The algorithms as their papers state them, with Keras-style argument names.

Where a paper fixes no value (Adagrad's eta and delta, AdamW's lambda, Lion's
rates) the default is Keras's, so that only the formula differs; each docstring
says which. Keras names, one learning-rate argument, no Keras pipeline.
"""

from __future__ import annotations

import numpy as np

from simulator.optimizers.batching import expand
from simulator.optimizers.flavours.common import Flavour, FlavourOptimizer
from simulator.optimizers.validation import check_bool

__all__ = [
    "TEXTBOOK",
    "TEXTBOOK_OPTIMIZERS",
    "TextbookAdagrad",
    "TextbookAdam",
    "TextbookAdamW",
    "TextbookLion",
    "TextbookNadam",
    "TextbookRMSprop",
    "TextbookSGD",
]

TEXTBOOK = Flavour("textbook", "textbook", "the papers' equations")


class _Textbook(FlavourOptimizer):
    flavour = TEXTBOOK


class TextbookAdam(_Textbook):
    """Adam, Kingma & Ba (ICLR 2015), Algorithm 1.

    ```
    m_t = b1*m + (1 - b1)*g;          v_t = b2*v + (1 - b2)*g**2
    m_hat = m_t/(1 - b1**t);          v_hat = v_t/(1 - b2**t)
    theta <- theta - alpha*m_hat/(sqrt(v_hat) + eps)
    ```

    Paper defaults alpha = 0.001, b1 = 0.9, b2 = 0.999, eps = 1e-8 (Section 2).
    Keras instead uses the "epsilon hat" form after Section 2.1 (eps on the
    uncorrected sqrt(v)) with eps = 1e-7; the first textbook step is
    `alpha*g/(|g| + eps)`, Keras's `alpha*g/(|g| + eps/sqrt(1 - b2))`.
    """

    public_name = "Adam"
    mirrors = "Adam"
    keras_names = {
        "learning_rate": "learning_rate",
        "beta_1": "beta_1",
        "beta_2": "beta_2",
        "epsilon": "epsilon",
    }
    formula = {
        "epsilon": "outside sqrt of the bias-corrected v_hat, 1e-8",
        "bias correction": "m_hat and v_hat (Algorithm 1)",
    }
    _hyperparameters = ("beta_1", "beta_2", "epsilon")
    _defaults = {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-8,
    }

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(learning_rate)
        self.beta_1 = self.check("beta_1", beta_1, minimum=0.0, below=1.0)
        self.beta_2 = self.check("beta_2", beta_2, minimum=0.0, below=1.0)
        self.epsilon = self.check("epsilon", epsilon, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"m": np.zeros_like(w), "v": np.zeros_like(w)}

    def _direction(self, g, slots, ctx):
        b1, b2 = ctx.hp["beta_1"], ctx.hp["beta_2"]
        m = b1 * slots["m"] + (1 - b1) * g
        v = b2 * slots["v"] + (1 - b2) * g**2
        m_hat = m / (1 - ctx.pow(b1))
        v_hat = v / (1 - ctx.pow(b2))
        denom = np.sqrt(v_hat) + ctx.hp["epsilon"]
        info = {}
        if ctx.internals:
            info = {"first_moment": m, "second_moment": v, "step_size": ctx.lr / denom}
        return m_hat / denom, {"m": m, "v": v}, info

    def _update(self, g, w, slots, ctx):
        d, new, info = self._direction(g, slots, ctx)
        return w - ctx.lr * d, new, info


class TextbookAdamW(TextbookAdam):
    """AdamW, Loshchilov & Hutter (ICLR 2019), Algorithm 2 (with eta_t = 1).

    ```
    (m_hat, v_hat as Adam)
    theta <- theta - eta_t*(alpha*m_hat/(sqrt(v_hat) + eps) + lambda*theta)
    ```

    The decay `lambda*theta` is scaled by the schedule multiplier eta_t only, not
    by alpha; Keras subtracts `theta*wd*lr` (times the learning rate). The paper
    fixes no lambda: the default is Keras's 0.004.
    """

    public_name = "AdamW"
    mirrors = "AdamW"
    keras_names = {**TextbookAdam.keras_names, "weight_decay": "weight_decay"}
    formula = {
        **TextbookAdam.formula,
        "weight decay": "lambda*theta per step, not multiplied by alpha",
    }
    _hyperparameters = ("beta_1", "beta_2", "epsilon", "weight_decay")
    _defaults = {**TextbookAdam._defaults, "weight_decay": 0.004}

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.004,
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon)
        self.weight_decay = self.check("weight_decay", weight_decay, minimum=0.0)

    def _update(self, g, w, slots, ctx):
        d, new, info = self._direction(g, slots, ctx)
        return w - (ctx.lr * d + ctx.hp["weight_decay"] * w), new, info


class TextbookAdagrad(_Textbook):
    """Adagrad, Duchi, Hazan & Singer (JMLR 2011), the diagonal algorithm (Figure 1,
    "AdaGrad with diagonal matrices": `H_t = delta*I + diag(s_t)`, s_t = sqrt(G_t)).

    ```
    G <- G + g**2                           (G starts at 0)
    x <- x - eta*g/(delta + sqrt(G))
    ```

    The first step is `eta*g/(delta + |g|)`, about `eta*sign(g)`; Keras starts G
    at 0.1 and puts eps inside the sqrt. The paper fixes neither eta nor delta:
    defaults `learning_rate = 0.001` (Keras's) and `epsilon = 1e-8`.
    """

    public_name = "Adagrad"
    mirrors = "Adagrad"
    keras_names = {"learning_rate": "learning_rate", "epsilon": "epsilon"}
    formula = {
        "epsilon": "delta outside the sqrt, 1e-8",
        "accumulator start": "0",
    }
    _hyperparameters = ("epsilon",)
    _defaults = {"learning_rate": 0.001, "epsilon": 1e-8}

    def __init__(self, learning_rate=0.001, epsilon=1e-8):
        super().__init__(learning_rate)
        self.epsilon = self.check("epsilon", epsilon, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"G": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        G = slots["G"] + g**2
        step = ctx.lr / (ctx.hp["epsilon"] + np.sqrt(G))
        info = {"second_moment": G, "step_size": step} if ctx.internals else {}
        return w - step * g, {"G": G}, info


class TextbookRMSprop(_Textbook):
    """RMSprop, Tieleman & Hinton, Coursera "Neural Networks for Machine Learning",
    lecture 6e (2012): "divide the learning rate by a running average of the
    magnitudes of recent gradients".

    ```
    MeanSquare <- 0.9*MeanSquare + 0.1*g**2     (rho = 0.9)
    w <- w - lr*g/sqrt(MeanSquare)
    ```

    The lecture has no epsilon: `epsilon` defaults to 0 (added inside the sqrt
    if given), and a coordinate whose gradient has always been 0 does not move.
    Keras adds 1e-7 inside the sqrt, which slows it where gradients are tiny
    (|g| = 1e-4: Keras steps 0.32*lr, the lecture 3.16*lr).
    """

    public_name = "RMSprop"
    mirrors = "RMSprop"
    keras_names = {"learning_rate": "learning_rate", "rho": "rho", "epsilon": "epsilon"}
    formula = {"epsilon": "none (0); the lecture divides by sqrt(MeanSquare)"}
    _hyperparameters = ("rho", "epsilon")
    _defaults = {"learning_rate": 0.001, "rho": 0.9, "epsilon": 0.0}

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=0.0):
        super().__init__(learning_rate)
        self.rho = self.check("rho", rho, minimum=0.0, maximum=1.0)
        self.epsilon = self.check("epsilon", epsilon, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"mean_square": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        rho = ctx.hp["rho"]
        ms = rho * slots["mean_square"] + (1 - rho) * g**2
        root = np.sqrt(ms + ctx.hp["epsilon"])
        with np.errstate(divide="ignore"):
            step = np.where(root > 0, ctx.lr / np.where(root > 0, root, 1), 0.0)
        info = {"second_moment": ms, "step_size": step} if ctx.internals else {}
        return w - step * g, {"mean_square": ms}, info


class TextbookNadam(_Textbook):
    """Nadam, Dozat (ICLR workshop 2016), Algorithm 2, with the warming momentum
    schedule `mu_t = b1*(1 - 0.5*0.96**(t*psi))`, psi = 0.004 (= 1/250):

    ```
    g_hat = g/(1 - prod_{i<=t} mu_i)
    m = b1*m + (1 - b1)*g;          m_hat = m/(1 - prod_{i<=t+1} mu_i)
    v = b2*v + (1 - b2)*g**2;       v_hat = v/(1 - b2**t)
    m_bar = (1 - mu_t)*g_hat + mu_{t+1}*m_hat
    theta <- theta - lr*m_bar/(sqrt(v_hat) + eps)
    ```

    Keras writes the schedule as `0.96**t` (psi = 1), which saturates within about
    100 steps; with psi = 0.004, mu_t stays near b1/2 for thousands of steps
    (torch's `NAdam` is this algorithm). Defaults learning_rate 0.001, b1 0.9,
    b2 0.999, eps 1e-8, psi 0.004 (`momentum_decay`).
    """

    public_name = "Nadam"
    mirrors = "Nadam"
    keras_names = {
        "learning_rate": "learning_rate",
        "beta_1": "beta_1",
        "beta_2": "beta_2",
        "epsilon": "epsilon",
    }
    formula = {
        "epsilon": "outside sqrt(v_hat), 1e-8",
        "momentum schedule": "mu_t = b1*(1 - 0.5*0.96**(0.004*t)) (Dozat)",
        "bias correction": "running product of mu_t for m and g, 1 - b2**t for v",
    }
    _hyperparameters = ("beta_1", "beta_2", "epsilon", "momentum_decay")
    _defaults = {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-8,
        "momentum_decay": 0.004,
    }

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        momentum_decay=0.004,
    ):
        super().__init__(learning_rate)
        self.beta_1 = self.check("beta_1", beta_1, minimum=0.0, below=1.0)
        self.beta_2 = self.check("beta_2", beta_2, minimum=0.0, below=1.0)
        self.epsilon = self.check("epsilon", epsilon, minimum=0.0)
        self.momentum_decay = self.check("momentum_decay", momentum_decay, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {
            "m": np.zeros_like(w),
            "v": np.zeros_like(w),
            "mu_product": np.ones_like(w),
        }

    def _update(self, g, w, slots, ctx):
        b1, b2, psi = ctx.hp["beta_1"], ctx.hp["beta_2"], ctx.hp["momentum_decay"]
        mu_t = b1 * (1 - 0.5 * ctx.pow(0.96, ctx.t * psi))
        mu_next = b1 * (1 - 0.5 * ctx.pow(0.96, (ctx.t + 1) * psi))
        prod = slots["mu_product"] * mu_t
        g_hat = g / (1 - prod)
        m = b1 * slots["m"] + (1 - b1) * g
        m_hat = m / (1 - prod * mu_next)
        v = b2 * slots["v"] + (1 - b2) * g**2
        v_hat = v / (1 - ctx.pow(b2))
        m_bar = (1 - mu_t) * g_hat + mu_next * m_hat
        denom = np.sqrt(v_hat) + ctx.hp["epsilon"]
        info = {}
        if ctx.internals:
            info = {"first_moment": m, "second_moment": v, "step_size": ctx.lr / denom}
        new = {"m": m, "v": v, "mu_product": prod}
        return w - ctx.lr * m_bar / denom, new, info


class TextbookLion(_Textbook):
    """Lion, Chen et al. (NeurIPS 2023), Algorithm 2.

    ```
    c = b1*m + (1 - b1)*g
    theta <- theta - eta*(sign(c) + lambda*theta)
    m <- b2*m + (1 - b2)*g
    ```

    Keras applies `theta*wd*lr` first and then `lr*sign(c)`: the same algebra, so
    this flavour differs from Keras only by rounding. Defaults b1 = 0.9, b2 = 0.99
    (the paper's); eta and lambda as Keras (0.001, none).
    """

    public_name = "Lion"
    mirrors = "Lion"
    keras_names = {
        "learning_rate": "learning_rate",
        "beta_1": "beta_1",
        "beta_2": "beta_2",
        "weight_decay": "weight_decay",
    }
    formula = {"weight decay": "inside the lr scaling: eta*(sign(c) + lambda*theta)"}
    _hyperparameters = ("beta_1", "beta_2", "weight_decay")
    _defaults = {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.99,
        "weight_decay": 0.0,
    }

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=0.0):
        super().__init__(learning_rate)
        self.beta_1 = self.check("beta_1", beta_1, above=0.0, maximum=1.0)
        self.beta_2 = self.check("beta_2", beta_2, minimum=0.0, maximum=1.0)
        self.weight_decay = self.check("weight_decay", weight_decay, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"m": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        b1, b2 = ctx.hp["beta_1"], ctx.hp["beta_2"]
        c = b1 * slots["m"] + (1 - b1) * g
        u = np.sign(c)
        w_new = w - ctx.lr * (u + ctx.hp["weight_decay"] * w)
        m = b2 * slots["m"] + (1 - b2) * g
        info = {}
        if ctx.internals:
            info = {"first_moment": m, "sign_update": u}
            info["step_size"] = np.broadcast_to(ctx.lr, w.shape)
        return w_new, {"m": m}, info


class TextbookSGD(_Textbook):
    """Momentum as Sutskever, Martens, Dahl & Hinton state it ("On the importance
    of initialization and momentum in deep learning", ICML 2013, Section 2).

    ```
    classical momentum (nesterov=False), eqs. (1)-(2):
        v_{t+1} = mu*v_t - eps*grad f(theta_t)
        theta_{t+1} = theta_t + v_{t+1}
    Nesterov's accelerated gradient (nesterov=True), eqs. (3)-(4):
        v_{t+1} = mu*v_t - eps*grad f(theta_t + mu*v_t)
        theta_{t+1} = theta_t + v_{t+1}
    ```

    With `nesterov=True` the gradient is taken at the look-ahead point
    `theta + mu*v` (`gradient_point`, where `simulate` evaluates it) and the
    iterate recorded is `theta` itself. Keras stores the look-ahead `phi = theta
    + mu*v` as its variable and steps `phi <- phi + mu*v_{t+1} - eps*g` (the
    same gradients, eq. (3)), so Keras's path is this one shifted by `mu*v`:
    Keras's `nesterov_base` internal is this flavour's `theta`. The paper fixes
    neither eps nor mu: defaults as Keras (0.01, 0). Internals: `velocity`
    (`v_{t+1}`), `step_size` (eps), and with Nesterov `lookahead` (`theta_t +
    mu*v_t`, also `grad_position`).
    """

    public_name = "SGD"
    mirrors = "SGD"
    keras_names = {
        "learning_rate": "learning_rate",
        "momentum": "momentum",
        "nesterov": "nesterov",
    }
    formula = {
        "learning rate": "inside the velocity: v = mu*v - lr*g (eq. 1/3, as Keras)",
        "first step": "v starts at 0, so v = -lr*g",
        "nesterov": "g at theta + mu*v (eq. 3); theta is recorded, not theta + mu*v",
        "weight decay": "none (eqs. 1-4)",
    }
    _hyperparameters = ("momentum",)
    _defaults = {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = self.check("momentum", momentum, minimum=0.0, maximum=1.0)
        self.nesterov = check_bool("nesterov", nesterov)

    def _init_slots(self, w, ctx):
        del ctx
        return {"velocity": np.zeros_like(w)}

    def _momentum(self, dtype, var_ndim: int) -> np.ndarray:
        return expand(np.asarray(self.momentum, dtype), var_ndim)

    def gradient_point(self, params, state):
        """`theta + mu*v` per variable with Nesterov (eq. 3), else `params`."""
        if not self.nesterov:
            return params
        return [
            w + self._momentum(state.dtype, n) * s["velocity"]
            for w, s, n in zip(params, state.slots, state.var_ndims, strict=True)
        ]

    def _update(self, g, w, slots, ctx):
        mu = self._momentum(ctx.dtype, ctx.var_ndim)
        lr = ctx.lr.astype(ctx.dtype, copy=False)
        v = mu * slots["velocity"] - lr * g  # eq. (1) / (3): g at gradient_point
        info = {}
        if ctx.internals:
            info = {"velocity": v, "step_size": np.broadcast_to(lr, w.shape)}
            if self.nesterov:
                ahead = w + mu * slots["velocity"]
                info["lookahead"] = ahead
                info["grad_position"] = ahead
        return w + v, {"velocity": v}, info  # eq. (2) / (4)


TEXTBOOK_OPTIMIZERS: tuple[type[FlavourOptimizer], ...] = (
    TextbookAdam,
    TextbookAdamW,
    TextbookAdagrad,
    TextbookRMSprop,
    TextbookNadam,
    TextbookLion,
    TextbookSGD,
)
