"""`simulate`: run optimizers over a surface from a batch of starts into a Trace."""

from __future__ import annotations

import difflib
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

import surfaces
from simulator import optimizers, scalar
from simulator.budget import (
    DEFAULT_MEMORY_LIMIT,
    MemoryLimitError,
    check_run,
    parse_bytes,
)
from simulator.buffers import allocate, warm_allocator
from simulator.metadata import jsonable, optimizer_metadata, package_versions
from simulator.noise import COUNTER, GradientNoise, check_scheme
from simulator.optimizers.base import Optimizer
from simulator.optimizers.batching import batch_shape
from simulator.optimizers.internals import INTERNALS
from simulator.optimizers.text import legend_labels
from simulator.recording import (
    RECORD_FIELDS,
    check_memory,
    finish_trace,
    recorded_steps,
    stationary_points,
    statuses,
)
from simulator.trace import Race, Trace

__all__ = [
    "MemoryLimitError",
    "parse_bytes",
    "resolve_optimizer",
    "resolve_surface",
    "simulate",
]

#: Field names accepted by `record` besides individual internal names.
DEFAULT_RECORD = RECORD_FIELDS


def resolve_optimizer(spec: Any) -> Optimizer:
    """An `Optimizer` from an instance, Keras-style text (`"Adam(0.01)"`) or a name."""
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str):
        return optimizers.parse(spec) if "(" in spec else optimizers.get(spec)
    raise ValueError(
        "`optimizer` must be an Optimizer, Keras-style text such as "
        f"'Adam(learning_rate=0.01)', or a name. Received: optimizer={spec!r}"
    )


def resolve_surface(spec: Any) -> Any:
    """A surface object (anything with `value_and_grad`), a name or expression text."""
    return spec if hasattr(spec, "value_and_grad") else surfaces.resolve(spec)


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}"
        )
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value}")
    return int(value)


def _check_starts(starts: Any, surface: Any, dtype: np.dtype) -> np.ndarray:
    if starts is None:
        return np.asarray(surface.starts, dtype=dtype)
    try:
        arr = np.asarray(starts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"`starts` must be numbers of shape (..., 2). Received: starts={starts!r}"
        ) from None
    if arr.ndim == 0 or arr.shape[-1] != 2 or arr.size == 0:
        raise ValueError(
            "`starts` must have shape (..., 2) with at least one point. "
            f"Received: starts with shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`starts` must be finite. Received: starts={starts!r}")
    return arr.astype(dtype)


def _check_bound(bound: Any) -> np.ndarray | None:
    """None, r (the box |x|, |y| <= r) or ((xmin, xmax), (ymin, ymax)) -> (2, 2)."""
    if bound is None:
        return None
    try:
        arr = np.asarray(bound, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.array([[-arr, arr], [-arr, arr]])
        ok = arr.shape == (2, 2) and np.all(arr[:, 0] < arr[:, 1])
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "`bound` must be None, a positive radius r (the box |x|, |y| <= r) or "
            f"((xmin, xmax), (ymin, ymax)). Received: bound={bound!r}"
        )
    return arr


def _check_record(record: Any) -> tuple[str, ...]:
    if isinstance(record, str):
        record = (record,)
    try:
        record = tuple(record)
    except TypeError:
        raise ValueError(
            f"`record` must be a sequence of field names. Received: record={record!r}"
        ) from None
    for name in record:
        if not isinstance(name, str) or not re.fullmatch(r"[a-z_]+", name):
            raise ValueError(
                f"`record` entries must be {RECORD_FIELDS} or optimizer internal "
                f"names such as 'velocity'. Received: record={record!r}"
            )
        if name not in RECORD_FIELDS and name not in INTERNALS:
            # A typo ('velocty') would record nothing and say nothing.
            close = difflib.get_close_matches(name, (*RECORD_FIELDS, *INTERNALS), 1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"`record` entry {name!r} is neither a field {RECORD_FIELDS} nor an "
                f"optimizer internal ({', '.join(INTERNALS)}).{hint} "
                f"Received: record={record!r}"
            )
    return tuple(dict.fromkeys(("positions", *record)))


def _warn_unrecorded(traces: list, record: tuple[str, ...]) -> None:
    """One warning per optimizer that lacks an internal `record` asked for by name."""
    wanted = [r for r in record if r not in RECORD_FIELDS]
    for trace in traces:
        missing = [n for n in wanted if n not in trace.internals]
        if missing:
            warnings.warn(
                f"record: {trace.label} has no internal {', '.join(missing)}; "
                "nothing was recorded for it.",
                stacklevel=3,
            )


