"""Records float64 trajectories of real `torch.optim` optimizers for the torch flavour.

Run (needs torch; CPU build is enough):
    PYTHONPATH=. python tests/data/torch-optimizer-goldens-gen.py
Writes tests/data/torch-optimizer-goldens.json next to this file. Protocol: one
(N, 2) float64 parameter holds N particles; each step sets `.grad` to the float64
surface gradient at the current value (tests/flavour_surfaces.py; negated for
`maximize=True`) and calls `opt.step()` with `foreach=False` (torch's CPU path).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flavour_surfaces import ROWS, STEPS, SURFACES, gradient

#: torch class name -> keyword sets; between them they cover every numeric and
#: boolean argument of the class (foreach/fused/capturable/differentiable are
#: implementation switches with the same maths).
CONFIGS = {
    "SGD": [
        {"lr": 1e-3},
        {"lr": 1e-3, "momentum": 0.9},
        {"lr": 1e-3, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01},
        {"lr": 1e-3, "momentum": 0.8, "nesterov": True},
        {"lr": 1e-3, "momentum": 0.9, "maximize": True},
    ],
    "Adam": [
        {"lr": 0.01},
        {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "amsgrad": True},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.02, "maximize": True},
    ],
    "AdamW": [
        {"lr": 0.01},
        {
            "lr": 0.02,
            "betas": (0.85, 0.995),
            "eps": 1e-7,
            "weight_decay": 0.05,
            "amsgrad": True,
            "maximize": True,
        },
    ],
    "NAdam": [
        {"lr": 0.01},
        {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.01},
        {
            "lr": 0.01,
            "betas": (0.85, 0.99),
            "eps": 1e-6,
            "weight_decay": 0.01,
            "decoupled_weight_decay": True,
            "maximize": True,
        },
    ],
    "RAdam": [
        {"lr": 1e-3},
        {"lr": 1e-3, "betas": (0.9, 0.99), "weight_decay": 0.01},
        {
            "lr": 1e-3,
            "eps": 1e-6,
            "weight_decay": 0.05,
            "decoupled_weight_decay": True,
            "maximize": True,
        },
    ],
    "RMSprop": [
        {"lr": 1e-3},
        {"lr": 1e-3, "alpha": 0.9, "centered": True},
        {"lr": 5e-4, "momentum": 0.9, "weight_decay": 0.01, "eps": 1e-6},
        {"lr": 1e-3, "centered": True, "momentum": 0.5, "maximize": True},
    ],
    "Adagrad": [
        {"lr": 0.1},
        {
            "lr": 0.1,
            "lr_decay": 0.01,
            "initial_accumulator_value": 0.1,
            "weight_decay": 0.01,
            "eps": 1e-8,
            "maximize": True,
        },
    ],
    "Adamax": [
        {"lr": 0.01},
        {
            "lr": 0.02,
            "betas": (0.8, 0.99),
            "eps": 1e-6,
            "weight_decay": 0.01,
            "maximize": True,
        },
    ],
    "Adadelta": [
        {"lr": 1.0},
        {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01, "maximize": True},
    ],
}


def text(name: str, kwargs: dict) -> str:
    """`torch:Adam(lr=0.01, betas=(0.8, 0.99))`: the flavour text of a config."""
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"torch:{name}({args})"


def run(name: str, kwargs: dict, surface: str) -> list:
    start = np.array(SURFACES[surface][1], dtype=np.float64)
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], foreach=False, **kwargs)
    rows = []
    for k in range(STEPS):
        g = gradient(surface, p.detach().numpy().copy(), kwargs.get("maximize", False))
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        if k in ROWS:
            rows.append(p.detach().numpy().tolist())
    if not np.all(np.isfinite(rows)) or np.max(np.abs(rows)) > 50:
        raise SystemExit(f"{text(name, kwargs)} on {surface} diverged; lower lr")
    return rows


def main() -> None:
    torch.set_default_dtype(torch.float64)  # state scalars (NAdam's mu_product)
    runs = {}
    for name, configs in CONFIGS.items():
        for kwargs in configs:
            runs[text(name, kwargs)] = {s: run(name, kwargs, s) for s in SURFACES}
    out = {
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "steps": STEPS,
        "rows": ROWS,
        "protocol": __doc__.split("Protocol: ")[1].strip(),
        "runs": runs,
    }
    path = Path(__file__).with_name("torch-optimizer-goldens.json")
    path.write_text(json.dumps(out, indent=0) + "\n")
    print(f"wrote {len(runs)} configurations x {len(SURFACES)} surfaces to {path}")


if __name__ == "__main__":
    main()
