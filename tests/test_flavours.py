"""Flavours: parsing, first steps from the papers' and the article's equations,
trajectory properties that set each apart from Keras, validation, batching."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.engine import simulate
from simulator.optimizers import Adagrad, Adam, AdamW, RMSprop, parse
from simulator.optimizers.flavours import FLAVOUR_OPTIMIZERS, FlavourOptimizer


def _run(opt, start, grad_fn, steps):
    p = np.array(start, dtype=np.float64)
    state = opt.init([p], batch_ndim=p.ndim - 1)
    out = []
    for _ in range(steps):
        res = opt.step([p], [grad_fn(p)], state)
        p, state = res.params[0], res.state
        out.append(p)
    return np.array(out), res


def _bowl(p):
    return np.stack([p[..., 0], 10.0 * p[..., 1]], axis=-1)


ALL = [cls for classes in FLAVOUR_OPTIMIZERS.values() for cls in classes]


# ------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    "cls", ALL, ids=lambda c: f"{c.flavour.prefix}:{c.public_name}"
)
def test_every_flavour_round_trips_through_text(cls):
    opt = cls()
    again = parse(opt.to_text())
    assert type(again) is cls
    assert again.get_config() == opt.get_config()
    assert opt.to_text().startswith(f"{cls.flavour.prefix}:{cls.public_name}(")
    assert opt.label == f"{cls.public_name} · {cls.flavour.label}"
    assert isinstance(opt, FlavourOptimizer)
    assert cls.mirrors


def test_prefix_free_text_is_keras_bit_for_bit():
    assert type(parse("Adam(0.05)")) is Adam
    assert type(parse("keras:Adam(0.05)")) is Adam
    start = [[-1.0, 1.0], [0.5, -0.3]]
    a, _ = _run(parse("Adam(learning_rate=0.05)"), start, _bowl, 50)
    b, _ = _run(Adam(learning_rate=0.05), start, _bowl, 50)
    assert np.array_equal(a, b)


def test_torch_text_from_the_issue_parses():
    opt = parse("torch:Adam(lr=0.05, betas=(0.8, 0.99), eps=1e-6, amsgrad=True)")
    assert opt.betas == (0.8, 0.99)
    assert opt.eps == 1e-6
    assert opt.amsgrad
    sgd = parse(
        "torch:SGD(lr=0.001, momentum=0.9, dampening=0.5, nesterov=False, "
        "weight_decay=0.0)"
    )
    assert sgd.dampening == 0.5
    assert parse("torch:RMSprop(alpha=0.9, centered=True, momentum=0.5)").centered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "torch:Adam(lr=-1)",
            "torch:Adam: invalid `lr`: must be >= 0.0. Received: lr=-1",
        ),
        ("torch:Adam(betas=(0.9, 1.0))", "Received: betas[1]=1.0"),
        ("torch:Adam(betas=0.9)", "must be a pair (beta1, beta2). Received: betas=0.9"),
        ("torch:Adam(learning_rate=0.1)", "torch:Adam() got an unexpected argument"),
        ("torch:Adma(0.1)", "Unknown optimizer 'torch:Adma'. Did you mean 'Adam'?"),
        ("torhc:Adam(0.1)", "Unknown flavour prefix 'torhc:'"),
        ("torch:SGD(nesterov=True)", "invalid `nesterov`"),
        (
            "optax:adam(b1=1.5)",
            "optax:adam: invalid `b1`: must be < 1.0. Received: b1=1.5",
        ),
        ("optax:rmsprop(eps='x')", "Received: eps='x'"),
        ("textbook:Adam(epsilon=-1e-8)", "Received: epsilon=-1e-08"),
        (
            "torch:Adam(lr=__import__('os'))",
            "Unknown learning-rate schedule '__import__'",
        ),
        ("torch:Adam(lr=(1).real)", "Refused attribute access"),
    ],
)
def test_bad_arguments_get_one_line_naming_argument_and_value(text, message):
    with pytest.raises(ValueError, match=r".") as info:
        parse(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# ------------------------------------------------- batching and internals
@pytest.mark.parametrize(
    "cls", ALL, ids=lambda c: f"{c.flavour.prefix}:{c.public_name}"
)
def test_hyperparameter_arrays_batch_like_separate_runs(cls):
    lr_name = cls._lr_name
    lrs = np.array([[0.01], [0.003]])  # (H, 1) against (1, N, 2) starts: H x N
    starts = np.array([[[-1.0, 0.8], [0.4, -0.6]]])
    batched, res = _run(cls(**{lr_name: lrs}), starts, _bowl, 20)
    assert batched.shape == (20, 2, 2, 2)
    for h, lr in enumerate(lrs[:, 0]):
        alone, _ = _run(cls(**{lr_name: float(lr)}), starts[0], _bowl, 20)
        assert np.array_equal(batched[:, h], alone)
    for key in ("learning_rate", "grad_position", "gradient", "update", "step_size"):
        assert key in res.internals


def test_array_betas_batch_and_write_parseable_text():
    betas = (np.array([[0.9], [0.5]]), 0.999)
    opt = parse("torch:Adam(lr=0.01)")
    opt = type(opt)(lr=0.01, betas=betas)
    assert opt.to_text() == "torch:Adam(lr=0.01, betas=([[0.9], [0.5]], 0.999))"
    again = parse(opt.to_text())
    starts = np.array([[[-1.0, 0.8], [0.4, -0.6]]])
    a, _ = _run(opt, starts, _bowl, 10)
    b, _ = _run(again, starts, _bowl, 10)
    assert np.array_equal(a, b)
    assert a.shape == (10, 2, 2, 2)


def test_flavour_recorded_in_trace_metadata_and_legend(tmp_path):
    trace = simulate("rosenbrock", "torch:Adam(lr=0.01)", starts=[[-1.0, 1.0]], steps=5)
    meta = trace.metadata["optimizer"]
    assert meta["text"] == "torch:Adam(lr=0.01)"
    assert meta["class_name"] == "TorchAdam"
    assert meta["config"]["betas"] == [0.9, 0.999]
    assert parse(meta["text"]).label == "Adam · PyTorch"


# ---------------------------------------- textbook: first steps from the papers
G = np.array([[0.3, -2.0]])
W = np.array([[1.0, 1.0]])


def _first_step(opt):
    state = opt.init([W], batch_ndim=1)
    return opt.step([W], [G], state).params[0] - W


def test_textbook_adam_first_step_is_kingma_ba_algorithm_1():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    m = (1 - b1) * G
    v = (1 - b2) * G**2
    mhat, vhat = m / (1 - b1), v / (1 - b2)
    expected = -lr * mhat / (np.sqrt(vhat) + eps)
    np.testing.assert_allclose(
        _first_step(parse("textbook:Adam(0.01)")), expected, 0, 1e-12
    )
    # Keras's epsilon hat: eps/sqrt(1 - b2) on the first step, eps = 1e-7.
    keras = _first_step(Adam(learning_rate=0.01))
    np.testing.assert_allclose(
        keras, -lr * G / (np.abs(G) + 1e-7 / math.sqrt(1 - b2)), 1e-12
    )
    assert np.all(np.abs(_first_step(parse("textbook:Adam(0.01)"))) > np.abs(keras))


def test_textbook_adagrad_starts_from_zero_duchi_et_al():
    # x1 = x0 - eta*g/(delta + sqrt(g**2)): about eta*sign(g) on the first step.
    step = _first_step(parse("textbook:Adagrad(0.1)"))
    np.testing.assert_allclose(step, -0.1 * G / (1e-8 + np.abs(G)), 1e-12)
    keras = _first_step(Adagrad(learning_rate=0.1))
    np.testing.assert_allclose(keras, -0.1 * G / np.sqrt(0.1 + G**2 + 1e-7), 1e-12)
    assert abs(step[0, 0]) > 1.4 * abs(keras[0, 0])  # |g| = 0.3: A0 = 0.1 shrinks it


def test_textbook_rmsprop_has_no_epsilon_tieleman_hinton():
    g = np.array([[1e-4, -1e-4]])
    opt = parse("textbook:RMSprop(0.001)")
    state = opt.init([W], batch_ndim=1)
    step = opt.step([W], [g], state).params[0] - W
    np.testing.assert_allclose(step, -0.001 * g / np.sqrt(0.1 * g**2), 1e-12)
    keras = RMSprop(learning_rate=0.001)
    k = keras.step([W], [g], keras.init([W], batch_ndim=1)).params[0] - W
    # Tiny gradients: Keras's eps = 1e-7 inside the sqrt makes it 10x slower.
    assert np.all(np.abs(step) > 9 * np.abs(k))


def test_textbook_adamw_decay_is_not_scaled_by_alpha_loshchilov_hutter():
    opt = parse("textbook:AdamW(learning_rate=0.01, weight_decay=0.01)")
    zero = np.zeros_like(G)
    state = opt.init([W], batch_ndim=1)
    step = opt.step([W], [zero], state).params[0] - W
    np.testing.assert_allclose(step, -0.01 * W, 1e-12)  # eta_t*lambda*theta
    keras = AdamW(learning_rate=0.01, weight_decay=0.01)
    k = keras.step([W], [zero], keras.init([W], batch_ndim=1)).params[0] - W
    np.testing.assert_allclose(k, -0.01 * 0.01 * W, 1e-12)  # lr*wd*w


def test_textbook_nadam_first_step_is_dozat_algorithm_2():
    lr, b1, b2, eps, psi = 0.01, 0.9, 0.999, 1e-8, 0.004
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    g_hat = G / (1 - mu1)
    m_hat = (1 - b1) * G / (1 - mu1 * mu2)
    v_hat = (1 - b2) * G**2 / (1 - b2)
    m_bar = (1 - mu1) * g_hat + mu2 * m_hat
    expected = -lr * m_bar / (np.sqrt(v_hat) + eps)
    step = _first_step(parse("textbook:Nadam(0.01)"))
    np.testing.assert_allclose(step, expected, 1e-12)
    # Keras's schedule 0.96**t gives mu_1 = 0.468 (Dozat's: 0.450): another step.
    keras = _first_step(parse("Nadam(0.01)"))
    assert np.all(np.abs(step - keras) > 1e-4 * np.abs(keras))


def test_textbook_nadam_is_torchs_nadam_with_matched_defaults():
    start = [[-1.0, 1.0], [0.5, -0.3]]
    a, _ = _run(parse("textbook:Nadam(0.01)"), start, _bowl, 200)
    b, _ = _run(parse("torch:NAdam(lr=0.01)"), start, _bowl, 200)
    k, _ = _run(parse("Nadam(0.01, epsilon=1e-8)"), start, _bowl, 200)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert np.max(np.abs(a - k)) > 1e-3


def test_textbook_lion_equals_keras_to_rounding_chen_et_al():
    start = [[-1.0, 1.0], [0.5, -0.3]]
    a, _ = _run(parse("textbook:Lion(0.01, weight_decay=0.1)"), start, _bowl, 200)
    b, _ = _run(parse("Lion(learning_rate=0.01, weight_decay=0.1)"), start, _bowl, 200)
    first = np.sign(0.1 * _bowl(np.array(start)))
    np.testing.assert_allclose(
        a[0], np.array(start) * (1 - 0.01 * 0.1) - 0.01 * first, 1e-12
    )
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


# ------------------------------------------------- article: its printed formulas
def test_article_adagrad_starts_at_zero_where_keras_starts_at_0_1():
    step = _first_step(parse("article:Adagrad(0.1)"))
    np.testing.assert_allclose(step, -(0.1 * G) / np.sqrt(G**2 + 1e-7), 1e-12)
    start = [[-1.0, 1.0]]
    a, _ = _run(parse("article:Adagrad(0.1)"), start, _bowl, 200)
    k, _ = _run(Adagrad(learning_rate=0.1), start, _bowl, 200)
    assert np.max(np.abs(a - k)) > 5e-3  # the start value moves the whole run


@pytest.mark.parametrize(
    ("article", "keras"),
    [
        ("article:SGD(0.01, momentum=0.9)", "SGD(0.01, momentum=0.9)"),
        (
            "article:SGD(0.01, momentum=0.9, nesterov=True)",
            "SGD(0.01, momentum=0.9, nesterov=True)",
        ),
        ("article:RMSprop(0.01)", "RMSprop(0.01)"),
        ("article:Adam(0.05)", "Adam(0.05)"),
    ],
)
def test_article_formulas_that_are_keras_match_keras(article, keras):
    start = [[-1.0, 1.0], [0.5, -0.3]]
    a, _ = _run(parse(article), start, _bowl, 200)
    b, _ = _run(parse(keras), start, _bowl, 200)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert not np.allclose(a[-1], start)


def test_article_adam_first_step_from_its_formula():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    alpha = lr * math.sqrt(1 - b2) / (1 - b1)
    m, v = (1 - b1) * G, (1 - b2) * G**2
    expected = -(alpha * m) / (np.sqrt(v) + eps)
    np.testing.assert_allclose(
        _first_step(parse("article:Adam(0.01)")), expected, 1e-12
    )


# ------------------------------------------- torch and optax: where they differ
def test_torch_sgd_first_buffer_is_the_undamped_gradient():
    opt = parse("torch:SGD(lr=0.1, momentum=0.9, dampening=0.5)")
    state = opt.init([W], batch_ndim=1)
    res = opt.step([W], [G], state)
    np.testing.assert_allclose(res.params[0] - W, -0.1 * G, 1e-12)
    res2 = opt.step([res.params[0]], [G], res.state)
    np.testing.assert_allclose(
        res2.params[0] - res.params[0], -0.1 * (0.9 + 0.5) * G, 1e-12
    )


def test_torch_adam_weight_decay_is_coupled_l2():
    zero = np.zeros_like(G)
    opt = parse("torch:Adam(lr=0.01, weight_decay=0.1)")
    step = opt.step([W], [zero], opt.init([W], batch_ndim=1)).params[0] - W
    # g = 0 + 0.1*w enters the moments: the first step is lr*sign(w), not lr*wd*w.
    np.testing.assert_allclose(step, -0.01 * np.sign(W), 1e-6)


# ---------------------------------------- textbook Nesterov: Sutskever et al. 2013
NESTEROV = "SGD(learning_rate=0.0005, momentum=0.9, nesterov=True)"


def _rosen_grad(p):
    x, y = p[..., 0], p[..., 1]
    return np.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], -1)


def test_textbook_nesterov_first_steps_are_sutskever_eqs_3_4():
    lr, mu = 0.0005, 0.9
    theta = np.array([[-1.0, 1.5], [0.3, -0.2]])
    v = np.zeros_like(theta)
    expected = [theta]
    for _ in range(4):  # eq. (3): g at theta + mu*v; eq. (4): theta += v
        v = mu * v - lr * _rosen_grad(theta + mu * v)
        theta = theta + v
        expected.append(theta)
    trace = simulate("rosenbrock", f"textbook:{NESTEROV}", starts=expected[0], steps=4)
    np.testing.assert_allclose(trace.positions, np.array(expected), rtol=1e-14)
    # The iterate is recorded with its own loss; the gradient is the look-ahead's.
    x, y = trace.positions[..., 0], trace.positions[..., 1]
    np.testing.assert_allclose(trace.loss, (1 - x) ** 2 + 100 * (y - x * x) ** 2)
    ahead = trace.internals["lookahead"]
    np.testing.assert_array_equal(trace.internals["grad_position"], ahead)
    np.testing.assert_allclose(trace.gradient[:-1], _rosen_grad(ahead), rtol=1e-13)
    # Not classical momentum (eqs. 1-2), whose second step takes g at theta_1.
    heavy = simulate(
        "rosenbrock",
        "textbook:SGD(learning_rate=0.0005, momentum=0.9)",
        starts=expected[0],
        steps=4,
    )
    np.testing.assert_array_equal(heavy.positions[1], trace.positions[1])
    assert np.all(np.abs(heavy.positions[2] - trace.positions[2]) > 1e-6)


def test_textbook_nesterov_is_keras_shifted_by_mu_v():
    """Keras stores phi = theta + mu*v: its path is the textbook's shifted by mu*v
    (same gradients), so each is the other's look-ahead / nesterov_base."""
    starts = [[-1.0, 1.5], [1.5, 2.0], [0.0, 0.0]]
    book = simulate("rosenbrock", f"textbook:{NESTEROV}", starts=starts, steps=300)
    keras = simulate("rosenbrock", NESTEROV, starts=starts, steps=300)
    scale = np.max(np.abs(keras.positions))
    base = keras.internals["nesterov_base"]
    assert np.max(np.abs(book.positions[:-1] - base)) / scale <= 1e-12
    ahead = book.internals["lookahead"]
    assert np.max(np.abs(ahead - keras.positions[:-1])) / scale <= 1e-12
    # ... and the two paths themselves differ by mu*v, visibly.
    shift = keras.positions[1:] - book.positions[1:]
    mu_v = 0.9 * book.internals["velocity"]
    assert np.max(np.abs(shift - mu_v)) / scale <= 1e-12
    assert np.max(np.abs(shift)) > 1e-2


