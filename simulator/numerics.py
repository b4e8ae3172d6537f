"""XLA's float64 rounding of `pow`, shared by the optimizers and the schedules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["keras_pow"]

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
    return np.asarray(_libm_pow(base, exponent), dtype=dtype)
