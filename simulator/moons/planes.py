"""Planes through weight space: PCA, filter-normalised random, three points; slices."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from simulator.metadata import (
    check_schema,
    jsonable,
    load_archive,
    package_versions,
    save_archive,
)
from simulator.moons.mlp import ARTICLE_LAYER_SIZES, MLP
from simulator.moons.results import FitHistory
from simulator.moons.training import resolve_data

__all__ = [
    "LossGrid",
    "Plane",
    "Projection",
    "decision_boundary",
    "losses",
    "pca_plane",
    "plane_through",
    "random_plane",
]

#: Default memory budget of one vectorised chunk (bytes); small chunks reuse
#: freed memory instead of faulting in fresh pages, which measured faster.
MEMORY_LIMIT = 16 * 2**20


class LossGrid(NamedTuple):
    """The loss on an `R x R` grid over a plane.

    Attributes:
        alpha: `(R,)` coordinates along the first direction (columns).
        beta: `(R,)` coordinates along the second direction (rows).
        loss: `(R, R)`; `loss[i, j]` is at `(alpha[j], beta[i])` (row = beta,
            matplotlib `origin="lower"` convention).
    """

    alpha: np.ndarray
    beta: np.ndarray
    loss: np.ndarray


class Projection(NamedTuple):
    """Weight vectors seen on a plane, with what the plane hides.

    Attributes:
        coords: `(T, 2)` least-squares coordinates on the plane.
        off_plane: `(T,)` Euclidean distance from each point to the plane.
        true_loss: `(T,)` loss at the actual weights.
        slice_loss: `(T,)` loss at the projected point (what the picture shows).
    """

    coords: np.ndarray
    off_plane: np.ndarray
    true_loss: np.ndarray
    slice_loss: np.ndarray


@dataclass
class Plane:
    """The affine plane `origin + a * directions[0] + b * directions[1]`.

    Attributes:
        origin: `(P,)` flat weights (Keras order) at coordinates `(0, 0)`.
        directions: `(2, P)`; orthonormal for PCA and three-point planes, not
            for random planes (Li et al.'s directions are not orthogonalised).
        X: `(n, n_in)` inputs the loss is measured on.
        y: `(n,)` labels.
        kind: `"pca"`, `"random"` or `"through"`.
        window: default `((a_min, a_max), (b_min, b_max))` for `loss_grid`.
        explained_variance_ratio: `(2,)` for PCA planes (fraction of the
            trajectory's variance along each direction), else None.
        anchors: `(m, 2)` coordinates of notable points (the three points of
            `plane_through`, a PCA trajectory's start and end), or `(0, 2)`.
        metadata: how the plane was built, layer sizes, data, package versions.
    """

    origin: np.ndarray
    directions: np.ndarray
    X: np.ndarray
    y: np.ndarray
    kind: str
    window: tuple[tuple[float, float], tuple[float, float]]
    explained_variance_ratio: np.ndarray | None = None
    anchors: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    metadata: dict = field(default_factory=dict)

    @property
    def model(self) -> MLP:
        """The network whose weights the plane lives in."""
        return MLP(tuple(self.metadata["layer_sizes"]))

    def point(self, coords: np.ndarray) -> np.ndarray:
        """Flat weights at plane coordinates `(..., 2)` -> `(..., P)`."""
        coords = np.asarray(coords, np.float64)
        if coords.shape[-1:] != (2,):
            raise ValueError(
                f"Argument `coords` must have 2 on its last axis. Received shape "
                f"{coords.shape}."
            )
        # Elementwise, not a matmul: the same bits whatever the chunk size.
        d = self.directions
        return self.origin + coords[..., :1] * d[0] + coords[..., 1:] * d[1]

    def loss_grid(
        self,
        resolution: int = 51,
        span: float | Sequence | None = None,
        *,
        memory_limit: int = MEMORY_LIMIT,
    ) -> LossGrid:
        """The loss on a `resolution x resolution` grid, vectorised in chunks.

        Args:
            resolution: points per axis (int >= 2).
            span: None for `self.window`; a float `s` for `[-s, s]` on both
                axes; or `((a_min, a_max), (b_min, b_max))`.
            memory_limit: bytes one chunk of grid points may use.

        Returns:
            `LossGrid(alpha (R,), beta (R,), loss (R, R))`.
        """
        if (
            not isinstance(resolution, numbers.Integral)
            or isinstance(resolution, bool)
            or resolution < 2
        ):
            raise ValueError(
                f"Argument `resolution` must be an integer >= 2. Received: "
                f"resolution={resolution!r}"
            )
        (a0, a1), (b0, b1) = _window(span, self.window)
        alpha = np.linspace(a0, a1, resolution)
        beta = np.linspace(b0, b1, resolution)
        A, B = np.meshgrid(alpha, beta)
        coords = np.stack([A.ravel(), B.ravel()], axis=-1)
        values = losses(
            self.model, coords, self.X, self.y, memory_limit=memory_limit, plane=self
        )
        return LossGrid(alpha, beta, values.reshape(resolution, resolution))

    def project(
        self, trajectory: Any, *, memory_limit: int = MEMORY_LIMIT
    ) -> Projection:
        """Projects weight vectors `(T, P)` (or a `FitHistory`) onto the plane.

        Coordinates are the least-squares solution (exact orthogonal projection
        also for non-orthogonal directions); `off_plane` is the distance left
        over; `true_loss` and `slice_loss` compare the loss at the real weights
        with the loss the plane shows at the projected point.
        """
        traj = _trajectory(trajectory, self.model)
        diff = traj - self.origin
        gram = self.directions @ self.directions.T
        coords = np.linalg.solve(gram, self.directions @ diff.T).T
        residual = diff - coords @ self.directions
        off = np.sqrt(np.sum(residual * residual, axis=-1))
        model = self.model
        true = losses(model, traj, self.X, self.y, memory_limit=memory_limit)
        sliced = losses(
            model, self.point(coords), self.X, self.y, memory_limit=memory_limit
        )
        return Projection(coords, off, true, sliced)

    def save(self, path: str | Path) -> Path:
        """Writes `.npz` + JSON metadata; returns the path."""
        arrays = {
            "origin": self.origin,
            "directions": self.directions,
            "X": self.X,
            "y": self.y,
            "anchors": self.anchors,
            "window": np.asarray(self.window, np.float64),
        }
        if self.explained_variance_ratio is not None:
            arrays["explained_variance_ratio"] = self.explained_variance_ratio
        return save_archive(
            path, arrays, {"kind": "Plane", "plane_kind": self.kind, **self.metadata}
        )

    @classmethod
    def load(cls, path: str | Path) -> Plane:
        """Reads what `save` wrote (exact round trip)."""
        arrays, metadata = load_archive(path)
        if metadata.pop("kind", None) != "Plane":
            raise ValueError(f"File {str(path)!r} does not hold a Plane.")
        check_schema(
            arrays,
            {
                "origin": "f:P",
                "directions": "f:2,P",
                "X": "f:N,F",
                "y": "i:N",
                "anchors": "f:A,2",
                "window": "f:2,2",
                "explained_variance_ratio": "f?:K",
            },
            f"'{path}'",
        )
        if not isinstance(metadata.get("plane_kind"), str):
            raise ValueError(f"'{path}': a Plane needs its plane_kind.")
        window = arrays["window"]
        return cls(
            arrays["origin"],
            arrays["directions"],
            arrays["X"],
            arrays["y"],
            metadata.pop("plane_kind"),
            (
                (float(window[0, 0]), float(window[0, 1])),
                (float(window[1, 0]), float(window[1, 1])),
            ),
            arrays.get("explained_variance_ratio"),
            arrays["anchors"],
            metadata,
        )


# ------------------------------------------------------------------ builders
def pca_plane(
    trajectory: Any,
    *,
    center: str | np.ndarray = "final",
    layer_sizes: Sequence[int] | None = None,
    data: Mapping[str, Any] | tuple[np.ndarray, np.ndarray] | None = None,
    margin: float = 0.2,
) -> Plane:
    """The plane of the top two principal components of a weight trajectory.

    PCA of the (mean-centred) rows of the trajectory, as Li et al. (2018)
    visualise optimisation paths; several trajectories (a list) are stacked
    first. Directions are orthonormal, signed so the first point has
    non-positive coordinates (paths run towards +a, +b).

    Args:
        trajectory: `(T, P)` flat weights, a `FitHistory`, or a list of either.
        center: plane origin: `"final"` (last point of the first trajectory,
            Li et al.'s choice), `"start"` (its first point), `"mean"`, or a
            flat `(P,)` vector.
        layer_sizes: network layout (read from a `FitHistory` when given).
        data: `make_moons` kwargs or `(X, y)`; default the history's data or
            the article's.
        margin: fraction of the trajectory's extent added around the window.

    Returns:
        `Plane` with `explained_variance_ratio` `(2,)`.
    """
    parts = trajectory if isinstance(trajectory, list | tuple) else [trajectory]
    if not parts:
        raise ValueError("Argument `trajectory` must not be an empty list.")
    model, data = _model_and_data(parts[0], layer_sizes, data)
    trajs = [_trajectory(t, model) for t in parts]
    pts = np.concatenate(trajs, axis=0)
    if pts.shape[0] < 3:
        raise ValueError(
            f"A PCA plane needs at least 3 weight vectors. Received {pts.shape[0]}."
        )
    centred = pts - pts.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s * s
    if var.sum() == 0 or var[1] <= 1e-24 * var.sum():
        raise ValueError(
            "The trajectory spans fewer than two dimensions; a PCA plane is "
            "undefined (use random_plane or plane_through)."
        )
    ratio = var[:2] / var.sum()
    origin = _center(center, trajs[0], pts)
    directions = vt[:2].copy()
    start = directions @ (trajs[0][0] - origin)
    directions[start > 0] *= -1
    X, y, data_meta = resolve_data(data, model)
    coords = (pts - origin) @ directions.T
    anchors = np.stack(
        [(trajs[0][0] - origin) @ directions.T, (trajs[0][-1] - origin) @ directions.T]
    )
    return Plane(
        origin,
        directions,
        X,
        y,
        "pca",
        _bounds(coords, margin),
        ratio,
        anchors,
        _metadata(
            model,
            data_meta,
            method="PCA of mean-centred trajectory points (Li et al. 2018)",
            center=center if isinstance(center, str) else "vector",
            n_points=int(pts.shape[0]),
            n_trajectories=len(trajs),
            explained_variance_ratio=ratio.tolist(),
        ),
    )


def random_plane(
    center: Any,
    seed: int = 0,
    *,
    filter_normalize: bool = True,
    bias: str = "zero",
    layer_sizes: Sequence[int] | None = None,
    data: Mapping[str, Any] | tuple[np.ndarray, np.ndarray] | None = None,
    span: float = 1.0,
) -> Plane:
    """Two random Gaussian directions around `center`, filter-normalised.

    Filter normalisation (Li et al. 2018): for a Dense kernel a filter is one
    output unit's column `kernel[:, j]`; each direction's column is rescaled to
    the norm of the weights' column, `d[:, j] *= |w[:, j]| / (|d[:, j]| +
    1e-10)`. Biases get a zero direction (`bias="zero"`, Li et al.'s
    `ignore="biasbn"`: biases are not perturbed) or the bias itself
    (`bias="weights"`, their code's treatment of 1-D parameters otherwise).
    Without filter normalisation each direction is a unit vector. Directions
    are not orthogonalised (in high dimension they nearly are).

    Args:
        center: flat `(P,)` weights, a Keras-order list, or a `FitHistory`
            (its final weights).
        seed: seeds `numpy.random.default_rng` for the directions.
        filter_normalize: apply filter normalisation.
        bias: `"zero"` or `"weights"` (only with `filter_normalize`).
        layer_sizes: network layout (read from a `FitHistory` when given).
        data: `make_moons` kwargs or `(X, y)`.
        span: default window `[-span, span]` on both axes.
    """
    if bias not in ("zero", "weights"):
        raise ValueError(
            f'Argument `bias` must be "zero" or "weights". Received: {bias!r}'
        )
    model, data = _model_and_data(center, layer_sizes, data)
    w = _trajectory(center, model)[-1]
    rng = np.random.default_rng(seed)
    d = rng.standard_normal((2, model.n_params))
    if filter_normalize:
        dl = model.unflatten(d)
        wl = model.unflatten(w)
        out = []
        for i, (di, wi) in enumerate(zip(dl, wl, strict=True)):
            if i % 2 == 0:  # kernel (n_in, n_out): normalise each column
                wn = np.sqrt(np.sum(wi * wi, axis=-2, keepdims=True))
                dn = np.sqrt(np.sum(di * di, axis=-2, keepdims=True))
                out.append(di * (wn / (dn + 1e-10)))
            elif bias == "zero":
                out.append(np.zeros_like(di))
            else:
                out.append(np.broadcast_to(wi, di.shape).copy())
        d = model.flatten(out)
    else:
        d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    if np.linalg.matrix_rank(d) < 2:
        raise ValueError(
            "The random directions are degenerate (are the center's kernels all "
            "zero?). Use filter_normalize=False or another center."
        )
    X, y, data_meta = resolve_data(data, model)
    s = float(span)
    return Plane(
        w.copy(),
        d,
        X,
        y,
        "random",
        ((-s, s), (-s, s)),
        None,
        np.zeros((0, 2)),
        _metadata(
            model,
            data_meta,
            method="random Gaussian directions"
            + (
                " with filter normalisation (Li et al. 2018)"
                if filter_normalize
                else ""
            ),
            seed=int(seed),
            filter_normalize=bool(filter_normalize),
            bias=bias if filter_normalize else "unit-norm direction",
        ),
    )


def plane_through(
    w0: Any,
    w1: Any,
    w2: Any,
    *,
    layer_sizes: Sequence[int] = ARTICLE_LAYER_SIZES,
    data: Mapping[str, Any] | tuple[np.ndarray, np.ndarray] | None = None,
    margin: float = 0.2,
) -> Plane:
    """The plane through three weight vectors, with orthonormal directions.

    Origin `w0`; the first direction points at `w1`; the second is the
    Gram-Schmidt remainder of `w2 - w0`. Distances on the plane are true
    Euclidean distances in weight space. `plane.anchors` holds the three
    points' coordinates.
    """
    model = MLP(tuple(layer_sizes))
    p = [_trajectory(w, model)[-1] for w in (w0, w1, w2)]
    u = p[1] - p[0]
    nu = np.linalg.norm(u)
    v = p[2] - p[0]
    scale = max(nu, np.linalg.norm(v), 1e-300)
    if nu <= 1e-12 * scale or nu == 0:
        raise ValueError("Arguments `w0` and `w1` are the same point; no plane.")
    e0 = u / nu
    r = v - (v @ e0) * e0
    nr = np.linalg.norm(r)
    if nr <= 1e-10 * scale:
        raise ValueError(
            "Arguments `w0`, `w1`, `w2` are collinear; they do not define a plane."
        )
    e1 = r / nr
    directions = np.stack([e0, e1])
    anchors = np.array([[0.0, 0.0], [nu, 0.0], [v @ e0, nr]])
    X, y, data_meta = resolve_data(data, model)
    return Plane(
        p[0].copy(),
        directions,
        X,
        y,
        "through",
        _bounds(anchors, margin),
        None,
        anchors,
        _metadata(model, data_meta, method="plane through three weight vectors"),
    )


# ------------------------------------------------------------------ evaluation
def losses(
    model: MLP,
    flat: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    *,
    memory_limit: int = MEMORY_LIMIT,
    plane: Plane | None = None,
) -> np.ndarray:
    """Full-batch Keras loss of many flat weight vectors `(N, P)` -> `(N,)`.

    Vectorised over the N models in chunks sized so one chunk's weights and
    activations stay near `memory_limit` bytes. With `plane`, `flat` holds
    plane coordinates `(N, 2)` and each chunk's weights are built in the chunk.
    """
    flat = np.asarray(flat, np.float64)
    n = X.shape[0]
    hidden = sum(model.layer_sizes[1:-1])
    classes = model.layer_sizes[-1]
    per_model = 8 * (n * (3 * hidden + 6 * classes) + 2 * model.n_params)
    chunk = max(1, int(memory_limit // per_model))
    out = np.empty(flat.shape[0])
    for start in range(0, flat.shape[0], chunk):
        part = flat[start : start + chunk]
        if plane is not None:
            part = plane.point(part)
        out[start : start + chunk] = model.loss_flat(part, X, y)
    return out


def decision_boundary(
    weights: Any,
    resolution: int = 200,
    view: Sequence | None = None,
    *,
    row: int = -1,
    layer_sizes: Sequence[int] | None = None,
    memory_limit: int = MEMORY_LIMIT,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class probabilities of a model over a grid of inputs.

    Args:
        weights: flat `(*K, P)` weights (e.g. a whole trajectory `(T, P)`), a
            Keras-order list, or a `FitHistory` (its row `row`; -1 = final).
        resolution: grid points per axis.
        view: `((x_min, x_max), (y_min, y_max))`; default `((-1.5, 2.5), (-1.0,
            1.5))`, the moons with a margin.
        row: the recorded step of a `FitHistory` to use.
        layer_sizes: network layout (read from a `FitHistory` when given).
        memory_limit: bytes one chunk of models may use.

    Returns:
        `(xx (R, R), yy (R, R), prob (*K, R, R, n_classes))`; `prob[..., 1]` is
        the probability of class 1 (the inner moon). Row = y, column = x.
    """
    if isinstance(weights, FitHistory):
        model = weights.model
        flat = weights.weights[row]
    else:
        model = MLP(tuple(layer_sizes or ARTICLE_LAYER_SIZES))
        flat = _as_flat_any(weights, model)
    if model.layer_sizes[0] != 2:
        raise ValueError(
            "A decision boundary needs a network with 2 inputs. Received "
            f"layer_sizes={model.layer_sizes}."
        )
    if not isinstance(resolution, numbers.Integral) or resolution < 2:
        raise ValueError(
            f"Argument `resolution` must be an integer >= 2. Received: "
            f"resolution={resolution!r}"
        )
    (x0, x1), (y0, y1) = _window(view, ((-1.5, 2.5), (-1.0, 1.5)))
    xx, yy = np.meshgrid(
        np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    )
    inputs = np.stack([xx.ravel(), yy.ravel()], axis=-1)
    batch = flat.shape[:-1]
    models = flat.reshape(-1, model.n_params).astype(np.float64)
    per_model = 8 * inputs.shape[0] * 2 * sum(model.layer_sizes[1:])
    chunk = max(1, int(memory_limit // per_model))
    out = np.empty((models.shape[0], inputs.shape[0], model.layer_sizes[-1]))
    for start in range(0, models.shape[0], chunk):
        out[start : start + chunk] = model.forward_flat(
            models[start : start + chunk], inputs
        )
    prob = out.reshape(*batch, resolution, resolution, model.layer_sizes[-1])
    return xx, yy, prob


# ------------------------------------------------------------------ helpers
def _model_and_data(obj: Any, layer_sizes, data):
    if isinstance(obj, FitHistory):
        sizes = layer_sizes or obj.metadata["layer_sizes"]
        if data is None and "make_moons" in obj.metadata.get("data", {}):
            data = obj.metadata["data"]["make_moons"]
        return MLP(tuple(sizes)), data
    return MLP(tuple(layer_sizes or ARTICLE_LAYER_SIZES)), data


def _as_flat_any(weights: Any, model: MLP) -> np.ndarray:
    if isinstance(weights, np.ndarray) or (
        isinstance(weights, Sequence) and weights and np.ndim(weights[0]) == 0
    ):
        flat = np.asarray(weights, np.float64)
        if flat.ndim < 1 or flat.shape[-1] != model.n_params:
            raise ValueError(
                f"Flat weights must have {model.n_params} entries on the last axis "
                f"for layer_sizes={model.layer_sizes}. Received shape {flat.shape}."
            )
        return flat
    if isinstance(weights, Sequence):
        return model.flatten([np.asarray(w, np.float64) for w in weights])
    raise ValueError(
        "Weights must be a flat array, a Keras-order list of arrays or a FitHistory. "
        f"Received: {type(weights).__name__}"
    )


def _trajectory(obj: Any, model: MLP) -> np.ndarray:
    """`(T, P)` float64 from a FitHistory, flat array or Keras-order list."""
    if isinstance(obj, FitHistory):
        if tuple(obj.metadata["layer_sizes"]) != model.layer_sizes:
            raise ValueError(
                f"The FitHistory's layer_sizes {tuple(obj.metadata['layer_sizes'])} "
                f"differ from {model.layer_sizes}."
            )
        return np.asarray(obj.weights, np.float64)
    flat = _as_flat_any(obj, model)
    return flat.reshape(-1, model.n_params)


def _center(center: Any, traj: np.ndarray, pts: np.ndarray) -> np.ndarray:
    if isinstance(center, str):
        choices = {"final": traj[-1], "start": traj[0], "mean": pts.mean(axis=0)}
        if center not in choices:
            raise ValueError(
                f'Argument `center` must be "final", "start", "mean" or a flat '
                f"weight vector. Received: center={center!r}"
            )
        return choices[center].copy()
    vec = np.asarray(center, np.float64)
    if vec.shape != pts.shape[-1:]:
        raise ValueError(
            f"Argument `center` as a vector must have shape {pts.shape[-1:]}. "
            f"Received shape {vec.shape}."
        )
    return vec.copy()


def _bounds(coords: np.ndarray, margin: float):
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    return (
        (float(lo[0] - pad[0]), float(hi[0] + pad[0])),
        (float(lo[1] - pad[1]), float(hi[1] + pad[1])),
    )


def _window(span: Any, default):
    if span is None:
        span = default
    if isinstance(span, numbers.Real) and not isinstance(span, bool):
        if not span > 0:
            raise ValueError(f"A scalar `span` must be > 0. Received: span={span!r}")
        return ((-float(span), float(span)), (-float(span), float(span)))
    try:
        (a0, a1), (b0, b1) = span
        a0, a1, b0, b1 = (float(v) for v in (a0, a1, b0, b1))
    except (TypeError, ValueError):
        raise ValueError(
            "A window must be a positive number or ((min, max), (min, max)). "
            f"Received: {span!r}"
        ) from None
    if not (a0 < a1 and b0 < b1 and np.all(np.isfinite([a0, a1, b0, b1]))):
        raise ValueError(
            f"A window needs finite min < max on both axes. Received: {span!r}"
        )
    return (a0, a1), (b0, b1)


def _metadata(model: MLP, data_meta: dict, **extra: Any) -> dict:
    return jsonable(
        {
            "layer_sizes": list(model.layer_sizes),
            "data": data_meta,
            **extra,
            "versions": package_versions(),
        }
    )
