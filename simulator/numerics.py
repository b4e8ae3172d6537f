"""Float64 rounding as compiled kernels do it: XLA's `pow` and a fused multiply-add."""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

__all__ = ["addcmul", "fma", "fma_kernels", "fma_scaled", "keras_pow"]

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
    1e-3 within 200 steps. With numba installed (the `fast` extra) `fma` is a
    ufunc compiled on LLVM's `llvm.fma` intrinsic: one pass, as cheap as
    `a*b + c`. Without it, two kernels numpy and scipy already carry run on the
    FMA instruction, so this is the hardware's correctly rounded result:

    - a scalar times an array: BLAS `daxpy` (`y <- alpha*x + y`, fused in
      OpenBLAS's kernels), on a copy of `c`: two contiguous passes, as cheap as
      `a*b + c` unfused;
    - an array times an array: numpy's complex multiply, whose SIMD kernel
      computes the imaginary part of `(x + i*c)*(1 + i*y)` as one fused
      `x*y + c*1`; interleaving the operands (strided copies) makes it about
      3x `a*b + c` (`addcmul` saves a pass for torch's commonest pattern).

    Each kernel is checked once per process against exact integer arithmetic
    (`fma_kernels()` says which passed). Where one is not fused (no FMA
    instruction, another BLAS or numpy), its cases fall back to error-free
    transforms: Dekker's product and Knuth's sum, about 20 operations, equal to
    the fused result except in rare double-rounding ties. float32 operands: the
    float64 product and sum, rounded once more.

    Args:
        a, b, c: broadcastable float64 arrays or scalars.

    Returns:
        The broadcast `fma(a, b, c)`.
    """
    return fma_scaled(a, b, c, None)


def fma_scaled(a: Any, b: Any, c: Any, k: Any) -> np.ndarray:
    """`fma(a, b, c*k)`, the scaling `c*k` rounded first (torch's
    `c.mul_(k).addcmul_(a, b)`, `c.mul_(k).add_(b, alpha=a)`); `k=None` is `fma`.

    Both kernels fold the scaling in (`daxpy` adds into `c*k`, the complex
    multiply forms it as `c*k` in place of `c*1`), so it costs no separate pass.
    """
    if np.result_type(a, b, c, 1.0 if k is None else k) == np.float32:
        # float32 operands: the float64 product is exact, one more rounding.
        wide = np.asarray(a, np.float64) * np.asarray(b, np.float64)
        c = c if k is None else np.multiply(c, k)
        return np.asarray(wide + np.asarray(c, np.float64), np.float32)
    kernels = fma_kernels()
    if kernels["array"] == LLVM:
        return _LLVM["fma"](a, b, c, 1.0 if k is None else k)
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    c = np.asarray(c, np.float64)
    # x is an array factor, y the other (a scalar if either is).
    x, y = (b, a) if a.ndim == 0 else (a, b)
    if y.ndim == 0 and kernels["scalar"] == AXPY:
        alpha = float(y)
        if (
            alpha != 0.0  # daxpy skips alpha == 0, where 0*inf is NaN
            and x.ndim
            and x.flags.c_contiguous
            and x.shape == c.shape
            and (k is None or np.ndim(k) == 0)
        ):
            # A fresh C-contiguous copy of c (or the product c*k) to add into.
            out = np.empty(c.shape)
            if k is None:
                np.copyto(out, c)
            else:
                np.multiply(c, float(k), out=out)
            return _axpy(alpha, x, out)
    if kernels["array"] == COMPLEX:
        return _complex_fma(x, y, c, 1.0 if k is None else k)
    return _dekker_fma(a, b, c if k is None else np.multiply(c, k))


def addcmul(c: Any, k: Any, value: Any, a: Any, b: Any) -> np.ndarray:
    """torch's `c.mul(k).addcmul(a, b, value=value)`: `fma(value*a, b, c*k)`,
    `value*a` and `c*k` rounded first (`k=None`: `c` itself).

    The common case (arrays of one shape, scalar `value` and `k`) writes
    `value*a` straight into the complex operand and reuses this thread's right
    operand `k + i*b` (its real part kept), so the fused op costs about four
    passes, as many as `value*a*b + c*k` unfused; `fma_scaled` otherwise.
    """
    kernel = fma_kernels()["array"]
    if kernel == LLVM and np.result_type(c, a, b, value) == np.float64:
        return _LLVM["addcmul"](c, 1.0 if k is None else k, value, a, b)
    if kernel == COMPLEX and _plain_addcmul(c, k, value, a, b):
        return _complex_addcmul(c, 1.0 if k is None else float(k), value, a, b)
    return fma_scaled(np.multiply(value, a), b, c, k)


def _plain_addcmul(c: Any, k: Any, value: Any, a: Any, b: Any) -> bool:
    return (
        isinstance(c, np.ndarray)
        and isinstance(a, np.ndarray)
        and isinstance(b, np.ndarray)
        and c.dtype == a.dtype == b.dtype == np.float64
        and c.shape == a.shape == b.shape
        and c.size >= 2
        and np.ndim(value) == 0
        and np.ndim(k) == 0
        and np.result_type(value, k if k is not None else 1.0) == np.float64
    )


#: Per thread, the right operands `k + i*b` of `_complex_addcmul` by shape
#: (at most this many elements each, for the last few shapes).
_RIGHT = threading.local()
_RIGHT_CACHED_UP_TO = 1 << 22
_RIGHT_SHAPES = 8


def _complex_addcmul(c, k: float, value, a, b) -> np.ndarray:
    """`_complex_fma(value*a, b, c, k)` with fewer passes (see `addcmul`)."""
    shape = c.shape
    left = np.empty(shape, np.complex128)
    np.multiply(a, value, out=left.real)
    left.imag = c
    cache = getattr(_RIGHT, "by_shape", None)
    if cache is None:
        cache = _RIGHT.by_shape = {}
    entry = cache.get(shape) if c.size <= _RIGHT_CACHED_UP_TO else None
    if entry is None:
        entry = [np.empty(shape, np.complex128), None]
        if c.size <= _RIGHT_CACHED_UP_TO:
            if len(cache) >= _RIGHT_SHAPES:  # the oldest shape goes
                del cache[next(iter(cache))]
            cache[shape] = entry
    right = entry[0]
    if entry[1] != k:  # the real part only changes with k (NaN never matches)
        right.real = k
        entry[1] = k
    right.imag = b
    return np.multiply(left, right, out=left).imag


def _addcmul_case(x: Any, y: Any, c: Any, k: Any) -> np.ndarray:
    """`addcmul` (value 1) in `_is_fused`'s signature."""
    if np.ndim(k) or np.ndim(y) == 0 or np.size(x) < 2:
        return _complex_fma(x, y, c, k)
    return _complex_addcmul(np.asarray(c), float(k), 1.0, np.asarray(x), y)


#: `fma_kernels()` values: the hardware FMA through these, or the emulation.
LLVM = "numba-llvm-fma"
AXPY = "blas-daxpy"
COMPLEX = "complex-multiply"
DEKKER = "error-free-transforms"
_KERNELS: dict[str, str] = {}
#: daxpy calls at most this long: OpenBLAS runs longer ones on several threads,
#: whose start-up costs more than the pass on a shared machine.
_AXPY_CHUNK = 10_000


def fma_kernels() -> dict[str, str]:
    """The kernel `fma` uses for a scalar times an array and for two arrays.

    `{"scalar": "numba-llvm-fma" | "blas-daxpy" | "complex-multiply" |
    "error-free-transforms", "array": "numba-llvm-fma" | "complex-multiply" |
    "error-free-transforms"}`, decided once per process by `_is_fused` (about
    30 ms; compiling the numba ufuncs, when numba is installed, about 0.5 s).
    """
    if not _KERNELS and _llvm_ufuncs():
        fused = _is_fused(_LLVM["fma"]) and _is_fused(_llvm_addcmul_case)
        if fused:
            _KERNELS.update(scalar=LLVM, array=LLVM)
    if not _KERNELS:
        complex_ok = _is_fused(_complex_fma) and _is_fused(_addcmul_case)
        try:
            axpy_ok = _is_fused(_axpy_case)
        except Exception:  # no usable BLAS wrapper: the other kernels do it
            axpy_ok = False
        fallback = COMPLEX if complex_ok else DEKKER
        _KERNELS.update(scalar=AXPY if axpy_ok else fallback, array=fallback)
    return dict(_KERNELS)


#: The numba ufuncs, once compiled: "fma" `(a, b, c, k) -> fma(a, b, c*k)` and
#: "addcmul" `(c, k, value, a, b) -> fma(value*a, b, c*k)` (float64).
_LLVM: dict[str, Any] = {}


def _llvm_ufuncs() -> bool:
    """Compiles `_LLVM`'s ufuncs on `llvm.fma`; False when numba is missing.

    `llvm.fma` is the correctly rounded fused multiply-add whatever the CPU
    (LLVM lowers it to the instruction, or to libm's `fma`), so these are exact
    by construction; `fma_kernels` still checks them like the others. No
    `cache=True`: nothing is written beside the package.
    """
    if _LLVM:
        return True
    try:
        import numba
        from llvmlite import ir
        from numba.core import types
        from numba.extending import intrinsic
    except ImportError:
        return False

    @intrinsic
    def fused(typingctx, a, b, c):
        def codegen(context, builder, signature, args):
            d = ir.DoubleType()
            fn = builder.module.declare_intrinsic(
                "llvm.fma", [d], ir.FunctionType(d, [d, d, d])
            )
            return builder.call(fn, args)

        return types.float64(types.float64, types.float64, types.float64), codegen

    f8 = numba.float64

    @numba.vectorize([f8(f8, f8, f8, f8)], nopython=True)
    def fma4(a, b, c, k):
        return fused(a, b, c * k)  # c*k rounded first, as torch's mul_ does

    @numba.vectorize([f8(f8, f8, f8, f8, f8)], nopython=True)
    def addcmul5(c, k, value, a, b):
        return fused(value * a, b, c * k)

    _LLVM.update(fma=fma4, addcmul=addcmul5)
    return True


def _llvm_addcmul_case(x: Any, y: Any, c: Any, k: Any) -> np.ndarray:
    """`_LLVM["addcmul"]` (value 1) in `_is_fused`'s signature."""
    return _LLVM["addcmul"](c, k, 1.0, x, y)


def _axpy(alpha: float, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`out <- alpha*x + out` in place by BLAS `daxpy` (contiguous float64)."""
    from scipy.linalg.blas import daxpy

    xf, yf = x.reshape(-1), out.reshape(-1)
    for i in range(0, xf.size, _AXPY_CHUNK):
        daxpy(xf[i : i + _AXPY_CHUNK], yf[i : i + _AXPY_CHUNK], a=alpha)
    return out


def _axpy_case(x: Any, y: Any, c: Any, k: Any) -> np.ndarray:
    """The `_axpy` call `fma_scaled` makes, in `_is_fused`'s signature."""
    if np.ndim(y) != 0:
        return _complex_fma(x, y, c, k)  # only scalar multipliers go to daxpy
    out = np.empty(np.shape(x))
    np.multiply(c, k, out=out)
    return _axpy(float(y), np.ascontiguousarray(x), out)


def _complex_fma(x: Any, y: Any, c: Any, k: Any) -> np.ndarray:
    """`round(x*y + round(c*k))` as the imaginary part of `(x + i*c)*(k + i*y)`.

    numpy's SIMD complex multiply forms `a_im*b_re` (here `c*k`) and then
    `a_re*b_im + a_im*b_re` in one fused multiply-add. A scalar `y` and `k`
    make the right operand one complex scalar (numpy's broadcast branch). Both
    operands are fresh C-contiguous arrays of at least two elements, the
    layouts `_is_fused` checked (the product overwrites the left operand in
    place, which numpy's kernel allows); a one-element operand would take
    numpy's scalar loop, which rounds twice.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    c = np.asarray(c, np.float64)
    k = np.asarray(k, np.float64)
    shape = c.shape
    if x.shape != shape or (y.ndim and y.shape != shape) or k.ndim:
        shape = np.broadcast_shapes(x.shape, y.shape, c.shape, k.shape)
    if math.prod(shape) < 2:  # computed as two elements, the second a zero
        one = [np.append(np.broadcast_to(v, shape).reshape(-1), 0.0) for v in (x, c)]
        if y.ndim or k.ndim:
            y, k = (
                np.append(np.broadcast_to(v, shape).reshape(-1), 0.0) for v in (y, k)
            )
        return _complex_fma(one[0], y, one[1], k)[:1].reshape(shape)
    left = np.empty(shape, np.complex128)
    left.real = x
    left.imag = c
    if y.ndim == 0 and k.ndim == 0:
        right: Any = complex(float(k), float(y))
    else:
        right = np.empty(shape, np.complex128)
        right.real = k
        right.imag = y
    return np.multiply(left, right, out=left).imag


def _is_fused(kernel: Any) -> bool:
    """Whether `kernel(x, y, c, k)` is `round(x*y + round(c*k))`, checked exactly.

    The inputs make `x*y + c*k` cancel to a few ulps of `x*y`, where rounding
    twice is wrong in most elements; lengths 1-40, 10001, 25000 and a (500, 2)
    array cover every tail of the SIMD loops and of `_axpy`'s chunks, with
    array and scalar `y` and `k`. References: `_exact_fma` (integers), for
    the last 40 elements of the long cases.
    """
    rng = np.random.default_rng(20260511)
    with np.errstate(all="ignore"):
        for n in (*range(1, 41), 10001, 25000, (500, 2)):
            x = rng.standard_normal(n)
            y = rng.standard_normal(n)
            k = rng.uniform(0.5, 2.0, n)
            scalar = float(rng.uniform(0.05, 0.95))
            cases = []
            for yy, kk in ((y, 1.0), (scalar, 1.0), (y, k), (scalar, 0.9)):
                ck = -(x * yy) * (1 + rng.integers(-8, 9, n) * 2.0**-52)
                c = ck / kk
                cases.append((kernel(x, yy, c, kk), x, yy, np.multiply(c, kk)))
            for result, xx, yy, ck in cases:
                tail = [
                    np.broadcast_to(v, np.shape(x)).reshape(-1)[-40:]
                    for v in (result, xx, yy, ck)
                ]
                exact = [
                    _exact_fma(xi, yi, zi)
                    for xi, yi, zi in zip(*(v.tolist() for v in tail[1:]), strict=True)
                ]
                if not np.array_equal(tail[0], np.array(exact)):
                    return False
    return True


def _exact_fma(x: float, y: float, z: float) -> float:
    """`x*y + z` rounded once, in exact integer arithmetic (finite floats)."""
    (nx, dx), (ny, dy), (nz, dz) = (v.as_integer_ratio() for v in (x, y, z))
    # Python's int / int is correctly rounded.
    return (nx * ny * dz + nz * dx * dy) / (dx * dy * dz)


def _dekker_fma(a: Any, b: Any, c: Any) -> np.ndarray:
    """`fma` by error-free transforms: the exact product `a*b = p + e` (Dekker's
    TwoProduct with Veltkamp's split) and the exact sum `p + c = s + t` (Knuth's
    TwoSum), rounded as `s + (t + e)`; about 20 elementwise operations."""
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
    # Where the transforms meet inf or NaN (inf - inf) or the result is zero
    # (`-0 + 0` loses the sign), `a*b + c` is the fused result: IEEE's special
    # cases, and an exact zero means `a*b == -c` was representable.
    special = ~np.isfinite(s) | (s == 0)
    if special.any():
        s = np.where(special, p + c, s)
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
