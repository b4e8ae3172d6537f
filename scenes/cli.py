"""The `optiscape` command line (list, plot, sweep, fate, moons, run, render, ...)."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from scenes.vocab import (
    FIGURE_FORMATS,
    GLYPH_CHOICES,
    PANELS,
    SWEEP_METRICS,
    VIDEO_FORMATS,
)

__all__ = ["main"]

EXAMPLES = {
    "list": "optiscape list\n  optiscape list optimizers",
    "plot": (
        "optiscape plot --surface rosenbrock \\\n"
        '      --optimizer "Adam(learning_rate=0.05)" \\\n'
        '      --optimizer "SGD(learning_rate=0.001, momentum=0.9, nesterov=True)" \\\n'
        "      --steps 200 --out race.png\n"
        '  optiscape plot --surface "x**2 + 10*y**2" \\\n'
        '      --optimizer "SGD(0.05, momentum=0.9)" \\\n'
        "      --start -2,1 --glyph velocity --3d --out bowl.svg"
    ),
    "sweep": (
        "optiscape sweep --surface rosenbrock --optimizer SGD \\\n"
        "      --grid learning_rate=geomspace:1e-5:3e-3:32 \\\n"
        "      --grid momentum=linspace:0:0.99:32 --steps 500 --out sweep.png"
    ),
    "fate": (
        'optiscape fate --surface himmelblau --optimizer "SGD(learning_rate=0.01, '
        'momentum=0.9)" \\\n      --steps 300 --resolution 200 --out fate.png'
    ),
    "moons": (
        "optiscape moons --seeds 3 --out out/moons\n"
        "  optiscape moons --animate moons.mp4 --seconds 12 --boundary Adam"
    ),
    "study": (
        "optiscape study --optimizer SGD --optimizer Adam --optimizer Lion \\\n"
        "      --lr geomspace:1e-4:1:13 --seeds 3 --epochs 100 \\\n"
        "      --scheduler local:2 --results-dir out/study-chunks --out study.png"
    ),
    "run": (
        'optiscape run --surface saddle --optimizer "Adam(0.1)" \\\n'
        '      --optimizer "Lion(0.01)" --steps 100 --out saddle.npz'
    ),
    "render": "optiscape render examples/valley.toml --out valley.png",
    "animate": (
        "optiscape animate --surface rosenbrock \\\n"
        '      --optimizer "Adam(learning_rate=0.1)" \\\n'
        '      --optimizer "SGD(learning_rate=0.001, momentum=0.9)" \\\n'
        "      --steps 240 --frames 120 --fps 30 --size 1280x720 \\\n"
        "      --panels loss --out race.mp4"
    ),
    "gallery": "optiscape gallery --out out",
    "video": (
        "optiscape video --scene NesterovLookahead --quality low --out nesterov.mp4"
    ),
    "compare": (
        "optiscape compare --optimizer Adam --flavours keras,torch,optax,textbook \\\n"
        "      --surface rosenbrock --learning-rate 0.05 --out adam_flavours.png\n"
        '  optiscape compare --optimizer "RMSprop(momentum=0.5)" --same-args \\\n'
        "      --flavours keras,torch,optax --surface himmelblau --out rms.png\n"
        '  optiscape compare --optimizer "RMSprop(learning_rate=0.01)" \\\n'
        "      --flavours keras,torch,textbook --surface himmelblau --steps 300 \\\n"
        "      --seconds 10 --animate rms_flavours.mp4"
    ),
    "explore": (
        "optiscape explore --surface rosenbrock\n"
        '  optiscape explore --optimizer "Adam(learning_rate=0.05)" \\\n'
        "      --browser --port 8988"
    ),
}


class UsageError(ValueError):
    """A bad command-line value (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `optiscape plot: error: ... (see --help)`."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="optiscape",
        description="See how Keras 3 optimizers move: exact update rules on 2D "
        "surfaces and on the moons MLP.",
        epilog="Every subcommand has --help with a worked example.",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # SUPPRESS: the sub-parser must not reset a --quiet given before COMMAND.
        p.add_argument(
            "--quiet",
            "-q",
            action="store_true",
            default=argparse.SUPPRESS,
            help="no progress bars",
        )
        p.add_argument(
            "--force",
            action="store_true",
            default=argparse.SUPPRESS,
            help="overwrite files this tool did not write",
        )
        return p

    p = add("list", "List surfaces and optimizers (with their Keras defaults).")
    p.add_argument(
        "what",
        nargs="?",
        choices=("surfaces", "optimizers", "schedules", "flavours", "all"),
        default="all",
    )

    def video_args(
        p: argparse.ArgumentParser, default_out: str | None, default_seconds: float = 6
    ) -> None:
        when = p.add_mutually_exclusive_group()
        when.add_argument(
            "--frames", type=int, help=f"frames in all (default {default_seconds:g} s)"
        )
        when.add_argument("--seconds", type=float, help="duration in seconds")
        p.add_argument("--fps", type=float, default=30.0, help="frames per second")
        p.add_argument(
            "--size", default="1280x720", metavar="WxH", help="frame size in pixels"
        )
        p.add_argument(
            "--panels",
            default="",
            metavar="P1,P2",
            help=f"linked panels, any of {','.join(PANELS)}",
        )
        p.add_argument(
            "--trail",
            type=int,
            default=0,
            metavar="K",
            help="fading trail of K steps (0: the whole path)",
        )
        p.add_argument(
            "--easing",
            choices=("ease", "uniform"),
            default="ease",
            help="ease: frames follow the motion; uniform: steps per frame fixed",
        )
        p.set_defaults(default_seconds=default_seconds)
        if default_out is not None:
            p.add_argument(
                "--out",
                default=default_out,
                help=f"{', '.join('.' + f for f in VIDEO_FORMATS)} (.png: frames)",
            )

    def run_args(p: argparse.ArgumentParser, many: bool = True) -> None:
        p.add_argument(
            "--surface",
            "-s",
            required=True,
            help="registered name (see `optiscape list`) or an expression "
            'in x and y, e.g. "x**2 + 10*y**2"',
        )
        if many:
            p.add_argument(
                "--optimizer",
                "-o",
                action="append",
                required=True,
                help="Keras-style text; repeat for a race",
            )
            p.add_argument(
                "--label",
                action="append",
                help="legend label per --optimizer, in order",
            )
        p.add_argument("--steps", "-n", type=int, default=200)
        p.add_argument(
            "--start",
            action="append",
            metavar="X,Y",
            help="start point; repeat for several (default: the surface's)",
        )
        p.add_argument(
            "--noise",
            type=float,
            default=0.0,
            help="std. dev. of Gaussian gradient noise",
        )
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--dtype", choices=("float64", "float32"), default="float64")

    p = add("plot", "Race optimizers on a surface and plot their paths.")
    run_args(p)
    p.add_argument(
        "--glyph",
        action="append",
        default=[],
        choices=GLYPH_CHOICES,
        help="draw this quantity at a few steps; repeatable",
    )
    p.add_argument("--glyph-steps", metavar="S1,S2,...", help="steps for the glyphs")
    p.add_argument("--3d", dest="three_d", action="store_true", help="also a 3D view")
    p.add_argument("--loss", action="store_true", help="also a loss-curve figure")
    p.add_argument(
        "--log",
        choices=("auto", "yes", "no"),
        default="auto",
        help="log-scaled contours (auto: the surface decides)",
    )
    p.add_argument("--out", default="race.png", help=".png, .svg or .pdf")

    p = add("animate", "Race optimizers on a surface and animate their paths.")
    run_args(p)
    video_args(p, default_out="race.mp4")
    p.add_argument(
        "--glyph",
        action="append",
        default=[],
        choices=GLYPH_CHOICES,
        help="draw this quantity moving with the particles; repeatable",
    )
    p.add_argument(
        "--swarm",
        type=int,
        metavar="N",
        help="start from an N x N grid of points over the view (instead of --start)",
    )

    p = add(
        "sweep",
        "Sweep hyperparameters: a heatmap for two (small multiples for three, a "
        "slice plot for one).",
    )
    run_args(p, many=False)
    p.add_argument("--optimizer", "-o", required=True, help="name (SGD) or Keras text")
    p.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="NAME=SPEC",
        help="NAME=v1,v2,... or NAME=linspace:a:b:n or NAME=geomspace:a:b:n",
    )
    p.add_argument("--fixed", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument(
        "--metric",
        default="final_loss",
        choices=tuple(SWEEP_METRICS),
    )
    p.add_argument("--out", default="sweep.png")
    p.add_argument(
        "--slices",
        action="store_true",
        help="also slice plots (metric against each hyperparameter): <out>_slices",
    )
    _scheduler_args(p, "grid points")

    p = add("fate", "Fate map: which minimum each start on a grid reaches.")
    run_args(p, many=False)
    p.add_argument("--optimizer", "-o", required=True, help="Keras-style text")
    p.add_argument("--resolution", type=int, default=150)
    p.add_argument("--tolerance", type=float, default=1e-3)
    p.add_argument("--out", default="fate.png")
    _scheduler_args(p, "map rows")

    p = add("moons", "The article's moons experiment: loss curves and landscape.")
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration")
    p.add_argument(
        "--epochs-scale",
        type=float,
        default=1.0,
        help="multiply the article's epochs (800 / 100) by this",
    )
    p.add_argument("--out", default="out/moons", help="output directory")
    p.add_argument(
        "--animate",
        metavar="FILE",
        help="instead, animate the ten trainings (seed 0) into FILE (.mp4, ...)",
    )
    p.add_argument(
        "--boundary",
        default="Adam",
        help="with --animate: the configuration whose decision boundary evolves",
    )
    video_args(p, default_out=None, default_seconds=12)

    _study_parser(add)

    p = add("run", "Run optimizers and save the trace (.npz with JSON metadata).")
    run_args(p)
    p.add_argument("--record-every", type=int, default=1)
    p.add_argument("--out", default="trace.npz")

    p = add("render", "Render a scene described in a TOML spec.")
    p.add_argument("spec", help="path to a .toml scene spec")
    p.add_argument("--out", help="output path (overrides the spec's [scene] out)")
    p.add_argument(
        "--allow-outside",
        action="store_true",
        help="let the spec's [scene] out point outside the spec's directory",
    )

    p = add(
        "video",
        "Render a built-in Manim teaching scene to an mp4 (--list: the scenes).",
    )
    p.add_argument("--scene", help="scene name (see --list)")
    p.add_argument("--list", action="store_true", help="list the scenes and exit")
    p.add_argument(
        "--quality", default="low", help="low (854x480, 15 fps), medium, high or 4k"
    )
    p.add_argument("--out", help="output .mp4 (default: <scene>.mp4)")

    p = add("explore", "Explore optimizers and hyperparameters interactively.")
    _explore_args(p)

    p = add("gallery", "Render the demo gallery and its index.html.")
    p.add_argument("--out", default="out", help="output directory")
    p.add_argument(
        "--quick", action="store_true", help="fewer seeds and epochs (for tests)"
    )
    _compare_parser(add, video_args)
    return parser


# ------------------------------------------------------------------ compare
def _compare_parser(add, video_args) -> None:
    p = add(
        "compare",
        "Race one optimizer's flavours (Keras, torch, optax, textbook, article): "
        "paths, distance to Keras per step and a table of formula differences.",
    )
    p.add_argument("--optimizer", "-o", required=True, help="Keras text, e.g. Adam")
    p.add_argument(
        "--flavours",
        default="keras,torch,optax,textbook",
        help="comma-separated: keras, torch, optax, textbook, article",
    )
    p.add_argument("--surface", "-s", required=True)
    p.add_argument("--learning-rate", type=float, help="one lr for every flavour")
    p.add_argument(
        "--same-args",
        action="store_true",
        help="match names: give each flavour Keras's values (alpha <- rho, ...) "
        "instead of its own defaults",
    )
    p.add_argument("--steps", "-n", type=int, default=200)
    p.add_argument("--start", action="append", metavar="X,Y")
    p.add_argument("--out", default="compare.png", help=".png, .svg or .pdf")
    p.add_argument(
        "--animate",
        metavar="FILE",
        help="instead, animate the race and the distance to Keras into FILE "
        f"({', '.join('.' + f for f in VIDEO_FORMATS)})",
    )
    video_args(p, default_out=None, default_seconds=8)


def _cmd_compare(args) -> None:
    from scenes.compare import compare

    flavours = [f.strip() for f in args.flavours.split(",") if f.strip()]
    if args.animate:
        from scenes.animate.flavours import animate_comparison

        settings = video_settings(args)
        _check_video_out(args.animate)
        animation = animate_comparison(
            args.optimizer,
            flavours,
            args.surface,
            args.animate,
            settings,
            learning_rate=args.learning_rate,
            match="names" if args.same_args else "defaults",
            starts=_starts(args),
            steps=args.steps,
            progress=not args.quiet,
        )
        _say(args, animation.files)
        return
    _check_out(args.out)
    _say(
        args,
        compare(
            args.optimizer,
            flavours,
            args.surface,
            args.out,
            learning_rate=args.learning_rate,
            match="names" if args.same_args else "defaults",
            starts=_starts(args),
            steps=args.steps,
            progress=not args.quiet,
        ),
    )


def _point(text: str) -> list[float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(
            f"--start must be X,Y (two numbers). Received: {text!r}"
        ) from None
    return [x, y]


def _number_or_word(text: str, option: str):
    """A literal from the command line: number, True/False/None (never eval'd)."""
    words = {"true": True, "false": False, "none": None}
    if text.lower() in words:
        return words[text.lower()]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise UsageError(
            f"{option} value must be a number, True, False or None. Received: {text!r}"
        ) from None


def _grid(items: Sequence[str]) -> dict[str, list[float]]:
    from simulator.sweeps import grid_axis

    grid = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--grid must be NAME=SPEC. Received: {item!r}")
        if name in grid:
            raise UsageError(
                f"--grid {name} given twice (the second would replace the first). "
                f"Received: {item!r}"
            )
        kind, _, rest = spec.partition(":")
        try:
            if kind in ("linspace", "geomspace"):
                a, b, n = rest.split(":")
                a, b, n = float(a), float(b), int(n)
            else:
                values = [float(v) for v in spec.split(",")]
        except ValueError:
            raise UsageError(
                f"--grid {name}: expected v1,v2,... or linspace:a:b:n or "
                f"geomspace:a:b:n. Received: {spec!r}"
            ) from None
        if kind in ("linspace", "geomspace"):
            try:
                values = grid_axis(kind, a, b, n).tolist()
            except ValueError as err:  # sized before it is allocated
                raise UsageError(f"--grid {name}: {err}") from None
        grid[name] = values
    return grid


def _check_out(out: str, suffixes=tuple("." + f for f in FIGURE_FORMATS)) -> None:
    """Refuse a bad --out before any work is done."""
    if Path(out).suffix.lower() not in suffixes:
        raise UsageError(
            f"--out must end in {', '.join(suffixes)}. Received: out='{out}'"
        )


def _starts(args) -> list[list[float]] | None:
    return [_point(s) for s in args.start] if args.start else None


def _labels(args) -> list[str] | None:
    if args.label and len(args.label) != len(args.optimizer):
        raise UsageError(
            f"--label given {len(args.label)} times for "
            f"{len(args.optimizer)} --optimizer values."
        )
    return args.label


def _cmd_list(args) -> None:
    import surfaces
    from simulator import optimizers, schedules

    if args.what in ("surfaces", "all"):
        print("Surfaces (use --surface NAME, or an expression in x and y):")
        for name in surfaces.names():
            s = surfaces.get(name)
            print(f"  {name:17s} {s.formula}")
    if args.what in ("optimizers", "all"):
        print("\nOptimizers (Keras 3 names and defaults; pass Keras-style text):")
        for cls in optimizers.ALL_OPTIMIZERS:
            args_text = ", ".join(f"{k}={v!r}" for k, v in cls._defaults.items())
            print(f"  {cls.__name__}({args_text})")
    if args.what in ("schedules", "all"):
        print("\nLearning-rate schedules (inside learning_rate=...):")
        for name in schedules.SCHEDULES:
            print(f"  {name}")
    if args.what in ("flavours", "all"):
        from simulator.optimizers.flavours import FLAVOUR_OPTIMIZERS, FLAVOURS

        print("\nFlavours (prefix the text; their own names and defaults):")
        for prefix, classes in FLAVOUR_OPTIMIZERS.items():
            print(f"  {prefix}: {FLAVOURS[prefix].source}")
            for cls in classes:
                args_text = ", ".join(f"{k}={v!r}" for k, v in cls._defaults.items())
                print(f"    {prefix}:{cls.public_name}({args_text})")


def _say(args, paths) -> None:
    for p in paths:
        print(p)


def _simulate_race(args, starts):
    """The race the shared run options describe (plot, animate)."""
    from simulator import simulate

    return simulate(
        args.surface,
        args.optimizer,
        starts,
        args.steps,
        labels=_labels(args),
        noise=args.noise,
        seed=args.seed,
        dtype=args.dtype,
        progress=not args.quiet,
    )


def _cmd_plot(args) -> None:
    from scenes.render import render_race

    _check_out(args.out)
    glyph_steps = None
    if args.glyph_steps:
        try:
            glyph_steps = [int(v) for v in args.glyph_steps.split(",")]
        except ValueError:
            raise UsageError(
                f"--glyph-steps must be integers S1,S2,... Received: "
                f"{args.glyph_steps!r}"
            ) from None
    race = _simulate_race(args, _starts(args))
    log = {"auto": None, "yes": True, "no": False}[args.log]
    _say(
        args,
        render_race(
            race,
            args.out,
            glyphs=args.glyph,
            glyph_steps=glyph_steps,
            three_d=args.three_d,
            log=log,
            loss_curves=args.loss,
        ),
    )


def video_settings(args):
    """`VideoSettings` from the shared video options (one-line errors)."""
    from scenes.spec import video_settings as from_table

    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", args.size)
    if not match:
        raise UsageError(
            f"--size must be WIDTHxHEIGHT in pixels. Received: {args.size!r}"
        )
    if args.trail < 0 or args.trail == 1:
        raise UsageError(
            f"--trail must be 0 (whole path) or >= 2. Received: {args.trail}"
        )
    table = {
        "frames": args.frames,
        "seconds": args.seconds
        if args.seconds is not None or args.frames is not None
        else args.default_seconds,
        "fps": args.fps,
        "size": (int(match[1]), int(match[2])),
        "panels": [p.strip() for p in args.panels.split(",") if p.strip()],
        "trail": args.trail,
        "easing": args.easing,
    }
    return from_table({k: v for k, v in table.items() if v is not None})


def _check_video_out(out: str) -> None:
    """Refuse a bad video --out (suffix, directory) before any work is done."""
    from scenes.animate.encode import require_ffmpeg, video_format

    require_ffmpeg(video_format(out))
    parent = Path(out).resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise UsageError(
            f"--out: cannot write into '{parent}' (not a writable directory). "
            f"Received: out='{out}'"
        )


def _swarm_starts(surface_text: str, n: int) -> list[list[float]]:
    import numpy as np

    import surfaces

    if not 1 <= n <= 200:
        raise UsageError(f"--swarm must be from 1 to 200 (N x N starts). Received: {n}")
    (x0, x1), (y0, y1) = surfaces.resolve(surface_text).view
    # Cell centres, so no start sits on the view's edge.
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    X, Y = np.meshgrid(xs, ys)
    return np.stack([X.ravel(), Y.ravel()], -1).tolist()


def _cmd_animate(args) -> None:
    from scenes.animate.race import animate_race

    settings = video_settings(args)
    _check_video_out(args.out)
    if args.swarm and args.start:
        raise UsageError("--swarm and --start cannot be combined.")
    starts = _swarm_starts(args.surface, args.swarm) if args.swarm else _starts(args)
    race = _simulate_race(args, starts)
    animation = animate_race(
        race, args.out, settings, glyphs=args.glyph, progress=not args.quiet
    )
    _say(args, animation.files)


def _cmd_sweep(args) -> None:
    from scenes.render import render_sweep
    from simulator import sweep

    _check_out(args.out)
    fixed = {}
    for item in args.fixed:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--fixed must be NAME=VALUE. Received: {item!r}")
        fixed[name] = _number_or_word(value, f"--fixed {name}")
    result = sweep(
        args.surface,
        args.optimizer,
        _grid(args.grid),
        _starts(args),
        args.steps,
        fixed=fixed,
        noise=args.noise,
        seed=args.seed,
        dtype=args.dtype,
        progress=not args.quiet,
        **_scheduler_kwargs(args),
    )
    if len(result.axes) == 3:  # one heatmap per value of the third axis
        from scenes.study import render_sweep_small_multiples

        _say(args, render_sweep_small_multiples(result, args.out, metric=args.metric))
    elif len(result.axes) == 2:
        _say(args, render_sweep(result, args.out, metric=args.metric))
    if args.slices or len(result.axes) == 1:
        from scenes.study import render_sweep_slices

        stem = Path(args.out).with_suffix("")
        slices = stem.with_name(stem.name + "_slices" + Path(args.out).suffix)
        if len(result.axes) == 1:  # a single axis: the slice plot is the figure
            slices = Path(args.out)
        metric = "steps" if args.metric == "steps" else "final_loss"
        _say(args, render_sweep_slices(result, slices, metric=metric))


def _cmd_fate(args) -> None:
    from scenes.render import render_fate
    from simulator import fate_map

    _check_out(args.out)
    if args.start:
        raise UsageError("fate runs from a grid of starts; --start does not apply.")
    fate = fate_map(
        args.surface,
        args.optimizer,
        args.steps,
        resolution=args.resolution,
        tolerance=args.tolerance,
        noise=args.noise,
        seed=args.seed,
        dtype=args.dtype,
        progress=not args.quiet,
        **_scheduler_kwargs(args),
    )
    _say(args, render_fate(fate, args.out))


def _cmd_run(args) -> None:
    from simulator import simulate

    _check_out(args.out, (".npz",))
    run = simulate(
        args.surface,
        args.optimizer,
        _starts(args),
        args.steps,
        labels=_labels(args),
        noise=args.noise,
        seed=args.seed,
        dtype=args.dtype,
        record_every=args.record_every,
        progress=not args.quiet,
    )
    from scenes.output import target, writing

    with writing():
        run.save(target(args.out))
    _say(args, [Path(args.out)])


def _cmd_video(args) -> None:
    from scenes.manim import SCENES, scene_class
    from scenes.manim.video import check_request, render_scene

    if args.list:
        for name, (_, description) in SCENES.items():
            print(f"{name:20s} {description}")
        return
    if not args.scene:
        raise UsageError("video needs --scene NAME (or --list).")
    out = check_request(args.out or f"{args.scene}.mp4", args.quality)
    cls = scene_class(args.scene)  # imports Manim: after the cheap checks
    _say(args, [render_scene(cls, out, quality=args.quality)])


def _cmd_render(args) -> None:
    from scenes.render import render_spec
    from scenes.spec import load_spec

    _say(
        args,
        render_spec(
            load_spec(args.spec),
            args.out,
            progress=not args.quiet,
            allow_outside=args.allow_outside,
        ),
    )


def _cmd_moons(args) -> None:
    from scenes.figures.moons import render_article

    if args.animate:
        from scenes.animate.moons import animate_moons
        from simulator import moons

        settings = video_settings(args)
        _check_video_out(args.animate)
        if not args.epochs_scale > 0:
            raise UsageError(
                f"--epochs-scale must be > 0. Received: {args.epochs_scale}"
            )
        labels = [c.label for c in moons.ARTICLE_CONFIGS]
        if args.boundary not in labels:
            raise UsageError(
                f"--boundary must be one of {labels}. Received: {args.boundary!r}"
            )
        animation = animate_moons(
            args.animate,
            settings,
            boundary=args.boundary,
            epochs_scale=args.epochs_scale,
            progress=not args.quiet,
        )
        _say(args, animation.files)
        return
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1. Received: {args.seeds}")
    if not args.epochs_scale > 0:
        raise UsageError(f"--epochs-scale must be > 0. Received: {args.epochs_scale}")
    _say(
        args,
        render_article(
            Path(args.out),
            seeds=args.seeds,
            epochs_scale=args.epochs_scale,
            progress=not args.quiet,
        ),
    )


def _cmd_gallery(args) -> None:
    from scenes.gallery import render_gallery

    index = render_gallery(Path(args.out), quick=args.quick, progress=not args.quiet)
    print(index)


# -- scale-out (Dask) options and the moons learning-rate study -------------------


def _scheduler_args(p: argparse.ArgumentParser, unit: str) -> None:
    """`--scheduler`, `--chunks`, `--results-dir` (see `simulator.cluster`)."""
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run in chunks on Dask: 'local:N' (N local worker processes) or a "
        "scheduler address such as tcp://host:8786 (needs optiscape[dask])",
    )
    p.add_argument(
        "--chunks",
        type=int,
        help=f"{unit} per chunk (default: from memory and workers)",
    )
    p.add_argument(
        "--results-dir",
        metavar="DIR",
        help="keep finished chunks here; re-run the same command to resume",
    )


def _scheduler_kwargs(args) -> dict:
    """`client`, `chunks`, `results_dir` keyword arguments, the values checked."""
    if args.scheduler is not None:
        from simulator.cluster import check_client_text

        try:
            check_client_text(args.scheduler, "--scheduler")
        except ValueError as err:
            raise UsageError(str(err)) from None
    if args.chunks is not None and args.chunks < 1:
        raise UsageError(f"--chunks must be >= 1. Received: --chunks={args.chunks}")
    return {
        "client": args.scheduler,
        "chunks": args.chunks,
        "results_dir": args.results_dir,
    }


def _study_parser(add) -> None:
    p = add(
        "study",
        "Moons learning-rate sensitivity: optimizers x learning rates x seeds.",
    )
    p.add_argument(
        "--optimizer",
        "-o",
        action="append",
        help="name or Keras text without a learning rate, e.g. 'SGD(momentum=0.9)'; "
        "repeatable (default: simulator.moons.study.DEFAULT_OPTIMIZERS)",
    )
    p.add_argument(
        "--lr",
        default="geomspace:1e-4:1:13",
        metavar="SPEC",
        help="learning rates: v1,v2,... or geomspace:a:b:n (default 13 in [1e-4, 1])",
    )
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument(
        "--threshold",
        type=float,
        help="loss threshold of the epochs-to-threshold heatmap "
        "(default: scenes.study.DEFAULT_THRESHOLD)",
    )
    p.add_argument("--save", metavar="PATH.npz", help="also save the StudyResult")
    p.add_argument("--out", default="study.png", help=".png, .svg or .pdf")
    _scheduler_args(p, "(optimizer, learning rate) points")


def _cmd_study(args) -> None:
    from scenes.study import DEFAULT_THRESHOLD, render_study
    from simulator.moons.study import DEFAULT_OPTIMIZERS, lr_study

    _check_out(args.out)
    if args.save:
        _check_out(args.save, (".npz",))
    if args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1. Received: {args.seeds}")
    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if not threshold > 0:
        raise UsageError(f"--threshold must be > 0. Received: {threshold}")
    lrs = _grid([f"lr={args.lr}"])["lr"]
    result = lr_study(
        args.optimizer or DEFAULT_OPTIMIZERS,
        lrs,
        range(args.seeds),
        args.epochs,
        args.batch_size,
        progress=not args.quiet,
        **_scheduler_kwargs(args),
    )
    written = render_study(result, args.out, threshold=threshold)
    if args.save:
        written.append(result.save(args.save))
    _say(args, written)


def _explore_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--surface", "-s", default="rosenbrock", help="registered name or expression"
    )
    p.add_argument(
        "--optimizer",
        "-o",
        action="append",
        help="Keras-style text; repeat (default: the article's ten)",
    )
    p.add_argument("--steps", "-n", type=int, default=300)
    p.add_argument("--start", action="append", metavar="X,Y", help="start point")
    p.add_argument("--noise", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--browser", action="store_true", help="serve it with WebAgg on 127.0.0.1"
    )
    p.add_argument("--port", type=int, default=8988, help="--browser port")
    p.add_argument(
        "--no-open", action="store_true", help="--browser: do not open a browser"
    )