def test_textbook_classical_momentum_is_keras_momentum():
    start = [[-1.0, 1.5]]
    a = simulate("rosenbrock", "textbook:SGD(0.0005, momentum=0.9)", start, 200)
    b = simulate("rosenbrock", "SGD(learning_rate=0.0005, momentum=0.9)", start, 200)
    np.testing.assert_allclose(a.positions, b.positions, rtol=0, atol=1e-12)


def test_gradient_point_is_the_iterate_for_every_other_rule():
    x = np.array([[0.5, -0.5]])
    for text in ("SGD(0.01, momentum=0.9, nesterov=True)", "torch:SGD(lr=0.1)"):
        opt = parse(text)
        state = opt.init([x], batch_ndim=1)
        assert opt.gradient_point([x], state)[0] is x
    opt = parse("textbook:SGD(0.01, momentum=0.9)")  # nesterov=False: eq. (1)
    assert opt.gradient_point([x], opt.init([x], batch_ndim=1))[0] is x


def test_textbook_nesterov_moons_loss_is_keras_loss():
    """Keras's fit measures each batch loss at its variable, the look-ahead;
    the trainer evaluates textbook Nesterov there too: the same loss curve."""
    from simulator.moons.training import fit

    keras = fit("SGD(learning_rate=0.05, momentum=0.9, nesterov=True)", epochs=2)
    book = fit(
        "textbook:SGD(learning_rate=0.05, momentum=0.9, nesterov=True)", epochs=2
    )
    np.testing.assert_allclose(book.loss, keras.loss, rtol=1e-12)
    heavy = fit("textbook:SGD(learning_rate=0.05, momentum=0.9)", epochs=2)
    assert abs(heavy.loss[-1] - keras.loss[-1]) > 1e-4


