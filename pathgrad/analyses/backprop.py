"""Backprop as a table: the sum over paths, factored by shared suffixes (or prefixes).

Reverse mode gives every name v a δ_v = ∂loss/∂v: δ_loss = 1 and δ_v = Σ_children δ_c · ∂c/∂v,
in reverse topological order. δ_v stands for every path from v to the loss, yet each edge is
used once (Olah: "touch each edge exactly once"), so δ_weight is Bauer's sum over paths without
listing it. Forward mode does the same from the other end: ṫ_weight = 1 and
ṫ_v = Σ_parents ∂v/∂u · ṫ_u, so ṫ_loss = ∂loss/∂weight.

Only names on some path from the weight to the loss take part; the table counts the
multiplications each way needs against listing every path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..calculus import Network
from ..errors import LimitError
from ..graph import between, length_counts, listing_cost, path_edge_total, relevant_children
from ..numeric.evaluate import NoValue
from ..numeric.exact import plus, times, within_float
from ..numeric.points import DIGITS, as_float, point_values
from ..progress import SILENT, Reporter
from ..spec import Spec
from ..spec.model import apply_values, check_weight
from .budget import check_cone
from .explanation import DEFAULT_MAX_PATHS

__all__ = ["Term", "Step", "Backprop", "backprop"]


class Term:
    """One summand: δ_other · ∂other/∂node (reverse) or ∂node/∂other · ṫ_other (forward).

    `factor` is the local partial in node names (None when symbolic=False). Given `make`
    instead, it is built when first read: a table of 30,000 rows shows 400 of them, and
    sympy takes a tenth of a millisecond for each partial it is not asked for."""

    __slots__ = ("other", "factor_value", "_factor", "_make")

    def __init__(self, other: str, factor: sp.Expr | None, factor_value: float | None,
                 make: Callable[[], sp.Expr] | None = None) -> None:
        self.other = other
        self.factor_value = factor_value
        self._factor = factor
        self._make = make

    @property
    def factor(self) -> sp.Expr | None:
        if self._make is not None:
            self._factor, self._make = self._make(), None
        return self._factor

    def _key(self) -> tuple:
        return (self.other, self.factor, self.factor_value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Term) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Term(other={self.other!r}, factor={self.factor!r}, " \
               f"factor_value={self.factor_value!r})"


@dataclass(frozen=True)
class Step:
    """One row: a name's δ (reverse) or tangent ṫ (forward), from the rows before it."""

    node: str
    terms: tuple[Term, ...]  # empty for the seed: δ_loss = 1, or ṫ_weight = 1
    value: float | None
    paths: int  # paths it stands for: node → loss (reverse), weight → node (forward)
    note: str | None = None  # why value is None


@dataclass(frozen=True)
class Backprop:
    """Reverse (or forward) mode for ∂loss/∂weight, row by row, with the cost comparison."""

    spec: Spec
    weight: str
    loss: str
    mode: str  # "reverse" | "forward"
    steps: tuple[Step, ...]  # in the order they are computed
    value: float | None  # δ_weight (reverse) = ṫ_loss (forward) = ∂loss/∂weight
    path_count: int
    path_sum: float | None  # Σ over every listed path of its product, when listable
    listed: bool  # whether the paths were listed and summed to compare
    multiplications: int
    additions: int
    listing_multiplications: int
    listing_additions: int
    note: str | None = None  # why value is None
    values: dict[str, Fraction | None] = field(default_factory=dict)

    @property
    def agrees(self) -> bool | None:
        """Whether δ_weight equals the listed sum over paths (None when not listed)."""
        if not self.listed or self.value is None or self.path_sum is None:
            return None
        return abs(self.value - self.path_sum) <= 1e-12 * max(1.0, abs(self.value))

    @property
    def symbol(self) -> str:
        """'δ' for reverse mode, 'ṫ' (a tangent) for forward mode."""
        return "δ" if self.mode == "reverse" else "ṫ"


