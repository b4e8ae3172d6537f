"""A Keras-identical Dense/ReLU/softmax MLP, forward and backward over K models."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

__all__ = [
    "ARTICLE_LAYER_SIZES",
    "EPSILON",
    "MLP",
    "LossGrad",
    "hash_uniform",
    "permutations",
]

#: The article's network: 2 -> Dense 12 relu -> 13 relu -> 13 relu -> Dense 2 softmax.
ARTICLE_LAYER_SIZES: tuple[int, ...] = (2, 12, 13, 13, 2)
#: Keras's `backend.epsilon()`, the probability clip of the cross-entropy.
EPSILON = 1e-7

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


class LossGrad(NamedTuple):
    """What `MLP.loss_and_grad` returns.

    Attributes:
        loss: mean sparse categorical cross-entropy of each model, shape `(*K,)`.
        grads: gradients in Keras `get_weights()` order, each `(*K, *shape)`.
        correct: number of correctly classified samples of each model, `(*K,)`.
    """

    loss: np.ndarray
    grads: tuple[np.ndarray, ...]
    correct: np.ndarray


@dataclass(frozen=True)
class MLP:
    """`Sequential([Dense(h, "relu"), ..., Dense(classes, "softmax")])`, batched.

    Weights are lists in Keras `get_weights()` order, `[kernel_0, bias_0, ...]`,
    with kernels of shape `(*K, n_in, n_out)` and biases `(*K, n_out)`, where
    `K` is any number of leading model axes (none for a single model). Flat
    weight vectors `(*K, P)` concatenate the C-order ravel of that list.

    Attributes:
        layer_sizes: `(n_inputs, hidden..., n_classes)`; at least two entries,
            `n_classes >= 2`.
    """

    layer_sizes: tuple[int, ...] = ARTICLE_LAYER_SIZES

    def __post_init__(self):
        sizes = tuple(self.layer_sizes)
        if len(sizes) < 2 or any(
            not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 1
            for s in sizes
        ):
            raise ValueError(
                "Argument `layer_sizes` must list at least two positive integers "
                f"(inputs, hidden..., classes). Received: layer_sizes={sizes!r}"
            )
        if sizes[-1] < 2:
            raise ValueError(
                "The last of `layer_sizes` is the number of classes of the softmax "
                f"and must be >= 2. Received: layer_sizes={sizes!r}"
            )
        object.__setattr__(self, "layer_sizes", tuple(int(s) for s in sizes))

    # ----------------------------------------------------------------- layout
    @cached_property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shapes of the weights in Keras `get_weights()` order."""
        out: list[tuple[int, ...]] = []
        for n_in, n_out in itertools.pairwise(self.layer_sizes):
            out += [(n_in, n_out), (n_out,)]
        return tuple(out)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Keras-style variable paths: `dense/kernel`, `dense/bias`, `dense_1/...`."""
        out = []
        for i in range(len(self.layer_sizes) - 1):
            layer = "dense" if i == 0 else f"dense_{i}"
            out += [f"{layer}/kernel", f"{layer}/bias"]
        return tuple(out)

    @cached_property
    def n_params(self) -> int:
        """Total number of parameters `P`."""
        return int(sum(np.prod(s) for s in self.shapes))

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Start of each weight in the flat vector, plus the end (`P`)."""
        sizes = [int(np.prod(s)) for s in self.shapes]
        return tuple(int(v) for v in np.concatenate([[0], np.cumsum(sizes)]))

    def flatten(self, weights: Sequence[np.ndarray]) -> np.ndarray:
        """Keras-order weight list `[(*K, *shape)]` -> flat `(*K, P)`."""
        weights = [np.asarray(w) for w in weights]
        self._check_weights(weights)
        batch = weights[0].shape[: weights[0].ndim - 2]
        return np.concatenate([w.reshape(*batch, -1) for w in weights], axis=-1)

    def unflatten(self, flat: np.ndarray) -> list[np.ndarray]:
        """Flat `(*K, P)` -> Keras-order list of views `(*K, *shape)`."""
        flat = self._check_flat(flat)
        o = self.offsets
        batch = flat.shape[:-1]
        return [
            flat[..., o[i] : o[i + 1]].reshape(*batch, *s)
            for i, s in enumerate(self.shapes)
        ]

    def _check_flat(self, flat: np.ndarray) -> np.ndarray:
        flat = np.asarray(flat)
        if flat.ndim < 1 or flat.shape[-1] != self.n_params:
            raise ValueError(
                f"Argument `flat` must have {self.n_params} parameters on its last "
                f"axis for layer_sizes={self.layer_sizes}. Received shape "
                f"{flat.shape}."
            )
        return flat

    def _check_weights(self, weights: Sequence[np.ndarray]) -> tuple[int, ...]:
        shapes = self.shapes
        if len(weights) != len(shapes):
            raise ValueError(
                f"Argument `weights` must be a list of {len(shapes)} arrays in Keras "
                f"get_weights() order for layer_sizes={self.layer_sizes}. Received "
                f"{len(weights)} arrays."
            )
        batch = np.shape(weights[0])[: np.ndim(weights[0]) - 2]
        for w, s, n in zip(weights, shapes, self.names, strict=True):
            if tuple(np.shape(w)) != tuple(batch) + s:
                raise ValueError(
                    f"Weight `{n}` must have shape (*K, {', '.join(map(str, s))}) "
                    f"with K={tuple(batch)}. Received shape {np.shape(w)}."
                )
        return tuple(batch)

    # ------------------------------------------------------------------- init
    def init_weights(
        self, seed: int | Sequence[int] | np.ndarray = 0, dtype="float64"
    ) -> list[np.ndarray]:
        """Keras default initialisation: Glorot-uniform kernels, zero biases.

        Kernels are uniform on `[-limit, limit)` with `limit = sqrt(6 / (n_in +
        n_out))`, the distribution of Keras's `GlorotUniform`. The numbers come
        from a counter-based hash of `(seed, layer, index)` (`hash_uniform`), so
        many seeds are drawn at once and a seed always gives the same weights
        whatever else is in the batch; they are not the numbers Keras would draw
        (Keras uses JAX's threefry). For Keras's own numbers pass
        `model.get_weights()` as `initial_weights`.

        Args:
            seed: a non-negative int (no model axis) or a sequence/array of them
                (one leading model axis).
            dtype: float dtype of the weights.

        Returns:
            Keras-order list of arrays, `(*K, *shape)`.
        """
        seeds = _check_seeds(seed)
        dtype = _float_dtype(dtype)
        out = []
        for layer, (n_in, n_out) in enumerate(itertools.pairwise(self.layer_sizes)):
            limit = np.sqrt(6.0 / (n_in + n_out))
            u = hash_uniform(seeds, layer, n_in * n_out)
            kernel = (limit * (2.0 * u - 1.0)).reshape(*seeds.shape, n_in, n_out)
            out += [kernel.astype(dtype), np.zeros((*seeds.shape, n_out), dtype)]
        return out

    # --------------------------------------------------------- forward/backward
    def forward(self, weights: Sequence[np.ndarray], X: np.ndarray) -> np.ndarray:
        """Class probabilities of every model, Keras's float operation order.

        Args:
            weights: Keras-order list, `(*K, *shape)`.
            X: inputs `(n, n_in)` shared by every model, or `(*K, n, n_in)`.

        Returns:
            Softmax probabilities `(*K, n, n_classes)`.
        """
        self._check_weights(weights)
        return self.forward_flat(self.flatten(weights), X)

    def loss(
        self, weights: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray
    ) -> np.ndarray:
        """Keras's sparse categorical cross-entropy (mean over samples), `(*K,)`."""
        return _crossentropy(self.forward(weights, X), self._check_labels(y, X))[0]

    def forward_flat(self, flat: np.ndarray, X: np.ndarray) -> np.ndarray:
        """`forward` for flat weights `(*K, P)` (no weight list, no copy)."""
        flat = self._check_flat(flat)
        return self._forward(self._layers(flat), self._check_inputs(X, flat.dtype))[-1]

    def loss_flat(self, flat: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """`loss` for flat weights `(*K, P)`: shape `(*K,)`."""
        p = self.forward_flat(flat, X)
        return _crossentropy(p, self._check_labels(y, np.asarray(X)))[0]

    def loss_and_grad(
        self, weights: Sequence[np.ndarray], X: np.ndarray, y: np.ndarray
    ) -> LossGrad:
        """Loss, exact gradient and number correct of every model on one batch.

        The loss is Keras's `sparse_categorical_crossentropy(from_logits=False)`
        on softmax outputs: probabilities are renormalised, clipped to
        `[1e-7, 1 - 1e-7]` and logged; the mean over the batch is the loss. The
        gradient is the gradient of exactly that, as JAX differentiates it: zero
        for a sample whose probability is clipped, ReLU derivative 0 at 0.

        Args:
            weights: Keras-order list, `(*K, *shape)`.
            X: inputs `(n, n_in)` shared by every model, or `(*K, n, n_in)`.
            y: integer labels `(n,)` or `(*K, n)`.

        Returns:
            `LossGrad(loss (*K,), grads (Keras order), correct (*K,))`.
        """
        self._check_weights(weights)
        flat = self.flatten(weights)
        X = self._check_inputs(X, flat.dtype)
        grads = np.empty_like(flat)
        loss, correct = self._loss_and_grad(flat, X, self._check_labels(y, X), grads)
        return LossGrad(loss, tuple(self.unflatten(grads)), correct)

    def _layers(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per layer, `[kernel; bias]` as one `(*K, n_in + 1, n_out)` view of `flat`.

        A kernel's C-order ravel followed by its bias is exactly the row-major
        `(n_in + 1, n_out)` matrix with the bias as last row, so no copy is made.
        """
        o = self.offsets
        K = flat.shape[:-1]
        return [
            flat[..., o[2 * i] : o[2 * i + 2]].reshape(*K, n_in + 1, n_out)
            for i, (n_in, n_out) in enumerate(itertools.pairwise(self.layer_sizes))
        ]

    def _forward(self, layers: list[np.ndarray], X: np.ndarray, keep_exp: bool = False):
        """`[X, z_0, relu(z_0), ..., z_last, softmax]` for `_layers` views `layers`.

        Keras's float operations in Keras's order: `a @ kernel + bias`, then
        relu (or softmax). Pre-activations are kept for the backward pass. With
        `keep_exp`, returns `(acts, e, sum(e), 1 / sum(e))`, the softmax's parts
        its gradient needs (see `_softmax_parts`).
        """
        acts = [X]
        a = X
        last = len(layers) - 1
        for i, w in enumerate(layers):
            z = a @ w[..., :-1, :] + w[..., -1:, :]
            acts.append(z)
            if i < last:
                a = np.maximum(z, z.dtype.type(0))
            else:
                e, s_e, r_e = _softmax_parts(z)
                a = e * r_e
            acts.append(a)
        return (acts, e, s_e, r_e) if keep_exp else acts

    def _loss_and_grad(
        self, flat: np.ndarray, X: np.ndarray, y: np.ndarray, grads: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """`loss_and_grad` on flat weights, writing the gradient into `grads`.

        The training loop's path: no argument checks, no weight lists, no
        concatenation (each product is written into its slice of `grads`).

        Args:
            flat: weights `(*K, P)`.
            X: inputs `(n, n_in)` or `(*K, n, n_in)`, dtype of `flat`.
            y: labels `(n,)` or `(*K, n)`.
            grads: output `(*K, P)` (flat order, like `flat`).

        Returns:
            `(loss (*K,), correct (*K,))`.
        """
        layers = self._layers(flat)
        acts, e, s_e, r_e = self._forward(layers, X, keep_exp=True)
        loss, g_z, correct = _crossentropy_vjp(acts[-1], e, s_e, r_e, y)
        grad_layers = self._layers(grads)
        # The bias gradient, the batch sum of g_z, as a product with a row of
        # ones: a reduction over the batch axis costs 5x more for these shapes.
        ones = np.ones((1, X.shape[-2]), flat.dtype)
        for i in range(len(layers) - 1, -1, -1):
            np.matmul(
                np.swapaxes(acts[2 * i], -1, -2), g_z, out=grad_layers[i][..., :-1, :]
            )
            np.matmul(ones, g_z, out=grad_layers[i][..., -1:, :])
            if i:
                g_a = g_z @ np.swapaxes(layers[i][..., :-1, :], -1, -2)
                g_z = np.where(acts[2 * i - 1] > 0, g_a, g_a.dtype.type(0))
        return loss, correct

    def _check_inputs(self, X: np.ndarray, dtype: np.dtype) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim < 2 or X.shape[-1] != self.layer_sizes[0]:
            raise ValueError(
                f"Argument `X` must have shape (n, {self.layer_sizes[0]}) or "
                f"(*K, n, {self.layer_sizes[0]}). Received shape {X.shape}."
            )
        return X.astype(dtype, copy=False)

    def _check_labels(self, y: np.ndarray, X: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if y.shape != X.shape[:-1] and y.shape != X.shape[-2:-1]:
            raise ValueError(
                f"Argument `y` must have shape {X.shape[:-1]} (one label per row of "
                f"`X`). Received shape {y.shape}."
            )
        if y.dtype.kind not in "iu" or (
            y.size and (y.min() < 0 or y.max() >= self.layer_sizes[-1])
        ):
            raise ValueError(
                f"Argument `y` must hold integer labels in [0, "
                f"{self.layer_sizes[-1] - 1}]. Received dtype {y.dtype}"
                + (f", range [{y.min()}, {y.max()}]." if y.size else ".")
            )
        return y


def _crossentropy_vjp(
    p: np.ndarray, e: np.ndarray, s_e: np.ndarray, r_e: np.ndarray, y: np.ndarray
):
    """Mean Keras cross-entropy of softmax outputs `p` and its gradient wrt logits.

    The JAX transpose of Keras's loss, op by op and rounded as XLA rounds it:
    jnp.log: d/dq = g / q; jnp.clip = minimum(1 - eps, maximum(eps, q)), whose
    derivative is 1 strictly inside, 1/2 at a tie, 0 outside; the
    renormalisation `q = p / sum(p)`; then `jax.nn.softmax` differentiated
    through its own ops (`e / sum(e)`, then exp's rule `g * e`; JAX's
    `jax_softmax_custom_jvp` is off), not the algebraically equal
    `p * (g - sum(g * p))`, which rounds differently.

    Args:
        p: softmax outputs `(*K, n, classes)`.
        e, s_e, r_e: the softmax's `exp(z - max)`, its row sum and `1 / sum`
            (`_softmax_parts`).
        y: labels `(n,)` or `(*K, n)`.

    Returns:
        `(loss (*K,), d loss / d logits (*K, n, classes), correct (*K,))`.
    """
    dtype = p.dtype
    s, r_s, q, c = _normalise_and_clip(p)
    eps = dtype.type(EPSILON)
    one_m = dtype.type(1.0 - EPSILON)
    loss, g_logp, correct = _crossentropy_clipped(c, p, y)
    g_c = g_logp / c
    if np.any(q == eps) or np.any(q == one_m):  # a tie: JAX's half gradient
        gate = ((q > eps).astype(dtype) + dtype.type(0.5) * (q == eps)) * (
            (q < one_m) + dtype.type(0.5) * (q == one_m)
        )
    else:  # the usual case: 1 strictly inside, 0 outside (same bits, fewer ops)
        gate = (q > eps) & (q < one_m)
    g_q = g_c * gate
    g_p = _div_by_sum_vjp(g_q, p, s, r_s)
    return loss, _div_by_sum_vjp(g_p, e, s_e, r_e) * e, correct


def _sum_last(a: np.ndarray) -> np.ndarray:
    """`np.sum(a, axis=-1, keepdims=True)`, bit for bit, faster for few classes.

    numpy reduces a length-n axis (n < 8) left to right; adding the slices in the
    same order gives the same bits without the per-row overhead of a reduction
    over a length-2 axis (3-5x slower here). Longer axes use numpy's pairwise sum.
    """
    n = a.shape[-1]
    if n >= 8:
        return np.sum(a, axis=-1, keepdims=True)
    out = a[..., 0:1]
    for i in range(1, n):
        out = out + a[..., i : i + 1]
    return out


def _max_last(a: np.ndarray) -> np.ndarray:
    """`np.max(a, axis=-1, keepdims=True)` by slices (same bits, see `_sum_last`)."""
    n = a.shape[-1]
    if n >= 8:
        return np.max(a, axis=-1, keepdims=True)
    out = a[..., 0:1]
    for i in range(1, n):
        out = np.maximum(out, a[..., i : i + 1])
    return out


def _softmax_parts(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(e, s, 1 / s)`, `e = exp(z - max)`, `s = sum(e)`: the softmax is `e * (1 / s)`.

    `jax.nn.softmax` divides `e` by its broadcast row sum; XLA rewrites a
    division by a broadcast into a multiplication by the reciprocal (a
    different rounding than `e / sum(e)`), in eager and jit mode alike.
    """
    e = np.exp(z - _max_last(z))
    s = _sum_last(e)
    return e, s, e.dtype.type(1) / s


def _softmax(z: np.ndarray) -> np.ndarray:
    """`jax.nn.softmax` on the last axis, as XLA rounds it (see `_softmax_parts`)."""
    e, _, r_e = _softmax_parts(z)
    return e * r_e


def _div_by_sum_vjp(
    g: np.ndarray, x: np.ndarray, s: np.ndarray, r: np.ndarray
) -> np.ndarray:
    """Cotangent of `x` through `x / s`, `s = sum(x)` (last axis), as Keras rounds it.

    JAX's division rule sends `g / s` to the numerator and `-((g * s**-2) * x)`,
    summed over the broadcast axis, to `s`, hence to every `x`; `s**-2` is
    `integer_pow`, i.e. `1 / (s * s)`. XLA computes `g / broadcast(s)` as
    `g * r` with `r = 1 / s`. The two contributions add as `a + (-b)` (== a - b).
    """
    inv_s2 = g.dtype.type(1) / (s * s)
    return g * r - _sum_last((g * inv_s2) * x)


def _normalise_and_clip(p: np.ndarray):
    """Keras's `q = p / sum(p)` and its clip to `[eps, 1 - eps]`, XLA's rounding.

    XLA rewrites a division by a broadcast row sum into a multiplication by its
    reciprocal, so Keras computes `p * (1 / s)`.

    Returns:
        `(s, 1 / s, q, clipped q)`; `s` and `1 / s` keep the class axis (size 1).
    """
    dtype = p.dtype
    s = _sum_last(p)
    r_s = dtype.type(1) / s
    q = p * r_s
    c = np.minimum(dtype.type(1.0 - EPSILON), np.maximum(dtype.type(EPSILON), q))
    return s, r_s, q, c  # c == np.clip(q, eps, 1 - eps), bit for bit


def _crossentropy(p: np.ndarray, y: np.ndarray):
    """Mean Keras cross-entropy `(*K,)` and correct count `(*K,)` of outputs `p`."""
    loss, _, correct = _crossentropy_clipped(_normalise_and_clip(p)[3], p, y)
    return loss, correct


def _crossentropy_clipped(c: np.ndarray, p: np.ndarray, y: np.ndarray):
    """Loss, d(loss)/d(log c) and correct count, given the clipped normalised `c`.

    The label's probability is picked with a one-hot mask, `sum(where(onehot,
    c, 0))` over classes: the other terms are exactly +0, so the bits are those
    of `take_along_axis`, at a fraction of its indexing cost on the hot path.
    """
    dtype = p.dtype
    n = p.shape[-2]
    onehot = y[..., None] == np.arange(p.shape[-1])  # (n, C) or (*K, n, C)
    c_y = _sum_last(np.where(onehot, c, dtype.type(0)))[..., 0]
    loss = -np.sum(np.log(c_y), axis=-1) / dtype.type(n)
    correct = np.sum(np.argmax(p, axis=-1) == y, axis=-1)
    g_logp = np.where(onehot, -1 / dtype.type(n), dtype.type(0))
    return loss, g_logp, correct


def hash_uniform(seeds: np.ndarray, stream: int, n: int) -> np.ndarray:
    """Uniform `[0, 1)` float64 numbers `(*seeds.shape, n)` from a counter hash.

    SplitMix64's finaliser applied to `(seed, stream, index)`: deterministic,
    vectorised over seeds, and independent of how many seeds are drawn together.
    """
    return (_hash(seeds, stream, n) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def permutations(seeds: np.ndarray, epoch: int, n: int) -> np.ndarray:
    """The shuffle order of every seed for one epoch, `(*seeds.shape, n)` ints."""
    return np.argsort(_hash(seeds, (1 << 32) + int(epoch), n), axis=-1, kind="stable")


def _hash(seeds: np.ndarray, stream: int, n: int) -> np.ndarray:
    seeds = np.asarray(seeds, dtype=np.uint64)
    x = (
        seeds[..., None] * np.uint64(0x9E3779B97F4A7C15)
        + np.uint64((int(stream) * 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF)
        + np.arange(n, dtype=np.uint64) * np.uint64(0x8CB92BA72F3D8DD7)
    )
    for shift, mult in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        x = (x ^ (x >> np.uint64(shift))) * np.uint64(mult)
    return (x ^ (x >> np.uint64(31))) & _MASK64


def _check_seeds(seed) -> np.ndarray:
    arr = np.asarray(seed)
    if (
        arr.dtype.kind not in "iu"
        or arr.ndim > 1
        or (arr.size and (arr.min() < 0 or arr.max() >= 2**63))
    ):
        raise ValueError(
            "Argument `seed` must be a non-negative integer or a 1-D sequence of "
            f"them. Received: seed={seed!r}"
        )
    return arr.astype(np.int64)


def _float_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in (np.float32, np.float64):
        raise ValueError(
            f'Argument `dtype` must be "float32" or "float64". Received: '
            f"dtype={dtype!r}"
        )
    return dt
