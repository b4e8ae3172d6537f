"""The built-in analytic 2D test surfaces, each with a closed-form gradient.

Every kernel maps `x, y` (arrays of one shape) to `(f, df/dx, df/dy)`. Locations
that are not exact were found with `scipy.optimize.root(method="hybr", tol=1e-15)`
on the analytic gradient from a 41 x 41 grid of starts over the view, polished
with three Newton steps (finite-difference Hessian) and classified by the
Hessian's eigenvalues (scratch script, Nov 2026); at every printed point
|grad| / (1 + |f|) < 4e-14. Values were then evaluated at the printed points in
float64 (tests/test_surfaces.py re-checks both).
"""

from __future__ import annotations

import numpy as np

from surfaces.base import CriticalPoint, Surface

__all__ = ["BUILTIN"]

TWO_PI = 2.0 * np.pi


def _glob(x: float, y: float, v: float) -> CriticalPoint:
    return CriticalPoint((float(x), float(y)), float(v), "global")


def _loc(x: float, y: float, v: float) -> CriticalPoint:
    return CriticalPoint((float(x), float(y)), float(v), "local")


def _sad(x: float, y: float, v: float) -> CriticalPoint:
    return CriticalPoint((float(x), float(y)), float(v), "saddle")


def _max(x: float, y: float, v: float) -> CriticalPoint:
    return CriticalPoint((float(x), float(y)), float(v), "maximum")


# -- Rosenbrock ----------------------------------------------------------------


def _rosenbrock(x, y):
    """Rosenbrock's banana, a = 1, b = 100: SciPy's `rosen`/`rosen_der`, fused.

    f(x, y) = (1 - x)**2 + 100*(y - x**2)**2
    grad    = (-2*(1 - x) - 400*x*(y - x**2), 200*(y - x**2))

    Domain: R^2 (view [-2, 2] x [-1, 3]). Optimum: f(1, 1) = 0, no other
    stationary point. The operations are SciPy's, in SciPy's order
    (`100.0 * (x1 - x0**2.0)**2.0 + (1 - x0)**2.0`; `-400 * x0 * (x1 - x0**2) -
    2 * (1 - x0)`; `200 * (x1 - x0**2)`), so every value is bit-identical to
    `scipy.optimize.rosen(np.stack([x, y]))` and `rosen_der(...)` (tested), but
    the shared `y - x**2` is computed once and the array-API dispatch SciPy
    does per call is skipped: 23 us instead of 57 us for 10,000 points, which
    is a third of a swarm step. `t**2.0` and `t*t` round identically (numpy
    computes a power of 2.0 as a square).
    Reference: H. H. Rosenbrock, "An automatic method for finding the greatest or
    least value of a function", The Computer Journal 3(3), 1960.
    """
    t = y - x * x
    u = 1 - x
    f = t * t
    f *= 100.0
    f += u * u
    fx = -400 * x
    fx *= t
    fx -= 2 * u
    return f, fx, 200 * t


def _rosenbrock_value(x, y):
    """`_rosenbrock`'s f alone, the same operations (bit-identical, tested): the
    loss where the gradient is taken elsewhere (textbook Nesterov)."""
    t = y - x * x
    u = 1 - x
    f = t * t
    f *= 100.0
    f += u * u
    return f


# -- saddles -------------------------------------------------------------------


def _saddle(x, y):
    """f = x**2 - y**2; grad = (2x, -2y). Saddle f(0, 0) = 0; unbounded below."""
    return x * x - y * y, 2.0 * x, -2.0 * y


def _monkey_saddle(x, y):
    """f = x**3 - 3*x*y**2; grad = (3x**2 - 3y**2, -6xy).

    Degenerate (third-order) saddle at the origin with three descending valleys;
    unbounded below.
    """
    return x**3 - 3.0 * x * y * y, 3.0 * (x * x - y * y), -6.0 * x * y


# -- valleys -------------------------------------------------------------------


