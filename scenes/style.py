"""One visual language for every renderer: Okabe-Ito colours, markers, line styles."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.ticker import LogFormatterSciNotation, LogLocator

#: Okabe & Ito (2008) colour-blind-safe palette, black last (used for text/minima).
OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow (low contrast on light backgrounds: used last)
    "#000000",  # black
)
#: Series colours: Okabe-Ito without the yellow (invisible on light contours).
SERIES_COLORS = tuple(OKABE_ITO[i] for i in (0, 1, 2, 3, 4, 5, 7))
#: "X" is reserved for diverged particles.
MARKERS = ("o", "s", "^", "D", "v", "P", "h", "*", "<", ">", "d", "p")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))

#: Contour colormap: light (low loss) to slate (high loss), so that every series
#: colour stays readable on top of it, in colour and in grey scale.
CONTOUR_CMAP = LinearSegmentedColormap.from_list(
    "optiscape_contours", ["#FFFFFF", "#E4EBF1", "#B7C6D4", "#7D92A8", "#4A5A6A"]
)
#: Colormap for heatmaps of a loss or step count.
HEATMAP_CMAP = "viridis"
DIVERGED_COLOR = "#B0B0B0"
#: Where a surface is undefined (NaN), drawn hatched over this.
UNDEFINED_COLOR = "#D9C7B8"
STALLED_COLOR = "#F2F2F2"
MINIMUM_STYLE = {
    "marker": "*",
    "s": 180,
    "c": "white",
    "edgecolors": "black",
    "linewidths": 1.0,
    "zorder": 4,
}
START_STYLE = {
    "marker": "o",
    "s": 36,
    "c": "white",
    "edgecolors": "black",
    "linewidths": 1.0,
    "zorder": 5,
}
DIVERGED_MARKER = {
    "marker": "X",
    "s": 90,
    "c": "#D55E00",
    "edgecolors": "black",
    "linewidths": 0.8,
    "zorder": 7,
}


def series_style(index: int) -> dict[str, Any]:
    """Colour, marker and line style of the `index`-th series.

    Colour cycles through 8, line style through 6 and marker through 12, so the
    first 24 series differ in at least two of the three.
    """
    return {
        "color": SERIES_COLORS[index % len(SERIES_COLORS)],
        "linestyle": LINESTYLES[index % len(LINESTYLES)],
        "marker": MARKERS[index % len(MARKERS)],
    }


class FiniteLogLocator(LogLocator):
    """`LogLocator` without ticks past the float range.

    Over hundreds of decades matplotlib strides its decades and adds two strides
    beyond each end: for losses near 1e290 that is 10**310 = inf, and formatting
    an infinite tick raises OverflowError (the diverging runs this tool explains).
    """

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        with np.errstate(over="ignore"):
            ticks = np.asarray(super().tick_values(vmin, vmax), dtype=np.float64)
        return ticks[np.isfinite(ticks) & (ticks > 0)]


#: The largest decade a log axis may show: just below float max.
MAX_LOG_DECADE = float(np.log10(np.finfo(np.float64).max)) - 1e-6


def log_axis_limits(values: Any, margin: float = 0.05) -> tuple[float, float] | None:
    """Log-axis limits around the finite positive `values`, inside the float range.

    Matplotlib's log autoscale adds its margin in log space without a bound; for
    data near 1e300 the top overflows and the view collapses to [1, 10].

    Returns:
        `(lo, hi)`, or None when no value is finite and positive.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return None
    a, b = np.log10(v.min()), np.log10(v.max())
    pad = max(b - a, 1.0) * margin
    a = max(a - pad, -307.0)  # normal floats only
    b = min(b + pad, MAX_LOG_DECADE)
    return float(10.0**a), float(10.0**b)


def set_log_scale(ax: Any, values: Any, axis: str = "y") -> None:
    """Log scale on `ax`'s `axis` that stays finite for any finite `values`."""
    with np.errstate(over="ignore"):  # matplotlib's autoscale of values near max
        getattr(ax, f"set_{axis}scale")("log")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(FiniteLogLocator())
    target.set_minor_locator(FiniteLogLocator(subs="auto"))
    limits = log_axis_limits(values)
    if limits is not None:
        getattr(ax, f"set_{axis}lim")(*limits)


def log_colorbar_ticks(bar: Any, lo: float, hi: float) -> None:
    """Ticks a log colour bar at decades (its contour levels are arbitrary)."""
    ticks = []
    # Decades first; a range inside one decade needs the 2s and 5s (or its ends).
    for subs in ((1.0,), (1.0, 2.0, 5.0)):
        values = FiniteLogLocator(subs=subs).tick_values(lo, hi)
        ticks = [t for t in values if lo <= t <= hi]
        if len(ticks) >= 2:
            break
    if len(ticks) < 2:
        ticks = [lo, hi]
    bar.set_ticks(ticks)
    label_all = LogFormatterSciNotation(
        labelOnlyBase=False, minor_thresholds=(1e9, 1e9)
    )
    bar.ax.yaxis.set_major_formatter(label_all)
    bar.ax.set_ylim(lo, hi)


#: A live particle outside the view: a triangle at the view's edge.
OFF_VIEW_MARKER = {
    "marker": "^",
    "s": 50,
    "edgecolors": "black",
    "linewidths": 0.8,
    "zorder": 7,
}


def surface_title(surface: Any) -> str:
    """How a title names a surface: `rosenbrock`, or `f(x, y) = x^2 + 10·y^2`.

    Expressions are registered as `expr:<text>` (a key, not a name a person
    would write); `surface` may be a surface or such a name.
    """
    name = surface if isinstance(surface, str) else surface.name
    if not name.startswith("expr:"):
        return name
    text = name[len("expr:") :].replace("**", "^").replace("*", "·")
    return f"f(x, y) = {text}"
