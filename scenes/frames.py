"""The frame reader: what every renderer shows at each recorded row of a run.

Matplotlib-free. The static figures, the matplotlib animations, the Manim scenes
and the explorer all read positions, trails, divergence markers and glyph vectors
from here, so no renderer re-derives what a frame shows.

Conventions: a run has `R` recorded rows (row 0 is the start); per trace the batch
is flattened to `P` particles (at most `max_particles`). Internals row `i` is the
step that led from row `i` to row `i + 1`, so the glyph of row `r` explains the
step *about to be taken* from the position shown at row `r` (the last row, which
has no next step, shows the glyph of the step that led to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scenes.vocab import GLYPH_ALIASES, GLYPH_CHOICES, GLYPHS
from simulator.trace import Race, Trace

__all__ = [
    "FrameClock",
    "FrameReader",
    "GlyphFrame",
    "SeriesFrames",
    "as_traces",
    "edge_crossing",
    "glyph_name",
    "stamp_rows",
]

#: Glyph -> the fraction of the view diagonal its 95th-percentile size spans.
GLYPH_REACH = {"gradient": 0.08, "velocity": 0.08, "step_size": 0.04}


def glyph_name(name: str) -> str:
    """The canonical glyph name (`lookahead` -> `textbook_iterate`).

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    canonical = GLYPH_ALIASES.get(name, name)
    if canonical not in GLYPHS:
        known = sorted(GLYPH_CHOICES)
        raise ValueError(f"Unknown glyph {name!r}; choose from {known}.")
    return canonical


def as_traces(run: Trace | Race | Sequence[Trace]) -> list[Trace]:
    """A `Trace`, a `Race` or a list of traces as a list of traces."""
    if isinstance(run, Trace):
        return [run]
    if isinstance(run, Race):
        return list(run.traces)
    traces = list(run) if isinstance(run, Sequence) else []
    if not traces or not all(isinstance(t, Trace) for t in traces):
        raise ValueError(
            f"Expected a Trace, a Race or a list of Traces. Received: {run!r}"
        )
    return traces


def flat(trace: Trace, array: np.ndarray, limit: int | None = None) -> np.ndarray:
    """`(R, *B, ...)` -> `(R, P, ...)`: the batch flattened, first `limit` kept."""
    nb = len(trace.batch_shape)
    out = array.reshape(array.shape[0], -1, *array.shape[1 + nb :])
    return out if limit is None else out[:, :limit]


def drawable(positions: np.ndarray, view) -> np.ndarray:
    """Positions far outside the view pulled onto a frame 50 views wide.

    Only for drawing: Agg cannot rasterise coordinates like 1e178, and a particle
    that far out has left (it is flagged). The data are untouched.
    """
    (x0, x1), (y0, y1) = view
    w, h = x1 - x0, y1 - y0
    lo = np.array([x0 - 50 * w, y0 - 50 * h])
    hi = np.array([x1 + 50 * w, y1 + 50 * h])
    return np.clip(positions, lo, hi)


def inside_view(pos: np.ndarray, view) -> np.ndarray:
    """`(..., 2) -> (...)` bool: the point lies in the (closed) view."""
    (x0, x1), (y0, y1) = view
    x, y = pos[..., 0], pos[..., 1]
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def exit_points(pos: np.ndarray, valid: np.ndarray, view) -> np.ndarray:
    """Where each path is last seen: `(R, P, 2)`, `(R, P)` -> `(P, 2)`.

    The last valid point if it lies in the view (or if the path never entered
    it); otherwise the point where the path crosses the view's edge for the last
    time, on the segment from its last point inside to the next one.
    """
    P = pos.shape[1]
    cols = np.arange(P)
    inside = valid & inside_view(pos, view)
    last = valid.shape[0] - 1 - np.argmax(valid[::-1], axis=0)
    last_in = inside.shape[0] - 1 - np.argmax(inside[::-1], axis=0)
    ever_in = inside.any(axis=0)
    out = pos[last, cols].copy()
    leaves = ever_in & ~inside[last, cols]
    if leaves.any():
        a = pos[last_in[leaves], cols[leaves]]
        b = pos[np.minimum(last_in[leaves] + 1, len(pos) - 1), cols[leaves]]
        out[leaves] = edge_crossing(a, b, view)
    return out


def edge_crossing(a: np.ndarray, b: np.ndarray, view) -> np.ndarray:
    """`(N, 2)`: where the segments from `a` (inside the view) to `b` leave it
    (`b` itself if it is inside too)."""
    lo, hi = np.array(view)[:, 0], np.array(view)[:, 1]
    d = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d > 0, (hi - a) / d, np.where(d < 0, (lo - a) / d, np.inf))
    return a + np.minimum(1.0, t.min(axis=-1))[:, None] * d