def simulate(
    surface: Any,
    optimizer: Any,
    starts: Any = None,
    steps: int = 100,
    *,
    labels: Sequence[str] | None = None,
    label: str | None = None,
    record_every: int = 1,
    record: Sequence[str] = DEFAULT_RECORD,
    noise: float = 0.0,
    seed: int = 0,
    dtype: str = "float64",
    bound: Any = None,
    clip_to_bound: bool = False,
    tolerance: float = 1e-3,
    memory_limit: Any = DEFAULT_MEMORY_LIMIT,
    progress: bool = False,
    noise_scheme: str = COUNTER,
    particle_index: Any = None,
) -> Trace | Race:
    """Runs `optimizer` (or several: a race) over `surface` and records a trace.

    Every batch element is an independent Keras run. Array hyperparameters
    broadcast against the starts' batch axes: `Adam(learning_rate=lrs[:, None])`
    with starts `(N, 2)` gives batch shape `(H, N)`.

    Args:
        surface: a `Surface`, a registered name or an expression text.
        optimizer: an `Optimizer` or Keras-style text; a list of them runs a race
            (same starts, same noise sequence) and returns a `Race`.
        starts: `(*S, 2)` start points (default: the surface's suggested starts).
        steps: number of optimizer steps.
        labels: legend labels for a race (default: each optimizer's text).
        label: legend label for a single run.
        record_every: record a row every this many steps (the last step always).
        record: fields to record: `"positions"` (always), `"loss"`,
            `"gradient"`, `"internals"` (all of them) or individual internal
            names such as `"velocity"`.
        noise: standard deviation of Gaussian noise added to each gradient
            (stochastic gradients); 0 for exact gradients.
        seed: seed of the noise generator (identical seeds give identical traces).
            A particle's noise depends only on (seed, its index, step): see
            `simulator.noise`.
        dtype: `"float64"` (default) or `"float32"` (Keras's default precision).
        bound: optional box a particle must stay in: a radius r (|x|, |y| <= r) or
            `((xmin, xmax), (ymin, ymax))`. Leaving it counts as divergence unless
            `clip_to_bound`.
        clip_to_bound: clamp positions into `bound` instead (recorded in the
            metadata as `clip_events`).
        tolerance: distance to a known minimum (and gradient norm for other
            stationary points) that counts as converged.
        memory_limit: refuse runs whose recorded arrays would exceed this
            (`"2GiB"`, bytes, or None for no limit).
        progress: show a progress bar.
        noise_scheme: `"counter-splitmix64-v1"` (default, batch-independent) or
            `"pcg64-batch"` (how runs were drawn before; reproduces old traces).
        particle_index: `(*B,)` ints, each particle's index in the full grid it
            is a chunk of (default: its position in this batch), so that a
            chunked sweep draws the noise of the single run.

    Returns:
        A `Trace` (one optimizer) or a `Race` (a list of optimizers).

    Raises:
        ValueError: a bad argument (named, with its value).
        MemoryLimitError: the recording would exceed `memory_limit`.
    """
    warm_allocator()
    surface = resolve_surface(surface)
    if dtype not in ("float64", "float32", np.float64, np.float32):
        raise ValueError(
            f"`dtype` must be 'float64' or 'float32'. Received: dtype={dtype!r}"
        )
    np_dtype = np.dtype(dtype)
    steps = _check_int("steps", steps, 0)
    record_every = _check_int("record_every", record_every, 1)
    seed = _check_int("seed", seed, 0)
    record = _check_record(record)
    if (
        isinstance(noise, bool)
        or not isinstance(noise, (int, float))
        or not (np.isfinite(noise) and noise >= 0)
    ):
        raise ValueError(
            f"`noise` must be a finite number >= 0. Received: noise={noise!r}"
        )
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, (int, float))
        or not (0 < tolerance < math.inf)
    ):
        # inf would count every particle as converged to the first minimum.
        raise ValueError(
            "`tolerance` must be a finite number > 0. "
            f"Received: tolerance={tolerance!r}"
        )
    box = _check_bound(bound)
    if clip_to_bound and box is None:
        raise ValueError("`clip_to_bound=True` needs a `bound`. Received: bound=None")
    limit = parse_bytes(memory_limit)
    start_arr = _check_starts(starts, surface, np_dtype)
    check_scheme(noise_scheme)

    is_race = isinstance(optimizer, (list, tuple))
    opts = [resolve_optimizer(o) for o in (optimizer if is_race else [optimizer])]
    if not opts:
        raise ValueError("`optimizer` must not be an empty list.")
    if is_race:
        if label is not None:
            raise ValueError("Use `labels=[...]` (not `label`) for a race.")
        names = list(labels) if labels is not None else legend_labels(opts)
        if len(names) != len(opts):
            raise ValueError(
                f"`labels` must have one label per optimizer ({len(opts)}). "
                f"Received: labels={labels!r}"
            )
    else:
        if labels is not None:
            raise ValueError("Use `label=` (not `labels`) for a single optimizer.")
        names = [label if label is not None else legend_labels(opts)[0]]
    _check_run_memory(surface, opts, start_arr, steps, record_every, record, limit)

    shared = {
        "surface": surface.to_config(),
        "surface_name": surface.name,
        # Up to 256 starts are listed; more are described (they are row 0 of
        # every trace's positions, saved with it).
        "starts": start_arr.tolist()
        if start_arr.size <= 512
        else {"shape": list(start_arr.shape), "stored_in": "positions[0]"},
        "steps": steps,
        "record_every": record_every,
        "record": list(record),
        "noise": float(noise),
        "noise_scheme": noise_scheme,
        "seed": seed,
        "dtype": np_dtype.name,
        "bound": None if box is None else box.tolist(),
        "clip_to_bound": bool(clip_to_bound),
        "tolerance": float(tolerance),
        "memory_limit": memory_limit if limit is None else limit,
        "versions": package_versions(),
    }
    bar = tqdm(
        total=steps * len(opts),
        disable=not progress,
        unit="step",
        desc="simulate",
        leave=False,
    )
    try:
        traces = [
            _run(
                surface,
                opt,
                name,
                start_arr,
                steps,
                record_every,
                record,
                noise,
                seed,
                box,
                clip_to_bound,
                tolerance,
                limit,
                shared,
                bar,
                (noise_scheme, particle_index),
            )
            for opt, name in zip(opts, names, strict=True)
        ]
    finally:
        bar.close()
    _warn_unrecorded(traces, record)
    if is_race:
        meta = {
            **shared,
            "labels": names,
            "optimizers": [optimizer_metadata(o) for o in opts],
        }
        return Race(traces=traces, metadata=jsonable(meta))
    return traces[0]