def _valley(x, y):
    """Tilted double well: a shallow local minimum, a ridge and a deep global one.

    f(x, y) = x**4/4 - x**3/3 - x**2 + y**2
    df/dx   = x**3 - x**2 - 2x = x (x + 1)(x - 2),   df/dy = 2y

    Stationary points (exact): local minimum (-1, 0), f = -5/12; saddle (the ridge
    crossing) (0, 0), f = 0; global minimum (2, 0), f = -8/3. Barrier seen from
    the local minimum: 5/12. Curvatures d2f/dx2 = 3x**2 - 2x - 2: 3 at x = -1,
    6 at x = 2, and 21.75 at the default start x = -2.5 (so lr * curvature stays
    well below the stability limits 2 (plain) and 3.8 (momentum 0.9) for lr <= 0.02).

    Design claim (tested in tests/test_valley_claim.py with the real Keras-exact
    optimizer, 500 steps): from the default start (-2.5, 1.0), plain
    `SGD(learning_rate=0.01)` follows the gradient downhill and settles in the
    local minimum (-1, 0) -- it can never climb the ridge, because with a small
    learning rate it behaves like gradient flow, which decreases f monotonically.
    `SGD(learning_rate=0.01, momentum=0.9)` gathers speed on the steep left wall
    and coasts over the ridge into the global minimum (2, 0). In a scratch scan
    the momentum claim held for every start x0 in [-3.0, -2.2] (y0 = 1) and every
    learning rate in [0.005, 0.02]; plain SGD was trapped for all of them.
    """
    x2 = x * x
    return (
        0.25 * x2 * x2 - x2 * x / 3.0 - x2 + y * y,
        x * (x + 1.0) * (x - 2.0),
        2.0 * y,
    )


def _long_valley(x, y):
    """Ill-conditioned quadratic valley, axis aligned.

    f(x, y) = 0.1*x**2 + 10*y**2;  grad = (0.2x, 20y)

    Hessian diag(0.2, 20): condition number kappa = 100. Plain gradient descent
    needs lr < 2/20 = 0.1 for stability across the valley but then creeps along
    it by a factor (1 - 0.2 lr) per step. Optimum: f(0, 0) = 0.
    """
    return 0.1 * x * x + 10.0 * y * y, 0.2 * x, 20.0 * y


# -- classic benchmarks --------------------------------------------------------


def _beale(x, y):
    """Beale's function.

    f = (1.5 - x + xy)**2 + (2.25 - x + xy**2)**2 + (2.625 - x + xy**3)**2
    With t1, t2, t3 the three residuals:
    df/dx = 2 t1 (y - 1) + 2 t2 (y**2 - 1) + 2 t3 (y**3 - 1)
    df/dy = 2 t1 x + 4 t2 x y + 6 t3 x y**2

    Domain [-4.5, 4.5]^2. Optimum f(3, 0.5) = 0. Saddles (0, 1) (f = 14.203125,
    exact) and near (0.1005, -2.6445) (refined).
    Reference: E. M. L. Beale, "On an iterative method for finding a local minimum
    of a function of more than one variable", Princeton, 1958.
    """
    xy = x * y
    xy2 = xy * y
    xy3 = xy2 * y
    t1 = 1.5 - x + xy
    t2 = 2.25 - x + xy2
    t3 = 2.625 - x + xy3
    f = t1 * t1 + t2 * t2 + t3 * t3
    fx = 2.0 * (t1 * (y - 1.0) + t2 * (y * y - 1.0) + t3 * (y * y * y - 1.0))
    fy = 2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y * y)
    return f, fx, fy


def _himmelblau(x, y):
    """Himmelblau's function.

    f = (x**2 + y - 11)**2 + (x + y**2 - 7)**2
    df/dx = 4x (x**2 + y - 11) + 2 (x + y**2 - 7)
    df/dy = 2 (x**2 + y - 11) + 4y (x + y**2 - 7)

    Domain [-5, 5]^2. Four global minima with f = 0: (3, 2) (exact) and three
    refined ones; a local maximum near (-0.2708, -0.9230), f = 181.6165; four
    saddles. Reference: D. M. Himmelblau, "Applied Nonlinear Programming", 1972.
    """
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return a * a + b * b, 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b


