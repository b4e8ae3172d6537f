"""TraceScene: a Manim scene whose every frame is read from a simulated Race."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any, ClassVar

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    BackgroundRectangle,
    Circle,
    MathTypst,
    Polygon,
    RegularPolygon,
    RoundedRectangle,
    Scene,
    Square,
    Star,
    Text,
    Triangle,
    ValueTracker,
    VGroup,
    VMobject,
)

from scenes.frames import FrameReader, inside_view
from scenes.manim.config import load_style, style_dict
from scenes.manim.reader import ContinuousFrames, clock_rate, ease_progress
from scenes.style import DIVERGED_MARKER, series_style
from simulator import simulate
from simulator.engine import resolve_surface

__all__ = [
    "Arrows",
    "Ellipses",
    "GlyphText",
    "LiveText",
    "Markers",
    "Plane",
    "TraceScene",
    "Trails",
    "card",
    "clip_segments",
    "edge_normals",
    "short_label",
]

STYLE = load_style()
INK = STYLE.ink
FONT = "DejaVu Sans"


# -- geometry --------------------------------------------------------------------


class Plane:
    """Maps data coordinates of `view` onto a box of the scene (vectorised).

    Args:
        view: `((x0, x1), (y0, y1))` in data units.
        center: `(3,)` scene point at the middle of the box.
        width, height: box size in scene units.
    """

    def __init__(self, view, center, width: float, height: float):
        (self.x0, self.x1), (self.y0, self.y1) = view
        self.center = np.asarray(center, dtype=float)
        self.width, self.height = width, height
        self.sx = width / (self.x1 - self.x0)
        self.sy = height / (self.y1 - self.y0)

    def to_scene(self, xy: np.ndarray, margin: float | None = None) -> np.ndarray:
        """`(..., 2)` data -> `(..., 3)` scene; with a `margin`, clamped to the box
        grown by `margin` units (only for marks placed *at* an edge, never for
        a particle: one outside the view is marked, not moved)."""
        xy = np.asarray(xy, dtype=float)
        out = np.zeros((*xy.shape[:-1], 3))
        out[..., 0] = self.center[0] + (xy[..., 0] - (self.x0 + self.x1) / 2) * self.sx
        out[..., 1] = self.center[1] + (xy[..., 1] - (self.y0 + self.y1) / 2) * self.sy
        if margin is not None:
            half = np.array([self.width / 2 + margin, self.height / 2 + margin])
            lo, hi = self.center[:2] - half, self.center[:2] + half
            out[..., :2] = np.clip(out[..., :2], lo, hi)
        return out

    def vector(self, v: np.ndarray) -> np.ndarray:
        """`(..., 2)` data displacement -> `(..., 3)` scene displacement."""
        v = np.asarray(v, dtype=float)
        out = np.zeros((*v.shape[:-1], 3))
        out[..., 0], out[..., 1] = v[..., 0] * self.sx, v[..., 1] * self.sy
        return out

    @property
    def edges(self) -> tuple[float, float, float, float]:
        """Scene left, right, bottom, top of the box."""
        c, w, h = self.center, self.width / 2, self.height / 2
        return c[0] - w, c[0] + w, c[1] - h, c[1] + h


def landscape_image(surface: Any, view, pixels: tuple[int, int]) -> np.ndarray:
    """`(h, w, 4)` uint8 RGBA of the static figures' contours (`draw_contours`).

    The same colour map, log scaling and levels as `plot_race`, drawn full-bleed
    (no axes) by matplotlib's Agg and handed to Manim as an image.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from scenes.figures.landscape import draw_contours

    w, h = pixels
    fig = Figure(figsize=(w / 100, h / 100), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    draw_contours(
        ax, surface, view, resolution=min(600, max(300, w // 2)), colorbar=False
    )
    ax.set_axis_off()
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


@cache
def _marker_template(marker: str) -> np.ndarray:
    """`(k, 3)` Bezier points of a unit-radius marker shape centred at 0."""
    shapes = {
        "o": lambda: Circle(radius=1),
        "s": lambda: Square(side_length=1.6),
        "^": lambda: Triangle().scale_to_fit_height(1.9),
        "D": lambda: Square(side_length=1.45).rotate(np.pi / 4),
        "v": lambda: Triangle().scale_to_fit_height(1.9).rotate(np.pi),
        "P": lambda: Polygon(
            *[
                [a, b, 0]
                for a, b in [
                    (-0.35, 1),
                    (0.35, 1),
                    (0.35, 0.35),
                    (1, 0.35),
                    (1, -0.35),
                    (0.35, -0.35),
                    (0.35, -1),
                    (-0.35, -1),
                    (-0.35, -0.35),
                    (-1, -0.35),
                    (-1, 0.35),
                    (-0.35, 0.35),
                ]
            ]
        ),
        "h": lambda: RegularPolygon(6).scale_to_fit_height(1.9),
        "*": lambda: Star(5, outer_radius=1.2),
        "X": lambda: Polygon(
            *[
                [np.cos(a) * r, np.sin(a) * r, 0]
                for k in range(4)
                for a, r in (
                    (k * np.pi / 2 + np.pi / 4 - 0.32, 1.15),
                    (k * np.pi / 2 + np.pi / 4 + 0.32, 1.15),
                    (k * np.pi / 2 + np.pi / 2, 0.45),
                )
            ]
        ),
    }
    mob = shapes.get(marker, shapes["o"])()
    pts = mob.points.copy()
    return (
        pts - pts.mean(axis=0) * [1, 1, 0] if marker in "^v" else pts - mob.get_center()
    )


# -- vectorised particle groups ----------------------------------------------------


class Markers(VMobject):
    """N copies of one marker shape as ONE VMobject (subpaths), moved by numpy."""

    def __init__(self, marker: str, color: str, radius: float, **kwargs):
        super().__init__(**kwargs)
        self.template = _marker_template(marker) * radius
        self.set_fill(color, opacity=1.0)
        self.set_stroke(INK, width=1.2)

    def place(self, points: np.ndarray, angles: np.ndarray | None = None) -> Markers:
        """Puts one marker at each `(N, 3)` scene point (NaN rows are hidden),
        turned by `(N,)` `angles` (radians, counter-clockwise) if given."""
        ok = np.isfinite(points).all(axis=1)
        points = points[ok]
        shape = np.broadcast_to(self.template, (len(points), *self.template.shape))
        if angles is not None:
            c, s = np.cos(angles[ok]), np.sin(angles[ok])
            x, y = self.template[None, :, 0], self.template[None, :, 1]
            shape = np.stack(
                [c[:, None] * x - s[:, None] * y, s[:, None] * x + c[:, None] * y],
                axis=-1,
            )
            shape = np.concatenate([shape, np.zeros((*shape.shape[:2], 1))], -1)
        self.points = (shape + points[:, None]).reshape(-1, 3)
        return self


class Trails(VMobject):
    """Polylines of all particles of a group as ONE VMobject (one subpath each)."""

    def __init__(self, color: str, width: float, **kwargs):
        super().__init__(**kwargs)
        self.set_stroke(color, width=width, opacity=0.95)
        self.set_fill(opacity=0)

    def place(self, paths: np.ndarray, box=None) -> Trails:
        """`(P, n, 3)` scene points; segments touching a NaN are dropped.

        Points that stay within the same half pixel as the point before are
        dropped first (vectorised): a slow optimizer's hundreds of sub-pixel
        steps cost cairo a curve each and draw nothing.

        Args:
            box: `(left, right, bottom, top)`: segments are cut where they
                leave or re-enter it (a path that left the view ends on its
                edge, where the off-view marker sits); segments with both ends
                outside are dropped.
        """
        points, _ = trail_segments(paths, box)
        self.points = points
        return self


def place_trails(trails: Sequence[Trails], paths: Sequence[np.ndarray], box=None):
    """`Trails.place` of several trails at once: ONE numpy pass over all paths.

    Args:
        trails: the trails (one colour each).
        paths: per trail `(P_k, n, 3)` scene points, the same `n` for all.
        box: as in `Trails.place`.
    """
    sizes = np.array([len(p) for p in paths])
    points, owner = trail_segments(np.concatenate(paths), box)
    # Segments come out grouped by particle, so by trail: split at the bounds.
    bounds = np.searchsorted(owner, np.cumsum(sizes)[:-1]) * 4
    for trail, pts in zip(trails, np.split(points, bounds), strict=True):
        trail.points = pts


def trail_segments(paths: np.ndarray, box=None) -> tuple[np.ndarray, np.ndarray]:
    """`(P, n, 3)` polylines -> `(4 M, 3)` Bezier points of M straight segments
    and `(M,)` the particle each belongs to (see `Trails.place`)."""
    from manim import config

    P, n = paths.shape[:2]
    half_px = 2 * config.pixel_height / config.frame_height
    cell = np.round(paths[..., :2] * half_px)
    keep = np.ones((P, n), bool)
    with np.errstate(invalid="ignore"):
        keep[:, 1:] = np.any(cell[:, 1:] != cell[:, :-1], axis=-1)
    keep[:, -1] = True  # the head is always drawn where it is
    owner = np.broadcast_to(np.arange(P)[:, None], (P, n))[keep]
    pts = paths[keep]
    a, b = pts[:-1], pts[1:]
    ok = (owner[:-1] == owner[1:]) & np.isfinite(a).all(-1) & np.isfinite(b).all(-1)
    a, b, owner = a[ok], b[ok], owner[:-1][ok]
    if box is not None and len(a):
        left, right, bottom, top = box

        def outside(q):
            x, y = q[:, 0], q[:, 1]
            return (x < left) | (x > right) | (y < bottom) | (y > top)

        a_out, b_out = outside(a), outside(b)
        # Both ends outside: the particle is away (marked where it left); the
        # straight line between two far points (possibly pulled in by
        # `frames.drawable`) is no path through the view.
        away = a_out & b_out
        a, b, owner = a[~away], b[~away], owner[~away]
        out = (a_out | b_out)[~away]
        if out.any():  # cut the segments that leave or re-enter, in place
            ca, cb, kept = clip_segments(a[out], b[out], box)
            idx = np.flatnonzero(out)
            a, b = a.copy(), b.copy()
            a[idx[kept]], b[idx[kept]] = ca, cb
            keep = np.ones(len(a), bool)
            keep[idx[~kept]] = False
            a, b, owner = a[keep], b[keep], owner[keep]
    # Straight segments as cubic Beziers (a, a + d/3, a + 2d/3, b).
    d = b - a
    points = np.stack([a, a + d / 3, a + 2 * d / 3, b], axis=1).reshape(-1, 3)
    return points, owner


def clip_segments(a: np.ndarray, b: np.ndarray, box):
    """`(N, 3)` segments cut to the box `(left, right, bottom, top)`
    (Liang-Barsky, vectorised): `(a', b', kept)`, segments wholly outside
    dropped (`kept`: `(N,)` bool)."""
    left, right, bottom, top = box
    d = b - a
    p = np.stack([-d[:, 0], d[:, 0], -d[:, 1], d[:, 1]], axis=1)
    q = np.stack([a[:, 0] - left, right - a[:, 0], a[:, 1] - bottom, top - a[:, 1]], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = q / p
    t0 = np.max(np.where(p < 0, r, 0.0), axis=1, initial=0.0)
    t1 = np.min(np.where(p > 0, r, 1.0), axis=1, initial=1.0)
    keep = (t0 <= t1) & ~((p == 0) & (q < 0)).any(axis=1)
    a, d, t0, t1 = a[keep], d[keep], t0[keep, None], t1[keep, None]
    return a + t0 * d, a + t1 * d, keep


def edge_normals(points: np.ndarray, box) -> np.ndarray:
    """`(N, 3)` outward unit normals of the box edge nearest each `(N, 3)` point."""
    left, right, bottom, top = box
    x, y = points[:, 0], points[:, 1]
    nearest = np.argmin(np.stack([x - left, right - x, y - bottom, top - y], 1), 1)
    normals = np.array([[-1.0, 0, 0], [1.0, 0, 0], [0, -1.0, 0], [0, 1.0, 0]])
    return normals[nearest]


def _overlap(a, b) -> bool:
    """The bounding boxes of two mobjects intersect."""
    return bool(
        a.get_left()[0] < b.get_right()[0]
        and b.get_left()[0] < a.get_right()[0]
        and a.get_bottom()[1] < b.get_top()[1]
        and b.get_bottom()[1] < a.get_top()[1]
    )


class Arrows(VGroup):
    """N arrows (shaft strokes + filled heads) as two VMobjects, set by numpy."""

    def __init__(self, color: str, width: float = 4.0, head: float = 0.14, **kwargs):
        self.shafts = VMobject().set_stroke(color, width=width).set_fill(opacity=0)
        self.heads = VMobject().set_fill(color, opacity=1).set_stroke(color, width=0.5)
        self.head = head
        super().__init__(self.shafts, self.heads, **kwargs)

    def place(self, starts: np.ndarray, vectors: np.ndarray) -> Arrows:
        """Arrows from `(N, 3)` starts along `(N, 3)` vectors (NaN rows hidden)."""
        ok = np.isfinite(starts).all(1) & np.isfinite(vectors).all(1)
        s, v = starts[ok], vectors[ok]
        length = np.linalg.norm(v, axis=1, keepdims=True)
        keep = length[:, 0] > 1e-6
        s, v, length = s[keep], v[keep], length[keep]
        u = v / np.maximum(length, 1e-12)
        n = np.stack([-u[:, 1], u[:, 0], np.zeros(len(u))], axis=1)
        h = np.minimum(self.head, 0.45 * length)
        tip = s + v
        base = tip - u * h
        d = base - s
        self.shafts.points = np.stack(
            [s, s + d / 3, s + 2 * d / 3, base], axis=1
        ).reshape(-1, 3)
        corners = [tip, base + n * h * 0.6, base - n * h * 0.6, tip]
        edges = [(corners[i], corners[i + 1]) for i in range(3)]
        self.heads.points = (
            np.stack(
                [
                    np.stack([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b], 1)
                    for a, b in edges
                ],
                axis=1,
            ).reshape(-1, 3)
            if len(s)
            else np.zeros((0, 3))
        )
        return self


class Ellipses(VMobject):
    """N axis-aligned ellipses as ONE VMobject: semi-axes per particle, by numpy."""

    def __init__(self, color: str, width: float = 3.5, **kwargs):
        super().__init__(**kwargs)
        self.template = Circle(radius=1).points
        self.set_stroke(color, width=width).set_fill(color, opacity=0.25)

    def place(self, centers: np.ndarray, axes: np.ndarray) -> Ellipses:
        """`(N, 3)` centres, `(N, 3)` semi-axes (x, y); NaN rows hidden."""
        ok = np.isfinite(centers).all(1) & np.isfinite(axes).all(1)
        c, a = centers[ok], axes[ok]
        self.points = (self.template[None] * a[:, None] + c[:, None]).reshape(-1, 3)
        return self


class LiveText(VGroup):
    """A text that an updater changes: rebuilt only when the string changes."""

    def __init__(
        self,
        text: str = "",
        font_size: float = 22,
        color: str = INK,
        max_width: float | None = None,
        **kw,
    ):
        super().__init__()
        self.font_size, self.color_, self.kw = font_size, color, kw
        self.max_width = max_width
        self.text = None
        self.anchor: tuple[np.ndarray, np.ndarray] | None = None
        self.set_text(text)

    def pin(self, point: np.ndarray, edge: np.ndarray = LEFT) -> LiveText:
        """Keeps `edge` of the text at `point` whenever it changes."""
        self.anchor = (np.asarray(point, dtype=float), edge)
        self._place()
        return self

    def _place(self):
        if self.anchor is not None and self.submobjects:
            point, edge = self.anchor
            self.submobjects[0].move_to(point, aligned_edge=edge)

    def set_text(self, text: str) -> LiveText:
        if text != self.text:
            self.text = text
            mob = Text(
                text, font=FONT, font_size=self.font_size, color=self.color_, **self.kw
            )
            if self.max_width and mob.width > self.max_width:
                mob.scale_to_fit_width(self.max_width)
            # `become` keeps the child's identity: animations (FadeIn) and the
            # scene hold references to it, a replaced child would linger as a ghost.
            if self.submobjects:
                self.submobjects[0].become(mob)
            else:
                self.add(mob)
            self._place()
        return self


MONO = "DejaVu Sans Mono"


@lru_cache(maxsize=16)
def _glyph_atlas(size: float, color: str) -> tuple[dict, float]:
    """Per-character glyphs of a monospace font, with their offset in a cell.

    Pango is typeset once (one `Text` of every character); strings are then
    composed from copies of these glyphs, about 1 ms instead of 90 ms per new
    `Text` (the SVG round trip), which matters for a number that changes every
    frame.
    """
    chars = (
        "0123456789.,:;=+-−/()[]%|<>ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "abcdefghijklmnopqrstuvwxyzμηαβρεθ·"
    )
    t = Text(chars, font=MONO, font_size=size, color=color)
    advance = (
        Text("0" * 21, font=MONO, font_size=size).width
        - Text("0", font=MONO, font_size=size).width
    ) / 20
    ref = t.submobjects[0].get_center()
    atlas = {}
    for k, (c, glyph) in enumerate(zip(chars, t.submobjects, strict=True)):
        atlas[c] = (glyph, glyph.get_center() - ref - [k * advance, 0, 0])
    return atlas, advance


class GlyphText(VMobject):
    """Monospace text as ONE VMobject composed from a glyph atlas (numpy only).

    Each character's outline is a subpath shifted into its cell; font outlines
    wind holes the other way, so cairo's winding fill keeps the counters of
    "0", "8" or "e". Cheap enough to change every frame.
    """

    def __init__(self, text: str = "", font_size: float = 22, color: str = INK):
        super().__init__()
        self.atlas, self.advance = _glyph_atlas(font_size, color)
        self.set_fill(color, opacity=1.0).set_stroke(width=0)
        self.point = np.zeros(3)
        self.text = None
        self._last = text
        self.set_text(text)

    def pin(self, point: np.ndarray, edge: np.ndarray = LEFT) -> GlyphText:
        """Puts the first character's cell at `point` (left-aligned only)."""
        del edge
        self.point = np.asarray(point, dtype=float)
        self.text = None
        return self.set_text(self._last)

    def set_text(self, text: str) -> GlyphText:
        self._last = text
        if text == self.text:
            return self
        self.text = text
        parts = [
            self.atlas[c][0].points
            + (
                self.point
                + self.atlas[c][1]
                + [i * self.advance, 0, 0]
                - self.atlas[c][0].get_center()
            )
            for i, c in enumerate(text)
            if c in self.atlas
        ]
        self.points = np.concatenate(parts) if parts else np.zeros((0, 3))
        return self


def text(s: str, size: float = 22, color: str = INK, **kw) -> Text:
    """Pango text in the scenes' font and ink."""
    return Text(s, font=FONT, font_size=size, color=color, **kw)


def card(lines: Sequence[str], size: float = 17) -> VGroup:
    """A closing card: the lines left-aligned on a rounded, nearly opaque box."""
    body = VGroup(*[text(s, size) for s in lines]).arrange(
        DOWN, aligned_edge=LEFT, buff=0.1
    )
    box = (
        RoundedRectangle(
            corner_radius=0.1, width=body.width + 0.5, height=body.height + 0.4
        )
        .set_fill("#FFFFFF", 0.94)
        .set_stroke(INK, 1)
    )
    return VGroup(box, body.move_to(box))


def math(src: str, size: float = 30, color: str = INK) -> MathTypst:
    """Typst math (labels `{{ ... : name }}` select terms to highlight)."""
    return MathTypst(src, font_size=size, color=color)


def fmt(x: float) -> str:
    """A number for captions: 3 significant digits, no exponent below 1e4."""
    if not np.isfinite(x):
        return "inf" if x > 0 else ("nan" if np.isnan(x) else "-inf")
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 or x == 0 else f"{x:.2e}"


def short_label(keras_text: str) -> str:
    """Keras text as a legend label.

    `SGD(learning_rate=0.001, momentum=0.9, nesterov=True)` ->
    `SGD lr=0.001 μ=0.9 Nesterov`.
    """
    name, _, args = keras_text.partition("(")
    words = [name]
    for arg in filter(None, (a.strip() for a in args.rstrip(")").split(","))):
        key, _, value = arg.partition("=")
        key = key.strip()
        if value.strip() == "True":
            words.append(key.capitalize() if key == "nesterov" else key)
            continue
        key = {"learning_rate": "lr", "momentum": "μ", "weight_decay": "wd"}.get(
            key, key
        )
        words.append(f"{key}={value.strip()}")
    return re.sub(r"\s+", " ", " ".join(words))


# -- the base scene ----------------------------------------------------------------


class TraceScene(Scene):
    """A scene driven by ONE `ValueTracker` over the rows of a simulated race.

    Subclasses (or a spec, through `TraceScene.configured`) set the class
    attributes; `setup` simulates the race, `construct` animates it. Every
    group of particles (one optimizer) has exactly one updater that reads its
    frame from `TraceFrames` at the tracker's row.

    Attributes:
        surface: surface name, expression text or `Surface`.
        optimizers: Keras-style texts, one per group.
        labels: legend labels (default: the texts).
        starts: `(N, 2)` start points shared by every optimizer.
        steps: optimizer steps simulated.
        seconds: seconds of motion (beats and cards come on top).
        view: `((x0, x1), (y0, y1))` shown (default: the surface's).
        noise, seed: gradient noise and its seed.
        description: one line for `optiscape video --list`.
    """

    surface: ClassVar[Any] = "rosenbrock"
    optimizers: ClassVar[Sequence[str]] = ("SGD(learning_rate=0.001)",)
    labels: ClassVar[Sequence[str] | None] = None
    starts: ClassVar[Any] = ((-1.2, 1.0),)
    steps: ClassVar[int] = 200
    seconds: ClassVar[float] = 10.0
    view: ClassVar[Any] = None
    noise: ClassVar[float] = 0.0
    seed: ClassVar[int] = 0
    description: ClassVar[str] = ""
    #: Attributes a spec may override (and that the configuration records).
    PARAMETERS: ClassVar[tuple[str, ...]] = (
        "surface",
        "optimizers",
        "labels",
        "starts",
        "steps",
        "seconds",
        "view",
        "noise",
        "seed",
    )
    #: Largest landscape box (scene units); the box keeps the view's aspect.
    MAX_BOX: ClassVar[tuple[float, float]] = (8.0, 7.4)

    @classmethod
    def configured(cls, **overrides: Any) -> type[TraceScene]:
        """A subclass with `overrides` for `PARAMETERS` (how specs drive scenes)."""
        unknown = sorted(set(overrides) - set(cls.PARAMETERS))
        if unknown:
            raise ValueError(
                f"`{unknown[0]}` is not a parameter of {cls.__name__} "
                f"(allowed: {', '.join(cls.PARAMETERS)}). Received: {unknown[0]}="
                f"{overrides[unknown[0]]!r}"
            )
        if "seconds" in overrides and not (
            isinstance(overrides["seconds"], (int, float))
            and 1 <= overrides["seconds"] <= 600
        ):
            raise ValueError(
                "`seconds` must be a number in [1, 600]. "
                f"Received: seconds={overrides['seconds']!r}"
            )
        return type(cls.__name__, (cls,), dict(overrides))

    @classmethod
    def scene_config(cls) -> dict[str, Any]:
        """The scene's full configuration (JSON-able), as stored with the video."""
        cfg = {"scene": cls.__name__}
        for name in cls.PARAMETERS:
            value = getattr(cls, name)
            cfg[name] = value.to_config() if hasattr(value, "to_config") else value
        cfg["style"] = style_dict(STYLE)
        return cfg

    # -- setup ---------------------------------------------------------------------

    def simulate(self):
        """The race this scene shows (override for other runs)."""
        surface = resolve_surface(self.surface)
        if self.view is not None:
            from dataclasses import replace

            surface = replace(surface, view=tuple(map(tuple, self.view)))
        return simulate(
            surface,
            list(self.optimizers),
            self.starts,
            self.steps,
            labels=None if self.labels is None else list(self.labels),
            noise=self.noise,
            seed=self.seed,
        )

    #: Glyphs the scene draws (read through the FrameReader, one scale per run).
    glyphs: ClassVar[tuple[str, ...]] = ()
    #: Pace of the motion: FrameClock's `"ease"` or `"uniform"`.
    easing: ClassVar[str] = "ease"

    def read(self) -> FrameReader:
        """The frame reader every frame is drawn from: of `simulate()`'s race
        (kept as `self.race`) by default."""
        self.race = self.simulate()
        return FrameReader(self.race, glyphs=self.glyphs, max_particles=1000)

    def setup(self):
        self._apply_cfg_background()
        self.reader = self.read()
        self.frames = ContinuousFrames(self.reader)
        self.rows = self.reader.n_rows
        self.progress = ease_progress(self.reader, self.easing)
        self.tracker = ValueTracker(0.0)
        (x0, x1), (y0, y1) = self.reader.view
        k = min(self.MAX_BOX[0] / (x1 - x0), self.MAX_BOX[1] / (y1 - y0))
        w, h = (x1 - x0) * k, (y1 - y0) * k
        # Left-aligned, top-aligned: wide views leave room below for the math.
        self.plane = Plane(self.reader.view, (-6.85 + w / 2, 3.75 - h / 2, 0), w, h)
        self.groups: list[VGroup] = []

    # -- drawing -------------------------------------------------------------------

    def _apply_cfg_background(self) -> None:
        """`manim file.py Scene` without `--config_file` reads no manim.cfg of ours:
        Manim's black default would hide the dark ink, so our background applies
        unless one was asked for."""
        from manim import config

        from scenes.manim.config import manim_config

        ours = manim_config("low", ".", "x").get("background_color")
        if ours and str(config.background_color).upper() in ("#000000", "BLACK"):
            self.camera.background_color = ours
            self.camera.init_background()
            self.camera.reset()

    #: Trail rows older than this many rows are painted into the background.
    BAKE_ROWS: ClassVar[int] = 16

    def bake(self, mob: VMobject) -> None:
        """Paints `mob` once into the frame every later frame starts from.

        A trail's settled part never changes: cairo strokes it once into the
        camera background (and into the current play's static image, which
        Manim copies each frame), instead of re-stroking the whole path every
        frame. Frames look the same; the cost per frame stops growing with the
        trail. Only for what lies under every moving mobject.
        """
        cam = self.camera
        targets = [cam.background]
        static = getattr(self.renderer, "static_image", None)
        if static is not None:
            targets.append(static)
        for pixels in targets:
            ctx = cam.get_cairo_context(pixels)
            cam.display_vectorized(mob, ctx)
            # Do not keep a context per static image (one per play).
            cam.pixel_array_to_cairo_context.pop(id(pixels), None)

    def paint_landscape(self) -> None:
        """Bakes the surface, as a high-resolution image, into the camera background.

        The landscape never moves, so it is painted once into the background
        every frame starts from (no per-frame image transform). Manim 0.22's
        `ImageMobject` display also fails on Pillow >= 11 (it builds an RGBA image
        from a 2-D float array), so the background is the robust path too.
        """
        from manim import config
        from PIL import Image

        cam = self.camera
        ppu = cam.pixel_height / config.frame_height
        l, r, b, t = self.plane.edges
        x0 = round((l + config.frame_width / 2) * ppu)
        y0 = round((config.frame_height / 2 - t) * ppu)
        w, h = round((r - l) * ppu), round((t - b) * ppu)
        k = STYLE.landscape_oversample
        big = landscape_image(
            self.reader.surface, self.reader.view, (int(w * k), int(h * k))
        )
        img = np.asarray(Image.fromarray(big).resize((w, h), Image.Resampling.LANCZOS))
        background = cam.background.copy()
        H, W = background.shape[:2]
        ys, xs = slice(max(y0, 0), min(y0 + h, H)), slice(max(x0, 0), min(x0 + w, W))
        background[ys, xs] = img[
            ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0
        ]
        cam.set_background(background)
        cam.reset()

    def minima(self) -> VGroup:
        """White stars with black edges at the surface's known minima (in view)."""
        mins = [m.xy for m in self.reader.surface.minima]
        star = Markers("*", "#FFFFFF", STYLE.marker_radius * 1.4)
        pts = self.plane.to_scene(np.array(mins).reshape(-1, 2), margin=None)
        l, r, b, t = self.plane.edges
        inside = (
            (pts[:, 0] >= l) & (pts[:, 0] <= r) & (pts[:, 1] >= b) & (pts[:, 1] <= t)
        )
        return star.place(pts[inside])

    def particles(
        self,
        indices: Sequence[int] | None = None,
        *,
        trails: bool = True,
        styles: Sequence[int | None] | None = None,
    ) -> VGroup:
        """Markers, trails and marks of traces `indices` (default all): ONE updater.

        Cairo draws one colour per VMobject, so each trace has one trail and
        one marker VMobject (all its particles as subpaths); all divergence
        crosses are one more. Everything is read from the frame reader:

        - a particle outside the view is not drawn at the edge: its trail is
          cut where it left, and a triangle of its colour points out of the
          view there, labelled "left the view at step N";
        - a diverged particle is an X where it was last seen in the view,
          labelled with the step and the reason.

        At most `NOTES` labels at a time (the earliest); the marks themselves
        are always drawn. Labels are `GlyphText` (one VMobject each, built
        from numpy): a Pango `Text` is a VMobject per letter, redrawn every
        frame above the moving layer, and 90 ms to build. The layer's parts
        are its attributes `trails`, `dots`, `offs` (lists per trace),
        `crosses` and `notes`.
        """
        fr, reader, plane = self.frames, self.reader, self.plane
        indices = list(range(len(reader.series))) if indices is None else list(indices)
        styles = [None] * len(indices) if styles is None else list(styles)
        sts = [
            series_style(reader.series[i].index if st is None else st)
            for i, st in zip(indices, styles, strict=True)
        ]
        box, view = plane.edges, reader.view
        width, radius = STYLE.trail_width, STYLE.marker_radius
        lines = [Trails(st["color"], width) for st in sts]
        dots = [Markers(st["marker"], st["color"], radius) for st in sts]
        offs = [Markers("^", st["color"], radius * 1.25) for st in sts]
        crosses = Markers("X", DIVERGED_MARKER["c"], radius * 1.3)
        notes = VGroup()
        layer = VGroup(*lines, *dots, *offs, crosses, notes)
        layer.trails, layer.dots, layer.offs = lines, dots, offs
        layer.crosses, layer.notes = crosses, notes
        # Diverged: the X at the reader's exit point, pulled inside the box.
        exits = [
            plane.to_scene(reader.series[i].exit_xy, margin=-0.25) for i in indices
        ]
        settled = [Trails(st["color"], width) for st in sts]
        state = {"baked": 0, "notes": None}

        def scene_paths(path: np.ndarray) -> np.ndarray:
            return plane.to_scene(np.swapaxes(path, 0, 1), None)

        def update(g):
            t = self.tracker.get_value()
            row = fr.row(t)
            # All traces in one numpy pass, cut back per trace (per colour).
            head = fr.at_many(indices, t)
            if trails:
                start = state["baked"]
                if row - start >= self.BAKE_ROWS:
                    done = fr.trail_many(indices, row, start, head)[:-1]
                    place_trails(settled, fr.split(indices, scene_paths(done)), box)
                    for mob in settled:
                        self.bake(mob)
                    state["baked"] = start = row
                live = scene_paths(fr.trail_many(indices, t, start, head))
                place_trails(lines, fr.split(indices, live), box)
            inside = inside_view(head, view)
            away = np.isfinite(head).all(-1) & ~inside
            shown = fr.split(indices, np.where(inside[:, None], head, np.nan))
            away = fr.split(indices, away)
            marks = []  # (kind order, step, trace slot, particle, scene point)
            gone_at = []
            for k, i in enumerate(indices):
                dots[k].place(plane.to_scene(shown[k], None))
                out = np.flatnonzero(away[k])
                if out.size:
                    left, steps = fr.left_view(i, t)
                    at = plane.to_scene(left[out], None)
                    normal = edge_normals(at, box)
                    offs[k].place(
                        at - normal * radius * 1.4,
                        np.arctan2(normal[:, 1], normal[:, 0]) - np.pi / 2,
                    )
                    marks += [
                        (1, int(steps[p]), k, int(p), at[j]) for j, p in enumerate(out)
                    ]
                elif len(offs[k].points):
                    offs[k].points = np.zeros((0, 3))
                gone = np.flatnonzero(fr.gone(i, t))
                if gone.size:
                    gone_at.append(exits[k][gone])
                    se = reader.series[i]
                    marks += [
                        (0, int(se.diverged_step[p]), k, int(p), exits[k][p])
                        for p in gone
                    ]
            crosses.place(np.concatenate(gone_at) if gone_at else np.zeros((0, 3)))
            shown = sorted(marks, key=lambda m: m[:4])[: self.NOTES]
            key = [m[:4] for m in shown]
            if key != state["notes"]:
                state["notes"] = key
                self._label_marks(notes, shown, indices)

        layer.add_updater(update)
        update(layer)
        self.groups.append(layer)
        return layer

    #: Labels of divergence / off-view marks shown at a time (per layer).
    NOTES: ClassVar[int] = 3

    def _label_marks(self, notes: VGroup, marks: list, indices: list[int]) -> None:
        """Rebuilds the labels of `marks` `(kind, step, slot, particle, point)`:
        next to the mark, towards the inside, kept in the box, not overlapping."""
        notes.remove(*notes.submobjects)
        l, r, b, t = self.plane.edges
        for kind, step, k, p, at in marks:
            se = self.reader.series[indices[k]]
            name = short_label(se.label)
            if kind == 0:
                reason = se.diverged_reason[p]
                reason = reason.replace("nonfinite_", "non-finite ").replace("_", " ")
                lab = GlyphText(
                    f"{name} diverged at step {step}: {reason}",
                    14,
                    DIVERGED_MARKER["c"],
                )
            else:
                lab = GlyphText(f"{name} left the view at step {step}", 14)
            # The glyphs are the GlyphText's own points: a background added as
            # its submobject would be drawn over them.
            back = BackgroundRectangle(lab, color="#FFFFFF", fill_opacity=0.85)
            lab = VGroup(back.stretch_to_fit_width(lab.width + 0.08), lab)
            normal = edge_normals(at[None], (l, r, b, t))[0]
            lab.next_to(at, -normal if normal.any() else DOWN, buff=0.2)
            # Stack towards the inside instead of overlapping an earlier label.
            away = -normal if normal[1] else (DOWN if at[1] > (b + t) / 2 else UP)
            for other in notes.submobjects:
                if _overlap(lab, other):
                    lab.next_to(other, away, buff=0.05)
            dx = max(0.0, l + 0.05 - lab.get_left()[0]) - max(
                0.0, lab.get_right()[0] - (r - 0.05)
            )
            dy = max(0.0, b + 0.05 - lab.get_bottom()[1]) - max(
                0.0, lab.get_top()[1] - (t - 0.05)
            )
            lab.shift([dx, dy, 0])
            notes.add(lab)

    def group(
        self, index: int, *, trails: bool = True, style: int | None = None
    ) -> VGroup:
        """`particles([index])`: one trace's layer (its own style if `style`)."""
        return self.particles([index], trails=trails, styles=[style])

    def in_view(self, xy: np.ndarray) -> np.ndarray:
        """`(..., 2)` data points, NaN where outside the view (never clamped
        to its edge: a point that left is marked, see `particles`)."""
        return np.where(inside_view(xy, self.reader.view)[..., None], xy, np.nan)

    def legend(self, entries: Sequence[tuple[int, str]], size: float = 17) -> VGroup:
        """Marker + label rows for `(style index, label)` pairs."""
        rows = VGroup()
        for i, label in entries:
            st = series_style(i)
            mark = Markers(st["marker"], st["color"], STYLE.marker_radius).place(
                np.zeros((1, 3))
            )
            line = VMobject().set_points_as_corners([LEFT * 0.5, RIGHT * 0.5 * 0])
            line.set_stroke(st["color"], width=STYLE.trail_width)
            row = VGroup(VGroup(line, mark), text(label, size)).arrange(
                RIGHT, buff=0.15
            )
            rows.add(row)
        return rows.arrange(DOWN, aligned_edge=LEFT, buff=0.12)

    def step_counter(self, point: np.ndarray, size: float = 22) -> LiveText:
        """`step N / steps`, read from the tracker."""
        fr = self.frames
        total = int(self.reader.steps[-1])
        live = GlyphText(f"step 0 / {total}", size).pin(point)
        live.add_updater(
            lambda m: m.set_text(f"step {fr.step(self.tracker.get_value())} / {total}")
        )
        return live

    @property
    def panel_left(self) -> float:
        """Scene x where the text panel right of the landscape starts."""
        return self.plane.edges[1] + 0.4

    def panel(self, *mobs, top: float = 3.7, buff: float = 0.25) -> VGroup:
        """Stacks `mobs` down the right panel (added), each scaled to fit its width."""
        from manim import config

        width = config.frame_width / 2 - 0.2 - self.panel_left
        group = VGroup(*mobs)
        for m in mobs:
            if m.width > width:
                m.scale_to_fit_width(width)
        group.arrange(DOWN, aligned_edge=LEFT, buff=buff)
        group.move_to([self.panel_left, top, 0], aligned_edge=UP + LEFT)
        self.static(group)
        return group

    def static(self, *mobs):
        """Adds `mobs` underneath everything that moves.

        Manim redraws every mobject that comes after the first moving one in
        the scene's list on every frame; below them, they are painted once per
        `play` into the static image (text is the costly part of a frame).
        """
        self.add(*mobs)
        self.bring_to_back(*mobs)
        return mobs[0] if len(mobs) == 1 else mobs

    def highlight(self, eq: MathTypst, label: str, color: str, seconds: float = 0.5):
        """Colours the term `label` of `eq` (a glyph of that colour explains it)."""
        from manim import Indicate

        part = eq.select(label)
        self.play(part.animate.set_color(color), run_time=seconds)
        self.play(Indicate(part, color=color, scale_factor=1.15), run_time=seconds)

    # -- timing --------------------------------------------------------------------

    def row_of_step(self, step: int) -> int:
        """The recorded row of optimizer `step` (the first row at or after it)."""
        return int(np.clip(np.searchsorted(self.reader.steps, step), 0, self.rows - 1))

    def advance(self, row: float, seconds: float | None = None, *extra) -> None:
        """Moves the tracker to `row` (updaters draw every frame).

        Args:
            row: target row.
            seconds: duration; default the segment's share of `self.seconds`
                at the scene's pace (eased or uniform).
            extra: animations played alongside.
        """
        row = float(np.clip(row, 0, self.rows - 1))
        now = self.tracker.get_value()
        rate, share = clock_rate(self.progress, now, row)
        seconds = self.seconds * share if seconds is None else seconds
        if seconds < 1 / 30 or row == now:
            self.tracker.set_value(row)
            return
        self.play(
            self.tracker.animate.set_value(row),
            *extra,
            run_time=seconds,
            rate_func=rate,
        )

    def hold(self, seconds: float) -> None:
        """A beat: the tracker stays, so the updaters are paused and Manim
        repeats one frame instead of redrawing every mobject `seconds * fps`
        times."""
        movers = [m for m in self.mobjects if m.get_family_updaters()]
        for m in movers:
            m.suspend_updating()
        self.wait(seconds)
        for m in movers:
            m.resume_updating()
