"""The article's two-moons MLP: Keras-identical training, batched, and its landscape."""

from __future__ import annotations

from simulator.moons.data import DATA_DEFAULTS, make_moons
from simulator.moons.experiment import (
    ARTICLE_CONFIGS,
    ArticleConfig,
    article_experiment,
)
from simulator.moons.mlp import ARTICLE_LAYER_SIZES, MLP, LossGrad
from simulator.moons.planes import (
    LossGrid,
    Plane,
    Projection,
    decision_boundary,
    losses,
    pca_plane,
    plane_through,
    random_plane,
)
from simulator.moons.results import FitHistory, ManyHistory
from simulator.moons.study import StudyResult, lr_study
from simulator.moons.training import fit, fit_many

__all__ = [
    "ARTICLE_CONFIGS",
    "ARTICLE_LAYER_SIZES",
    "DATA_DEFAULTS",
    "MLP",
    "ArticleConfig",
    "FitHistory",
    "LossGrad",
    "LossGrid",
    "ManyHistory",
    "Plane",
    "Projection",
    "StudyResult",
    "article_experiment",
    "decision_boundary",
    "fit",
    "fit_many",
    "losses",
    "lr_study",
    "make_moons",
    "pca_plane",
    "plane_through",
    "random_plane",
]
