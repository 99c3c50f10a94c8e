"""The three ways to prove the sum over paths equal to a computed direct derivative.

Cheapest proof first:

1. exact: `sympy.expand(sum − direct) == 0`, tried only when both are small as trees;
2. modular: the identity tested at random points modulo the prime 2^127 − 1, every function
   application an independent random value (Schwartz–Zippel); works on the shared DAG and
   bounds the chance of a false pass;
3. numeric: 50-digit mpmath at the spec's point and random points, for identities that hold
   only analytically (sympy may rewrite e.g. sqrt(x²) as |x|).

`prove` (verify/proof.py) decides which direct derivative there is and calls `verify`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..calculus import Network, tree_size
from ..numeric.evaluate import (
    PRIME,
    DegreeAlgebra,
    ModPAlgebra,
    MPAlgebra,
    NoValue,
    evaluate,
    forward,
)
from .sampling import RANDOM_POINTS, compare, sample_points, sum_value

__all__ = ["Verification", "verify", "EXACT_TREE_LIMIT"]

EXACT_TREE_LIMIT = 400  # beyond this, expand() may blow up; the DAG methods take over
MODULAR_TRIALS = 2
NUMERIC_DIGITS = 50
SEED = 20261128


@dataclass(frozen=True)
class Verification:
    """The verdict on sum over paths = direct derivative, and how it was reached."""

    verified: bool
    method: str  # "exact" | "modular" | "numeric" | "finite-difference" | "none"
    detail: str
    error_bound: float | None = None
    # which direct derivative was checked: "sympy.diff", "symengine", or None (none computed)
    derivative: str | None = None
    missing: str | None = None  # why no direct derivative was computed, when none was


def verify(net: Network, weight: str, sum_names: sp.Expr, direct: sp.Expr,
           composed: Mapping[str, sp.Expr], point: Mapping[str, object] | None = None,
           scope: Scope | None = None) -> Verification:
    """Prove or refute that `sum_names` (in node names) equals `direct` (in leaves).

    `scope` (leaves, nodes): the names `direct` is written in and the nodes computed from
    them, in topological order; default every leaf and every node."""
    if tree_size(sum_names, EXACT_TREE_LIMIT) + tree_size(direct, EXACT_TREE_LIMIT) \
            <= EXACT_TREE_LIMIT:
        node_subs = {s: composed[s.name] for s in sum_names.free_symbols
                     if s.name in composed and composed[s.name] is not s}
        sum_leaves = sum_names.xreplace(node_subs)
        if tree_size(sum_leaves, EXACT_TREE_LIMIT) <= EXACT_TREE_LIMIT \
                and sp.expand(sum_leaves - direct) == 0:
            return Verification(True, "exact",
                                "exact: sympy.expand(sum over paths − direct derivative) = 0")
    scope = scope or (_leaves(net, weight), net.graph.order)
    ok, bound = _modular(net, weight, sum_names, direct, scope)
    if ok:
        return Verification(
            True, "modular",
            f"exact identity test modulo the prime 2^127 − 1 at {MODULAR_TRIALS} random points "
            f"(Schwartz–Zippel, each function application a random value): chance of a false "
            f"pass ≤ {bound:.0e}", bound)
    return _numeric(net, weight, sum_names, direct, point, scope)


Scope = tuple[Sequence[str], Sequence[str]]  # (the free names, the nodes computed from them)


def _leaves(net: Network, weight: str) -> list[str]:
    leaves = [*net.spec.inputs, *net.spec.params]
    return leaves if weight in leaves else [*leaves, weight]


def _modular(net: Network, weight: str, sum_names: sp.Expr, direct: sp.Expr, scope: Scope
             ) -> tuple[bool, float]:
    rng = random.Random(SEED)
    leaves, order = scope
    sym = net.symbols
    done = 0
    for _attempt in range(MODULAR_TRIALS * 3):
        alg = ModPAlgebra(rng)
        values = {n: rng.randrange(1, PRIME) for n in leaves}
        try:
            env = forward(order, net.exprs, sym, values, alg,
                          fixed={weight: values[weight]})
            lhs = sum_value(sum_names, env, alg)
            rhs = evaluate(direct, {sym[n]: values[n] for n in leaves}, alg)
        except (ValueError, ZeroDivisionError):
            continue  # hit a zero denominator: draw another point
        if lhs != rhs:
            return False, 1.0
        done += 1
        if done == MODULAR_TRIALS:
            break
    if done < MODULAR_TRIALS:
        return False, 1.0
    deg = DegreeAlgebra()
    denv = forward(order, net.exprs, sym, {n: (1, 0) for n in leaves}, deg,
                   fixed={weight: (1, 0)})
    n1, d1 = sum_value(sum_names, denv, deg)
    n2, d2 = evaluate(direct, {sym[n]: (1, 0) for n in leaves}, deg)
    degree = max(n1 + d2, n2 + d1, 1)
    apps = max(len(alg.oracle), 1)
    per_trial = min(1.0, degree * (1 + apps * apps) / PRIME)
    return True, max(per_trial**MODULAR_TRIALS, 1e-300)


def _numeric(net: Network, weight: str, sum_names: sp.Expr, direct: sp.Expr,
             point: Mapping[str, object] | None, scope: Scope) -> Verification:
    leaves, order = scope
    sym = net.symbols
    alg = MPAlgebra()

    def lhs(vals: dict) -> object:
        env = forward(order, net.exprs, sym, vals, alg, fixed={weight: vals[weight]})
        loss = env.get(sym[net.spec.loss])
        if isinstance(loss, NoValue):  # √−2 on the way: the loss is undefined here, so is its
            return loss                # derivative, whatever a composed form simplified away
        return sum_value(sum_names, env, alg)

    def rhs(vals: dict) -> object:
        return evaluate(direct, {sym[n]: vals[n] for n in leaves}, alg)

    points = sample_points(leaves, point)
    tolerance = mpmath.mpf(10) ** (-(NUMERIC_DIGITS - 15))
    found = compare(points, lhs, rhs, tolerance, NUMERIC_DIGITS)
    if found.differ:
        a, b = found.differ
        at = f"{mpmath.nstr(a, 12)} ≠ {mpmath.nstr(b, 12)}"
        others = points[1:] if len(points) > RANDOM_POINTS else []
        if found.used == 1 and others:  # at the spec's point: and elsewhere?
            away = compare(others, lhs, rhs, tolerance, NUMERIC_DIGITS)
            if away.used and not away.differ:
                return Verification(False, "numeric", (
                    f"the sum over paths and the direct derivative DIFFER at the spec's point "
                    f"({at}) but agree at {away.used} random points: the point is at a kink "
                    "(a tie of max or min, or relu, abs or a step at 0), where the chain rule's "
                    "conventions (relu′(0) = 0, sign(0) = 0, half to each side of a tie) are "
                    "not the derivative of the composed loss"), None)
        return Verification(
            False, "numeric",
            f"the sum over paths and the direct derivative DIFFER: {at} at a test point", None)
    if not found.used:
        return Verification(False, "none",
                            "could not verify: both sides are undefined at every test point")
    return Verification(
        True, "numeric",
        f"numeric identity test with {NUMERIC_DIGITS}-digit mpmath at {found.used} points: "
        f"largest relative difference {found.worst_text()}", float(found.worst) or None)
