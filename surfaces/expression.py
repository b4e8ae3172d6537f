"""Safe user-typed formulas: whitelisted AST -> numpy closure with exact gradients."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np

from surfaces.base import CriticalPoint, Surface

__all__ = ["FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "MAX_NODES", "from_expression"]

MAX_LENGTH = 1000  # characters of user text
MAX_NODES = 400  # AST nodes after parsing
MAX_DEPTH = 60  # AST nesting depth (keeps our recursive compiler far from limits)

# A compiled node maps (x, y) to (value, d/dx, d/dy); constants give 0-d derivatives.
Dual = tuple[Any, Any, Any]
Node = Callable[[np.ndarray, np.ndarray], Dual]

_LN10 = np.log(10.0)
_LN2 = np.log(2.0)


def _times(fp: Any, d: Any) -> Any:
    """Chain-rule product fp*d where d == 0 contributes exactly 0.

    Keeps `sqrt(x**2)` or `log(...)` of a constant subtree from turning an
    infinite local derivative times a zero inner derivative into NaN.
    """
    return np.where(d == 0, 0.0, fp * d)


def _unary(f: Callable, fprime: Callable) -> Callable[[Dual], Dual]:
    """Forward-mode rule for v = f(u): dv = f'(u) du (f' may reuse v)."""

    def rule(a: Dual) -> Dual:
        u, ux, uy = a
        v = f(u)
        fp = fprime(u, v)
        return v, _times(fp, ux), _times(fp, uy)

    return rule


def _atan2(a: Dual, b: Dual) -> Dual:
    # d atan2(u, w) = (w du - u dw) / (u^2 + w^2); 0 at the origin (undefined there).
    u, ux, uy = a
    w, wx, wy = b
    r2 = u * u + w * w
    safe = np.where(r2 > 0, r2, 1.0)
    return (
        np.arctan2(u, w),
        np.where(r2 > 0, (w * ux - u * wx) / safe, 0.0),
        np.where(r2 > 0, (w * uy - u * wy) / safe, 0.0),
    )


def _hypot(a: Dual, b: Dual) -> Dual:
    # d hypot(u, w) = (u du + w dw) / hypot; subgradient 0 at the origin.
    u, ux, uy = a
    w, wx, wy = b
    h = np.hypot(u, w)
    safe = np.where(h > 0, h, 1.0)
    return (
        h,
        np.where(h > 0, (u * ux + w * wx) / safe, 0.0),
        np.where(h > 0, (u * uy + w * wy) / safe, 0.0),
    )


def _select(pick_first: Any, a: Dual, b: Dual, value: Any) -> Dual:
    return (value, np.where(pick_first, a[1], b[1]), np.where(pick_first, a[2], b[2]))


def _minimum(a: Dual, b: Dual) -> Dual:
    # Ties take the first argument's derivative (a valid one-sided derivative).
    return _select(a[0] <= b[0], a, b, np.minimum(a[0], b[0]))


def _maximum(a: Dual, b: Dual) -> Dual:
    return _select(a[0] >= b[0], a, b, np.maximum(a[0], b[0]))


def _where(c: Dual, a: Dual, b: Dual) -> Dual:
    # The condition is piecewise constant: derivative 0, so only a and b matter.
    cond = c[0] != 0
    return _select(cond, a, b, np.where(cond, a[0], b[0]))


FUNCTIONS: dict[str, tuple[int, Callable[..., Dual]]] = {
    "sin": (1, _unary(np.sin, lambda u, v: np.cos(u))),
    "cos": (1, _unary(np.cos, lambda u, v: -np.sin(u))),
    "tan": (1, _unary(np.tan, lambda u, v: 1.0 + v * v)),
    "arcsin": (1, _unary(np.arcsin, lambda u, v: 1.0 / np.sqrt(1.0 - u * u))),
    "arccos": (1, _unary(np.arccos, lambda u, v: -1.0 / np.sqrt(1.0 - u * u))),
    "arctan": (1, _unary(np.arctan, lambda u, v: 1.0 / (1.0 + u * u))),
    "sinh": (1, _unary(np.sinh, lambda u, v: np.cosh(u))),
    "cosh": (1, _unary(np.cosh, lambda u, v: np.sinh(u))),
    "tanh": (1, _unary(np.tanh, lambda u, v: 1.0 - v * v)),
    "exp": (1, _unary(np.exp, lambda u, v: v)),
    "log": (1, _unary(np.log, lambda u, v: 1.0 / u)),
    "log10": (1, _unary(np.log10, lambda u, v: 1.0 / (u * _LN10))),
    "log2": (1, _unary(np.log2, lambda u, v: 1.0 / (u * _LN2))),
    "log1p": (1, _unary(np.log1p, lambda u, v: 1.0 / (1.0 + u))),
    "expm1": (1, _unary(np.expm1, lambda u, v: np.exp(u))),
    "sqrt": (1, _unary(np.sqrt, lambda u, v: 0.5 / v)),
    # |u|' = sign(u), with the subgradient 0 at u = 0.
    "abs": (1, _unary(np.abs, lambda u, v: np.sign(u))),
    "arctan2": (2, _atan2),
    "hypot": (2, _hypot),
    "minimum": (2, _minimum),
    "maximum": (2, _maximum),
    "where": (3, _where),
}

CONSTANTS = {"pi": np.pi, "e": np.e}

_BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.Mod: "%",
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
_REFUSED_NAMES: dict[type, str] = {
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "generator expression",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.NamedExpr: "assignment expression ':='",
    ast.Starred: "starred expression",
    ast.List: "list display",
    ast.Tuple: "tuple",
    ast.Dict: "dict display",
    ast.Set: "set display",
    ast.BoolOp: "boolean operator (and/or)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slice",
    ast.IfExp: "conditional expression 'a if c else b' (use where(c, a, b))",
}


def _refuse(what: str, node: ast.AST | None, text: str) -> ValueError:
    where = ""
    if node is not None and hasattr(node, "col_offset"):
        where = f" at column {node.col_offset + 1}"
    shown = text if len(text) <= 80 else text[:77] + "..."
    return ValueError(f"Refused {what}{where} in expression: {shown!r}")


def _depth(tree: ast.AST) -> int:
    """AST nesting depth, computed iteratively (no recursion on user input)."""
    best = 0
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return best


def parse(text: Any) -> ast.expr:
    """Parse and validate `text`; return the expression tree or raise ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"Expression must be a string. Received: {text!r}")
    if len(text) > MAX_LENGTH:
        raise ValueError(
            f"Refused expression of {len(text)} characters (the limit "
            f"is {MAX_LENGTH}): {text[:40]!r}..."
        )
    if not text.strip():
        raise ValueError("Refused empty expression.")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise ValueError(
            f"Refused invalid syntax{col} ({exc.msg}) in expression: "
            f"{text[:80]!r}. Only one arithmetic expression in x and y "
            f"is allowed."
        ) from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        raise ValueError(
            f"Refused expression that Python cannot parse safely "
            f"({type(exc).__name__}): {text[:40]!r}"
        ) from None
    n_nodes = sum(1 for _ in ast.walk(tree))
    if n_nodes > MAX_NODES:
        raise ValueError(
            f"Refused expression with {n_nodes} syntax nodes (the limit "
            f"is {MAX_NODES}): {text[:40]!r}"
        )
    if _depth(tree) > MAX_DEPTH:
        raise ValueError(
            f"Refused expression nested deeper than {MAX_DEPTH}: {text[:40]!r}"
        )
    _check(tree.body, text.strip())
    return tree.body


