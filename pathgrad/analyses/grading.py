"""The check stage: grade a student's paths, local partials, products and gradient.

The oracle is `explain` (every path and its local partials, the sum proved equal to sympy's
derivative) at the answers' point. Numbers are right within a relative tolerance; an
expression is right when it is the same function as the local partial: sympy expands (then
simplifies) the difference with every node written out in leaves, and a numeric test at random
points cross-checks — a counterexample there makes it wrong whatever sympy said.

Each mistake is named exactly: which factor (expected, given), whether a wrong product
follows from the student's own wrong factors ("carried") or is an arithmetic slip, which edge
of a non-path does not exist, which paths are missing, and why the gradient is off ("equals
the sum of your path values, but you missed a path"). One point per path found, per correct
factor, per correct product and for the gradient; `possible` counts the whole answer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from ..calculus import Network, to_sympy, tree_size
from ..errors import UsageError
from ..numeric.evaluate import MPAlgebra, NoValue, evaluate, forward, to_mpf
from ..numeric.points import DIGITS, point_values
from ..spec.answers import AnswerPath, Answers, Given
from ..spec.model import Spec, apply_values, check_weight
from .explanation import DEFAULT_MAX_PATHS, Explanation, explain

__all__ = ["FactorGrade", "ValueGrade", "PathGrade", "GradientGrade", "Grade", "grade",
           "DEFAULT_TOLERANCE", "close"]

DEFAULT_TOLERANCE = 0.01  # relative: 1 %, generous for numbers rounded to 3 digits
ABS_FLOOR = 1e-12  # an expected 0 accepts only a given that is 0 to this
EXPAND_TREE_LIMIT = 3_000  # larger differences go straight to the numeric test
SIMPLIFY_TREE_LIMIT = 400  # simplify() is slow on big trees: only small ones
COMPOSED_LIMIT = 2_000  # … and a factor's nodes are written in leaves only up to this size
TEST_POINTS = 4
TEST_DIGITS = 50
SEED = 20261202


@dataclass(frozen=True)
class FactorGrade:
    """factors[index] = ∂v/∂u of one path, as given against the local partial."""

    index: int
    u: str
    v: str
    status: str  # "correct" | "wrong" | "missing"
    expected: sp.Expr  # the local partial, in node names
    expected_value: float | None
    given: Given | None
    given_value: float | None  # the student's factor at the point
    # when wrong: "sign" | "point-only" | "value" | "expression" | "undefined" (no value here)
    reason: str | None = None
    method: str | None = None  # how an expression was judged: "exact" | "simplify" | "numeric"


@dataclass(frozen=True)
class ValueGrade:
    """A path's product as given against the right one."""

    status: str  # "correct" | "wrong" | "missing" | "ungraded"
    expected: float | None
    given: float | None
    reason: str | None = None  # "carried" | "arithmetic" | "sign" | "value"
    from_factors: float | None = None  # the product of the student's own factors
    wrong_factors: tuple[int, ...] = ()  # indices of the wrong factors it carries


@dataclass(frozen=True)
class PathGrade:
    """One path of the answers file."""

    position: int  # 0-based place in the answers file
    nodes: tuple[str, ...]
    status: str  # "correct" | "wrong" | "not-a-path" | "duplicate"
    factors: tuple[FactorGrade, ...]
    value: ValueGrade
    line: int | None = None
    number: int | None = None  # 1-based number of the network's path (explain's order)
    problem: str | None = None  # not-a-path: "unknown-name" | "no-edge" | "start" | "end"
    bad_edge: tuple[str, str] | None = None  # the first edge that does not exist
    unknown: str | None = None  # the name that is not in the network
    duplicate_of: int | None = None  # position of the first listing of the same path
    # every factor right but listed loss side first, as the chain is written: accepted, noted
    reversed_factors: bool = False


@dataclass(frozen=True)
class GradientGrade:
    status: str  # "correct" | "wrong"
    expected: float | None
    given: float
    reason: str | None = None  # "missed-path" | "extra-path" | "duplicate" | "path-values" |
    #                             "sign" | "value"
    your_sum: float | None = None  # Σ of the student's path values, when all were given


@dataclass(frozen=True)
class Grade:
    """The whole check: every path given, the missed ones, the gradient, the score."""

    spec: Spec
    weight: str
    loss: str
    tolerance: float
    paths: tuple[PathGrade, ...]
    missing: tuple[tuple[str, ...], ...]
    gradient: GradientGrade | None
    earned: int
    possible: int
    explanation: Explanation
    source: str = "<string>"

    @property
    def correct(self) -> bool:
        """Everything given is right and no path is missing."""
        return not self.missing and all(p.status == "correct" for p in self.paths) and \
            (self.gradient is None or self.gradient.status == "correct")


