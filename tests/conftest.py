"""Shared pytest setup: headless matplotlib, JAX x64 for Keras parity, fixtures."""

from __future__ import annotations

import os

# Must happen before jax/keras/matplotlib are imported anywhere in the session.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so every test is reproducible."""
    return np.random.default_rng(20261125)


@pytest.fixture
def out_dir(tmp_path):
    """A temporary directory for files a test writes."""
    d = tmp_path / "out"
    d.mkdir()
    return d


def pytest_terminal_summary(terminalreporter):
    """Prints the worst Keras parity error per optimizer when the parity ran."""
    import json
    from pathlib import Path

    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # only the controller reports, after every worker wrote its file
    paths = sorted(Path(__file__).parent.glob(".parity_report.*.json"))
    if not paths:
        return
    report: dict[str, dict[str, float]] = {}
    for path in paths:  # one per xdist worker: keep the worst of each
        for name, errors in json.loads(path.read_text()).items():
            entry = report.setdefault(name, {})
            for dtype, value in errors.items():
                entry[dtype] = max(entry.get(dtype, 0.0), value)
        path.unlink()
    terminalreporter.section("worst relative error against live Keras")
    for name, errors in sorted(report.items()):
        text = ", ".join(f"{k}: {v:.3g}" for k, v in sorted(errors.items()))
        terminalreporter.write_line(f"{name:28s} {text}")
