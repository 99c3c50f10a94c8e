"""Counting paths without listing them: by length, by value, and what listing would cost.

Every function here is a dynamic program over the DAG in topological order with exact big
integers (counts) or mpmath numbers (values), so a net with 64^49 paths per weight is counted in
the time it takes to visit its edges once. The path-length distribution is the view of Veit et
al. (2016) on residual nets: how many paths of each length, and how much of the gradient each
length carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mpmath

if TYPE_CHECKING:
    from .graph import Graph
    from .spec import Spec

__all__ = [
    "LengthBin",
    "LengthDistribution",
    "between",
    "length_counts",
    "leaf_length_counts",
    "path_lengths",
    "network_path_lengths",
    "listing_cost",
]


@dataclass(frozen=True)
class LengthBin:
    """Paths of one length (in edges): how many, their summed value, and its share."""

    length: int
    paths: int
    value: float | None = None  # Σ over these paths of the product of local partials
    share: float | None = None  # value / ∂loss/∂weight


@dataclass(frozen=True)
class LengthDistribution:
    """Paths from `source` (or from every leaf of `sources_kind`) to `target`, by length."""

    target: str
    bins: tuple[LengthBin, ...]
    total: int
    source: str | None = None
    sources_kind: str | None = None  # "param" or "input" when summed over every such leaf
    gradient: float | None = None
    note: str | None = None  # why values or shares are missing

    @property
    def mean_length(self) -> float | None:
        """The average path length (exact counts, so fine for 10^88 paths)."""
        if not self.total:
            return None
        return sum(b.length * b.paths for b in self.bins) / self.total


def between(graph: Graph, source: str, target: str) -> tuple[str, ...]:
    """Every name on some path from `source` to `target`, in topological order."""
    counts = graph.path_counts(target)
    if not counts.get(source):
        return ()
    succ = graph.successors()
    seen = {source}
    stack = [source]
    while stack:
        n = stack.pop()
        for c in succ[n]:
            if c not in seen and counts[c]:
                seen.add(c)
                stack.append(c)
    return tuple(n for n in graph.order if n in seen)


def _relevant_children(graph: Graph, nodes: Iterable[str]) -> dict[str, list[str]]:
    keep = set(nodes)
    succ = graph.successors()
    return {n: [c for c in succ[n] if c in keep] for n in keep}


def length_counts(graph: Graph, source: str, target: str) -> dict[int, int]:
    """Number of paths from `source` to `target` of each length (in edges), exactly."""
    nodes = between(graph, source, target)
    if not nodes:
        return {}
    kids = _relevant_children(graph, nodes)
    dist: dict[str, dict[int, int]] = {target: {0: 1}}
    for n in reversed(nodes[:-1]):
        dist[n] = _shifted(dist[c] for c in kids[n])
    return dict(sorted(dist[source].items()))


def _shifted(children: Iterable[dict[int, int]]) -> dict[int, int]:
    """The children's length counts merged, one edge longer."""
    out: dict[int, int] = {}
    for d in children:
        for length, k in d.items():
            out[length + 1] = out.get(length + 1, 0) + k
    return out


def leaf_length_counts(graph: Graph, target: str, sources: Iterable[str]) -> dict[int, int]:
    """Paths from any of `sources` to `target`, by length, summed over the sources.

    Leaves are never inner vertices of a path, so they are folded in at the end: a weight
    with one child adds that child's counts, shifted by one.
    """
    at = graph.order.index(target)
    succ = graph.nx.succ  # no list per name: 200k weights would each get one
    dist: dict[str, dict[int, int]] = {target: {0: 1}}
    inner = set(graph.spec.nodes)
    for n in reversed(graph.order[:at]):
        if n in inner:
            d = _shifted(dist[c] for c in succ[n] if c in dist)
            if d:
                dist[n] = d
    uses: dict[str, int] = {}  # child → how many source edges enter it
    for s in sources:
        if s == target:
            continue
        for c in succ[s]:
            if c in dist:
                uses[c] = uses.get(c, 0) + 1
    total: dict[int, int] = {}
    for c, times in uses.items():
        for length, k in dist[c].items():
            total[length + 1] = total.get(length + 1, 0) + times * k
    return dict(sorted(total.items()))


def network_path_lengths(spec: Spec, kind: str = "param") -> LengthDistribution:
    """`pathgrad show`: paths from every param (or input) to the loss, by length."""
    sources = spec.params if kind == "param" else spec.inputs
    counts = leaf_length_counts(spec.graph, spec.loss, sources)
    bins = tuple(LengthBin(length, k) for length, k in counts.items())
    return LengthDistribution(spec.loss, bins, sum(counts.values()), None, kind)


def path_lengths(spec: Spec, weight: str, values: Mapping[str, object] | None = None,
                 ) -> LengthDistribution:
    """Paths from `weight` to the loss by length, with the gradient each length carries.

    The value of a length is the sum over its paths of the product of local partials at the
    spec's point: a signed dynamic program over lengths, so nothing is listed.
    """
    from .explanation import apply_values, check_weight
    from .pointvalues import DIGITS, as_float, point_values, undefined_edge

    check_weight(spec, weight)
    graph = spec.graph
    loss = spec.loss
    nodes = between(graph, weight, loss)
    counts = length_counts(graph, weight, loss)
    total = sum(counts.values())
    leaf_values = apply_values(spec, values)
    if not nodes:
        return LengthDistribution(loss, (), 0, weight, None, 0.0)
    kids = _relevant_children(graph, nodes)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaf_values, nodes[1:], upto=loss)
        why = undefined_edge(pv, nodes, kids)
        if why is not None:
            bins = tuple(LengthBin(length, k) for length, k in counts.items())
            return LengthDistribution(loss, bins, total, weight, None, None, why)
        sums: dict[str, dict[int, Any]] = {loss: {0: mpmath.mpf(1)}}
        for n in reversed(nodes[:-1]):
            out: dict[int, Any] = {}
            for c in kids[n]:
                p = pv.partials[(n, c)]
                for length, v in sums[c].items():
                    out[length + 1] = out.get(length + 1, 0) + p * v
            sums[n] = out
        by_length = sums[weight]
        gradient = mpmath.fsum(by_length.values())
        bins = tuple(
            LengthBin(length, k, as_float(by_length[length]),
                      as_float(by_length[length] / gradient) if gradient else None)
            for length, k in counts.items())
    grad = as_float(gradient)
    return LengthDistribution(loss, bins, total, weight, None, grad,
                              None if grad is not None else "too large for a float")


def listing_cost(counts: Mapping[int, int]) -> tuple[int, int]:
    """(multiplications, additions) to list every path and add them up: a path of L edges
    has L local partials, so L − 1 multiplications; P paths need P − 1 additions."""
    paths = sum(counts.values())
    mults = sum((length - 1) * k for length, k in counts.items() if length > 0)
    return mults, max(paths - 1, 0)