# what evaluating a student's expression may raise: exp(exp(exp(1000))) is beyond any number,
# log(-1) is the complex constant iπ; either way the expression has no value there
_TOO_BIG = (ArithmeticError, MemoryError, ValueError, TypeError)
MAX_EXPANDED_POWER = 12  # (a + b + …)^n with a larger n is not expanded (it may explode)


def _expandable(expr: sp.Expr) -> bool:
    """False when expand() could blow up: a sum raised to a large power (the numeric test
    decides those)."""
    if tree_size(expr, EXPAND_TREE_LIMIT) > EXPAND_TREE_LIMIT:
        return False
    return not any(isinstance(e, sp.Pow) and isinstance(e.base, sp.Add) and e.exp.is_Number
                   and abs(e.exp) > MAX_EXPANDED_POWER for e in sp.preorder_traversal(expr))


def close(given: float, expected: float, tolerance: float) -> bool:
    """`given` within the relative `tolerance` of `expected` (an expected 0 wants 0)."""
    return abs(given - expected) <= tolerance * abs(expected) + ABS_FLOOR


def grade(spec: Spec, answers: Answers, weight: str | None = None, *,
          tolerance: float = DEFAULT_TOLERANCE, values: Mapping[str, object] | None = None,
          max_paths: int = DEFAULT_MAX_PATHS) -> Grade:
    """Grade `answers` for ∂loss/∂weight at the spec's point (with the answers' `values:`,
    then `values`, applied).

    >>> from pathgrad import load
    >>> from pathgrad.spec.answers import read_answers
    >>> spec = load("params: {w: 3}\\ninputs: {x: 2}\\nnodes: {h: w*x, E: h^2}")
    >>> a = read_answers("weight: w\\npaths:\\n  - nodes: [w, h, E]\\n    factors: [x, 10]\\n"
    ...                  "    value: 20\\n", spec)
    >>> g = grade(spec, a)
    >>> [f.status for f in g.paths[0].factors], g.paths[0].value.reason, g.earned, g.possible
    (['correct', 'wrong'], 'carried', 2, 5)
    """
    weight = _weight(spec, answers, weight)
    if not tolerance >= 0:
        raise UsageError(f"--tolerance must be at least 0, got {tolerance}")
    point = apply_values(spec, {**answers.values, **(values or {})})
    ex = explain(spec, weight, point, max_paths=max_paths)
    net = ex.network or Network(spec)
    judge = _Judge(spec, net, point, tolerance)
    index = {p.nodes: k for k, p in enumerate(ex.paths)}
    seen: dict[tuple[str, ...], int] = {}
    graded: list[PathGrade] = []
    for pos, given in enumerate(answers.paths):
        if given.nodes in seen:
            graded.append(PathGrade(pos, given.nodes, "duplicate", (), _ungraded(given),
                                    given.line, index.get(given.nodes),
                                    duplicate_of=seen[given.nodes]))
            continue
        seen.setdefault(given.nodes, pos)
        if given.nodes in index:
            k = index[given.nodes]
            graded.append(judge.path(pos, given, ex.paths[k].factors, ex.paths[k].value, k))
        else:
            graded.append(_not_a_path(spec, weight, pos, given))
    found = {p.nodes for p in graded if p.number is not None and p.status != "duplicate"}
    missing = tuple(p.nodes for p in ex.paths if p.nodes not in found)
    gradient = None
    if answers.gradient is not None:
        gradient = _gradient(float(answers.gradient.number), ex.value, graded, missing,
                             tolerance)
    earned = sum(1 + sum(f.status == "correct" for f in p.factors)
                 + (p.value.status == "correct")
                 for p in graded if p.status in ("correct", "wrong"))
    earned += gradient is not None and gradient.status == "correct"
    possible = sum(len(p.nodes) + 1 for p in ex.paths) + 1  # path + edges + product, each
    return Grade(spec, weight, spec.loss, tolerance, tuple(graded), missing, gradient,
                 int(earned), possible, ex, answers.source)


def _weight(spec: Spec, answers: Answers, weight: str | None) -> str:
    if weight is not None and answers.weight is not None and weight != answers.weight:
        raise UsageError(f"--weight {weight} but {answers.source} is about '{answers.weight}'",
                         None, "leave out --weight, or fix `weight:` in the answers file")
    chosen = weight or answers.weight
    if chosen is None:
        raise UsageError(f"{answers.source} has no `weight:`", None,
                         "add `weight: NAME` to it or give --weight NAME")
    check_weight(spec, chosen)
    return chosen


def _ungraded(given: AnswerPath) -> ValueGrade:
    number = float(given.value.number) if given.value is not None else None
    return ValueGrade("ungraded", None, number)


