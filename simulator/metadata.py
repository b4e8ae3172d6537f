"""Run metadata: JSON-able configuration, package versions and checksummed archives."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import platform
import zipfile
import zlib
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from simulator.budget import (
    DEFAULT_MEMORY_LIMIT,
    MemoryLimitError,
    check,
    format_bytes,
)

__all__ = [
    "check_schema",
    "jsonable",
    "load_archive",
    "optimizer_metadata",
    "package_versions",
    "save_archive",
]

_PACKAGES = ("optiscape", "numpy", "scipy", "matplotlib", "manim")
_META_KEY = "__metadata__"
_SUM_KEY = "__checksum__"


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape a result (`None` if absent)."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str]:
    # Cached: reading package metadata costs milliseconds, a sweep-by-loop calls
    # `simulate` thousands of times.
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def jsonable(value: Any) -> Any:
    """A JSON-serialisable copy of `value` (arrays to lists, schedules to configs)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)  # JSON has no inf/nan; keep them readable
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "get_config"):
        return {
            "class_name": type(value).__name__,
            "config": jsonable(value.get_config()),
        }
    if callable(value):
        return {"callable": getattr(value, "__qualname__", repr(value))}
    return repr(value)


def optimizer_metadata(optimizer: Any) -> dict[str, Any]:
    """`{"class_name", "text", "config"}` for an optimizer."""
    return {
        "class_name": type(optimizer).__name__,
        "text": optimizer.to_text(),
        "config": jsonable(optimizer.get_config()),
    }


