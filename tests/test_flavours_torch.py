"""torch flavour vs recorded `torch.optim` goldens (float64, 250 steps, 3 surfaces).

The goldens come from tests/data/torch-optimizer-goldens-gen.py (real torch, CPU);
this test needs no torch. `test_live_torch` reruns a few configurations against
torch itself when it is installed (opt-in: torch is not a dependency).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from flavour_surfaces import ROWS, STEPS, SURFACES, gradient

from simulator.optimizers import parse
from simulator.optimizers.flavours.torch_rules import TORCH_OPTIMIZERS

GOLDENS = json.loads(
    (Path(__file__).parent / "data" / "torch-optimizer-goldens.json").read_text()
)
RUNS = [(text, s) for text, runs in GOLDENS["runs"].items() for s in runs]


def _trajectory(text: str, surface: str) -> np.ndarray:
    """Our torch flavour's recorded rows under the goldens' protocol."""
    opt = parse(text)
    p = np.array(SURFACES[surface][1], dtype=np.float64)
    state = opt.init([p], batch_ndim=1)
    rows = []
    for k in range(STEPS):
        g = gradient(surface, p, opt.maximize)
        res = opt.step([p], [g], state, internals=False)
        p, state = res.params[0], res.state
        if k in ROWS:
            rows.append(p)
    return np.array(rows)


def test_goldens_cover_every_torch_optimizer_and_argument():
    assert GOLDENS["torch_version"].startswith("2.13.0")
    assert GOLDENS["steps"] == STEPS >= 200
    assert GOLDENS["rows"] == ROWS
    for cls in TORCH_OPTIMIZERS:
        texts = [
            t for t in GOLDENS["runs"] if t.startswith(f"torch:{cls.public_name}(")
        ]
        used = {m for t in texts for m in re.findall(r"(\w+)=", t)}
        assert set(cls._defaults) <= used, (cls.public_name, set(cls._defaults) - used)


@pytest.mark.parametrize(("text", "surface"), RUNS, ids=[f"{t}-{s}" for t, s in RUNS])
def test_torch_flavour_matches_goldens(text, surface):
    ref = np.array(GOLDENS["runs"][text][surface])
    ours = _trajectory(text, surface)
    assert ours.shape == ref.shape
    err = np.max(np.abs(ours - ref)) / np.max(np.abs(ref))
    assert err <= 1e-12, f"relative error {err:.2e}"


LIVE = [
    "torch:Adam(lr=0.05, betas=(0.8, 0.99), eps=1e-06, amsgrad=True)",
    "torch:RMSprop(lr=0.001, alpha=0.9, centered=True)",
    "torch:SGD(lr=0.001, momentum=0.8, nesterov=True)",
    "torch:NAdam(lr=0.01)",
]


@pytest.mark.parametrize("text", LIVE)
def test_live_torch(text):
    torch = pytest.importorskip(
        "torch", reason="torch is opt-in (pip install torch); goldens cover it"
    )
    torch.set_default_dtype(torch.float64)
    name = re.match(r"torch:(\w+)\(", text).group(1)
    kwargs = {
        k: (tuple(v) if isinstance(v, list) else v)
        for k, v in parse(text).get_config().items()
    }
    surface = "rosenbrock"
    p = torch.tensor(SURFACES[surface][1], dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], foreach=False, **kwargs)
    rows = []
    for k in range(STEPS):
        p.grad = torch.tensor(gradient(surface, p.detach().numpy().copy(), False))
        opt.step()
        if k in ROWS:
            rows.append(p.detach().numpy().copy())
    ref = np.array(rows)
    err = np.max(np.abs(_trajectory(text, surface) - ref)) / np.max(np.abs(ref))
    assert err <= 1e-12, f"relative error {err:.2e} against torch {torch.__version__}"
