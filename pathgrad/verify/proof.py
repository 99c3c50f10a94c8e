"""`prove`: the one place that decides how the sum over paths is checked.

Within the time budget (`--verify-timeout`):

1. the direct derivative: symengine differentiates the composed loss (C++, milliseconds even
   where sympy.diff needs minutes) and the result comes back as sympy on its DAG. On small nets
   sympy.diff runs too, as a second independent oracle: the two must agree, and sympy's form is
   the one shown;
2. the sum over paths against it: exact → modular → numeric (`methods.verify`);
3. when no direct derivative can be had (no time at all, or an expression symengine cannot
   differentiate), central finite differences of the loss on its DAG (`deadline`).

The verdict says which derivative was checked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import symengine as se
import sympy as sp

from ..calculus import (
    LARGE_NODE,
    EngineError,
    Network,
    from_symengine,
    rewrite,
    symengine_dag,
    symengine_derivative,
    symengine_tree_size,
    to_symengine,
)
from ..graph import between
from ..progress import SILENT, Reporter
from ..spec import grammar as g
from .deadline import DEFAULT_VERIFY_TIMEOUT, diff_within, finite_difference_check
from .methods import Verification, verify

__all__ = ["Proof", "prove", "ORACLE_TREE_LIMIT", "DEFAULT_VERIFY_TIMEOUT"]

# sympy.diff runs as the second oracle when the composed loss is at most this large as a tree:
# sigmoid 2-4-4-1 (≈ 200) and 2-3-3-3-1 (≈ 370) take sympy a few tenths of a second, 2-6-6-6-1
# (≈ 2,600) seconds, 2-8×4-1 (≈ 48,000) half a minute on a busy machine
ORACLE_TREE_LIMIT = 1_000


# beyond this many operations (AST nodes) above the loss the loss is composed only from the
# nodes that depend on the weight: composing a 300k-param net and bringing it back to sympy
# takes minutes, though ∂E/∂w near the loss involves a few of its nodes
FULL_COMPOSE_LIMIT = 10_000
# deeper than this (edges from the weight to the loss) the composed loss is not built: sympy
# recurses once per level in building and hashing it (a 1,000-node chain passes Python's limit)
DEPTH_LIMIT = 400


@dataclass(frozen=True)
class Proof:
    """The direct derivative (in leaves, and in node names) and the verdict on the sum."""

    verification: Verification
    direct: sp.Expr  # an unevaluated Derivative when none was computed
    direct_names: sp.Expr
    # False when `direct` is written in leaves and in the names of the nodes that do not
    # depend on the weight (held fixed: the loss was composed from the weight's cone only)
    in_leaves: bool = True


def prove(net: Network, weight: str, sum_names: sp.Expr,
          point: Mapping[str, Any] | None = None, *,
          timeout: float | None = DEFAULT_VERIFY_TIMEOUT,
          progress: Reporter = SILENT) -> Proof:
    """Compute ∂loss/∂weight directly and prove `sum_names` (in node names) equal to it.

    `timeout` (seconds, None: no limit) bounds the direct derivatives; 0 means none at all, so
    the sum is checked by finite differences.

    >>> from pathgrad import load
    >>> net = Network(load("params: {w: 3}\\ninputs: {x: 2}\\nnodes: {h: w*x, E: h^2}"))
    >>> h, x = net.symbols["h"], net.symbols["x"]
    >>> p = prove(net, "w", 2*h*x)
    >>> p.direct, p.direct_names, p.verification.method, p.verification.derivative
    (2*w*x**2, 2*w*x**2, 'exact', 'sympy.diff')
    >>> prove(net, "w", 2*h*x, timeout=0).verification.method
    'finite-difference'
    """
    loss = net.spec.loss
    sym = net.symbols
    if timeout is not None and timeout <= 0:
        return _by_differences(net, weight, sum_names, point, (
            f"no direct derivative of the composed {loss} within {timeout:g} s "
            "(--verify-timeout)"))
    start = time.monotonic()
    memo: dict[Any, sp.Basic] = {}
    depth = _depth(net, weight)
    if depth > DEPTH_LIMIT:
        return _by_differences(net, weight, sum_names, point, (
            f"the composed {loss} nests {depth:,} nodes deep below {weight}, deeper than "
            f"sympy's objects can go (Python's recursion limit: at most {DEPTH_LIMIT} levels "
            "are composed)"))
    if _operations(net, loss) > FULL_COMPOSE_LIMIT:
        return _prove_in_cone(net, weight, sum_names)
    try:
        with progress.task(f"symengine's derivative of the composed {loss}"):
            composed_se = net.compose_symengine(loss, free=weight)
            nowhere = _nowhere_defined(net, composed_se)
            if nowhere:
                unevaluated = sp.Derivative(sym[loss], sym[weight])
                v = Verification(False, "none", (
                    f"could not verify: {loss} has no derivative to compare the sum over "
                    "paths with (it is undefined at every point)"), missing=nowhere)
                return Proof(v, unevaluated, unevaluated)
            derivative_se = _derivative(net, weight, composed_se)
            direct = from_symengine(derivative_se, sym, memo)
    except EngineError as exc:
        return _by_differences(net, weight, sum_names, point, (
            f"symengine could not differentiate the composed {loss} ({exc})"))
    engine = f"symengine's derivative of the composed {loss}"
    small = symengine_tree_size(composed_se[loss], ORACLE_TREE_LIMIT) <= ORACLE_TREE_LIMIT
    reference = None
    missed = "ran out of --verify-timeout"  # why the second oracle has no answer
    if small:
        composed = net.compose(loss, free=weight)
        left = None if timeout is None else max(timeout - (time.monotonic() - start), 0.01)
        try:
            reference = diff_within(composed[loss], sym[weight], left, progress)
        except RecursionError:  # a deep chain: sympy recurses once per level
            missed = "is nested too deeply for sympy (Python's recursion limit)"
        except ValueError:  # relu′ or max of a value that is never real (log(−eˣ))
            missed = "refuses a value that is not real"
    if reference is not None:
        agree = verify(net, weight, reference, direct, composed, point)
        if not agree.verified and agree.method != "none":
            v = Verification(False, agree.method, (
                f"sympy.diff and {engine} DIFFER ({agree.detail}); the sum over paths was "
                "not checked"), derivative="sympy.diff")
            return Proof(v, reference, rewrite(reference, net.composed_table(composed)))
        direct = reference  # sympy's own form is the one shown
        which = f"sympy.diff of the composed {loss} " + (
            f"(symengine's derivative agrees: {agree.method})" if agree.verified else
            "(symengine's derivative could not be compared: both are undefined at every test "
            "point)")
        derivative = "sympy.diff"
    else:
        try:
            composed = {n: from_symengine(e, sym, memo) for n, e in composed_se.items()}
        except EngineError as exc:
            return _by_differences(net, weight, sum_names, point, (
                f"the composed {loss} could not be brought back from symengine ({exc})"))
        which = engine + ("" if not small else f" (sympy.diff, the second oracle, {missed})")
        derivative = "symengine"
    direct_names = rewrite(direct, net.composed_table(composed))
    v = verify(net, weight, sum_names, direct, composed, point)
    return Proof(replace(v, detail=f"{v.detail}; the direct derivative checked: {which}",
                         derivative=derivative), direct, direct_names)


_NOWHERE = frozenset((se.zoo, se.oo, -se.oo, se.nan))  # hashed: one lookup per subexpression


def _nowhere_defined(net: Network, composed_se: Mapping[str, Any]) -> str | None:
    """Why the loss is undefined at every point (log(p − p), x/0, …), naming the first node
    that is, or None: then there is no derivative to check the sum over paths against."""
    if not any(a in _NOWHERE for a in symengine_dag(composed_se[net.spec.loss])):
        return None
    bad = next((n for n in net.graph.order if n in net.spec.nodes and n in composed_se
                and any(a in _NOWHERE for a in symengine_dag(composed_se[n]))), net.spec.loss)
    return (f"{net.spec.loss} is undefined at every point: {bad} = {net.spec.text(bad)} is a "
            "log of 0, a division by 0 or 0·∞ whatever the values")


def _derivative(net: Network, weight: str, composed_se: Mapping[str, Any]) -> Any:
    """symengine's ∂loss/∂weight in leaves. Only the nodes on a path from the weight depend on
    it: they are composed afresh with every other node as a symbol, differentiated, and those
    symbols then replaced by their composed expressions. Differentiating the whole composed loss
    instead walks shared subexpressions once per path (minutes on 5 layers of 64)."""
    loss = net.spec.loss
    cone = set(between(net.graph, weight, loss))
    nodes = net.spec.nodes
    env: dict[str, Any] = {}
    for n in net.graph.order:
        if n not in composed_se:
            continue
        inside = n in cone and n != weight and n in nodes
        env[n] = to_symengine(nodes[n], env) if inside else net.se_symbols[n]
    d = symengine_derivative(env[loss], net.se_symbols[weight])
    outside = {net.se_symbols[n]: composed_se[n] for n in env
               if n not in cone and n in nodes and n != weight}
    return d.xreplace(outside) if outside else d


def _depth(net: Network, weight: str) -> int:
    """The longest path from `weight` to the loss, in edges: how deep the composition nests."""
    cone = between(net.graph, weight, net.spec.loss)
    depth = {weight: 0}
    for n in cone:
        if n != weight:
            depth[n] = 1 + max((depth[u] for u in net.graph.deps(n) if u in depth), default=0)
    return depth.get(net.spec.loss, 0)


def _operations(net: Network, target: str) -> int:
    """How many AST nodes the expressions of `target`'s ancestors have together."""
    nodes = net.spec.nodes
    total = 0
    for n in net.graph.ancestors_and_self(target):
        if n in nodes:
            total += g.size(nodes[n])
            if total > FULL_COMPOSE_LIMIT:
                break
    return total


