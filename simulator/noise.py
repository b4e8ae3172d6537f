"""Gradient noise drawn per particle from a counter-based stream (seed, index, step).

A particle's noise at a step depends only on `(seed, particle index, step)`, never
on which other particles run in the same batch, so a sweep cut into chunks (on
one machine or on a Dask cluster) adds exactly the noise the single run adds.

Scheme `"counter-splitmix64-v1"` (the default, `COUNTER`): for step `k` a key
`key_k = mix(mix(seed * G + S) + k * G)` (Python ints, mod 2**64); the two
coordinates of particle `p` take counters `c = 2 p` and `2 p + 1` and the 64-bit
words `w_c = mix(key_k + (c + 1) * G)`, i.e. the `c`-th output of a SplitMix64
stream started at `key_k` (Steele, Lea & Flood 2014; the counter-hash of
`simulator.moons.mlp.hash_uniform`). `mix` is SplitMix64's finaliser, `G` the
golden-ratio increment `0x9E3779B97F4A7C15`. Their top 53 bits give uniforms
`u1 = (w_0 >> 11 + 1) / 2**53` in `(0, 1]` and `u2 = (w_1 >> 11) / 2**53` in
`[0, 1)`, and Box-Muller turns the pair into two independent standard normals:

    r = sqrt(-2 log u1),    z_x = r cos(2 pi u2),    z_y = r sin(2 pi u2).

The largest |z| is `sqrt(-2 log 2**-53)` = 8.57 (a 1e-17 tail): no truncation
anyone will see. Normals are computed in float64 and cast to the run's dtype.

Scheme `"pcg64-batch"` (`LEGACY`) is what runs recorded before the counter scheme
used: one `numpy.random.default_rng(seed)` for the whole batch, drawing
`standard_normal(B + (2,))` every step, so a particle's noise depended on the
batch it ran in. Traces without a `noise_scheme` entry in their metadata were
made with it (`scheme_of`); `simulate(..., noise_scheme="pcg64-batch")`
reproduces them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "COUNTER",
    "LEGACY",
    "SCHEMES",
    "GradientNoise",
    "check_scheme",
    "normals",
    "scheme_of",
]

COUNTER = "counter-splitmix64-v1"
LEGACY = "pcg64-batch"
SCHEMES = (COUNTER, LEGACY)

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_SALT = 0x5DEECE66D2B7E151  # separates this stream from the moons init/shuffle hashes
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def _mix(x: int) -> int:
    """SplitMix64's finaliser on a Python int (mod 2**64)."""
    x &= _MASK
    x = ((x ^ (x >> 30)) * _M1) & _MASK
    x = ((x ^ (x >> 27)) * _M2) & _MASK
    return x ^ (x >> 31)


def check_scheme(scheme: Any) -> str:
    """`scheme` if it names a noise scheme, else a ValueError naming it."""
    if scheme not in SCHEMES:
        raise ValueError(
            f"`noise_scheme` must be one of {list(SCHEMES)}. "
            f"Received: noise_scheme={scheme!r}"
        )
    return scheme


def scheme_of(metadata: Mapping[str, Any]) -> str | None:
    """The noise scheme a run's metadata records (None: the run had no noise).

    Metadata written before `noise_scheme` existed means `LEGACY`.
    """
    if not metadata.get("noise"):
        return None
    return metadata.get("noise_scheme", LEGACY)


#: Normals computed per block of steps: runs of few particles draw many steps in one
#: vectorised call (per-call overhead paid once per block, not once per step).
BLOCK_NUMBERS = 1 << 16


