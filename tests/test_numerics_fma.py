"""`numerics.fma`: one rounding, whichever kernel the process uses.

The kernels (numba's `llvm.fma` ufuncs, BLAS `daxpy`, numpy's complex
multiply, error-free transforms) are compared element by element with exact
integer arithmetic on inputs where rounding twice is wrong in most elements;
subprocesses with numba hidden, and with numpy's FMA dispatch disabled too,
must fall back and pass this file and torch's goldens.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator import numerics

ROOT = Path(__file__).resolve().parents[1]


def _cancelling(rng, shape, scale=1.0):
    """`(a, b, c)` with `a*b + c` a few ulps of `a*b` (naive rounding fails)."""
    a = rng.standard_normal(shape)
    b = rng.standard_normal(shape) * scale
    c = -(a * b) * (1 + rng.integers(-8, 9, shape) * 2.0**-52)
    return a, b, c


def _exact(a, b, c):
    a, b, c = np.broadcast_arrays(a, b, c)
    return np.array(
        [
            numerics._exact_fma(x, y, z)
            for x, y, z in zip(a.ravel(), b.ravel(), c.ravel(), strict=True)
        ]
    ).reshape(a.shape)


def test_exact_reference_is_exact():
    # 0.1*0.1 - 0.01: the rounding error of 0.1*0.1, known in closed form.
    assert numerics._exact_fma(0.1, 0.1, -0.01) == 9.020562075079397e-19
    assert 0.1 * 0.1 - 0.01 != 9.020562075079397e-19


@pytest.mark.parametrize("shape", [(), (1,), (2,), (3, 2), (37,), (1000, 2)])
def test_fma_rounds_once(shape):
    rng = np.random.default_rng(len(shape) + sum(shape))
    a, b, c = _cancelling(rng, shape)
    ref = _exact(a, b, c)
    assert np.mean(a * b + c == ref) < 0.5  # the inputs discriminate
    assert np.array_equal(numerics.fma(a, b, c), ref)
    assert np.array_equal(numerics._dekker_fma(a, b, c), ref)
    # A scalar multiplier, either side (the daxpy kernel where available).
    cs = -(a * 0.3) * (1 + rng.integers(-8, 9, shape) * 2.0**-52)
    ref = _exact(0.3, a, cs)
    assert np.array_equal(numerics.fma(0.3, a, cs), ref)
    assert np.array_equal(numerics.fma(a, 0.3, cs), ref)


def test_fma_scaled_rounds_the_scaling_first():
    rng = np.random.default_rng(3)
    a, b, c = _cancelling(rng, (501, 2))
    k = 0.9
    c = c / k
    ref = _exact(a, b, c * k)
    assert np.array_equal(numerics.fma_scaled(a, b, c, k), ref)
    ref = _exact(0.7, a, -(a * 0.7) * (1 + 2.0**-51))
    c2 = (-(a * 0.7) * (1 + 2.0**-51)) / k
    assert np.array_equal(numerics.fma_scaled(0.7, a, c2, k), _exact(0.7, a, c2 * k))


def test_fma_broadcasts_hyperparameter_arrays():
    rng = np.random.default_rng(4)
    alpha = rng.uniform(0.1, 0.9, (3, 1, 1))
    b = rng.standard_normal((3, 50, 2))
    c = -(alpha * b) * (1 + 2.0**-51)
    assert np.array_equal(numerics.fma(alpha, b, c), _exact(alpha, b, c))
    assert numerics.fma(alpha, b, c[:1]).shape == (3, 50, 2)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_fma_special_values_follow_ieee():
    a = np.array([np.inf, 0.0, np.nan, 1.0, -0.0, 2.0])
    b = np.array([0.0, np.inf, 1.0, 1.0, 1.0, 3.0])
    c = np.array([1.0, 1.0, 1.0, -1.0, -0.0, np.inf])
    out = numerics.fma(a, b, c)
    np.testing.assert_array_equal(out, [np.nan, np.nan, np.nan, 0.0, -0.0, np.inf])
    assert np.signbit(out[4])
    assert not np.signbit(out[3])
    # alpha == 0 is not skipped (daxpy would return c): 0*inf is NaN.
    assert np.isnan(numerics.fma(0.0, np.array([np.inf, 1.0]), np.ones(2))[0])


def test_fma_never_mutates_inputs():
    rng = np.random.default_rng(5)
    a, b, c = _cancelling(rng, (300, 2))
    copies = [v.copy() for v in (a, b, c)]
    numerics.fma(a, b, c)
    numerics.fma(0.3, b, c)
    numerics.fma_scaled(a, 0.2, c, 0.9)
    for v, w in zip((a, b, c), copies, strict=True):
        assert np.array_equal(v, w)


def test_fused_check_rejects_a_kernel_that_rounds_twice():
    def unfused(x, y, c, k):
        return np.multiply(x, y) + np.multiply(c, k)

    assert not numerics._is_fused(unfused)
    chosen = numerics.fma_kernels()["array"]
    if chosen == numerics.LLVM:  # numba installed: its ufuncs passed the check
        assert numerics._is_fused(numerics._LLVM["fma"])
    else:  # the complex multiply is used exactly when it passes
        assert numerics._is_fused(numerics._complex_fma) == (chosen == numerics.COMPLEX)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cpu_features", "expected"),
    [("", numerics.COMPLEX), ("X86_V3 X86_V4 AVX512_ICL AVX512_SPR", numerics.DEKKER)],
    ids=["numpy-kernels", "no-fma-dispatch"],
)
def test_fallbacks_without_numba_still_match_torch(tmp_path, cpu_features, expected):
    """numba hidden (an importable `numba` that raises ImportError): numpy's
    complex multiply takes over; with numpy's x86-64-v3/v4 kernels disabled too
    it rounds twice, the check must see it and fall back to error-free
    transforms. This file's tests and the torch goldens must hold either way."""
    hidden = tmp_path / "numba"
    hidden.mkdir()
    (hidden / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    if cpu_features:
        env["NPY_DISABLE_CPU_FEATURES"] = cpu_features
    code = "from simulator import numerics; print(numerics.fma_kernels()['array'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == expected, out.stderr
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-m",
            "not slow",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "test_numerics_fma.py"),
            str(ROOT / "tests" / "test_flavours_torch.py"),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-2000:]


