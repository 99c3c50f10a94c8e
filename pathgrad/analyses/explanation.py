"""The explain stage: every path from a weight to the loss, its product of local partials,
the sum over paths (Bauer's formula), sympy's direct derivative, and the verdict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..calculus import Network, products, sum_terms
from ..errors import LimitError, count_text
from ..graph import Graph, path_totals
from ..numeric.evaluate import NoValue, SympyPoint
from ..numeric.exact import (
    ExactAlgebra,
    divide,
    exact_text,
    is_zero,
    plus,
    times,
    to_float,
    within_float,
)
from ..numeric.points import point_values
from ..progress import SILENT, Reporter
from ..spec import Limits
from ..spec.model import Spec, apply_values, check_weight
from ..verify.methods import Verification
from ..verify.proof import DEFAULT_VERIFY_TIMEOUT, prove
from .budget import check_cone

__all__ = ["PathTerm", "Explanation", "explain", "DEFAULT_MAX_PATHS"]

DEFAULT_MAX_PATHS = 10_000
DIGITS = 30  # working precision for the numbers shown; they are rounded to floats at the end


@dataclass(frozen=True)
class PathTerm:
    """One path weight → … → loss and its product of local partials."""

    nodes: tuple[str, ...]
    factors: tuple[sp.Expr, ...]  # factors[i] = ∂nodes[i+1]/∂nodes[i]
    term: sp.Expr
    value: float | None = None
    share: float | None = None
    note: str | None = None  # why value is None
    exact: str | None = None  # the value as an exact rational ('0', '-3/25'), when it is one

    @property
    def chain(self) -> str:
        """The chain in Leibniz notation, loss side first: ∂E/∂Out · … · ∂a01/∂w11."""
        pairs = zip(self.nodes[1:], self.nodes[:-1])
        return " · ".join(f"∂{v}/∂{u}" for v, u in reversed(list(pairs)))

    def factors_loss_first(self) -> list[tuple[str, str, sp.Expr]]:
        """(v, u, ∂v/∂u) from the loss side back to the weight, as the chain is written."""
        return [(self.nodes[i + 1], self.nodes[i], f)
                for i, f in reversed(list(enumerate(self.factors)))]


@dataclass(frozen=True)
class Explanation:
    """∂loss/∂weight as a sum over paths, checked against sympy's direct derivative."""

    spec: Spec
    weight: str
    loss: str
    path_count: int
    paths: tuple[PathTerm, ...]
    sum: sp.Expr  # Σ over paths, in the network's names
    direct: sp.Expr  # sympy.diff of the composed loss, in leaves
    direct_names: sp.Expr  # the same, with node expressions written as node names
    verification: Verification
    value: float | None = None
    value_note: str | None = None
    values: dict[str, Fraction | None] = field(default_factory=dict)
    node_values: dict[str, float | None] = field(default_factory=dict)
    node_notes: dict[str, str] = field(default_factory=dict)  # why a node has no value
    value_exact: str | None = None  # `value` as an exact rational, when it is one
    node_values_exact: dict[str, str | None] = field(default_factory=dict)  # likewise
    network: Network | None = field(default=None, compare=False, repr=False)
    # False for a large net: the loss composed from the weight's cone only, so `direct` is in
    # leaves and the names of the nodes that do not depend on the weight
    direct_in_leaves: bool = True

    @property
    def verified(self) -> bool:
        """True when the sum over paths was proved equal to the direct derivative."""
        return self.verification.verified

    @property
    def direct_computed(self) -> bool:
        """False when sympy.diff ran past --verify-timeout and a numeric check stood in."""
        return not isinstance(self.direct, sp.Derivative)

    @property
    def verdict(self) -> str:
        """The verdict as a sentence (without the ✓/✗ mark)."""
        v = self.verification
        if not v.verified:
            return f"NOT VERIFIED: {v.detail}"
        other = ("the direct derivative" if self.direct_computed
                 else "finite differences of the composed loss")
        return f"the sum over paths equals {other}; {v.detail}"

    @property
    def direct_label_parts(self) -> tuple[str, str]:
        """The words before and after the loss's name in `direct_label` (renderers put the
        name in their own notation between them)."""
        if self.verification.derivative == "symengine":
            if not self.direct_in_leaves:
                return ("symengine's derivative of ",
                        " composed from the nodes that depend on the weight")
            return "symengine's derivative of the composed ", ""
        return "sympy.diff of the composed ", ""

    @property
    def direct_label(self) -> str:
        """Which direct derivative there is: 'sympy.diff of the composed E', …"""
        before, after = self.direct_label_parts
        return f"{before}{self.loss}{after}"

    @property
    def direct_note(self) -> str:
        """Why the direct derivative is not written out (when it is not)."""
        if not self.direct_computed:
            why = self.verification.missing or (
                f"no direct derivative of the composed {self.loss} within --verify-timeout")
            return f"{why}, so none is shown"
        return f"{self.direct_label} is too large to write out; --format json has it"


