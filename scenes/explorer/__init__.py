"""The interactive hyperparameter explorer: one matplotlib app, three front ends."""

from __future__ import annotations

from typing import Any

from scenes.explorer.app import Explorer, default_optimizers

__all__ = ["Explorer", "default_optimizers", "explore"]


def explore(*args: Any, **kwargs: Any) -> Explorer:
    """An `Explorer` in the current backend (in Jupyter: `%matplotlib widget`).

    Takes `Explorer`'s arguments; shows the figure (in a notebook, the ipympl
    canvas is the cell's output) and returns the explorer for the API.
    """
    explorer = Explorer(*args, **kwargs)
    explorer.refresh()
    return explorer
