"""The K paths with the largest |value|, found without listing the others.

A path's value is the product of its local partials, so with the edge cost
c(u → v) = −log|∂v/∂u| (at the spec's point) the K largest |values| are the K cheapest paths:
K shortest paths in a DAG. Each name keeps its K cheapest suffixes to the loss, merged from
its children in reverse topological order — O(E·K log K), exact, nothing enumerated. An edge
whose partial is 0 has infinite cost: every path through it has value 0.

Costs are added at 30 digits and rounded to units of 10^-20 only to compare, so paths of equal
|value| (2·3 and 1·6 alike) tie, and ties keep the order in which `Graph.paths` lists the
paths. Signs come from multiplying the signed factors.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..calculus import Network
from ..errors import UsageError, count_text
from ..graph import between, path_length_range, relevant_children
from ..numeric.evaluate import to_mpf
from ..numeric.exact import divide, exact_text, is_zero, plus, times
from ..numeric.points import DIGITS, PointValues, as_float, point_values, undefined_edge
from ..progress import SILENT, Reporter
from ..spec import Limits, Spec
from ..spec.model import apply_values, check_weight
from .budget import check_cone
from .explanation import PathTerm, check_writable

__all__ = ["TopPaths", "top_paths", "COST_UNIT"]

COST_UNIT = 10**20  # paths are ranked by Σ −log|partial| rounded to units of 10^-20

# one of a name's best suffixes: (rounded cost, position of the next name, its index in the
# next name's list, the next name ("" at the loss), the cost unrounded)
Entry = tuple[int, int, int, str, Any]


@dataclass(frozen=True)
class TopPaths:
    """The K largest paths from `weight` to the loss, and how much of the gradient they carry."""

    spec: Spec
    weight: str
    loss: str
    k: int
    path_count: int  # every path weight → loss
    nonzero_count: int  # paths whose value at the point is not 0
    paths: tuple[PathTerm, ...]  # largest |value| first; zero-valued fill at the end
    value: float | None  # ∂loss/∂weight at the point, summed over every path (reverse mode);
    covered: float | None  # Σ of the values of `paths`     None: too large for a float
    share: float | None  # covered / value (None when value = 0)
    mass_share: float | None  # Σ|values of paths| / Σ over every path of |value|
    zero_filled: int = 0  # paths of value 0 appended because fill_zeros was asked
    values: dict[str, Fraction | None] = field(default_factory=dict)
    network: Network | None = field(default=None, compare=False, repr=False)

    @property
    def method(self) -> str:
        """How `value` was obtained, for the reader."""
        return (f"reverse-mode accumulation over all {self.path_count:,} paths, "
                f"exact where rational, else {DIGITS}-digit mpmath")


def top_paths(spec: Spec, weight: str, k: int = 10, values: Mapping[str, object] | None = None,
              *, fill_zeros: bool = False, network: Network | None = None,
              limits: Limits | None = None, progress: Reporter = SILENT) -> TopPaths:
    """The `k` paths from `weight` to the loss with the largest |value| at the spec's point.

    Ties (equal |value|) keep the order of the full listing. With fewer than `k` nonzero paths
    the result is shorter, unless `fill_zeros` asks for paths of value 0 to fill it. The K
    paths are written out within `limits` as explain's are (PATHGRAD_MAX_PATH_EDGES and
    PATHGRAD_MAX_FACTORS); when even the shortest path is too long, before any work.

    >>> from pathgrad import load
    >>> spec = load("params: {a: 2, b: 1}\\nnodes: {c: a + b, d: b + 1, e: c * d}")
    >>> top = top_paths(spec, "b", k=1)
    >>> [p.nodes for p in top.paths], top.paths[0].value, top.value
    ([('b', 'd', 'e')], 3.0, 5.0)
    """
    if k < 1:
        raise UsageError(f"--top {k}: K must be at least 1")
    check_weight(spec, weight)
    leaf_values = apply_values(spec, values)
    graph = spec.graph
    loss = spec.loss
    count = graph.path_counts(loss)[weight]
    nodes = between(graph, weight, loss)
    if not nodes:
        return TopPaths(spec, weight, loss, k, 0, 0, (), 0.0, 0.0, None, None, 0, leaf_values)
    kids = relevant_children(graph, nodes)
    limits = limits or Limits.from_env()
    check_cone(spec, weight, limits)
    fewest = path_length_range(graph, weight, loss)[0]
    check_writable(weight, loss, fewest, fewest, limits)  # every path is at least this long
    with mpmath.workdps(DIGITS):
        with progress.task("evaluating local partials", None):
            pv = point_values(spec, leaf_values, nodes[1:], upto=loss)
        why = undefined_edge(pv, nodes, kids)
        if why is not None:
            raise UsageError(f"cannot rank the paths from '{weight}': {why}", None,
                             _hint(spec, leaf_values))
        zeros = {(n, c) for n in nodes for c in kids[n] if is_zero(pv.exact_partials[(n, c)])}
        with progress.task(f"top {k} of {count_text(count)} paths", len(nodes)) as task:
            best = _k_best(graph.order, nodes, kids, pv, zeros, k, task)
        exact, mass, nonzero = _totals(nodes, kids, pv, zeros)
        found = [_walk(weight, i, best) for i in range(len(best[weight]))]
        zero_found = [] if not fill_zeros or len(found) >= k else \
            list(_zero_paths(graph, weight, loss, zeros, k - len(found)))
        written = [len(p) - 1 for p in (*found, *zero_found)]
        check_writable(weight, loss, max(written, default=0), sum(written), limits)
        net = network or Network(spec, graph)
        terms = [_term(net, pv, p, exact) for p in found]
        zero = [_term(net, pv, p, exact) for p in zero_found]
        products = [_product(pv, p) for p in found]
        covered = plus(products)
        share = None if is_zero(exact) else as_float(divide(covered, exact))
        abs_sum = mpmath.fsum(abs(to_mpf(v)) for v in products)
        mass_share = as_float(abs_sum / mass) if mass != 0 else None
    return TopPaths(spec, weight, loss, k, count, nonzero, (*terms, *zero), as_float(exact),
                    as_float(covered), share, mass_share, len(zero), leaf_values, net)


def _hint(spec: Spec, leaf_values: Mapping[str, Fraction | None]) -> str | None:
    missing = [n for n, v in leaf_values.items() if v is None]
    if missing:
        return f"give {missing[0]} a value with --set {missing[0]}=VALUE"
    return "choose another point with --set NAME=VALUE"


def _k_best(order: tuple[str, ...], nodes: tuple[str, ...], kids: Mapping[str, list[str]],
            pv: PointValues, zeros: set[tuple[str, str]], k: int, task: Any
            ) -> dict[str, list[Entry]]:
    """For each name, its k cheapest suffixes to the loss, sorted by (key, pos(child), index):
    equal keys keep the listing's order, since a child's own list is in that order."""
    pos = {n: i for i, n in enumerate(order)}
    loss = nodes[-1]
    best: dict[str, list[Entry]] = {loss: [(0, -1, 0, "", mpmath.mpf(0))]}
    for n in reversed(nodes[:-1]):
        heap = []
        for c in kids[n]:
            if (n, c) in zeros or not best[c]:
                continue  # value-0 edge (exactly 0): infinite cost
            e = -mpmath.log(abs(to_mpf(pv.exact_partials[(n, c)])))
            heap.append((_key(e + best[c][0][4]), pos[c], 0, c, e))
        heapq.heapify(heap)  # (key, pos, index) is unique per entry: mpfs are never compared
        out: list[Entry] = []
        while heap and len(out) < k:
            key, pc, i, c, e = heapq.heappop(heap)
            out.append((key, pc, i, c, e + best[c][i][4]))
            if i + 1 < len(best[c]):
                heapq.heappush(heap, (_key(e + best[c][i + 1][4]), pc, i + 1, c, e))
        best[n] = out
        task.advance()
    return best


def _key(cost: Any) -> int:
    """A path's cost rounded to COST_UNIT: paths of equal |value| (up to the last digits of
    the 30-digit arithmetic) compare equal, whatever the order of their factors."""
    return int(mpmath.nint(cost * COST_UNIT))


def _walk(start: str, index: int, best: Mapping[str, list[Entry]]) -> tuple[str, ...]:
    path = [start]
    n, i = start, index
    while best[n][i][3]:
        _, _, j, c, _ = best[n][i]
        path.append(c)
        n, i = c, j
    return tuple(path)


def _totals(nodes: tuple[str, ...], kids: Mapping[str, list[str]], pv: PointValues,
            zeros: set[tuple[str, str]]) -> tuple[Any, Any, int]:
    """Σ over every path of its value (exact), of |value| (mpmath), and the number of
    nonzero paths."""
    loss = nodes[-1]
    delta: dict[str, Any] = {loss: Fraction(1)}
    mass: dict[str, Any] = {loss: mpmath.mpf(1)}
    nonzero: dict[str, int] = {loss: 1}
    for n in reversed(nodes[:-1]):
        parts = [(pv.exact_partials[(n, c)], c) for c in kids[n]]
        delta[n] = plus([times([p, delta[c]]) for p, c in parts])
        mass[n] = mpmath.fsum(abs(to_mpf(p)) * mass[c] for p, c in parts)
        nonzero[n] = sum(nonzero[c] for c in kids[n] if (n, c) not in zeros)
    w = nodes[0]
    return delta[w], mass[w], nonzero[w]


def _product(pv: PointValues, path: tuple[str, ...]) -> Any:
    return times([pv.exact_partials[(u, v)] for u, v in zip(path, path[1:])])


def _factors(net: Network, path: tuple[str, ...]) -> tuple[sp.Expr, ...]:
    return tuple(net.local_partial(u, v) for u, v in zip(path, path[1:]))


def _term(net: Network, pv: PointValues, path: tuple[str, ...], exact: Any) -> PathTerm:
    factors = _factors(net, path)
    value = _product(pv, path)
    share = None if is_zero(exact) else as_float(divide(value, exact))
    shown = as_float(value)
    return PathTerm(path, factors, sp.Mul(*factors), shown, share,
                    None if shown is not None else "too large for a float", exact_text(value))


def _zero_paths(graph: Any, weight: str, loss: str, zeros: set[tuple[str, str]], n: int
                ) -> list[tuple[str, ...]]:
    """The first `n` paths in listing order that go through a partial equal to 0."""
    out = []
    for p in graph.paths(weight, loss):
        if any((u, v) in zeros for u, v in zip(p, p[1:])):
            out.append(p)
            if len(out) == n:
                break
    return out
