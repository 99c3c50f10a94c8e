"""An independent check of a whole gradient: the complex-step derivative of the loss.

For a real-analytic f, f(x + ih) = f(x) + ih·f′(x) − h²f″(x)/2 + …, so Im f(x + ih)/h is f′(x)
to O(h²) with no subtraction (unlike finite differences, h can be 1e-30 and the result is
exact to float precision). Each param gets its own imaginary perturbation; params are
evaluated in chunks, one numpy column per param, so the loss is evaluated once per chunk over
the grammar ASTs (no sympy, no local-partial rules: only the functions themselves).

Non-analytic functions follow the real part, with the conventions the rest of pathgrad uses:
relu′(0) = 0, |x|′(0) = 0, and max/min split a tie ½–½ (sympy's Heaviside(0) = ½). Where a
value is undefined (log of a non-positive number, division by zero, a root of a
negative number) the result is None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from ..spec import Spec
from ..spec import grammar as g

__all__ = ["complex_step", "STEP", "CHUNK"]

STEP = 1e-30  # the imaginary step: O(h²) = 1e-60 truncation, far below float rounding
CHUNK = 1024  # params per evaluation of the loss (one numpy column each; ≤ 16 MB of leaves)


def complex_step(spec: Spec, leaves: Mapping[str, Any], params: Sequence[str],
                 chunk: int = CHUNK) -> dict[str, float | None]:
    """∂loss/∂p for every p in `params` by the complex step, at the leaf values `leaves`
    (numbers: Fraction, float or mpmath). None where the derivative is undefined.

    >>> from pathgrad import load
    >>> spec = load("inputs: {x: 2}\\nparams: {w: 3}\\nnodes: {h: w*x, E: h^2 + w}")
    >>> complex_step(spec, {"x": 2, "w": 3}, ["w"])
    {'w': 25.0}
    """
    graph = spec.graph
    loss = spec.loss
    needed = graph.ancestors_and_self(loss)
    order = [n for n in graph.order if n in needed and n in spec.nodes]
    base = {n: float(v) for n, v in leaves.items() if v is not None}
    # each value is dropped after its last use: a chunk's column of 1,024 complex numbers for
    # each of 30,000 nodes (10,000 residual blocks) held 500 MB
    last: dict[str, int] = {}
    for i, n in enumerate(order):
        for u in graph.deps(n):
            last[u] = i
    done_at: dict[int, list[str]] = {}
    for u, i in last.items():
        if u != loss:
            done_at.setdefault(i, []).append(u)
    out: dict[str, float | None] = {}
    with np.errstate(all="ignore"):
        for start in range(0, len(params), chunk):
            part = list(params[start:start + chunk])
            env: dict[str, Any] = dict(base)
            for i, p in enumerate(part):
                col = np.full(len(part), base[p], dtype=complex)
                col[i] += 1j * STEP
                env[p] = col
            for i, n in enumerate(order):
                env[n] = _eval(spec.nodes[n], env)
                for u in done_at.get(i, ()):
                    env.pop(u, None)
            result = np.broadcast_to(np.asarray(env[loss], dtype=complex), (len(part),))
            for i, p in enumerate(part):
                if p not in needed:
                    out[p] = 0.0
                    continue
                v = result[i]
                ok = np.isfinite(v.real) and np.isfinite(v.imag)
                out[p] = float(v.imag / STEP) if ok else None
    return out


_NAN = complex(np.nan, np.nan)


def _where(cond: Any, a: Any, b: Any) -> Any:
    return np.where(cond, a, b)


def _eval(expr: g.Expr, env: Mapping[str, Any]) -> Any:
    """The value of an AST on complex numpy arrays (scalars where nothing varies)."""
    memo: dict[int, Any] = {}
    stack: list[tuple[g.Expr, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if id(e) in memo:
            continue
        kids = _children(e)
        if kids and not ready:
            stack.append((e, True))
            stack.extend((k, False) for k in kids if id(k) not in memo)
            continue
        memo[id(e)] = _apply(e, [memo[id(k)] for k in kids], env)
    return memo[id(expr)]


def _children(e: g.Expr) -> tuple[g.Expr, ...]:
    if isinstance(e, g.BinOp):
        return (e.left, e.right)
    if isinstance(e, g.Neg):
        return (e.operand,)
    if isinstance(e, g.Call):
        return e.args
    return ()


def _apply(e: g.Expr, xs: list[Any], env: Mapping[str, Any]) -> Any:
    if isinstance(e, g.Num):
        return float(e.value)
    if isinstance(e, g.Name):
        if e.id in env:
            return env[e.id]
        return np.pi if e.id == "pi" else _NAN
    if isinstance(e, g.Neg):
        return -xs[0]
    if isinstance(e, g.BinOp):
        a, b = xs
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if e.op == "/":
            b = np.asarray(b, dtype=complex)
            return _where(b.real == 0, _NAN, a / np.where(b.real == 0, 1, b))
        exponent = g.constant_value(e.right)
        if exponent is not None:
            return _power(np.asarray(a, dtype=complex), exponent)
        a = np.asarray(a, dtype=complex)
        return _where(a.real <= 0, _NAN, np.exp(b * np.log(np.where(a.real <= 0, 1, a))))
    assert isinstance(e, g.Call)
    x = np.asarray(xs[0], dtype=complex)
    re = x.real
    match e.func:
        case "sigmoid":  # two forms, so exp never overflows on the side that is used
            pos = 1 / (1 + np.exp(-np.where(re >= 0, x, 0)))
            ex = np.exp(np.where(re < 0, x, 0))
            return _where(re >= 0, pos, ex / (1 + ex))
        case "tanh":
            return np.tanh(x)
        case "relu":
            return _where(re > 0, x, 0)
        case "softplus":  # log(1 + e^x) = max(x, 0) + log1p(e^−|x|)
            return _where(re > 0, x + np.log1p(np.exp(-np.where(re > 0, x, 0))),
                          np.log1p(np.exp(np.where(re > 0, 0, x))))
        case "exp":
            return np.exp(x)
        case "log":
            return _where(re <= 0, _NAN, np.log(np.where(re <= 0, 1, x)))
        case "sqrt":
            return _where(re <= 0, _where(re == 0, _zero_root(x), _NAN),
                          np.sqrt(np.where(re <= 0, 1, x)))
        case "abs":
            return _where(re > 0, x, _where(re < 0, -x, re))
        case "sin":
            return np.sin(x)
        case "cos":
            return np.cos(x)
        case "max" | "min":
            return _extreme([np.asarray(v, dtype=complex) for v in xs], e.func == "max")
    return _NAN


def _zero_root(x: Any) -> Any:
    """√x at x = 0: the value 0, the derivative undefined (∞)."""
    return _where(x.imag == 0, 0, _NAN)


def _extreme(xs: list[Any], biggest: bool) -> Any:
    """max or min by the real part; the tied arguments share the derivative equally."""
    res = np.broadcast_arrays(*[v.real for v in xs])
    best = np.max(res, axis=0) if biggest else np.min(res, axis=0)
    tied = [r == best for r in res]
    count = sum(t.astype(float) for t in tied)
    imag = sum(np.where(t, v.imag, 0) for t, v in zip(tied, xs)) / count
    return best + 1j * imag


def _power(a: Any, exponent: Fraction) -> Any:
    n, d = exponent.numerator, exponent.denominator
    if d == 1:
        if n >= 0:
            return a**n
        return _where(a.real == 0, _NAN, np.where(a.real == 0, 1, a) ** n)
    re = a.real
    pos = np.where(re > 0, a, 1) ** (n / d)
    neg = _NAN  # the principal root, as sympy: (−8)^(1/3) is complex, so undefined here
    if n > d:  # x^q with q > 1 is flat at 0: value and derivative 0
        zero: Any = 0j
    else:  # 0 < q < 1: the value 0, the derivative undefined; q < 0: undefined
        zero = _zero_root(a) if n > 0 else _NAN
    return _where(re > 0, pos, _where(re < 0, neg, _where(a.imag == 0, zero, _NAN)))