def _check_run_memory(surface, opts, starts, steps, record_every, record, limit):
    """Refuses a run whose recording and working set exceed `limit`, up front.

    Nothing that scales with `steps` or the batch is allocated before this (the
    recorded-steps index alone is 8 bytes a row). Internals are checked again
    when the first step shows which ones the optimizer has.
    """
    rows = steps // record_every + 1 + (steps % record_every != 0)
    numbers = 2 + ("loss" in record) + 2 * ("gradient" in record)
    points = len(surface.minima) + len(surface.saddles)
    points += len(getattr(surface, "maxima", ()))
    for opt in opts:
        B = batch_shape([starts], starts.ndim - 1, opt._array_hyperparameters())
        check_run(
            math.prod(B),
            rows,
            numbers,
            starts.dtype.itemsize,
            limit,
            stationary_points=points,
        )


def _internal_values(internals: dict, wanted: Sequence[str] | None) -> dict:
    """The recorded internals of one step: per-variable tuples -> the particle's.

    Values keep their own shapes (a `learning_rate` may be a scalar, a
    hyperparameter grid may be smaller than the batch): storing one into its
    recording row broadcasts it there, with no per-step `np.broadcast_to`.
    """
    out = {}
    for name, value in internals.items():
        if wanted is not None and name not in wanted:
            continue
        if isinstance(value, tuple):
            value = value[0]
        if value is not None:
            out[name] = value
    return out


def _internal_shape(value: Any, B: tuple) -> tuple:
    """Recording shape of one internal: `(*B, 2)` for per-coordinate ones, else B."""
    return (*B, 2) if np.ndim(value) > len(B) else B


