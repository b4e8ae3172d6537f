"""Run metadata: JSON-able configuration, package versions and checksummed archives."""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import zipfile
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
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


def load_archive(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Reads an archive written by `save_archive`, verifying its checksum.

    Raises:
        ValueError: naming the file when it is missing, truncated, not an
            optiscape archive, or its content does not match its checksum.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Trace file not found: '{path}'.")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
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
    return arrays, json.loads(meta_text)
