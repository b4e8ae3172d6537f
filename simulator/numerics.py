"""Float64 rounding as compiled kernels do it: XLA's `pow` and a fused multiply-add."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["fma", "keras_pow"]

_libm_pow = np.frompyfunc(math.pow, 2, 1)


def keras_pow(base: Any, exponent: Any, dtype: Any) -> np.ndarray:
    """`base ** exponent` rounded the way Keras-on-XLA rounds it, in `dtype`.

    XLA's float64 `pow` is glibc's correctly rounded `pow` (what `math.pow`
    calls); numpy's vectorised `np.power` differs from it by one ulp for about 5%
    of integer exponents, which chaotic surfaces amplify. So float64 powers go
    through `math.pow` element by element (hyperparameter arrays are small). XLA's
    float32 `pow` is its own approximation, which no numpy routine reproduces;
    float32 uses `np.power` (within the float32 parity tolerance).

    Args:
        base: array-like base.
        exponent: array-like exponent, broadcast against `base`.
        dtype: float32 or float64.

    Returns:
        The broadcast power in `dtype`.
    """
    dtype = np.dtype(dtype)
    base = np.asarray(base, dtype)
    exponent = np.asarray(exponent, dtype)
    if dtype != np.float64:
        return np.power(base, exponent)
    if base.ndim == 0 and exponent.ndim == 0:
        # The common case (float hyperparameters): `math.pow` directly, the same
        # call `_libm_pow` makes, without the object-array round trip.
        return np.asarray(math.pow(base, exponent), dtype=dtype)
    return np.asarray(_libm_pow(base, exponent), dtype=dtype)


# Veltkamp's splitting constant for float64: 2**27 + 1.
_SPLIT = 134217729.0


def fma(a: Any, b: Any, c: Any) -> np.ndarray:
    """`a*b + c` with one rounding, as a fused multiply-add instruction computes it.

    numpy has no fused multiply-add, but compiled kernels that use the FMA
    instruction (torch's CPU `addcmul`, `lerp`, `add(alpha=)`) round `a*b + c`
    once; on a chaotic surface the one-ulp difference from `a*b + c` grows to
    1e-3 within 200 steps. This computes the exact product `a*b = p + e` (Dekker's
    TwoProduct with Veltkamp's split) and the exact sum `p + c = s + t` (Knuth's
    TwoSum), then rounds `s + (t + e)`: equal to the fused result except in rare
    double-rounding ties. About 20 elementwise operations (float32 operands: the
    float64 product and sum, rounded once more).

    Args:
        a, b, c: broadcastable float64 arrays or scalars.

    Returns:
        The broadcast `fma(a, b, c)`.
    """
    if np.result_type(a, b, c) == np.float32:
        # float32 operands: the float64 product is exact, one more rounding.
        wide = np.asarray(a, np.float64) * np.asarray(b, np.float64)
        return np.asarray(wide + np.asarray(c, np.float64), np.float32)
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    c = np.asarray(c, np.float64)
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    # e = ((a_hi*b_hi - p) + a_hi*b_lo + a_lo*b_hi) + a_lo*b_lo, in place.
    e = a_hi * b_hi - p
    e += a_hi * b_lo
    e += a_lo * b_hi
    e += a_lo * b_lo
    s = p + c
    bb = s - p
    t = p - (s - bb)
    t += c - bb
    t += e
    s += t
    return s


def _split(x: np.ndarray) -> tuple[Any, Any]:
    """Veltkamp's split `x = hi + lo`, each half with at most 26 significant bits."""
    if x.ndim == 0:  # a scalar splits in Python, at no per-element cost
        v = float(x)
        t = _SPLIT * v
        hi = t - (t - v)
        return hi, v - hi
    hi = _SPLIT * x
    hi -= hi - x
    return hi, x - hi
