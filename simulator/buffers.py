"""Recording arrays for long runs: anonymous mappings pre-faulted in the background."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import mmap
import threading
from collections.abc import Sequence

import numpy as np

__all__ = ["MAPPED_MIN_BYTES", "allocate", "warm_allocator"]

#: Arrays at least this large are mapped anonymously and pre-faulted.
MAPPED_MIN_BYTES = 16 * 2**20
#: Pre-fault granularity: small enough that the writer rarely catches up.
_CHUNK_BYTES = 4 * 2**20
#: `madvise(MADV_POPULATE_WRITE)`, Linux >= 5.14 (Python 3.11's mmap lacks it).
_MADV_POPULATE_WRITE = 23


@functools.cache
def _madvise():
    """libc's `madvise` through ctypes (which releases the GIL), or None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        fn = libc.madvise
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


@functools.cache
def warm_allocator() -> None:
    """Lets glibc's malloc keep freed step temporaries instead of unmapping them.

    A step allocates its temporaries afresh (pure functions), e.g. ten 160 KB
    arrays for 10,000 particles. glibc serves blocks above its initial 128 KiB
    `mmap` threshold with `mmap`, or trims them off the heap on `free`, so every
    step faulted its temporaries' pages in again: the first 10,000 x 1,000
    swarm of a process took 0.30-0.50 s instead of 0.18-0.25 s. glibc raises the
    threshold itself (to the block's size, with twice that as the trim
    threshold) the first time a mapped block is freed; allocating and freeing
    one 30 MiB block, never touched, triggers that adaptation at once. Other
    allocators ignore it. Called once per process by `simulate`.
    """
    np.empty(30 * 2**20, np.uint8)


def allocate(
    specs: Sequence[tuple[tuple[int, ...], np.dtype]], *, prefault: bool = True
) -> list[np.ndarray]:
    """Uninitialised arrays for a recording, one per `(shape, dtype)` in `specs`.

    A run writes its recording one row per step, and the first write to each
    4 KiB page costs a kernel page fault and a page clear: for a 10,000-particle
    x 1,000-step swarm (240 MB) about 0.08 s, as much as the arithmetic. Large
    arrays therefore come from an anonymous mapping whose pages a background
    thread faults in (`madvise(MADV_POPULATE_WRITE)`, which runs without the
    GIL) in the order the run fills them, so the clearing happens on another
    core while the optimizer steps. Pre-faulting never changes contents; where
    the writer overtakes it, or the kernel lacks the call, a page simply faults
    on first write as it would for `np.empty`.

    Not `np.empty` for the large ones: numpy advises transparent huge pages on
    big allocations, and filling such an array row by row cost 0.35-0.5 s on
    the reference machine for the swarm above.

    Args:
        specs: `(shape, dtype)` pairs.
        prefault: start the background thread (False when the caller fills the
            arrays at once anyway).

    Returns:
        The arrays, in the order of `specs` (contents undefined, like `np.empty`).
    """
    arrays = []
    mapped = []
    anonymous = getattr(mmap, "MAP_ANONYMOUS", None)
    for shape, dtype in specs:
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if nbytes < MAPPED_MIN_BYTES or anonymous is None:
            arrays.append(np.empty(shape, dtype))
            continue
        buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | anonymous)
        arr = np.frombuffer(buf, dtype=dtype).reshape(shape)
        arrays.append(arr)
        mapped.append(arr)
    if prefault and mapped and _madvise() is not None:
        threading.Thread(
            target=_prefault, args=(mapped,), name="optiscape-prefault", daemon=True
        ).start()
    return arrays


def _prefault(arrays: list[np.ndarray]) -> None:
    """Faults `arrays` in, interleaved chunk by chunk from their first row on.

    The thread holds references to the arrays (and through them the mappings),
    so they stay mapped while it works even if the run drops them.
    """
    madvise = _madvise()
    page = mmap.PAGESIZE
    n_chunks = max(1, math.ceil(max(a.nbytes for a in arrays) / _CHUNK_BYTES))
    for i in range(n_chunks):
        for arr in arrays:
            size = arr.nbytes
            # Page-aligned chunk bounds; mmap's start address is page aligned.
            lo = (size * i // n_chunks) // page * page
            hi = size if i == n_chunks - 1 else (size * (i + 1) // n_chunks)
            if hi > lo and madvise(arr.ctypes.data + lo, hi - lo, _MADV_POPULATE_WRITE):
                return  # unsupported kernel: pages fault on first write instead
