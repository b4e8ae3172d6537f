"""Hypothesis: any optimizer, arguments, surface, starts: no crash, finite positions."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import surfaces
from simulator import optimizers, simulate

LR = st.floats(1e-4, 2.0)
UNIT = st.floats(0.0, 0.999)

# Per optimizer: a strategy for keyword arguments Keras accepts.
ARGUMENTS = {
    "SGD": st.fixed_dictionaries(
        {"learning_rate": LR, "momentum": UNIT, "nesterov": st.booleans()}
    ),
    "RMSprop": st.fixed_dictionaries(
        {"learning_rate": LR, "rho": UNIT, "momentum": UNIT, "centered": st.booleans()}
    ),
    "Adam": st.fixed_dictionaries(
        {"learning_rate": LR, "beta_1": UNIT, "amsgrad": st.booleans()}
    ),
    "AdamW": st.fixed_dictionaries({"learning_rate": LR, "weight_decay": UNIT}),
    "Adadelta": st.fixed_dictionaries({"learning_rate": LR, "rho": UNIT}),
    "Adagrad": st.fixed_dictionaries({"learning_rate": LR}),
    "Adamax": st.fixed_dictionaries({"learning_rate": LR}),
    "Nadam": st.fixed_dictionaries({"learning_rate": LR}),
    "Lion": st.fixed_dictionaries(
        {"learning_rate": LR, "beta_1": st.floats(1e-3, 1.0)}
    ),
    "Lamb": st.fixed_dictionaries({"learning_rate": LR}),
    "Ftrl": st.fixed_dictionaries({"learning_rate": LR}),
    "Adafactor": st.fixed_dictionaries({"learning_rate": LR}),
    "Muon": st.fixed_dictionaries({"learning_rate": LR}),
    "ScheduleFreeAdamW": st.fixed_dictionaries({"learning_rate": LR}),
}
TAIL = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"clipnorm": st.floats(0.1, 10.0)}),
    st.fixed_dictionaries({"clipvalue": st.floats(0.1, 10.0)}),
    st.fixed_dictionaries({"global_clipnorm": st.floats(0.1, 10.0)}),
).flatmap(
    lambda clip: st.fixed_dictionaries(
        {key: st.just(value) for key, value in clip.items()},
        optional={
            "use_ema": st.booleans(),
            "gradient_accumulation_steps": st.integers(2, 4),
        },
    )
)


@st.composite
def runs(draw):
    name = draw(st.sampled_from(sorted(ARGUMENTS)))
    kwargs = {**draw(ARGUMENTS[name]), **draw(TAIL)}
    surface = surfaces.get(draw(st.sampled_from(surfaces.names())))
    (x0, x1), (y0, y1) = surface.view
    n = draw(st.integers(1, 4))
    xs = draw(st.lists(st.floats(x0, x1), min_size=n, max_size=n))
    ys = draw(st.lists(st.floats(y0, y1), min_size=n, max_size=n))
    noise = draw(st.sampled_from([0.0, 0.0, 1.0]))
    return getattr(optimizers, name)(**kwargs), surface, np.c_[xs, ys], noise


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_never_crashes_never_nonfinite_positions(run):
    opt, surface, starts, noise = run
    trace = simulate(surface, opt, starts, 40, noise=noise, seed=1)
    assert np.isfinite(trace.positions).all()
    assert trace.positions.shape == (41, len(starts), 2)
    # A particle that did not diverge has finite loss throughout.
    ok = ~trace.diverged
    assert np.isfinite(trace.loss[:, ok]).all()
    # A diverged one is frozen from its divergence step on.
    for k in np.flatnonzero(trace.diverged):
        step = trace.diverged_step[k]
        assert (trace.positions[step:, k] == trace.positions[step, k]).all()
