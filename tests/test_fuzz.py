"""Fuzzing the command line, specs, optimizer text and archives (hypothesis).

Invariants, whatever the input: exit code 0 or 2; on 2, one line on stderr
naming the problem; no exception escapes `main`; nothing is written outside
the working directory or left half-written; an archive loads or raises a
ValueError naming the file. Examples are derandomised (CI is reproducible) and
few per test, so the suite stays within its ~2 minute CI budget.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import surfaces
from scenes.cli import main
from scenes.output import is_own_file
from scenes.render import render_spec
from scenes.spec import SpecError, parse_spec
from simulator import Trace, optimizers, simulate
from simulator.metadata import save_archive

FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz(examples: int) -> settings:
    """The suite's settings with `examples` examples."""
    return settings(FUZZ, max_examples=examples)


# ------------------------------------------------------------------ vocabulary

NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        ["0", "-1", "1e999", "-1e999", "nan", "inf", "1e-320", "0.05", "0.9", "1e290"]
    ),
    st.sampled_from(["", "abc", "0x10", "1_000", "1,2", "--", "True", "(", "1e"]),
)
SURFACE = st.one_of(
    st.sampled_from(surfaces.names()),
    st.sampled_from(
        [
            "1",
            "0/0",
            "x**9**9**9",
            "x",
            "x + 0*y",
            "log(x) + y",
            "sqrt(-x**2 - y**2)",
            "exp(exp(x))",
            "1/(x - y)",
            "x**2 + 10*y**2",
            "__import__('os')",
            "x.__class__",
            "y**-1",
            "where(x > 0, x, nan)",
            "rosenbrok",
            "expr:x",
        ]
    ),
    st.text(max_size=24),
)
OPT_NAME = st.sampled_from(
    [c.__name__ for c in optimizers.ALL_OPTIMIZERS] + ["sgd", "Foo", "SGD.__init__"]
)
OPT_KEY = st.sampled_from(
    [
        "learning_rate", "momentum", "nesterov", "beta_1", "beta_2", "epsilon",
        "amsgrad", "clipnorm", "clipvalue", "rho", "centered", "weight_decay",
        "gradient_accumulation_steps", "use_ema", "lr", "__class__",
    ]
)  # fmt: skip
OPT_VALUE = st.one_of(
    NUMBER_TEXT,
    st.sampled_from(
        [
            "True",
            "False",
            "None",
            "'maybe'",
            "[]",
            "[0.1]",
            "'x'",
            "lambda: 1",
            "ExponentialDecay(0.1, 10, 0.5)",
            "CosineDecay(0.1, -5)",
        ]
    ),
)


@st.composite
def optimizer_text(draw) -> str:
    args = []
    if draw(st.booleans()):
        args.append(draw(NUMBER_TEXT))
    for _ in range(draw(st.integers(0, 3))):
        args.append(f"{draw(OPT_KEY)}={draw(OPT_VALUE)}")
    text = f"{draw(OPT_NAME)}({', '.join(args)})"
    return draw(st.one_of(st.just(text), st.just(text[: draw(st.integers(0, 40))])))


def mostly(valid, hostile, weight: int = 9):
    """`valid` `weight` times in `weight + 1`, else `hostile`: a run must get far
    enough to draw for rendering bugs to show, with one odd value at a time.

    (`one_of(valid, ..., hostile)` does not weight: hypothesis favours branches
    by its own heuristics; a drawn index does, and shrinks towards `valid`.)
    """
    return st.sampled_from(range(weight + 1)).flatmap(
        lambda i: hostile if i == weight else valid
    )