def _rastrigin(x, y):
    """Rastrigin's function (A = 10, n = 2).

    f = 20 + x**2 + y**2 - 10 (cos 2 pi x + cos 2 pi y)
    df/dx = 2x + 20 pi sin(2 pi x)   (same in y)

    Domain [-5.12, 5.12]^2. Global optimum f(0, 0) = 0; a local minimum near every
    integer lattice point, e.g. (+-0.99496, 0) with f = 0.99496 and
    (+-0.99496, +-0.99496) with f = 1.98992 (refined 1-D root t* of
    t + 10 pi sin(2 pi t) = 0). Reference: L. A. Rastrigin, "Systems of extremal
    control", 1974.
    """
    cx = np.cos(TWO_PI * x)
    cy = np.cos(TWO_PI * y)
    f = 20.0 + x * x + y * y - 10.0 * (cx + cy)
    return (
        f,
        2.0 * x + 20.0 * np.pi * np.sin(TWO_PI * x),
        (2.0 * y + 20.0 * np.pi * np.sin(TWO_PI * y)),
    )


def _ackley(x, y):
    """Ackley's function (a = 20, b = 0.2, c = 2 pi).

    r = sqrt((x**2 + y**2)/2),  E = exp((cos 2 pi x + cos 2 pi y)/2)
    f = -20 exp(-0.2 r) - E + e + 20
    df/dx = 2 x exp(-0.2 r) / r + pi sin(2 pi x) E      (same in y)

    The cone term is not differentiable at the origin (x/r has no limit); there we
    return its subgradient 0, never NaN. Domain [-32.768, 32.768]^2 (view
    [-5, 5]^2). Optimum f(0, 0) = 0 (up to rounding of e - e). Reference:
    D. H. Ackley, "A connectionist machine for genetic hillclimbing", 1987.
    """
    r = np.sqrt(0.5 * (x * x + y * y))
    cone = np.exp(-0.2 * r)
    big_e = np.exp(0.5 * (np.cos(TWO_PI * x) + np.cos(TWO_PI * y)))
    f = -20.0 * cone - big_e + np.e + 20.0
    # 2 exp(-0.2 r)/r blows up as 1/r, but x/r stays bounded; at r = 0 use 0.
    safe_r = np.where(r > 0.0, r, 1.0)
    k = np.where(r > 0.0, 2.0 * cone / safe_r, 0.0)
    fx = k * x + np.pi * np.sin(TWO_PI * x) * big_e
    fy = k * y + np.pi * np.sin(TWO_PI * y) * big_e
    return f, fx, fy


def _booth(x, y):
    """Booth's function.

    f = (x + 2y - 7)**2 + (2x + y - 5)**2
    grad = (2 a + 4 b, 4 a + 2 b) with a = x + 2y - 7, b = 2x + y - 5

    A convex quadratic (Hessian [[10, 8], [8, 10]], condition number 9). Optimum
    f(1, 3) = 0. Domain [-10, 10]^2.
    """
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    return a * a + b * b, 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b


def _styblinski_tang(x, y):
    """Styblinski-Tang function (n = 2).

    f = (x**4 - 16 x**2 + 5 x + y**4 - 16 y**2 + 5 y) / 2
    df/dx = (4 x**3 - 32 x + 5) / 2   (same in y)

    Separable: each coordinate sits at a root of 4t^3 - 32t + 5 = 0, t1 = -2.9035
    (min), t2 = 0.1567 (max), t3 = 2.7468 (min) (np.roots + Newton polish).
    Global optimum f(t1, t1) = -78.33233; local minima (t1, t3), (t3, t1),
    (t3, t3); saddles (t1, t2), (t2, t1), (t3, t2), (t2, t3); maximum (t2, t2).
    Domain [-5, 5]^2. Reference: M. A. Styblinski and T.-S. Tang, Neural
    Networks 3(4), 1990.
    """
    f = 0.5 * (x**4 - 16.0 * x * x + 5.0 * x + y**4 - 16.0 * y * y + 5.0 * y)
    return f, 2.0 * x**3 - 16.0 * x + 2.5, 2.0 * y**3 - 16.0 * y + 2.5


