"""`Explorer`: one matplotlib figure to explore optimizers and hyperparameters live."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.patches import Rectangle
from matplotlib.transforms import IdentityTransform

import surfaces
from scenes.explorer.controls import with_hyperparameter
from scenes.explorer.layers import (
    CurvesLayer,
    SeriesLayer,
    glyph_scale,
    internal_curve,
    loss_curve,
    sticky_log_limits,
)
from scenes.explorer.spec_export import race_spec_text
from scenes.figures.internals import INTERNAL_QUANTITIES
from scenes.figures.landscape import draw_contours, draw_minima
from scenes.gallery import ARTICLE_RACES, article_optimizers
from scenes.vocab import GLYPHS
from simulator import simulate
from simulator.engine import resolve_optimizer
from simulator.metadata import jsonable
from simulator.trace import Race, Trace

__all__ = ["GLYPH_CHOICES", "INTERNALS", "Explorer"]

#: Quantities the lower panel can show (`scenes.figures.internals`; per-coordinate
#: ones as their norm), median over the particles.
INTERNALS = tuple(INTERNAL_QUANTITIES)
#: Glyphs drawn at the heads (`scenes.vocab.GLYPHS`), or none.
GLYPH_CHOICES = (*GLYPHS, "none")
#: Swarm mode: a grid of this many starts per side over the view.
SWARM_SIDE = 32
#: Default learning rates (SGD family, adaptive family, Lion) off the gallery.
DEFAULT_LRS = (0.001, 0.05, 0.01)
#: Keeps a recording that outgrows the machine from being allocated.
MEMORY_LIMIT = "1GiB"


def default_optimizers(surface_name: str) -> list[str]:
    """The article's ten configurations, learning rates as in the gallery race."""
    lrs = next((r.lrs for r in ARTICLE_RACES if r.surface == surface_name), DEFAULT_LRS)
    return [text for text, _ in article_optimizers(*lrs)]


def _pairs(points: Any) -> list[list[float]]:
    """`[(x, y), ...]` as lists of floats, or a ValueError naming `starts`."""
    try:
        out = [[float(x), float(y)] for x, y in points]
    except (TypeError, ValueError):
        raise ValueError(
            f"`starts` must be (x, y) pairs of numbers. Received: starts={points!r}"
        ) from None
    return out


def _xy(starts) -> np.ndarray:
    """`(N, 2)` float array of start points."""
    return np.asarray(starts, dtype=np.float64).reshape(-1, 2)


def _internal_label(quantity: str) -> str:
    label, _, _ = INTERNAL_QUANTITIES[quantity]
    return f"{label} (median)"


def _blit(canvas: Any, bbox: Any) -> None:
    """`canvas.blit(bbox)`, skipped on a web canvas not yet attached to a page.

    WebAgg and ipympl push a blit to their page through the figure manager;
    before the figure is shown (e.g. ipympl's static PNG fallback) there is
    none, and the next full draw sends the frame anyway.
    """
    if canvas.supports_blit or getattr(canvas, "manager", None) is not None:
        canvas.blit(bbox)


def _empty(artist: Any) -> bool:
    """A collection with nothing in it (a marker set no particle uses yet)."""
    if isinstance(artist, PathCollection):
        return len(artist.get_offsets()) == 0
    if isinstance(artist, LineCollection):
        return len(artist.get_paths()) == 0
    return False


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _race_of(traces: Sequence[Trace]) -> Race:
    """The `Race` that `simulate(surface, [o1, o2, ...], ...)` would return.

    Every trace of a race is an independent run with the same shared
    configuration, so traces re-run one at a time assemble into the same race
    (the metadata built as `simulate` builds it).
    """
    per_trace = ("optimizer", "label", "batch_shape", "clip_events")
    shared = {k: v for k, v in traces[0].metadata.items() if k not in per_trace}
    meta = {
        **shared,
        "labels": [t.label for t in traces],
        "optimizers": [t.metadata["optimizer"] for t in traces],
    }
    return Race(traces=list(traces), metadata=jsonable(meta))


