"""Trains the moons MLP with live Keras 3 (JAX backend): the reference for parity."""

from __future__ import annotations

import numpy as np

from keras_reference import floatx, keras, to_keras_value


def keras_optimizer(opt):
    """The Keras optimizer with the same class and every constructor argument."""
    k = keras()
    config = {n: to_keras_value(v) for n, v in opt.get_config().items() if n != "name"}
    return getattr(k.optimizers, type(opt).__name__)(**config)


def keras_model(layer_sizes, dtype: str):
    """`Sequential([Input, Dense(relu)..., Dense(softmax)])` in `dtype`."""
    k = keras()
    with floatx(dtype):
        layers = [k.Input(shape=(layer_sizes[0],), dtype=dtype)]
        for units in layer_sizes[1:-1]:
            layers.append(k.layers.Dense(units, activation="relu", dtype=dtype))
        layers.append(
            k.layers.Dense(layer_sizes[-1], activation="softmax", dtype=dtype)
        )
        return k.Sequential(layers)


def keras_fit(
    opt,
    X: np.ndarray,
    y: np.ndarray,
    initial_weights,
    epochs: int,
    batch_size: int = 32,
    dtype: str = "float64",
    layer_sizes=(2, 12, 13, 13, 2),
    jit_compile=True,
):
    """`model.fit(X, y, epochs, batch_size, shuffle=False)`; returns history + weights.

    Returns:
        `(loss (epochs,), accuracy (epochs,), final weights list)`.
    """
    with floatx(dtype):
        model = keras_model(layer_sizes, dtype)
        model.set_weights([np.asarray(w, dtype) for w in initial_weights])
        model.compile(
            optimizer=keras_optimizer(opt),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=jit_compile,
        )
        hist = model.fit(
            X.astype(dtype),
            y,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=False,
            verbose=0,
        )
        return (
            np.asarray(hist.history["loss"], np.float64),
            np.asarray(hist.history["accuracy"], np.float64),
            [np.asarray(w) for w in model.get_weights()],
        )