@dataclass
class GlyphFrame:
    """One glyph of one series at one row.

    Attributes:
        anchors: `(P, 2)` where each glyph sits (the particle).
        vectors: `(P, 2)` the glyph's vector in data units before `scale`
            (`-gradient`, `velocity`, the per-coordinate step sizes), or, for
            `textbook_iterate`, the point itself.
        visible: `(P,)` bool, finite and of a live particle.
    """

    anchors: np.ndarray
    vectors: np.ndarray
    visible: np.ndarray


@dataclass
class SeriesFrames:
    """Everything drawable of one trace, flattened to `P` particles.

    Attributes:
        trace: the trace (None for paths that are not a `Trace`, e.g. a
            network's training projected onto a plane).
        index: style index of the series (colour, marker, line style).
        label: legend label.
        positions: `(R, P, 2)` drawable positions (see `drawable`).
        valid: `(R, P)` bool, rows at or before each particle's divergence.
        loss: `(R, P)` loss at the positions (NaN after divergence), or None.
        diverged: `(P,)` bool; `diverged_step` `(P,)` int; `diverged_reason`
            `(P,)` str.
        exit_xy: `(P, 2)` where each particle is last seen in the view.
        diverged_row: `(P,)` first row at or after the divergence step (`R` if
            the particle never diverged).
    """

    trace: Trace | None
    index: int
    label: str
    positions: np.ndarray
    valid: np.ndarray
    loss: np.ndarray | None
    diverged: np.ndarray
    diverged_step: np.ndarray
    diverged_reason: np.ndarray
    exit_xy: np.ndarray
    diverged_row: np.ndarray

    @property
    def n_particles(self) -> int:
        return self.positions.shape[1]

    def legend_label(self) -> str:
        """The label, with how many diverged and when (of all, not only drawn)."""
        t = self.trace
        diverged = self.diverged if t is None else t.diverged.reshape(-1)
        n = int(diverged.sum())
        if not n:
            return self.label
        steps = (self.diverged_step if t is None else t.diverged_step.reshape(-1))[
            diverged
        ]
        lo, hi = int(steps.min()), int(steps.max())
        span = f"step {lo}" if lo == hi else f"step {lo}–{hi}"
        return f"{self.label}  [{n}/{diverged.size} diverged, {span}]"


