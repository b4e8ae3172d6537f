"""Chunked runs, in process or on a Dask cluster, with a resumable results directory.

The grid of a sweep, fate map or moons study is cut into coarse chunks, each
one vectorised numpy run (per-point tasks would be slower than one array: the
per-step cost of numpy is paid per call). Chunks run in this process one after
the other (`client=None`) or as Dask tasks (`client=`: a `distributed.Client`,
a scheduler address, or `"local:N"` for a `LocalCluster` of N worker
processes for the duration of the call). Dask is imported only when a client is
asked for. A worker that dies is replaced by its nanny and the scheduler
recomputes its chunks; a chunk that raises is retried `RETRIES` times.

A results directory keeps every finished chunk (`chunk-000012.npz`, checksummed,
written atomically) beside a manifest naming the run, so an interrupted study
resumes where it stopped: finished chunks are loaded, not recomputed, and a
chunk is never written twice. The directory must be new, empty, or one this
tool made for the same run; nothing else is ever overwritten.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import math
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from simulator.metadata import jsonable, load_archive, save_archive

__all__ = [
    "CHUNKS_PER_WORKER",
    "CONNECT_TIMEOUT",
    "MIN_CHUNK_PARTICLES",
    "RETRIES",
    "ResultsDir",
    "check_chunks",
    "check_client_text",
    "connect",
    "plan_chunks",
    "run_chunks",
    "run_grid",
]

#: Seconds to wait for a scheduler at an address before giving up.
CONNECT_TIMEOUT = 5.0
#: Chunks per worker thread when sizing automatically: a lost worker costs at
#: most a quarter of its share, and the progress bar moves.
CHUNKS_PER_WORKER = 4
#: Smallest automatic chunk, in particles: a step's numpy calls cost ~1 us each
#: whatever their size, ~10% of a 4,096-particle step (measured: 8 chunks of
#: 4,096 particles on 2 workers beat 2 chunks of 16,384, which left a worker
#: idle whenever the other was slowed down).
MIN_CHUNK_PARTICLES = 4_096
#: Times a chunk that raised is resubmitted (a killed worker is handled by the
#: scheduler itself: its chunks are recomputed elsewhere).
RETRIES = 2

_MANIFEST = "optiscape-run.json"
_ADDRESS = re.compile(r"((tcp|tls|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:]+:\d+")


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


# ---------------------------------------------------------------------- client


_CLIENT_HELP = (
    "{arg} must be None, a distributed.Client, a scheduler address such as "
    "'tcp://host:8786', or 'local:N'."
)


@contextlib.contextmanager
def connect(client: Any) -> Iterator[tuple[Any, int, str]]:
    """`(client or None, worker threads, description)` for a `client=` argument.

    Args:
        client: None (this process), a `distributed.Client` (used as is, left
            open), an address such as `"tcp://10.0.0.5:8786"` (connected for the
            call, `CONNECT_TIMEOUT` seconds at most), or `"local:N"` (a
            `LocalCluster` of N single-threaded worker processes, closed after).

    Raises:
        ValueError: a bad value, Dask missing, or an unreachable scheduler.
    """
    if client is None:
        yield None, 1, "in-process"
        return
    workers = check_client_text(client) if isinstance(client, str) else None
    try:
        import distributed
    except ImportError:
        raise ValueError(
            "`client` needs Dask: pip install 'optiscape[dask]' (dask and "
            f"distributed). Received: client={client!r}"
        ) from None
    if isinstance(client, distributed.Client):
        yield client, _threads(client), f"client {client.scheduler.address}"
    elif not isinstance(client, str):
        help_text = _CLIENT_HELP.format(arg="`client`")
        raise ValueError(f"{help_text} Received: client={client!r}")
    elif workers is not None:
        with _local_cluster(distributed, workers) as local:
            yield local, workers, client
    else:
        remote = _connect_address(distributed, client)
        try:
            yield remote, _threads(remote), client
        finally:
            remote.close()


def check_client_text(client: str, argument: str = "client") -> int | None:
    """N of `"local:N"` (N >= 1), None for a well-formed address, else ValueError.

    Args:
        client: the text.
        argument: its name in messages (`"--scheduler"` on the command line).
    """
    text = client.strip()
    shown = f"`{argument}`" if argument.isidentifier() else argument
    if text.startswith("local"):
        match = re.fullmatch(r"local:(\d+)", text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(
                f"{shown} 'local:N' needs N >= 1 worker processes. "
                f"Received: {argument}={client!r}"
            )
        return int(match.group(1))
    if not _ADDRESS.fullmatch(text):
        help_text = _CLIENT_HELP.format(arg=shown)
        raise ValueError(f"{help_text} Received: {argument}={client!r}")
    return None


@contextlib.contextmanager
def _local_cluster(distributed: Any, workers: int) -> Iterator[Any]:
    """A `LocalCluster` of `workers` single-threaded processes and its client."""
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never clash with 8787
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as local,
    ):
        yield local


def _connect_address(distributed: Any, address: str) -> Any:
    """A client of the scheduler at `address`, or a ValueError within the timeout."""
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except OSError as err:  # includes TimeoutError
        raise ValueError(
            f"Cannot reach the Dask scheduler at {address!r} within "
            f"{CONNECT_TIMEOUT:g} s ({type(err).__name__}). Check the address, or "
            f"start one with `dask scheduler`. Received: client={address!r}"
        ) from None


def _threads(client: Any) -> int:
    """Worker threads of a cluster (at least one worker must have joined)."""
    threads = sum(client.nthreads().values())
    if threads == 0:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            raise ValueError(
                f"The Dask cluster at {client.scheduler.address} has no workers "
                f"(waited {CONNECT_TIMEOUT:g} s)."
            ) from None
        threads = sum(client.nthreads().values())
    return max(threads, 1)


# ---------------------------------------------------------------------- chunks


def check_chunks(chunks: Any, unit: str) -> int | None:
    """`chunks` as a positive int (or None), else a ValueError naming it."""
    if chunks is None:
        return None
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)):
        raise ValueError(
            f"`chunks` must be an integer >= 1 ({unit} per chunk) or None. "
            f"Received: chunks={chunks!r}"
        )
    if chunks < 1:
        raise ValueError(
            f"`chunks` must be >= 1 ({unit} per chunk). Received: chunks={chunks}"
        )
    return int(chunks)


def plan_chunks(
    units: int,
    unit_bytes: float,
    particles_per_unit: int,
    limit: int | None,
    workers: int,
    chunks: int | None,
    unit: str,
    min_particles: int = MIN_CHUNK_PARTICLES,
) -> list[tuple[int, int]]:
    """`[(lo, hi), ...]` ranges covering `units` grid units.

    Automatic size: `ceil(units / (CHUNKS_PER_WORKER * workers))`, at least
    `min_particles` particles (default `MIN_CHUNK_PARTICLES`), at most what
    fits `limit` bytes.

    Args:
        units: grid units (sweep points, fate-map rows, study points).
        unit_bytes: estimated peak bytes of one unit in a chunk's run.
        particles_per_unit: particles (or trainings) per unit.
        limit: memory cap per chunk in bytes (None: no cap).
        workers: worker threads.
        chunks: units per chunk given by the user (None: automatic).
        unit: what a unit is, for messages.
        min_particles: smallest automatic chunk in particles (or trainings).

    Raises:
        MemoryLimitError: `chunks` units would exceed `limit`.
    """
    from simulator.engine import MemoryLimitError

    fit = units if limit is None else max(1, int(limit // max(unit_bytes, 1)))
    if chunks is not None:
        if limit is not None and chunks * unit_bytes > limit:
            raise MemoryLimitError(
                f"`chunks`={chunks} {unit} is about {_human(chunks * unit_bytes)} "
                f"per chunk, above memory_limit={_human(limit)}; at most {fit} "
                f"{unit} fit. Give a smaller `chunks` or raise memory_limit."
            )
        size = chunks
    else:
        size = math.ceil(units / (CHUNKS_PER_WORKER * workers))
        size = max(size, math.ceil(min_particles / max(particles_per_unit, 1)))
        size = min(size, fit)
    size = max(1, min(size, units))
    return [(lo, min(lo + size, units)) for lo in range(0, units, size)]


def check_gathered(total_bytes: float, limit: int | None, what: str) -> None:
    """Refuses to gather a result larger than `limit` bytes into this process."""
    from simulator.engine import MemoryLimitError

    if limit is not None and total_bytes > limit:
        raise MemoryLimitError(
            f"The gathered {what} would take about {_human(total_bytes)}, above "
            f"memory_limit={_human(limit)}. Raise memory_limit (None disables "
            "the check) or run a smaller grid."
        )


# ----------------------------------------------------------------- results dir


def _digest(config: dict) -> str:
    text = json.dumps(jsonable(config), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class ResultsDir:
    """Finished chunks of one run on disk, for resuming it.

    Args:
        path: the directory (created if missing).
        config: JSON-able description of the run; a directory made for another
            configuration is refused.
        ranges: the chunk layout `[(lo, hi), ...]` planned for this call; when
            resuming, the layout stored in the manifest is used instead (so a
            different worker count still resumes), unless `chunks` was given and
            differs.
        explicit: True when the layout comes from a user's `chunks=`.

    Raises:
        ValueError: the path is a file, holds files this tool did not write, or
            belongs to another run or chunk layout.
    """

    def __init__(
        self,
        path: str | Path,
        config: dict,
        ranges: Sequence[tuple[int, int]],
        explicit: bool = False,
    ):
        self.path = Path(path)
        self.digest = _digest(config)
        manifest = self.path / _MANIFEST
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(
                f"`results_dir` must be a directory. Received: '{self.path}' is a file."
            )
        if manifest.is_file():
            stored = self._read_manifest(manifest)
            if stored.get("config_sha256") != self.digest:
                raise ValueError(
                    f"`results_dir` '{self.path}' holds another run "
                    f"({stored.get('config', {}).get('kind', '?')} with a different "
                    "configuration); give a new directory to start this one."
                )
            old = [tuple(r) for r in stored["chunks"]]
            if explicit and old != [tuple(r) for r in ranges]:
                raise ValueError(
                    f"`results_dir` '{self.path}' was started with chunks of "
                    f"{old[0][1] - old[0][0]}; resume with the same `chunks` (or "
                    f"none). Received: chunks={ranges[0][1] - ranges[0][0]}"
                )
            self.ranges = old
            return
        if self.path.is_dir() and any(self.path.iterdir()):
            raise ValueError(
                f"`results_dir` '{self.path}' already holds files optiscape did not "
                "write; give a new or empty directory."
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self.ranges = [tuple(r) for r in ranges]
        body = {
            "tool": "optiscape",
            "config_sha256": self.digest,
            "config": jsonable(config),
            "chunks": self.ranges,
        }
        tmp = self.path / f".{_MANIFEST}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(body, indent=1, sort_keys=True))
        os.replace(tmp, manifest)  # our own temporary name: nothing else replaced

    def _read_manifest(self, manifest: Path) -> dict:
        try:
            stored = json.loads(manifest.read_text())
        except (OSError, ValueError):
            stored = None
        if not isinstance(stored, dict) or stored.get("tool") != "optiscape":
            raise ValueError(
                f"`results_dir` '{self.path}': {manifest.name} is not an optiscape "
                "manifest; give a new directory."
            )
        return stored

    def _file(self, i: int) -> Path:
        return self.path / f"chunk-{i:06d}.npz"

    def load(self, i: int) -> tuple[dict, dict] | None:
        """`(arrays, meta)` of chunk `i` if it was finished, else None.

        Raises:
            ValueError: the chunk file is damaged or belongs to another run.
        """
        path = self._file(i)
        if not path.exists():
            return None
        arrays, meta = load_archive(path)  # checksum verified
        if meta.get("run") != self.digest or meta.get("index") != i:
            raise ValueError(
                f"'{path}' does not belong to this run; move it away to recompute "
                "the chunk."
            )
        return arrays, meta.get("meta", {})

    def save(self, i: int, arrays: dict, meta: dict) -> Path:
        """Writes chunk `i` atomically; an existing chunk file is never replaced."""
        path = self._file(i)
        tmp = self.path / f".chunk-{i:06d}.{uuid.uuid4().hex}.tmp.npz"
        save_archive(
            tmp,
            arrays,
            {"run": self.digest, "index": i, "range": self.ranges[i], "meta": meta},
        )
        try:
            os.link(tmp, path)  # fails if `path` exists: no overwrite, no race
        except FileExistsError:
            raise ValueError(
                f"'{path}' appeared while this run computed it (another process "
                "on the same directory?); it was left as it is."
            ) from None
        finally:
            tmp.unlink()
        return path


# ---------------------------------------------------------------------- runner


def run_chunks(
    fn: Callable[[Any], tuple[dict, dict]],
    payloads: Sequence[Any],
    *,
    client: Any = None,
    results: ResultsDir | None = None,
    progress: bool = False,
    desc: str = "chunks",
) -> tuple[list[tuple[dict, dict]], dict]:
    """Runs `fn(payload)` for every chunk and returns the outputs in chunk order.

    Args:
        fn: a module-level function (importable on workers) returning
            `(arrays: dict of numpy arrays, meta: JSON-able dict)`.
        payloads: one picklable argument per chunk.
        client: a connected `distributed.Client`, or None (this process, in order).
        results: a `ResultsDir`: finished chunks are loaded from it and new ones
            written to it as they complete.
        progress: a progress bar over completed chunks.
        desc: the bar's label.

    Returns:
        `(outputs, stats)`, `stats = {"chunks", "computed", "loaded"}`.
    """
    out: list[tuple[dict, dict] | None] = [None] * len(payloads)
    todo = []
    for i in range(len(payloads)):
        done = results.load(i) if results is not None else None
        if done is None:
            todo.append(i)
        else:
            out[i] = done
    bar = tqdm(
        total=len(payloads),
        initial=len(payloads) - len(todo),
        desc=desc,
        unit="chunk",
        disable=not progress,
        leave=False,
    )

    def finish(i: int, value: tuple[dict, dict]) -> None:
        out[i] = value
        if results is not None:
            results.save(i, *value)
        bar.update(1)

    try:
        if client is None:
            for i in todo:
                finish(i, fn(payloads[i]))
        else:
            from distributed import as_completed

            tag = uuid.uuid4().hex[:12]
            futures = {
                client.submit(
                    fn,
                    payloads[i],
                    key=f"optiscape-{desc}-{tag}-{i}",
                    retries=RETRIES,
                    pure=False,
                ): i
                for i in todo
            }
            try:
                for future in as_completed(futures):
                    finish(futures[future], future.result())
                    future.release()
            except BaseException:  # interrupted or failed: free the cluster
                client.cancel([f for f in futures if not f.done()])
                raise
    finally:
        bar.close()
    stats = {
        "chunks": len(payloads),
        "computed": len(todo),
        "loaded": len(payloads) - len(todo),
    }
    return out, stats  # type: ignore[return-value]


def run_grid(
    fn: Callable[[Any], tuple[dict, dict]],
    make_payload: Callable[[int, int], Any],
    *,
    units: int,
    unit_bytes: float,
    particles_per_unit: int,
    limit: int | None,
    chunks: int | None,
    unit: str,
    client: Any,
    results_dir: str | Path | None,
    config: dict,
    progress: bool,
    desc: str,
    min_particles: int = MIN_CHUNK_PARTICLES,
) -> tuple[list[tuple[dict, dict]], dict]:
    """Connects, plans the chunks, opens the results directory and runs them.

    The recipe `sweep`, `fate_map` and `lr_study` share: `make_payload(lo, hi)`
    builds the task of units `[lo, hi)`; see `plan_chunks`, `ResultsDir` and
    `run_chunks` for the other arguments.

    Returns:
        `(outputs in chunk order, execution)`, `execution` being what the
        result's metadata records: `client`, `chunk_ranges`, `chunks`,
        `computed`, `loaded`.
    """
    with connect(client) as (dask, workers, where):
        ranges = plan_chunks(
            units,
            unit_bytes,
            particles_per_unit,
            limit,
            workers,
            chunks,
            unit,
            min_particles=min_particles,
        )
        results = None
        if results_dir is not None:
            results = ResultsDir(results_dir, config, ranges, chunks is not None)
            ranges = results.ranges
        outputs, stats = run_chunks(
            fn,
            [make_payload(lo, hi) for lo, hi in ranges],
            client=dask,
            results=results,
            progress=progress,
            desc=desc,
        )
    execution = {"client": where, "chunk_ranges": [list(r) for r in ranges], **stats}
    return outputs, execution


# -------------------------------------------------------------------- workers

_ALLOCATOR_TUNED = False


def tune_worker_allocator() -> None:
    """Lets glibc keep freed step temporaries in a Dask worker (once per process).

    A Dask nanny starts its worker with `MALLOC_TRIM_THRESHOLD_=65536`, which
    also freezes glibc's mmap threshold at 128 KiB: every step temporary of a
    chunk (256 KiB for 16,384 particles) is then mapped and unmapped afresh,
    its pages faulted in each step, and a sweep ran 4x slower than in process
    (measured). Setting the thresholds explicitly (`mallopt`) restores what
    `simulator.buffers.warm_allocator` relies on. No-op elsewhere.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return
    _ALLOCATOR_TUNED = True
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to undo
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
    libc.mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's maximum
    libc.mallopt(m_trim_threshold, 64 * 2**20)


# -------------------------------------------------------------------- payloads


def portable_surface(surface: Any) -> Any:
    """A picklable stand-in for `surface`, rebuilt on a worker by `rebuild_surface`.

    Expression surfaces hold compiled local functions, which pickle cannot
    carry: their config (and minima, which a fate map may have discovered)
    travels instead. Other surface objects travel as they are.
    """
    import surfaces

    if isinstance(surface, surfaces.Surface):
        return {
            "config": surface.to_config(),
            "minima": surface.minima,
            "saddles": surface.saddles,
            "maxima": surface.maxima,
        }
    return surface


def rebuild_surface(ref: Any) -> Any:
    """The surface `portable_surface` described."""
    import dataclasses

    import surfaces

    if not isinstance(ref, dict):
        return ref
    surface = surfaces.from_config(ref["config"])
    return dataclasses.replace(
        surface, minima=ref["minima"], saddles=ref["saddles"], maxima=ref["maxima"]
    )