GOOD_SURFACE = st.sampled_from(
    ["himmelblau", "rosenbrock", "saddle", "monkey_saddle", "rastrigin", "beale",
     "valley", "x**2 + 10*y**2", "log(x) + y**2", "x", "abs(x) + y**2"]
)  # fmt: skip
GOOD_OPTIMIZER = st.sampled_from(
    ["SGD(0.01)", "SGD(learning_rate=0.02)", "Adam(0.1)", "Adam(1e6)", "Lion(0.01)",
     "SGD(0.01, momentum=0.9, nesterov=True)", "RMSprop(0.01, centered=True)",
     "Adagrad(0.5)", "Nadam(0.05)", "Ftrl(0.1)", "Adafactor(0.1)", "AdamW(0.05)",
     "Lamb(0.01)", "Adamax(0.1)", "Adadelta(1.0)", "Muon(0.01)",
     "SGD(0.1, gradient_accumulation_steps=2)", "Adam(0.1, use_ema=True)"]
)  # fmt: skip
GOOD_POINT = st.tuples(
    st.floats(-2.5, 2.5).map(lambda v: f"{v:.3g}"),
    st.floats(-2.5, 2.5).map(lambda v: f"{v:.3g}"),
).map(",".join)

STEPS = st.one_of(
    st.integers(0, 25), st.sampled_from(["1000000000", "10**9", "-1", "1e9", "x"])
).map(str)
#: Step counts that are not integers (argparse refuses them). A sweep or fate map
#: of 10**9 steps records two rows, fits in memory and is refused by nothing: it
#: just runs for hours (there is no time budget), so only plot/run get huge ones.
BAD_STEPS = st.sampled_from(["-1", "1e9", "10**9", "x", ""])
POINT = st.one_of(
    st.tuples(NUMBER_TEXT, NUMBER_TEXT).map(",".join),
    st.sampled_from(["1,1", "-2,1", "50,50", "0.5,0.5", "1", "1,2,3", "a,b"]),
)
OUT = st.sampled_from(
    ["out.png", "x.svg", "sub/dir/y.pdf", "z.gif", "noext", "out.npz", "dir/"]
)
GOOD_OUT = st.just("out.png")


def _steps(draw, huge: bool) -> list[str]:
    return [
        "--steps",
        draw(mostly(st.integers(0, 25).map(str), STEPS if huge else BAD_STEPS)),
    ]


def _cli_common(draw, huge_steps: bool = True) -> list[str]:
    argv = ["-s", draw(mostly(GOOD_SURFACE, SURFACE)), *_steps(draw, huge_steps)]
    for _ in range(draw(st.integers(0, 2))):
        argv.append(f"--start={draw(mostly(GOOD_POINT, POINT))}")
    if draw(st.integers(0, 3)) == 0:
        noise = draw(mostly(st.sampled_from(["0.1", "0"]), NUMBER_TEXT))
        argv.append(f"--noise={noise}")
    if draw(st.integers(0, 3)) == 0:
        argv += ["--dtype", draw(st.sampled_from(["float32", "float64", "int8"]))]
    return argv


@st.composite
def plot_argv(draw) -> list[str]:
    argv = ["plot", *_cli_common(draw)]
    for _ in range(draw(st.integers(1, 2))):
        argv += ["-o", draw(mostly(GOOD_OPTIMIZER, optimizer_text()))]
    glyphs = st.sampled_from(["gradient", "velocity", "lookahead", "step_size", "x"])
    for glyph in draw(st.lists(glyphs, max_size=2)):
        argv += ["--glyph", glyph]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--glyph-steps", draw(st.sampled_from(["0,1", "2", "x", "-1", "999"]))]
    argv += draw(st.sampled_from([[], [], ["--loss"], ["--3d"], ["--log", "yes"]]))
    return [*argv, "--out", draw(mostly(GOOD_OUT, OUT))]


GRID_SPEC = st.one_of(
    st.lists(NUMBER_TEXT, min_size=1, max_size=3).map(",".join),
    st.tuples(
        st.sampled_from(["linspace", "geomspace", "logspace"]),
        NUMBER_TEXT,
        NUMBER_TEXT,
        st.sampled_from(["1", "3", "0", "-2", "1000000000", "2.5"]),
    ).map(":".join),
)