def _check(node: ast.AST, text: str) -> None:
    """Walk the tree against the whitelist; raise ValueError at the first refusal."""
    if isinstance(node, ast.Constant):
        v = node.value
        if type(v) in (int, float):
            return
        kind = {
            bool: "boolean constant",
            str: "string constant",
            bytes: "bytes constant",
            complex: "complex constant",
        }.get(type(v), "constant")
        raise _refuse(f"{kind} {v!r}" if type(v) is not str else kind, node, text)
    if isinstance(node, ast.Name):
        if node.id in ("x", "y") or node.id in CONSTANTS:
            return
        if node.id in FUNCTIONS:
            raise _refuse(f"function name '{node.id}' used without a call", node, text)
        raise _refuse(
            f"unknown name '{node.id}' (allowed: x, y, pi, e and calls "
            f"of {', '.join(FUNCTIONS)})",
            node,
            text,
        )
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.UAdd | ast.USub):
            raise _refuse(f"unary operator {type(node.op).__name__}", node, text)
        return _check(node.operand, text)
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise _refuse(f"operator {type(node.op).__name__}", node, text)
        _check(node.left, text)
        return _check(node.right, text)
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMPOPS:
                raise _refuse(f"comparison {type(op).__name__}", node, text)
        for child in (node.left, *node.comparators):
            _check(child, text)
        return None
    if isinstance(node, ast.Call):
        return _check_call(node, text)
    if isinstance(node, ast.Attribute):
        col = getattr(node.value, "end_col_offset", node.col_offset)
        raise ValueError(
            f"Refused attribute access '.{node.attr}' at column "
            f"{col + 1} in expression: {text[:80]!r}"
        )
    what = _REFUSED_NAMES.get(type(node), f"syntax {type(node).__name__}")
    raise _refuse(what, node, text)


