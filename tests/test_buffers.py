"""Recording buffers: shapes, mapping, and pre-faulting that never changes contents."""

from __future__ import annotations

import mmap
import threading

import numpy as np
import pytest

from simulator import buffers, simulate


def _is_mapped(arr: np.ndarray) -> bool:
    """Whether `arr`'s memory is an `mmap` (through views and memoryviews)."""
    base = arr
    while base is not None:
        if isinstance(base, mmap.mmap):
            return True
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return False


def test_small_arrays_come_from_numpy_and_large_ones_are_mapped():
    small, large = buffers.allocate(
        [((10, 3), np.float32), ((buffers.MAPPED_MIN_BYTES // 8 + 1,), np.float64)]
    )
    assert small.shape == (10, 3)
    assert small.dtype == np.float32
    assert not _is_mapped(small)
    assert large.dtype == np.float64
    assert large.flags.writeable
    assert _is_mapped(large)


def test_writes_racing_the_prefault_thread_are_kept():
    """The writer fills rows while the background thread pre-faults the same
    pages; `MADV_POPULATE_WRITE` must never clear what was already written."""
    rows = 64
    (arr,) = buffers.allocate(
        [((rows, 2 * buffers.MAPPED_MIN_BYTES // 8 // rows), np.float64)]
    )
    for i in range(rows):
        arr[i] = i
    threads = [t for t in threading.enumerate() if t.name == "optiscape-prefault"]
    for t in threads:
        t.join(timeout=10)
    np.testing.assert_array_equal(arr[:, 0], np.arange(rows))
    np.testing.assert_array_equal(arr[:, -1], np.arange(rows))
    assert (arr == np.arange(rows)[:, None]).all()


def test_prefault_can_be_disabled_and_fill_is_complete():
    (arr,) = buffers.allocate(
        [((buffers.MAPPED_MIN_BYTES // 8,), np.float64)], prefault=False
    )
    arr.fill(np.nan)
    assert np.isnan(arr).all()


@pytest.mark.parametrize("madvise_available", [True, False])
def test_large_swarm_trace_identical_with_and_without_prefault(
    monkeypatch, madvise_available
):
    """The recording of a run big enough to be mapped equals a small-batch run of
    the same particles (the engine is per-particle independent)."""
    if not madvise_available:
        monkeypatch.setattr(buffers, "_madvise", lambda: None)
    starts = np.random.default_rng(3).uniform(-2, 2, size=(4096, 2))
    big = simulate(
        "rosenbrock",
        "Adam(learning_rate=0.05)",
        starts,
        600,
        record=("positions", "loss"),
        memory_limit=None,
    )
    assert _is_mapped(big.positions)
    assert _is_mapped(big.loss)
    few = simulate(
        "rosenbrock",
        "Adam(learning_rate=0.05)",
        starts[::512],
        600,
        record=("positions", "loss"),
    )
    np.testing.assert_array_equal(big.positions[:, ::512], few.positions)
    np.testing.assert_array_equal(big.loss[:, ::512], few.loss)
