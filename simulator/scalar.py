"""The small-batch path of `simulate`: Keras rules stepped on Python floats.

Why it exists: a step of the array path costs about 40 numpy calls (the rule,
validation, divergence and recording bookkeeping), each about half a
microsecond whatever the array size, so a one-particle run of 500 steps took
20-35 ms while a plain-Python loop of the same Adam takes 0.3-0.6 ms. For a
handful of particles the cost is the per-step overhead, not the arithmetic, and
vectorising cannot remove it. So for tiny batches (`MAX_PARTICLES`) `simulate`
runs each particle as a loop over Python floats (the only place in the project
where particles and coordinates are looped over in Python), and builds exactly
the `Trace` the array path builds.

Why it is bit-identical: float64 `+ - * /` and `sqrt` are correctly rounded
in Python and numpy alike, and every rule below repeats its array version's
operations in the same order (the comments name the file). Powers are
`math.pow`, which `simulator.numerics.keras_pow` also calls for float64
scalars; surface kernels are the registry's own functions, called with floats
(only the ones listed in `_SURFACE_KERNELS`, and expression kernels, whose
scalar results the tests compare bit for bit with the array results).
`np.maximum` and `np.sign` are written out with their NaN behaviour. The
bookkeeping that does not feed the next step (statuses, `update`,
`effective_lr`) is computed after the loop with the array path's own numpy
expressions.

What it supports (anything else runs the array path, unchanged): float64;
`prod(batch) <= MAX_PARTICLES` and `prod(batch) * steps <= MAX_PARTICLE_STEPS`;
exactly (no subclass) the Keras `SGD` (momentum, Nesterov), `Adagrad`,
`RMSprop` (centered, momentum), `Adam` (AMSGrad), `AdamW`, `Nadam`, `Adamax`,
`Adadelta` and `Lion` with float hyperparameters and the default keyword tail
except `weight_decay` (no clipping, EMA, loss scaling or accumulation); a
float learning rate or a schedule (evaluated once per step before the loop,
with the same call); no gradient noise or the counter scheme (its normals are
drawn for every step at once: they depend only on seed, particle and step). A
Python float operation that raises where numpy returns inf or NaN (a division
by zero, a `math.pow` overflow, `sqrt` of a negative) abandons the fast path
and the run is repeated on the array path.

Disable it with `simulator.scalar.ENABLED = False` (the tests do, to compare).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import surfaces.analytic as _analytic
from simulator.noise import COUNTER, GradientNoise, normals
from simulator.optimizers.adadelta import Adadelta
from simulator.optimizers.adagrad import Adagrad
from simulator.optimizers.adam import Adam
from simulator.optimizers.adamax import Adamax
from simulator.optimizers.adamw import AdamW
from simulator.optimizers.base import is_callable_lr, is_schedule
from simulator.optimizers.keras_pipeline import KerasOptimizer
from simulator.optimizers.lion import Lion
from simulator.optimizers.nadam import Nadam
from simulator.optimizers.rmsprop import RMSprop
from simulator.optimizers.sgd import SGD
from simulator.recording import (
    RECORD_FIELDS,
    check_memory,
    finish_trace,
    recorded_steps,
    stationary_points,
    statuses,
)
from simulator.trace import Trace

__all__ = ["ENABLED", "MAX_PARTICLES", "MAX_PARTICLE_STEPS", "plan", "run"]

#: Switch for the whole path (False: every run takes the array path).
ENABLED = True
#: Largest batch (particles x hyperparameter points) run on floats. A float
#: step costs 2-4 us per particle, an array step 40-70 us for any small batch.
MAX_PARTICLES = 16
#: Largest `particles x steps`: the loop keeps every step's position and
#: gradient (for the convergence statuses), about 160 bytes a step as floats.
MAX_PARTICLE_STEPS = 250_000

_NAN = math.nan
_isfinite = math.isfinite
_sqrt = math.sqrt
_pow = math.pow


# Registry kernels that are plain arithmetic: called with floats they perform
# the array kernel's operations on scalars. Rastrigin's and Ackley's call numpy's
# `cos`/`sin`/`exp`, which on numpy scalars run the array loops (same bits);
# their results are made floats. Kernels with `**` run on 0-d arrays: Python's
# `**` calls glibc's `pow`, numpy's float64 power loop rounds differently.
# tests/test_scalar.py checks every kernel bit for bit against
# `Surface.value_and_grad`.
def _floats(fn: Callable) -> Callable:
    def kernel(x: float, y: float) -> tuple[float, float, float]:
        f, fx, fy = fn(x, y)
        return float(f), float(fx), float(fy)

    return kernel


_SURFACE_KERNELS: dict[Callable, Callable] = {
    fn: fn
    for fn in (
        _analytic._rosenbrock,
        _analytic._saddle,
        _analytic._valley,
        _analytic._long_valley,
        _analytic._beale,
        _analytic._himmelblau,
        _analytic._booth,
        _analytic._six_hump_camel,
        _analytic._goldstein_price,
    )
}
_SURFACE_KERNELS[_analytic._rastrigin] = _floats(_analytic._rastrigin)
_SURFACE_KERNELS[_analytic._ackley] = _floats(_analytic._ackley)


def _zero_d(fn: Callable) -> Callable:
    """A kernel with `**` run on 0-d arrays: numpy's power loop, not glibc's."""
    asarray = np.asarray

    def kernel(x: float, y: float) -> tuple[float, float, float]:
        f, fx, fy = fn(asarray(x), asarray(y))
        return float(f), float(fx), float(fy)

    return kernel


_SURFACE_KERNELS[_analytic._monkey_saddle] = _zero_d(_analytic._monkey_saddle)
_SURFACE_KERNELS[_analytic._styblinski_tang] = _zero_d(_analytic._styblinski_tang)


def _scalar_kernel(surface: Any) -> Callable | None:
    """`(x, y) -> (f, fx, fy)` on floats with the array kernel's bits, or None.

    An expression surface's kernel (`surfaces.from_expression`) turns its
    inputs into 0-d float64 arrays, so on floats it runs numpy's array loops,
    `np.power` included: the same bits, at 20-50 us a call instead of 1 us,
    still a fraction of an array step.
    """
    fn = getattr(surface, "fn", None)
    if fn in _SURFACE_KERNELS:
        return _SURFACE_KERNELS[fn]
    if (
        getattr(fn, "__module__", None) == "surfaces.expression"
        and getattr(fn, "__qualname__", None) == "from_expression.<locals>.kernel"
    ):
        return _floats(fn)
    return None


_TAIL_OFF = (
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "loss_scale_factor",
    "gradient_accumulation_steps",
)


def _maximum(a: float, b: float) -> float:
    """`np.maximum` of two floats: NaN if either is NaN."""
    return a if (a >= b or a != a) else b


def _sign(s: float) -> float:
    """`np.sign` of a float: 1.0, -1.0, 0.0 (for both zeros) or NaN."""
    if s > 0:
        return 1.0
    if s < 0:
        return -1.0
    return 0.0 if s == 0 else s


# ---------------------------------------------------------------------------
# Rules. Each `_X(opt, lrs)` returns `(names, make)`: the rule's own internals
# in the order the array rule returns them, as (name, per_coordinate), and
# `make()`, which builds one particle's fresh state and returns its
# `step(k, x, y, gx, gy, want) -> (new_x, new_y, extras)`; `extras` (only when
# `want`) lists the internals' values flat in `names` order. `lrs[k]` is the
# learning rate of step k, `x, y` the decayed weights when weight decay is on.
# ---------------------------------------------------------------------------


def _sgd(opt: SGD, lrs: list[float]):  # simulator/optimizers/sgd.py
    if not opt._has_momentum:

        def make_plain():
            def step(k, x, y, gx, gy, want):
                lr = lrs[k]
                return x - gx * lr, y - gy * lr, ((lr, lr) if want else None)

            return step

        return (("step_size", True),), make_plain
    mu = float(opt.momentum)
    nesterov = opt.nesterov
    names = [("velocity", True), ("step_size", True)]
    if nesterov:
        names += [("lookahead", True), ("nesterov_base", True)]

    def make():
        m0 = m1 = 0.0

        def step(k, x, y, gx, gy, want):
            nonlocal m0, m1
            lr = lrs[k]
            o0, o1 = m0, m1
            m0 = m0 * mu - gx * lr
            m1 = m1 * mu - gy * lr
            if nesterov:
                nx = x + (m0 * mu - gx * lr)
                ny = y + (m1 * mu - gy * lr)
            else:
                nx, ny = x + m0, y + m1
            if not want:
                return nx, ny, None
            extras = (m0, m1, lr, lr)
            if nesterov:
                extras += (x, y, x - mu * o0, y - mu * o1)
            return nx, ny, extras

        return step

    return tuple(names), make


def _adagrad(opt: Adagrad, lrs):  # simulator/optimizers/adagrad.py
    init = float(opt.initial_accumulator_value)
    eps = float(opt.epsilon)

    def make():
        a0 = a1 = init

        def step(k, x, y, gx, gy, want):
            nonlocal a0, a1
            lr = lrs[k]
            a0 = a0 + gx * gx
            a1 = a1 + gy * gy
            d0 = _sqrt(a0 + eps)
            d1 = _sqrt(a1 + eps)
            nx = x - (lr * gx) / d0
            ny = y - (lr * gy) / d1
            return nx, ny, ((a0, a1, lr / d0, lr / d1) if want else None)

        return step

    return (("second_moment", True), ("step_size", True)), make


def _rmsprop(opt: RMSprop, lrs):  # simulator/optimizers/rmsprop.py
    rho = float(opt.rho)
    omr = float(1 - opt.rho)
    eps = float(opt.epsilon)
    centered = opt.centered
    momentum = opt._has_momentum
    mu = float(opt.momentum)
    names = [("second_moment", True), ("step_size", True)]
    if momentum:
        names.insert(0, ("velocity", True))
    if centered:
        names.append(("average_gradient", True))

    def make():
        v0 = v1 = a0 = a1 = b0 = b1 = 0.0

        def step(k, x, y, gx, gy, want):
            nonlocal v0, v1, a0, a1, b0, b1
            lr = lrs[k]
            v0 = rho * v0 + omr * (gx * gx)
            v1 = rho * v1 + omr * (gy * gy)
            if centered:
                a0 = rho * a0 + omr * gx
                a1 = rho * a1 + omr * gy
                d0 = v0 - a0 * a0 + eps
                d1 = v1 - a1 * a1 + eps
            else:
                d0 = v0 + eps
                d1 = v1 + eps
            r0 = _sqrt(d0)
            r1 = _sqrt(d1)
            i0 = (lr * gx) / r0
            i1 = (lr * gy) / r1
            if momentum:
                b0 = mu * b0 + i0
                b1 = mu * b1 + i1
                nx, ny = x - b0, y - b1
            else:
                nx, ny = x - i0, y - i1
            if not want:
                return nx, ny, None
            extras = (v0, v1, lr / r0, lr / r1)
            if momentum:
                extras = (-b0, -b1, *extras)
            if centered:
                extras += (a0, a1)
            return nx, ny, extras

        return step

    return tuple(names), make


def _adam(opt: Adam, lrs):  # simulator/optimizers/adam.py
    b1, b2, eps = float(opt.beta_1), float(opt.beta_2), float(opt.epsilon)
    c1, c2 = float(1 - opt.beta_1), float(1 - opt.beta_2)
    amsgrad = opt.amsgrad
    alphas = [
        lrs[k] * _sqrt(1 - _pow(b2, k + 1.0)) / (1 - _pow(b1, k + 1.0))
        for k in range(len(lrs))
    ]
    names = [("first_moment", True), ("second_moment", True)]
    if amsgrad:
        names.append(("max_second_moment", True))
    names.append(("step_size", True))

    def make():
        m0 = m1 = v0 = v1 = h0 = h1 = 0.0

        def step(k, x, y, gx, gy, want):
            nonlocal m0, m1, v0, v1, h0, h1
            alpha = alphas[k]
            m0 = m0 + (gx - m0) * c1
            m1 = m1 + (gy - m1) * c1
            v0 = v0 + (gx * gx - v0) * c2
            v1 = v1 + (gy * gy - v1) * c2
            if amsgrad:
                h0 = _maximum(h0, v0)
                h1 = _maximum(h1, v1)
                d0 = _sqrt(h0) + eps
                d1 = _sqrt(h1) + eps
            else:
                d0 = _sqrt(v0) + eps
                d1 = _sqrt(v1) + eps
            nx = x - (m0 * alpha) / d0
            ny = y - (m1 * alpha) / d1
            if not want:
                return nx, ny, None
            if amsgrad:
                return nx, ny, (m0, m1, v0, v1, h0, h1, alpha / d0, alpha / d1)
            return nx, ny, (m0, m1, v0, v1, alpha / d0, alpha / d1)

        return step

    return tuple(names), make


def _nadam(opt: Nadam, lrs):  # simulator/optimizers/nadam.py
    b1, b2, eps = float(opt.beta_1), float(opt.beta_2), float(opt.epsilon)
    n = len(lrs)
    # Optimizer-wide, per step: u_t, u_{t+1}, the product P_t and b2**t.
    u_t, u_t1, prod, b2p = [], [], [], []
    p = 1.0
    for k in range(n):
        t = k + 1.0
        p = (p * b1) * (1.0 - 0.5 * _pow(0.96, t))  # `_pre_update`
        u_t.append(b1 * (1.0 - 0.5 * _pow(0.96, t)))
        u_t1.append(b1 * (1.0 - 0.5 * _pow(0.96, t + 1.0)))
        prod.append(p)
        b2p.append(_pow(b2, t))
    c1, c2 = 1 - b1, 1 - b2

    def make():
        m0 = m1 = v0 = v1 = 0.0

        def step(k, x, y, gx, gy, want):
            nonlocal m0, m1, v0, v1
            lr = lrs[k]
            ut, ut1, pt = u_t[k], u_t1[k], prod[k]
            pt1 = pt * ut1
            m0 = m0 + (gx - m0) * c1
            m1 = m1 + (gy - m1) * c1
            v0 = v0 + (gx * gx - v0) * c2
            v1 = v1 + (gy * gy - v1) * c2
            r1 = 1 / (1 - pt1)
            r0 = 1 / (1 - pt)
            ug = 1 - ut
            h0 = (ut1 * m0) * r1 + (ug * gx) * r0
            h1 = (ut1 * m1) * r1 + (ug * gy) * r0
            rv = 1 / (1 - b2p[k])
            d0 = _sqrt(v0 * rv) + eps
            d1 = _sqrt(v1 * rv) + eps
            nx = x - (h0 * lr) / d0
            ny = y - (h1 * lr) / d1
            if not want:
                return nx, ny, None
            return nx, ny, (m0, m1, v0, v1, ut, ut, lr / d0, lr / d1)

        return step

    names = (
        ("first_moment", True),
        ("second_moment", True),
        ("momentum_schedule", True),
        ("step_size", True),
    )
    return names, make


def _adamax(opt: Adamax, lrs):  # simulator/optimizers/adamax.py
    b1, b2, eps = float(opt.beta_1), float(opt.beta_2), float(opt.epsilon)
    c1 = float(1 - opt.beta_1)
    one_minus_b1p = [1 - _pow(b1, k + 1.0) for k in range(len(lrs))]

    def make():
        m0 = m1 = u0 = u1 = 0.0

        def step(k, x, y, gx, gy, want):
            nonlocal m0, m1, u0, u1
            lr = lrs[k]
            q = one_minus_b1p[k]
            m0 = m0 + (gx - m0) * c1
            m1 = m1 + (gy - m1) * c1
            u0 = _maximum(b2 * u0, abs(gx))
            u1 = _maximum(b2 * u1, abs(gy))
            d0 = q * (u0 + eps)
            d1 = q * (u1 + eps)
            nx = x - (lr * m0) / d0
            ny = y - (lr * m1) / d1
            return nx, ny, ((m0, m1, u0, u1, lr / d0, lr / d1) if want else None)

        return step

    names = (("first_moment", True), ("second_moment", True), ("step_size", True))
    return names, make


def _adadelta(opt: Adadelta, lrs):  # simulator/optimizers/adadelta.py
    rho = float(opt.rho)
    omr = float(1 - opt.rho)
    eps = float(opt.epsilon)

    def make():
        g0 = g1 = e0 = e1 = 0.0

        def step(k, x, y, gx, gy, want):
            nonlocal g0, g1, e0, e1
            lr = lrs[k]
            g0 = rho * g0 + omr * (gx * gx)
            g1 = rho * g1 + omr * (gy * gy)
            rd0 = _sqrt(e0 + eps)
            rd1 = _sqrt(e1 + eps)
            rg0 = _sqrt(g0 + eps)
            rg1 = _sqrt(g1 + eps)
            dv0 = -((rd0 * gx) / rg0)
            dv1 = -((rd1 * gy) / rg1)
            e0 = rho * e0 + omr * (dv0 * dv0)
            e1 = rho * e1 + omr * (dv1 * dv1)
            nx = x + lr * dv0
            ny = y + lr * dv1
            if not want:
                return nx, ny, None
            return nx, ny, (g0, g1, e0, e1, lr * rd0 / rg0, lr * rd1 / rg1)

        return step

    names = (
        ("second_moment", True),
        ("accumulated_delta", True),
        ("step_size", True),
    )
    return names, make


def _lion(opt: Lion, lrs):  # simulator/optimizers/lion.py
    b1, b2 = float(opt.beta_1), float(opt.beta_2)
    c1, c2 = 1.0 - b1, 1.0 - b2

    def make():
        m0 = m1 = 0.0

        def step(k, x, y, gx, gy, want):
            nonlocal m0, m1
            lr = lrs[k]
            s0 = _sign(m0 * b1 + gx * c1)
            s1 = _sign(m1 * b1 + gy * c1)
            nx = x - lr * s0
            ny = y - lr * s1
            m0 = m0 * b2 + gx * c2
            m1 = m1 * b2 + gy * c2
            return nx, ny, ((m0, m1, s0, s1, lr, lr) if want else None)

        return step

    names = (("first_moment", True), ("sign_update", True), ("step_size", True))
    return names, make


#: Exact classes only: a subclass (a flavour, a user's variant) may change the rule.
_RULES: dict[type, Callable] = {
    SGD: _sgd,
    Adagrad: _adagrad,
    RMSprop: _rmsprop,
    Adam: _adam,
    AdamW: _adam,
    Nadam: _nadam,
    Adamax: _adamax,
    Adadelta: _adadelta,
    Lion: _lion,
}


def _is_float(value: Any) -> bool:
    return isinstance(value, float) and not isinstance(value, np.ndarray)


def plan(
    surface: Any, opt: Any, starts: np.ndarray, steps: int, noise: float, scheme: str
):
    """The rule builder and weight decay for this run, or None (array path).

    Checks everything the float loop relies on; see the module docstring.
    """
    if not ENABLED or starts.dtype != np.float64:
        return None
    n = math.prod(starts.shape[:-1])
    if n > MAX_PARTICLES or n * steps > MAX_PARTICLE_STEPS:
        return None
    rule = _RULES.get(type(opt))
    if rule is None or _scalar_kernel(surface) is None:
        return None
    if noise and scheme != COUNTER:
        return None
    if not isinstance(opt, KerasOptimizer) or opt.use_ema:
        return None
    if any(getattr(opt, name) is not None for name in _TAIL_OFF):
        return None
    if opt._array_hyperparameters():
        return None
    if not all(
        _is_float(getattr(opt, name))
        for name in opt._hyperparameters
        if getattr(opt, name) is not None
    ):
        return None
    lr = opt.learning_rate
    if is_callable_lr(lr) or not (is_schedule(lr) or _is_float(lr)):
        return None
    wd = opt._weight_decay_coefficient(0, "position", 1)
    if wd is not None and not _is_float(wd):
        return None
    return rule, wd


def run(
    plan_: tuple,
    surface: Any,
    opt: Any,
    label: str,
    starts: np.ndarray,
    steps: int,
    record_every: int,
    record: tuple[str, ...],
    noise: float,
    seed: int,
    box: np.ndarray | None,
    clip: bool,
    tol: float,
    limit: Any,
    shared: dict,
    noise_source: tuple,
) -> Trace | None:
    """The `Trace` of `engine._run` for a planned run, or None to use the array path."""

    rule, wd = plan_
    B = starts.shape[:-1]
    n = math.prod(B)
    rows = recorded_steps(steps, record_every)
    R = len(rows)
    want_all = "internals" in record
    wanted = None if want_all else [r for r in record if r not in RECORD_FIELDS]
    lr = opt.learning_rate
    if is_schedule(lr):
        values = [np.asarray(lr(k, dtype=np.float64)) for k in range(steps)]
        if any(v.shape != () for v in values):
            return None  # a schedule over an array of learning rates
        lrs = [float(v) for v in values]
    else:
        lrs = [float(lr)] * steps
    names, make = rule(opt, lrs)
    # The array path's internals, in its order (collect_internals, then the rule's).
    all_names = [
        ("learning_rate", False),
        ("grad_position", True),
        ("gradient", True),
        ("update", True),
        ("effective_lr", True),
        *names,
    ]
    kept = [(nm, c) for nm, c in all_names if wanted is None or nm in wanted]
    # No step, no internals: the array path allocates them at the first step.
    want_internals = bool(kept) and (want_all or bool(wanted)) and steps > 0
    base_numbers = 2 + ("loss" in record) + 2 * ("gradient" in record)
    check_memory(limit, base_numbers * n, R, B, 8)
    if want_internals:
        numbers = base_numbers * n + sum(n * (2 if c else 1) for _, c in kept)
        check_memory(limit, numbers, R, B, 8)

    nz = None
    if noise:
        scheme, index = noise_source
        gen = GradientNoise(seed, B, steps, index=index, scheme=scheme)  # validates
        z = normals(seed, np.arange(steps), gen._index.reshape(-1))  # (steps, n, 2)
        nz = noise * z
    is_row = np.zeros(steps + 1, dtype=bool)
    is_row[rows[1:]] = True
    row_steps = is_row[1:].tolist() if want_internals else None
    kern = _scalar_kernel(surface)
    box_list = None if box is None else box.tolist()
    flat = starts.reshape(n, 2).tolist()
    hist = np.empty((n, steps + 1, 5))
    info = []
    div_step = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, "", dtype="<U18")
    clip_events = 0
    # Numpy scalars (Rastrigin's cos) follow numpy's rules, silently.
    with np.errstate(all="ignore"):
        for p in range(n):
            step = make()
            noise_p = None if nz is None else nz[:, p].ravel().tolist()
            try:
                h, recs, extras, died, why, clips = _particle(
                    kern, step, *flat[p], steps, noise_p, box_list, clip,
                    row_steps, wd, lrs,
                )  # fmt: skip
            except (ArithmeticError, ValueError):
                return None  # a float raised where numpy gives inf or NaN
            hist[p] = h
            info.append((recs, extras))
            if why:
                div_step[p] = died
                reason[p] = why
            clip_events += clips

    minima, others = stationary_points(surface)
    status = statuses(hist[..., :2], hist[..., 3:5], minima, others, tol)
    # `engine._Convergence`: the last status, and the last step it changed.
    cand = status[:, -1]
    cand_step = np.zeros(n, dtype=np.int64)
    if steps:
        changed = status[:, 1:] != status[:, :-1]
        last = steps - np.argmax(changed[:, ::-1], axis=1)
        cand_step = np.where(changed.any(axis=1), last, cand_step)
    recorded = hist[:, rows]  # (n, R, 5)
    positions = np.ascontiguousarray(
        np.moveaxis(recorded[..., :2], 0, 1).reshape(R, *B, 2)
    )
    loss = gradient = None
    if "loss" in record:
        loss = np.ascontiguousarray(recorded[..., 2].T.reshape(R, *B))
    if "gradient" in record:
        gradient = np.ascontiguousarray(
            np.moveaxis(recorded[..., 3:5], 0, 1).reshape(R, *B, 2)
        )
    internals = (
        _internals(info, names, kept, rows, steps, lrs, B, n) if want_internals else {}
    )
    return finish_trace(
        shared,
        opt,
        label,
        clip_events,
        surface,
        rows=rows,
        positions=positions,
        loss=loss,
        gradient=gradient,
        internals=internals,
        div_step=div_step.reshape(B),
        reason=reason.reshape(B),
        cand=cand.reshape(B),
        cand_step=cand_step.reshape(B),
    )


def _particle(kern, step, x, y, steps, nz, box, clip, row_steps, wd, lrs):
    """One particle's run: `engine._run`'s step loop on floats.

    Returns `(hist (steps + 1, 5) of x, y, f, gx, gy after each step, records
    [(k, x, y, gx, gy, new_x, new_y)], extras, divergence step, reason, clip
    events)`. A particle that diverges stops: the array path freezes it at
    its last finite position, so every later row repeats the last one.
    """
    isfinite = _isfinite
    f, gx, gy = kern(x, y)
    hist = [(x, y, f, gx, gy)]
    push = hist.append
    recs, extras = [], []
    died, why, clips = -1, "", 0
    for k in range(steps):
        s = f + gx + gy
        if s - s != 0:  # some value is inf or NaN (or the sum overflowed)
            if not isfinite(f):
                died, why = k, "nonfinite_loss"
                break
            if not (isfinite(gx) and isfinite(gy)):
                died, why = k, "nonfinite_gradient"
                break
        if nz is not None:
            gx = gx + nz[2 * k]
            gy = gy + nz[2 * k + 1]
        want = row_steps is not None and row_steps[k]
        if wd is None:
            nx, ny, extra = step(k, x, y, gx, gy, want)
        else:  # decoupled decay before the rule: w - w*wd*lr
            lr = lrs[k]
            nx, ny, extra = step(k, x - x * wd * lr, y - y * wd * lr, gx, gy, want)
        if want:
            recs.append((k, x, y, gx, gy, nx, ny))
            extras.append(extra)
        if not (isfinite(nx) and isfinite(ny)):
            died, why = k + 1, "nonfinite_position"
            break
        if box is not None:
            (x0, x1), (y0, y1) = box
            if nx < x0 or nx > x1 or ny < y0 or ny > y1:
                if not clip:
                    died, why = k + 1, "out_of_bound"
                    break
                clips += 1
                nx = x0 if nx < x0 else (x1 if nx > x1 else nx)
                ny = y0 if ny < y0 else (y1 if ny > y1 else ny)
        x, y = nx, ny
        f, gx, gy = kern(x, y)
        push((x, y, f, gx, gy))
    out = np.empty((steps + 1, 5))
    out[: len(hist)] = hist
    out[len(hist) :] = out[len(hist) - 1]
    return out, recs, extras, died, why, clips


def _internals(info, names, kept, rows, steps, lrs, B, n) -> dict[str, np.ndarray]:
    """The internals rows from the recorded steps, NaN after divergence."""
    row_of = np.full(steps, -1, dtype=np.int64)
    row_of[rows[1:] - 1] = np.arange(len(rows) - 1)
    R1 = len(rows) - 1
    lr_arr = np.asarray(lrs, dtype=np.float64)
    out = {nm: np.full((R1, n, 2) if c else (R1, n), np.nan) for nm, c in kept}
    for p, (recs, extras) in enumerate(info):
        if not recs:
            continue
        rec = np.array(recs)  # (r, 7): k, x, y, gx, gy, new_x, new_y
        k = rec[:, 0].astype(np.int64)
        r = row_of[k]
        w_in, g, w_out = rec[:, 1:3], rec[:, 3:5], rec[:, 5:7]
        shared = {"learning_rate": lr_arr[k], "grad_position": w_in, "gradient": g}
        if "update" in out or "effective_lr" in out:
            u = w_out - w_in
            shared["update"] = u
            with np.errstate(divide="ignore", invalid="ignore"):
                nonzero = g != 0
                shared["effective_lr"] = np.where(
                    nonzero, -u / np.where(nonzero, g, 1), np.nan
                )
        ex = np.array(extras, dtype=np.float64).reshape(len(recs), -1)
        col = 0
        for nm, c in names:
            width = 2 if c else 1
            if nm in out:
                shared[nm] = ex[:, col : col + width] if c else ex[:, col]
            col += width
        for nm in out:
            out[nm][r, p] = shared[nm]
    return {nm: v.reshape(R1, *B, *v.shape[2:]) for nm, v in out.items()}