def _cmd_explore(args) -> None:
    from scenes.explorer.server import open_desktop, serve_browser

    explorer_args = {
        "surface": args.surface,
        "optimizers": args.optimizer,
        "steps": args.steps,
        "starts": _starts(args),
        "noise": args.noise,
        "seed": args.seed,
    }
    if args.browser:
        serve_browser(args.port, not args.no_open, **explorer_args)
    else:
        # `main` defaults MPLBACKEND to Agg for the file-writing commands; a
        # backend the user set themselves is the one opened.
        open_desktop(args.user_backend, **explorer_args)


COMMANDS = {
    "list": _cmd_list,
    "plot": _cmd_plot,
    "animate": _cmd_animate,
    "sweep": _cmd_sweep,
    "fate": _cmd_fate,
    "moons": _cmd_moons,
    "study": _cmd_study,
    "run": _cmd_run,
    "render": _cmd_render,
    "gallery": _cmd_gallery,
    "explore": _cmd_explore,
    "video": _cmd_video,
    "compare": _cmd_compare,
}


_POINT = re.compile(r"-[0-9.]+(e[-+]?[0-9]+)?,-?[0-9.]+(e[-+]?[0-9]+)?", re.IGNORECASE)


def _join_negative_points(argv: Sequence[str]) -> list[str]:
    """`--start -2,1` -> `--start=-2,1`: argparse would read `-2,1` as an option."""
    out: list[str] = []
    for token in argv:
        if out and out[-1] == "--start" and _POINT.fullmatch(token):
            out[-1] = f"--start={token}"
        else:
            out.append(token)
    return out


def _force(args):
    from scenes.output import force

    return force(getattr(args, "force", False))


@contextlib.contextmanager
def _one_line_warnings(command: str):
    """Warnings as `optiscape plot: warning: ...` (one line, no source excerpt)."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"optiscape {command}: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _silence_stdout() -> None:
    """Points stdout at /dev/null so the interpreter's final flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests)
        pass
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 usage or input error)."""
    user_backend = os.environ.get("MPLBACKEND")  # `explore` opens this one
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = _parser()
    args = parser.parse_args(
        _join_negative_points(sys.argv[1:] if argv is None else argv)
    )
    args.user_backend = user_backend
    try:
        with _one_line_warnings(args.command), _force(args):
            COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:  # `optiscape list | head`: the reader has gone
        _silence_stdout()
        return 0
    except (ValueError, OSError) as err:  # ValueError covers spec and memory errors
        message = " ".join(str(err).split()) or repr(err)
        print(f"optiscape {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("optiscape: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
