"""`optimizers.parse`/`get`: Keras-style text in, optimizers out, nothing executed."""

from __future__ import annotations

import ast
import builtins

import pytest

from simulator import optimizers
from simulator.schedules import CosineDecay, ExponentialDecay


@pytest.fixture
def no_eval(monkeypatch):
    """Makes eval, exec and compiling to code raise for the duration of a test."""
    real_compile = builtins.compile

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must never be called")

    def ast_only_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            raise AssertionError("compile to code must never be called")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", ast_only_compile)


def test_issue_example_sgd(no_eval):
    opt = optimizers.parse("SGD(learning_rate=0.01, momentum=0.9, nesterov=True)")
    assert type(opt) is optimizers.SGD
    assert opt.get_config() == optimizers.SGD(0.01, 0.9, True).get_config()
    assert (opt.learning_rate, opt.momentum, opt.nesterov) == (0.01, 0.9, True)


def test_issue_example_adam_with_cosine_schedule(no_eval):
    opt = optimizers.parse("Adam(learning_rate=CosineDecay(0.05, 150, alpha=0.1))")
    assert type(opt) is optimizers.Adam
    assert opt.learning_rate == CosineDecay(0.05, 150, alpha=0.1)


@pytest.mark.parametrize("name", ["adam", "Adam", " ADAM ", "keras.optimizers.Adam"])
def test_get_by_name_gives_keras_defaults(name, no_eval):
    opt = optimizers.get(name)
    assert type(opt) is optimizers.Adam
    assert opt.get_config() == optimizers.Adam().get_config()


def test_get_passes_instances_and_configs_through():
    opt = optimizers.Lion(learning_rate=0.01)
    assert optimizers.get(opt) is opt
    config = {"class_name": "Lion", "config": {"learning_rate": 0.01, "beta_1": 0.5}}
    assert (
        optimizers.get(config).get_config()
        == optimizers.Lion(0.01, beta_1=0.5).get_config()
    )


@pytest.mark.parametrize(
    "text",
    [
        "keras.optimizers.SGD(0.1, momentum=0.5)",
        "tf.keras.optimizers.SGD(0.1, momentum=0.5)",
        "optimizers.SGD(0.1, momentum=0.5)",
        "SGD(0.1, 0.5)",  # positional, in Keras order
        "sgd(learning_rate=0.1, momentum=0.5)",  # names are case-insensitive
    ],
)
def test_prefixes_positional_arguments_and_case(text, no_eval):
    expected = optimizers.SGD(learning_rate=0.1, momentum=0.5).get_config()
    assert optimizers.parse(text).get_config() == expected


def test_schedule_prefixes_and_positional_arguments(no_eval):
    opt = optimizers.parse(
        "AdamW(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5), 0.01)"
    )
    assert opt.learning_rate == ExponentialDecay(0.1, 10, 0.5)
    assert opt.weight_decay == 0.01  # AdamW's 2nd positional argument


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("Adma(0.1)", "Adam"),
        ("SDG()", "SGD"),
        ("RMSpro()", "RMSprop"),
        ("Adam(learning_rate=CosineDecy(0.1, 10))", "CosineDecay"),
        ("SGD(momentun=0.9)", "momentum"),
        ("Adam(beta1=0.9)", "beta_1"),
    ],
)
def test_misspelt_names_suggest_the_closest(text, suggestion, no_eval):
    with pytest.raises(ValueError, match=f"Did you mean '{suggestion}'"):
        optimizers.parse(text)


def test_get_misspelt_name_suggests():
    with pytest.raises(ValueError, match="Did you mean 'Adagrad'"):
        optimizers.get("adagard")


@pytest.mark.parametrize(
    "text",
    [
        "SGD(0.1, 0.5, True, None, None, None, None, False, 0.99, None, None, None, "
        "'n', 1)",  # more positional arguments than parameters
        "SGD(0.1, learning_rate=0.1)",
        "SGD(momentum=0.5, momentum=0.5)",
        "SGD(momentum=1)",  # the optimizer's own validation (an int)
        "Lion(beta_1=0.0)",
        "",
        "   ",
        "SGD(",
        "0.1",
        "[SGD()]",
    ],
)
def test_invalid_text_raises_value_error(text, no_eval):
    with pytest.raises(ValueError):  # noqa: PT011 - the messages vary by case
        optimizers.parse(text)


# Hostile or non-literal text: refused, never evaluated.
HOSTILE = [
    "__import__('os').system('x')",
    "SGD(learning_rate=__import__('os').system('x'))",
    "SGD(learning_rate=os.environ)",
    "SGD(learning_rate=(lambda: 0.1))",
    "SGD(learning_rate=[x for x in range(3)])",
    "SGD(learning_rate={x: 1 for x in range(3)})",
    "SGD(learning_rate=(x for x in range(3)))",
    "SGD(name=f\"{__import__('os').getcwd()}\")",
    "SGD(learning_rate=0.1 + 0.2)",
    "SGD(learning_rate=x)",
    "SGD(learning_rate=(x := 0.1))",
    "SGD(learning_rate=[0.1][0])",
    "SGD(learning_rate={'a': 1})",
    "SGD(learning_rate=b'0.1')",
    "SGD(learning_rate=...)",
    "SGD(learning_rate=-'a')",
    "SGD(learning_rate=eval('0.1'))",
    "SGD(learning_rate=open('/etc/passwd'))",
    "SGD(*[0.1])",
    "SGD(**{'learning_rate': 0.1})",
    "SGD().step",
    "SGD()()",
    "getattr(SGD, 'x')()",
    "SGD(learning_rate=0.1) if True else 0",
    "lambda: SGD()",
    "SGD(learning_rate=" + "[" * 500 + "]" * 500 + ")",
    "SGD(learning_rate=" + "1" * 3000 + ")",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_refused_with_value_error(text, no_eval):
    with pytest.raises(ValueError):  # noqa: PT011 - the messages vary by case
        optimizers.parse(text)


def test_refusal_names_what_was_refused():
    with pytest.raises(ValueError, match="Refused a lambda"):
        optimizers.parse("SGD(learning_rate=(lambda: 0.1))")
    with pytest.raises(ValueError, match="Refused attribute access"):
        optimizers.parse("SGD(learning_rate=os.environ)")
    with pytest.raises(ValueError, match="too long"):
        optimizers.parse("SGD(name='" + "a" * 5000 + "')")


def test_hostile_text_has_no_side_effect(tmp_path, no_eval):
    target = tmp_path / "pwned"
    payloads = [
        f"__import__('pathlib').Path({str(target)!r}).touch()",
        f"SGD(learning_rate=__import__('pathlib').Path({str(target)!r}).touch())",
        f"SGD(name=open({str(target)!r}, 'w').name)",
    ]
    for text in payloads:
        with pytest.raises(ValueError):  # noqa: PT011
            optimizers.parse(text)
    assert not target.exists()


@pytest.mark.parametrize("value", [None, 3, b"SGD()", ["SGD()"]])
def test_non_string_input_refused(value):
    with pytest.raises(ValueError, match="must be a string"):
        optimizers.parse(value)
