"""`Trace` and `Race`: what renderers read from a run, saved and loaded exactly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import surfaces
from simulator.metadata import check_schema, load_archive, save_archive

__all__ = ["DIVERGENCE_REASONS", "Race", "Trace", "load"]

#: Values of `Trace.diverged_reason` (empty string: did not diverge).
DIVERGENCE_REASONS = (
    "",
    "nonfinite_position",
    "nonfinite_loss",
    "nonfinite_gradient",
    "out_of_bound",
)

_ARRAY_FIELDS = (
    "steps_recorded",
    "positions",
    "loss",
    "gradient",
    "diverged",
    "diverged_step",
    "diverged_reason",
    "converged_step",
    "converged_to",
)


#: What a trace's arrays must look like (see `simulator.metadata.check_schema`).
TRACE_SCHEMA = {
    "steps_recorded": "i:R",
    "positions": "f:R,*B,2",
    "loss": "f?:R,*B",
    "gradient": "f?:R,*B,2",
    "diverged": "b:*B",
    "diverged_step": "i:*B",
    "diverged_reason": "U:*B",
    "converged_step": "i:*B",
    "converged_to": "i:*B",
    "internals/*": "fb:R-1,*B,2|fb:R-1,*B",
}


def _rebuild_surface(metadata: Any, source: str) -> Any:
    """The surface from saved metadata (damaged: a ValueError naming the file)."""
    try:
        return surfaces.from_config(metadata["surface"])
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        raise ValueError(
            f"{source}: its metadata does not describe a surface "
            f"({type(err).__name__}: {err})."
        ) from None


@dataclass
class Trace:
    """The recorded run of one optimizer from a batch of starts on a surface.

    `R` recorded rows (row 0 is the start, the last row the final step), batch
    shape `B` (e.g. `(N,)` particles or `(H, N)` for a hyperparameter sweep).

    Attributes:
        steps_recorded: `(R,)` int, optimizer step of each row.
        positions: `(R, *B, 2)`; a diverged particle stays at its last finite
            position.
        loss: `(R, *B)` surface value at `positions` (None if not recorded).
        gradient: `(R, *B, 2)` exact gradient at `positions` (noise-free), or None.
        internals: name -> `(R - 1, *B, 2)` or `(R - 1, *B)`; row `i` is the step
            that produced row `i + 1`. Names as in `simulator.optimizers.base`.
        diverged: `(*B,)` bool.
        diverged_step: `(*B,)` int, the step at which the particle left (-1: never).
        diverged_reason: `(*B,)` str, one of `DIVERGENCE_REASONS`.
        converged_step: `(*B,)` int, first step from which the particle stays
            within `tolerance` of a stationary point (-1: never).
        converged_to: `(*B,)` int, index into `surface.minima`, -2 for another
            stationary point (a known saddle or maximum, or a vanishing gradient),
            -1 for none.
        surface: the `Surface`.
        label: legend label (the optimizer text unless given).
        metadata: the full configuration (JSON-able) and package versions.
    """

    steps_recorded: np.ndarray
    positions: np.ndarray
    loss: np.ndarray | None
    gradient: np.ndarray | None
    internals: dict[str, np.ndarray]
    diverged: np.ndarray
    diverged_step: np.ndarray
    diverged_reason: np.ndarray
    converged_step: np.ndarray
    converged_to: np.ndarray
    surface: Any
    label: str
    metadata: dict[str, Any] = field(default_factory=dict)

    # -- convenience ----------------------------------------------------------

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The batch shape `B`."""
        return self.positions.shape[1:-1]

    @property
    def steps(self) -> int:
        """Number of optimizer steps run."""
        return int(self.steps_recorded[-1])

    @property
    def final_positions(self) -> np.ndarray:
        """`(*B, 2)` positions after the last step."""
        return self.positions[-1]

    @property
    def final_loss(self) -> np.ndarray:
        """`(*B,)` loss after the last step."""
        if self.loss is None:
            return self.surface.value(self.positions[-1])
        return self.loss[-1]

    def valid_rows(self) -> np.ndarray:
        """`(R, *B)` bool: rows at or before each particle's divergence."""
        last = np.where(self.diverged, self.diverged_step, np.iinfo(np.int64).max)
        return self.steps_recorded.reshape((-1,) + (1,) * len(self.batch_shape)) <= last

    def __repr__(self) -> str:
        return (
            f"Trace(label={self.label!r}, surface={self.surface.name!r}, "
            f"batch_shape={self.batch_shape}, steps={self.steps}, "
            f"rows={len(self.steps_recorded)}, diverged={int(self.diverged.sum())}, "
            f"internals={sorted(self.internals)})"
        )

    # -- persistence ----------------------------------------------------------

    def _arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        arrays = {}
        for name in _ARRAY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                arrays[prefix + name] = np.asarray(value)
        for name, value in self.internals.items():
            arrays[f"{prefix}internals/{name}"] = value
        return arrays

    def _meta(self) -> dict[str, Any]:
        return {"label": self.label, "metadata": self.metadata}

    def save(self, path: str | Path) -> Path:
        """Writes the trace to `path` (`.npz` with JSON metadata and a checksum)."""
        return save_archive(path, self._arrays(), {"kind": "trace", **self._meta()})

    @classmethod
    def load(cls, path: str | Path) -> Trace:
        """Reads a trace written by `save`; the surface is rebuilt from metadata.

        Raises:
            ValueError: the file is missing, truncated, tampered with or not a trace.
        """
        arrays, meta = load_archive(path)
        if meta.get("kind") != "trace":
            raise ValueError(f"'{path}' holds a {meta.get('kind')!r}, not a trace.")
        return cls._from_parts(arrays, meta, "", f"'{path}'")

    @classmethod
    def _from_parts(
        cls, arrays: dict, meta: Any, prefix: str, source: str = "the archive"
    ) -> Trace:
        check_schema(arrays, {prefix + k: v for k, v in TRACE_SCHEMA.items()}, source)
        if (
            not isinstance(meta, dict)
            or not isinstance(meta.get("label"), str)
            or not isinstance(meta.get("metadata"), dict)
        ):
            raise ValueError(f"{source}: a trace needs a label and a metadata table.")
        fields = {name: arrays.get(prefix + name) for name in _ARRAY_FIELDS}
        start = f"{prefix}internals/"
        internals = {
            key[len(start) :]: value
            for key, value in arrays.items()
            if key.startswith(start)
        }
        metadata = meta["metadata"]
        return cls(
            **fields,
            internals=internals,
            surface=_rebuild_surface(metadata, source),
            label=meta["label"],
            metadata=metadata,
        )


