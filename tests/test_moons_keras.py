"""`fit` against live Keras 3 `model.fit` (JAX backend), the article's ten configs.

Protocol: Keras builds `Sequential([Input(2), Dense(12, relu), Dense(13, relu),
Dense(13, relu), Dense(2, softmax)])` under `keras.utils.set_random_seed(SEED)`;
its `get_weights()` are our `initial_weights`; both train 100 epochs with batch
size 32 and `shuffle=False`; Keras runs `compile(..., jit_compile=True)` (the
JAX default) and `fit(..., verbose=0)`. We compare `history.history["loss"]`.

Measured conditioning (max relative error over 100 epochs, Nov 2026): SGD,
momentum, Nesterov and Adagrad <= 2.1e-15, Adam/AdamW/Nadam <= 4.4e-14, Lion
<= 3.9e-15 at seeds 0-4. RMSprop is the sensitive one: the clip of the
cross-entropy at 1 - 1e-7 makes the gradient discontinuous, and a last-ulp
difference decides on which side a sample falls, which RMSprop's normalised
steps then carry on. With Keras's seed-1 weights plain RMSprop reaches 1.8e-7
and with seed 0 centered RMSprop 1.9e-8, while Keras's own eager
(`jit_compile=False`) run differs from its jit run by 5.7e-8 at seed 0. Seeds
2 and 4 are well conditioned for all ten configurations (worst 2.0e-10); the
float64 test uses seed 2.

Float32: our ops follow Keras's (softmax differentiated op by op, XLA's
reciprocal for a division by a row sum), but XLA's float32 exp, log, dot
summation order and jit FMA contraction are not numpy's, so the weights differ
by a few ulps from the first step, as Keras's jit and eager runs differ from
each other. The RMSprop family amplifies such noise chaotically at some seeds:
at seed 2 centered RMSprop separates by 0.05 (Keras jit vs Keras eager) to 0.15
(Keras jit vs Keras with a correctly rounded exp) within 100 epochs. The float32
test uses seed 7, where every last-ulp perturbation we tried (ours, Keras eager,
Keras with another exp, one weight moved by one ulp) stays within 2e-5 of Keras
jit for both RMSprop configurations, so all ten configurations are compared
over all 100 epochs.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.moons import ARTICLE_CONFIGS, fit, make_moons

from keras_reference import floatx, keras
from moons_keras import keras_fit, keras_model

pytestmark = pytest.mark.keras

SEED = 2
FLOAT32_SEED = 7
EPOCHS = 100
CONFIG_IDS = [c.label.replace(" ", "_") for c in ARTICLE_CONFIGS]


def keras_initial_weights(seed: int, dtype: str) -> list[np.ndarray]:
    k = keras()
    with floatx(dtype):
        k.utils.set_random_seed(seed)
        return keras_model((2, 12, 13, 13, 2), dtype).get_weights()


def compare(config, dtype: str, epochs: int, seed: int = SEED, jit_compile=True):
    X, y = make_moons()
    w0 = keras_initial_weights(seed, dtype)
    opt = config.optimizer()
    k_loss, k_acc, _ = keras_fit(
        opt, X, y, w0, epochs, dtype=dtype, jit_compile=jit_compile
    )
    ours = fit(opt, epochs, initial_weights=w0, shuffle=False, dtype=dtype)
    return ours, k_loss, k_acc


@pytest.mark.parametrize("config", ARTICLE_CONFIGS, ids=CONFIG_IDS)
def test_float64_loss_matches_keras_to_1e8_relative_over_100_epochs(config):
    ours, k_loss, k_acc = compare(config, "float64", EPOCHS)
    rel = np.abs(ours.loss - k_loss) / np.abs(k_loss)
    assert rel.max() <= 1e-8, f"{config.label}: max relative error {rel.max():.3g}"
    np.testing.assert_array_equal(ours.accuracy, k_acc)


@pytest.mark.parametrize("config", ARTICLE_CONFIGS, ids=CONFIG_IDS)
def test_float32_loss_matches_keras_float32(config):
    ours, k_loss, _ = compare(config, "float32", EPOCHS, seed=FLOAT32_SEED)
    assert ours.weights.dtype == np.float32
    err = np.abs(ours.loss - k_loss)
    assert err.max() <= 1e-3, f"{config.label}: max absolute error {err.max():.3g}"
    # The first epochs agree to float32 rounding, not merely to 1e-3.
    np.testing.assert_allclose(ours.loss[:5], k_loss[:5], rtol=1e-5)


@pytest.mark.slow
def test_float32_centered_rmsprop_is_not_reproducible_even_within_keras():
    """Why float32 is compared at FLOAT32_SEED: at seed 2 Keras's own eager and
    jit runs separate by more than 1e-3 within 100 epochs."""
    config = ARTICLE_CONFIGS[5]
    assert config.label == "RMSprop momentum centered"
    _, jit_loss, _ = compare(config, "float32", EPOCHS)
    _, eager_loss, _ = compare(config, "float32", EPOCHS, jit_compile=False)
    assert np.abs(jit_loss - eager_loss).max() > 1e-3