@st.composite
def sweep_argv(draw) -> list[str]:
    opt = mostly(st.sampled_from(["SGD", "SGD(0.1)"]), optimizer_text())
    argv = ["sweep", *_cli_common(draw, huge_steps=False), "-o", draw(opt)]
    hostile = st.tuples(OPT_KEY, GRID_SPEC).map("=".join)
    first = st.sampled_from(
        ["learning_rate=0.01,0.1", "learning_rate=geomspace:1e-3:0.5:4"]
    )
    argv += ["--grid", draw(mostly(first, hostile))]
    if draw(st.booleans()):
        second = st.just("momentum=linspace:0:0.9:3")
        argv += ["--grid", draw(mostly(second, hostile))]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--fixed", f"{draw(OPT_KEY)}={draw(OPT_VALUE)}"]
    argv += ["--metric", draw(st.sampled_from(["final_loss", "steps", "diverged"]))]
    return [*argv, "--out", draw(mostly(GOOD_OUT, OUT))]


@st.composite
def fate_argv(draw) -> list[str]:
    argv = ["fate", "-s", draw(mostly(GOOD_SURFACE, SURFACE)), *_steps(draw, False)]
    argv += ["-o", draw(mostly(GOOD_OPTIMIZER, optimizer_text()))]
    resolution = st.sampled_from(["1", "0", "100000", "x", "-3"])
    argv += [
        "--resolution",
        draw(mostly(st.sampled_from(["2", "7", "12"]), resolution)),
    ]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--tolerance", draw(mostly(st.just("0.1"), NUMBER_TEXT))]
    return [*argv, "--out", draw(mostly(GOOD_OUT, OUT))]


@st.composite
def run_argv(draw) -> list[str]:
    argv = [
        "run",
        *_cli_common(draw),
        "-o",
        draw(mostly(GOOD_OPTIMIZER, optimizer_text())),
    ]
    every = st.sampled_from(["0", "-1", "x"])
    argv += ["--record-every", draw(mostly(st.sampled_from(["1", "3"]), every))]
    out = st.sampled_from(["t.png", "d/t.npz", "t"])
    return [*argv, "--out", draw(mostly(st.just("t.npz"), out))]


# -------------------------------------------------------------------- harness


@contextlib.contextmanager
def _workdir():
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(old)


def _error_of(fn) -> BaseException | None:
    """The exception `fn()` raises (any kind: the caller checks it), or None."""
    try:
        fn()
    except Exception as exc:
        return exc
    return None


def run_cli(argv: list[str]) -> None:
    """Runs `optiscape -q ARGV` in a fresh directory and checks the invariants."""
    err = io.StringIO()
    with _workdir() as here, contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the CLI prints its own one-line warnings
        try:
            code = main(["-q", *argv])
        except SystemExit as exc:  # argparse: usage errors
            code = exc.code
        written = {p: is_own_file(p) for p in here.rglob("*") if p.is_file()}
    lines = [line for line in err.getvalue().splitlines() if ": warning: " not in line]
    event(f"exit {code}")
    assert code in (0, 2), (argv, code, err.getvalue())
    if code == 2:
        assert len(lines) == 1, (argv, lines)
        assert lines[0].startswith("optiscape"), (argv, lines)
    else:
        assert not lines, (argv, lines)
    for path, ours in written.items():  # only complete files of ours
        assert ".partial" not in path.name, (argv, path)
        assert ours, (argv, path)


@given(plot_argv())
@fuzz(45)
def test_fuzz_plot(argv):
    run_cli(argv)


@given(sweep_argv())
@fuzz(40)
def test_fuzz_sweep(argv):
    run_cli(argv)


@given(fate_argv())
@fuzz(35)
def test_fuzz_fate(argv):
    run_cli(argv)


@given(run_argv())
@fuzz(35)
def test_fuzz_run(argv):
    run_cli(argv)


@given(optimizer_text())
@fuzz(300)
def test_fuzz_optimizer_text(text):
    """Text parses to a runnable optimizer that round-trips, or a ValueError."""
    try:
        opt = optimizers.parse(text)
    except ValueError:
        return
    for value in opt.get_config().values():
        if isinstance(value, float):
            assert math.isfinite(value), (text, opt.get_config())
    again = optimizers.parse(opt.to_text())
    assert again.to_text() == opt.to_text()


# ---------------------------------------------------------------------- specs

