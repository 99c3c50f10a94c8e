"""Node values and local partial VALUES at a point, straight from the grammar AST (no sympy).

Top-K paths and the backprop table need ∂v/∂u at the point for thousands of edges; building
each as a sympy expression first costs about a millisecond per edge. Here every node's
expression is evaluated once and differentiated by reverse mode over its own small AST, so all
of a node's local partials come out of one sweep. The rules are the ones calculus.py gives
sympy (σ′ = σ(1 − σ), relu′ = [z > 0], ∂max/∂a = H(a − max(rest)) with H(0) = ½, …) and the
arithmetic is numeric.MPAlgebra's, so undefined values carry their reason as NoValue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath

from ..spec import Spec
from ..spec import grammar as g
from .evaluate import MPAlgebra, NoValue, to_mpf

__all__ = ["PointValues", "point_values", "leaf_numbers", "undefined_edge", "as_float", "DIGITS"]

DIGITS = 30  # as explain: numbers are exact to far more digits than the floats shown

_FUNC = {"abs": "Abs", "max": "Max", "min": "Min"}  # grammar name → MPAlgebra.func name


@dataclass(frozen=True)
class PointValues:
    """Values of names and local partials at one point (mpmath numbers or NoValue).

    Compute and use them inside `mpmath.workdps(DIGITS)`.
    """

    values: dict[str, Any]
    partials: dict[tuple[str, str], Any]  # (u, v) → ∂v/∂u with every other name held fixed

    def partial(self, u: str, v: str) -> Any:
        """∂v/∂u at the point (NoValue with the reason when it is undefined)."""
        return self.partials[(u, v)]


def leaf_numbers(spec: Spec, leaf_values: Mapping[str, Fraction | None]) -> dict[str, Any]:
    """Leaf values as mpmath numbers; NoValue('x1 has no value') where none is given."""
    return {n: (to_mpf(v) if v is not None else NoValue(f"{n} has no value"))
            for n, v in leaf_values.items()}


def point_values(spec: Spec, leaf_values: Mapping[str, Fraction | None],
                 nodes: Iterable[str] | None = None, *, upto: str | None = None) -> PointValues:
    """Every name's value (nodes up to `upto`, default all), and ∂v/∂u for each node v in
    `nodes` (default every node) and each name u its expression uses.

    Call inside `mpmath.workdps(DIGITS)`; the numbers keep that precision.
    """
    graph = spec.graph
    alg = MPAlgebra()
    env: dict[str, Any] = leaf_numbers(spec, leaf_values)
    want = set(spec.nodes if nodes is None else nodes)
    stop = graph.order.index(upto) + 1 if upto is not None else len(graph.order)
    partials: dict[tuple[str, str], Any] = {}
    for n in graph.order[:stop]:
        expr = spec.nodes.get(n)
        if expr is None:
            continue
        value, grads = _sweep(expr, env, alg, n in want)
        env[n] = value
        if n in want:
            for u in graph.deps(n):
                partials[(u, n)] = grads.get(u, mpmath.mpf(0))
    return PointValues(env, partials)


def as_float(x: Any) -> float | None:
    """`x` as a float; None for NoValue and for numbers beyond a float (JSON has no inf)."""
    if isinstance(x, NoValue):
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def undefined_edge(pv: PointValues, nodes: Sequence[str],
                   children: Mapping[str, Iterable[str]]) -> str | None:
    """Why some ∂c/∂n with n in `nodes`, c in children[n] has no value ('∂E/∂h: …'), or None."""
    for n in nodes:
        for c in children.get(n, ()):
            p = pv.partials.get((n, c))
            if isinstance(p, NoValue):
                return f"∂{c}/∂{n} is undefined at the point ({p.reason})"
    return None


def _children(e: g.Expr) -> tuple[g.Expr, ...]:
    if isinstance(e, g.BinOp):
        return (e.left, e.right)
    if isinstance(e, g.Neg):
        return (e.operand,)
    if isinstance(e, g.Call):
        return e.args
    return ()


def _postorder(expr: g.Expr) -> list[g.Expr]:
    """Each distinct AST object once, children before parents (builders may share subtrees)."""
    out: list[g.Expr] = []
    seen: set[int] = set()
    stack: list[tuple[g.Expr, bool]] = [(expr, False)]
    while stack:
        e, done = stack.pop()
        if done:
            out.append(e)
            continue
        if id(e) in seen:
            continue
        seen.add(id(e))
        stack.append((e, True))
        stack.extend((k, False) for k in _children(e) if id(k) not in seen)
    return out


def _sweep(expr: g.Expr, env: Mapping[str, Any], alg: MPAlgebra,
           differentiate: bool) -> tuple[Any, dict[str, Any]]:
    """The value of `expr` and, if asked, its partials by every name it uses (reverse mode)."""
    order = _postorder(expr)
    val: dict[int, Any] = {}
    for e in order:
        val[id(e)] = _value(e, [val[id(k)] for k in _children(e)], env, alg)
    root = val[id(expr)]
    if not differentiate:
        return root, {}
    adj: dict[int, Any] = {id(expr): mpmath.mpf(1)}
    grads: dict[str, Any] = {}
    for e in reversed(order):
        a = adj.get(id(e))
        if a is None:
            continue
        if isinstance(e, g.Name):
            if e.id in env:
                grads[e.id] = _plus(grads.get(e.id), a)
            continue
        kids = _children(e)
        if not kids:
            continue
        for k, d in zip(kids, _local(e, [val[id(k)] for k in kids], val[id(e)], alg)):
            if d is None:
                continue  # a constant exponent: nothing flows into it
            adj[id(k)] = _plus(adj.get(id(k)), _times(a, d))
    return root, grads


def _plus(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if isinstance(a, NoValue):
        return a
    if isinstance(b, NoValue):
        return b
    return a + b


def _times(a: Any, b: Any) -> Any:
    if isinstance(a, NoValue):
        return a
    if isinstance(b, NoValue):
        return b
    return a * b


def _value(e: g.Expr, xs: list[Any], env: Mapping[str, Any], alg: MPAlgebra) -> Any:
    if isinstance(e, g.Num):
        return alg.rational(e.value.numerator, e.value.denominator)
    if isinstance(e, g.Name):
        if e.id in env:
            return env[e.id]
        return mpmath.pi if e.id == "pi" else NoValue(f"{e.id} has no value")
    for x in xs:
        if isinstance(x, NoValue):
            return x
    if isinstance(e, g.Neg):
        return -xs[0]
    if isinstance(e, g.BinOp):
        a, b = xs
        match e.op:
            case "+":
                return a + b
            case "-":
                return a - b
            case "*":
                return a * b
            case "/":
                return NoValue("division by zero") if b == 0 else a / b
        exponent = g.constant_value(e.right)
        if exponent is not None:
            return _power(alg, a, exponent)
        return alg.func("pow", xs)
    assert isinstance(e, g.Call)
    if e.func == "sqrt":
        return alg.powq(xs[0], 1, 2)
    return alg.func(_FUNC.get(e.func, e.func), xs)


def _power(alg: MPAlgebra, base: Any, exponent: Fraction) -> Any:
    if exponent.denominator == 1:
        return alg.powi(base, exponent.numerator)
    return alg.powq(base, exponent.numerator, exponent.denominator)


def _step(x: Any) -> Any:
    """sympy's Heaviside with H(0) = 1/2, as in ∂max(a, b)/∂a = H(a − b)."""
    return mpmath.mpf(1) if x > 0 else (mpmath.mpf(0) if x < 0 else mpmath.mpf(1) / 2)