@dataclass
class Race:
    """Several optimizers run from the same starts on the same surface.

    Indexing: `race[0]`, `race["Adam"]` (by label); iterate for the traces.

    Attributes:
        traces: one `Trace` per optimizer, in the order given.
        metadata: shared configuration (surface, starts, steps, seed, ...).
    """

    traces: list[Trace]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """Legend labels in order."""
        return [t.label for t in self.traces]

    @property
    def surface(self) -> Any:
        """The shared surface."""
        return self.traces[0].surface

    def __len__(self) -> int:
        return len(self.traces)

    def __iter__(self) -> Iterator[Trace]:
        return iter(self.traces)

    def __getitem__(self, key: int | str) -> Trace:
        if isinstance(key, str):
            for trace in self.traces:
                if trace.label == key:
                    return trace
            raise KeyError(f"No trace labelled {key!r}. Labels: {self.labels}")
        return self.traces[key]

    def __repr__(self) -> str:
        return f"Race(labels={self.labels}, surface={self.surface.name!r})"

    def save(self, path: str | Path) -> Path:
        """Writes every trace into one `.npz` archive."""
        arrays: dict[str, np.ndarray] = {}
        for i, trace in enumerate(self.traces):
            arrays.update(trace._arrays(prefix=f"{i}/"))
        meta = {
            "kind": "race",
            "metadata": self.metadata,
            "traces": [trace._meta() for trace in self.traces],
        }
        return save_archive(path, arrays, meta)

    @classmethod
    def load(cls, path: str | Path) -> Race:
        """Reads a race written by `save` (same errors as `Trace.load`)."""
        arrays, meta = load_archive(path)
        if meta.get("kind") != "race":
            raise ValueError(f"'{path}' holds a {meta.get('kind')!r}, not a race.")
        if not isinstance(meta.get("traces"), list) or not meta["traces"]:
            raise ValueError(f"'{path}': a race needs a non-empty list of traces.")
        traces = [
            Trace._from_parts(arrays, tmeta, f"{i}/", f"'{path}' (trace {i})")
            for i, tmeta in enumerate(meta["traces"])
        ]
        return cls(traces=traces, metadata=meta.get("metadata") or {})


def load(path: str | Path) -> Trace | Race:
    """Loads a `Trace` or a `Race`, whichever the file holds."""
    _, meta = load_archive(path)
    return Race.load(path) if meta.get("kind") == "race" else Trace.load(path)
