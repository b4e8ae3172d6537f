"""The internals dict every optimizer returns: one vocabulary, built in one place."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["INTERNALS", "collect_internals"]


#: Every internal name some optimizer returns (the shared ones listed in
#: `simulator.optimizers.base` plus rule-specific state: Adadelta's
#: `accumulated_delta`, Ftrl's `linear` and `z`, Nadam's `momentum_schedule`,
#: Adafactor's `relative_step_size`, AMSGrad's `max_second_moment`, schedule-free
#: AdamW's `x` and `average_gradient`).
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


def collect_internals(
    w_in: list[np.ndarray],
    w_out: list[np.ndarray],
    g_used: list[np.ndarray],
    per_var: list[dict[str, Any]],
    lr: np.ndarray,
    batch_shape: tuple[int, ...],
) -> dict[str, Any]:
    """Builds the shared internals from one step's inputs, outputs and rule internals.

    Args:
        w_in: parameters passed in (where the gradient was evaluated), `(*B, *var)`.
        w_out: parameters after the step.
        g_used: the processed gradient the rule used.
        per_var: the rule's own internals per variable (missing ones become NaN).
        lr: the learning rate in force, broadcastable to `B`.
        batch_shape: `B`.

    Returns:
        `learning_rate` (B), `grad_position`, `gradient`, `update` (`w_out - w_in`),
        `effective_lr` (`-update/gradient`, NaN where the gradient is 0) and every
        rule internal, each a tuple aligned with the variables.
    """
    out: dict[str, Any] = {
        # A filled array, not `np.broadcast_to` (a view, but several times slower
        # to build for the one-particle batches of the explorer).
        "learning_rate": np.full(batch_shape, lr, dtype=np.asarray(lr).dtype),
        "grad_position": tuple(w_in),
        "gradient": tuple(g_used),
    }
    updates = tuple(b - a for a, b in zip(w_in, w_out, strict=True))
    out["update"] = updates
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = []
        for u, g in zip(updates, g_used, strict=True):
            nonzero = g != 0
            effective.append(np.where(nonzero, -u / np.where(nonzero, g, 1), np.nan))
        out["effective_lr"] = tuple(effective)
    keys: list[str] = []
    for info in per_var:
        keys.extend(k for k in info if k not in keys)
    for key in keys:
        if key == "trust_ratio" or key.endswith("_scalar"):
            out[key] = tuple(info.get(key) for info in per_var)
        else:
            out[key] = tuple(
                info[key] if key in info else np.full_like(w, np.nan)
                for info, w in zip(per_var, w_in, strict=True)
            )
    return out
