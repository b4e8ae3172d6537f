"""Update-rule flavours: the same optimizer as torch, optax, its paper or the article.

Text with a prefix selects a flavour (`torch:Adam(lr=0.05)`, `optax:adam(0.05)`,
`textbook:Adam(learning_rate=0.05)`, `article:Adagrad(0.1)`); no prefix (or
`keras:`) is Keras 3. Each flavour is an `Optimizer` on the neutral base (no Keras
pipeline) with its framework's names, argument names and defaults.
"""

from __future__ import annotations

from simulator.optimizers.flavours.article import ARTICLE, ARTICLE_OPTIMIZERS
from simulator.optimizers.flavours.common import Flavour, FlavourOptimizer
from simulator.optimizers.flavours.optax_rules import OPTAX, OPTAX_OPTIMIZERS
from simulator.optimizers.flavours.textbook import TEXTBOOK, TEXTBOOK_OPTIMIZERS
from simulator.optimizers.flavours.torch_rules import TORCH, TORCH_OPTIMIZERS

__all__ = [
    "FLAVOURS",
    "FLAVOUR_OPTIMIZERS",
    "Flavour",
    "FlavourOptimizer",
    "flavour_registry",
]

#: prefix -> Flavour.
FLAVOURS: dict[str, Flavour] = {f.prefix: f for f in (TORCH, OPTAX, TEXTBOOK, ARTICLE)}

#: prefix -> the flavour's optimizer classes.
FLAVOUR_OPTIMIZERS: dict[str, tuple[type[FlavourOptimizer], ...]] = {
    "torch": TORCH_OPTIMIZERS,
    "optax": OPTAX_OPTIMIZERS,
    "textbook": TEXTBOOK_OPTIMIZERS,
    "article": ARTICLE_OPTIMIZERS,
}


def flavour_registry(prefix: str) -> dict[str, type[FlavourOptimizer]]:
    """`public_name -> class` for one flavour prefix (as `parse` looks names up)."""
    return {cls.public_name: cls for cls in FLAVOUR_OPTIMIZERS[prefix]}