def _six_hump_camel(x, y):
    """Six-hump camel function.

    f = (4 - 2.1 x**2 + x**4/3) x**2 + x y + (-4 + 4 y**2) y**2
    df/dx = 8x - 8.4 x**3 + 2 x**5 + y,   df/dy = x - 8y + 16 y**3

    Domain [-3, 3] x [-2, 2]. Two global minima f(+-0.0898, -+0.7127) =
    -1.0316285; local minima (+-1.7036, -+0.7961) (f = -0.21546) and
    (+-1.6071, +-0.5687) (f = 2.10425); saddles at the origin and six more.
    Reference: L. C. W. Dixon and G. P. Szego, "The global optimization problem:
    an introduction", 1978.
    """
    x2 = x * x
    y2 = y * y
    f = (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2
    fx = 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y
    fy = x - 8.0 * y + 16.0 * y2 * y
    return f, fx, fy


def _goldstein_price(x, y):
    """Goldstein-Price function.

    f = A B,  A = 1 + u**2 P,  B = 30 + v**2 Q,  u = x + y + 1,  v = 2x - 3y,
    P = 19 - 14x + 3x**2 - 14y + 6xy + 3y**2,
    Q = 18 - 32x + 12x**2 + 48y - 36xy + 27y**2.
    dA/dx = dA/dy = 2u P + u**2 (-14 + 6x + 6y),
    dB/dx = 4v Q + v**2 (-32 + 24x - 36y),  dB/dy = -6v Q + v**2 (48 - 36x + 54y),
    grad = (A_x B + A B_x, A_y B + A B_y).

    Domain [-2, 2]^2. Global optimum f(0, -1) = 3; local minima (-0.6, -0.4) = 30,
    (1.8, 0.2) = 84, (1.2, 0.8) = 840; saddles (-0.4, -0.6), (0.6, 0.4),
    (1.2, -0.2), (1.4, 0.6); maximum (0.8, 0.2) (root finding converged to these
    decimal points to 1e-13; values checked in the tests). Values span 3 .. 1e6:
    use log contours. Reference: A. A. Goldstein and J. F. Price, Math. Comp. 25,
    1971.
    """
    u = x + y + 1.0
    v = 2.0 * x - 3.0 * y
    p = 19.0 - 14.0 * x + 3.0 * x * x - 14.0 * y + 6.0 * x * y + 3.0 * y * y
    q = 18.0 - 32.0 * x + 12.0 * x * x + 48.0 * y - 36.0 * x * y + 27.0 * y * y
    a = 1.0 + u * u * p
    b = 30.0 + v * v * q
    a_x = 2.0 * u * p + u * u * (-14.0 + 6.0 * x + 6.0 * y)  # == a_y
    b_x = 4.0 * v * q + v * v * (-32.0 + 24.0 * x - 36.0 * y)
    b_y = -6.0 * v * q + v * v * (48.0 - 36.0 * x + 54.0 * y)
    return a * b, a_x * b + a * b_x, a_x * b + a * b_y


# -- metadata --------------------------------------------------------------------


def _rastrigin_minima() -> tuple[CriticalPoint, ...]:
    """All 121 minima of Rastrigin's function in [-5.12, 5.12]^2, global first.

    The function is separable: its minima are the pairs (t_i, t_j) of the 1-D
    minima t_n (one near each integer n = -5..5, the roots of
    h(t) = t + 10 pi sin(2 pi t) near n, refined by Newton's method from n; h'
    = 1 + 20 pi^2 cos(2 pi t) > 0 there), with f = g(t_i) + g(t_j),
    g(t) = t**2 + 10 - 10 cos(2 pi t). (Listing only the seven nearest the
    origin left most basins of a fate map "no minimum reached".)
    """
    t = np.arange(-5.0, 6.0)
    for _ in range(30):  # quadratic convergence: exact to the last bit long before
        t = t - (t + 10 * np.pi * np.sin(TWO_PI * t)) / (
            1 + 20 * np.pi**2 * np.cos(TWO_PI * t)
        )
    g = t * t + 10.0 - 10.0 * np.cos(TWO_PI * t)
    g[5] = 0.0  # t_0 = 0 exactly
    points = [
        (_glob if (i, j) == (5, 5) else _loc)(t[i], t[j], g[i] + g[j])
        for i in range(11)
        for j in range(11)
    ]
    return tuple(sorted(points, key=lambda p: (p.kind != "global", p.value, p.xy)))


_ST = (-2.903534027771177, 0.1567312567803401, 2.746802770990837)
_ST_F = {  # f(ti, tj) for the separable Styblinski-Tang
    (0, 0): -78.33233140754282,
    (0, 1): -38.97055334471605,
    (0, 2): -64.19561235905536,
    (1, 1): 0.3912247181107161,
    (1, 2): -24.833834296228584,
    (2, 2): -50.05889331056788,
}
_SIX_G = (0.08984201310031807, -0.7126564030207396, -1.0316284534898774)
_SIX_L1 = (1.7036067149699812, -0.7960835686726251, -0.21546382438371525)
_SIX_L2 = (1.6071047529201974, 0.5686514548841313, 2.1042503103112598)


def _st(i: int, j: int) -> float:
    return _ST_F[(min(i, j), max(i, j))]


BUILTIN: tuple[Surface, ...] = (
    Surface(
        "rosenbrock",
        _rosenbrock,
        value_fn=_rosenbrock_value,
        formula="(1 - x)**2 + 100*(y - x**2)**2",
        latex=r"(1 - x)^2 + 100\,(y - x^2)^2",
        description="Rosenbrock's banana: a curved, flat-bottomed parabolic valley; "
        "finding the valley is easy, following it to (1, 1) is hard.",
        view=((-2.0, 2.0), (-1.0, 3.0)),
        minima=(_glob(1.0, 1.0, 0.0),),
        starts=((-1.2, 1.0), (-1.5, 2.5), (1.5, -0.5)),
        log_contours=True,
    ),
    Surface(
        "saddle",
        _saddle,
        formula="x**2 - y**2",
        latex=r"x^2 - y^2",
        description="The textbook saddle: a particle starting near the x-axis "
        "stalls at the origin before escaping along y. Unbounded below.",
        view=((-2.0, 2.0), (-2.0, 2.0)),
        saddles=(_sad(0.0, 0.0, 0.0),),
        starts=((-1.8, 0.01), (-1.8, 0.2), (1.8, -0.05)),
    ),
    Surface(
        "monkey_saddle",
        _monkey_saddle,
        formula="x**3 - 3*x*y**2",
        latex=r"x^3 - 3 x y^2",
        description="Monkey saddle: a degenerate saddle with three downhill valleys "
        "(gradient and Hessian both vanish at the origin). Unbounded below.",
        view=((-2.0, 2.0), (-2.0, 2.0)),
        saddles=(_sad(0.0, 0.0, 0.0),),
        starts=((1.5, 0.05), (1.5, 0.5), (-0.5, 1.5)),
    ),
    Surface(
        "valley",
        _valley,
        formula="x**4/4 - x**3/3 - x**2 + y**2",
        latex=r"\tfrac{1}{4}x^4 - \tfrac{1}{3}x^3 - x^2 + y^2",
        description="A shallow local minimum at (-1, 0) and a deeper global one at "
        "(2, 0), separated by a ridge crossing at the origin. From (-2.5, 1) plain "
        "SGD(learning_rate=0.01) is trapped on the left; "
        "SGD(learning_rate=0.01, momentum=0.9) coasts over the ridge.",
        view=((-3.0, 3.0), (-2.0, 2.0)),
        minima=(_glob(2.0, 0.0, -8.0 / 3.0), _loc(-1.0, 0.0, -5.0 / 12.0)),
        saddles=(_sad(0.0, 0.0, 0.0),),
        starts=((-2.5, 1.0), (-2.8, -1.0), (-1.5, 1.5)),
    ),
    Surface(
        "long_valley",
        _long_valley,
        formula="0.1*x**2 + 10*y**2",
        latex=r"0.1\,x^2 + 10\,y^2",
        description="A long, narrow quadratic valley with condition number 100: "
        "plain gradient descent zig-zags across it and creeps along it.",
        view=((-10.0, 10.0), (-3.0, 3.0)),
        minima=(_glob(0.0, 0.0, 0.0),),
        starts=((-9.0, 2.0), (-9.0, 0.5), (8.0, -2.5)),
        log_contours=True,
    ),
    Surface(
        "beale",
        _beale,
        formula="(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
        latex=r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        description="Beale's function: a flat plateau around a narrow curved "
        "valley leading to (3, 0.5), with steep walls near the corners.",
        view=((-4.5, 4.5), (-4.5, 4.5)),
        minima=(_glob(3.0, 0.5, 0.0),),
        saddles=(
            _sad(0.0, 1.0, 14.203125),
            _sad(0.1005379373241584, -2.6445135850231245, 9.86451228475556),
        ),
        starts=((1.0, 1.5), (-2.0, 2.0), (2.0, -1.5)),
        log_contours=True,
    ),
    Surface(
        "himmelblau",
        _himmelblau,
        formula="(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
        latex=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        description="Himmelblau's function: four equal global minima around a "
        "central hill, so the start and the optimizer decide which one wins.",
        view=((-5.0, 5.0), (-5.0, 5.0)),
        minima=(
            _glob(3.0, 2.0, 0.0),
            _glob(-2.805118086952745, 3.131312518250573, 0.0),
            _glob(-3.779310253377747, -3.2831859912861696, 0.0),
            _glob(3.5844283403304917, -1.8481265269644036, 0.0),
        ),
        saddles=(
            _sad(-3.0730257507643897, -0.08135304428796751, 104.01516291755811),
            _sad(-0.12796134673068005, -1.9537149802445766, 178.33723920192745),
            _sad(3.385154183607021, 0.07385187983774928, 13.311926270405587),
            _sad(0.08667750455539634, 2.884254701174776, 67.71915008752613),
        ),
        maxima=(_max(-0.2708445906673476, -0.9230385564799813, 181.6165215225827),),
        starts=((-0.2, -0.6), (0.0, 0.0), (-0.5, -1.2), (1.0, -4.0)),
        log_contours=True,
    ),
    Surface(
        "rastrigin",
        _rastrigin,
        formula="20 + x**2 + y**2 - 10*(cos(2*pi*x) + cos(2*pi*y))",
        latex=r"20 + x^2 + y^2 - 10(\cos 2\pi x + \cos 2\pi y)",
        description="Rastrigin's function: a bowl covered in a regular egg-crate of "
        "local minima; only the origin is global.",
        view=((-5.12, 5.12), (-5.12, 5.12)),
        minima=_rastrigin_minima(),
        starts=((4.5, 4.2), (-3.3, 2.6), (2.2, -4.1)),
    ),
    Surface(
        "ackley",
        _ackley,
        formula="-20*exp(-0.2*sqrt((x**2 + y**2)/2)) - exp((cos(2*pi*x) "
        "+ cos(2*pi*y))/2) + e + 20",
        latex=r"-20 e^{-0.2\sqrt{(x^2+y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2}"
        r" + e + 20",
        description="Ackley's function: a nearly flat, rippled outer region around a "
        "deep funnel with a sharp (non-differentiable) tip at the origin.",
        view=((-5.0, 5.0), (-5.0, 5.0)),
        minima=(_glob(0.0, 0.0, 0.0),),
        starts=((3.2, 2.7), (-4.1, 1.3), (0.9, -3.8)),
    ),
    Surface(
        "booth",
        _booth,
        formula="(x + 2*y - 7)**2 + (2*x + y - 5)**2",
        latex=r"(x + 2y - 7)^2 + (2x + y - 5)^2",
        description="Booth's function: a tilted convex quadratic bowl, minimum at "
        "(1, 3).",
        view=((-10.0, 10.0), (-10.0, 10.0)),
        minima=(_glob(1.0, 3.0, 0.0),),
        starts=((-8.0, -8.0), (8.0, -6.0), (-6.0, 9.0)),
        log_contours=True,
    ),
    Surface(
        "styblinski_tang",
        _styblinski_tang,
        formula="(x**4 - 16*x**2 + 5*x + y**4 - 16*y**2 + 5*y)/2",
        latex=r"\tfrac{1}{2}(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y)",
        description="Styblinski-Tang: four basins of different depth in the "
        "corners of a square; the deepest is at (-2.9035, -2.9035).",
        view=((-5.0, 5.0), (-5.0, 5.0)),
        minima=(
            _glob(_ST[0], _ST[0], _st(0, 0)),
            _loc(_ST[0], _ST[2], _st(0, 2)),
            _loc(_ST[2], _ST[0], _st(2, 0)),
            _loc(_ST[2], _ST[2], _st(2, 2)),
        ),
        saddles=(
            _sad(_ST[0], _ST[1], _st(0, 1)),
            _sad(_ST[1], _ST[0], _st(1, 0)),
            _sad(_ST[2], _ST[1], _st(2, 1)),
            _sad(_ST[1], _ST[2], _st(1, 2)),
        ),
        maxima=(_max(_ST[1], _ST[1], _st(1, 1)),),
        starts=((0.5, 0.5), (0.0, 4.5), (4.5, -0.5)),
    ),
    Surface(
        "six_hump_camel",
        _six_hump_camel,
        formula="(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2",
        latex=r"(4 - 2.1x^2 + \tfrac{x^4}{3})x^2 + xy + (-4 + 4y^2)y^2",
        description="Six-hump camel: two symmetric global minima near the centre "
        "and four local ones on the flanks.",
        view=((-3.0, 3.0), (-2.0, 2.0)),
        minima=(
            _glob(_SIX_G[0], _SIX_G[1], _SIX_G[2]),
            _glob(-_SIX_G[0], -_SIX_G[1], _SIX_G[2]),
            _loc(_SIX_L1[0], _SIX_L1[1], _SIX_L1[2]),
            _loc(-_SIX_L1[0], -_SIX_L1[1], _SIX_L1[2]),
            _loc(_SIX_L2[0], _SIX_L2[1], _SIX_L2[2]),
            _loc(-_SIX_L2[0], -_SIX_L2[1], _SIX_L2[2]),
        ),
        saddles=(
            _sad(0.0, 0.0, 0.0),
            _sad(1.6380679841897785, 0.22867406904439408, 2.2293571975307147),
            _sad(-1.6380679841897785, -0.22867406904439408, 2.2293571975307147),
            _sad(1.2960702671671092, 0.6050843880386585, 2.229470818029859),
            _sad(-1.2960702671671092, -0.6050843880386585, 2.229470818029859),
            _sad(1.1092053368047865, -0.7682680925095399, 0.5437186009781853),
            _sad(-1.1092053368047865, 0.7682680925095399, 0.5437186009781853),
        ),
        starts=((-2.0, 1.5), (2.5, -1.0), (0.0, 1.8)),
    ),
    Surface(
        "goldstein_price",
        _goldstein_price,
        formula="(1 + (x + y + 1)**2*(19 - 14*x + 3*x**2 - 14*y + 6*x*y + 3*y**2))"
        "*(30 + (2*x - 3*y)**2*(18 - 32*x + 12*x**2 + 48*y - 36*x*y + 27*y**2))",
        latex=r"[1 + (x+y+1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2)]"
        r"[30 + (2x-3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2)]",
        description="Goldstein-Price: values from 3 to about a million, four "
        "minima of very different depth; read it with log contours.",
        view=((-2.0, 2.0), (-2.0, 2.0)),
        minima=(
            _glob(0.0, -1.0, 3.0),
            _loc(-0.6, -0.4, 30.0),
            _loc(1.8, 0.2, 84.0),
            _loc(1.2, 0.8, 840.0),
        ),
        saddles=(
            _sad(-0.4, -0.6, 35.0),
            _sad(0.6, 0.4, 990.0),
            _sad(1.2, -0.2, 99.0),
            _sad(1.4, 0.6, 980.0),
        ),
        maxima=(_max(0.8, 0.2, 1155.0),),
        starts=((-1.5, 1.5), (1.5, 1.5), (-1.8, -1.8)),
        log_contours=True,
    ),
)