def explain(spec: Spec, weight: str, values: Mapping[str, object] | None = None, *,
            max_paths: int = DEFAULT_MAX_PATHS, network: Network | None = None,
            verify_timeout: float | None = DEFAULT_VERIFY_TIMEOUT,
            limits: Limits | None = None, progress: Reporter = SILENT) -> Explanation:
    """Explain ∂loss/∂weight as the sum over every path of the product of local partials.

    The direct derivative and the verdict come from `verify.proof.prove`: symengine's
    derivative of the composed loss (and sympy.diff's too on small nets, which must agree).
    With no time for it (`verify_timeout` 0 s; None: no limit) `direct` stays an unevaluated
    Derivative and the sum is checked by central finite differences on the DAG instead
    (verification.method "finite-difference"). Paths are written out only while the longest
    has at most `limits.max_path_edges` edges and all of them `limits.max_factors` factors
    (PATHGRAD_MAX_PATH_EDGES, PATHGRAD_MAX_FACTORS), and while the nodes between the weight
    and the loss have at most `limits.max_cone_edges` partials (PATHGRAD_MAX_CONE_EDGES):
    past that, a LimitError says what to use.

    >>> from pathgrad import load
    >>> spec = load("inputs: {x: 2}\\nparams: {w: 3}\\nnodes: {h: w*x, E: h^2 + w}")
    >>> ex = explain(spec, "w")
    >>> [p.nodes for p in ex.paths], ex.sum, ex.value, ex.verified
    ([('w', 'h', 'E'), ('w', 'E')], 2*h*x + 1, 25.0, True)
    """
    check_weight(spec, weight)
    leaf_values = apply_values(spec, values)
    net = network or Network(spec, spec.graph)
    graph = net.graph
    loss = spec.loss
    count = graph.path_count(weight, loss)
    if count > max_paths:
        raise LimitError(
            f"'{weight}' has {count_text(count)} paths to '{loss}', "
            f"more than --max-paths {max_paths:,}",
            None, "use --top K to see the largest paths, or `pathgrad backprop` to add them up "
                  "without listing")
    if count:
        limits = limits or Limits.from_env()
        check_cone(spec, weight, limits)
        check_listing(graph, weight, loss, limits)
    listed = []
    with progress.task(f"listing {count:,} paths", count) as task:
        for p in graph.paths(weight, loss):
            listed.append((p, tuple(net.local_partial(u, v) for u, v in zip(p, p[1:]))))
            task.advance()
    # sp.Mul(*factors) for every path at once: the same terms, sorted by shared ranks
    terms = [PathTerm(p, factors, term)
             for (p, factors), term in zip(listed, products(f for _, f in listed))]
    total = sum_terms(t.term for t in terms)  # sp.Add(*terms), without its compare-sort

    proof = prove(net, weight, total, leaf_values, timeout=verify_timeout, progress=progress)
    direct, direct_names, verification = proof.direct, proof.direct_names, proof.verification
    numbers = _numbers(net, weight, terms, direct, leaf_values, proof.in_leaves)
    return Explanation(
        spec=spec, weight=weight, loss=loss, path_count=count, paths=numbers["paths"],
        sum=total, direct=direct, direct_names=direct_names, verification=verification,
        value=numbers["value"], value_note=numbers["note"], values=leaf_values,
        node_values=numbers["nodes"], node_notes=numbers["node_notes"], network=net,
        value_exact=numbers["exact"], node_values_exact=numbers["nodes_exact"],
        direct_in_leaves=proof.in_leaves,
    )


def check_listing(graph: Graph, weight: str, loss: str, limits: Limits) -> None:
    """`check_writable` for listing every path, counted in one pass without listing any."""
    count, factors, _, longest = path_totals(graph, weight, loss)
    check_writable(weight, loss, longest, factors, limits, count=count)


