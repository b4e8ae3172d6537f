"""One visual language for every renderer: Okabe-Ito colours, markers, line styles."""

from __future__ import annotations

from typing import Any

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


def log_colorbar_ticks(bar: Any, lo: float, hi: float) -> None:
    """Ticks a log colour bar at decades (its contour levels are arbitrary)."""
    ticks = []
    # Decades first; a range inside one decade needs the 2s and 5s (or its ends).
    for subs in ((1.0,), (1.0, 2.0, 5.0)):
        values = LogLocator(subs=subs).tick_values(lo, hi)
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
