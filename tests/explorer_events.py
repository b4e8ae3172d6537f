"""Synthetic mouse and key events for driving matplotlib widgets headlessly.

matplotlib's own widget tests build `MouseEvent`/`KeyEvent` objects and hand
them to the canvas's callbacks with the private `Event._process()`; that one
private call lives here, so a matplotlib change breaks one helper.
"""

from __future__ import annotations

from matplotlib.backend_bases import KeyEvent, MouseEvent


def _pixels(ax, xy, coords: str):
    transform = ax.transData if coords == "data" else ax.transAxes
    return transform.transform(xy)


def click(ax, xy, *, coords: str = "data", key: str | None = None, button: int = 1):
    """Press and release mouse `button` at `xy` in `ax` (`"data"` or `"axes"`)."""
    canvas = ax.figure.canvas
    x, y = _pixels(ax, xy, coords)
    for name in ("button_press_event", "button_release_event"):
        MouseEvent(name, canvas, x, y, button=button, key=key)._process()


def press(fig, key: str, *, ax=None, xy=(0.5, 0.5)):
    """Press and release `key` with the mouse over `ax` (axes fraction `xy`)."""
    canvas = fig.canvas
    x, y = _pixels(ax, xy, "axes") if ax is not None else (1, 1)
    for name in ("key_press_event", "key_release_event"):
        KeyEvent(name, canvas, key, x, y)._process()


def type_text(box, text: str):
    """Clicks into a matplotlib `TextBox`, selects all, types `text`, presses enter."""
    click(box.ax, (0.5, 0.5), coords="axes")
    box.set_val("")  # what select-all + delete does; typing then appends
    for char in text:
        press(box.ax.figure, char, ax=box.ax)
    press(box.ax.figure, "enter", ax=box.ax)