def check_writable(weight: str, loss: str, longest: int, factors: int, limits: Limits, *,
                   count: int | None = None) -> None:
    """Refuse to write out paths whose products are too long to read or to build: a path of
    more than `limits.max_path_edges` edges, or more than `limits.max_factors` factors in all
    (`count`: how many paths explain would list; None for --top's K)."""
    backprop = "`pathgrad backprop` adds them up without writing them out"
    if longest > limits.max_path_edges:
        raise LimitError(
            f"'{weight}' has a path of {longest:,} edges to '{loss}'; paths are written out "
            f"up to {limits.max_path_edges:,} edges", None,
            f"{backprop}, or raise the limit with PATHGRAD_MAX_PATH_EDGES={longest}",
            limit="max_path_edges")
    if factors > limits.max_factors:
        what = "the paths" if count is None else f"the {count:,} paths"
        raise LimitError(
            f"{what} from '{weight}' to '{loss}' have {factors:,} local partials together; "
            f"paths are written out up to {limits.max_factors:,}", None,
            f"use --top K to see the largest paths, or {backprop}, or raise the limit with "
            f"PATHGRAD_MAX_FACTORS={factors}", limit="max_factors")


def _numbers(net: Network, weight: str, terms: Iterable[PathTerm], direct: sp.Expr,
             leaf_values: Mapping[str, Fraction | None], in_leaves: bool = True
             ) -> dict[str, Any]:
    """Path values, shares and the gradient at the spec's point, where they are defined:
    exact where the point allows it (numeric.exact), so kinks are decided exactly."""
    with mpmath.workdps(DIGITS):
        # node values from the AST (numeric.points): no sympy expression of every node
        known = point_values(net.spec, leaf_values, ()).exact_values
        # the leaves' exact values are among `known` (looked up by name: the rest is unused)
        point = SympyPoint(net, known, ExactAlgebra(), values=known)
        products = _path_values(point, terms)
        raw = [_finite(v) for v in products]
        direct_value = point.in_leaves(direct) if in_leaves else point.value(direct)
        if isinstance(direct_value, NoValue):  # no direct derivative: the sum over paths
            good = [v for v in products if not isinstance(v, NoValue)]
            if products and len(good) == len(products):
                direct_value = plus(good)
        direct_value = _finite(direct_value)
        undefined = point.node(net.spec.loss)
        if isinstance(undefined, NoValue):  # where the loss is undefined, so is its derivative
            direct_value, raw = undefined, [undefined] * len(raw)
        paths = []
        inverse = None  # 1/∂E/∂w once, not once per path
        if not isinstance(direct_value, NoValue) and not is_zero(direct_value):
            inverse = divide(Fraction(1), direct_value)
        for t, v in zip(terms, raw):
            if isinstance(v, NoValue):
                paths.append(PathTerm(t.nodes, t.factors, t.term, None, None, v.reason))
                continue
            share = None if inverse is None else to_float(times([v, inverse]))
            paths.append(PathTerm(t.nodes, t.factors, t.term, to_float(v), share, None,
                                  exact_text(v)))
        checked = {n: _finite(point.node(n)) for n in net.exprs}
        node_values = {n: to_float(v) for n, v in checked.items()}
        node_exact = {n: exact_text(v) for n, v in checked.items()}
        node_notes = {n: v.reason for n, v in checked.items() if isinstance(v, NoValue)}
    out = {"paths": tuple(paths), "nodes": node_values, "node_notes": node_notes,
           "nodes_exact": node_exact}
    if isinstance(direct_value, NoValue):
        return {**out, "value": None, "note": direct_value.reason, "exact": None}
    return {**out, "value": to_float(direct_value), "note": None,
            "exact": exact_text(direct_value)}


def _path_values(point: SympyPoint, terms: Iterable[PathTerm]) -> list[Any]:
    """Each path's product of its factors' values at the point. Paths come depth first, so
    one shares its first edges with the one before: their partial product is kept, and a
    path of 13 factors costs one or two multiplications, not twelve (exact arithmetic)."""
    value_of: dict[int, Any] = {}  # id of a factor (shared by every path on its edge)
    out: list[Any] = []
    before: tuple[str, ...] = ()
    prefix: list[Any] = []  # prefix[i]: the product of the first i + 1 factors
    for t in terms:
        same = 0
        for a, b in zip(before, t.nodes):
            if a != b:
                break
            same += 1
        del prefix[max(same - 1, 0):]  # the edges inside the common nodes are kept
        for f in t.factors[len(prefix):]:
            v = value_of.get(id(f))
            if v is None:
                v = value_of[id(f)] = point.value(f)
            prefix.append(times([prefix[-1], v]) if prefix else v)
        out.append(prefix[-1] if prefix else times([]))
        before = t.nodes
    return out


_finite = within_float  # numeric.exact: beyond a float, or a nonzero below it, is a note
