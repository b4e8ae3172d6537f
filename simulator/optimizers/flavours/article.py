"""The formulas exactly as the article that started optiscape prints them.

`/work/shared/reference/keras3-optimizers.md` §4 quotes them. Where the article
states no value, Keras's default is used (a reader would take Keras's), so a
difference from Keras is a difference in the printed formula. The article's
SGD, momentum, Nesterov, RMSprop, Adam and Lion formulas are Keras's (these
flavours match Keras to rounding); its Adagrad starts the accumulator at 0, where
Keras starts at 0.1.
"""

from __future__ import annotations

import numpy as np

from simulator.optimizers.flavours.common import Flavour, FlavourOptimizer

__all__ = [
    "ARTICLE",
    "ARTICLE_OPTIMIZERS",
    "ArticleAdagrad",
    "ArticleAdam",
    "ArticleRMSprop",
    "ArticleSGD",
]

ARTICLE = Flavour("article", "article", "the article's printed formulas (§4)")


class _Article(FlavourOptimizer):
    flavour = ARTICLE


class ArticleSGD(_Article):
    """Article §4.1-4.3: `w = w - lr*g`; momentum `m = momentum*m - lr*g; w = w + m`;
    Nesterov `m = momentum*m - lr*g; w = w + (momentum*m - lr*g)` (updated m)."""

    public_name = "SGD"
    mirrors = "SGD"
    keras_names = {
        "learning_rate": "learning_rate",
        "momentum": "momentum",
        "nesterov": "nesterov",
    }
    formula = {"learning rate": "inside the velocity: m = momentum*m - lr*g (as Keras)"}
    _hyperparameters = ("momentum",)
    _defaults = {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = self.check("momentum", momentum, minimum=0.0, maximum=1.0)
        self.nesterov = bool(nesterov)

    def _init_slots(self, w, ctx):
        del ctx
        return {"m": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        mu, lr = ctx.hp["momentum"], ctx.lr
        m = mu * slots["m"] - lr * g
        w_new = w + (mu * m - lr * g) if self.nesterov else w + m
        info = {}
        if ctx.internals:
            info = {"velocity": m, "step_size": np.broadcast_to(lr, w.shape)}
        return w_new, {"m": m}, info


class ArticleAdagrad(_Article):
    """Article §4.4: `accumulator = accumulator + g**2;
    w = w - (lr*g)/sqrt(accumulator + e)`.

    The article gives no start value, so the accumulator starts at 0 (Keras: 0.1):
    the first step is `lr*g/sqrt(g**2 + e)`, about `lr*sign(g)`, where Keras's is
    `lr*g/sqrt(0.1 + g**2 + e)`. Defaults as Keras: lr 0.001, e 1e-7.
    """

    public_name = "Adagrad"
    mirrors = "Adagrad"
    keras_names = {"learning_rate": "learning_rate", "epsilon": "epsilon"}
    formula = {
        "epsilon": "inside the sqrt (as Keras)",
        "accumulator start": "0 (not stated; Keras 0.1)",
    }
    _hyperparameters = ("epsilon",)
    _defaults = {"learning_rate": 0.001, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, epsilon=1e-7):
        super().__init__(learning_rate)
        self.epsilon = self.check("epsilon", epsilon, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"accumulator": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        acc = slots["accumulator"] + g**2
        root = np.sqrt(acc + ctx.hp["epsilon"])
        info = {}
        if ctx.internals:
            info = {"second_moment": acc, "step_size": ctx.lr / root}
        return w - (ctx.lr * g) / root, {"accumulator": acc}, info


class ArticleRMSprop(_Article):
    """Article §4.5: `v = rho*v + (1 - rho)*g**2; w = w - lr*g/sqrt(v + e)`.

    Defaults as Keras: lr 0.001, rho 0.9, e 1e-7.
    """

    public_name = "RMSprop"
    mirrors = "RMSprop"
    keras_names = {"learning_rate": "learning_rate", "rho": "rho", "epsilon": "epsilon"}
    formula = {"epsilon": "inside the sqrt (as Keras)"}
    _hyperparameters = ("rho", "epsilon")
    _defaults = {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7}

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho = self.check("rho", rho, minimum=0.0, maximum=1.0)
        self.epsilon = self.check("epsilon", epsilon, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"v": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        rho = ctx.hp["rho"]
        v = rho * slots["v"] + (1 - rho) * g**2
        root = np.sqrt(v + ctx.hp["epsilon"])
        info = {"second_moment": v, "step_size": ctx.lr / root} if ctx.internals else {}
        return w - ctx.lr * g / root, {"v": v}, info


class ArticleAdam(_Article):
    """Article §4.7: `alpha = lr*sqrt(1 - beta_2_power)/(1 - beta_1_power);
    m = m + (1 - beta_1)*(g - m); v = v + (1 - beta_2)*(g**2 - v);
    w = w - (alpha*m)/(sqrt(v) + e)`, with `beta_power = beta**t`, t = 1 first.

    The article's form is Keras's (epsilon hat on the uncorrected sqrt(v)).
    Defaults as Keras: lr 0.001, beta_1 0.9, beta_2 0.999, e 1e-7.
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
        "epsilon": "epsilon hat on the uncorrected sqrt(v) (as Keras)",
        "bias correction": "folded into alpha (as Keras)",
    }
    _hyperparameters = ("beta_1", "beta_2", "epsilon")
    _defaults = {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
    }

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1 = self.check("beta_1", beta_1, minimum=0.0, below=1.0)
        self.beta_2 = self.check("beta_2", beta_2, minimum=0.0, below=1.0)
        self.epsilon = self.check("epsilon", epsilon, minimum=0.0)

    def _init_slots(self, w, ctx):
        del ctx
        return {"m": np.zeros_like(w), "v": np.zeros_like(w)}

    def _update(self, g, w, slots, ctx):
        b1, b2 = ctx.hp["beta_1"], ctx.hp["beta_2"]
        alpha = ctx.lr * np.sqrt(1 - ctx.pow(b2)) / (1 - ctx.pow(b1))
        m = slots["m"] + (1 - b1) * (g - slots["m"])
        v = slots["v"] + (1 - b2) * (g**2 - slots["v"])
        denom = np.sqrt(v) + ctx.hp["epsilon"]
        info = {}
        if ctx.internals:
            info = {"first_moment": m, "second_moment": v, "step_size": alpha / denom}
        return w - (alpha * m) / denom, {"m": m, "v": v}, info


ARTICLE_OPTIMIZERS: tuple[type[FlavourOptimizer], ...] = (
    ArticleSGD,
    ArticleAdagrad,
    ArticleRMSprop,
    ArticleAdam,
)
