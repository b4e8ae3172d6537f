"""Fractional-row views of `scenes.frames.FrameReader` for Manim's continuous time."""

from __future__ import annotations

import numpy as np

from scenes.frames import FrameClock, FrameReader, inside_view

__all__ = ["ContinuousFrames", "clock_rate", "ease_progress"]


class ContinuousFrames:
    """What a frame shows at a fractional row `t`, read through `FrameReader`.

    Manim's tracker moves continuously; row `t` interpolates the reader's rows
    `floor(t)` and `floor(t) + 1` (motion between two recorded steps is drawing,
    not data). Positions, trails, divergence and glyphs all come from the reader.

    Args:
        reader: the run's `FrameReader`.
    """

    def __init__(self, reader: FrameReader):
        self.reader = reader
        self.rows = reader.n_rows
        self._stacks: dict[tuple[int, ...], tuple] = {}

    def _stacked(self, indices) -> tuple:
        """The reader's arrays of several series, joined along particles."""
        key = tuple(indices)
        if key not in self._stacks:
            ses = [self.reader.series[i] for i in key]
            self._stacks[key] = (
                np.concatenate([se.positions for se in ses], axis=1),
                np.concatenate([se.valid for se in ses], axis=1),
                np.concatenate([se.diverged_row for se in ses]),
                np.cumsum([se.n_particles for se in ses])[:-1],
            )
        return self._stacks[key]

    def split(self, indices, array: np.ndarray, axis: int = 0) -> list[np.ndarray]:
        """A joined `*_many` array cut back into one array per series."""
        return np.split(array, self._stacked(indices)[3], axis=axis)

    def at_many(self, indices, t: float) -> np.ndarray:
        """`at` of the series `indices` joined along particles, `(N, 2)`: the
        reader's rule (NaN from the divergence row on) in one numpy pass."""
        pos, _, div_row, _ = self._stacked(indices)
        i, f = self._split(t)
        a = np.where((i >= div_row)[:, None], np.nan, pos[i])
        if self.rows == 1:
            return a
        b = np.where((i + 1 >= div_row)[:, None], np.nan, pos[i + 1])
        return np.where(np.isfinite(b), a + f * (b - a), a if f < 1 else np.nan)

    def trail_many(self, indices, t: float, start: int, head: np.ndarray):
        """`trail` of the series `indices` joined along particles, `(n, N, 2)`
        (the reader's rule: NaN at rows after a particle's divergence)."""
        pos, valid, _, _ = self._stacked(indices)
        row = self.row(t)
        start = min(start, row)
        rows = np.where(valid[start : row + 1, :, None], pos[start : row + 1], np.nan)
        return np.concatenate([rows, head[None]])

    def _split(self, t: float) -> tuple[int, float]:
        t = float(np.clip(t, 0, self.rows - 1))
        i = min(int(t), max(self.rows - 2, 0))
        return i, (t - i) if self.rows > 1 else 0.0

    def row(self, t: float) -> int:
        """The last completed row at `t`."""
        return int(np.clip(np.floor(t + 1e-9), 0, self.rows - 1))

    def at(self, s: int, t: float) -> np.ndarray:
        """`(P, 2)` positions of series `s` (NaN once gone)."""
        i, f = self._split(t)
        a = self.reader.positions(s, i)
        if self.rows == 1:
            return a
        b = self.reader.positions(s, i + 1)
        # The step into divergence is not drawn as motion: the particle is gone.
        return np.where(np.isfinite(b), a + f * (b - a), a if f < 1 else np.nan)

    def trail(
        self, s: int, t: float, start: int = 0, head: np.ndarray | None = None
    ) -> np.ndarray:
        """`(n, P, 2)` the path from row `start` up to `t` (the head interpolated;
        `head`: `at(s, t)` if the caller has it already)."""
        row = self.row(t)
        rows = self.reader.trail(s, row, row + 1 - min(start, row))
        return np.concatenate([rows, (self.at(s, t) if head is None else head)[None]])

    def shown(self, s: int, t: float) -> np.ndarray:
        """`(P, 2)` positions of the particles inside the view at `t` (NaN for the
        ones gone or outside: those are markers, see `left_view`)."""
        head = self.at(s, t)
        return np.where(inside_view(head, self.reader.view)[:, None], head, np.nan)

    def left_view(
        self, s: int, t: float, head: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`FrameReader.left_view` at `t`: `(P, 2)` where each live particle
        outside the view at `t` left it, `(P,)` the step (NaN / -1 otherwise).

        Between two rows the head may cross the edge: then the row it is heading
        to says where and when.
        """
        head = self.at(s, t) if head is None else head
        out = np.isfinite(head).all(-1) & ~inside_view(head, self.reader.view)
        points = np.full_like(head, np.nan)
        steps = np.full(len(head), -1)
        if out.any():
            i, _ = self._split(t)
            now_pts, now_steps = self.reader.left_view(s, i)
            nxt_pts, nxt_steps = self.reader.left_view(s, min(i + 1, self.rows - 1))
            use_now = np.isfinite(now_pts).all(-1)
            points = np.where(use_now[:, None], now_pts, nxt_pts)
            steps = np.where(use_now, now_steps, nxt_steps)
            points[~out], steps[~out] = np.nan, -1
        return points, steps

    def gone(self, s: int, t: float) -> np.ndarray:
        """`(P,)` bool: shown as diverged at `t`."""
        return self.reader.markers(s, self.row(t))

    def step(self, t: float) -> int:
        """The optimizer step of the last completed row."""
        return int(self.reader.steps[self.row(t)])

    def glyph(self, name: str, s: int, t: float) -> tuple[np.ndarray, np.ndarray]:
        """`(anchors, vectors)` `(P, 2)` of glyph `name` at `t`, the vectors in
        data units with the run's one scale applied (NaN where hidden).

        The anchor is the interpolated particle, the vector the one of the step
        being taken (it changes on the row boundary, as the optimizer does).
        """
        g = self.reader.glyph(name, s, self.row(t))
        if g is None:
            raise ValueError(
                f"Glyph {name!r} needs an internal that "
                f"{self.reader.series[s].label!r} did not record."
            )
        vec = np.where(g.visible[:, None], g.vectors * self.reader.scale[name], np.nan)
        return self.at(s, t), vec


def clock_rate(progress: np.ndarray, r0: float, r1: float):
    """A Manim `rate_func` moving the tracker from row `r0` to `r1` at a pace.

    Args:
        progress: `(R,)` non-decreasing from 0 to 1, the share of the motion time
            at which each row is reached: `FrameClock`'s ease (half on-screen
            distance from `FrameReader.motion`, half steps), kept continuous in
            rows so a slow beat glides instead of holding integer rows.

    Returns:
        `(rate_func, fraction)`: the rate function and the segment's share of
        the motion time (multiply by the motion seconds).
    """
    rows = np.arange(len(progress), dtype=float)
    p0 = float(np.interp(r0, rows, progress))
    p1 = float(np.interp(r1, rows, progress))
    span = p1 - p0

    def rate(alpha: float) -> float:
        if r1 == r0 or span <= 0:
            return float(alpha)
        row = float(np.interp(p0 + alpha * span, progress, rows))
        return float(np.clip((row - r0) / (r1 - r0), 0.0, 1.0))

    return rate, max(span, 0.0)


def ease_progress(reader: FrameReader, easing: str = "ease") -> np.ndarray:
    """`(R,)` progress per row for `clock_rate`, with `FrameClock`'s easings."""
    if easing not in FrameClock.EASINGS:
        raise ValueError(
            f"`easing` must be one of {FrameClock.EASINGS}. Received: easing={easing!r}"
        )
    linear = np.linspace(0.0, 1.0, reader.n_rows)
    if easing == "uniform" or reader.n_rows < 2:
        return linear
    progress = 0.5 * reader.motion() + 0.5 * linear
    # Strictly increasing, so np.interp can invert it (rows that do not move).
    return np.maximum.accumulate(progress + np.arange(reader.n_rows) * 1e-12)
