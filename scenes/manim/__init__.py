"""Manim teaching scenes driven by traces (registry importable without Manim)."""

from __future__ import annotations

import importlib
import importlib.util

__all__ = ["SCENES", "MissingDependency", "require_video", "scene_class"]

#: Scene name -> (module in this package, one-line description).
SCENES = {
    "OptimizerRace": (
        "race",
        "The article's optimizers from one start on Rosenbrock: trails, legend, "
        "step counter and a closing card computed from the run.",
    ),
    "MomentumScene": (
        "momentum",
        "Plain SGD against momentum on the long valley: velocity + gradient = step; "
        "the oscillation across the valley damps while speed builds along it.",
    ),
    "NesterovLookahead": (
        "nesterov",
        "Keras's Nesterov: the stored variable is the look-ahead point; the "
        "textbook iterate trails it by mu*m, on the same path.",
    ),
    "AdaptiveStepSizes": (
        "adaptive",
        "Adagrad, RMSprop and Adam on an ill-conditioned valley: per-coordinate "
        "step sizes lr/sqrt(A+eps) and alpha_t/(sqrt(v)+eps_hat) as they evolve.",
    ),
    "SaddleEscape": (
        "saddle",
        "On the saddle x^2 - y^2 SGD creeps along the ridge while momentum and "
        "Adam escape.",
    ),
    "MoonsPlane": (
        "moons",
        "The moons MLP: ten configurations on a PCA plane of the loss, an inset "
        "decision boundary, and the off-plane error stated.",
    ),
    "KerasVsTextbook": (
        "flavours",
        "Adam as Keras 3 runs it and as Kingma & Ba state it, racing from one "
        "start: the two rules side by side, eps-hat and bias correction marked.",
    ),
    "SwarmScene": (
        "race",
        "300 Adam particles on Himmelblau (the benchmark swarm; no math).",
    ),
}


class MissingDependency(ValueError):
    """Manim, Typst or ffmpeg is missing; the message says what to install.

    A `ValueError`, so the CLI prints it as one line and exits 2.
    """


def require_video() -> None:
    """Checks that Manim and the Typst compiler (for `MathTypst`) are importable.

    Raises:
        MissingDependency: one line naming the missing package and the install.
    """
    for module, why in (("manim", "Manim"), ("typst", "Typst (typeset math)")):
        if importlib.util.find_spec(module) is None:
            raise MissingDependency(
                f"{why} is not installed (Python package '{module}'); install it "
                "with: pip install 'optiscape[video]'  (or ./run setup)"
            )


def scene_class(name: str) -> type:
    """The scene class called `name`.

    Raises:
        ValueError: unknown name (the message lists the scenes).
        MissingDependency: Manim or Typst is missing.
    """
    if name not in SCENES:
        raise ValueError(
            f"`scene` must be one of {', '.join(SCENES)}. Received: scene={name!r}"
        )
    require_video()
    module = importlib.import_module(f"scenes.manim.{SCENES[name][0]}")
    return getattr(module, name)
