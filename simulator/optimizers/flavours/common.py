"""What every flavour shares: its prefix, legend name, formula facts and checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.optimizers.base import Optimizer, is_callable_lr, is_schedule
from simulator.optimizers.validation import check_float_hyperparameter, format_value

__all__ = ["KERAS_FORMULA", "Flavour", "FlavourOptimizer"]


#: Keras 3's side of the compare table, per Keras class (the flavours carry theirs).
KERAS_FORMULA: dict[str, dict[str, str]] = {
    "SGD": {
        "learning rate": "inside the velocity: m = mu*m - lr*g; w += m",
        "first step": "velocity starts at 0, so m = -lr*g",
        "nesterov": "w += mu*m_new - lr*g (the stored w is the lookahead)",
        "weight decay": "decoupled: w -= lr*wd*w before the step",
    },
    "Adam": {
        "epsilon": "epsilon hat on the uncorrected sqrt(v), 1e-7",
        "bias correction": "folded into alpha = lr*sqrt(1 - b2**t)/(1 - b1**t)",
        "weight decay": "decoupled: w -= lr*wd*w before the step",
    },
    "AdamW": {
        "epsilon": "epsilon hat on the uncorrected sqrt(v), 1e-7",
        "bias correction": "folded into alpha",
        "weight decay": "decoupled: w -= lr*wd*w before the step; default 0.004",
    },
    "RMSprop": {
        "epsilon": "inside the sqrt: sqrt(v + eps), 1e-7",
        "decay": "rho = 0.9",
        "learning rate": "inside the momentum buffer",
    },
    "Adagrad": {
        "epsilon": "inside the sqrt: sqrt(A + eps), 1e-7",
        "accumulator start": "0.1",
    },
    "Adamax": {"epsilon": "added to u in the denominator: u + eps, 1e-7"},
    "Nadam": {
        "epsilon": "outside sqrt(v_hat), 1e-7",
        "momentum schedule": "mu_t = b1*(1 - 0.5*0.96**t)",
    },
    "Lion": {"weight decay": "none by default; decoupled w -= lr*wd*w first"},
    "Adadelta": {"epsilon": "inside both sqrts, 1e-7", "defaults": "lr 1e-3, rho 0.95"},
}


class Flavour:
    """One framework or source whose update rules a flavour reproduces.

    Attributes:
        prefix: the text prefix (`torch` in `torch:Adam(lr=0.01)`).
        label: the name legends use (`PyTorch` in `Adam · PyTorch`).
        source: what the rules were checked against.
    """

    def __init__(self, prefix: str, label: str, source: str):
        self.prefix = prefix
        self.label = label
        self.source = source


class FlavourOptimizer(Optimizer):
    """Base of every flavour: the neutral base `step` and `init`, no Keras pipeline.

    A subclass names its `flavour`, the `public_name` its framework uses, the Keras
    class it `mirrors` and the `keras_names` that translate its arguments to
    Keras's (`{"lr": "learning_rate", "alpha": "rho"}`). `formula` states, in
    words, what the rule does for each topic of the compare table (`epsilon`,
    `bias correction`, `learning rate`, `first step`, ...); `compare` prints the
    table from it and from `_defaults`.
    """

    flavour: Flavour
    public_name: str = ""
    mirrors: str = ""
    keras_names: dict[str, str] = {}
    formula: dict[str, str] = {}
    _tail_defaults: dict[str, Any] = {}

    def __init__(self, learning_rate: Any):
        if is_schedule(learning_rate) or is_callable_lr(learning_rate):
            raise self.invalid(
                self._lr_name, learning_rate, "a float or a float array (no schedule)"
            )
        super().__init__(learning_rate)
        self._learning_rate = self.check(self._lr_name, learning_rate, minimum=0.0)

    @property
    def label(self) -> str:
        """`Adam · PyTorch`."""
        return f"{self.public_name} · {self.flavour.label}"

    def _text_call(self) -> str:
        return f"{self.flavour.prefix}:{self.public_name}"

    def _learning_rate_message(self, value: Any) -> str:
        return self.invalid(self._lr_name, value, "a float").args[0]

    # ------------------------------------------------------------- checks
    def invalid(self, name: str, value: Any, what: str) -> ValueError:
        """One-line error, e.g. `torch:Adam: invalid `lr`: must be >= 0.0. ...`."""
        return ValueError(
            f"{self._text_call()}: invalid `{name}`: must be {what}. "
            f"Received: {name}={format_value(value)}"
        )

    def check(
        self,
        name: str,
        value: Any,
        *,
        minimum: float | None = None,
        below: float | None = None,
        maximum: float | None = None,
        above: float | None = None,
        optional: bool = False,
    ) -> Any:
        """A float (or float array) within bounds, as `check_float_hyperparameter`.

        `minimum`/`maximum` are inclusive bounds, `above`/`below` exclusive ones.
        """
        if value is None and optional:
            return None
        try:
            out = check_float_hyperparameter(name, value)
        except ValueError:
            raise self.invalid(name, value, "a float or a float array") from None
        arr = np.asarray(out)
        bounds = [
            (minimum, arr >= minimum if minimum is not None else True, ">="),
            (above, arr > above if above is not None else True, ">"),
            (maximum, arr <= maximum if maximum is not None else True, "<="),
            (below, arr < below if below is not None else True, "<"),
        ]
        for bound, ok, op in bounds:
            if bound is not None and not np.all(ok):
                raise self.invalid(name, value, f"{op} {bound!r}")
        return out

    def check_betas(self, betas: Any, names: tuple[str, str] = ("betas",) * 2):
        """A pair `(b1, b2)`, each in [0, 1) (torch's check), as two floats/arrays."""
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise self.invalid("betas", betas, "a pair (beta1, beta2)")
        return tuple(
            self.check(f"betas[{i}]", b, minimum=0.0, below=1.0)
            for i, b in enumerate(betas)
        )

    def keras_equivalent(self) -> dict[str, Any]:
        """This flavour's arguments under Keras's names (for `compare`)."""
        config = self.get_config()
        out = {}
        for key, keras_key in self.keras_names.items():
            if key == "betas":
                out["beta_1"], out["beta_2"] = config["betas"]
            elif key in config:
                out[keras_key] = config[key]
        return out