def _prove_in_cone(net: Network, weight: str, sum_names: sp.Expr) -> Proof:
    """The proof for a large net: the loss composed from the nodes between the weight and the
    loss only (the cone), every other name a symbol. The nodes outside the cone do not depend
    on the weight, so their partials are 0 and this derivative is the derivative of the fully
    composed loss, written in their names; the sum over paths is then tested as an identity
    in the cone's free names (a stronger test: those names vary independently)."""
    loss = net.spec.loss
    sym, se_sym, nodes = net.symbols, net.se_symbols, net.spec.nodes
    cone = [n for n in between(net.graph, weight, loss) if n != weight and n in nodes]
    inside = set(cone)
    free = [weight]
    env: dict[str, Any] = {weight: se_sym[weight]}
    for n in cone:
        for u in net.graph.deps(n):
            if u not in env and u not in inside:
                env[u] = se_sym[u]
                free.append(u)
        if g.size(nodes[n]) > LARGE_NODE:  # the loss of 30,000 outputs: converted once
            subs = {se_sym[u]: env[u] for u in net.graph.deps(n) if env[u] is not se_sym[u]}
            plain = net.se_expression(n)
            env[n] = plain.xreplace(subs) if subs else plain
        else:
            env[n] = to_symengine(nodes[n], env)
    memo: dict[Any, sp.Basic] = {}
    try:
        derivative_se = symengine_derivative(env[loss], se_sym[weight])
        direct = from_symengine(derivative_se, sym, memo)
        # only the composed nodes that can appear in the derivative come back to sympy: a
        # node whose expression (or every term of its sum) is among the derivative's parts
        parts = set(symengine_dag(derivative_se))
        shown = [n for n in cone if env[n] in parts or (
            isinstance(env[n], se.Add) and all(a in parts for a in env[n].args))]
        composed = {n: from_symengine(env[n], sym, memo) for n in shown}
    except EngineError as exc:
        return _by_differences(net, weight, sum_names, None, (
            f"symengine could not differentiate the composed {loss} ({exc})"))
    direct_names = rewrite(direct, net.composed_table(composed))
    small = {n: composed[n] for n in shown}
    v = verify(net, weight, sum_names, direct, _ConeComposed(small, sym), None,
               scope=(free, cone))
    which = (f"symengine's derivative of {loss} composed from the {len(cone):,} nodes that "
             f"depend on {weight} (the other nodes do not, so they stay names)")
    return Proof(replace(v, detail=f"{v.detail}; the direct derivative checked: {which}",
                         derivative="symengine"), direct, direct_names, in_leaves=False)


class _ConeComposed(Mapping[str, sp.Expr]):
    """Cone nodes → composed sympy expression, for `verify`'s exact branch (which substitutes
    only what a small sum uses): what was not brought back stays its own symbol."""

    def __init__(self, known: dict[str, sp.Expr], symbols: Mapping[str, sp.Symbol]) -> None:
        self._known, self._symbols = known, symbols

    def __getitem__(self, name: str) -> sp.Expr:
        hit = self._known.get(name)
        return self._symbols[name] if hit is None else hit

    def __contains__(self, name: object) -> bool:
        return name in self._known

    def __iter__(self) -> Any:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


def _by_differences(net: Network, weight: str, sum_names: sp.Expr,
                    point: Mapping[str, Any] | None, why: str) -> Proof:
    sym = net.symbols
    unevaluated = sp.Derivative(sym[net.spec.loss], sym[weight])
    v = finite_difference_check(net, weight, sum_names, point, why)
    return Proof(replace(v, missing=why), unevaluated, unevaluated)