def test_addcmul_is_torchs_mul_then_addcmul():
    rng = np.random.default_rng(6)
    g = rng.standard_normal((400, 2))
    s = rng.uniform(0.5, 2.0, (400, 2))
    value, k = 0.001, 0.999
    x = np.multiply(value, g)
    want = _exact(x, g, s * k)
    assert np.array_equal(numerics.addcmul(s, k, value, g, g), want)
    assert np.array_equal(numerics.addcmul(s, None, value, g, g), _exact(x, g, s))
    # The cached right operand is rewritten, never stale, across calls and k.
    g2 = rng.standard_normal((400, 2))
    for kk in (0.5, 0.999, 0.5):
        got = numerics.addcmul(s, kk, value, g2, g2)
        assert np.array_equal(got, _exact(np.multiply(value, g2), g2, s * kk))
    # Hyperparameter arrays take the general path, same result.
    ks = np.full((400, 1), k)
    assert np.array_equal(numerics.addcmul(s, ks, value, g, g), want)


def test_addcmul_threads_do_not_share_their_operands():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(7)
    cases = [
        (rng.uniform(1, 2, (5000, 2)), rng.standard_normal((5000, 2))) for _ in range(4)
    ]

    def work(i):
        s, g = cases[i % 4]
        return i, numerics.addcmul(s, 0.9, 0.1, g, g)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(32)))
    for i, got in results:
        s, g = cases[i % 4]
        assert np.array_equal(got, numerics.fma(np.multiply(0.1, g), g, s * 0.9))


def test_addcmul_keeps_only_a_few_shapes():
    rng = np.random.default_rng(8)
    for n in range(2, 40):
        s, g = rng.uniform(1, 2, n), rng.standard_normal(n)
        want = numerics.fma(np.multiply(0.1, g), g, s * 0.9)
        assert np.array_equal(numerics.addcmul(s, 0.9, 0.1, g, g), want)
    # Only the complex-multiply kernel caches operands (the numba one needs none).
    assert len(getattr(numerics._RIGHT, "by_shape", {})) <= numerics._RIGHT_SHAPES
