"""Thin adapter over a Trace for the Manim scenes (to be replaced by scenes.frames)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenes.landscape import _exit_points, _flat, _valid_rows
from simulator.trace import Trace

__all__ = ["TraceFrames"]


@dataclass
class TraceFrames:
    """Everything a frame shows of one trace, at a (fractional) row `t`.

    Row `r` is `trace.steps_recorded[r]`; fractional rows interpolate linearly
    between two recorded rows (motion between steps is drawing, not data).

    Attributes:
        trace: the trace.
        positions: `(R, P, 2)`, NaN after each particle's divergence.
        exits: `(P, 2)` where each diverged particle was last seen (NaN if not
            diverged).
        exit_rows: `(P,)` row from which it is gone (`R` if never).
    """

    trace: Trace

    def __post_init__(self):
        tr = self.trace
        view = tr.surface.view
        pos = _flat(tr, tr.positions).astype(np.float64)
        valid = _valid_rows(tr)
        self.positions = np.where(valid[..., None], pos, np.nan)
        div = tr.diverged.reshape(-1)
        self.exits = np.full((pos.shape[1], 2), np.nan)
        if div.any():
            self.exits[div] = _exit_points(pos[:, div], valid[:, div], view)
        rows = len(tr.steps_recorded)
        step = np.where(div, tr.diverged_step.reshape(-1), np.iinfo(np.int64).max)
        self.exit_rows = np.searchsorted(tr.steps_recorded, step).clip(max=rows)
        self.exit_rows = np.where(div, self.exit_rows, rows)

    @property
    def rows(self) -> int:
        """Number of recorded rows `R`."""
        return len(self.trace.steps_recorded)

    def _split(self, t: float) -> tuple[int, float]:
        t = float(np.clip(t, 0, self.rows - 1))
        i = min(int(t), self.rows - 2) if self.rows > 1 else 0
        return i, t - i

    def at(self, t: float) -> np.ndarray:
        """`(P, 2)` positions at row `t` (NaN once diverged)."""
        if self.rows == 1:
            return self.positions[0]
        i, f = self._split(t)
        a, b = self.positions[i], self.positions[i + 1]
        out = a + f * (b - a)
        # The step into divergence is not drawn as motion: the particle is gone.
        return np.where(np.isfinite(b), out, a if f < 1 else np.nan)

    def trail(self, t: float) -> np.ndarray:
        """`(P, n, 2)` path from row 0 to row `t` (head interpolated)."""
        i = int(np.clip(np.floor(t), 0, self.rows - 1))
        return np.concatenate([self.positions[: i + 1], self.at(t)[None]], axis=0)

    def gone(self, t: float) -> np.ndarray:
        """`(P,)` bool: diverged at or before row `t`."""
        return self.exit_rows <= t

    def step(self, t: float) -> int:
        """The optimizer step shown at row `t` (the last completed row)."""
        return int(self.trace.steps_recorded[int(np.clip(t, 0, self.rows - 1))])

    def loss(self, t: float) -> np.ndarray:
        """`(P,)` loss at the last completed row (NaN once diverged)."""
        i = int(np.clip(t, 0, self.rows - 1))
        loss = self.trace.surface.value(np.nan_to_num(self.positions[i]))
        return np.where(np.isfinite(self.positions[i, :, 0]), loss, np.nan)

    def internal(self, name: str, t: float) -> np.ndarray:
        """`(P, ...)` internal of the step leaving row `t` (the next move)."""
        arr = self.trace.internals[name]
        i = int(np.clip(t, 0, arr.shape[0] - 1))
        return arr.reshape(arr.shape[0], -1, *arr.shape[1 + len(self.trace.batch_shape) :])[i]

    def gradient(self, t: float) -> np.ndarray:
        """`(P, 2)` exact gradient at the last completed row."""
        g = _flat(self.trace, self.trace.gradient)
        return g[int(np.clip(t, 0, self.rows - 1))]

    def vector_scale(self, vectors: np.ndarray, reach: float) -> float:
        """One scale for the whole run: the 95th-percentile vector spans `reach`
        (data units). The max would let one huge early gradient shrink the rest."""
        mags = np.hypot(vectors[..., 0], vectors[..., 1])
        mags = mags[np.isfinite(mags)]
        size = float(np.percentile(mags, 95)) if mags.size else 0.0
        return reach / size if size > 0 else 1.0