class _Convergence:
    """Convergence candidates, with `statuses` evaluated over blocks of steps.

    A particle's candidate is its status at the last step, and `cand_step` the
    last step at which that status changed; both follow from the statuses of
    consecutive steps, so positions and gradients are buffered for `block`
    steps and classified in one vectorised `statuses` call (one call per step
    cost a dozen small-array operations, most of a one-particle step). With
    `block == 1` (large batches) each step is classified as it comes.
    """

    def __init__(self, x, g, minima, others, tol, block: int):
        self._args = (minima, others, tol)
        self.cand = statuses(x, g, *self._args)
        self.cand_step = np.zeros(self.cand.shape, dtype=np.int64)
        shape = (block, *x.shape) if block > 1 else (1, *[0] * x.ndim)
        self._x = np.empty(shape, dtype=x.dtype)
        self._g = np.empty(shape, dtype=g.dtype)
        self._n = 0
        self._first = 1  # the step of buffer row 0

    def push(self, x: np.ndarray, g: np.ndarray) -> None:
        """Adds the state after one more step."""
        if len(self._x) == 1:  # a large batch: classified at once, no copy
            status = statuses(x, g, *self._args)
            changed = status != self.cand
            if changed.any():
                self.cand = np.where(changed, status, self.cand)
                self.cand_step = np.where(changed, self._first, self.cand_step)
            self._first += 1
            return
        self._x[self._n] = x
        self._g[self._n] = g
        self._n += 1
        if self._n == len(self._x):
            self.flush()

    def flush(self) -> None:
        """Classifies the buffered steps and updates `cand`, `cand_step`."""
        n = self._n
        if not n:
            return
        status = statuses(self._x[:n], self._g[:n], *self._args)
        previous = np.concatenate([self.cand[None], status[:-1]])
        changed = status != previous
        last = n - 1 - np.argmax(changed[::-1], axis=0)
        self.cand_step = np.where(
            changed.any(axis=0), self._first + last, self.cand_step
        )
        self.cand = status[-1]
        self._first += n
        self._n = 0


#: Particle-steps buffered by `_Convergence` (4 numbers each: 2 MiB in float64).
_STATUS_BLOCK = 65536
#: Larger batches are classified every step: their cost is the arithmetic, which
#: blocking does not reduce, and the buffer copies would add to it.
_BLOCKED_UP_TO = 1024