ANY_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=6), inner, max_size=3),
    ),
    max_leaves=6,
)
#: (section, key) -> (valid values, hostile values).
KEYS = {
    ("scene", "kind"): (["race", "sweep", "fate"], ["video", "", 3]),
    ("scene", "out"): (
        ["a.png", "sub/b.svg", "c.pdf"],
        ["../up.png", "/tmp/optiscape-fuzz.png", "c.gif", "sub/../../x.png", ""],
    ),
    ("scene", "formats"): ([["png"], ["svg", "pdf"]], [["gif"], [], "png"]),
    ("scene", "title"): (["A title"], ["", 3]),
    ("surface", "name"): (["himmelblau", "saddle", "rastrigin"], ["rosenbrok", ""]),
    ("surface", "expression"): (["x**2 + 3*y**2", "log(x) + y**2"], ["0/0", "1"]),
    ("surface", "view"): ([[[-2, 2], [-2, 2]]], [[[1, 0], [0, 1]], [[0, 1]]]),
    ("run", "steps"): ([0, 3, 12], [-1, 10**9, 10**15, 2.5]),
    ("run", "starts"): (
        [[[1, 1]], [[0.5, -0.5], [1, 2]]],
        [[[50, 50]], [], [[1, 2, 3]]],
    ),
    ("run", "record_every"): ([1, 2], [0]),
    ("run", "noise"): ([0.0, 0.1], [-1, math.inf]),
    ("run", "bound"): ([3.0, [[-4, 4], [-4, 4]]], [0.0, math.inf, [[1, -1], [0, 1]]]),
    ("render", "dpi"): ([50, 72], [10**6, 29, 2.5]),
    ("render", "glyphs"): ([["gradient"], ["velocity"]], [["lookahead"], ["nope"]]),
    ("render", "size"): ([[4, 3]], [[100, 100], [0, 1]]),
    ("render", "loss_curves"): ([True, False], ["yes"]),
    ("render", "three_d"): ([False, True], [1]),
    ("sweep", "optimizer"): (["SGD", "Adam", "SGD(0.1)"], ["Nope", "SGD(lr=1)"]),
    ("sweep", "fixed"): (
        [{}, {"nesterov": True}, {"momentum": 0.5}],
        [{"nesterov": "maybe"}, 3, {"bogus": 1}],
    ),
    ("sweep", "metric"): (["final_loss", "steps", "diverged"], ["bogus"]),
    ("fate", "optimizer"): (["SGD(0.01)", "Adam(0.1)"], ["SGD(lr=1)", ""]),
    ("fate", "resolution"): ([3, 5], [1, 100_000, 2.0]),
    ("fate", "tolerance"): ([1e-3, 0.5], [0.0, math.inf, math.nan, -1]),
}
GRID_VALUES = (
    [[0.01, 0.1], {"linspace": [0, 0.9, 3]}, {"geomspace": [1e-3, 1e-1, 2]}],
    [[], [True], {"geomspace": [0, 1, 3]}, {"linspace": [0, 1, 10**9]}, "x"],
)


def _value(draw, valid, hostile):
    return draw(
        mostly(
            st.sampled_from(valid),
            st.one_of(st.sampled_from(hostile), ANY_VALUE),
            weight=40,
        )
    )


@st.composite
def spec_data(draw) -> dict:
    data: dict = {}
    for (section, key), (valid, hostile) in KEYS.items():
        if draw(st.integers(0, 2)) == 0:
            continue
        data.setdefault(section, {})[key] = _value(draw, valid, hostile)
    surface = data.get("surface", {})
    if ("name" in surface) == ("expression" in surface) and draw(st.integers(0, 5)):
        surface.pop(draw(st.sampled_from(["name", "expression"])), None)
        surface.setdefault("name", "himmelblau")
        data["surface"] = surface
    if data.get("scene", {}).get("kind") == "sweep" or draw(st.integers(0, 3)) == 0:
        keys = st.sampled_from(["learning_rate", "momentum", "nesterov", "bogus"])
        names = draw(st.lists(keys, min_size=1, max_size=2, unique=True))
        data.setdefault("sweep", {})["grid"] = {
            k: _value(draw, *GRID_VALUES) for k in names
        }
    texts = mostly(
        st.sampled_from(["Adam(0.1)", "SGD(0.01, momentum=0.9)", "Lion(0.01)"]),
        st.sampled_from(["SGD(learning_rate=1e999)", "Foo()", ""]),
    )
    data["optimizers"] = [{"text": draw(texts)} for _ in range(draw(st.integers(0, 2)))]
    if draw(st.integers(0, 8)) == 0:
        data[draw(st.sampled_from(["scnee", "video", "render"]))] = draw(ANY_VALUE)
    return data