class FrameReader:
    """Reads what each recorded row of a run shows, for every renderer.

    Args:
        run: a `Trace`, a `Race` or a list of traces on one surface, recorded at
            the same steps.
        view: `((xmin, xmax), (ymin, ymax))`, default the surface's view.
        glyphs: glyph names (see `GLYPHS`; aliases accepted).
        glyph_rows: internals rows whose glyphs set the scale (e.g. the rows a
            static figure stamps); None: every row (an animation's glyphs follow
            the particles).
        glyph_scale: data units per glyph unit, one for all glyphs; default one
            per glyph so that its 95th-percentile size spans `GLYPH_REACH` of the
            view diagonal.
        max_particles: particles read per trace.
        first_style: style index of the first trace.

    Attributes:
        traces, surface, view, series (`list[SeriesFrames]`), steps (`(R,)`),
        glyphs (canonical names), scale (glyph -> data units per unit).
    """

    def __init__(
        self,
        run: Trace | Race | Sequence[Trace],
        *,
        view: Any = None,
        glyphs: Sequence[str] = (),
        glyph_rows: Sequence[int] | np.ndarray | None = None,
        glyph_scale: float | None = None,
        max_particles: int = 200,
        first_style: int = 0,
    ):
        self.traces = as_traces(run)
        self.surface = self.traces[0].surface
        self.view = tuple(map(tuple, self.surface.view if view is None else view))
        self.steps = self.traces[0].steps_recorded
        for t in self.traces[1:]:
            if not np.array_equal(t.steps_recorded, self.steps):
                raise ValueError(
                    "Every trace of a run must be recorded at the same steps. "
                    f"Received: {t.label!r} with {len(t.steps_recorded)} rows, "
                    f"{self.traces[0].label!r} with {len(self.steps)}"
                )
        self.max_particles = int(max_particles)
        self.series = [
            self._series(t, i) for i, t in enumerate(self.traces, start=first_style)
        ]
        self.glyphs = tuple(dict.fromkeys(glyph_name(g) for g in glyphs))
        self._glyph_rows = None if glyph_rows is None else np.asarray(glyph_rows)
        self.scale = {g: self._scale(g, glyph_scale) for g in self.glyphs}

    @classmethod
    def from_paths(
        cls,
        paths: dict[str, np.ndarray],
        steps: np.ndarray,
        view: Any,
        *,
        loss: dict[str, np.ndarray] | None = None,
        surface: Any = None,
    ) -> FrameReader:
        """A reader over plain paths (no `Trace`, no glyphs, nothing diverges).

        Args:
            paths: label -> `(R, P, 2)` positions (a run that finished early
                repeats its last row).
            steps: `(R,)` the step (or epoch) of each row.
            view: `((xmin, xmax), (ymin, ymax))`.
            loss: label -> `(R, P)` loss, optional.
            surface: anything with `minima` (default: none).
        """
        self = cls.__new__(cls)
        self.traces = []
        self.surface = surface
        self.view = tuple(map(tuple, view))
        self.steps = np.asarray(steps)
        self.max_particles = max(p.shape[1] for p in paths.values())
        self.series = []
        for i, (label, pos) in enumerate(paths.items()):
            R, P = pos.shape[:2]
            self.series.append(
                SeriesFrames(
                    trace=None,
                    index=i,
                    label=label,
                    positions=drawable(pos, self.view),
                    valid=np.ones((R, P), bool),
                    loss=None if loss is None else loss[label],
                    diverged=np.zeros(P, bool),
                    diverged_step=np.full(P, -1),
                    diverged_reason=np.full(P, ""),
                    exit_xy=pos[-1],
                    diverged_row=np.full(P, R),
                )
            )
        self.glyphs, self._glyph_rows, self.scale = (), None, {}
        return self

    # -- rows and series ------------------------------------------------------

    @property
    def n_rows(self) -> int:
        """`R`, the number of recorded rows."""
        return len(self.steps)

    @property
    def last_row(self) -> int:
        return self.n_rows - 1

    def _series(self, trace: Trace, index: int) -> SeriesFrames:
        n = self.max_particles
        pos = drawable(flat(trace, trace.positions, n), self.view)
        valid = flat(trace, trace.valid_rows(), n)
        diverged = trace.diverged.reshape(-1)[:n]
        div_step = trace.diverged_step.reshape(-1)[:n]
        loss = None
        if trace.loss is not None:
            loss = np.where(valid, flat(trace, trace.loss, n), np.nan)
        div_row = np.where(
            diverged, np.searchsorted(self.steps, div_step), len(self.steps)
        )
        return SeriesFrames(
            trace=trace,
            index=index,
            label=trace.label,
            positions=pos,
            valid=valid,
            loss=loss,
            diverged=diverged,
            diverged_step=div_step,
            diverged_reason=trace.diverged_reason.reshape(-1)[:n],
            exit_xy=exit_points(pos, valid, self.view),
            diverged_row=div_row,
        )

    def positions(self, s: int, row: int) -> np.ndarray:
        """`(P, 2)` where series `s`'s particles are at `row` (NaN once gone).

        A diverged particle is shown up to its divergence row; from then on it
        is a divergence marker (see `markers`).
        """
        se = self.series[s]
        pos = se.positions[row].copy()
        pos[row >= se.diverged_row] = np.nan
        return pos

    def trail(self, s: int, row: int, length: int | None = None) -> np.ndarray:
        """`(L, P, 2)` the last `length` rows up to `row` (all rows: None).

        Rows after a particle diverged are NaN; a diverged particle's trail ends
        at its exit point, so it is drawn up to where it left the view.
        """
        se = self.series[s]
        start = 0 if length is None else max(0, row + 1 - int(length))
        pos = se.positions[start : row + 1].copy()
        ok = se.valid[start : row + 1]
        pos[~ok] = np.nan
        return pos

    def markers(self, s: int, row: int) -> np.ndarray:
        """`(P,)` bool: particles of series `s` shown as diverged at `row`."""
        return row >= self.series[s].diverged_row

    def off_view(self, s: int, row: int) -> np.ndarray:
        """`(P,)` bool: live particles outside the view at `row`."""
        pos = self.positions(s, row)
        alive = np.isfinite(pos).all(-1)
        return alive & ~inside_view(pos, self.view)

    def left_view(self, s: int, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Where the live particles outside the view at `row` left it, and when.

        Returns:
            `(P, 2)` the point where each path last crossed the view's edge
            before `row` (a particle that started outside: its position
            clamped to the edge), NaN for particles inside the view or gone;
            `(P,)` the first recorded step outside, -1 likewise.
        """
        se = self.series[s]
        points = np.full((se.n_particles, 2), np.nan)
        steps = np.full(se.n_particles, -1)
        off = np.flatnonzero(self.off_view(s, row))
        if off.size:
            last_in = self._last_inside(s)[row, off]
            a = se.positions[np.maximum(last_in, 0), off]
            b = se.positions[last_in + 1, off]
            lo, hi = np.array(self.view)[:, 0], np.array(self.view)[:, 1]
            points[off] = np.where(
                (last_in >= 0)[:, None],
                edge_crossing(a, b, self.view),
                np.clip(se.positions[row, off], lo, hi),
            )
            steps[off] = self.steps[last_in + 1]
        return points, steps

    def _last_inside(self, s: int) -> np.ndarray:
        """`(R, P)` the last row at or before each row with the particle inside
        the view (-1: not yet), computed once per series."""
        cache = self.__dict__.setdefault("_last_inside_cache", {})
        if s not in cache:
            se = self.series[s]
            inside = se.valid & inside_view(se.positions, self.view)
            rows = np.arange(len(inside))[:, None]
            cache[s] = np.maximum.accumulate(np.where(inside, rows, -1), axis=0)
        return cache[s]

    def edge_points(self, s: int, row: int) -> np.ndarray:
        """`(P, 2)` the particle's position clamped to the view's border."""
        lo, hi = np.array(self.view)[:, 0], np.array(self.view)[:, 1]
        return np.clip(self.positions(s, row), lo, hi)

    def loss(self, s: int, row: int) -> np.ndarray | None:
        """`(P,)` loss at `row` (NaN after divergence), or None if not recorded."""
        se = self.series[s]
        return None if se.loss is None else se.loss[row]

    def motion(self) -> np.ndarray:
        """`(R,)` cumulative on-screen distance travelled, from 0 to 1.

        The median over all live particles of each row's displacement, in units
        of the view, accumulated; a frame clock uses it to slow down where the
        particles move fast.
        """
        (x0, x1), (y0, y1) = self.view
        size = np.array([x1 - x0, y1 - y0])
        steps = []
        for se in self.series:
            d = np.diff(se.positions, axis=0) / size
            d = np.hypot(d[..., 0], d[..., 1])
            steps.append(np.where(se.valid[1:], np.minimum(d, 1.0), np.nan))
        with np.errstate(all="ignore"):
            per_row = np.nan_to_num(np.nanmedian(np.concatenate(steps, axis=1), 1))
        total = np.concatenate([[0.0], np.cumsum(per_row)])
        return total / total[-1] if total[-1] > 0 else np.linspace(0, 1, len(total))

    # -- glyphs ---------------------------------------------------------------

    def _source(self, se: SeriesFrames, glyph: str) -> np.ndarray | None:
        """`(R - 1, P, 2)` the data behind `glyph`, or None if not recorded."""
        t = se.trace
        if t is None:
            return None
        name = GLYPHS[glyph]
        if name == "gradient":
            data = None if t.gradient is None else flat(t, t.gradient)[:-1]
        else:
            data = t.internals.get(name)
            data = None if data is None else flat(t, data)
        if data is None or data.ndim != 3:
            return None
        data = data[:, : self.max_particles]
        return -data if name == "gradient" else data

    def has_glyph(self, glyph: str) -> list[bool]:
        """Per series: whether its trace recorded what `glyph` draws."""
        canonical = glyph_name(glyph)
        return [self._source(se, canonical) is not None for se in self.series]

    def glyph(self, glyph: str, s: int, row: int) -> GlyphFrame | None:
        """Glyph `glyph` of series `s` explaining the step taken from `row`.

        Returns None if the trace did not record what the glyph draws.
        """
        se = self.series[s]
        data = self._source(se, glyph)
        if data is None:
            return None
        i = min(row, len(data) - 1)
        anchors = se.positions[i]
        vectors = data[i]
        visible = (
            np.isfinite(vectors).all(-1)
            & np.isfinite(anchors).all(-1)
            & se.valid[i]
            & (i < se.diverged_row)
        )
        return GlyphFrame(anchors=anchors, vectors=vectors, visible=visible)

    def _scale(self, glyph: str, scale: float | None) -> float:
        """Data units per glyph unit, one for the whole run.

        The 95th percentile of glyph sizes, not the max: one huge early gradient
        would otherwise shrink every other glyph to a dot.
        """
        if glyph == "textbook_iterate":
            return 1.0  # a point, not a vector
        if scale is not None:
            return float(scale)
        mags = []
        for se in self.series:
            data = self._source(se, glyph)
            if data is None:
                continue
            rows = self._glyph_rows
            alive = ~se.diverged
            sel = data[rows] if rows is not None else data
            sel = sel[:, alive]
            sel = sel[np.isfinite(sel).all(-1)]
            mags.append(
                np.abs(sel).ravel() if glyph == "step_size" else np.hypot(*sel.T)
            )
        mags = np.concatenate(mags) if mags else np.array([])
        size = float(np.percentile(mags, 95)) if mags.size else 0.0
        (x0, x1), (y0, y1) = self.view
        diag = float(np.hypot(x1 - x0, y1 - y0))
        return GLYPH_REACH[glyph] * diag / size if size > 0 else 1.0

    def stamp_rows(self, glyph_steps: Sequence[int] | None, n: int = 4) -> np.ndarray:
        """Internals rows for recorded `glyph_steps` (see `stamp_rows`)."""
        every = self.traces[0].metadata.get("record_every") if self.traces else None
        return stamp_rows(self.steps, glyph_steps, n, record_every=every)


def stamp_rows(
    steps: np.ndarray,
    glyph_steps: Sequence[int] | None,
    n: int = 4,
    *,
    record_every: int | None = None,
) -> np.ndarray:
    """Internals rows of the recorded `glyph_steps` (default `n` evenly spaced).

    Args:
        steps: `(R,)` the recorded steps of the run.
        glyph_steps: steps at which a static figure stamps its glyphs.
        n: how many rows without `glyph_steps`.
        record_every: named in the error message.

    Raises:
        ValueError: a step that is not recorded before the last row.
    """
    rows = np.asarray(steps)
    if glyph_steps is None:
        return np.unique(np.linspace(0, max(len(rows) - 2, 0), n).round().astype(int))
    wanted = np.asarray(glyph_steps)
    idx = np.searchsorted(rows, wanted)
    bad = (idx >= len(rows) - 1) | (rows[np.minimum(idx, len(rows) - 1)] != wanted)
    if bad.any():
        raise ValueError(
            f"`glyph_steps` must be recorded steps before the last "
            f"(every {record_every}). Received: {wanted[bad].tolist()}"
        )
    return idx


class FrameClock:
    """Maps video frames to trace rows: uniform or eased, with holds.

    Eased (the default) spends frames where the particles move: half the frames
    follow the on-screen distance travelled (`FrameReader.motion`), half follow
    the steps, so the fast first steps are not a blur and the slow convergence
    still advances. Holds repeat the first and last row.

    Args:
        n_rows: rows of the run (`R`).
        frames: frames in all, holds included (>= 1).
        easing: `"ease"` or `"uniform"`.
        motion: `(R,)` cumulative progress from 0 to 1 (needed by `"ease"`; without
            it `"ease"` is uniform).
        hold_start, hold_end: frames showing row 0 / the last row.

    Attributes:
        rows: `(frames,)` int, non-decreasing, first 0 and last `R - 1`.
    """

    EASINGS = ("ease", "uniform")

    def __init__(
        self,
        n_rows: int,
        frames: int,
        *,
        easing: str = "ease",
        motion: np.ndarray | None = None,
        hold_start: int = 0,
        hold_end: int = 0,
    ):
        if easing not in self.EASINGS:
            raise ValueError(
                f"`easing` must be one of {self.EASINGS}. Received: easing={easing!r}"
            )
        if (
            isinstance(frames, bool)
            or not isinstance(frames, (int, np.integer))
            or frames < 1
        ):
            raise ValueError(
                f"`frames` must be an integer >= 1. Received: frames={frames!r}"
            )
        hold_start, hold_end = max(0, int(hold_start)), max(0, int(hold_end))
        moving = int(frames) - hold_start - hold_end
        if moving < 1:
            hold_start = hold_end = 0
            moving = int(frames)
        u = np.linspace(0.0, 1.0, moving)
        rows_progress = np.linspace(0.0, 1.0, n_rows)
        progress = rows_progress
        if easing == "ease" and motion is not None and n_rows > 1:
            progress = 0.5 * np.asarray(motion, dtype=float) + 0.5 * rows_progress
        # The first row whose progress reaches each frame's share.
        idx = np.searchsorted(progress, u * progress[-1], side="left")
        idx = np.clip(idx, 0, n_rows - 1)
        idx[-1] = n_rows - 1
        self.rows = np.concatenate(
            [np.zeros(hold_start, int), idx.astype(int), np.full(hold_end, n_rows - 1)]
        )
        self.easing = easing

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows.tolist())
