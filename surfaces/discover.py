"""Numerical discovery of the minima of a surface that does not list its own."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from scipy.optimize import minimize

from surfaces.base import CriticalPoint

__all__ = ["find_minima", "with_minima"]


def find_minima(
    surface: Any, view: Any = None, *, grid: int = 8, xtol: float = 1e-10
) -> tuple[CriticalPoint, ...]:
    """Local minima inside `view`, found by L-BFGS-B from a `grid` x `grid` of starts.

    Each candidate is kept only if its gradient vanishes (|g| <= 1e-6 times the
    gradient scale) and its Hessian, from central differences of the exact
    gradient, is positive definite; candidates closer than 1e-4 of the view
    diagonal are merged. The lowest value(s) are marked `"global"` (within the
    view: a claim about the window, not the plane).

    Args:
        surface: a `Surface`.
        view: `((xmin, xmax), (ymin, ymax))`, default the surface's view.
        grid: starts per axis.
        xtol: L-BFGS-B tolerance on the projected gradient.

    Returns:
        Minima sorted by value (global first).
    """
    (x0, x1), (y0, y1) = surface.view if view is None else view
    diag = float(np.hypot(x1 - x0, y1 - y0))
    xs = np.linspace(x0, x1, grid + 2)[1:-1]
    ys = np.linspace(y0, y1, grid + 2)[1:-1]
    starts = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    g_scale = float(np.nanmax(np.abs(surface.grad(starts)))) or 1.0

    def fun(p):
        f, g = surface.value_and_grad(p)
        return float(f), np.asarray(g, dtype=np.float64)

    found: list[np.ndarray] = []
    # A one-off search over a few dozen starts to label the surface; scipy's
    # minimiser is scalar, the simulation itself stays vectorised.
    for start in starts:
        res = minimize(
            fun,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(x0, x1), (y0, y1)],
            options={"gtol": xtol},
        )
        p = res.x
        if np.linalg.norm(surface.grad(p)) > 1e-6 * g_scale:
            continue  # stopped on the window's edge, or not converged
        if any(np.linalg.norm(p - q) < 1e-4 * diag for q in found):
            continue
        h = 1e-5 * diag
        hess = np.array(
            [
                (surface.grad(p + h * e) - surface.grad(p - h * e)) / (2 * h)
                for e in np.eye(2)
            ]
        )
        if np.all(np.linalg.eigvalsh((hess + hess.T) / 2) > 0):
            found.append(p)
    values = [float(surface.value(p)) for p in found]
    order = np.argsort(values)
    best = min(values) if values else 0.0
    tol = 1e-9 * max(1.0, abs(best))
    return tuple(
        CriticalPoint(
            (float(found[i][0]), float(found[i][1])),
            values[i],
            "global" if values[i] - best <= tol else "local",
        )
        for i in order
    )


def with_minima(surface: Any, view: Any = None) -> Any:
    """`surface` itself if it lists minima, else a copy with discovered ones."""
    if surface.minima:
        return surface
    return dataclasses.replace(surface, minima=find_minima(surface, view))