@given(spec_data())
@fuzz(250)
def test_fuzz_spec_parse(data):
    """A spec is valid, or a SpecError names the file (and its key)."""
    err = _error_of(lambda: parse_spec(data, "fuzz.toml"))
    if err is not None:
        assert isinstance(err, SpecError), repr(err)
        assert str(err).startswith("fuzz.toml: "), err
        assert "\n" not in str(err).strip(), err


@given(spec_data())
@fuzz(25)
def test_fuzz_spec_render(data):
    """A valid spec renders inside its directory, or refuses with a ValueError."""
    with _workdir() as here, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = here / "specs" / "fuzz.toml"
        source.parent.mkdir()
        try:
            spec = parse_spec(data, str(source))
        except SpecError:
            return
        try:
            written = render_spec(spec)
            event("rendered")
        except ValueError:
            written = []
            event("refused")
        files = [p for p in here.rglob("*") if p.is_file()]
        paths = [Path(p).resolve() for p in [*written, *files]]
        root = here.resolve()
    assert not Path("/tmp/optiscape-fuzz.png").exists()
    for path in paths:
        assert path.is_relative_to(root), path
        assert ".partial" not in path.name, path


# ------------------------------------------------------------------- archives

_TRACE = simulate("himmelblau", "SGD(0.01, momentum=0.9)", steps=4)
ARRAY = st.builds(
    lambda shape, dtype: np.zeros(shape, dtype=dtype),
    st.lists(st.integers(0, 5), max_size=3).map(tuple),
    st.sampled_from(["<f8", "<f4", "<i8", "|b1", "<U3"]),
)


@given(
    drop=st.sets(st.sampled_from(sorted(_TRACE._arrays())), max_size=2),
    replace=st.dictionaries(
        st.sampled_from(sorted(_TRACE._arrays())), ARRAY, max_size=2
    ),
    meta=st.one_of(
        st.none(),
        st.dictionaries(st.sampled_from(["label", "metadata", "kind"]), ANY_VALUE),
    ),
)
@fuzz(120)
def test_fuzz_trace_archive_structure(tmp_path_factory, drop, replace, meta):
    """Checksummed but malformed archives raise a ValueError naming the file."""
    arrays = {k: v for k, v in _TRACE._arrays().items() if k not in drop}
    arrays.update(replace)
    info = {"kind": "trace", **_TRACE._meta(), **(meta or {})}
    path = save_archive(tmp_path_factory.mktemp("a") / "t.npz", arrays, info)
    err = _error_of(lambda: Trace.load(path))
    if err is not None:
        assert isinstance(err, ValueError), repr(err)
        assert "t.npz" in str(err), err
        return
    trace = Trace.load(path)
    assert trace.positions.shape[-1] == 2
    assert trace.final_positions.shape[-1] == 2


@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=4),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
@fuzz(80)
def test_fuzz_trace_archive_bytes(tmp_path_factory, flips, cut):
    """Damaged bytes: a ValueError naming the file, never another exception."""
    path = _TRACE.save(tmp_path_factory.mktemp("b") / "t.npz")
    data = bytearray(path.read_bytes())
    for offset, xor in flips:
        data[offset % len(data)] ^= xor
    if cut is not None:
        data = data[: cut % len(data)]
    path.write_bytes(bytes(data))
    err = _error_of(lambda: Trace.load(path))
    if err is not None:
        assert isinstance(err, ValueError), repr(err)
        assert "t.npz" in str(err), err
