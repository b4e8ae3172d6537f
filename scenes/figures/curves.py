"""Loss curves: one overlay or small multiples, median and band over seeds or starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scenes.style import series_style, set_log_scale
from simulator.trace import Race, Trace

__all__ = [
    "CurveArtists",
    "loss_series",
    "plot_loss_curves",
    "plot_loss_small_multiples",
]


@dataclass
class Series:
    """One labelled family of loss curves: `x` `(T,)`, `y` `(T, S)` (S runs)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    diverged: int = 0

    @property
    def runs(self) -> int:
        return self.y.shape[1]


@dataclass
class CurveArtists:
    """What a curve plot drew; `update(row)` draws the curves up to a row.

    Attributes:
        axes: the axes.
        lines: label -> median line; bands: label -> band (or None).
        legend: the legend (None without).
        steps: `(R,)` the run's recorded steps: `update(row)` shows every point
            with `x <= steps[row]` (default: the x of the first series).
        cursor: label -> the marker at each curve's current point, and the
            vertical line `"step"` (hidden until `update` is called).
    """

    axes: list[Axes]
    lines: dict[str, Any] = field(default_factory=dict)
    bands: dict[str, Any] = field(default_factory=dict)
    legend: Any = None
    steps: np.ndarray | None = None
    cursor: dict[str, Any] = field(default_factory=dict)
    progressive: bool = True
    _full: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def animated(self) -> list[Any]:
        """Every artist `update` changes."""
        moving = list(self.lines.values()) if self.progressive else []
        return [*moving, *self.cursor.values()]

    def update(self, row: int) -> list[Any]:
        """Curves up to recorded row `row`, a dot at each end and a cursor line."""
        step = float(self.steps[row])
        dots: dict[Any, list] = {ax: [] for ax in self.axes}
        for label, line in self.lines.items():
            x, y = self._full[label]
            n = int(np.searchsorted(x, step, side="right"))
            if self.progressive:
                line.set_data(x[:n], y[:n])
            # NaN keeps every curve's dot at its index (and its colour).
            dots[line.axes].append((x[n - 1], y[n - 1]) if n else (np.nan, np.nan))
        for i, ax in enumerate(self.axes):
            if f"dots{i}" in self.cursor:
                pts = np.array(dots[ax]).reshape(-1, 2)
                self.cursor[f"dots{i}"].set_offsets(pts)
                self.cursor[f"step{i}"].set_xdata([step, step])
                self.cursor[f"step{i}"].set_visible(True)
        return self.animated

    def add_cursor(self, ghost: bool = True, progressive: bool = True) -> None:
        """Marks the curves' current points and the step; ghosts the full curves.

        One scatter per axes holds every curve's current point, so a strip of
        many curves adds two artists per axes to each frame, not one per curve.

        Args:
            ghost: keep each full curve faintly in the background, so the viewer
                sees where it is going (with `progressive`).
            progressive: draw the curves up to the current step; otherwise the
                full curves stay as they are and only the cursor moves.
        """
        self.progressive = progressive
        colors: dict[Any, list] = {ax: [] for ax in self.axes}
        for line in self.lines.values():
            colors[line.axes].append(line.get_color())
            if ghost and progressive:
                x, y = line.get_data()
                line.axes.plot(
                    x, y, color=line.get_color(), linewidth=1.0, alpha=0.25,
                    linestyle=line.get_linestyle(),
                )  # fmt: skip
        for i, ax in enumerate(self.axes):
            self.cursor[f"dots{i}"] = ax.scatter(
                np.zeros(len(colors[ax])), np.zeros(len(colors[ax])), s=25,
                c=colors[ax] or "none", edgecolors="black", linewidths=0.6, zorder=5,
            )  # fmt: skip
            self.cursor[f"step{i}"] = ax.axvline(
                0, color="#333333", linewidth=0.8, alpha=0.6, visible=False
            )


def loss_series(data: Any, x: np.ndarray | None = None) -> list[Series]:
    """Normalises a Trace, Race or mapping label -> losses into `Series`.

    Args:
        data: a `Trace`/`Race` (loss per recorded step, one run per particle), or
            a mapping label -> array `(T,)` or `(T, S)` (e.g. epochs x seeds);
            `NaN` marks epochs a run did not have.
        x: shared x values `(T,)` for a mapping (default 1..T).
    """
    if isinstance(data, Trace):
        data = [data]
    if isinstance(data, Race):
        data = list(data.traces)
    if isinstance(data, list) and all(isinstance(t, Trace) for t in data):
        out = []
        for t in data:
            if t.loss is None:
                raise ValueError(f"Trace {t.label!r} did not record 'loss'.")
            y = t.loss.reshape(len(t.steps_recorded), -1).astype(np.float64)
            # Rows after a particle diverged are not part of its curve.
            y = np.where(t.valid_rows().reshape(y.shape), y, np.nan)
            out.append(
                Series(
                    t.label,
                    t.steps_recorded.astype(np.float64),
                    y,
                    int(t.diverged.sum()),
                )
            )
        return out
    if isinstance(data, Mapping):
        out = []
        for label, values in data.items():
            y = np.asarray(values, dtype=np.float64)
            if y.ndim == 1:
                y = y[:, None]
            if y.ndim != 2:
                raise ValueError(f"Losses for {label!r} must be (T,) or (T, runs).")
            xs = np.arange(1, len(y) + 1, dtype=np.float64) if x is None else x
            out.append(
                Series(str(label), np.asarray(xs, dtype=np.float64)[: len(y)], y)
            )
        return out
    raise ValueError(
        "Expected a Trace, a Race or a dict label -> losses. "
        f"Received: {type(data).__name__}"
    )


