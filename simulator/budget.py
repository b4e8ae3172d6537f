"""One memory estimator: what scales with user input is checked before allocation."""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "WORKING_NUMBERS_PER_PARTICLE",
    "MemoryLimitError",
    "check",
    "check_run",
    "format_bytes",
    "parse_bytes",
]

DEFAULT_MEMORY_LIMIT = "2GiB"

#: Float64 numbers one particle costs while a run steps, besides its recording:
#: starts, state, gradient, candidate status and the step's temporaries.
#: Measured: a 1000 x 1000 fate map of 3 SGD steps on Himmelblau (9 known
#: stationary points) peaks at ~370 MiB above the interpreter (~390 bytes, 48
#: numbers, per particle); Adam adds ~4.
WORKING_NUMBERS_PER_PARTICLE = 44
#: ...plus, per known stationary point, the distance temporaries of the
#: convergence test (a float64 distance per particle and point).
NUMBERS_PER_STATIONARY_POINT = 1

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


class MemoryLimitError(ValueError):
    """A computation would need more than `memory_limit` bytes."""


def parse_bytes(value: Any, argument: str = "memory_limit") -> int | None:
    """`"2GiB"`, `"500MB"`, `1e9` or None (no limit) -> bytes."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value > 0 and math.isfinite(value):
            return int(value)
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", value)
        if match and match.group(2).lower() in _UNITS:
            return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    raise ValueError(
        f"`{argument}` must be a positive number of bytes or a size such as "
        f"'2GiB' or '500MB'. Received: {argument}={value!r}"
    )


def format_bytes(n: float) -> str:
    """`3.2 GiB` style text for a byte count."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check(nbytes: float, limit: Any, what: str, reduce: str) -> None:
    """Raises `MemoryLimitError` if `nbytes` exceeds `limit` (None: no limit).

    Args:
        nbytes: the estimate, in bytes (a float: estimates may exceed int64).
        limit: bytes or a size text such as "2GiB" (see `parse_bytes`).
        what: what would be allocated, e.g. "This fate map (4000 x 4000 starts)".
        reduce: how to need less, e.g. "a lower resolution".
    """
    limit = parse_bytes(limit)
    if limit is None or nbytes <= limit:
        return
    raise MemoryLimitError(
        f"{what} would need about {format_bytes(nbytes)}, above "
        f"memory_limit={format_bytes(limit)}. Reduce it with {reduce}, or raise "
        "memory_limit (None disables the check)."
    )


def check_run(
    particles: float,
    rows: float,
    numbers_per_row: int,
    itemsize: int,
    limit: Any,
    *,
    stationary_points: int = 0,
    what: str = "This run",
    reduce: str = "fewer steps or starts, record_every=k, fewer recorded fields",
) -> float:
    """Checks a run's recording plus working set before anything is allocated.

    Args:
        particles: batch size `prod(B)` (starts times hyperparameter grid points).
        rows: recorded rows `R`.
        numbers_per_row: numbers recorded per particle and row (2 for positions).
        itemsize: bytes per recorded number.
        limit: memory limit (bytes, size text or None).
        stationary_points: known minima, saddles and maxima (convergence test).
        what, reduce: wording of the refusal.

    Returns:
        The estimate in bytes.
    """
    recording = float(particles) * float(rows) * numbers_per_row * itemsize
    working = (
        float(particles)
        * 8.0
        * (
            WORKING_NUMBERS_PER_PARTICLE
            + NUMBERS_PER_STATIONARY_POINT * stationary_points
        )
    )
    total = recording + working
    check(
        total,
        limit,
        f"{what}, {_count(particles)} particles x {_count(rows)} recorded rows "
        f"({format_bytes(recording)} recorded + {format_bytes(working)} working "
        "set),",
        reduce,
    )
    return total


def _count(n: float) -> str:
    return f"{int(n):,}" if n < 1e15 else f"{n:.3g}"
