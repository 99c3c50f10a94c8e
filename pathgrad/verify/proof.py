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

import sympy as sp

from ..calculus import (
    EngineError,
    Network,
    from_symengine,
    rewrite,
    symengine_derivative,
    symengine_tree_size,
    to_symengine,
)
from ..graph import between
from ..progress import SILENT, Reporter
from .deadline import DEFAULT_VERIFY_TIMEOUT, diff_within, finite_difference_check
from .methods import Verification, verify

__all__ = ["Proof", "prove", "ORACLE_TREE_LIMIT", "DEFAULT_VERIFY_TIMEOUT"]

# sympy.diff runs as the second oracle when the composed loss is at most this large as a tree:
# sigmoid 2-4-4-1 (≈ 200) and 2-3-3-3-1 (≈ 370) take sympy a few tenths of a second, 2-6-6-6-1
# (≈ 2,600) seconds, 2-8×4-1 (≈ 48,000) half a minute on a busy machine
ORACLE_TREE_LIMIT = 1_000


@dataclass(frozen=True)
class Proof:
    """The direct derivative (in leaves, and in node names) and the verdict on the sum."""

    verification: Verification
    direct: sp.Expr  # an unevaluated Derivative when none was computed
    direct_names: sp.Expr


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
    try:
        with progress.task(f"symengine's derivative of the composed {loss}"):
            composed_se = net.compose_symengine(loss, free=weight)
            derivative_se = _derivative(net, weight, composed_se)
            direct = from_symengine(derivative_se, sym, memo)
    except EngineError as exc:
        return _by_differences(net, weight, sum_names, point, (
            f"symengine could not differentiate the composed {loss} ({exc})"))
    engine = f"symengine's derivative of the composed {loss}"
    small = symengine_tree_size(composed_se[loss], ORACLE_TREE_LIMIT) <= ORACLE_TREE_LIMIT
    reference = None
    if small:
        composed = net.compose(loss, free=weight)
        left = None if timeout is None else max(timeout - (time.monotonic() - start), 0.01)
        reference = diff_within(composed[loss], sym[weight], left, progress)
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
        which = engine + ("" if not small else " (sympy.diff, the second oracle, ran out of "
                                               "--verify-timeout)")
        derivative = "symengine"
    direct_names = rewrite(direct, net.composed_table(composed))
    v = verify(net, weight, sum_names, direct, composed, point)
    return Proof(replace(v, detail=f"{v.detail}; the direct derivative checked: {which}",
                         derivative=derivative), direct, direct_names)


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


def _by_differences(net: Network, weight: str, sum_names: sp.Expr,
                    point: Mapping[str, Any] | None, why: str) -> Proof:
    sym = net.symbols
    unevaluated = sp.Derivative(sym[net.spec.loss], sym[weight])
    return Proof(finite_difference_check(net, weight, sum_names, point, why),
                 unevaluated, unevaluated)
