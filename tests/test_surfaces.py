"""Contract tests for every registered analytic surface and the registry."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

import surfaces
from surfaces import CriticalPoint, Surface

ALL = surfaces.names()


def _central_diff(s: Surface, pts: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of s.value at pts (N, 2), O(h^2) accurate."""
    g = np.empty_like(pts)
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        g[:, i] = (s.value(pts + e) - s.value(pts - e)) / (2 * h)
    return g


def _random_points(s: Surface, rng: np.random.Generator, n: int = 200) -> np.ndarray:
    (x0, x1), (y0, y1) = s.view
    pts = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    # Stay clear of Ackley's non-differentiable tip at the origin.
    return pts[np.hypot(pts[:, 0], pts[:, 1]) > 1e-3]


def test_registry_lists_every_required_surface():
    required = {
        "rosenbrock",
        "saddle",
        "monkey_saddle",
        "valley",
        "long_valley",
        "beale",
        "himmelblau",
        "rastrigin",
        "ackley",
        "booth",
        "styblinski_tang",
        "six_hump_camel",
        "goldstein_price",
    }
    assert required <= set(ALL)
    assert ALL == sorted(surfaces.SURFACES)
    for name in ALL:
        assert surfaces.get(name).name == name


def test_unknown_name_suggests_closest():
    with pytest.raises(ValueError, match=r"Did you mean 'rosenbrock'\?.*Available"):
        surfaces.get("rosenbrok")
    with pytest.raises(ValueError, match=r"Did you mean 'himmelblau'"):
        surfaces.resolve("himmelblou")
    with pytest.raises(ValueError, match="Unknown surface 'qqqqqq'"):
        surfaces.get("qqqqqq")


def test_resolve_names_expressions_configs():
    assert surfaces.resolve("beale") is surfaces.get("beale")
    expr = surfaces.resolve("x**2 + y**2")
    assert expr.value([3.0, 4.0]) == 25.0
    cfg = json.loads(json.dumps(expr.to_config()))
    assert cfg["expression"] == "x**2 + y**2"
    again = surfaces.from_config(cfg)
    assert again.value([1.0, 2.0]) == 5.0
    assert again.view == expr.view
    assert surfaces.resolve({"name": "booth"}) is surfaces.get("booth")
    assert surfaces.resolve(expr) is expr


@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_central_differences(name, rng):
    s = surfaces.get(name)
    pts = _random_points(s, rng)
    g = s.grad(pts)
    fd = _central_diff(s, pts)
    # Error of central differences: h^2 |f'''| + eps |f| / h; scale by both.
    scale = 1.0 + np.abs(g) + 1e-9 * np.abs(s.value(pts))[:, None] / 1e-6
    np.testing.assert_array_less(np.abs(g - fd) / scale, 1e-6)


@pytest.mark.parametrize("name", ALL)
def test_metadata_is_consistent(name):
    s = surfaces.get(name)
    (x0, x1), (y0, y1) = s.view
    assert x0 < x1
    assert y0 < y1
    assert s.starts, "every surface suggests at least one start"
    points = (*s.minima, *s.saddles, *s.maxima)
    for p in (*points, *(CriticalPoint(st, 0.0, "local") for st in s.starts)):
        assert x0 <= p.xy[0] <= x1, (name, p)
        assert y0 <= p.xy[1] <= y1, (name, p)
    assert all(m.kind in ("global", "local") for m in s.minima)
    assert all(p.kind == "saddle" for p in s.saddles)
    assert all(p.kind == "maximum" for p in s.maxima)
    if s.minima:
        assert s.minima[0].kind == "global"
        best = min(m.value for m in s.minima)
        assert all(m.value == best for m in s.global_minima)
    for field in ("formula", "latex", "description"):
        assert getattr(s, field)
    assert s.to_config() == {"name": name}
    assert surfaces.from_config(json.loads(json.dumps(s.to_config()))) is s


