"""fit / fit_many: Keras fit semantics, batching equals single runs, results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator import optimizers
from simulator.moons import (
    ARTICLE_CONFIGS,
    MLP,
    FitHistory,
    ManyHistory,
    article_experiment,
    fit,
    fit_many,
    make_moons,
    training,
)


def reference_fit(opt, epochs, batch_size, w0, X, y):
    """A plain loop: per-variable optimizer, loss measured before each update."""
    m = MLP()
    weights = [np.array(w) for w in w0]
    state = opt.init(weights, names=m.names)
    out = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for start in range(0, len(y), batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            res = m.loss_and_grad(weights, xb, yb)
            total += float(res.loss) * len(yb)
            count += len(yb)
            step = opt.step(weights, res.grads, state, internals=False)
            weights, state = list(step.params), step.state
        out.append(total / count)
    return np.array(out), m.flatten(weights)


@pytest.mark.parametrize(
    "text",
    [
        "SGD(learning_rate=0.05, momentum=0.9)",
        "Adam(learning_rate=0.01)",
        "Lamb(learning_rate=0.01)",  # per-variable trust ratio: not flattened
        "Adam(learning_rate=0.01, clipnorm=0.1)",  # per-variable clipping
    ],
)
def test_fit_equals_a_plain_keras_style_loop(text):
    X, y = make_moons()
    m = MLP()
    w0 = m.init_weights(3)
    hist = fit(text, 3, batch_size=32, initial_weights=w0, shuffle=False)
    ref_loss, ref_final = reference_fit(optimizers.parse(text), 3, 32, w0, X, y)
    np.testing.assert_allclose(hist.loss, ref_loss, rtol=1e-14)
    np.testing.assert_array_equal(hist.weights[-1], ref_final)
    assert hist.loss.shape == hist.accuracy.shape == (3,)
    assert hist.weights.shape == (4, m.n_params)
    np.testing.assert_array_equal(hist.weights[0], m.flatten(w0))


@pytest.mark.parametrize("cls", training.ELEMENTWISE)
def test_flat_optimizer_variable_is_bit_identical_to_per_layer(cls, monkeypatch):
    kwargs = {"weight_decay": 0.01} if cls is not optimizers.AdamW else {}
    opt = cls(learning_rate=0.01, **kwargs)
    flat = fit(opt, 2, seed=1, record="step")
    monkeypatch.setattr(training, "_flat_ok", lambda _opt: False)
    per_layer = fit(opt, 2, seed=1, record="step")
    np.testing.assert_array_equal(flat.weights, per_layer.weights)
    np.testing.assert_array_equal(flat.loss, per_layer.loss)


def test_fit_many_equals_individual_fits():
    opts = [
        "SGD(learning_rate=0.1, momentum=0.9)",
        "Adam(learning_rate=0.01)",
        "Lamb()",
    ]
    seeds = [4, 0, 11]
    epochs = [3, 2, 1]
    many = fit_many(opts, seeds, epochs, batch_size=50, record="step")
    assert many.loss.shape == (3, 3, 3)
    assert np.isnan(many.loss[1, :, 2]).all()
    assert np.isnan(many.loss[2, :, 1:]).all()
    assert np.isfinite(many.loss[0]).all()
    for i, text in enumerate(opts):
        for j, seed in enumerate(seeds):
            single = fit(text, epochs[i], batch_size=50, seed=seed, record="step")
            pair = many.history(i, j)
            np.testing.assert_array_equal(pair.loss, single.loss)
            np.testing.assert_array_equal(pair.accuracy, single.accuracy)
            np.testing.assert_array_equal(pair.weights, single.weights)
            assert pair.metadata["seed"] == seed
            assert pair.metadata["optimizer"] == optimizers.parse(text).to_text()


def test_shuffle_reorders_every_epoch_per_seed():
    base = fit("SGD(learning_rate=0.1)", 3, seed=0, shuffle=False)
    a = fit("SGD(learning_rate=0.1)", 3, seed=0)
    b = fit("SGD(learning_rate=0.1)", 3, seed=1, initial_weights=a.weights[0])
    again = fit("SGD(learning_rate=0.1)", 3, seed=0)
    np.testing.assert_array_equal(a.weights, again.weights)  # reproducible
    assert not np.array_equal(a.weights[1], base.weights[1])  # order matters
    assert not np.array_equal(a.weights[1], b.weights[1])  # seed sets the order
    perms = (
        training._permutations(np.array([0]), 0, 300),
        training._permutations(np.array([0]), 1, 300),
    )
    assert not np.array_equal(*perms)
    assert sorted(perms[0][0].tolist()) == list(range(300))


def test_partial_last_batch_and_record_modes():
    n, bs = 300, 64
    spe = math.ceil(n / bs)
    step = fit("Adam(learning_rate=0.01)", 2, batch_size=bs, record="step")
    epoch = fit("Adam(learning_rate=0.01)", 2, batch_size=bs, record="epoch")
    none = fit("Adam(learning_rate=0.01)", 2, batch_size=bs, record=None)
    assert step.weights.shape[0] == 2 * spe + 1
    np.testing.assert_array_equal(step.steps, np.arange(2 * spe + 1))
    np.testing.assert_array_equal(epoch.weights, step.weights[::spe])
    np.testing.assert_array_equal(none.weights, step.weights[[0, -1]])
    assert step.metadata["steps_per_epoch"] == spe


def test_float32_mode_keeps_float32():
    hist = fit("Adam(learning_rate=0.01)", 2, dtype="float32")
    assert hist.weights.dtype == np.float32
    ref = fit("Adam(learning_rate=0.01)", 2)
    np.testing.assert_allclose(hist.loss, ref.loss, rtol=1e-4)


def test_metadata_and_save_load_round_trip(tmp_path):
    many = fit_many(["Adam(learning_rate=0.01)", "SGD()"], [0, 1], [2, 1], record=None)
    meta = many.metadata
    for key in ("batch_size", "dtype", "layer_sizes", "data", "versions", "shuffle"):
        assert key in meta
    assert meta["optimizers"][0]["optimizer_config"]["learning_rate"] == 0.01
    assert {"numpy", "scipy", "python", "optiscape"} <= set(meta["versions"])
    back = ManyHistory.load(many.save(tmp_path / "many"))
    np.testing.assert_array_equal(back.loss, many.loss)
    for a, b in zip(back.weights, many.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert back.labels == many.labels
    assert back.metadata == meta
    hist = many.history("SGD(learning_rate=0.01)", 1)
    again = FitHistory.load(hist.save(tmp_path / "one.npz"))
    np.testing.assert_array_equal(again.weights, hist.weights)
    assert again.metadata == hist.metadata
    assert again.metadata["seed"] == 1
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"bad\.npz"):
        FitHistory.load(tmp_path / "bad.npz")


def test_article_configs_as_data():
    assert len(ARTICLE_CONFIGS) == 10
    assert [c.epochs for c in ARTICLE_CONFIGS] == [800] * 4 + [100] * 6
    for c in ARTICLE_CONFIGS:
        opt = c.optimizer()
        assert type(opt).__name__ == c.text.split("(")[0]
        assert opt.learning_rate == (0.001 if c.label == "Lion" else 0.01)
    opt = ARTICLE_CONFIGS[5].optimizer()
    assert (opt.momentum, opt.centered) == (0.9, True)
    assert ARTICLE_CONFIGS[7].optimizer().weight_decay == 0.01
    assert ARTICLE_CONFIGS[9].optimizer().learning_rate == 0.001


def test_article_experiment_shapes():
    many = article_experiment(seeds=(0, 1), epochs=2, record=None)
    assert many.loss.shape == (10, 2, 2)
    assert many.labels == tuple(c.label for c in ARTICLE_CONFIGS)
    assert np.isfinite(many.loss).all()
    np.testing.assert_array_equal(
        many.history("Adam", 1).loss, fit("Adam(learning_rate=0.01)", 2, seed=1).loss
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"optimizers": "Adam()"}, "optimizers"),
        ({"optimizers": []}, "optimizers"),
        ({"optimizers": [3]}, "optimizer"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [-1]}, "seed"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": [1, 2]}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"record": "batch"}, "record"),
        ({"dtype": "float16"}, "dtype"),
        ({"labels": ["a", "b"]}, "labels"),
        ({"initial_weights": np.zeros(5)}, "initial_weights"),
        ({"initial_weights": np.zeros((3, 415))}, "initial_weights"),
        ({"data": 5}, "data"),
        ({"layer_sizes": (3, 4, 2)}, "`X`"),
        (
            {"optimizers": [optimizers.SGD(learning_rate=np.array([0.1, 0.2]))]},
            "array hyperparameters",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"optimizers": ["SGD()"], "seeds": [0], "epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        fit_many(**args)