def backprop(spec: Spec, weight: str, values: Mapping[str, object] | None = None, *,
             forward: bool = False, symbolic: bool = True, max_listing: int = DEFAULT_MAX_PATHS,
             network: Network | None = None, progress: Reporter = SILENT) -> Backprop:
    """∂loss/∂weight by reverse mode (or forward mode), one row per name.

    Rows between `weight` and the loss only. When there are at most `max_listing` paths they
    are also listed and summed, to show the two agree.

    >>> from pathgrad import load
    >>> spec = load("params: {a: 2, b: 1}\\nnodes: {c: a + b, d: b + 1, e: c * d}")
    >>> bp = backprop(spec, "b")
    >>> [(s.node, s.value, s.paths) for s in bp.steps], bp.path_sum
    ([('e', 1.0, 1), ('d', 3.0, 1), ('c', 2.0, 1), ('b', 5.0, 2)], 5.0)
    """
    check_weight(spec, weight)
    leaf_values = apply_values(spec, values)
    graph = spec.graph
    loss = spec.loss
    nodes = between(graph, weight, loss)
    try:
        lengths = length_counts(graph, weight, loss)
        count = sum(lengths.values())
        list_mults, list_adds = listing_cost(lengths)
    except LimitError as exc:  # too many lengths to tabulate; the totals need no table
        if exc.limit != "max_length_cells":
            raise
        count, edges = path_edge_total(graph, weight, loss)
        list_mults, list_adds = edges - count, max(count - 1, 0)
    mode = "forward" if forward else "reverse"
    if not nodes:
        return Backprop(spec, weight, loss, mode, (), 0.0, 0, 0.0, True, 0, 0, 0, 0,
                        f"{loss} does not depend on {weight}", leaf_values)
    check_cone(spec, weight)
    kids = relevant_children(graph, nodes)
    parents = {n: [u for u in graph.deps(n) if u in kids] for n in nodes}
    net = (network or Network(spec, graph)) if symbolic else None
    with mpmath.workdps(DIGITS):
        with progress.task("evaluating local partials", None):
            pv = point_values(spec, leaf_values, nodes[1:], upto=loss)
        with progress.task(f"{mode} mode over {len(nodes):,} names", len(nodes)) as task:
            if forward:
                steps, value = _forward(nodes, parents, pv, net, task)
            else:
                steps, value = _reverse(nodes, kids, graph.path_counts(loss), pv, net, task)
        path_sum = None
        if count <= max_listing:
            with progress.task(f"listing {count:,} paths", count) as task:
                path_sum = _listed_sum(graph, weight, loss, pv, task)
    edges = sum(len(kids[n]) for n in nodes)
    if forward:
        mults = edges - len(kids[weight])  # ṫ_weight = 1: its edges need no multiplication
        adds = sum(max(len(parents[n]) - 1, 0) for n in nodes[1:])
    else:
        mults = edges - len(parents[loss])  # δ_loss = 1
        adds = sum(max(len(kids[n]) - 1, 0) for n in nodes[:-1])
    shown, note = _shown(value)
    return Backprop(
        spec=spec, weight=weight, loss=loss, mode=mode, steps=tuple(steps),
        value=shown, path_count=count,
        path_sum=None if path_sum is None else _float(path_sum), listed=path_sum is not None,
        multiplications=mults, additions=adds, listing_multiplications=list_mults,
        listing_additions=list_adds, note=note, values=leaf_values)


def _float(x: Any) -> float | None:
    return as_float(within_float(x))


def _shown(x: Any) -> tuple[float | None, str | None]:
    """The float a row shows, and why there is none: undefined, too large for a float, or a
    nonzero too small for one (a δ of −7·10⁻⁴²⁴ is not 0), as explain says."""
    x = within_float(x)
    return (None, x.reason) if isinstance(x, NoValue) else (as_float(x), None)


def _mul(a: Any, b: Any) -> Any:
    return times([a, b])  # exact (numeric.exact); NoValue propagates


def _sum(xs: list[Any]) -> Any:
    return plus(xs)


def _term(net: Network | None, u: str, v: str, pv: Any, other: str) -> Term:
    """The edge u → v as a term with `other`'s δ or ṫ: ∂v/∂u symbolically and its value."""
    value = _float(pv.exact_partials[(u, v)])
    if net is None:
        return Term(other, None, value)
    return Term(other, None, value, lambda: net.local_partial(u, v))


def _reverse(nodes: tuple[str, ...], kids: Mapping[str, list[str]], counts: Mapping[str, int],
             pv: Any, net: Network | None, task: Any) -> tuple[list[Step], Any]:
    loss = nodes[-1]
    delta: dict[str, Any] = {loss: Fraction(1)}
    steps = [Step(loss, (), 1.0, 1)]
    task.advance()
    for n in reversed(nodes[:-1]):
        terms = []
        parts = []
        for c in kids[n]:
            terms.append(_term(net, n, c, pv, c))
            parts.append(_mul(delta[c], pv.exact_partials[(n, c)]))
        delta[n] = _sum(parts)
        value, note = _shown(delta[n])
        steps.append(Step(n, tuple(terms), value, counts[n], note))
        task.advance()
    return steps, delta[nodes[0]]


def _forward(nodes: tuple[str, ...], parents: Mapping[str, list[str]], pv: Any,
             net: Network | None, task: Any) -> tuple[list[Step], Any]:
    weight = nodes[0]
    tangent: dict[str, Any] = {weight: Fraction(1)}
    paths: dict[str, int] = {weight: 1}
    steps = [Step(weight, (), 1.0, 1)]
    task.advance()
    for v in nodes[1:]:
        terms = []
        parts = []
        for u in parents[v]:
            terms.append(_term(net, u, v, pv, u))
            parts.append(_mul(pv.exact_partials[(u, v)], tangent[u]))
        tangent[v] = _sum(parts)
        paths[v] = sum(paths[u] for u in parents[v])
        value, note = _shown(tangent[v])
        steps.append(Step(v, tuple(terms), value, paths[v], note))
        task.advance()
    return steps, tangent[nodes[-1]]


def _listed_sum(graph: Any, weight: str, loss: str, pv: Any, task: Any) -> Any:
    """Σ over every path, listed one by one, of the product of its local partials."""
    values = []
    for p in graph.paths(weight, loss):
        out: Any = Fraction(1)
        for u, v in zip(p, p[1:]):
            out = _mul(out, pv.exact_partials[(u, v)])
        values.append(out)
        task.advance()
    return _sum(values)
