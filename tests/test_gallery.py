"""The README's main command: the gallery renders every figure and an index."""

from __future__ import annotations

import re

import pytest
from matplotlib.image import imread

from scenes.gallery import render_gallery
from scenes.output import read_png_config

pytestmark = pytest.mark.slow


def test_quick_gallery_renders_everything(tmp_path):
    index = render_gallery(tmp_path, quick=True, progress=False)
    page = index.read_text()
    images = re.findall(r'<img src="([^"]+)"', page)
    expected = {
        "race_rosenbrock.png", "race_saddle.png", "race_valley.png",
        "race_valley_panels.png", "race_valley_loss.png",
        "glyphs_long_valley.png", "glyphs_long_valley_3d.png",
        "sweep_sgd_rosenbrock.png", "fate_himmelblau.png",
        "moons/moons_curves.png", "moons/moons_curves_panels.png",
        "moons/moons_landscape.png",
    }  # fmt: skip
    assert expected <= set(images)
    for name in images:
        path = tmp_path / name
        image = imread(path)
        assert image.shape[0] > 400
        assert image[..., :3].std() > 0.05, name
        assert read_png_config(path)["versions"]["numpy"]
        assert path.with_suffix(".json").exists()
    # The article race legends carry the learning rates chosen per surface.
    valley = read_png_config(tmp_path / "race_valley.png")["optiscape"]
    assert "SGD(learning_rate=0.05, momentum=0.9)" in valley["labels"]
    assert len(valley["labels"]) == 10