@pytest.mark.parametrize("name", ALL)
def test_critical_points_are_stationary_with_listed_values(name):
    s = surfaces.get(name)
    points = (*s.minima, *s.saddles, *s.maxima)
    if not points:
        pytest.skip(f"{name} lists no critical points")
    xy = np.array([p.xy for p in points])
    values = np.array([p.value for p in points])
    f, g = s.value_and_grad(xy)
    np.testing.assert_allclose(f, values, rtol=1e-12, atol=1e-12)
    # |grad| relative to the size of the terms in the function.
    scale = 1.0 + np.abs(values)
    assert np.all(np.abs(g).max(axis=-1) / scale < 1e-10), (g, xy)


@pytest.mark.parametrize("name", ALL)
def test_critical_point_kinds_match_hessian(name):
    """Classify each listed point by a finite-difference Hessian."""
    s = surfaces.get(name)
    h = 1e-5
    for p in (*s.minima, *s.saddles, *s.maxima):
        xy = np.array(p.xy)
        hess = np.empty((2, 2))
        for i in range(2):
            e = np.zeros(2)
            e[i] = h
            hess[:, i] = (s.grad(xy + e) - s.grad(xy - e)) / (2 * h)
        ev = np.linalg.eigvalsh(0.5 * (hess + hess.T))
        if name == "monkey_saddle":  # degenerate: Hessian 0, checked along x
            assert s.value([0.1, 0]) > 0 > s.value([-0.1, 0])
        elif p.kind in ("global", "local"):
            assert ev.min() > 0, (name, p, ev)
        elif p.kind == "maximum":
            assert ev.max() < 0, (name, p, ev)
        else:
            assert ev.min() < 0 < ev.max(), (name, p, ev)


@pytest.mark.parametrize("name", ALL)
def test_global_minimum_is_lowest_on_a_grid(name):
    s = surfaces.get(name)
    if not s.global_minima:
        pytest.skip("unbounded below")
    _, _, z = s.grid(301)
    assert z.min() >= s.global_minima[0].value - 1e-9


@pytest.mark.parametrize("name", ALL)
def test_broadcasting_matches_pointwise(name, rng):
    s = surfaces.get(name)
    pts = _random_points(s, rng, 12)[:12].reshape(3, 4, 2)
    f3, g3 = s.value_and_grad(pts)
    assert f3.shape == (3, 4)
    assert g3.shape == (3, 4, 2)
    f2, g2 = s.value_and_grad(pts.reshape(12, 2))
    assert f2.shape == (12,)
    assert g2.shape == (12, 2)
    np.testing.assert_array_equal(f2, f3.reshape(12))
    np.testing.assert_array_equal(g2, g3.reshape(12, 2))
    for k, p in enumerate(pts.reshape(12, 2)):
        f1, g1 = s.value_and_grad(p)
        assert f1.shape == ()
        assert g1.shape == (2,)
        np.testing.assert_allclose(f1, f2[k], rtol=1e-15, atol=0)
        np.testing.assert_allclose(g1, g2[k], rtol=1e-15, atol=1e-300)
        # Python lists work too.
        assert s.value(p.tolist()) == f1


@pytest.mark.parametrize("name", ALL)
def test_value_and_grad_agree_with_value_and_grad(name, rng):
    s = surfaces.get(name)
    pts = _random_points(s, rng, 50)
    f, g = s.value_and_grad(pts)
    np.testing.assert_array_equal(f, s.value(pts))
    np.testing.assert_array_equal(g, s.grad(pts))


@pytest.mark.parametrize("name", ALL)
def test_float32_is_preserved_and_inputs_not_mutated(name, rng):
    s = surfaces.get(name)
    pts = _random_points(s, rng, 20).astype(np.float32)
    before = pts.copy()
    f, g = s.value_and_grad(pts)
    assert f.dtype == np.float32
    assert g.dtype == np.float32
    assert s.value(pts).dtype == np.float32
    np.testing.assert_array_equal(pts, before)
    f64, _g64 = s.value_and_grad(pts.astype(np.float64))
    np.testing.assert_allclose(f, f64, rtol=2e-4, atol=1e-3 * (1 + np.abs(f64).max()))
    # Integer input computes in float64.
    assert s.value(np.array([1, 1])).dtype == np.float64


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(3),
        np.zeros((4, 3)),
        np.zeros((2, 1)),
        5.0,
        [[1.0, 2.0, 3.0]],
        np.zeros((0,)),
    ],
)
def test_bad_shape_raises_value_error(bad):
    s = surfaces.get("rosenbrock")
    for method in (s.value, s.grad, s.value_and_grad):
        with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
            method(bad)


