"""Hyperparameter sweeps and fate maps, each computed as one vectorised run."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import surfaces
from simulator import optimizers
from simulator.budget import check_run
from simulator.engine import (
    DEFAULT_MEMORY_LIMIT,
    _check_int,
    parse_bytes,
    resolve_optimizer,
    resolve_surface,
    simulate,
)
from simulator.metadata import (
    check_schema,
    jsonable,
    load_archive,
    package_versions,
    save_archive,
)
from simulator.noise import COUNTER
from simulator.optimizers.base import Optimizer

__all__ = ["FateMap", "SweepResult", "fate_map", "grid_axis", "sweep"]

#: `FateMap.outcome` codes besides minimum indices.
STALLED = -1
DIVERGED = -2

#: Bytes per particle estimated for chunk sizing: the step temporaries and
#: optimizer state (about 40 numbers of the run's dtype; Adam holds 3 state
#: vectors, a step allocates some 10 temporaries of 2 numbers) plus the
#: recording (2 rows of position and loss) ...
_WORKING_NUMBERS = 40 + 6
#: ... and the gathered result per particle: final loss, positions (3 x 8),
#: converged step and index, diverged step (3 x 8), diverged flag (1) and
#: reason (18 UCS-4 characters, 72).
_SWEEP_RESULT_BYTES = 8 * 6 + 1 + 72
_FATE_RESULT_BYTES = 8 * 4


def _optimizer_class_and_base(optimizer: Any) -> tuple[type[Optimizer], dict]:
    """Class and base keyword arguments from a name, class, text or instance."""
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer, {}
    if isinstance(optimizer, Optimizer):
        config = optimizer.get_config()
        config.pop("name", None)
        return type(optimizer), config
    if isinstance(optimizer, str):
        if "(" in optimizer:  # Keras text: its arguments are the base
            return _optimizer_class_and_base(resolve_optimizer(optimizer))
        return type(optimizers.get(optimizer)), {}  # a bare name: no base arguments
    raise ValueError(
        "`optimizer` must be an optimizer name ('SGD'), class, instance or "
        f"Keras-style text. Received: optimizer={optimizer!r}"
    )


def grid_axis(
    kind: str, start: float, stop: float, n: int, *, memory_limit: Any = None
) -> np.ndarray:
    """`np.linspace` / `np.geomspace` values of one sweep axis, sized first.

    The CLI's `NAME=linspace:a:b:n` and a spec's `{geomspace = [a, b, n]}` both
    come here, so a typo such as n = 10**9 is refused before 8 GB are filled.

    Args:
        kind: "linspace" or "geomspace" (positive `start` and `stop`).
        start, stop: finite ends.
        n: number of values (>= 1).
        memory_limit: as in `sweep` (default: its default).

    Returns:
        `(n,)` float64 values.
    """
    if kind not in ("linspace", "geomspace"):
        raise ValueError(
            f"`kind` must be 'linspace' or 'geomspace'. Received: kind={kind!r}"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{kind}: `n` must be an integer >= 1. Received: n={n!r}")
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ValueError(
            f"{kind}: start and stop must be finite. Received: {start!r}, {stop!r}"
        )
    if kind == "geomspace" and not (start > 0 and stop > 0):
        raise ValueError(
            f"geomspace needs positive start and stop. Received: {start!r}, {stop!r}"
        )
    # Each value is at least one particle of the sweep that follows.
    check_run(
        n,
        2,
        3,
        8,
        DEFAULT_MEMORY_LIMIT if memory_limit is None else memory_limit,
        what=f"A {kind} sweep axis of {n} values",
        reduce="fewer values",
    )
    return getattr(np, kind)(float(start), float(stop), int(n))


def _check_grid(grid: Any, cls: type[Optimizer]) -> dict[str, np.ndarray]:
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(
            "`grid` must be a non-empty dict of hyperparameter name -> values, e.g. "
            f"{{'learning_rate': [0.01, 0.1]}}. Received: grid={grid!r}"
        )
    defaults = cls().get_config()
    allowed = set(defaults) - {"name"}
    out = {}
    for name, values in grid.items():
        if name not in allowed:
            raise ValueError(
                f"`grid` key {name!r} is not an argument of {cls.__name__}. "
                f"Arguments: {sorted(allowed)}"
            )
        if isinstance(defaults[name], bool):
            # A switch changes the rule's structure: one value per run.
            raise ValueError(
                f"`grid` key {name!r} is a switch (True/False) of {cls.__name__}, "
                f"not a number to sweep: fix it (fixed={{'{name}': True}}) and run "
                f"one sweep per value. Received: {name}={values!r}"
            )
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
            raise ValueError(
                f"`grid[{name!r}]` must be a non-empty 1-D list of finite numbers. "
                f"Received: {values!r}"
            )
        out[name] = arr
    return out


#: Array layouts (see `simulator.metadata.check_schema`).
SWEEP_SCHEMA = {
    "final_loss": "f:*B",
    "final_positions": "f:*B,2",
    "converged_step": "i:*B",
    "converged_to": "i:*B",
    "diverged": "b:*B",
    "diverged_step": "i:*B",
    "diverged_reason": "U:*B",
}
FATE_SCHEMA = {
    "x": "f:W",
    "y": "f:H",
    "outcome": "i:H,W",
    "steps_taken": "i:H,W",
    "final_positions": "f:H,W,2",
}


@dataclass
class SweepResult:
    """Outcome of every (grid point, start) pair of a sweep.

    Grid shape `G` (one axis per swept hyperparameter, in `axes` order), starts
    shape `S` (usually `(N,)`).

    Attributes:
        axes: hyperparameter name -> its 1-D values.
        final_loss: `(*G, *S)` loss after the last step (at the frozen position
            for diverged runs).
        final_positions: `(*G, *S, 2)`.
        converged_step: `(*G, *S)` int, -1 if never.
        converged_to: `(*G, *S)` int, index into `surface.minima` (see `Trace`).
        diverged: `(*G, *S)` bool; `diverged_step`, `diverged_reason` alike.
        metadata: the configuration (surface, optimizer, grid, starts, steps, ...).
    """

    axes: dict[str, np.ndarray]
    final_loss: np.ndarray
    final_positions: np.ndarray
    converged_step: np.ndarray
    converged_to: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    diverged_reason: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        """`G`: one axis per swept hyperparameter."""
        return tuple(len(v) for v in self.axes.values())

    def _start_axes(self) -> tuple[int, ...]:
        return tuple(range(len(self.axes), self.final_loss.ndim))

    def median_final_loss(self) -> np.ndarray:
        """`G`: median over starts of the final loss (diverged runs count as inf)."""
        loss = np.where(self.diverged, np.inf, self.final_loss)
        return np.median(loss, axis=self._start_axes())

    def fraction_diverged(self) -> np.ndarray:
        """`G`: fraction of starts that diverged."""
        return self.diverged.mean(axis=self._start_axes())

    def fraction_converged(self) -> np.ndarray:
        """`G`: fraction of starts that reached a known minimum."""
        return (self.converged_to >= 0).mean(axis=self._start_axes())

    def median_steps_to_converge(self) -> np.ndarray:
        """`G`: median convergence step over starts (NaN if more than half never)."""
        steps = np.where(self.converged_to >= 0, self.converged_step, np.inf)
        median = np.median(steps.astype(np.float64), axis=self._start_axes())
        return np.where(np.isfinite(median), median, np.nan)

    def save(self, path: str | Path) -> Path:
        """Writes the result (`.npz` + JSON metadata with a checksum)."""
        arrays = {f"axis/{k}": v for k, v in self.axes.items()}
        for name in (
            "final_loss",
            "final_positions",
            "converged_step",
            "converged_to",
            "diverged",
            "diverged_step",
            "diverged_reason",
        ):
            arrays[name] = getattr(self, name)
        meta = {
            "kind": "sweep",
            "axis_order": list(self.axes),
            "metadata": self.metadata,
        }
        return save_archive(path, arrays, meta)

    @classmethod
    def load(cls, path: str | Path) -> SweepResult:
        """Reads a result written by `save`."""
        arrays, meta = load_archive(path)
        if meta.get("kind") != "sweep":
            raise ValueError(f"'{path}' holds a {meta.get('kind')!r}, not a sweep.")
        order = meta.get("axis_order")
        if not isinstance(order, list) or not all(isinstance(k, str) for k in order):
            raise ValueError(f"'{path}': a sweep needs its list of axis names.")
        axes = {}
        for k in order:
            check_schema(arrays, {f"axis/{k}": "f:N"}, f"'{path}'")
            axes[k] = arrays.pop(f"axis/{k}")
        bound = check_schema(arrays, SWEEP_SCHEMA, f"'{path}'")
        grid = tuple(len(v) for v in axes.values())
        if (
            set(arrays) != set(SWEEP_SCHEMA)
            or bound["B"][: len(grid)] != grid
            or not isinstance(meta.get("metadata"), dict)
        ):
            raise ValueError(
                f"'{path}': the arrays do not match the sweep's grid {grid} "
                f"(arrays {sorted(arrays)}, batch shape {bound['B']})."
            )
        return cls(axes=axes, metadata=meta["metadata"], **arrays)


def sweep(
    surface: Any,
    optimizer: Any,
    grid: Mapping[str, Sequence[float]],
    starts: Any = None,
    steps: int = 200,
    *,
    fixed: Mapping[str, Any] | None = None,
    tolerance: float = 1e-3,
    noise: float = 0.0,
    seed: int = 0,
    dtype: str = "float64",
    bound: Any = None,
    memory_limit: Any = DEFAULT_MEMORY_LIMIT,
    progress: bool = False,
    client: Any = None,
    chunks: int | None = None,
    results_dir: str | Path | None = None,
) -> SweepResult:
    """Runs every combination of `grid` values from shared starts, in one run.

    The hyperparameter arrays get shape `(*G, 1, ..., 1)` and broadcast against
    starts `(*S, 2)`, so the optimizer sees batch shape `(*G, *S)`: no Python
    loop over grid points or starts.

    Args:
        surface: a `Surface`, name or expression.
        optimizer: an optimizer name (`"SGD"`), class, instance or Keras-style
            text; its arguments are the base that `fixed` and `grid` override.
        grid: hyperparameter name -> 1-D values, e.g.
            `{"learning_rate": np.geomspace(1e-4, 1e-2, 64), "momentum": ...}`.
        starts: `(*S, 2)` shared starts (default: the surface's suggested starts).
        steps: optimizer steps.
        fixed: other constructor arguments, e.g. `{"nesterov": True}`.
        tolerance, noise, seed, dtype, bound, memory_limit, progress: as in
            `simulate` (`memory_limit` caps each chunk and the gathered result).
        client: None (one run in this process), a `distributed.Client`, a
            scheduler address or `"local:N"`: the grid is cut into chunks of
            grid points run as Dask tasks (see `simulator.cluster`). Results
            are bit-identical to the single run, with or without noise.
        chunks: grid points per chunk (default: sized from `memory_limit` and
            the worker count); given alone, runs the chunks in this process.
        results_dir: a directory for finished chunks; an interrupted sweep
            called again with the same arguments resumes from it.

    Returns:
        A `SweepResult`.
    """
    surface = resolve_surface(surface)
    cls, base = _optimizer_class_and_base(optimizer)
    axes = _check_grid(grid, cls)
    fixed = dict(fixed or {})
    overlap = set(fixed) & set(axes)
    if overlap:
        raise ValueError(f"`fixed` and `grid` both set {sorted(overlap)}.")
    start_arr = np.asarray(
        surface.starts if starts is None else starts, dtype=np.float64
    )
    if start_arr.ndim == 0 or start_arr.shape[-1] != 2:
        raise ValueError(
            f"`starts` must have shape (..., 2). Received: shape {start_arr.shape}"
        )
    n_start_axes = start_arr.ndim - 1
    grid_shape = [len(v) for v in axes.values()]
    check_run(
        math.prod(grid_shape) * math.prod(start_arr.shape[:-1]),
        2,
        3,
        np.dtype(dtype).itemsize if dtype in ("float32", "float64") else 8,
        memory_limit,
        stationary_points=_n_stationary(surface),
        what=(
            f"This sweep ({' x '.join(map(str, grid_shape))} grid points x "
            f"{math.prod(start_arr.shape[:-1])} starts)"
        ),
        reduce="fewer grid values or starts",
    )
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    arrays = {
        name: values.reshape(values.shape + (1,) * n_start_axes)
        for name, values in zip(axes, mesh, strict=True)
    }
    run = {
        "noise": noise,
        "seed": seed,
        "dtype": dtype,
        "bound": bound,
        "tolerance": tolerance,
        "memory_limit": memory_limit,
    }
    if client is not None or chunks is not None or results_dir is not None:
        return _sweep_chunked(
            surface,
            cls,
            {**base, **fixed},
            axes,
            start_arr,
            steps,
            run,
            progress,
            client,
            chunks,
            results_dir,
        )
    opt = cls(**{**base, **fixed, **arrays})
    trace = simulate(
        surface,
        opt,
        start_arr,
        steps,
        record=("positions", "loss"),
        record_every=max(steps, 1),
        progress=progress,
        label=cls.__name__,
        **run,
    )
    return SweepResult(
        axes=axes,
        **_sweep_arrays(trace),
        metadata=_sweep_metadata(trace.metadata, cls, {**base, **fixed}, axes),
    )


def _sweep_arrays(trace) -> dict[str, np.ndarray]:
    """The `SweepResult` arrays of a sweep's trace (batch shape `(*G, *S)`)."""
    return {
        "final_loss": np.broadcast_to(trace.loss[-1], trace.batch_shape).copy(),
        "final_positions": trace.positions[-1],
        "converged_step": trace.converged_step,
        "converged_to": trace.converged_to,
        "diverged": trace.diverged,
        "diverged_step": trace.diverged_step,
        "diverged_reason": trace.diverged_reason,
    }


def _sweep_metadata(trace_meta: dict, cls, base: dict, axes: dict) -> dict:
    """A sweep's metadata from its trace's (grid values replace the arrays)."""
    metadata = dict(trace_meta)
    metadata["optimizer"] = dict(metadata["optimizer"])
    metadata.update(
        kind="sweep",
        optimizer_class=cls.__name__,
        base_arguments=base,
        grid={k: v.tolist() for k, v in axes.items()},
    )
    metadata["optimizer"]["config"] = {
        k: ("<grid>" if k in axes else v)
        for k, v in metadata["optimizer"]["config"].items()
    }
    metadata["optimizer"]["text"] = _grid_text(cls, base, axes)
    return jsonable(metadata)


def _chunk_metadata(outputs: list, shape: tuple, execution: dict) -> dict:
    """The first chunk's trace metadata with the whole run's batch shape."""
    meta = dict(outputs[0][1]["trace_metadata"])
    meta["batch_shape"] = list(shape)
    meta["clip_events"] = sum(o[1]["trace_metadata"]["clip_events"] for o in outputs)
    meta["execution"] = execution
    return meta


def _run_config(kind: str, surface, run: dict, steps: int, **extra) -> dict:
    """What identifies a chunked run on disk (a results directory's manifest)."""
    versions = package_versions()
    return {
        "kind": kind,
        "surface": surface.to_config(),
        "steps": steps,
        **{k: v for k, v in run.items() if k != "memory_limit"},
        "noise_scheme": COUNTER,
        "versions": {k: versions.get(k) for k in ("optiscape", "numpy")},
        **extra,
    }


def _sweep_chunked(
    surface, cls, base, axes, start_arr, steps, run, progress, client, chunks, out_dir
) -> SweepResult:
    """`sweep` in chunks of grid points, in this process or on Dask."""
    from simulator import cluster

    chunks = cluster.check_chunks(chunks, "grid points")
    steps = _check_int("steps", steps, 0)
    G = tuple(len(v) for v in axes.values())
    S = start_arr.shape[:-1]
    n_points, n_starts = math.prod(G), math.prod(S)
    flat = {
        k: m.ravel()
        for k, m in zip(axes, np.meshgrid(*axes.values(), indexing="ij"), strict=True)
    }
    # Every argument `simulate` checks, checked here (zero steps) before any
    # cluster starts: a bad value fails in one line, not on every worker.
    first = cls(**{**base, **{k: float(v[0]) for k, v in flat.items()}})
    simulate(surface, first, start_arr, 0, record=("positions", "loss"), **run)
    limit = parse_bytes(run["memory_limit"])
    itemsize = np.dtype(run["dtype"]).itemsize
    per_particle = itemsize * _WORKING_NUMBERS + _SWEEP_RESULT_BYTES
    cluster.check_gathered(
        n_points * n_starts * _SWEEP_RESULT_BYTES, limit, "sweep result"
    )
    config = _run_config(
        "sweep",
        surface,
        run,
        steps,
        optimizer_class=cls.__name__,
        base_arguments=base,
        grid={k: v.tolist() for k, v in axes.items()},
        starts=start_arr.tolist(),
    )
    ref = cluster.portable_surface(surface)
    outputs, execution = cluster.run_grid(
        _sweep_chunk,
        lambda lo, hi: {
            "surface": ref,
            "cls": cls,
            "base": base,
            "values": {k: v[lo:hi] for k, v in flat.items()},
            "range": (lo, hi),
            "starts": start_arr,
            "steps": steps,
            "run": run,
        },
        units=n_points,
        unit_bytes=n_starts * per_particle,
        particles_per_unit=n_starts,
        limit=limit,
        chunks=chunks,
        unit="grid points",
        client=client,
        results_dir=out_dir,
        config=config,
        progress=progress,
        desc="sweep",
    )
    shape = (*G, *S)
    arrays = {
        k: np.concatenate([o[0][k] for o in outputs]).reshape(
            shape + outputs[0][0][k].shape[1 + len(S) :]
        )
        for k in outputs[0][0]
    }
    meta = _chunk_metadata(outputs, shape, execution)
    return SweepResult(
        axes=axes, **arrays, metadata=_sweep_metadata(meta, cls, base, axes)
    )


def _sweep_chunk(task: dict) -> tuple[dict, dict]:
    """One chunk of grid points `[lo, hi)`: `(arrays (hi - lo, *S, ...), meta)`.

    Each particle's noise index is its C-order index in the whole `(*G, *S)`
    batch, so the chunk adds the noise the single run adds.
    """
    from simulator import cluster

    cluster.tune_worker_allocator()
    lo, hi = task["range"]
    starts = task["starts"]
    S = starts.shape[:-1]
    hp = {
        k: np.asarray(v).reshape((hi - lo,) + (1,) * len(S))
        for k, v in task["values"].items()
    }
    cls = task["cls"]
    n = math.prod(S)
    index = np.arange(lo * n, hi * n).reshape((hi - lo, *S))
    steps = task["steps"]
    trace = simulate(
        cluster.rebuild_surface(task["surface"]),
        cls(**{**task["base"], **hp}),
        starts,
        steps,
        record=("positions", "loss"),
        record_every=max(steps, 1),
        label=cls.__name__,
        particle_index=index,
        **task["run"],
    )
    arrays = {k: np.ascontiguousarray(v) for k, v in _sweep_arrays(trace).items()}
    return arrays, {"trace_metadata": trace.metadata}


def _n_stationary(surface: Any) -> int:
    """Known minima, saddles and maxima (the convergence test's distance rows)."""
    return (
        len(surface.minima)
        + len(getattr(surface, "saddles", ()))
        + len(getattr(surface, "maxima", ()))
    )


def _grid_text(cls: type[Optimizer], base: dict, axes: dict) -> str:
    """Text such as `SGD(nesterov=True, learning_rate=<64 values in [1e-05, 0.01]>)`."""
    parts = [f"{k}={v!r}" for k, v in base.items() if not isinstance(v, np.ndarray)]
    for name, values in axes.items():
        parts.append(
            f"{name}=<{len(values)} values in [{values.min():.4g}, {values.max():.4g}]>"
        )
    return f"{cls.__name__}({', '.join(parts)})"


@dataclass
class FateMap:
    """Where each start of a dense grid ends up.

    Attributes:
        x: `(W,)` start x coordinates; y: `(H,)` start y coordinates.
        outcome: `(H, W)` int: index into `surface.minima`, `STALLED` (-1: no
            known minimum reached, including saddles) or `DIVERGED` (-2). Row
            index is y (use `imshow(origin="lower")`).
        steps_taken: `(H, W)` int: convergence step, divergence step, or `steps`.
        final_positions: `(H, W, 2)`.
        surface: the `Surface`.
        metadata: the configuration.
    """

    x: np.ndarray
    y: np.ndarray
    outcome: np.ndarray
    steps_taken: np.ndarray
    final_positions: np.ndarray
    surface: Any
    metadata: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[int, int]:
        """Outcome code -> number of starts."""
        codes, counts = np.unique(self.outcome, return_counts=True)
        return {int(c): int(n) for c, n in zip(codes, counts, strict=True)}

    def save(self, path: str | Path) -> Path:
        """Writes the fate map (`.npz` + JSON metadata with a checksum)."""
        arrays = {
            k: getattr(self, k)
            for k in ("x", "y", "outcome", "steps_taken", "final_positions")
        }
        return save_archive(path, arrays, {"kind": "fate", "metadata": self.metadata})

    @classmethod
    def load(cls, path: str | Path) -> FateMap:
        """Reads a fate map written by `save`."""
        arrays, meta = load_archive(path)
        if meta.get("kind") != "fate":
            raise ValueError(f"'{path}' holds a {meta.get('kind')!r}, not a fate map.")
        check_schema(arrays, FATE_SCHEMA, f"'{path}'")
        if set(arrays) != set(FATE_SCHEMA) or not isinstance(
            meta.get("metadata"), dict
        ):
            raise ValueError(f"'{path}': not a fate map's arrays ({sorted(arrays)}).")
        try:
            surface = surfaces.from_config(meta["metadata"]["surface"])
            if meta["metadata"].get("minima_discovered"):
                # The minima found when the map was made are in the metadata:
                # reuse them rather than searching again (and possibly
                # differently).
                found = tuple(
                    surfaces.CriticalPoint((float(x), float(y)), float(value), kind)
                    for x, y, value, kind in meta["metadata"]["minima"]
                )
                surface = dataclasses.replace(surface, minima=found)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(
                f"'{path}': its metadata does not describe the surface and its "
                f"minima ({type(err).__name__}: {err})."
            ) from None
        return cls(surface=surface, metadata=meta["metadata"], **arrays)


def fate_map(
    surface: Any,
    optimizer: Any,
    steps: int = 500,
    *,
    resolution: int | tuple[int, int] = 200,
    view: Any = None,
    tolerance: float = 1e-3,
    noise: float = 0.0,
    seed: int = 0,
    dtype: str = "float64",
    bound: Any = None,
    memory_limit: Any = DEFAULT_MEMORY_LIMIT,
    progress: bool = False,
    client: Any = None,
    chunks: int | None = None,
    results_dir: str | Path | None = None,
) -> FateMap:
    """Runs `optimizer` from every point of a `resolution` grid over `view`.

    Args:
        surface: a `Surface`, name or expression.
        optimizer: an `Optimizer` or Keras-style text.
        steps: optimizer steps per start.
        resolution: grid points per axis, or `(W, H)`.
        view: `((xmin, xmax), (ymin, ymax))`, default the surface's view.
        tolerance, noise, seed, dtype, bound, memory_limit, progress: as in
            `simulate`.
        client, results_dir: as in `sweep` (chunks of map rows).
        chunks: map rows per chunk (default: sized from `memory_limit` and the
            worker count).

    Returns:
        A `FateMap`.
    """
    surface = resolve_surface(surface)
    if isinstance(resolution, (int, np.integer)) and not isinstance(resolution, bool):
        resolution = (int(resolution), int(resolution))
    if (
        not isinstance(resolution, tuple)
        or len(resolution) != 2
        or not all(isinstance(r, (int, np.integer)) and r >= 2 for r in resolution)
    ):
        raise ValueError(
            "`resolution` must be an integer >= 2 or a pair (W, H) of them. "
            f"Received: resolution={resolution!r}"
        )
    (x0, x1), (y0, y1) = surface.view if view is None else view
    if not (math.isfinite(x0) and math.isfinite(x1) and x0 < x1 and y0 < y1):
        raise ValueError(
            f"`view` must be ((xmin, xmax), (ymin, ymax)). Received: view={view!r}"
        )
    # A user expression lists no minima: find them (L-BFGS-B multistart) so that
    # each start can be attributed to one; recorded in the metadata.
    discovered = not surface.minima
    surface = surfaces.with_minima(surface, ((x0, x1), (y0, y1)))
    check_run(
        resolution[0] * resolution[1],
        2,
        2,
        np.dtype(dtype).itemsize if dtype in ("float32", "float64") else 8,
        memory_limit,
        stationary_points=_n_stationary(surface),
        what=f"This fate map ({resolution[0]} x {resolution[1]} starts)",
        reduce="a lower resolution",
    )
    x = np.linspace(x0, x1, resolution[0])
    y = np.linspace(y0, y1, resolution[1])
    starts = np.stack(np.meshgrid(x, y, indexing="xy"), axis=-1)  # (H, W, 2)
    run = {
        "noise": noise,
        "seed": seed,
        "dtype": dtype,
        "bound": bound,
        "tolerance": tolerance,
        "memory_limit": memory_limit,
    }
    if client is None and chunks is None and results_dir is None:
        trace = simulate(
            surface,
            optimizer,
            starts,
            steps,
            record=("positions",),
            record_every=max(steps, 1),
            progress=progress,
            **run,
        )
        arrays, trace_meta = _fate_arrays(trace, steps), trace.metadata
    else:
        arrays, trace_meta = _fate_chunked(
            surface,
            optimizer,
            starts,
            steps,
            run,
            progress,
            client,
            chunks,
            results_dir,
        )
    metadata = dict(trace_meta)
    metadata.update(
        kind="fate",
        resolution=list(resolution),
        view=[[float(x0), float(x1)], [float(y0), float(y1)]],
        minima=[[*m.xy, m.value, m.kind] for m in surface.minima],
        minima_discovered=discovered,
    )
    metadata.pop("starts", None)  # the grid is described by view and resolution
    return FateMap(x=x, y=y, surface=surface, metadata=metadata, **arrays)


def _fate_arrays(trace, steps: int) -> dict[str, np.ndarray]:
    """`outcome`, `steps_taken`, `final_positions` of a fate map's trace."""
    reached = trace.converged_to >= 0
    outcome = np.where(
        trace.diverged, DIVERGED, np.where(reached, trace.converged_to, STALLED)
    )
    steps_taken = np.where(
        trace.diverged,
        trace.diverged_step,
        np.where(reached, trace.converged_step, steps),
    )
    return {
        "outcome": outcome,
        "steps_taken": steps_taken,
        "final_positions": np.ascontiguousarray(trace.positions[-1]),
    }


def _fate_chunked(
    surface, optimizer, starts, steps, run, progress, client, chunks, out_dir
) -> tuple[dict, dict]:
    """A fate map's arrays and trace metadata, in chunks of rows."""
    from simulator import cluster

    chunks = cluster.check_chunks(chunks, "map rows")
    steps = _check_int("steps", steps, 0)
    opt = resolve_optimizer(optimizer)
    H, W = starts.shape[:2]
    simulate(surface, opt, starts[:1, :1], 0, record=("positions",), **run)
    limit = parse_bytes(run["memory_limit"])
    itemsize = np.dtype(run["dtype"]).itemsize
    per_particle = itemsize * _WORKING_NUMBERS + _FATE_RESULT_BYTES
    cluster.check_gathered(H * W * _FATE_RESULT_BYTES, limit, "fate map")
    config = _run_config(
        "fate",
        surface,
        run,
        steps,
        optimizer=opt.to_text(),
        optimizer_config=jsonable(opt.get_config()),
        shape=[H, W],
        first_start=starts[0, 0].tolist(),
        last_start=starts[-1, -1].tolist(),
        minima=[[*m.xy, m.value, m.kind] for m in surface.minima],
    )
    ref = cluster.portable_surface(surface)
    outputs, execution = cluster.run_grid(
        _fate_chunk,
        lambda lo, hi: {
            "surface": ref,
            "optimizer": opt,
            "range": (lo, hi),
            "starts": starts[lo:hi],
            "steps": steps,
            "run": run,
        },
        units=H,
        unit_bytes=W * per_particle,
        particles_per_unit=W,
        limit=limit,
        chunks=chunks,
        unit="map rows",
        client=client,
        results_dir=out_dir,
        config=config,
        progress=progress,
        desc="fate",
    )
    arrays = {k: np.concatenate([o[0][k] for o in outputs]) for k in outputs[0][0]}
    return arrays, _chunk_metadata(outputs, (H, W), execution)


def _fate_chunk(task: dict) -> tuple[dict, dict]:
    """Rows `[lo, hi)` of a fate map: `(arrays (hi - lo, W, ...), meta)`."""
    from simulator import cluster

    cluster.tune_worker_allocator()
    lo, hi = task["range"]
    starts = task["starts"]
    W = starts.shape[1]
    trace = simulate(
        cluster.rebuild_surface(task["surface"]),
        task["optimizer"],
        starts,
        task["steps"],
        record=("positions",),
        record_every=max(task["steps"], 1),
        particle_index=np.arange(lo * W, hi * W).reshape(hi - lo, W),
        **task["run"],
    )
    return _fate_arrays(trace, task["steps"]), {"trace_metadata": trace.metadata}
