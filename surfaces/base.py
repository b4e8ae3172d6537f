"""The `Surface` object: a 2D function, its exact gradient and its metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["CriticalPoint", "Surface", "as_points"]

# A surface kernel takes x, y (same shape, float dtype) and returns (f, df/dx, df/dy).
Kernel = Callable[[np.ndarray, np.ndarray], tuple[Any, Any, Any]]
ValueKernel = Callable[[np.ndarray, np.ndarray], Any]
View = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class CriticalPoint:
    """A known stationary point of a surface.

    Attributes:
        xy: `(x, y)` location.
        value: surface value there.
        kind: `"global"` or `"local"` (minima), `"saddle"`, or `"maximum"` (an
            extension of the DESIGN.md contract, used in `Surface.maxima`).
    """

    xy: tuple[float, float]
    value: float
    kind: Literal["global", "local", "saddle", "maximum"]


def as_points(xy: Any, *, argument: str = "xy") -> np.ndarray:
    """Validate `xy` and return it as a float array of shape `(..., 2)`.

    float32 (and float64) input keeps its dtype; every other real input (ints,
    lists, float16) becomes float64. The input is never copied needlessly and
    never mutated.

    Raises:
        ValueError: non-numeric or complex input, or a last axis of length != 2.
    """
    try:
        arr = np.asarray(xy)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`{argument}` must be a real array of shape (..., 2). "
            f"Received: {argument}={xy!r}"
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"`{argument}` must be a real numeric array of shape (..., 2). "
            f"Received: {argument} with dtype {arr.dtype}"
        )
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(
            f"`{argument}` must have shape (..., 2) (coordinates on the last axis). "
            f"Received: {argument} with shape {arr.shape}"
        )
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def _check_view(view: Any) -> View:
    try:
        (x0, x1), (y0, y1) = view
        out = ((float(x0), float(x1)), (float(y0), float(y1)))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"`view` must be ((xmin, xmax), (ymin, ymax)). Received: view={view!r}"
        ) from exc
    if not all(np.isfinite(v) for pair in out for v in pair) or not (
        out[0][0] < out[0][1] and out[1][0] < out[1][1]
    ):
        raise ValueError(
            f"`view` must be finite with xmin < xmax and ymin < ymax. "
            f"Received: view={view!r}"
        )
    return out


@dataclass(frozen=True, eq=False)
class Surface:
    """A 2D scalar field with an exact gradient, for optimizers to descend.

    Define one by giving a *kernel* `fn(x, y) -> (f, df/dx, df/dy)` that computes
    the value and both partial derivatives together (sharing subexpressions);
    `x` and `y` are arrays of one common shape. An optional `value_fn(x, y) -> f`
    skips the gradient work in `value`.

    Shapes: `xy` is `(..., 2)` with any leading batch shape (`(2,)`, `(N, 2)`,
    `(H, N, 2)`, ...); `value` returns `(...)` and `grad` returns `(..., 2)`.
    float32 input gives float32 output (computed in float32 where the kernel's
    constants allow); everything else is computed and returned in float64.

    Attributes:
        name: registry name (`"expr:<text>"` for expression surfaces).
        fn: the kernel described above.
        formula: plain-text formula, e.g. `"(1 - x)**2 + 100*(y - x**2)**2"`.
        latex: LaTeX formula (without `$`).
        description: one paragraph for humans.
        view: `((xmin, xmax), (ymin, ymax))` default plotting window.
        minima: known minima (kind `"global"` or `"local"`), global ones first.
        saddles: known saddle points (kind `"saddle"`).
        maxima: known local maxima (kind `"maximum"`; extension of DESIGN.md).
        starts: suggested start points; the first is the default.
        log_contours: contours read best on a log scale of `f - min f`.
        value_fn: optional value-only kernel.
        config: JSON-able dict that rebuilds the surface (`to_config`).
    """

    name: str
    fn: Kernel = field(repr=False)
    formula: str = ""
    latex: str = ""
    description: str = ""
    view: View = ((-3.0, 3.0), (-3.0, 3.0))
    minima: tuple[CriticalPoint, ...] = ()
    saddles: tuple[CriticalPoint, ...] = ()
    maxima: tuple[CriticalPoint, ...] = ()
    starts: tuple[tuple[float, float], ...] = ()
    log_contours: bool = False
    value_fn: ValueKernel | None = field(default=None, repr=False)
    config: dict[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(
                f"`name` must be a non-empty string. Received: name={self.name!r}"
            )
        view = _check_view(self.view)
        object.__setattr__(self, "view", view)
        object.__setattr__(self, "minima", tuple(self.minima))
        object.__setattr__(self, "saddles", tuple(self.saddles))
        object.__setattr__(self, "maxima", tuple(self.maxima))
        starts = tuple((float(a), float(b)) for a, b in self.starts)
        if not starts:
            # A default start: a point near the upper-left corner of the view.
            (x0, x1), (y0, y1) = view
            starts = ((x0 + 0.2 * (x1 - x0), y0 + 0.8 * (y1 - y0)),)
        object.__setattr__(self, "starts", starts)

    # -- evaluation -----------------------------------------------------------

    def _eval(self, xy: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        arr = as_points(xy)
        x, y = arr[..., 0], arr[..., 1]
        with np.errstate(all="ignore"):
            f, fx, fy = self.fn(x, y)
        dtype = arr.dtype
        shape = x.shape
        f = np.asarray(f, dtype=dtype)
        if f.shape != shape or np.may_share_memory(f, arr) or not f.flags.writeable:
            # Constants, broadcasts and views of the input become fresh arrays;
            # a kernel's own new array is returned as it is (no extra copy).
            f = np.broadcast_to(f, shape).copy()
        g = np.empty((*shape, 2), dtype=dtype)
        g[..., 0] = fx
        g[..., 1] = fy
        return f, g, arr

    def value(self, xy: Any) -> np.ndarray:
        """Surface value. `xy`: `(..., 2)` array-like -> `(...)` array."""
        if self.value_fn is None:
            return self._eval(xy)[0]
        arr = as_points(xy)
        with np.errstate(all="ignore"):
            f = self.value_fn(arr[..., 0], arr[..., 1])
        return np.broadcast_to(np.asarray(f, dtype=arr.dtype), arr.shape[:-1]).copy()

    def grad(self, xy: Any) -> np.ndarray:
        """Exact gradient `(df/dx, df/dy)`. `xy`: `(..., 2)` -> `(..., 2)` array."""
        return self._eval(xy)[1]

    def value_and_grad(self, xy: Any) -> tuple[np.ndarray, np.ndarray]:
        """`(value, grad)` computed in one pass: shapes `(...)` and `(..., 2)`."""
        f, g, _ = self._eval(xy)
        return f, g

    __call__ = value

    # -- plotting helpers -----------------------------------------------------

    def grid(
        self, resolution: int = 200, view: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample the surface on a regular grid for contour plots.

        Args:
            resolution: points per axis (>= 2).
            view: `((xmin, xmax), (ymin, ymax))`; defaults to `self.view`.

        Returns:
            `X, Y, Z`, each `(resolution, resolution)`; row index = y, column = x
            (`np.meshgrid` "xy" indexing, matplotlib `contour(X, Y, Z)` order).
        """
        if (
            isinstance(resolution, bool)
            or not isinstance(resolution, int | np.integer)
            or resolution < 2
        ):
            raise ValueError(
                f"`resolution` must be an integer >= 2. Received: "
                f"resolution={resolution!r}"
            )
        (x0, x1), (y0, y1) = self.view if view is None else _check_view(view)
        X, Y = np.meshgrid(
            np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
        )
        return X, Y, self.value(np.stack([X, Y], axis=-1))

    @property
    def global_minima(self) -> tuple[CriticalPoint, ...]:
        """The minima of kind `"global"`."""
        return tuple(m for m in self.minima if m.kind == "global")

    def to_config(self) -> dict[str, Any]:
        """JSON-able dict that rebuilds this surface via `surfaces.from_config`."""
        if self.config is not None:
            return dict(self.config)
        return {"name": self.name}