def _mix_array(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array, in place (wraps mod 2**64)."""
    t = np.empty_like(x)
    for shift, mult in ((30, _M1), (27, _M2)):
        np.right_shift(x, np.uint64(shift), out=t)
        np.bitwise_xor(x, t, out=x)
        np.multiply(x, np.uint64(mult), out=x)
    np.right_shift(x, np.uint64(31), out=t)
    np.bitwise_xor(x, t, out=x)
    return x


def normals(seed: int, steps: np.ndarray, index: np.ndarray) -> np.ndarray:
    """`(T, *I, 2)` standard normals of particles `index` `(*I,)` at `steps` `(T,)`.

    The counter scheme (module docstring), vectorised over steps and particles.
    The direction `(cos, sin)` of the Box-Muller angle is built from one octant:
    `phi` uniform in `[0, pi/4)` (50 bits) gives `s = sin(phi)` and `c =
    sqrt(1 - s**2)` (accurate: c >= 0.707), and 3 more bits pick one of the
    eight images `(+-c, +-s)`, `(+-s, +-c)` of the circle's symmetry group,
    which keeps the angle uniform on `[0, 2 pi)` at half the trigonometry.
    """
    index = np.asarray(index, dtype=np.uint64)
    steps = np.asarray(steps, dtype=np.uint64)
    base = np.uint64(_mix(_mix(seed * _GOLDEN + _SALT)))
    keys = _mix_array(steps * np.uint64(_GOLDEN) + base)  # (T,)
    keys = keys.reshape((-1,) + (1,) * index.ndim)
    # Coordinate-major words (2, T, *I): each coordinate's words are contiguous.
    w = np.empty((2, len(steps), *index.shape), dtype=np.uint64)
    for j in (0, 1):  # counters 2p + 1 and 2p + 2
        np.add((2 * index + np.uint64(j + 1)) * np.uint64(_GOLDEN), keys, out=w[j])
    _mix_array(w)
    # Radius from the top 53 bits of w0: u1 = (m + 1) / 2**53 in (0, 1].
    r = np.right_shift(w[0], np.uint64(11), out=w[0]).astype(np.float64)
    r += 1.0
    r *= 2.0**-53
    np.log(r, out=r)
    r *= -2.0
    np.sqrt(r, out=r)
    # Angle: the top 50 bits of w1 give phi, the next 3 bits the octant.
    octant = np.right_shift(w[1], np.uint64(11), out=w[1])
    phi = (octant >> np.uint64(3)).astype(np.float64)
    phi *= (math.pi / 4) * 2.0**-50
    sin = np.sin(phi, out=phi)
    cos = np.sqrt(1.0 - sin * sin)
    # The octant's image by arithmetic, not np.where (a random mask defeats
    # branch prediction): with m in {0, 1}, `a * m + b * (1 - m)` is exactly a or
    # b, and the sign bits become factors +-1.
    m = (octant & np.uint64(1)).astype(np.float64)
    not_m = 1.0 - m
    out = np.empty((*r.shape, 2))
    for j, bit, (a, b) in ((0, 2, (sin, cos)), (1, 4, (cos, sin))):
        sign = ((octant & np.uint64(bit)) >> np.uint64(bit // 2)).astype(np.float64)
        sign *= -2.0
        sign += 1.0
        sign *= r
        z = a * m
        z += b * not_m
        z *= sign
        out[..., j] = z
    return out


class GradientNoise:
    """Standard-normal gradient noise `(*B, 2)` for each step of one run.

    Args:
        seed: non-negative int.
        batch_shape: `B`, the run's batch shape.
        steps: number of steps the run takes (bounds the block of steps drawn
            ahead for small batches).
        index: `(*B,)` non-negative ints, each particle's index in the full grid
            it belongs to (default `arange(prod(B))` in C order: the particle's
            own position). Two runs give a particle the same noise when they give
            it the same index.
        scheme: `COUNTER` (default) or `LEGACY`.

    Raises:
        ValueError: a bad `scheme` or `index`.
    """

    def __init__(
        self,
        seed: int,
        batch_shape: tuple[int, ...],
        steps: int,
        index: Any = None,
        scheme: str = COUNTER,
    ):
        self.scheme = check_scheme(scheme)
        self.seed = seed
        self.shape = (*batch_shape, 2)
        self.steps = steps
        if scheme == LEGACY:
            if index is not None:
                raise ValueError(
                    f"`particle_index` needs noise_scheme={COUNTER!r}: the "
                    f"{LEGACY!r} stream depends on the whole batch."
                )
            self._rng = np.random.default_rng(seed)
            return
        n = math.prod(batch_shape)
        if index is None:
            index = np.arange(n, dtype=np.uint64)
        index = np.asarray(index)
        if (
            index.dtype.kind not in "iu"
            or index.size != n
            or index.ndim not in (1, len(batch_shape))
            or (index.size and index.min() < 0)
        ):
            raise ValueError(
                f"`particle_index` must be non-negative ints of shape {batch_shape}. "
                f"Received: dtype {index.dtype}, shape {index.shape}"
            )
        self._index = index.reshape(batch_shape)
        self._block = max(1, BLOCK_NUMBERS // max(2 * n, 1))
        self._first = 0
        self._cache = np.empty((0, *self.shape))

    def draw(self, step: int) -> np.ndarray:
        """`(*B, 2)` float64 standard normals of step `step` (0-based).

        `LEGACY` ignores `step`: it draws the next numbers of its one stream, so
        it must be called once per step, in order.
        """
        if self.scheme == LEGACY:
            return self._rng.standard_normal(self.shape)
        i = step - self._first
        if not 0 <= i < len(self._cache):
            stop = max(step + 1, min(step + self._block, self.steps))
            self._cache = normals(self.seed, np.arange(step, stop), self._index)
            self._first, i = step, 0
        return self._cache[i]
