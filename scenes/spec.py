"""TOML scene specs: one small file describes a run and how to render it."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scenes.vocab import (
    FIGURE_FORMATS,
    GLYPH_CHOICES,
    PANELS,
    RENDERERS,
    SWEEP_METRICS,
)

__all__ = ["KINDS", "SceneSpec", "SpecError", "load_spec", "parse_spec"]

#: Scene kinds a spec can describe (animations and Manim scenes will add more).
KINDS = ("race", "sweep", "fate")

_SECTIONS = {
    "scene": {"kind", "title", "out", "formats"},
    "surface": {"name", "expression", "view"},
    "run": {"steps", "starts", "noise", "seed", "dtype", "record_every", "bound"},
    "optimizers": {"text", "label"},
    "render": {
        "glyphs",
        "glyph_steps",
        "three_d",
        "log",
        "dpi",
        "size",
        "loss_curves",
        "save_trace",
    },
    "sweep": {"optimizer", "grid", "fixed", "metric"},
    "fate": {"optimizer", "resolution", "tolerance"},
    "video": {
        "renderer",
        "out",
        "frames",
        "seconds",
        "fps",
        "size",
        "panels",
        "trail",
        "easing",
        "glyphs",
        "quality",
        "scene",  # renderer = "manim": which scene (default OptimizerRace)
    },
}
# [run] scheduler: run sweep and fate scenes on Dask (`simulator.cluster`).
_SECTIONS["run"].add("scheduler")


class SpecError(ValueError):
    """A spec file is invalid; the message names the file, the key and the problem."""


@dataclass
class SceneSpec:
    """A validated scene description (see `examples/*.toml` and the README)."""

    source: str
    kind: str
    surface: dict[str, Any]
    steps: int = 200
    starts: list[list[float]] | None = None
    noise: float = 0.0
    seed: int = 0
    dtype: str = "float64"
    record_every: int = 1
    bound: Any = None
    scheduler: str | None = None
    optimizers: list[dict[str, str]] = field(default_factory=list)
    title: str | None = None
    out: str | None = None
    formats: list[str] | None = None
    render: dict[str, Any] = field(default_factory=dict)
    sweep: dict[str, Any] = field(default_factory=dict)
    fate: dict[str, Any] = field(default_factory=dict)
    video: dict[str, Any] = field(default_factory=dict)

    def to_config(self) -> dict[str, Any]:
        """The spec as a JSON-able dict (stored in every artefact it renders)."""
        return {k: v for k, v in self.__dict__.items() if v not in (None, {}, [])}


class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, message: str) -> SpecError:
        return SpecError(f"{self.source}: {key}: {message}")

    def keys(self, section: str, table: Any, allowed: set[str]) -> dict:
        if not isinstance(table, dict):
            raise self.fail(f"[{section}]", f"expected a table, got {table!r}")
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise self.fail(
                    f"[{section}] {key}",
                    f"unknown key (allowed: {', '.join(sorted(allowed))}).{hint}",
                )
        return table

    def int(self, key: str, value: Any, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}, got {value!r}")
        return value

    def float(self, key: str, value: Any, minimum: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"expected a number, got {value!r}")
        if not np.isfinite(value):  # TOML has inf and nan
            raise self.fail(key, f"expected a finite number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"expected a number >= {minimum}, got {value!r}")
        return float(value)

    def str(self, key: str, value: Any, choices: tuple[str, ...] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"expected one of {list(choices)}, got {value!r}")
        return value

    def points(self, key: str, value: Any) -> list[list[float]]:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        if (
            arr is None
            or arr.ndim != 2
            or arr.shape[1] != 2
            or not np.isfinite(arr).all()
        ):
            raise self.fail(key, f"expected a list of [x, y] pairs, got {value!r}")
        return arr.tolist()

    def view(self, key: str, value: Any) -> list[list[float]]:
        pts = self.points(key, value)
        if len(pts) != 2 or pts[0][0] >= pts[0][1] or pts[1][0] >= pts[1][1]:
            raise self.fail(
                key, f"expected [[xmin, xmax], [ymin, ymax]], got {value!r}"
            )
        return pts


def _grid_values(check: _Checker, key: str, value: Any) -> list[float]:
    """`[v, ...]`, `{linspace = [a, b, n]}`, `{geomspace = [a, b, n]}`."""
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in ("linspace", "geomspace"):
            raise check.fail(
                key,
                "expected a list of values, {linspace = [start, stop, "
                "n]} or {geomspace = [start, stop, n]}, got "
                f"{value!r}",
            )
        kind, args = next(iter(value.items()))
        if (
            not isinstance(args, list)
            or len(args) != 3
            or not all(isinstance(a, (int, float)) for a in args)
            or isinstance(args[2], bool)
            or not isinstance(args[2], int)
            or args[2] < 1
        ):
            raise check.fail(
                key,
                f"{kind} expects [start, stop, n] with an integer n >= 1, got {args!r}",
            )
        from simulator.sweeps import grid_axis

        try:
            return grid_axis(kind, *args).tolist()
        except ValueError as err:
            raise check.fail(key, str(err)) from None
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        return [float(v) for v in value]
    raise check.fail(key, f"expected a non-empty list of numbers, got {value!r}")


def parse_spec(data: dict[str, Any], source: str = "<spec>") -> SceneSpec:
    """Validates a spec already read from TOML into a `SceneSpec`.

    Raises:
        SpecError: naming `source`, the key and what was expected.
    """
    check = _Checker(source)
    for section in data:
        if section not in _SECTIONS:
            close = difflib.get_close_matches(section, list(_SECTIONS), n=1)
            hint = f" Did you mean [{close[0]}]?" if close else ""
            raise check.fail(f"[{section}]", f"unknown section.{hint}")
    scene = check.keys("scene", data.get("scene", {}), _SECTIONS["scene"])
    kind = check.str("[scene] kind", scene.get("kind", "race"), KINDS)
    surface = (
        check.keys("surface", data.get("surface"), _SECTIONS["surface"])
        if ("surface" in data)
        else None
    )
    if not surface or ("name" in surface) == ("expression" in surface):
        raise check.fail(
            "[surface]",
            'give exactly one of name = "rosenbrock" or expression = "x**2 + 10*y**2"',
        )
    surf: dict[str, Any] = {}
    if "name" in surface:
        surf["name"] = check.str("[surface] name", surface["name"])
    else:
        surf["expression"] = check.str("[surface] expression", surface["expression"])
    if "view" in surface:
        surf["view"] = check.view("[surface] view", surface["view"])
    run = check.keys("run", data.get("run", {}), _SECTIONS["run"])
    spec = SceneSpec(source=source, kind=kind, surface=surf)
    if "steps" in run:
        spec.steps = check.int("[run] steps", run["steps"], 0)
    if "starts" in run:
        spec.starts = check.points("[run] starts", run["starts"])
    if "noise" in run:
        spec.noise = check.float("[run] noise", run["noise"], 0.0)
    if "seed" in run:
        spec.seed = check.int("[run] seed", run["seed"], 0)
    if "dtype" in run:
        spec.dtype = check.str("[run] dtype", run["dtype"], ("float64", "float32"))
    if "record_every" in run:
        spec.record_every = check.int("[run] record_every", run["record_every"], 1)
    if "bound" in run:
        b = run["bound"]
        spec.bound = (
            check.float("[run] bound", b, 0.0)
            if not isinstance(b, list)
            else (check.view("[run] bound", b))
        )
    if "scheduler" in run:
        # Checked when the run starts (`simulator.cluster.connect`): "local:N"
        # or a Dask scheduler address; races run in process.
        spec.scheduler = check.str("[run] scheduler", run["scheduler"])
        if kind == "race":
            raise check.fail(
                "[run] scheduler", "applies to sweep and fate scenes, not races"
            )
    if "title" in scene:
        spec.title = check.str("[scene] title", scene["title"])
    if "out" in scene:
        spec.out = check.str("[scene] out", scene["out"])
    if "formats" in scene:
        fm = scene["formats"]
        if not isinstance(fm, list) or not fm:
            raise check.fail(
                "[scene] formats", f"expected a list such as ['png'], got {fm!r}"
            )
        spec.formats = [check.str("[scene] formats", f, FIGURE_FORMATS) for f in fm]
    opts = data.get("optimizers", [])
    if not isinstance(opts, list):
        raise check.fail("[[optimizers]]", "expected an array of tables [[optimizers]]")
    for i, table in enumerate(opts):
        t = check.keys(f"optimizers[{i}]", table, _SECTIONS["optimizers"])
        if "text" not in t:
            raise check.fail(f"[[optimizers]] #{i + 1}", 'missing text = "Adam(...)"')
        entry = {"text": check.str(f"[[optimizers]] #{i + 1} text", t["text"])}
        if "label" in t:
            entry["label"] = check.str(f"[[optimizers]] #{i + 1} label", t["label"])
        spec.optimizers.append(entry)
    if kind == "race" and not spec.optimizers:
        raise check.fail(
            "[[optimizers]]", "a race needs at least one [[optimizers]] table"
        )
    render = check.keys("render", data.get("render", {}), _SECTIONS["render"])
    spec.render = dict(render)
    for key in ("three_d", "log", "loss_curves", "save_trace"):
        if key in render and not isinstance(render[key], bool):
            raise check.fail(
                f"[render] {key}", f"expected true or false, got {render[key]!r}"
            )
    if "glyphs" in render:
        g = render["glyphs"]
        if not isinstance(g, list):
            raise check.fail("[render] glyphs", f"expected a list, got {g!r}")
        for name in g:
            check.str(
                "[render] glyphs",
                name,
                GLYPH_CHOICES,
            )
    if "glyph_steps" in render:
        gs = render["glyph_steps"]
        if not isinstance(gs, list):
            raise check.fail("[render] glyph_steps", f"expected a list, got {gs!r}")
        for v in gs:
            check.int("[render] glyph_steps", v, 0)
    if "dpi" in render:
        from scenes.output import MAX_DPI

        if check.int("[render] dpi", render["dpi"], 30) > MAX_DPI:
            raise check.fail(
                "[render] dpi", f"expected at most {MAX_DPI}, got {render['dpi']!r}"
            )
    if "size" in render:
        size = render["size"]
        if not (
            isinstance(size, list)
            and len(size) == 2
            and all(isinstance(v, (int, float)) and 1 <= v <= 40 for v in size)
        ):
            raise check.fail(
                "[render] size", f"expected [width, height] in inches, got {size!r}"
            )
    if kind == "sweep":
        sw = check.keys("sweep", data.get("sweep", {}), _SECTIONS["sweep"])
        if "optimizer" not in sw or "grid" not in sw:
            raise check.fail(
                "[sweep]", 'needs optimizer = "SGD" and a [sweep.grid] table'
            )
        grid = sw["grid"]
        if not isinstance(grid, dict) or not grid:
            raise check.fail(
                "[sweep.grid]", f"expected a table name -> values, got {grid!r}"
            )
        fixed = sw.get("fixed", {})
        if not isinstance(fixed, dict):
            raise check.fail(
                "[sweep] fixed",
                f"expected a table such as {{ nesterov = true }}, got {fixed!r}",
            )
        spec.sweep = {
            "optimizer": check.str("[sweep] optimizer", sw["optimizer"]),
            "grid": {
                k: _grid_values(check, f"[sweep.grid] {k}", v) for k, v in grid.items()
            },
            "fixed": dict(fixed),
            "metric": check.str(
                "[sweep] metric",
                sw.get("metric", "final_loss"),
                tuple(SWEEP_METRICS),
            ),
        }
    if "video" in data:
        if kind != "race":
            raise check.fail(
                "[video]", f"only a race scene can be animated, not {kind!r}"
            )
        spec.video = _video(check, data["video"])
    if kind == "fate":
        fa = check.keys("fate", data.get("fate", {}), _SECTIONS["fate"])
        if "optimizer" not in fa:
            raise check.fail("[fate]", 'needs optimizer = "SGD(learning_rate=0.01)"')
        spec.fate = {
            "optimizer": check.str("[fate] optimizer", fa["optimizer"]),
            "resolution": check.int("[fate] resolution", fa.get("resolution", 150), 2),
            "tolerance": check.float(
                "[fate] tolerance", fa.get("tolerance", 1e-3), 0.0
            ),
        }
    _check_runnable(check, spec)
    return spec


def _video(check: _Checker, table: Any) -> dict[str, Any]:
    """The `[video]` table, checked key by key, then as `VideoSettings`."""
    v = dict(check.keys("video", table, _SECTIONS["video"]))
    v["renderer"] = check.str(
        "[video] renderer", v.get("renderer", "matplotlib"), RENDERERS
    )
    if "out" in v:
        v["out"] = check.str("[video] out", v["out"])
    if "frames" in v:
        v["frames"] = check.int("[video] frames", v["frames"], 1)
    for key in ("seconds", "fps"):
        if key in v:
            v[key] = check.float(f"[video] {key}", v[key])
            if not v[key] > 0:
                raise check.fail(
                    f"[video] {key}", f"expected a number > 0, got {v[key]!r}"
                )
    if "size" in v:
        size = v["size"]
        if (
            not isinstance(size, list)
            or len(size) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in size)
        ):
            raise check.fail(
                "[video] size", f"expected [width, height] in pixels, got {size!r}"
            )
    if "panels" in v:
        if not isinstance(v["panels"], list):
            raise check.fail("[video] panels", f"expected a list, got {v['panels']!r}")
        for p in v["panels"]:
            check.str("[video] panels", p, tuple(PANELS))
    if "trail" in v:
        v["trail"] = check.int("[video] trail", v["trail"], 0)
        if v["trail"] == 1:
            raise check.fail(
                "[video] trail", "expected 0 (the whole path) or >= 2, got 1"
            )
    if "easing" in v:
        check.str("[video] easing", v["easing"], ("ease", "uniform"))
    if "glyphs" in v:
        if not isinstance(v["glyphs"], list):
            raise check.fail("[video] glyphs", f"expected a list, got {v['glyphs']!r}")
        for name in v["glyphs"]:
            check.str("[video] glyphs", name, GLYPH_CHOICES)
    if "quality" in v:
        check.str("[video] quality", v["quality"], ("low", "medium", "high", "4k"))
    if "scene" in v:
        from scenes.manim import SCENES

        check.str("[video] scene", v["scene"], tuple(SCENES))
    if v["renderer"] == "matplotlib":
        try:
            settings = video_settings(v)
        except ValueError as err:
            raise check.fail("[video]", str(err)) from None
        if "out" in v:
            from scenes.animate.encode import video_format

            try:
                settings.check_even(video_format(v["out"]))
            except ValueError as err:
                raise check.fail("[video] out", str(err)) from None
    return v


def video_settings(video: dict[str, Any]):
    """`VideoSettings` from a checked `[video]` table."""
    from scenes.animate.race import VideoSettings

    w, h = video.get("size", (1280, 720))
    return VideoSettings(
        frames=video.get("frames"),
        seconds=video.get("seconds"),
        fps=video.get("fps", 30.0),
        size=(w, h),
        panels=tuple(video.get("panels", ())),
        trail=video.get("trail") or None,
        easing=video.get("easing", "ease"),
        dpi=h / 7.2,
    )


def _check_runnable(check: _Checker, spec: SceneSpec) -> None:
    """Builds the surface and optimizers now, so their errors name the key.

    Without this a typo in a value (`fixed = { nesterov = "maybe" }`, a surface
    that is undefined everywhere) surfaced at run time without file or key.
    """
    import surfaces
    from simulator.engine import resolve_optimizer
    from simulator.sweeps import _check_grid, _optimizer_class_and_base

    def attempt(key: str, build):
        try:
            return build()
        except ValueError as err:
            raise check.fail(key, " ".join(str(err).split())) from None

    if "expression" in spec.surface:
        attempt(
            "[surface] expression",
            lambda: surfaces.check_not_degenerate(
                surfaces.from_expression(
                    spec.surface["expression"], view=spec.surface.get("view")
                ),
                spec.surface["expression"],
            ),
        )
    else:
        attempt("[surface] name", lambda: surfaces.get(spec.surface["name"]))
    for i, entry in enumerate(spec.optimizers):
        attempt(
            f"[[optimizers]] #{i + 1} text",
            lambda e=entry: resolve_optimizer(e["text"]),
        )
    if spec.kind == "sweep":
        sw = spec.sweep
        fixed = sw["fixed"]
        if not all(isinstance(v, (bool, int, float, str)) for v in fixed.values()):
            raise check.fail("[sweep] fixed", f"expected name = value, got {fixed!r}")
        cls, base = attempt(
            "[sweep] optimizer", lambda: _optimizer_class_and_base(sw["optimizer"])
        )
        attempt("[sweep.grid]", lambda: _check_grid(sw["grid"], cls))
        attempt("[sweep] fixed", lambda: cls(**{**base, **fixed}))
    if spec.kind == "fate":
        attempt("[fate] optimizer", lambda: resolve_optimizer(spec.fate["optimizer"]))
        if not spec.fate["tolerance"] > 0:
            raise check.fail(
                "[fate] tolerance",
                f"expected a number > 0, got {spec.fate['tolerance']!r}",
            )


def load_spec(path: str | Path) -> SceneSpec:
    """Reads and validates a TOML scene spec.

    Raises:
        SpecError: the file is missing, not valid TOML, or not a valid spec.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise SpecError(f"{path}: cannot read the spec ({err.strerror}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML: {err}") from None
    return parse_spec(data, str(path))