def _check_call(node: ast.Call, text: str) -> None:
    if not isinstance(node.func, ast.Name):
        if isinstance(node.func, ast.Attribute):
            _check(node.func, text)  # raises with the attribute's name
        raise _refuse(
            "call of something that is not a whitelisted function name", node, text
        )
    name = node.func.id
    if name not in FUNCTIONS:
        raise _refuse(
            f"call of unknown function '{name}' (allowed: {', '.join(FUNCTIONS)})",
            node,
            text,
        )
    if node.keywords:
        kw = node.keywords[0]
        label = f"'{kw.arg}='" if kw.arg else "'**'"
        raise _refuse(f"keyword argument {label} in call of '{name}'", kw, text)
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise _refuse("starred argument", arg, text)
    arity = FUNCTIONS[name][0]
    if len(node.args) != arity:
        raise _refuse(
            f"call of '{name}' with {len(node.args)} arguments (it takes {arity})",
            node,
            text,
        )
    for arg in node.args:
        _check(arg, text)


# -- compilation to numpy closures (validated trees only) -----------------------

_ZERO = np.float64(0.0)


def _compile(node: ast.expr) -> Node:
    """Turn a validated tree into `fn(x, y) -> (value, d/dx, d/dy)`.

    Every constant becomes a float64 *before* any arithmetic, so `9**9**9` is a
    float64 power (overflowing to inf) and never Python big-int arithmetic.
    """
    if isinstance(node, ast.Constant):
        try:
            c = np.float64(float(node.value))
        except OverflowError:  # an enormous integer literal
            c = np.float64(np.inf)
        return lambda x, y: (c, _ZERO, _ZERO)
    if isinstance(node, ast.Name):
        if node.id == "x":
            return lambda x, y: (x, np.float64(1.0), _ZERO)
        if node.id == "y":
            return lambda x, y: (y, _ZERO, np.float64(1.0))
        c = np.float64(CONSTANTS[node.id])
        return lambda x, y: (c, _ZERO, _ZERO)
    if isinstance(node, ast.UnaryOp):
        inner = _compile(node.operand)
        if isinstance(node.op, ast.UAdd):
            return inner

        def neg(x, y):
            v, dx, dy = inner(x, y)
            return -v, -dx, -dy

        return neg
    if isinstance(node, ast.BinOp):
        return _compile_binop(
            type(node.op),
            _compile(node.left),
            _compile(node.right),
            _is_constant(node.right),
        )
    if isinstance(node, ast.Compare):
        parts = [_compile(c) for c in (node.left, *node.comparators)]
        ops = [_CMPOPS[type(op)] for op in node.ops]

        def compare(x, y):
            # a < b < c means (a < b) and (b < c); 1.0 / 0.0, derivative 0.
            vals = [p(x, y)[0] for p in parts]
            result = np.ones((), dtype=bool)
            for op, lhs, rhs in zip(ops, vals[:-1], vals[1:], strict=True):
                result = result & op(lhs, rhs)
            return result.astype(np.float64), _ZERO, _ZERO

        return compare
    if isinstance(node, ast.Call):
        rule = FUNCTIONS[node.func.id][1]  # type: ignore[union-attr]
        args = [_compile(a) for a in node.args]
        return lambda x, y: rule(*(a(x, y) for a in args))
    raise AssertionError(f"unvalidated node {type(node).__name__}")  # pragma: no cover


def _is_constant(node: ast.expr) -> bool:
    return not any(
        isinstance(n, ast.Name) and n.id in ("x", "y") for n in ast.walk(node)
    )


def _compile_binop(op: type, left: Node, right: Node, const_right: bool) -> Node:
    if op is ast.Add:

        def add(x, y):
            (a, ax, ay), (b, bx, by) = left(x, y), right(x, y)
            return a + b, ax + bx, ay + by

        return add
    if op is ast.Sub:

        def sub(x, y):
            (a, ax, ay), (b, bx, by) = left(x, y), right(x, y)
            return a - b, ax - bx, ay - by

        return sub
    if op is ast.Mult:

        def mul(x, y):
            (a, ax, ay), (b, bx, by) = left(x, y), right(x, y)
            return a * b, _times(b, ax) + _times(a, bx), _times(b, ay) + _times(a, by)

        return mul
    if op is ast.Div:

        def div(x, y):
            # d(a/b) = da/b - (a/b) db/b
            (a, ax, ay), (b, bx, by) = left(x, y), right(x, y)
            q = a / b
            return (
                q,
                _times(1.0 / b, ax) - _times(q / b, bx),
                (_times(1.0 / b, ay) - _times(q / b, by)),
            )

        return div
    if op is ast.Mod:

        def mod(x, y):
            # a mod b = a - b floor(a/b); the floor is piecewise constant.
            (a, ax, ay), (b, bx, by) = left(x, y), right(x, y)
            k = np.floor(a / b)
            return np.mod(a, b), ax - _times(k, bx), ay - _times(k, by)

        return mod

    def power(x, y):
        # d(a**b) = b a**(b-1) da + a**b ln(a) db. With a constant exponent the
        # second term is dropped entirely (so 0**2 and (-2)**3 have no log(a<=0)).
        (a, ax, ay), (b, bx, by) = left(x, y), right(x, y)
        p = np.power(a, b)
        d1 = b * np.power(a, b - 1.0)
        gx, gy = _times(d1, ax), _times(d1, ay)
        if not const_right:
            d2 = p * np.log(a)
            gx = gx + _times(d2, bx)
            gy = gy + _times(d2, by)
        return p, gx, gy

    return power


