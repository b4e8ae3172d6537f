"""The batched MLP: layout, initialisation, Keras loss and its exact gradient."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.moons import MLP, make_moons
from simulator.moons.mlp import EPSILON


@pytest.fixture(scope="module")
def data():
    return make_moons()


def perturbed_weights(model, seed, scale=0.3):
    rng = np.random.default_rng(seed)
    return [w + scale * rng.standard_normal(w.shape) for w in model.init_weights(seed)]


def test_layout_matches_keras_get_weights_order():
    m = MLP()
    assert m.shapes == ((2, 12), (12,), (12, 13), (13,), (13, 13), (13,), (13, 2), (2,))
    assert m.n_params == 2 * 12 + 12 + 12 * 13 + 13 + 13 * 13 + 13 + 13 * 2 + 2
    assert m.names[:3] == ("dense/kernel", "dense/bias", "dense_1/kernel")
    w = perturbed_weights(m, 0)
    flat = m.flatten(w)
    assert flat.shape == (m.n_params,)
    for a, b in zip(m.unflatten(flat), w, strict=True):
        np.testing.assert_array_equal(a, b)
    batched = m.init_weights([3, 4])
    assert m.flatten(batched).shape == (2, m.n_params)


def test_glorot_uniform_init_seeded_and_batch_independent():
    m = MLP((2, 30, 40, 3))
    one = m.init_weights(5)
    many = m.init_weights([7, 5, 9])
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b[1])  # a seed's weights ignore the batch
    assert not np.array_equal(many[0][0], many[0][2])
    for i, (n_in, n_out) in enumerate([(2, 30), (30, 40), (40, 3)]):
        kernel, bias = many[2 * i], many[2 * i + 1]
        limit = np.sqrt(6 / (n_in + n_out))
        assert np.all(np.abs(kernel) <= limit)
        assert np.abs(kernel).max() > 0.9 * limit  # fills the Glorot interval
        assert np.all(bias == 0)
    assert m.init_weights(5, dtype="float32")[0].dtype == np.float32


def central_differences(model, weights, X, y, h=1e-6):
    flat = model.flatten(weights)
    out = np.empty_like(flat)
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = h
        up = model.loss(model.unflatten(flat + e), X, y)
        down = model.loss(model.unflatten(flat - e), X, y)
        out[i] = (up - down) / (2 * h)
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_matches_central_differences(data, seed):
    X, y = data
    m = MLP()
    w = perturbed_weights(m, seed)
    res = m.loss_and_grad(w, X[:64], y[:64])
    fd = central_differences(m, w, X[:64], y[:64])
    np.testing.assert_allclose(m.flatten(res.grads), fd, rtol=1e-6, atol=1e-9)


def test_gradient_is_zero_where_probabilities_are_clipped(data):
    """Confident samples (p > 1 - 1e-7) add a constant to the loss: zero gradient."""
    X, y = data
    m = MLP((2, 8, 2))
    w = perturbed_weights(m, 3, scale=1.0)
    w[2] = w[2] * 40.0  # very confident outputs
    p = m.forward(w, X)
    clipped = np.take_along_axis(p, y[:, None], -1)[:, 0] >= 1 - EPSILON
    assert 0 < clipped.sum() < len(y)  # a mix of clipped and unclipped samples
    res = m.loss_and_grad(w, X, y)
    np.testing.assert_allclose(
        m.flatten(res.grads), central_differences(m, w, X, y), rtol=1e-5, atol=1e-9
    )
    # Only the clipped samples: exactly zero gradient, loss -log(1 - 1e-7).
    only = m.loss_and_grad(w, X[clipped], y[clipped])
    assert all(np.all(g == 0) for g in only.grads)
    np.testing.assert_allclose(only.loss, -np.log(1 - EPSILON), rtol=1e-12)


def test_batched_models_equal_a_loop_over_single_models(data):
    X, y = data
    m = MLP()
    seeds = [0, 1, 2, 3]
    w = [
        wi + 0.1 * np.random.default_rng(9).standard_normal(wi.shape)
        for wi in m.init_weights(seeds)
    ]
    idx = np.stack([np.random.default_rng(s).permutation(300)[:32] for s in seeds])
    batched = m.loss_and_grad(w, X[idx], y[idx])
    shared = m.loss_and_grad(w, X[:32], y[:32])
    for k in range(len(seeds)):
        wk = [wi[k] for wi in w]
        single = m.loss_and_grad(wk, X[idx[k]], y[idx[k]])
        assert batched.loss[k] == single.loss
        assert batched.correct[k] == single.correct
        for a, b in zip(batched.grads, single.grads, strict=True):
            np.testing.assert_array_equal(a[k], b)
        single = m.loss_and_grad(wk, X[:32], y[:32])
        assert shared.loss[k] == single.loss
        for a, b in zip(shared.grads, single.grads, strict=True):
            np.testing.assert_array_equal(a[k], b)


@pytest.mark.keras
def test_loss_and_gradient_match_jax_autodiff_of_keras_ops(data):
    import jax
    import jax.numpy as jnp

    from keras_reference import keras

    k = keras()
    X, y = data
    m = MLP()
    w = perturbed_weights(m, 4)

    def keras_loss(ws, xb, yb):
        a = xb
        for layer in range(4):
            z = a @ ws[2 * layer] + ws[2 * layer + 1]
            a = jax.nn.relu(z) if layer < 3 else jax.nn.softmax(z)
        per_sample = k.ops.sparse_categorical_crossentropy(yb, a)
        return k.ops.divide_no_nan(jnp.sum(per_sample), jnp.asarray(float(len(yb))))

    value_and_grad = jax.jit(jax.value_and_grad(keras_loss))
    for sl in (slice(0, 32), slice(288, 300), slice(0, 300)):
        ref_loss, ref_grads = value_and_grad([jnp.asarray(a) for a in w], X[sl], y[sl])
        ours = m.loss_and_grad(w, X[sl], y[sl])
        np.testing.assert_allclose(ours.loss, float(ref_loss), rtol=1e-14)
        for a, b in zip(ours.grads, ref_grads, strict=True):
            b = np.asarray(b)
            assert np.max(np.abs(a - b)) <= 1e-14 * np.max(np.abs(b))


@pytest.mark.keras
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sum_normalisation_and_its_gradient_round_like_jax_on_xla(dtype):
    """`x / sum(x)` (softmax and the cross-entropy's renormalisation) and its
    VJP, bit for bit as JAX computes them op by op on XLA, which turns a
    division by a broadcast row sum into a multiplication by its reciprocal.

    Under `jax.jit` the same ops are fused and XLA contracts multiply-adds into
    FMAs, which numpy has no way to follow: there only the forward value is
    compared (it has no multiply-add)."""
    import jax
    import jax.numpy as jnp

    from simulator.moons.mlp import _div_by_sum_vjp, _softmax, _sum_last

    from keras_reference import keras

    keras()  # JAX with x64 enabled
    # Keras's softmax is differentiated op by op (exp, sum, divide), which is
    # what our backward pass follows; a JAX that turns this flag on by default
    # would need the custom-JVP formula p * (g - sum(g * p)) instead.
    assert not jax.config.jax_softmax_custom_jvp
    rng = np.random.default_rng(0)
    x = rng.uniform(1e-3, 3.0, (256, 2)).astype(dtype)
    g = rng.standard_normal((256, 2)).astype(dtype)

    def value_and_vjp(x, g):
        out, vjp = jax.vjp(lambda v: v / jnp.sum(v, -1, keepdims=True), x)
        return out, vjp(g)[0]

    ref, ref_grad = (np.asarray(a) for a in value_and_vjp(x, g))
    s = _sum_last(x)
    r = x.dtype.type(1) / s
    np.testing.assert_array_equal(x * r, ref)
    np.testing.assert_array_equal(_div_by_sum_vjp(g, x, s, r), ref_grad)
    np.testing.assert_array_equal(x * r, np.asarray(jax.jit(value_and_vjp)(x, g)[0]))
    z = np.log(x)  # softmax(log x) == x / sum(x) up to exp's rounding
    e = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_array_equal(_softmax(z), e * (x.dtype.type(1) / _sum_last(e)))


def test_forward_is_a_probability_distribution(data):
    X, _ = data
    m = MLP((2, 5, 3))
    p = m.forward(m.init_weights([0, 1]), X)
    assert p.shape == (2, 300, 3)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-15)


@pytest.mark.parametrize(
    ("sizes", "match"),
    [((2,), "layer_sizes"), ((2, 0, 2), "layer_sizes"), ((2, 4, 1), "classes")],
)
def test_bad_layer_sizes(sizes, match):
    with pytest.raises(ValueError, match=match):
        MLP(sizes)


def test_bad_inputs(data):
    X, y = data
    m = MLP()
    w = m.init_weights(0)
    with pytest.raises(ValueError, match="weights"):
        m.loss(w[:-1], X, y)
    with pytest.raises(ValueError, match=r"dense_3/bias"):
        m.loss([*w[:-1], np.zeros(3)], X, y)
    with pytest.raises(ValueError, match="`X`"):
        m.loss(w, X[:, :1], y)
    with pytest.raises(ValueError, match="`y`"):
        m.loss(w, X, y[:-1])
    with pytest.raises(ValueError, match=r"labels in \[0, 1\]"):
        m.loss(w, X, y + 1)
    with pytest.raises(ValueError, match="`seed`"):
        m.init_weights(-1)
    with pytest.raises(ValueError, match="`dtype`"):
        m.init_weights(0, dtype="int32")
    with pytest.raises(ValueError, match="`flat`"):
        m.unflatten(np.zeros(3))


def test_label_pick_by_mask_is_bit_identical_to_take_along_axis():
    """The training head picks each label's clipped probability with a one-hot
    mask and builds d loss / d log q with `where`; both must give exactly what
    numpy's `take_along_axis` / `put_along_axis` give (including +0 entries),
    for shared and per-model labels, 2 and 3 classes, both precisions."""
    from simulator.moons.mlp import _crossentropy_clipped

    rng = np.random.default_rng(11)
    for dtype in (np.float64, np.float32):
        for shape, y_shape in [
            ((3, 4, 32, 2), (32,)),
            ((3, 4, 32, 2), (4, 32)),
            ((5, 12, 3), (12,)),
        ]:
            c = rng.uniform(1e-7, 1 - 1e-7, size=shape).astype(dtype)
            y = rng.integers(0, shape[-1], size=y_shape)
            loss, g_logp, correct = _crossentropy_clipped(c, c, y)
            y_b = np.broadcast_to(y, shape[:-1])
            picked = np.take_along_axis(c, y_b[..., None], axis=-1)[..., 0]
            want = -np.sum(np.log(picked), axis=-1) / dtype(shape[-2])
            np.testing.assert_array_equal(loss, want)
            full = np.zeros(shape, dtype)
            np.put_along_axis(full, y_b[..., None], -1 / dtype(shape[-2]), axis=-1)
            got = np.broadcast_to(g_logp, shape)
            np.testing.assert_array_equal(got, full)
            assert not np.signbit(got[full == 0]).any()
            np.testing.assert_array_equal(
                correct, np.sum(np.argmax(c, axis=-1) == y_b, axis=-1)
            )