def test_non_numeric_input_raises_value_error():
    s = surfaces.get("booth")
    for bad in (["a", "b"], np.array([1 + 1j, 2.0]), [None, None]):
        with pytest.raises(ValueError, match="xy"):
            s.value(bad)


def test_grid_shapes_and_orientation():
    s = surfaces.get("booth")
    x, y, z = s.grid(resolution=5, view=((0, 4), (10, 12)))
    assert x.shape == y.shape == z.shape == (5, 5)
    assert x[0, -1] == 4
    assert y[-1, 0] == 12
    np.testing.assert_array_equal(z, s.value(np.stack([x, y], -1)))
    with pytest.raises(ValueError, match="resolution"):
        s.grid(1)
    with pytest.raises(ValueError, match="view"):
        s.grid(10, view=((1, 0), (0, 1)))


def test_rosenbrock_agrees_with_scipy_and_hand_formula(rng):
    s = surfaces.get("rosenbrock")
    pts = rng.normal(size=(30, 2))
    x, y = pts.T
    np.testing.assert_array_equal(s.value(pts), rosen(pts.T))
    np.testing.assert_array_equal(s.grad(pts), rosen_der(pts.T).T)
    hand = np.column_stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])
    np.testing.assert_allclose(s.grad(pts), hand, rtol=1e-13, atol=1e-11)
    assert s.starts[0] == (-1.2, 1.0)
    assert s.log_contours


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rosenbrock_kernel_is_bit_identical_to_scipy(dtype):
    """The fused kernel reorders nothing: same bits as SciPy's rosen/rosen_der,
    far from and near the valley, in both precisions."""
    rng = np.random.default_rng(7)
    pts = np.concatenate(
        [rng.uniform(-3, 3, (5000, 2)), 1 + rng.normal(scale=1e-6, size=(500, 2))]
    ).astype(dtype)
    f, g = surfaces.get("rosenbrock").value_and_grad(pts)
    assert f.dtype == g.dtype == dtype
    np.testing.assert_array_equal(f, rosen(pts.T))
    np.testing.assert_array_equal(g, rosen_der(pts.T).T)


def test_ackley_origin_has_zero_gradient_and_no_nan():
    s = surfaces.get("ackley")
    f, g = s.value_and_grad(np.zeros(2))
    assert abs(f) < 1e-14
    np.testing.assert_array_equal(g, [0.0, 0.0])
    f32, g32 = s.value_and_grad(np.zeros((3, 2), dtype=np.float32))
    assert np.all(np.isfinite(f32))
    assert np.all(g32 == 0)


def test_long_valley_condition_number():
    s = surfaces.get("long_valley")
    h = 1e-3
    hess = np.array(
        [
            (s.grad(np.eye(2)[i] * h) - s.grad(-np.eye(2)[i] * h)) / (2 * h)
            for i in range(2)
        ]
    )
    ev = np.linalg.eigvalsh(hess)
    assert ev.max() / ev.min() == pytest.approx(100.0, rel=1e-9)


def test_surface_is_frozen_and_easy_to_define():
    def paraboloid(x, y):
        return x * x + 2 * y * y, 2 * x, 4 * y

    s = Surface("bowl", paraboloid, minima=(CriticalPoint((0.0, 0.0), 0.0, "global"),))
    assert s.value([1.0, 1.0]) == 3.0
    np.testing.assert_array_equal(s.grad([[1.0, 1.0]]), [[2.0, 4.0]])
    assert s.starts  # a default start is provided
    with pytest.raises(AttributeError):
        s.name = "other"
    with pytest.raises(ValueError, match="view"):
        Surface("bad", paraboloid, view=((0, 0), (0, 1)))
