"""The internals strip: what each optimizer's rule does per coordinate, over steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

from scenes.figures.curves import CurveArtists
from scenes.frames import FrameReader, flat
from scenes.style import series_style

__all__ = ["INTERNAL_QUANTITIES", "available_quantities", "plot_internals"]


def _per_coordinate(name: str):
    def read(trace) -> np.ndarray | None:
        data = trace.internals.get(name)
        return None if data is None or data.ndim < 3 else flat(trace, data)

    return read


def _speed(trace) -> np.ndarray | None:
    v = trace.internals.get("velocity")
    return None if v is None else np.hypot(*np.moveaxis(flat(trace, v), -1, 0))


def _sqrt_second_moment(trace) -> np.ndarray | None:
    v = trace.internals.get("second_moment")
    return None if v is None or v.ndim < 3 else np.sqrt(np.abs(flat(trace, v)))


#: Quantity -> (axis label, reader `trace -> (R-1, P[, 2])` or None, log scale).
INTERNAL_QUANTITIES = {
    "step_size": ("step size per coordinate", _per_coordinate("step_size"), True),
    "speed": ("|velocity|", _speed, True),
    "sqrt_v": ("√v (second moment)", _sqrt_second_moment, True),
    "sign": ("Lion's sign(update)", _per_coordinate("sign_update"), False),
}


def available_quantities(reader: FrameReader, limit: int = 3) -> list[str]:
    """The quantities at least one series recorded, in `INTERNAL_QUANTITIES` order."""
    out = [
        q
        for q, (_, read, _) in INTERNAL_QUANTITIES.items()
        if any(read(se.trace) is not None for se in reader.series)
    ]
    return out[:limit]


def plot_internals(
    reader: FrameReader, axes: Sequence[Any], quantities: Sequence[str]
) -> CurveArtists:
    """One small axes per quantity; per series the median over its particles.

    Per-coordinate quantities draw `x` solid and `y` dotted in the series'
    colour (the colours are the race's). Rows are internals rows: the value at
    step `s` belongs to the step from `s - 1` to `s`.

    Returns:
        `CurveArtists` whose `update(row)` follows the race's rows.
    """
    art = CurveArtists(axes=list(axes), steps=reader.steps)
    x = reader.steps[1:].astype(float)
    for ax, q in zip(axes, quantities, strict=True):
        label, read, log = INTERNAL_QUANTITIES[q]
        coords = False
        for se in reader.series:
            data = read(se.trace)
            if data is None:
                continue
            # Internals of diverged particles are NaN from their divergence on.
            data = data[:, : reader.max_particles].astype(float)
            with np.errstate(all="ignore"):
                median = np.nanmedian(data, axis=1)
            median = median[:, None] if median.ndim == 1 else median
            coords |= median.shape[1] == 2
            color = series_style(se.index)["color"]
            for c in range(median.shape[1]):
                name, ls = "xy"[c], ("-", ":")[c]
                key = f"{se.label} · {q}" + (
                    f" · {name}" if median.shape[1] == 2 else ""
                )
                ok = np.isfinite(median[:, c])
                (line,) = ax.plot(
                    x[ok], median[ok, c], color=color, linestyle=ls, linewidth=1.4
                )
                art.lines[key] = line
                art._full[key] = (x[ok], median[ok, c])
        shown = [y for k, (_, y) in art._full.items() if f" · {q}" in k]
        if log and any((y > 0).any() for y in shown):
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(numticks=3))
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.yaxis.set_major_locator(MaxNLocator(3))
        ax.set_title(label, fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        if coords:
            ax.legend(
                handles=[
                    Line2D([], [], color="black", linestyle="-", label="x"),
                    Line2D([], [], color="black", linestyle=":", label="y"),
                ],
                fontsize=6,
                loc="best",
                ncols=2,
                frameon=False,
            )
    if axes:
        axes[-1].set_xlabel("step", fontsize=8)
    return art
