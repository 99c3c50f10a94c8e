"""The sampling loop both numeric checks share: two sides evaluated at the spec's point and a
few random points at high precision, compared by relative difference.

The numeric identity test (sum over paths against the direct derivative) and the
finite-difference check (sum over paths against central differences of the loss) differ only
in what they evaluate; the points, the skipping of undefined values and the worst difference
are this one loop.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from ..numeric.evaluate import Algebra, NoValue, evaluate, to_mpf

__all__ = ["Sampled", "sample_points", "compare", "RANDOM_POINTS", "sum_value"]

RANDOM_POINTS = 3
SEED = 20261129


@dataclass(frozen=True)
class Sampled:
    """What the loop found: points used, the worst relative difference, the first mismatch."""

    used: int
    worst: Any  # an mpf
    differ: tuple[Any, Any] | None = None  # (lhs, rhs) at the first point beyond tolerance

    def worst_text(self) -> str:
        return mpmath.nstr(self.worst, 3) if self.worst else "0"


def sample_points(leaves: Iterable[str], point: Mapping[str, object] | None,
                seed: int = SEED, count: int = RANDOM_POINTS) -> list[dict[str, Any]]:
    """The spec's point (when every leaf has a value) and RANDOM_POINTS points in [0.5, 1.5]
    (away from 0, where log, sqrt and division misbehave); `compare` makes them mpmath
    numbers at its precision."""
    names = list(leaves)
    rng = random.Random(seed)
    points: list[dict[str, Any]] = []
    if point and all(point.get(n) is not None for n in names):
        points.append({n: point[n] for n in names})
    points += [{n: mpmath.mpf(rng.uniform(0.5, 1.5)) for n in names}
               for _ in range(count)]
    return points


def compare(points: Iterable[dict[str, Any]], lhs: Callable[[dict[str, Any]], Any],
            rhs: Callable[[dict[str, Any]], Any], tolerance: Any, digits: int) -> Sampled:
    """lhs(values) against rhs(values) at each point, `digits` digits of working precision;
    stops at the first relative difference above `tolerance`. Points where either side is
    undefined (NoValue) are skipped."""
    worst = mpmath.mpf(0)
    used = 0
    with mpmath.workdps(digits):
        for given in points:
            values = {n: to_mpf(v) for n, v in given.items()}
            a = lhs(values)
            b = rhs(values)
            if isinstance(a, NoValue) or isinstance(b, NoValue):
                continue
            used += 1
            diff = abs(a - b) / max(mpmath.mpf(1), abs(b))
            if diff > tolerance:
                return Sampled(used, diff, (a, b))
            worst = max(worst, diff)
    return Sampled(used, worst)


def sum_value(expr: sp.Basic, env: Mapping[sp.Basic, Any], algebra: Algebra) -> Any:
    """`evaluate(expr, env, algebra)` for a sum over paths: an Add of thousands of products
    whose factors repeat from path to path. Each distinct factor is evaluated once (by
    `evaluate`, sharing one memo); the products and the sum are plain loops, a few times
    faster than walking every term's node."""
    if not isinstance(expr, sp.Add) or len(expr.args) < 64:
        return evaluate(expr, env, algebra)
    parts, terms = _plan(expr)
    memo: dict[int, Any] = {}
    vals = []
    for a in parts:  # in order of first appearance, as the terms use them
        v = evaluate(a, env, algebra, memo)
        if isinstance(v, NoValue):
            return v
        vals.append(v)
    mul = algebra.mul
    return algebra.add([vals[i[0]] if len(i) == 1 else mul([vals[j] for j in i])
                        for i in terms])


_PLANS: dict[int, tuple[sp.Basic, list[sp.Basic], list[tuple[int, ...]]]] = {}


def _plan(expr: sp.Basic) -> tuple[list[sp.Basic], list[tuple[int, ...]]]:
    """A sum's distinct factors and, per term, their positions: worked out once per sum,
    since each check evaluates the same sum at several points."""
    hit = _PLANS.get(id(expr))
    if hit is not None and hit[0] is expr:
        return hit[1], hit[2]
    index: dict[int, int] = {}
    parts: list[sp.Basic] = []
    terms: list[tuple[int, ...]] = []
    for t in expr.args:
        idx = []
        for a in (t.args if isinstance(t, sp.Mul) else (t,)):
            i = index.get(id(a))
            if i is None:
                i = index[id(a)] = len(parts)
                parts.append(a)
            idx.append(i)
        terms.append(tuple(idx))
    if len(_PLANS) > 8:
        _PLANS.clear()
    _PLANS[id(expr)] = (expr, parts, terms)
    return parts, terms