def _not_a_path(spec: Spec, weight: str, pos: int, given: AnswerPath) -> PathGrade:
    """Why `given` is not a path from the weight to the loss: the first thing that fails."""
    nodes = given.nodes
    base = {"position": pos, "nodes": nodes, "status": "not-a-path", "factors": (),
            "value": _ungraded(given), "line": given.line}
    for n in nodes:
        if spec.kind(n) is None:
            return PathGrade(**base, problem="unknown-name", unknown=n)
    for u, v in zip(nodes, nodes[1:]):
        if v not in spec.nodes or u not in spec.graph.deps(v):  # a leaf uses nothing
            return PathGrade(**base, problem="no-edge", bad_edge=(u, v))
    if nodes[0] != weight:
        return PathGrade(**base, problem="start")
    return PathGrade(**base, problem="end")


class _Judge:
    """Compares given factors and products with the network's, at one point."""

    def __init__(self, spec: Spec, net: Network, point: Mapping[str, Any],
                 tolerance: float) -> None:
        self.spec, self.net, self.tolerance = spec, net, tolerance
        with mpmath.workdps(DIGITS):
            self.alg = MPAlgebra()
            self.pv = point_values(spec, point)
            leaves = {n: (to_mpf(v) if v is not None else NoValue(f"{n} has no value"))
                      for n, v in point.items()}
            self.env = forward(net.graph.order, net.exprs, net.symbols, leaves, self.alg)
        self._composed: dict[sp.Symbol, sp.Expr | None] = {}  # a node in leaves, when asked

    def value_at(self, expr: sp.Expr) -> float | None:
        with mpmath.workdps(DIGITS):
            try:
                v = evaluate(expr, self.env, self.alg)
            except _TOO_BIG:  # exp(exp(exp(1000))): a number beyond any representation
                return None
        if isinstance(v, NoValue) or not mpmath.isfinite(v):
            return None
        return float(v)

    def path(self, pos: int, given: AnswerPath, factors: Sequence[sp.Expr],
             value: float | None, k: int) -> PathGrade:
        nodes = given.nodes
        edges = list(zip(nodes, nodes[1:]))
        with mpmath.workdps(DIGITS):
            raw = [self.pv.partials[e] for e in edges]
        ev = [None if isinstance(x, NoValue) else float(x) for x in raw]
        offered = list(given.factors) if given.factors is not None else [None] * len(edges)
        grades = [self.factor(i, u, v, factors[i], ev[i], offered[i])
                  for i, (u, v) in enumerate(edges)]
        flipped = False
        if any(f.status == "wrong" for f in grades) and len(edges) > 1:
            # written in the chain's order, loss side first: every factor right, just reversed
            back = [self.factor(i, u, v, factors[i], ev[i], offered[-1 - i])
                    for i, (u, v) in enumerate(edges)]
            if all(f.status == "correct" for f in back):
                grades, flipped = back, True
        vg = self.product(given, grades, value)
        wrong = any(f.status == "wrong" for f in grades) or vg.status == "wrong"
        return PathGrade(pos, nodes, "wrong" if wrong else "correct", tuple(grades), vg,
                         given.line, k + 1, reversed_factors=flipped)

    def factor(self, i: int, u: str, v: str, expected: sp.Expr, ev: float | None,
               given: Given | None) -> FactorGrade:
        if given is None:
            return FactorGrade(i, u, v, "missing", expected, ev, None, None)
        if not given.symbolic:
            x = float(given.number)  # type: ignore[arg-type]
            if ev is not None and close(x, ev, self.tolerance):
                return FactorGrade(i, u, v, "correct", expected, ev, given, x)
            reason = "sign" if ev is not None and ev != 0 and close(-x, ev, self.tolerance) \
                else "value"
            return FactorGrade(i, u, v, "wrong", expected, ev, given, x, reason)
        expr = to_sympy(given.expr, self.net.symbols)  # type: ignore[arg-type]
        x = self.value_at(expr)
        same, method = self.same(expr, expected)
        if same:
            return FactorGrade(i, u, v, "correct", expected, ev, given, x, None, method)
        at_point = x is not None and ev is not None and close(x, ev, 1e-9)
        reason = "undefined" if x is None else "point-only" if at_point else (
            "sign" if ev not in (None, 0) and close(-x, ev, 1e-9) else "expression")
        return FactorGrade(i, u, v, "wrong", expected, ev, given, x, reason, method)

    def same(self, given: sp.Expr, expected: sp.Expr) -> tuple[bool, str]:
        """Is `given` the same function of the leaves as `expected`? (verdict, method)"""
        diff = given - expected
        if diff == 0:
            return True, "exact"
        # a counterexample settles it cheaply; only an apparent identity is worth a proof
        differs, used = self.counterexample(diff)
        if differs or not used:  # no test point where both have a value: not the partial
            return False, "numeric"
        if _expandable(diff) and sp.expand(diff) == 0:
            return True, "exact"
        subs = self._in_leaves(diff)
        if subs is None:  # a node hundreds of operations deep in leaves: no proof is tried
            return True, "numeric"
        leaves = diff.xreplace(subs)
        if _expandable(leaves):
            if sp.expand(leaves) == 0:
                return True, "exact"
            if tree_size(leaves, SIMPLIFY_TREE_LIMIT) <= SIMPLIFY_TREE_LIMIT and \
                    sp.simplify(leaves.rewrite(sp.exp)) == 0:
                return True, "simplify"
        return True, "numeric"  # equal to 30 digits at every test point, not proved

    def _in_leaves(self, expr: sp.Expr) -> dict[sp.Symbol, sp.Expr] | None:
        """The nodes `expr` uses, each written in leaves (None: one would be too large to
        prove anything with; composing a 20,000-link chain took sympy a minute)."""
        names = {s.name for s in expr.free_symbols if s.name in self.spec.nodes}
        out = {}
        for n in names:
            sym = self.net.symbols[n]
            if sym not in self._composed:
                small = self.net.composed_size(n, COMPOSED_LIMIT) <= COMPOSED_LIMIT
                self._composed[sym] = self.net.compose(n)[n] if small else None
            if self._composed[sym] is None:
                return None
            out[sym] = self._composed[sym]
        return out

    def counterexample(self, diff: sp.Expr) -> tuple[bool, int]:
        """Whether `diff` is clearly not 0 at one of a few random points (50 digits), and at
        how many points it had a value."""
        rng = random.Random(SEED)
        used = 0
        leaves = [*self.spec.inputs, *self.spec.params]
        sym = self.net.symbols
        with mpmath.workdps(TEST_DIGITS):
            alg = MPAlgebra()
            for _ in range(TEST_POINTS):
                vals = {n: mpmath.mpf(rng.uniform(0.5, 1.5)) for n in leaves}
                try:
                    env = forward(self.net.graph.order, self.net.exprs, sym, vals, alg)
                    d = evaluate(diff, env, alg)
                except _TOO_BIG:
                    continue
                if isinstance(d, NoValue) or not mpmath.isfinite(d):
                    continue
                used += 1
                scale = max(mpmath.mpf(1), *(abs(v) for v in env.values()
                                             if not isinstance(v, NoValue)))
                if abs(d) > mpmath.mpf(10) ** (-(TEST_DIGITS - 20)) * scale:
                    return True, used
        return False, used

    def product(self, given: AnswerPath, factors: Sequence[FactorGrade],
                expected: float | None) -> ValueGrade:
        own = None
        if given.factors is not None and all(f.given_value is not None for f in factors):
            own = 1.0
            for f in factors:
                own *= f.given_value  # type: ignore[operator]
        wrong = tuple(f.index for f in factors if f.status == "wrong")
        if given.value is None:
            return ValueGrade("missing", expected, None, None, own, wrong)
        x = float(given.value.number)  # type: ignore[arg-type]
        if expected is None:
            return ValueGrade("wrong", None, x, "value", own, wrong)
        if close(x, expected, self.tolerance):
            return ValueGrade("correct", expected, x, None, own, wrong)
        if own is not None and close(x, own, self.tolerance):
            if not wrong:  # right factors, rounded: their rounding adds up, not a mistake
                return ValueGrade("correct", expected, x, None, own, wrong)
            return ValueGrade("wrong", expected, x, "carried", own, wrong)
        if expected != 0 and close(-x, expected, self.tolerance):
            return ValueGrade("wrong", expected, x, "sign", own, wrong)
        return ValueGrade("wrong", expected, x, "arithmetic" if own is not None else "value",
                          own, wrong)


def _gradient(given: float, expected: float | None, paths: Sequence[PathGrade],
              missing: Sequence[tuple[str, ...]], tolerance: float) -> GradientGrade:
    values = [p.value.given for p in paths if p.value.given is not None]
    your_sum = sum(values) if values else None  # the values the student wrote down
    if expected is not None and close(given, expected, tolerance):
        return GradientGrade("correct", expected, given, None, your_sum)
    if your_sum is not None and close(given, your_sum, tolerance):
        if missing:
            reason = "missed-path"
        elif any(p.status == "not-a-path" and p.value.given is not None for p in paths):
            reason = "extra-path"
        elif any(p.status == "duplicate" and p.value.given is not None for p in paths):
            reason = "duplicate"
        else:
            reason = "path-values"
        return GradientGrade("wrong", expected, given, reason, your_sum)
    if expected not in (None, 0) and close(-given, expected, tolerance):  # type: ignore[arg-type]
        return GradientGrade("wrong", expected, given, "sign", your_sum)
    return GradientGrade("wrong", expected, given, "value", your_sum)
