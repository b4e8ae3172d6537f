"""The one copy of each rendering vocabulary: glyphs, panels, metrics, formats.

Import-light (no numpy, no matplotlib) so the command line can build its
choices from it before loading anything heavy.
"""

from __future__ import annotations

__all__ = [
    "FIGURE_FORMATS",
    "GLYPHS",
    "GLYPH_ALIASES",
    "GLYPH_CHOICES",
    "GLYPH_MEANING",
    "PANELS",
    "RENDERERS",
    "SWEEP_METRICS",
    "VIDEO_FORMATS",
]

#: Glyph name -> the trace data it draws (`gradient` is the recorded gradient at
#: the position; the others are optimizer internals).
GLYPHS = {
    "gradient": "gradient",
    "velocity": "velocity",
    "textbook_iterate": "nesterov_base",
    "step_size": "step_size",
}
#: Old glyph names that keep working. `lookahead` drew the textbook iterate
#: `w - mu*m_old` (Keras's stored variable, the path itself, *is* the lookahead).
GLYPH_ALIASES = {"lookahead": "textbook_iterate"}
#: Every name a user may type for a glyph.
GLYPH_CHOICES = (*GLYPHS, *GLYPH_ALIASES)
#: What each glyph means, for legends and captions.
GLYPH_MEANING = {
    "gradient": "−gradient at the particle (hollow arrow)",
    "velocity": "velocity (momentum displacement, solid arrow)",
    "textbook_iterate": "Nesterov: textbook iterate w − μ·m (path = lookahead)",
    "step_size": "adaptive step size per coordinate",
}

#: Sweep metric -> (title, log colour scale).
SWEEP_METRICS = {
    "final_loss": ("median final loss", True),
    "steps": ("median steps to converge", False),
    "diverged": ("fraction of starts diverged", False),
    "converged": ("fraction of starts at a minimum", False),
}

#: Static figure formats (the suffix of `out`).
FIGURE_FORMATS = ("png", "svg", "pdf")
#: Animation formats (the suffix of `out`): `.png` writes a frame sequence.
VIDEO_FORMATS = ("mp4", "gif", "webm", "html", "png")

#: Video renderers of a scene spec's `[video]` table.
RENDERERS = ("matplotlib", "manim")

#: Panels an animation can link to the landscape.
PANELS = {
    "loss": "loss curves with a moving cursor",
    "internals": "effective step size, |velocity|, √v̂, Lion's sign over steps",
    "3d": "the surface in 3D with the paths on it",
}
