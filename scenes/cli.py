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
    "moons": "optiscape moons --seeds 3 --out out/moons",
    "run": (
        'optiscape run --surface saddle --optimizer "Adam(0.1)" \\\n'
        '      --optimizer "Lion(0.01)" --steps 100 --out saddle.npz'
    ),
    "render": "optiscape render examples/valley.toml --out valley.png",
    "gallery": "optiscape gallery --out out",
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
        choices=("surfaces", "optimizers", "schedules", "all"),
        default="all",
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
        choices=("gradient", "velocity", "lookahead", "step_size"),
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

    p = add("sweep", "Sweep two hyperparameters and plot a heatmap.")
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
        choices=("final_loss", "steps", "diverged", "converged"),
    )
    p.add_argument("--out", default="sweep.png")

    p = add("fate", "Fate map: which minimum each start on a grid reaches.")
    run_args(p, many=False)
    p.add_argument("--optimizer", "-o", required=True, help="Keras-style text")
    p.add_argument("--resolution", type=int, default=150)
    p.add_argument("--tolerance", type=float, default=1e-3)
    p.add_argument("--out", default="fate.png")

    p = add("moons", "The article's moons experiment: loss curves and landscape.")
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration")
    p.add_argument(
        "--epochs-scale",
        type=float,
        default=1.0,
        help="multiply the article's epochs (800 / 100) by this",
    )
    p.add_argument("--out", default="out/moons", help="output directory")

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

    p = add("gallery", "Render the demo gallery and its index.html.")
    p.add_argument("--out", default="out", help="output directory")
    p.add_argument(
        "--quick", action="store_true", help="fewer seeds and epochs (for tests)"
    )
    return parser


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


def _check_out(out: str, suffixes=(".png", ".svg", ".pdf")) -> None:
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


def _say(args, paths) -> None:
    for p in paths:
        print(p)


def _cmd_plot(args) -> None:
    from scenes.render import render_race
    from simulator import simulate

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
    race = simulate(
        args.surface,
        args.optimizer,
        _starts(args),
        args.steps,
        labels=_labels(args),
        noise=args.noise,
        seed=args.seed,
        dtype=args.dtype,
        progress=not args.quiet,
    )
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
    )
    _say(args, render_sweep(result, args.out, metric=args.metric))


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
    from scenes.moons_figures import render_article

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


COMMANDS = {
    "list": _cmd_list,
    "plot": _cmd_plot,
    "sweep": _cmd_sweep,
    "fate": _cmd_fate,
    "moons": _cmd_moons,
    "run": _cmd_run,
    "render": _cmd_render,
    "gallery": _cmd_gallery,
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
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = _parser()
    args = parser.parse_args(
        _join_negative_points(sys.argv[1:] if argv is None else argv)
    )
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
