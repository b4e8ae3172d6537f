"""The article's ten optimizer configurations on the moons MLP, as data and one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from simulator import optimizers as _optimizers
from simulator.moons.results import ManyHistory
from simulator.moons.training import fit_many

__all__ = ["ARTICLE_CONFIGS", "ArticleConfig", "article_experiment"]


class ArticleConfig(NamedTuple):
    """One configuration of the article's experiment.

    Attributes:
        label: short legend label.
        text: Keras-style constructor text (`optimizers.parse` reads it).
        epochs: epochs the article trains it for.
    """

    label: str
    text: str
    epochs: int

    def optimizer(self) -> _optimizers.Optimizer:
        """A fresh optimizer built from `text`."""
        return _optimizers.parse(self.text)


#: The article's experiment: 800 epochs for the SGD family and Adagrad, 100 for
#: the rest, batch size 32, on make_moons(300, noise=0.1, random_state=42).
ARTICLE_CONFIGS: tuple[ArticleConfig, ...] = (
    ArticleConfig("SGD", "SGD(learning_rate=0.01)", 800),
    ArticleConfig("SGD momentum", "SGD(learning_rate=0.01, momentum=0.9)", 800),
    ArticleConfig(
        "SGD Nesterov", "SGD(learning_rate=0.01, momentum=0.9, nesterov=True)", 800
    ),
    ArticleConfig("Adagrad", "Adagrad(learning_rate=0.01)", 800),
    ArticleConfig("RMSprop", "RMSprop(learning_rate=0.01)", 100),
    ArticleConfig(
        "RMSprop momentum centered",
        "RMSprop(learning_rate=0.01, momentum=0.9, centered=True)",
        100,
    ),
    ArticleConfig("Adam", "Adam(learning_rate=0.01)", 100),
    ArticleConfig("AdamW", "AdamW(learning_rate=0.01, weight_decay=0.01)", 100),
    ArticleConfig("Nadam", "Nadam(learning_rate=0.01)", 100),
    ArticleConfig("Lion", "Lion(learning_rate=0.001)", 100),
)


def article_experiment(
    seeds: Sequence[int] = (0,),
    epochs: int | None = None,
    *,
    batch_size: int = 32,
    record: str | None = "epoch",
    shuffle: bool = True,
    dtype: str = "float64",
) -> ManyHistory:
    """Runs the ten article configurations across `seeds` in one vectorised run.

    Args:
        seeds: seeds (initial weights and shuffle order), shared by the ten.
        epochs: None for the article's epochs (800 / 100), or one int for all.
        batch_size: samples per batch (the article's 32).
        record: weight trajectory granularity (see `fit`).
        shuffle: reshuffle every epoch (Keras's default).
        dtype: `"float64"` or `"float32"`.

    Returns:
        `ManyHistory` labelled with `ArticleConfig.label`; `loss` has shape
        `(10, len(seeds), max epochs)`, NaN after each configuration's epochs.
    """
    epochs_list = [c.epochs if epochs is None else epochs for c in ARTICLE_CONFIGS]
    return fit_many(
        [c.optimizer() for c in ARTICLE_CONFIGS],
        seeds,
        epochs_list,
        batch_size,
        shuffle=shuffle,
        record=record,
        labels=[c.label for c in ARTICLE_CONFIGS],
        dtype=dtype,
    )
