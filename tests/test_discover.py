"""surfaces.find_minima: the minima of a surface that lists none, found numerically."""

from __future__ import annotations

import numpy as np

import surfaces


def test_finds_himmelblaus_four_minima_from_its_formula():
    expr = surfaces.from_expression(
        "(x**2 + y - 11)**2 + (x + y**2 - 7)**2", view=((-5, 5), (-5, 5))
    )
    found = surfaces.find_minima(expr)
    known = np.array([m.xy for m in surfaces.get("himmelblau").minima])
    assert len(found) == 4
    for m in found:
        assert np.min(np.linalg.norm(known - m.xy, axis=1)) < 1e-6
        assert m.kind == "global"
        assert abs(m.value) < 1e-10


def test_local_and_global_are_told_apart_and_saddles_refused():
    valley = surfaces.from_expression(
        "x**4/4 - x**3/3 - x**2 + y**2", view=((-3, 3), (-2, 2))
    )
    found = surfaces.find_minima(valley)
    assert [m.kind for m in found] == ["global", "local"]
    np.testing.assert_allclose([m.xy for m in found], [(2, 0), (-1, 0)], atol=1e-6)
    saddle = surfaces.from_expression("x**2 - y**2", view=((-1, 1), (-1, 1)))
    assert surfaces.find_minima(saddle) == ()  # only the window's edges, no minimum


def test_with_minima_keeps_registered_metadata():
    rosen = surfaces.get("rosenbrock")
    assert surfaces.with_minima(rosen) is rosen
