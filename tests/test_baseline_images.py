"""Figures compared pixel-wise with stored baselines (matplotlib.testing.compare)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.testing.compare import compare_images

from baseline_figures import BASELINE_DPI, FIGURES

BASELINE = Path(__file__).parent / "baseline"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_matches_baseline(name, tmp_path):
    actual = tmp_path / f"{name}.png"
    FIGURES[name]().savefig(actual, dpi=BASELINE_DPI)
    plt.close("all")
    # RMS tolerance on 0-255 levels: anti-aliasing may move, a path may not.
    result = compare_images(str(BASELINE / f"{name}.png"), str(actual), tol=3)
    assert result is None, result