def _local(e: g.Expr, xs: list[Any], out: Any, alg: MPAlgebra) -> list[Any]:
    """∂e/∂child for each child of `e`, given the children's values and e's own value."""
    for x in xs:
        if isinstance(x, NoValue):
            return [x] * len(xs)
    if isinstance(out, NoValue):
        return [out] * len(xs)
    one = mpmath.mpf(1)
    if isinstance(e, g.Neg):
        return [-one]
    if isinstance(e, g.BinOp):
        a, b = xs
        match e.op:
            case "+":
                return [one, one]
            case "-":
                return [one, -one]
            case "*":
                return [b, a]
            case "/":
                return [one / b, -a / (b * b)]
        exponent = g.constant_value(e.right)
        if exponent is not None:  # d/da a^n = n·a^(n−1)
            if exponent == 0:
                return [mpmath.mpf(0), None]
            lower = _power(alg, a, exponent - 1)
            return [_times(lower, to_mpf(exponent)), None]
        lower = alg.func("pow", [a, b - 1])  # a^b with a > 0 (else `out` was NoValue)
        return [_times(lower, b), _times(out, mpmath.log(a))]
    assert isinstance(e, g.Call)
    x = xs[0]
    match e.func:
        case "sigmoid":
            return [out * (1 - out)]
        case "tanh":
            return [1 - out * out]
        case "relu":
            return [one if x > 0 else mpmath.mpf(0)]
        case "softplus":
            return [alg.func("sigmoid", [x])]
        case "exp":
            return [out]
        case "log":
            return [one / x]
        case "sqrt":
            return [NoValue("division by zero") if out == 0 else one / (2 * out)]
        case "abs":
            return [mpmath.sign(x)]
        case "sin":
            return [mpmath.cos(x)]
        case "cos":
            return [-mpmath.sin(x)]
        case "max" | "min":
            grads = []
            for i, xi in enumerate(xs):
                rest = xs[:i] + xs[i + 1:]
                other = max(rest) if e.func == "max" else min(rest)
                grads.append(_step(xi - other if e.func == "max" else other - xi))
            return grads
    return [NoValue(f"cannot differentiate {e.func}")] * len(xs)