def _run(
    surface,
    opt,
    label,
    starts,
    steps,
    record_every,
    record,
    noise,
    seed,
    box,
    clip,
    tol,
    limit,
    shared,
    bar,
    noise_source=(COUNTER, None),
) -> Trace:
    # Tiny float64 batches step on Python floats (simulator.scalar): the same
    # Trace bit for bit, without numpy's per-call overhead on every step.
    fast = scalar.plan(surface, opt, starts, steps, noise, noise_source[0])
    if fast is not None:
        trace = scalar.run(
            fast, surface, opt, label, starts, steps, record_every, record,
            noise, seed, box, clip, tol, limit, shared, noise_source,
        )  # fmt: skip
        if trace is not None:
            if not bar.disable:
                bar.update(steps)
            return trace
    dtype = starts.dtype
    state = opt.init([starts], batch_ndim=starts.ndim - 1, names=["position"])
    B = state.batch_shape
    x = np.broadcast_to(starts, (*B, 2)).astype(dtype)
    rows = recorded_steps(steps, record_every)
    R = len(rows)
    want_all_internals = "internals" in record
    wanted = (
        None if want_all_internals else [r for r in record if r not in RECORD_FIELDS]
    )
    want_internals = want_all_internals or bool(wanted)
    minima, others = stationary_points(surface)
    if noise:
        scheme, index = noise_source
        draw = GradientNoise(seed, B, steps, index=index, scheme=scheme).draw
    progress_bar = not bar.disable

    alive = np.ones(B, dtype=bool)
    all_alive = True
    div_step = np.full(B, -1, dtype=np.int64)
    reason = np.full(B, "", dtype="<U18")
    clip_events = 0
    f, g = _evaluate(surface, opt, x, state)
    n_particles = math.prod(B)
    block = _STATUS_BLOCK // n_particles if n_particles <= _BLOCKED_UP_TO else 1
    convergence = _Convergence(x, g, minima, others, tol, max(1, min(steps, block)))

    base_numbers = 2 + ("loss" in record) + 2 * ("gradient" in record)
    check_memory(limit, base_numbers * n_particles, R, B, dtype.itemsize)
    positions, loss, gradient = _allocate_recording(
        [
            ((R, *B, 2), dtype),
            ((R, *B), dtype) if "loss" in record else None,
            ((R, *B, 2), dtype) if "gradient" in record else None,
        ]
    )
    internals: dict[str, np.ndarray] = {}
    # Python ints: the per-step "is this a recorded row?" test is a hot line.
    row_steps = [*rows.tolist(), -1]
    row = 0

    def _store(values_f, values_g):
        positions[row] = x
        if loss is not None:
            loss[row] = values_f
        if gradient is not None:
            gradient[row] = values_g

    def _mark(mask, step, why):
        nonlocal alive, all_alive
        div_step[mask] = step
        reason[mask] = why
        alive = alive & ~mask
        all_alive = False

    _store(f, g)
    row = 1
    # Non-finite values are expected (divergence) and handled explicitly below.
    with np.errstate(all="ignore"):
        for k in range(steps):
            # Fast path: a sum over all particles is finite only if every term is
            # (a NaN or inf anywhere propagates; an overflow of the sum itself just
            # takes the exact per-particle path).
            if not (all_alive and math.isfinite(f.sum() + g.sum())):
                bad_f = alive & ~np.isfinite(f)
                finite_g = np.isfinite(g[..., 0]) & np.isfinite(g[..., 1])
                bad_g = alive & ~bad_f & ~finite_g
                if bad_f.any():
                    _mark(bad_f, k, "nonfinite_loss")
                if bad_g.any():
                    _mark(bad_g, k, "nonfinite_gradient")
            alive_before = alive
            all_alive_before = all_alive
            if noise:
                # Drawn for every particle so the sequence never depends on divergence.
                g = g + noise * draw(k).astype(dtype)
            g_used = g if all_alive else np.where(alive[..., None], g, 0)
            record_row = row_steps[row] == k + 1
            res = opt.step(
                [x], [g_used], state, internals=want_internals and record_row
            )
            state = res.state
            x_new = res.params[0]
            if not (all_alive and math.isfinite(x_new.sum())):
                bad_x = alive & ~(
                    np.isfinite(x_new[..., 0]) & np.isfinite(x_new[..., 1])
                )
                if bad_x.any():
                    _mark(bad_x, k + 1, "nonfinite_position")
            if box is not None:
                outside = alive & np.any(
                    (x_new < box[:, 0]) | (x_new > box[:, 1]), axis=-1
                )
                if outside.any():
                    if clip:
                        clip_events += int(outside.sum())
                        x_new = np.clip(x_new, box[:, 0], box[:, 1]).astype(dtype)
                    else:
                        _mark(outside, k + 1, "out_of_bound")
            if not all_alive:
                # Frozen at the last finite position (before the step that left).
                x_new = np.where(alive[..., None], x_new, x)
            x = x_new
            f, g = _evaluate(surface, opt, x, state)
            convergence.push(x, g)
            if record_row:
                if want_internals:
                    found = _internal_values(res.internals, wanted)
                    new = [n for n in found if n not in internals]
                    if new:
                        # Allocated when first seen: with gradient accumulation the
                        # rule's internals appear only on update steps.
                        shapes = {n: _internal_shape(found[n], B) for n in new}
                        numbers = base_numbers * n_particles
                        numbers += sum(v[0].size for v in internals.values())
                        numbers += sum(math.prod(shapes[n]) for n in new)
                        check_memory(limit, numbers, R, B, dtype.itemsize)
                        for n in new:
                            (internals[n],) = allocate(
                                [((R - 1, *shapes[n]), dtype)], prefault=False
                            )
                            # Rows before it first appeared have no value; every
                            # later row is written below (a value or NaN), so the
                            # array is filled once, not NaN-filled and then written.
                            internals[n][: row - 1] = np.nan
                    if len(found) < len(internals):
                        for n in internals.keys() - found.keys():
                            internals[n][row - 1] = np.nan
                    for n, v in found.items():
                        out = internals[n]
                        if all_alive_before:
                            out[row - 1] = v
                        else:
                            mask = (
                                alive_before
                                if out.ndim == len(B) + 1
                                else (alive_before[..., None])
                            )
                            out[row - 1] = np.where(mask, v, np.nan)
                _store(f, g)
                row += 1
            if progress_bar:
                bar.update(1)
    convergence.flush()
    return finish_trace(
        shared,
        opt,
        label,
        clip_events,
        surface,
        rows=rows,
        positions=positions,
        loss=loss,
        gradient=gradient,
        internals=internals,
        div_step=div_step,
        reason=reason,
        cand=convergence.cand,
        cand_step=convergence.cand_step,
    )


def _evaluate(surface, opt, x, state) -> tuple[np.ndarray, np.ndarray]:
    """The loss at the iterate `x` and the gradient where `opt` wants it.

    Every rule but textbook Nesterov evaluates at its iterate (one call);
    `Optimizer.gradient_point` returning another point costs a second one.
    """
    point = opt.gradient_point([x], state)[0]
    if point is x:
        return surface.value_and_grad(x)
    value = getattr(surface, "value", None)  # a value-only kernel where there is one
    f = value(x) if value is not None else surface.value_and_grad(x)[0]
    return f, surface.value_and_grad(point)[1]


def _allocate_recording(specs: list) -> list[np.ndarray | None]:
    """`buffers.allocate` for the fields asked for (`None` specs stay None)."""
    arrays = iter(allocate([s for s in specs if s is not None]))
    return [None if s is None else next(arrays) for s in specs]