def from_expression(
    text: str,
    *,
    name: str | None = None,
    view: Any = None,
    minima: tuple[CriticalPoint, ...] = (),
    saddles: tuple[CriticalPoint, ...] = (),
    starts: tuple[tuple[float, float], ...] = (),
    log_contours: bool = False,
) -> Surface:
    """Build a Surface from a formula in `x` and `y`, e.g. `"x**2 + 10*y**2"`.

    Grammar (everything else is refused with a ValueError naming the construct
    and its column): int/float literals; names `x`, `y`, `pi`, `e`; unary `+ -`;
    binary `+ - * / ** %`; comparisons `< <= > >= == !=` (value 1.0/0.0,
    derivative 0); calls by bare name with positional arguments of
    `sin cos tan arcsin arccos arctan sinh cosh tanh exp log log10 log2 log1p
    expm1 sqrt abs` (one argument), `arctan2 hypot minimum maximum` (two) and
    `where(cond, a, b)` (three). At most 1000 characters, 400 nodes, depth 60.

    The text is never evaluated by Python: the validated tree is compiled into a
    closure of numpy float64 operations that carries `(value, d/dx, d/dy)`
    through every node (forward-mode differentiation), so gradients are exact up
    to rounding. Non-differentiable points use a subgradient: 0 for `abs` at 0,
    `hypot`/`arctan2` at the origin; ties of `minimum`/`maximum` take the first
    argument. Invalid operations give NaN/inf, not exceptions.

    Args:
        text: the formula.
        name: display name; defaults to `"expr:<text>"`.
        view: `((xmin, xmax), (ymin, ymax))`; defaults to `((-3, 3), (-3, 3))`.
        minima, saddles, starts, log_contours: optional metadata.

    Returns:
        A Surface whose `to_config()` is `{"expression": text, "name": ...,
        "view": ...}`.
    """
    tree = parse(text)
    fn = _compile(tree)
    view = ((-3.0, 3.0), (-3.0, 3.0)) if view is None else view
    label = f"expr:{text.strip()}" if name is None else name

    def kernel(x: np.ndarray, y: np.ndarray) -> Dual:
        # Computed in float64 whatever the input dtype (constants are float64);
        # Surface casts the result back to float32 for float32 input.
        x64 = np.asarray(x, dtype=np.float64)
        y64 = np.asarray(y, dtype=np.float64)
        return fn(x64, y64)

    surface = Surface(
        label,
        kernel,
        formula=text.strip(),
        latex="",
        view=view,
        description=f"User expression {text.strip()!r}.",
        minima=tuple(minima),
        saddles=tuple(saddles),
        starts=tuple(starts),
        log_contours=log_contours,
    )
    config = {
        "expression": text,
        "name": label,
        "view": [list(surface.view[0]), list(surface.view[1])],
    }
    object.__setattr__(surface, "config", config)
    return surface


def check_not_degenerate(surface: Surface, text: str, n: int = 33) -> Surface:
    """Refuses a formula undefined or constant wherever it is defined in its view.

    `0/0`, `1` or `x**9**9**9` (0 inside |x| < 1, inf outside) typed as a
    surface give nothing to descend and nothing to draw; found on an `n x n`
    grid over the view. (`from_expression` itself builds constants: they are
    useful pieces; `surfaces.resolve`, which reads what users type, checks.)
    """
    (x0, x1), (y0, y1) = surface.view
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    with np.errstate(all="ignore"):
        Z = np.asarray(surface.value(np.stack([X, Y], axis=-1)))
    finite = Z[np.isfinite(Z)]
    where = f"in its view x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]"
    if finite.size == 0:
        raise ValueError(
            f"Surface {text!r} is undefined (NaN or inf) everywhere {where}."
        )
    if np.all(finite == finite[0]):
        raise ValueError(
            f"Surface {text!r} is constant ({finite[0]:g}) wherever it is defined "
            f"{where}: there is nothing to descend or draw."
        )
    return surface