def _checksum(arrays: dict[str, np.ndarray], meta_text: str) -> str:
    digest = hashlib.sha256(meta_text.encode())
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        digest.update(key.encode())
        digest.update(str(arr.dtype).encode())
        digest.update(str(arr.shape).encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def save_archive(path: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Writes `arrays` and JSON `meta` into one `.npz` with a SHA-256 checksum.

    Args:
        path: destination; `.npz` is appended when missing.
        arrays: name -> array (no object arrays).
        meta: JSON-able metadata.

    Returns:
        The path written.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    meta_text = json.dumps(jsonable(meta), sort_keys=True)
    payload = dict(arrays)
    payload[_META_KEY] = np.array(meta_text)
    payload[_SUM_KEY] = np.array(_checksum(arrays, meta_text))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **payload)
    return path


#: An archive holds at most this many arrays (a Race of 1000 traces has ~10k).
MAX_MEMBERS = 100_000


def load_archive(
    path: str | Path,
    *,
    schema: dict[str, str] | None = None,
    memory_limit: Any = DEFAULT_MEMORY_LIMIT,
) -> tuple[dict[str, np.ndarray], dict]:
    """Reads an archive written by `save_archive`, verifying its checksum.

    Before anything is decompressed, the zip directory's sizes are checked
    against `memory_limit`, and every member's `.npy` header (its first bytes)
    must describe a plain array whose size is exactly what the member holds: a
    zip bomb or a header that claims 8 TB is refused without being inflated.

    Args:
        path: the `.npz` file.
        schema: optional `check_schema` description of the arrays.
        memory_limit: refuse archives that would inflate beyond this.

    Raises:
        ValueError: naming the file when it is missing, truncated, too large,
            not an optiscape archive, shaped unlike `schema`, or its content
            does not match its checksum.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Trace file not found: '{path}'.")
    try:
        _check_members(path, memory_limit)
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except MemoryLimitError:
        raise
    except (
        OSError,
        ValueError,
        EOFError,
        zipfile.BadZipFile,
        KeyError,
        zlib.error,
    ) as err:
        raise ValueError(
            f"Cannot read '{path}': the file is truncated or not an .npz archive "
            f"({type(err).__name__}: {err})."
        ) from None
    if _META_KEY not in arrays or _SUM_KEY not in arrays:
        raise ValueError(f"'{path}' is not an optiscape archive (no metadata).")
    meta_text = str(arrays.pop(_META_KEY))
    expected = str(arrays.pop(_SUM_KEY))
    if _checksum(arrays, meta_text) != expected:
        raise ValueError(
            f"'{path}' failed its checksum: the file was modified after it was saved."
        )
    try:
        meta = json.loads(meta_text)
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise ValueError(f"'{path}' has unreadable metadata (not a JSON object).")
    if schema is not None:
        check_schema(arrays, schema, f"'{path}'")
    return arrays, meta


def _check_members(path: Path, memory_limit: Any) -> None:
    """Sizes from the zip directory and each `.npy` header, before inflating."""
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ValueError(f"{len(infos)} members (at most {MAX_MEMBERS})")
        total = float(sum(i.file_size for i in infos))
        check(
            total,
            memory_limit,
            f"Reading '{path}' ({len(infos)} arrays, "
            f"{format_bytes(path.stat().st_size)} on disk)",
            "a smaller file (this one may be a zip bomb)",
        )
        for info in infos:
            with z.open(info) as f:
                version = np.lib.format.read_magic(f)
                reader = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = reader(f, max_header_size=10_000)
                header = f.tell()
            if dtype.hasobject:
                raise ValueError(f"member {info.filename!r} holds Python objects")
            nbytes = math.prod(shape) * dtype.itemsize
            if header + nbytes != info.file_size:
                raise ValueError(
                    f"member {info.filename!r} claims shape {shape} of {dtype} "
                    f"({format_bytes(nbytes)}) but holds "
                    f"{format_bytes(info.file_size - header)}"
                )


def check_schema(arrays: dict[str, np.ndarray], schema: dict[str, str], source: str):
    """Checks names, dtype kinds and shapes of loaded arrays against `schema`.

    `schema` maps a name (a trailing `*` matches a prefix, e.g. `internals/*`)
    to alternatives `"kinds:dims|kinds:dims"`: dtype kinds (`f` float, `i`
    signed int, `b` bool, `U` str; `?` after them: optional) and comma-separated
    dims, each an integer, a symbol (`R`, `H`; a symbol may carry `-1`), or one
    `*B` (any number of axes). Symbols must agree across all arrays.

    Raises:
        ValueError: naming `source`, the array and what was expected.
    """
    bound: dict[str, Any] = {}
    for name, rule in schema.items():
        if name.endswith("*"):
            keys = [k for k in arrays if k.startswith(name[:-1])]
        else:
            keys = [name]
        for key in keys:
            arr = arrays.get(key)
            options = rule.split("|")
            if arr is None:
                if "?" in options[0].split(":")[0]:
                    continue
                raise ValueError(f"{source} has no array {key!r}.")
            for option in options:
                kinds, dims = option.split(":")
                trial = dict(bound)
                if arr.dtype.kind in kinds and _bind(arr.shape, dims, trial):
                    bound = trial
                    break
            else:
                raise ValueError(
                    f"{source}: array {key!r} has dtype {arr.dtype} and shape "
                    f"{arr.shape}; expected {rule!r} (with {bound or 'nothing'})."
                )
    return bound


def _bind(shape: tuple[int, ...], dims: str, bound: dict[str, Any]) -> bool:
    """Matches `shape` against `dims`, extending `bound`; False on a mismatch."""
    tokens = [t.strip() for t in dims.split(",") if t.strip()]
    if "*B" in tokens:
        i = tokens.index("*B")
        n = len(shape) - (len(tokens) - 1)
        if n < 0:
            return False
        parts = [*shape[:i], tuple(shape[i : i + n]), *shape[i + n :]]
    elif len(tokens) != len(shape):
        return False
    else:
        parts = list(shape)
    for token, dim in zip(tokens, parts, strict=True):
        if token == "*B":
            if bound.setdefault("B", dim) != dim:
                return False
        elif token.lstrip("-").isdigit():
            if int(token) != dim:
                return False
        else:
            symbol, _, offset = token.partition("-")
            value = dim + (int(offset) if offset else 0)
            if bound.setdefault(symbol, value) != value:
                return False
    return True
