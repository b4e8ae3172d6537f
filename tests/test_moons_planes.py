"""Planes through weight space, loss slices, projections, decision boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.moons import (
    MLP,
    Plane,
    decision_boundary,
    fit,
    losses,
    make_moons,
    pca_plane,
    plane_through,
    random_plane,
)


@pytest.fixture(scope="module")
def hist():
    return fit("Adam(learning_rate=0.01)", 8, seed=2, record="step")


def test_pca_plane_matches_sklearn_pca(hist):
    decomposition = pytest.importorskip("sklearn.decomposition")
    plane = pca_plane(hist)
    pca = decomposition.PCA().fit(hist.weights)
    np.testing.assert_allclose(
        plane.explained_variance_ratio, pca.explained_variance_ratio_[:2], rtol=1e-10
    )
    np.testing.assert_allclose(pca.explained_variance_ratio_.sum(), 1.0, rtol=1e-12)
    assert plane.explained_variance_ratio.sum() <= 1.0
    np.testing.assert_allclose(
        np.abs(plane.directions @ pca.components_[:2].T), np.eye(2), atol=1e-8
    )
    np.testing.assert_allclose(
        plane.directions @ plane.directions.T, np.eye(2), atol=1e-12
    )
    np.testing.assert_array_equal(plane.origin, hist.weights[-1])  # Li et al.
    assert np.all(plane.anchors[0] <= 0)  # the path runs towards +a, +b
    np.testing.assert_allclose(plane.anchors[1], 0.0, atol=1e-12)


def test_in_plane_trajectory_has_all_variance_and_zero_off_plane_distance(hist):
    m = MLP()
    rng = np.random.default_rng(0)
    origin = hist.weights[-1]
    basis = np.linalg.qr(rng.standard_normal((m.n_params, 2)))[0].T
    coords = np.cumsum(rng.standard_normal((40, 2)), axis=0)
    traj = origin + coords @ basis
    plane = pca_plane(traj)
    np.testing.assert_allclose(plane.explained_variance_ratio.sum(), 1.0, rtol=1e-12)
    proj = plane.project(traj)
    assert np.max(proj.off_plane) < 1e-12 * np.max(np.abs(traj))
    np.testing.assert_allclose(proj.slice_loss, proj.true_loss, rtol=1e-9)
    back = plane.point(proj.coords)
    np.testing.assert_allclose(back, traj, atol=1e-12)


def test_projection_off_plane_distance_and_losses(hist):
    plane = random_plane(hist, seed=1)
    rng = np.random.default_rng(1)
    c = rng.standard_normal((5, 2))
    normal = rng.standard_normal(plane.origin.size)
    # Remove the plane component so `normal` is orthogonal to both directions.
    d = plane.directions
    normal -= np.linalg.solve(d @ d.T, d @ normal) @ d
    pts = plane.point(c) + 0.3 * normal / np.linalg.norm(normal)
    proj = plane.project(pts)
    np.testing.assert_allclose(proj.coords, c, atol=1e-10)
    np.testing.assert_allclose(proj.off_plane, 0.3, rtol=1e-10)
    m = MLP()
    X, y = make_moons()
    np.testing.assert_allclose(proj.true_loss, m.loss(m.unflatten(pts), X, y))
    np.testing.assert_allclose(
        proj.slice_loss, m.loss(m.unflatten(plane.point(c)), X, y)
    )


@pytest.mark.parametrize("bias", ["zero", "weights"])
def test_filter_normalised_directions(hist, bias):
    plane = random_plane(hist, seed=3, bias=bias)
    m = MLP()
    w = m.unflatten(hist.weights[-1])
    for direction in plane.directions:
        d = m.unflatten(direction)
        for i in range(0, len(w), 2):
            np.testing.assert_allclose(
                np.linalg.norm(d[i], axis=0), np.linalg.norm(w[i], axis=0), rtol=1e-8
            )
            if bias == "zero":
                assert np.all(d[i + 1] == 0)
            else:
                np.testing.assert_array_equal(d[i + 1], w[i + 1])
    other = random_plane(hist, seed=4, bias=bias)
    assert not np.allclose(other.directions, plane.directions)
    unit = random_plane(hist, seed=3, filter_normalize=False)
    np.testing.assert_allclose(np.linalg.norm(unit.directions, axis=1), 1.0)


def test_plane_through_three_points(hist):
    w = hist.weights
    plane = plane_through(w[0], w[20], w[-1])
    proj = plane.project(np.stack([w[0], w[20], w[-1]]))
    np.testing.assert_allclose(proj.off_plane, 0.0, atol=1e-12)
    np.testing.assert_allclose(proj.coords, plane.anchors, atol=1e-12)
    np.testing.assert_allclose(plane.anchors[1, 0], np.linalg.norm(w[20] - w[0]))
    np.testing.assert_allclose(
        plane.directions @ plane.directions.T, np.eye(2), atol=1e-12
    )
    with pytest.raises(ValueError, match="collinear"):
        plane_through(w[0], w[1], 2 * w[1] - w[0])
    with pytest.raises(ValueError, match="same point"):
        plane_through(w[0], w[0], w[1])


def test_loss_grid_vectorised_equals_pointwise_and_chunking(hist):
    plane = pca_plane(hist)
    grid = plane.loss_grid(7, span=((-2.0, 1.0), (-0.5, 0.5)))
    small = plane.loss_grid(7, span=((-2.0, 1.0), (-0.5, 0.5)), memory_limit=1)
    np.testing.assert_array_equal(grid.loss, small.loss)
    assert grid.loss.shape == (7, 7)
    m = MLP()
    X, y = make_moons()
    for i, j in [(0, 0), (3, 5), (6, 2)]:
        w = plane.origin + grid.alpha[j] * plane.directions[0]
        w = w + grid.beta[i] * plane.directions[1]
        np.testing.assert_allclose(grid.loss[i, j], m.loss(m.unflatten(w), X, y))
    default = plane.loss_grid(5)
    assert default.alpha[0] == plane.window[0][0]
    assert default.beta[-1] == plane.window[1][1]


def test_decision_boundary_shapes_and_range(hist):
    xx, yy, prob = decision_boundary(hist, resolution=30)
    assert xx.shape == yy.shape == (30, 30)
    assert prob.shape == (30, 30, 2)
    assert np.all((prob >= 0) & (prob <= 1))
    np.testing.assert_allclose(prob.sum(-1), 1.0, rtol=1e-14)
    assert xx[0, 0] < xx[0, -1]
    assert yy[0, 0] < yy[-1, 0]  # row = y
    # The trained model separates the moons: its classes match on the data.
    X, y = make_moons()
    m = MLP()
    p_data = m.forward(hist.final_weights, X)
    assert np.mean(np.argmax(p_data, -1) == y) > 0.8
    _, _, every = decision_boundary(hist.weights[::20], resolution=10)
    assert every.shape == (hist.weights[::20].shape[0], 10, 10, 2)
    _, _, first = decision_boundary(hist, resolution=10, row=0)
    np.testing.assert_array_equal(first, every[0])
    np.testing.assert_array_equal(
        decision_boundary(hist.weights[::20], resolution=10, memory_limit=1)[2], every
    )


def test_losses_chunking_is_exact(hist):
    m = MLP()
    X, y = make_moons()
    a = losses(m, hist.weights, X, y)
    b = losses(m, hist.weights, X, y, memory_limit=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[5], m.loss(m.unflatten(hist.weights[5]), X, y))


def test_plane_save_load_round_trip(hist, tmp_path):
    plane = pca_plane(hist)
    back = Plane.load(plane.save(tmp_path / "plane"))
    for name in (
        "origin",
        "directions",
        "X",
        "y",
        "anchors",
        "explained_variance_ratio",
    ):
        np.testing.assert_array_equal(getattr(back, name), getattr(plane, name))
    assert back.window == plane.window
    assert back.kind == "pca"
    assert back.metadata == plane.metadata
    assert "versions" in back.metadata
    assert back.metadata["layer_sizes"] == [2, 12, 13, 13, 2]


def test_bad_plane_arguments(hist):
    plane = pca_plane(hist)
    with pytest.raises(ValueError, match="resolution"):
        plane.loss_grid(1)
    with pytest.raises(ValueError, match="window"):
        plane.loss_grid(5, span=((1.0, 0.0), (0.0, 1.0)))
    with pytest.raises(ValueError, match="span"):
        plane.loss_grid(5, span=-1.0)
    with pytest.raises(ValueError, match="coords"):
        plane.point(np.zeros(3))
    with pytest.raises(ValueError, match="center"):
        pca_plane(hist, center="middle")
    with pytest.raises(ValueError, match="at least 3"):
        pca_plane(hist.weights[:2])
    with pytest.raises(ValueError, match="fewer than two"):
        pca_plane(np.stack([hist.weights[0]] * 3))
    with pytest.raises(ValueError, match="bias"):
        random_plane(hist, bias="copy")
    with pytest.raises(ValueError, match="415 entries"):
        random_plane(np.zeros(7))
    with pytest.raises(ValueError, match="2 inputs"):
        decision_boundary(np.zeros(MLP((3, 2)).n_params), layer_sizes=(3, 2))
    with pytest.raises(ValueError, match="resolution"):
        decision_boundary(hist, resolution=1)
