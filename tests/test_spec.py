"""Scene spec validation: errors name the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenes.spec import SpecError, load_spec, parse_spec

EXAMPLES = Path(__file__).parent.parent / "examples"
BASE = {"surface": {"name": "saddle"}, "optimizers": [{"text": "Adam(0.1)"}]}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_examples_are_valid(path):
    spec = load_spec(path)
    assert spec.kind in ("race", "sweep", "fate")


def test_sweep_grid_forms():
    spec = parse_spec(
        {
            **BASE,
            "scene": {"kind": "sweep"},
            "sweep": {
                "optimizer": "SGD",
                "grid": {
                    "learning_rate": {"geomspace": [1e-4, 1e-2, 3]},
                    "momentum": [0, 0.9],
                },
            },
        }
    )
    assert spec.sweep["grid"]["learning_rate"] == pytest.approx([1e-4, 1e-3, 1e-2])
    assert spec.sweep["grid"]["momentum"] == [0.0, 0.9]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**BASE, "run": {"steps": "many"}}, "[run] steps: expected an integer >= 0"),
        ({**BASE, "run": {"step": 10}}, "Did you mean 'steps'?"),
        ({**BASE, "runn": {}}, "Did you mean [run]?"),
        ({"optimizers": BASE["optimizers"]}, "[surface]"),
        ({**BASE, "surface": {"name": "saddle", "expression": "x"}}, "exactly one"),
        ({**BASE, "run": {"starts": [[1, 2, 3]]}}, "[run] starts"),
        ({**BASE, "run": {"dtype": "float16"}}, "'float64', 'float32'"),
        ({**BASE, "scene": {"kind": "movie"}}, "[scene] kind"),
        ({"surface": {"name": "saddle"}}, "at least one [[optimizers]]"),
        ({**BASE, "optimizers": [{"label": "x"}]}, "missing text"),
        ({**BASE, "render": {"glyphs": ["wind"]}}, "[render] glyphs"),
        ({**BASE, "render": {"three_d": "yes"}}, "[render] three_d"),
        (
            {
                **BASE,
                "scene": {"kind": "sweep"},
                "sweep": {
                    "optimizer": "SGD",
                    "grid": {"momentum": {"linspace": [0, 1]}},
                },
            },
            "[sweep.grid] momentum",
        ),
        ({**BASE, "scene": {"kind": "fate"}}, "[fate]"),
        ({**BASE, "video": {"fps": 0}}, "[video] fps: expected a number > 0, got 0"),
        ({**BASE, "video": {"frames": 0}}, "[video] frames: expected an integer >= 1"),
        ({**BASE, "video": {"panels": ["loss", "x"]}}, "[video] panels: expected one"),
        ({**BASE, "video": {"renderer": "blender"}}, "[video] renderer"),
        ({**BASE, "video": {"size": [1280]}}, "[video] size: expected [width, height]"),
        (
            {**BASE, "video": {"size": [1281, 720], "out": "a.mp4"}},
            "[video] out: H.264",
        ),
        ({**BASE, "video": {"size": [10, 10]}}, "[video]: `size` must be two integers"),
        ({**BASE, "video": {"fsp": 30}}, "Did you mean 'fps'?"),
        ({**BASE, "video": {"trail": 1}}, "[video] trail"),
        ({**BASE, "video": {"glyphs": ["wind"]}}, "[video] glyphs"),
        (
            {
                **BASE,
                "scene": {"kind": "fate"},
                "video": {},
                "fate": {"optimizer": "SGD"},
            },
            "[video]: only a race scene can be animated",
        ),
        (
            {**BASE, "surface": {"name": "saddle", "view": [[1, 0], [0, 1]]}},
            "[surface] view",
        ),
    ],
)
def test_errors_name_file_key_and_expectation(data, message):
    with pytest.raises(SpecError) as err:
        parse_spec(data, "scene.toml")
    assert str(err.value).startswith("scene.toml: ")
    assert message in str(err.value)


def test_toml_syntax_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nsteps = 3")
    with pytest.raises(SpecError, match=r"bad\.toml: not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match=r"nope\.toml: cannot read"):
        load_spec(tmp_path / "nope.toml")


def test_video_table_and_settings():
    from scenes.spec import video_settings

    spec = parse_spec(
        {**BASE, "video": {"seconds": 2, "fps": 15, "size": [640, 360], "trail": 20}}
    )
    settings = video_settings(spec.video)
    assert (settings.frames, settings.fps, settings.size) == (30, 15.0, (640, 360))
    assert settings.trail == 20
    assert spec.video["renderer"] == "matplotlib"
    assert spec.to_config()["video"]["seconds"] == 2