def _draw(ax: Axes, s: Series, index: int, band: str | None, art: CurveArtists) -> None:
    style = series_style(index)
    with np.errstate(all="ignore"):
        ok = np.isfinite(s.y).any(axis=1)
        y = np.where(np.isfinite(s.y), s.y, np.nan)
        median = np.nanmedian(y[ok], axis=1)
    label = s.label if s.runs == 1 else f"{s.label} (median of {s.runs})"
    if s.diverged:
        # Diverged runs leave the median from their divergence step on.
        label += f" — {s.diverged} diverged, dropped from then on"
    (line,) = ax.plot(
        s.x[ok],
        median,
        color=style["color"],
        linestyle=style["linestyle"],
        linewidth=1.8,
        label=label,
    )
    art.lines[s.label] = line
    art._full[s.label] = (s.x[ok], median)
    art.bands[s.label] = None
    if band and s.runs > 1:
        lo, hi = (25, 75) if band == "iqr" else (0, 100)
        low = np.nanpercentile(y[ok], lo, axis=1)
        high = np.nanpercentile(y[ok], hi, axis=1)
        art.bands[s.label] = ax.fill_between(
            s.x[ok], low, high, color=style["color"], alpha=0.2, linewidth=0
        )


def _set_scale(ax: Axes, series: list[Series], log: bool) -> str:
    """Log y when asked; symlog when some loss is <= 0 (a log axis would drop it).

    Surfaces such as the saddle are unbounded below: their losses cross zero, and
    a log axis would silently cut every curve there.
    """
    if not log:
        return "linear"
    values = np.concatenate([s.y[np.isfinite(s.y)].ravel() for s in series])
    if values.size and values.min() <= 0:
        nonzero = np.abs(values[values != 0])
        linthresh = float(np.percentile(nonzero, 5)) if nonzero.size else 1.0
        ax.set_yscale("symlog", linthresh=linthresh)
        return "symlog"
    set_log_scale(ax, values)
    return "log"


def plot_loss_curves(
    data: Any,
    ax: Axes | None = None,
    *,
    x: np.ndarray | None = None,
    log: bool = True,
    band: str | None = "iqr",
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str | None = None,
    legend: bool = True,
    first_style: int = 0,
) -> CurveArtists:
    """All series on one axes: median line and band over runs, log y by default.

    Args:
        data: see `loss_series`.
        ax: axes to draw into (default: a new figure).
        x: x values for a mapping.
        log: log-scaled y axis.
        band: `"iqr"` (25-75th percentile), `"range"` (min-max) or None.
        xlabel, ylabel, title: labels.
        legend: draw a legend.
        first_style: style index of the first series.

    Returns:
        `CurveArtists`.
    """
    if band not in (None, "iqr", "range"):
        raise ValueError(
            f"`band` must be 'iqr', 'range' or None. Received: band={band!r}"
        )
    series = loss_series(data, x)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    art = CurveArtists(axes=[ax])
    for i, s in enumerate(series, start=first_style):
        _draw(ax, s, i, band, art)
    art.steps = series[0].x if series else np.zeros(1)
    scale = _set_scale(ax, series, log)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(
        ylabel + {"log": " (log scale)", "symlog": " (symlog scale)"}.get(scale, "")
    )
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        note = {"iqr": "bands: 25–75th percentile", "range": "bands: min–max"}
        # Many series: beside the axes, where it hides no curve.
        outside = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)} if len(
            series) > 5 else {}  # fmt: skip
        art.legend = ax.legend(
            fontsize=8,
            title=note.get(band) if any(s.runs > 1 for s in series) else None,
            title_fontsize=8,
            **outside,
        )
    return art


def plot_loss_small_multiples(
    data: Any,
    fig: Figure | None = None,
    *,
    x: np.ndarray | None = None,
    ncols: int = 5,
    log: bool = True,
    band: str | None = "iqr",
    xlabel: str = "step",
    ylabel: str = "loss",
    sharey: bool = True,
    title: str | None = None,
) -> CurveArtists:
    """One panel per series, shared log y axis, so shapes compare at a glance."""
    series = loss_series(data, x)
    n = len(series)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(figsize=(3.0 * ncols, 2.4 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False).ravel()
    art = CurveArtists(axes=list(axes[:n]))
    for i, (ax, s) in enumerate(zip(axes, series, strict=False)):
        _draw(ax, s, i, band, art)
        note = f"\n{s.diverged} of {s.runs} diverged" if s.diverged else ""
        ax.set_title(s.label + note, fontsize=8)
        _set_scale(ax, series, log)
        ax.grid(True, alpha=0.3)
        if i % ncols == 0:
            ax.set_ylabel(ylabel)
        if i >= n - ncols:
            ax.set_xlabel(xlabel)
    for ax in axes[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return art