# ------------------------------------------------- legends: one vocabulary
def test_legend_labels_name_the_framework_beside_flavours():
    from simulator.optimizers.text import legend_labels

    opts = [parse(t) for t in ("Adam(0.05)", "torch:Adam(lr=0.05)", "optax:adam(0.05)")]
    assert legend_labels(opts) == ["Adam · Keras", "Adam · PyTorch", "adam · optax"]
    # A name twice: its arguments tell the two apart.
    twice = [parse("torch:Adam(lr=0.05)"), parse("torch:Adam(lr=0.01)"), opts[0]]
    assert legend_labels(twice) == [
        "Adam · PyTorch (lr=0.05)",
        "Adam · PyTorch (lr=0.01)",
        "Adam · Keras",
    ]
    # Keras alone keeps its texts, as every existing figure shows them.
    keras = [parse("Adam(0.05)"), parse("SGD(0.01)")]
    assert legend_labels(keras) == [o.to_text() for o in keras]
    race = simulate("rosenbrock", [*opts[:2]], [[-1.0, 1.0]], 3)
    assert race.labels == ["Adam · Keras", "Adam · PyTorch"]
    assert race[1].metadata["optimizer"]["text"] == "torch:Adam(lr=0.05)"
    single = simulate("rosenbrock", "textbook:SGD(0.01, momentum=0.9)", [[0, 0]], 2)
    assert single.label == "SGD · textbook"


