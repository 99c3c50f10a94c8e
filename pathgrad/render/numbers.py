"""The numbers shown beside the maths: each local partial's value at the point (so a student
can follow one path factor by factor) and every name's value (the forward pass).

Both come from `numeric.points` — one reverse sweep over each node's own expression — so the
factor values printed are the ones the path values were multiplied from. `show` is the one
exception: it must not load sympy (it is instant on a 200,000-name net), so its forward pass
is `float_values`, plain floats over the grammar's AST — enough for the digits it prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from ..spec import Spec
from ..spec import grammar as g

__all__ = ["edge_values", "forward_values", "float_values"]


def edge_values(spec: Spec, leaf_values: Mapping[str, Fraction | None],
                edges: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float | None]:
    """∂v/∂u at the point for each edge u → v (None where undefined or a value is missing)."""
    import mpmath

    from ..numeric.points import DIGITS, as_float, point_values

    wanted = list(edges)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaf_values, {v for _, v in wanted})
        return {(u, v): as_float(pv.partials.get((u, v), mpmath.mpf(0))) for u, v in wanted}


def forward_values(spec: Spec, leaf_values: Mapping[str, Fraction | None]
                   ) -> dict[str, float | None]:
    """Every node's value at the point, in the order they are computed."""
    import mpmath

    from ..numeric.points import DIGITS, as_float, point_values

    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaf_values, ())
        return {n: as_float(pv.values[n]) for n in spec.graph.order if n in spec.nodes}


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


_FLOAT_FUNCS: dict[str, Any] = {
    "sigmoid": _sigmoid, "tanh": math.tanh, "relu": lambda x: max(x, 0.0),
    "softplus": lambda x: math.log1p(math.exp(-abs(x))) + max(x, 0.0), "exp": math.exp,
    "log": math.log, "sqrt": math.sqrt, "abs": abs, "sin": math.sin, "cos": math.cos,
    "max": max, "min": min,
}


def _float(e: g.Expr, env: dict[str, float | None]) -> float | None:
    if isinstance(e, g.Num):
        return float(e.value)
    if isinstance(e, g.Name):
        return env.get(e.id, math.pi if e.id == "pi" else None)
    if isinstance(e, g.Neg):
        x = _float(e.operand, env)
        return None if x is None else -x
    if isinstance(e, g.BinOp):
        a, b = _float(e.left, env), _float(e.right, env)
        if a is None or b is None:
            return None
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if e.op == "/":
            return a / b
        out = a ** b
        return out if isinstance(out, float) else None  # a complex power: undefined
    xs = [_float(a, env) for a in e.args]
    if any(x is None for x in xs):
        return None
    return float(_FLOAT_FUNCS[e.func](*xs))


def float_values(spec: Spec, leaf_values: Mapping[str, Fraction | None]
                 ) -> dict[str, float | None]:
    """Every node's value as a float (None where undefined), without sympy, for `show`."""
    env: dict[str, float | None] = {n: None if v is None else float(v)
                                    for n, v in leaf_values.items()}
    out: dict[str, float | None] = {}
    nodes, inner = spec.nodes, spec.graph.inner
    for n in spec.graph.order:
        if n not in inner:
            continue  # a leaf (and no lookup that fails: a builder's nodes make ASTs on read)
        expr = nodes[n]
        try:
            x = _float(expr, env)
        except (ValueError, ZeroDivisionError, OverflowError):
            x = None
        env[n] = out[n] = x if x is None or math.isfinite(x) else None
    return out