class Explorer:
    """The interactive explorer: a race you change with widgets or with this API.

    Every setter re-runs only what changed (one optimizer for a slider), keeps
    the previous run and shows a one-line error in the figure when a value is
    invalid (the setter then returns False), and leaves the figure to
    `refresh()`, which blits: it restores the cached background and draws the
    artists that move; only a change of the background itself (surface, axis
    limits, widgets rebuilt) costs a full `canvas.draw()`.

    Args:
        surface: a registered name or an expression in x and y.
        optimizers: Keras texts (default: the article's ten configurations with
            the gallery's learning rates for the surface).
        steps: optimizer steps per run.
        starts: `[(x, y), ...]` (default: the surface's first suggested start).
        noise, seed: gradient noise (std. dev.) and its seed.
        glyph: the glyph at each particle (see `GLYPH_CHOICES`), or `"none"`.
        internal: the quantity the lower panel shows (see `INTERNALS`).
        figure: a figure to draw into (default: a new `pyplot` figure, so the
            backend shows it).
        widgets: build the widgets (False: the panels only, e.g. for a video).
    """

    def __init__(
        self,
        surface: str = "rosenbrock",
        optimizers: Sequence[str] | None = None,
        steps: int = 300,
        starts: Sequence[Sequence[float]] | None = None,
        *,
        noise: float = 0.0,
        seed: int = 0,
        glyph: str = "velocity",
        internal: str = "step_size",
        figure: Any = None,
        widgets: bool = True,
    ):
        self._surface = surfaces.resolve(surface)
        self._surface_text = surface if isinstance(surface, str) else None
        texts = (
            list(optimizers) if optimizers else default_optimizers(self._surface.name)
        )
        self._optimizers = [resolve_optimizer(t) for t in texts]
        self._starts = (
            _pairs(starts) if starts is not None else [list(self._surface.starts[0])]
        )
        self._check_starts(self._starts)
        if glyph not in GLYPH_CHOICES:
            raise ValueError(
                f"`glyph` must be one of {list(GLYPH_CHOICES)}. "
                f"Received: glyph={glyph!r}"
            )
        if internal not in INTERNALS:
            raise ValueError(
                f"`internal` must be one of {list(INTERNALS)}. "
                f"Received: internal={internal!r}"
            )
        self._steps = steps
        self._noise = float(noise)
        self._seed = seed
        self._swarm = False
        self._glyph = glyph
        self._internal = internal
        self.selected = 0
        self.row = steps  # clamped to the last row: the outcome first
        self.error: str | None = None
        self.status = ""
        # One line per state change (the browser front end prints them).
        self.log: list[str] = []
        self._traces: list[Trace | None] = [None] * len(self._optimizers)
        self._run_all()
        if figure is None:
            import matplotlib.pyplot as plt

            figure = plt.figure(figsize=(15, 8.8))
        self.figure = figure
        self._background = None
        self._background_dirty = True
        self._dirty_axes: set[Any] = set()
        self._timer = None
        self.ui = None
        self._build_axes()
        self._draw_surface()
        self._sync_all()
        if widgets:
            from scenes.explorer.widgets import Widgets

            self.ui = Widgets(self)
        self._canvas = self.figure.canvas
        self._canvas.mpl_connect("draw_event", self._on_draw)

    # ------------------------------------------------------------ properties
    @property
    def race(self) -> Race:
        """The current `Race` (only the swarm's optimizer in swarm mode)."""
        return _race_of([t for t in self._traces if t is not None])

    @property
    def optimizers(self) -> list[Any]:
        """The current optimizers, in race order."""
        return list(self._optimizers)

    @property
    def starts(self) -> list[list[float]]:
        """The current start points (the grid in swarm mode)."""
        return self._run_starts().tolist()

    @property
    def surface(self) -> Any:
        """The current surface."""
        return self._surface

    @property
    def steps(self) -> int:
        """Optimizer steps per run."""
        return self._steps

    @property
    def noise(self) -> float:
        """Gradient-noise standard deviation."""
        return self._noise

    @property
    def swarm(self) -> bool:
        """Whether swarm mode (a grid of starts, the selected optimizer) is on."""
        return self._swarm

    # --------------------------------------------------------------- running
    def _run_starts(self) -> np.ndarray:
        if not self._swarm:
            return _xy(self._starts)
        (x0, x1), (y0, y1) = self._surface.view
        # Cell centres: the grid never sits on the view's edge.
        xs = x0 + (np.arange(SWARM_SIDE) + 0.5) * (x1 - x0) / SWARM_SIDE
        ys = y0 + (np.arange(SWARM_SIDE) + 0.5) * (y1 - y0) / SWARM_SIDE
        X, Y = np.meshgrid(xs, ys)
        return np.stack([X.ravel(), Y.ravel()], axis=-1)

    def _run(self, i: int, optimizer: Any | None = None, **changes: Any) -> Trace:
        """Runs optimizer `i` (or `optimizer`) with the current state + `changes`."""
        optimizer = self._optimizers[i] if optimizer is None else optimizer
        settings = {
            "surface": self._surface,
            "starts": self._run_starts(),
            "steps": self._steps,
            "noise": self._noise,
            "seed": self._seed,
            **changes,
        }
        return simulate(
            settings["surface"],
            optimizer,
            settings["starts"],
            settings["steps"],
            label=optimizer.to_text(),
            noise=settings["noise"],
            seed=settings["seed"],
            memory_limit=MEMORY_LIMIT,
        )

    def _active(self) -> list[int]:
        return [self.selected] if self._swarm else list(range(len(self._optimizers)))

    def _run_all(self) -> None:
        traces: list[Trace | None] = [None] * len(self._optimizers)
        for i in self._active():
            traces[i] = self._run(i)
        self._traces = traces

    def _attempt(self, what: str, action) -> bool:
        """Runs `action()`; a ValueError becomes the figure's one-line error."""
        try:
            action()
        except ValueError as err:
            self.error = f"{what}: {_one_line(err)}"
            self._set_message(self.error, error=True)
            return False
        self.error = None
        return True

    # ------------------------------------------------------------ public API
    def set_hyperparameter(self, optimizer_index: int, name: str, value: Any) -> bool:
        """Sets one hyperparameter of one optimizer and re-runs only that optimizer.

        Returns:
            True, or False when the value is invalid (the error is shown in the
            figure, stored in `.error`, and the previous run is kept).
        """

        def action():
            i = self._index(optimizer_index)
            new = with_hyperparameter(self._optimizers[i], name, value)
            self._replace(i, new)

        ok = self._attempt(f"{name}", action)
        if ok and self.ui is not None and optimizer_index == self.selected:
            self.ui.show_value(name, value)
        return ok

    def set_optimizer(self, index: int, text: str) -> bool:
        """Replaces optimizer `index` by Keras text (`index == len`: adds one)."""

        def action():
            if not isinstance(index, int) or not 0 <= index <= len(self._optimizers):
                raise ValueError(
                    f"`index` must be 0..{len(self._optimizers)}. Received: {index!r}"
                )
            new = resolve_optimizer(text)
            if index == len(self._optimizers):
                self._add(new)
            else:
                self._replace(index, new)

        ok = self._attempt("optimizer", action)
        if ok and self.ui is not None:
            self.ui.rebuild()
        return ok

    def select(self, index: int) -> None:
        """Chooses the optimizer whose sliders are shown (and swarm mode runs)."""
        self.selected = self._index(index)
        if self._swarm:
            self._attempt("swarm", self._rerun_everything)
        if self.ui is not None:
            self.ui.rebuild()

    def set_start(self, xy: Sequence[float]) -> bool:
        """Moves the start: one particle at `xy` (leaves swarm mode)."""
        return self._attempt("start", lambda: self._set_starts(_pairs([xy])))

    def add_start(self, xy: Sequence[float]) -> bool:
        """Adds a particle starting at `xy` (shift-click)."""
        return self._attempt(
            "start", lambda: self._set_starts([*self._starts, *_pairs([xy])])
        )

    def set_swarm(self, on: bool) -> bool:
        """Swarm mode: a 32 x 32 grid of starts over the view, selected optimizer."""

        def action():
            old = self._swarm
            self._swarm = bool(on)
            try:
                self._rerun_everything()
            except ValueError:
                self._swarm = old
                raise

        ok = self._attempt("swarm", action)
        self._note(f"swarm {'on' if self._swarm else 'off'}")
        return ok

    def set_surface(self, name_or_expression: str) -> bool:
        """A registered surface or a typed expression (safe parser); re-runs all."""

        def action():
            surface = surfaces.resolve(name_or_expression)
            starts = [list(surface.starts[0])] if not self._in_view(surface) else None
            traces = self._run_everything(surface=surface, starts=starts)
            self._surface = surface
            self._surface_text = name_or_expression
            if starts is not None:
                self._starts = starts
            self._commit(traces)
            self._draw_surface()

        ok = self._attempt("surface", action)
        if ok:
            self._note(f"surface {self._surface.name}")
        return ok

    def set_steps(self, steps: int) -> bool:
        """Steps per run (re-runs all)."""

        def action():
            traces = self._run_everything(steps=steps)
            self._steps = steps
            self._commit(traces)

        return self._attempt("steps", action)

    def set_noise(self, noise: float) -> bool:
        """Gradient-noise standard deviation (re-runs all)."""

        def action():
            traces = self._run_everything(noise=noise)
            self._noise = float(noise)
            self._commit(traces)

        return self._attempt("noise", action)

    def set_row(self, row: int) -> None:
        """Moves the timeline (every panel) to recorded row `row`."""
        n = max(len(t.steps_recorded) for t in self._traces if t is not None)
        self.row = int(min(max(row, 0), n - 1))
        self._sync_row()
        if self.ui is not None:
            self.ui.show_row()

    def set_glyph(self, glyph: str) -> bool:
        """The glyph drawn at the heads: `"velocity"`, `"gradient"` or `"none"`."""

        def action():
            if glyph not in GLYPH_CHOICES:
                raise ValueError(
                    f"`glyph` must be one of {list(GLYPH_CHOICES)}. Received: {glyph!r}"
                )
            self._glyph = glyph
            self._sync_all()

        return self._attempt("glyph", action)

    def set_internal(self, name: str) -> bool:
        """The internal shown in the lower panel (see `INTERNALS`)."""

        def action():
            if name not in INTERNALS:
                raise ValueError(
                    f"`internal` must be one of {list(INTERNALS)}. Received: {name!r}"
                )
            self._internal = name
            self.ax_internal.set_ylabel(_internal_label(name))
            self._background_dirty = True
            self._sync_all()

        return self._attempt("internal", action)

    def to_spec(
        self,
        out: str = "explored.png",
        *,
        save_trace: bool = False,
        video: str | None = None,
    ) -> str:
        """The current state as TOML race-spec text whose `[scene] out` is `out`.

        `optiscape render` of that text reruns exactly this race (same floats,
        same surface, starts, steps, noise and seed) and draws it; with `video`
        (a path) it also writes the race's video there.
        """
        surface = self._surface
        if self._surface_text in surfaces.SURFACES:
            described = {"name": self._surface_text}
        else:
            described = {"expression": surface.to_config()["expression"]}
        race = self.race
        return race_spec_text(
            surface=described,
            optimizers=[(o.to_text(), t.label) for o, t in self._race_pairs(race)],
            starts=self.starts,
            steps=self._steps,
            noise=self._noise,
            seed=self._seed,
            out=out,
            glyphs=() if self._glyph == "none" else (self._glyph,),
            save_trace=save_trace,
            video=video,
        )

    def export(self, directory: str | Path = ".", kind: str = "toml") -> Path:
        """Writes the spec (`"toml"`), the figure it renders (`"png"`) or a video
        (`"mp4"`) to a new file in `directory` (never overwriting one)."""
        from scenes.explorer.export import export

        try:
            path = export(self, Path(directory), kind)
        except (ValueError, OSError) as err:
            self.error = f"export: {_one_line(err)}"
            self._set_message(self.error, error=True)
            raise
        self._set_message(f"wrote {path}")
        self._note(f"wrote {path}")
        return path

    def refresh(self) -> None:
        """Draws what changed: blit over the cached background, or a full draw
        when the background itself changed."""
        canvas = self.figure.canvas
        if self._background_dirty or self._background is None:
            canvas.draw()  # `_on_draw` caches the background and blits the rest
            return
        canvas.restore_region(self._background)
        if self._dirty_axes:
            for ax in self._dirty_axes:
                self._redraw_widget(ax)
            self._dirty_axes.clear()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        self._draw_animated()
        _blit(canvas, self.figure.bbox)

    def play(self, on: bool | None = None, interval_ms: int = 40) -> bool:
        """Starts (or stops) moving the timeline; returns whether it is playing."""
        playing = self._timer is not None
        on = not playing if on is None else on
        if on and not playing:
            self._timer = self.figure.canvas.new_timer(interval=interval_ms)
            self._timer.add_callback(self._tick)
            self._timer.start()
        elif not on and playing:
            self._timer.stop()
            self._timer = None
        return self._timer is not None

    # ------------------------------------------------------------- internals
    def _index(self, i: int) -> int:
        if (
            isinstance(i, bool)
            or not isinstance(i, int)
            or not 0 <= i < len(self._optimizers)
        ):
            raise ValueError(
                f"`optimizer_index` must be 0..{len(self._optimizers) - 1}. "
                f"Received: optimizer_index={i!r}"
            )
        return i

    def _race_pairs(self, race: Race) -> list[tuple[Any, Trace]]:
        active = [i for i, t in enumerate(self._traces) if t is not None]
        return [(self._optimizers[i], self._traces[i]) for i in active]

    def _in_view(self, surface: Any) -> bool:
        (x0, x1), (y0, y1) = surface.view
        return all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in self._starts)

    @staticmethod
    def _check_starts(starts) -> None:
        arr = np.asarray(starts, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2 or not np.isfinite(arr).all():
            raise ValueError(
                f"`starts` must be finite (x, y) pairs. Received: {starts!r}"
            )

    def _replace(self, i: int, optimizer: Any) -> None:
        trace = self._run(i, optimizer) if i in self._active() else None
        self._optimizers[i] = optimizer
        self._traces[i] = trace
        self._note(f"optimizer {i} {optimizer.to_text()}")
        self._sync_trace(i)

    def _add(self, optimizer: Any) -> None:
        i = len(self._optimizers)
        trace = None if self._swarm else self._run(i, optimizer)
        self._optimizers.append(optimizer)
        self._traces.append(trace)
        self.series.append(None)
        self.loss.resize(i + 1)
        self.internal.resize(i + 1)
        self._note(f"optimizer {i} {optimizer.to_text()}")
        self._sync_trace(i)

    def _set_starts(self, starts: list[list[float]]) -> None:
        self._check_starts(starts)
        old = (self._starts, self._swarm)
        self._starts, self._swarm = starts, False
        try:
            traces = self._run_everything()
        except ValueError:
            self._starts, self._swarm = old
            raise
        self._commit(traces)
        self._note("starts " + " ".join(f"({x:.4g}, {y:.4g})" for x, y in starts))

    def _run_everything(self, **changes: Any) -> list[Trace | None]:
        """Every active optimizer run with `changes`; nothing is kept on error."""
        if "starts" in changes and changes["starts"] is None:
            del changes["starts"]
        if "starts" in changes:
            changes["starts"] = _xy(changes["starts"])
        traces: list[Trace | None] = [None] * len(self._optimizers)
        for i in self._active():
            traces[i] = self._run(i, **changes)
        return traces

    def _rerun_everything(self) -> None:
        self._commit(self._run_everything())

    def _commit(self, traces: list[Trace | None]) -> None:
        self._traces = traces
        self._sync_all()

    def _note(self, line: str) -> None:
        self.log.append(line)
        if self._on_note is not None:
            self._on_note(line)

    _on_note = None

    # --------------------------------------------------------------- drawing
    def _build_axes(self) -> None:
        fig = self.figure
        self.ax = fig.add_axes((0.045, 0.33, 0.41, 0.62))
        self.ax_loss = fig.add_axes((0.565, 0.655, 0.215, 0.295))
        self.ax_internal = fig.add_axes(
            (0.565, 0.36, 0.215, 0.255), sharex=self.ax_loss
        )
        for ax in (self.ax_loss, self.ax_internal):
            ax.set_yscale("log")
            ax.grid(True, which="major", alpha=0.3)
        self.ax_loss.set_ylabel("f − f* (median)")
        self.ax_loss.tick_params(labelbottom=False)
        self.ax_internal.set_ylabel(_internal_label(self._internal))
        self.ax_internal.set_xlabel("step")
        n = len(self._optimizers)
        self.series: list[SeriesLayer | None] = [None] * n
        self._scale: float | None = None
        self.loss = CurvesLayer(self.ax_loss, n)
        self.internal = CurvesLayer(self.ax_internal, n)
        self._message = fig.text(0.01, 0.012, "", fontsize=9, animated=True)
        self._colorbar = None

    def _draw_surface(self) -> None:
        """Contours and minima: the landscape's background (a full redraw)."""
        ax = self.ax
        if self._colorbar is not None:
            self._colorbar.remove()
        for artist in [*ax.collections, *ax.images]:
            if not artist.get_animated():
                artist.remove()
        ax.set_position((0.045, 0.33, 0.41, 0.62))
        _, self._colorbar = draw_contours(ax, self._surface, levels=21)
        if self._surface.minima:  # draw_minima needs at least one
            draw_minima(ax, self._surface)
        ax.set_title(self._surface.name, fontsize=10)
        self._background_dirty = True
        self._sync_all()

    def _floor(self) -> float:
        known = [m.value for m in self._surface.minima if m.kind == "global"]
        return min(known) if known else 0.0

    @property
    def _glyph_name(self) -> str | None:
        return None if self._glyph == "none" else self._glyph

    def _sync_trace(self, i: int) -> None:
        """Trace `i` changed: its layer, curves and the axis limits."""
        trace = self._traces[i]
        if self.series[i] is not None:
            self.series[i].remove()
            self.series[i] = None
        if trace is None:
            self.loss.set_curve(i, None, None)
            self.internal.set_curve(i, None, None)
        else:
            self.series[i] = SeriesLayer(
                self.ax, trace, i, self._surface.view, self._glyph_name, self._scale
            )
            steps = trace.steps_recorded
            self.loss.set_curve(i, steps, loss_curve(trace, self._floor()))
            curve = internal_curve(trace, self._internal)
            self.internal.set_curve(i, None if curve is None else steps[:-1], curve)
        self._update_limits()
        if self.series[i] is not None:  # only this optimizer's artists moved
            self.series[i].update(self.row)
        self._update_message()

    def _sync_all(self) -> None:
        """Everything changed: one glyph scale for the race, every layer anew."""
        n = len(self._optimizers)
        self.series += [None] * (n - len(self.series))
        self.loss.resize(n)
        self.internal.resize(n)
        traces = [t for t in self._traces if t is not None]
        self._scale = glyph_scale(traces, self._surface.view, self._glyph_name)
        for i in range(n):
            self._sync_trace(i)
        self.set_row(self.row)  # clamped to the new run's rows
        steps = max(t.steps_recorded[-1] for t in traces)
        if self.ax_loss.get_xlim() != (0, max(steps, 1)):
            self.ax_loss.set_xlim(0, max(steps, 1))
            self._background_dirty = True
        if self.ui is not None:
            self.ui.sync_timeline()

    def _update_limits(self) -> None:
        for layer in (self.loss, self.internal):
            found = layer.limits()
            if found is None:
                continue
            new = sticky_log_limits(layer.ax.get_ylim(), *found)
            if new is not None:
                layer.ax.set_ylim(*new)
                self._background_dirty = True

    def _sync_row(self) -> None:
        for layer in self.series:
            if layer is not None:
                layer.update(self.row)
        steps = [t.steps_recorded for t in self._traces if t is not None]
        longest = max(steps, key=len)
        step = float(longest[min(self.row, len(longest) - 1)])
        self.loss.set_step(step)
        self.internal.set_step(step)

    def _update_message(self) -> None:
        if self.error:
            return
        parts = []
        for trace in self._traces:
            if trace is None or not trace.diverged.any():
                continue
            first = int(trace.diverged_step[trace.diverged].min())
            why = str(trace.diverged_reason[trace.diverged][0])
            n, total = int(trace.diverged.sum()), trace.diverged.size
            parts.append(f"{trace.label}: {n}/{total} diverged (step {first}, {why})")
        self._set_message("; ".join(parts) if parts else "")

    def _set_message(self, text: str, error: bool = False) -> None:
        self.status = text
        self._message.set_text(text)
        self._message.set_color("#B00020" if error else "#D55E00")

    def _redraw_widget(self, ax: Any) -> None:
        """Redraws a widget's axes into the background, its outside texts too.

        A slider's label and value sit outside its axes: the area they cover is
        first painted with the figure's colour, or the new text would be drawn
        over the old (this is what a full draw shows there).
        """
        fig = self.figure
        box = ax.get_tightbbox(fig.canvas.get_renderer()).padded(2)
        clear = Rectangle(
            (box.x0, box.y0),
            box.width,
            box.height,
            transform=IdentityTransform(),
            facecolor=fig.get_facecolor(),
            edgecolor="none",
            antialiased=False,
        )
        clear.set_figure(fig)
        fig.draw_artist(clear)
        fig.draw_artist(ax)

    def _animated(self) -> list[Any]:
        return [
            *(a for layer in self.series if layer is not None for a in layer.artists),
            *self.loss.artists(),
            *self.internal.artists(),
            self._message,
        ]

    def _draw_animated(self) -> None:
        fig = self.figure
        for artist in self._animated():
            if artist.get_visible() and not _empty(artist):
                fig.draw_artist(artist)

    def _on_draw(self, event) -> None:
        """After any full draw: cache the background, draw the animated artists.

        A `savefig` draws on a temporary canvas: its image gets the animated
        artists too (the run is part of the picture), but nothing is cached.
        """
        if event is not None and event.canvas is not self._canvas:
            self._draw_animated()
            return
        canvas = self.figure.canvas
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        self._background_dirty = False
        self._dirty_axes.clear()
        self._draw_animated()
        _blit(canvas, self.figure.bbox)

    def _tick(self) -> None:
        n = max(len(t.steps_recorded) for t in self._traces if t is not None)
        stride = max(1, n // 150)
        self.set_row(0 if self.row >= n - 1 else self.row + stride)
        self.refresh()

    def __repr__(self) -> str:
        return (
            f"Explorer({self.race!r}, steps={self._steps}, starts={len(self.starts)})"
        )