def test_manim_and_compare_use_the_same_names():
    from scenes.compare import build_comparison
    from scenes.manim.race import short_label
    from simulator.optimizers.text import legend_labels

    cmp = build_comparison("RMSprop(0.01)", ["keras", "torch", "optax"])
    names = [e.label for e in cmp.entrants]
    assert names == legend_labels([e.optimizer for e in cmp.entrants])
    assert [short_label(n) for n in names] == names
    assert short_label("Adam · PyTorch (lr=0.05)") == "Adam · PyTorch lr=0.05"


def test_plot_cli_legend_shows_flavour_names(tmp_path):
    import os
    import subprocess
    import sys

    from scenes.output import read_png_config

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scenes.cli",
            "plot",
            "--surface",
            "rosenbrock",
            "--optimizer",
            "torch:Adam(lr=0.05)",
            "--optimizer",
            "Adam(learning_rate=0.05)",
            "--steps",
            "20",
            "--out",
            "race.png",
        ],
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    config = read_png_config(tmp_path / "race.png")["optiscape"]
    assert config["labels"] == ["Adam · PyTorch", "Adam · Keras"]


def test_textbook_nesterov_batches_momentum_arrays_and_keeps_float32():
    from simulator.optimizers.flavours.textbook import TextbookSGD

    starts = [[-1.0, 1.5], [0.5, 0.5]]
    mus = np.array([[0.5], [0.9]])  # (H, 1) against 2 starts: H x 2 runs
    both = simulate("rosenbrock", TextbookSGD(5e-4, mus, nesterov=True), starts, 30)
    for h, mu in enumerate(mus[:, 0]):
        alone = simulate(
            "rosenbrock", TextbookSGD(5e-4, float(mu), nesterov=True), starts, 30
        )
        np.testing.assert_array_equal(alone.positions, both.positions[:, h])
    f32 = simulate(
        "rosenbrock", TextbookSGD(5e-4, 0.9, True), starts, 5, dtype="float32"
    )
    assert f32.positions.dtype == f32.internals["lookahead"].dtype == np.float32
