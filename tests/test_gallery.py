"""The README's main command: the gallery renders every figure and an index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from matplotlib.image import imread
from video_probe import probe

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
    # Videos: each with its poster and configuration, and real frames inside.
    videos = re.findall(r'<source src="([^"]+)" type="video/mp4">', page)
    # The Manim section (quick: one scene; tests/test_manim.py checks it).
    manim_videos = {v for v in videos if v.startswith("videos/")}
    assert manim_videos == {"videos/SaddleEscape.mp4"}
    videos = [v for v in videos if v not in manim_videos]
    assert set(videos) == {
        "race_rosenbrock.mp4", "race_saddle.mp4", "race_valley.mp4",
        "glyphs_long_valley.mp4", "moons/moons_training.mp4",
        "flavours_rmsprop.mp4", "flavours_adagrad.mp4", "flavours_nesterov_sgd.mp4",
    }  # fmt: skip
    for name in videos:
        info = probe(tmp_path / name)
        assert (info["width"], info["height"]) == (480, 270)
        assert info["frames"] == 20
        assert json.loads(info["comment"])["optiscape"]["video"]["fps"] == 10
        poster = (tmp_path / name).with_name(Path(name).stem + "_poster.png")
        assert f'poster="{poster.relative_to(tmp_path)}"' in page
        assert imread(poster)[..., :3].std() > 0.05
    # The article race legends carry the learning rates chosen per surface.
    valley = read_png_config(tmp_path / "race_valley.png")["optiscape"]
    assert "SGD(learning_rate=0.05, momentum=0.9)" in valley["labels"]
    assert len(valley["labels"]) == 10
