"""The explorer's matplotlib widgets, each wired to one `Explorer` method."""

from __future__ import annotations

from typing import Any

from matplotlib import widgets as mw

from scenes.explorer.controls import controls_for, slider_position, slider_value

__all__ = ["Widgets"]

#: Steps slider range and stride.
STEPS_RANGE = (10, 2000, 10)
#: Gradient-noise slider range (standard deviation) and stride.
NOISE_RANGE = (0.0, 5.0, 0.05)
#: At most this many hyperparameter sliders (Ftrl has the most: six).
MAX_SLIDERS = 7


# Widgets that never draw themselves (`drawon = False` from construction on: a
# plain Slider draws the whole figure once when it is made). A changed widget
# marks its axes for the explorer's next blit instead.
class Button(mw.Button):
    drawon = False


class CheckButtons(mw.CheckButtons):
    drawon = False


class RadioButtons(mw.RadioButtons):
    drawon = False


class Slider(mw.Slider):
    drawon = False


class TextBox(mw.TextBox):
    """A TextBox whose keystrokes blit (matplotlib's redraws the whole figure).

    `on_render` is called after each keystroke has moved the text or cursor.
    """

    drawon = False
    on_render = None

    def _rendercursor(self):
        canvas = self.ax.get_figure(root=True).canvas
        if canvas.figure._get_renderer() is None:
            return super()._rendercursor()
        # matplotlib ends with `canvas.draw()`; the box is blitted instead.
        canvas.draw = lambda *args, **kwargs: None
        try:
            super()._rendercursor()
        finally:
            del canvas.draw
        if self.on_render is not None:
            self.on_render()


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


