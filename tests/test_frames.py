"""The frame reader and frame clock: what every renderer shows at each row."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest

from scenes.figures.landscape import plot_race
from scenes.frames import FrameClock, FrameReader, exit_points, glyph_name
from simulator import simulate

STARTS = [[-1.2, 1.0], [2.0, -0.5]]


@pytest.fixture(scope="module")
def race():
    # The Nesterov run diverges from (2, -0.5) at step 5; Adam does not.
    return simulate(
        "rosenbrock",
        [
            "Adam(learning_rate=0.05)",
            "SGD(learning_rate=0.002, momentum=0.9, nesterov=True)",
        ],
        STARTS,
        120,
    )


def test_positions_start_at_the_starts_and_stop_at_divergence(race):
    reader = FrameReader(race)
    assert reader.n_rows == 121
    for s in range(2):
        np.testing.assert_array_equal(reader.positions(s, 0), STARTS)
    t = race[1]
    assert t.diverged.tolist() == [False, True]
    row = reader.series[1].diverged_row[1]
    assert reader.steps[row] == t.diverged_step[1]
    assert np.isfinite(reader.positions(1, row - 1)[1]).all()
    assert np.isnan(reader.positions(1, row)[1]).all()
    assert not reader.markers(1, row - 1)[1]
    assert reader.markers(1, row)[1]
    trail = reader.trail(1, reader.last_row)
    # Drawn up to (and including) the divergence row, NaN after it.
    assert np.isfinite(trail[: row + 1, 1]).all()
    assert np.isnan(trail[row + 1 :, 1]).all()
    assert np.isfinite(trail[:, 0]).all()


def test_trail_window_and_motion(race):
    reader = FrameReader(race)
    assert reader.trail(0, 50, length=10).shape == (10, 2, 2)
    assert reader.trail(0, 3, length=10).shape == (4, 2, 2)
    motion = reader.motion()
    assert motion[0] == 0
    assert motion[-1] == pytest.approx(1.0)
    assert (np.diff(motion) >= 0).all()


def test_exit_point_is_on_the_view_edge():
    view = ((0.0, 1.0), (0.0, 1.0))
    pos = np.array([[[0.5, 0.5]], [[0.9, 0.5]], [[3.0, 0.5]], [[9.0, 0.5]]])
    valid = np.ones((4, 1), bool)
    np.testing.assert_allclose(exit_points(pos, valid, view), [[1.0, 0.5]])
    # Never inside: its last point; last point inside: that point.
    np.testing.assert_allclose(exit_points(pos + 5, valid, view), [[14.0, 5.5]])
    valid[2:] = False
    np.testing.assert_allclose(exit_points(pos, valid, view), [[0.9, 0.5]])


def test_glyph_names_and_the_old_lookahead_alias(race):
    assert glyph_name("lookahead") == "textbook_iterate"
    with pytest.raises(ValueError, match="Unknown glyph 'speed'"):
        glyph_name("speed")
    reader = FrameReader(race, glyphs=("lookahead", "velocity"))
    assert reader.glyphs == ("textbook_iterate", "velocity")
    assert reader.has_glyph("textbook_iterate") == [False, True]
    g = reader.glyph("textbook_iterate", 1, 0)
    np.testing.assert_array_equal(g.vectors, race[1].internals["nesterov_base"][0])
    np.testing.assert_array_equal(g.anchors, race[1].positions[0])
    assert reader.glyph("textbook_iterate", 0, 0) is None  # Adam has no such thing


def test_glyph_scale_is_one_for_the_whole_run(race):
    reader = FrameReader(race, glyphs=("velocity", "gradient"))
    k = reader.scale["velocity"]
    # The 95th percentile of |velocity| over every row spans 8% of the diagonal.
    v = race[1].internals["velocity"][:, :1]  # the particle that stays alive
    size = np.percentile(np.hypot(*v.reshape(-1, 2).T), 95)
    (x0, x1), (y0, y1) = reader.view
    assert k == pytest.approx(0.08 * np.hypot(x1 - x0, y1 - y0) / size)
    # A diverged particle shows no glyph from its divergence on.
    row = reader.series[1].diverged_row[1]
    assert not reader.glyph("velocity", 1, row).visible[1]
    assert reader.glyph("velocity", 1, row - 1).visible[1]
    # Gradient glyphs point downhill: -gradient at the shown position.
    g = reader.glyph("gradient", 0, 7)
    np.testing.assert_array_equal(g.vectors, -race[0].gradient[7])


def test_traces_recorded_at_other_steps_are_refused():
    a = simulate("valley", "SGD(0.05)", None, 10)
    b = simulate("valley", "SGD(0.05)", None, 12)
    with pytest.raises(ValueError, match="same steps"):
        FrameReader([a, b])


def test_frame_clock_uniform_eased_and_holds(race):
    reader = FrameReader(race)
    uniform = FrameClock(reader.n_rows, 61, easing="uniform")
    assert uniform.rows[0] == 0
    assert uniform.rows[-1] == 120
    assert (np.diff(uniform.rows) == 2).all()
    eased = FrameClock(
        reader.n_rows, 61, motion=reader.motion(), hold_start=5, hold_end=10
    )
    assert len(eased) == 61
    assert (eased.rows[:5] == 0).all()
    assert (eased.rows[-10:] == 120).all()
    assert (np.diff(eased.rows) >= 0).all()
    # Early rows move fastest on screen: eased spends more frames on them.
    moving = eased.rows[5:-10]
    assert (moving < 30).sum() > (uniform.rows < 30).sum() * 46 / 61
    with pytest.raises(ValueError, match="`frames` must be an integer >= 1"):
        FrameClock(10, 0)
    with pytest.raises(ValueError, match="`easing` must be one of"):
        FrameClock(10, 5, easing="bounce")


def _png(fig) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    buf.seek(0)
    return plt.imread(buf)


def test_static_figure_is_update_of_the_last_row(race):
    glyphs = ("velocity", "textbook_iterate", "step_size")
    static = plot_race(race, glyphs=glyphs, glyph_steps=[5, 20])
    _png(static.ax.figure)  # constrained layout settles over two draws
    expected = _png(static.ax.figure)
    moved = plot_race(race, glyphs=glyphs, glyph_steps=[5, 20], row=0)
    first = _png(moved.ax.figure)
    moved.update(moved.reader.last_row)
    np.testing.assert_array_equal(_png(moved.ax.figure), expected)
    assert np.abs(first - expected).max() > 0.5  # row 0 really is another picture
    plt.close("all")


def test_left_view_is_where_and_when_the_path_crossed_the_edge():
    # One particle leaves through x = 1 between rows 1 and 2 and comes back at
    # row 4; another starts outside (marked at the edge nearest it).
    a = np.array([[0.0, 0.0], [0.5, 0.0], [1.5, 0.5], [2.5, 0.0], [0.5, 0.0]])
    b = np.array([[0.0, 3.0]] * 5)
    paths = {"p": np.stack([a, b], axis=1)}
    reader = FrameReader.from_paths(paths, np.arange(5) * 10, ((-1, 1), (-1, 1)))
    for row in (2, 3):
        points, steps = reader.left_view(0, row)
        assert np.allclose(points[0], [1.0, 0.25])  # on the segment row 1 -> 2
        assert steps[0] == 20
        assert np.allclose(points[1], [0.0, 1.0])
        assert steps[1] == 0
    points, steps = reader.left_view(0, 4)
    assert np.isnan(points[0]).all()
    assert steps[0] == -1
    assert not reader.off_view(0, 1)[0]
    assert reader.off_view(0, 2)[0]
