"""What a run records and how it ends, shared by the array path (`engine`) and
the float path (`scalar`): recorded rows, the memory check, convergence
statuses and the finished `Trace`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simulator.budget import MemoryLimitError, format_bytes
from simulator.metadata import jsonable, optimizer_metadata
from simulator.trace import Trace

__all__ = [
    "RECORD_FIELDS",
    "check_memory",
    "finish_trace",
    "recorded_steps",
    "stationary_points",
    "statuses",
]

#: The Trace fields `record=` may name (anything else is an optimizer internal).
RECORD_FIELDS = ("positions", "loss", "gradient", "internals")


def recorded_steps(steps: int, record_every: int) -> np.ndarray:
    rows = np.arange(0, steps + 1, record_every)
    if rows[-1] != steps:
        rows = np.append(rows, steps)
    return rows


def stationary_points(surface: Any) -> tuple[np.ndarray, np.ndarray]:
    minima = np.array([p.xy for p in surface.minima], dtype=np.float64).reshape(-1, 2)
    others = [p.xy for p in (*surface.saddles, *getattr(surface, "maxima", ()))]
    return minima, np.array(others, dtype=np.float64).reshape(-1, 2)


def statuses(x: np.ndarray, g: np.ndarray, minima, others, tol: float) -> np.ndarray:
    """Per particle: index of the minimum within `tol`, -2 other stationary, -1.

    Squared distances written out per coordinate: `np.linalg.norm` over a
    length-2 axis costs a generic reduction per call, several times slower.
    """
    tol2 = tol * tol
    x0, x1 = x[..., 0], x[..., 1]
    status = np.full(x.shape[:-1], -1, dtype=np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        if len(others):
            d2 = (x0[..., None] - others[:, 0]) ** 2 + (
                x1[..., None] - others[:, 1]
            ) ** 2
            status[d2.min(axis=-1) <= tol2] = -2
        status[g[..., 0] ** 2 + g[..., 1] ** 2 <= tol2] = -2
        if len(minima) == 1:  # the common case: no argmin over one candidate
            status[(x0 - minima[0, 0]) ** 2 + (x1 - minima[0, 1]) ** 2 <= tol2] = 0
        elif len(minima):
            d2 = (x0[..., None] - minima[:, 0]) ** 2 + (
                x1[..., None] - minima[:, 1]
            ) ** 2
            nearest = d2.argmin(axis=-1)
            near = np.take_along_axis(d2, nearest[..., None], axis=-1)[..., 0] <= tol2
            status[near] = nearest[near]
    return status


def check_memory(limit, per_row: int, R: int, B: tuple, itemsize: int) -> None:
    """Raises MemoryLimitError if `R` rows of `per_row` numbers exceed `limit`.

    Called before the recording arrays are allocated (for internals: after the
    first step, which tells which internals the optimizer has).
    """
    if limit is None:
        return
    total = per_row * R * itemsize
    if total > limit:
        n = math.prod(B)
        raise MemoryLimitError(
            f"This run would record about {format_bytes(total)} ({R} rows x {n} "
            f"particles x {per_row // max(n, 1)} numbers x {itemsize} bytes), above "
            f"memory_limit={format_bytes(limit)}. Reduce it with record_every=k, "
            "record=('positions', 'loss') (fewer fields), fewer steps or starts, "
            "dtype='float32', or raise memory_limit (None disables the check)."
        )


def finish_trace(
    shared: dict,
    opt: Any,
    label: str,
    clip_events: int,
    surface: Any,
    *,
    rows: np.ndarray,
    positions: np.ndarray,
    loss: np.ndarray | None,
    gradient: np.ndarray | None,
    internals: dict[str, np.ndarray],
    div_step: np.ndarray,
    reason: np.ndarray,
    cand: np.ndarray,
    cand_step: np.ndarray,
) -> Trace:
    """The `Trace` of a finished run, for the array path and the float path
    (`simulator.scalar`) alike, so their statuses and metadata cannot drift.

    `div_step`, `reason`, `cand` (the last convergence status) and `cand_step`
    (the step it last changed) have the batch shape; the rest are the trace's
    fields as recorded.
    """
    diverged = div_step >= 0
    converged_to = np.where(diverged, -1, cand)
    converged_step = np.where(converged_to != -1, cand_step, -1)
    metadata = {
        **shared,
        "optimizer": optimizer_metadata(opt),
        "label": label,
        "batch_shape": list(diverged.shape),
        "clip_events": clip_events,
    }
    return Trace(
        steps_recorded=rows,
        positions=positions,
        loss=loss,
        gradient=gradient,
        internals=internals,
        diverged=diverged,
        diverged_step=div_step,
        diverged_reason=reason,
        converged_step=converged_step,
        converged_to=converged_to,
        surface=surface,
        label=label,
        metadata=jsonable(metadata),
    )