class Widgets:
    """Builds the widgets around an `Explorer`'s panels and routes their events.

    Widgets never draw themselves: a changed widget marks its axes for the
    explorer's next blit, so a slider move costs one re-run and a blit, not a
    full `canvas.draw()`.
    """

    def __init__(self, explorer: Any):
        self.ex = explorer
        fig = explorer.figure
        self.fig = fig
        self._per_optimizer: list[Any] = []  # axes rebuilt when the selection changes
        self.sliders: dict[str, tuple[Slider, Any]] = {}
        self.toggles: CheckButtons | None = None
        self.keras: TextBox | None = None
        self.choice: RadioButtons | None = None

        self.play_button = self._button((0.045, 0.235, 0.05, 0.04), "play", self._play)
        ax = fig.add_axes((0.14, 0.245, 0.30, 0.025))
        self.timeline = Slider(ax, "step", 0, 1, valinit=0, valstep=1, valfmt="%d")
        self.timeline.on_changed(self._on_time)

        ax = fig.add_axes((0.10, 0.175, 0.34, 0.035))
        self.surface = TextBox(ax, "surface ", initial=explorer.surface.name)
        self.surface.on_submit(self._on_surface)
        self.surface.on_render = lambda: self._done(self.surface)
        ax = fig.add_axes((0.10, 0.125, 0.30, 0.025))
        lo, hi, step = STEPS_RANGE
        self.steps = Slider(
            ax, "steps", lo, hi, valinit=explorer.steps, valstep=step, valfmt="%d"
        )
        self.steps.on_changed(self._on_steps)
        ax = fig.add_axes((0.10, 0.08, 0.30, 0.025))
        lo, hi, step = NOISE_RANGE
        self.noise = Slider(ax, "noise σ", lo, hi, valinit=explorer.noise, valstep=step)
        self.noise.on_changed(self._on_noise)

        from scenes.explorer.app import GLYPH_CHOICES, INTERNALS

        ax = fig.add_axes((0.50, 0.03, 0.09, 0.13))
        ax.set_title("glyph", fontsize=8)
        self.glyph = RadioButtons(
            ax, GLYPH_CHOICES, active=GLYPH_CHOICES.index(explorer._glyph)
        )
        self.glyph.on_clicked(self._on_glyph)
        ax = fig.add_axes((0.61, 0.03, 0.17, 0.16))
        ax.set_title("lower panel", fontsize=8)
        self.internal = RadioButtons(
            ax, INTERNALS, active=INTERNALS.index(explorer._internal)
        )
        self.internal.on_clicked(self._on_internal)

        ax = fig.add_axes((0.565, 0.215, 0.215, 0.035))
        self.add = TextBox(ax, "add ", initial="")
        self.add.on_submit(self._on_add)
        self.add.on_render = lambda: self._done(self.add)
        self.swarm = self._button((0.81, 0.10, 0.085, 0.04), "swarm: off", self._swarm)
        self.export_buttons = [
            self._button(
                (0.81 + 0.062 * k, 0.045, 0.058, 0.04),
                label,
                lambda _e, kind=kind: self._export(kind),
            )
            for k, (label, kind) in enumerate(
                (("Export", "toml"), ("PNG", "png"), ("MP4", "mp4"))
            )
        ]
        fig.canvas.mpl_connect("button_press_event", self._on_press)
        fig.canvas.mpl_connect("key_press_event", self._on_key)
        self.rebuild()
        self.sync_timeline()

    # ---------------------------------------------------------------- helpers
    def _button(self, rect, label, callback) -> Button:
        button = Button(self.fig.add_axes(rect), label)
        button.label.set_fontsize(8)
        button.on_clicked(callback)
        return button

    def _dirty(self, widget: Any) -> None:
        self.ex._dirty_axes.add(widget.ax)

    def _done(self, widget: Any) -> None:
        self._dirty(widget)
        self.ex.refresh()

    # ---------------------------------------------- rebuilt per optimizer
    def rebuild(self) -> None:
        """Rebuilds the optimizer list, its Keras text, sliders and toggles."""
        ex = self.ex
        for widget in self._per_optimizer:
            widget.disconnect_events()  # a removed widget must not hear clicks
            widget.ax.remove()
        self._per_optimizer = []
        self.sliders = {}
        fig = self.fig
        ax = fig.add_axes((0.81, 0.56, 0.18, 0.39))
        ax.set_title("optimizer (click to edit)", fontsize=8)
        labels = [f"{i}: {_short(o.to_text())}" for i, o in enumerate(ex.optimizers)]
        self.choice = RadioButtons(ax, labels, active=ex.selected)
        for text in self.choice.labels:
            text.set_fontsize(6.5)
        self.choice.on_clicked(self._on_choice)
        self._per_optimizer.append(self.choice)

        optimizer = ex.optimizers[ex.selected]
        ax = fig.add_axes((0.565, 0.265, 0.215, 0.035))
        self.keras = TextBox(ax, "Keras ", initial=optimizer.to_text())
        self.keras.text_disp.set_fontsize(7)
        self.keras.on_submit(self._on_keras)
        self.keras.on_render = lambda: self._done(self.keras)
        self._per_optimizer.append(self.keras)

        controls = controls_for(optimizer)
        floats = [c for c in controls if c.kind == "float"][:MAX_SLIDERS]
        for k, control in enumerate(floats):
            ax = fig.add_axes((0.875, 0.51 - 0.04 * k, 0.09, 0.022))
            lo, hi = (
                slider_position(control, control.lo),
                slider_position(control, control.hi),
            )
            slider = Slider(
                ax,
                control.name + (" (log)" if control.log else ""),
                lo,
                hi,
                valinit=slider_position(control, control.value),
            )
            slider.label.set_fontsize(7)
            slider.valtext.set_fontsize(7)
            slider.valtext.set_text(f"{control.value:.4g}")
            slider.on_changed(lambda pos, c=control: self._on_hyper(c, pos))
            self.sliders[control.name] = (slider, control)
            self._per_optimizer.append(slider)
        switches = [c for c in controls if c.kind == "bool"]
        if switches:
            ax = fig.add_axes((0.81, 0.16, 0.18, 0.03 + 0.025 * len(switches)))
            self.toggles = CheckButtons(
                ax, [c.name for c in switches], [c.value for c in switches]
            )
            self.toggles.on_clicked(self._on_toggle)
            self._per_optimizer.append(self.toggles)
        else:
            self.toggles = None
        ex._background_dirty = True

    def show_value(self, name: str, value: Any) -> None:
        """Shows a value set through the API on its widget (no callback fires)."""
        if name in self.sliders:
            slider, control = self.sliders[name]
            slider.eventson = False
            slider.set_val(slider_position(control, value))
            slider.eventson = True
            slider.valtext.set_text(f"{value:.4g}")
            self._dirty(slider)
        elif self.toggles is not None:
            names = [t.get_text() for t in self.toggles.labels]
            if name in names and self.toggles.get_status()[names.index(name)] != value:
                self.toggles.eventson = False
                self.toggles.set_active(names.index(name))
                self.toggles.eventson = True
                self._dirty(self.toggles)
        if self.keras is not None:
            self._set_keras_text()

    def _set_keras_text(self) -> None:
        self.keras.eventson = False
        render, self.keras.on_render = self.keras.on_render, None  # no blit here
        self.keras.set_val(self.ex.optimizers[self.ex.selected].to_text())
        self.keras.eventson, self.keras.on_render = True, render
        self._dirty(self.keras)
        label = self.choice.labels[self.ex.selected]
        i = self.ex.selected
        label.set_text(f"{i}: {_short(self.ex.optimizers[i].to_text())}")
        self._dirty(self.choice)

    def sync_timeline(self) -> None:
        """Fits the timeline to the current run's recorded rows."""
        n = max(len(t.steps_recorded) for t in self.ex._traces if t is not None)
        if self.timeline.valmax != n - 1:
            self.timeline.valmax = n - 1
            self.timeline.ax.set_xlim(0, max(n - 1, 1))
            self.ex._background_dirty = True
        self.show_row()

    def show_row(self) -> None:
        """Moves the timeline's handle to the explorer's row (no callback)."""
        self.timeline.eventson = False
        self.timeline.set_val(self.ex.row)
        self.timeline.eventson = True
        self._dirty(self.timeline)

    # -------------------------------------------------------------- events
    def _on_time(self, value) -> None:
        self.ex.set_row(int(value))
        self._done(self.timeline)

    def _play(self, _event) -> None:
        playing = self.ex.play()
        self.play_button.label.set_text("pause" if playing else "play")
        self._done(self.play_button)

    def _on_choice(self, label: str) -> None:
        self.ex.select(int(label.split(":", 1)[0]))
        self.ex.refresh()

    def _on_hyper(self, control, position: float) -> None:
        value = slider_value(control, position)
        slider = self.sliders[control.name][0]
        slider.valtext.set_text(f"{value:.4g}")
        self.ex.set_hyperparameter(self.ex.selected, control.name, value)
        self._done(slider)

    def _on_toggle(self, label: str) -> None:
        names = [t.get_text() for t in self.toggles.labels]
        value = self.toggles.get_status()[names.index(label)]
        self.ex.set_hyperparameter(self.ex.selected, label, value)
        self._done(self.toggles)

    def _on_keras(self, text: str) -> None:
        if text.strip() and text != self.ex.optimizers[self.ex.selected].to_text():
            self.ex.set_optimizer(self.ex.selected, text)
        self.ex.refresh()

    def _on_add(self, text: str) -> None:
        if text.strip() and self.ex.set_optimizer(len(self.ex.optimizers), text):
            # Emptied, so the submit a later click elsewhere sends adds nothing.
            self.add.eventson = False
            self.add.set_val("")
            self.add.eventson = True
        self.ex.refresh()

    def _on_surface(self, text: str) -> None:
        if text.strip() and text != self.ex.surface.name:
            self.ex.set_surface(text)
        self.ex.refresh()

    def _on_steps(self, value) -> None:
        self.ex.set_steps(int(value))
        self._done(self.steps)

    def _on_noise(self, value) -> None:
        self.ex.set_noise(round(float(value), 4))
        self._done(self.noise)

    def _on_glyph(self, label: str) -> None:
        self.ex.set_glyph(label)
        self._done(self.glyph)

    def _on_internal(self, label: str) -> None:
        self.ex.set_internal(label)
        self._done(self.internal)

    def _swarm(self, _event) -> None:
        self.ex.set_swarm(not self.ex.swarm)
        self.swarm.label.set_text(f"swarm: {'on' if self.ex.swarm else 'off'}")
        self._done(self.swarm)

    def _export(self, kind: str) -> None:
        try:
            self.ex.export(".", kind)
        except (ValueError, OSError):
            pass  # shown in the figure by `export`
        self.ex.refresh()

    def _on_press(self, event) -> None:
        toolbar = getattr(self.fig.canvas, "toolbar", None)
        if (
            event.inaxes is not self.ex.ax
            or event.button != 1
            or event.xdata is None
            or (toolbar is not None and getattr(toolbar, "mode", ""))
        ):
            return
        xy = (float(event.xdata), float(event.ydata))
        if event.key == "shift":
            self.ex.add_start(xy)
        else:
            self.ex.set_start(xy)
        self.ex.refresh()

    def _on_key(self, event) -> None:
        if any(box.capturekeystrokes for box in (self.surface, self.add, self.keras)):
            return  # typing into a text box
        if event.key == " ":
            self._play(event)
        elif event.key in ("left", "right"):
            self.ex.set_row(self.ex.row + (1 if event.key == "right" else -1))
            self.ex.refresh()
