"""The graph stage: a network as a networkx DAG, exact path counts, and path enumeration.

An edge u → v exists whenever v's expression uses u. Paths can be exponentially many, so
they are counted by dynamic programming (exact big integers), by length too, and listed by a
generator. The graph knows names only: it is built from what the spec checker found (which
names each node uses) and never sees an expression, so it sits below the spec layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

import networkx as nx

from .errors import LimitError

__all__ = ["Graph", "count_paths", "iter_paths", "between", "length_counts",
           "leaf_length_counts", "listing_cost", "relevant_children", "path_edge_total"]


class Declared(Protocol):
    """What the graph needs of a spec: the names by kind and the names each node uses."""

    inputs: Mapping[str, object]
    params: Mapping[str, object]
    nodes: Mapping[str, object]
    uses: Mapping[str, tuple[str, ...]]


class Graph:
    """The DAG of a spec: leaves (inputs, params) and nodes, in a stable topological order."""

    def __init__(self, spec: Declared) -> None:
        self.inner = frozenset(spec.nodes)  # names that have an expression (not leaves)
        g = nx.DiGraph()
        rank: dict[str, int] = {}
        for kind, names in (("input", spec.inputs), ("param", spec.params), ("node", spec.nodes)):
            for n in names:
                rank[n] = len(rank)
            g.add_nodes_from(names, kind=kind)  # in bulk: 200k names one call at a time is slow
        self._deps: dict[str, tuple[str, ...]] = {}
        for v in spec.nodes:
            # an undeclared `pi` is the constant π, not a graph vertex
            self._deps[v] = tuple(u for u in spec.uses[v] if u in rank)
        g.add_edges_from((u, v) for v, deps in self._deps.items() for u in deps)
        self.nx = g
        if all(rank[u] < rank[v] for v, deps in self._deps.items() for u in deps):
            # declared in dependency order (the usual case): that order is the lexicographic
            # topological order, and no cycle is possible; O(E) instead of a heap-based sort
            self.order: tuple[str, ...] = tuple(rank)
        else:  # the spec checker has refused cycles, naming them
            self.order = tuple(nx.lexicographical_topological_sort(g, key=rank.__getitem__))
        self._ancestors: dict[str, frozenset[str]] = {}
        self._succ: dict[str, list[str]] | None = None
        self._counts: dict[str, dict[str, int]] = {}

    def deps(self, name: str) -> tuple[str, ...]:
        """The names a node's expression uses, in order of appearance (empty for leaves)."""
        return self._deps.get(name, ())

    def children(self, name: str) -> list[str]:
        """The nodes whose expressions use `name`."""
        return list(self.nx.successors(name))

    def successors(self) -> dict[str, list[str]]:
        """Children of every name as plain lists (built once; faster than networkx views)."""
        if self._succ is None:
            succ: dict[str, list[str]] = {n: [] for n in self.order}
            for v, deps in self._deps.items():
                for u in deps:
                    succ[u].append(v)
            self._succ = succ
        return self._succ

    def ancestors_and_self(self, target: str) -> frozenset[str]:
        """Every name `target` depends on, and `target` itself."""
        if target not in self._ancestors:
            self._ancestors[target] = frozenset(nx.ancestors(self.nx, target)) | {target}
        return self._ancestors[target]

    def path_counts(self, target: str) -> dict[str, int]:
        """Number of paths from every name to `target` (0 where it does not reach).

        Computed once per target and shared: treat the dict as read-only.
        """
        if target not in self._counts:
            self._counts[target] = count_paths(self, target)
        return self._counts[target]

    def paths(self, source: str, target: str) -> Iterator[tuple[str, ...]]:
        """Every path from `source` to `target`, lazily, in a stable order."""
        return iter_paths(self, source, target)


def count_paths(graph: Graph, target: str) -> dict[str, int]:
    """Exact path counts to `target` by dynamic programming over the reverse topological order.

    >>> # a → b, a → c, b → d, c → d: two paths from a to d
    """
    counts = dict.fromkeys(graph.order, 0)
    counts[target] = 1
    succ = graph.nx.succ  # networkx's own adjacency: building lists for 200k names costs more
    # names after `target` in topological order cannot reach it and keep 0; the others add
    # up their children's counts (0 for children that do not reach the target)
    at = graph.order.index(target)
    get = counts.__getitem__
    for n in reversed(graph.order[:at]):
        kids = succ[n]
        k = len(kids)
        if k == 1:
            counts[n] = counts[next(iter(kids))]  # most names (every weight) have one child
        elif k:
            counts[n] = sum(map(get, kids))
    return counts


def iter_paths(graph: Graph, source: str, target: str) -> Iterator[tuple[str, ...]]:
    """Yield every path from `source` to `target` (a DAG has no repeated vertices on a path).

    Only successors that can still reach `target` are followed, so no work is wasted on dead
    ends; children are visited in the graph's topological order so the listing is stable.
    """
    reach = graph.ancestors_and_self(target)
    if source not in reach:
        return
    if source == target:
        yield (source,)
        return
    pos = {n: i for i, n in enumerate(graph.order)}
    succ = {
        n: sorted((c for c in graph.nx.succ[n] if c in reach), key=pos.__getitem__)
        for n in reach
    }
    path = [source]
    stack = [iter(succ[source])]
    while stack:
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            path.pop()
            continue
        if nxt == target:
            yield (*path, target)
            continue
        path.append(nxt)
        stack.append(iter(succ[nxt]))


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


def relevant_children(graph: Graph, nodes: Iterable[str]) -> dict[str, list[str]]:
    keep = set(nodes)
    succ = graph.successors()
    return {n: [c for c in succ[n] if c in keep] for n in keep}


# a length table keeps one (length → count) entry per name and length: the sum of each name's
# span of lengths; past this many entries it would take gigabytes (2,000 residual blocks)
MAX_LENGTH_CELLS = 1_500_000


def _check_span(names: Iterable[str], children: Mapping[str, Iterable[str]], target: str,
                what: str) -> None:
    """Refuse a length table that would outgrow MAX_LENGTH_CELLS, before building it: the
    shortest and longest path from each name (O(edges)) bound its span of lengths."""
    lo, hi = {target: 0}, {target: 0}
    cells = 1
    for n in names:
        ks = [c for c in children[n] if c in lo]
        if not ks:
            continue
        lo[n] = min(lo[c] for c in ks) + 1
        hi[n] = max(hi[c] for c in ks) + 1
        cells += hi[n] - lo[n] + 1
        if cells > MAX_LENGTH_CELLS:
            raise LimitError(
                f"the paths {what} have too many different lengths to tabulate (more than "
                f"{MAX_LENGTH_CELLS:,} length counts)", None,
                "path counts, values and gradients stay exact; only the table by length "
                "is left out", limit="max_length_cells")


def length_counts(graph: Graph, source: str, target: str) -> dict[int, int]:
    """Number of paths from `source` to `target` of each length (in edges), exactly.

    Raises LimitError when the table would be too large (see MAX_LENGTH_CELLS).
    """
    nodes = between(graph, source, target)
    if not nodes:
        return {}
    kids = relevant_children(graph, nodes)
    _check_span(reversed(nodes[:-1]), kids, target, f"from {source} to {target}")
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
    inner = graph.inner
    _check_span((n for n in reversed(graph.order[:at]) if n in inner), succ, target,
                f"to {target}")
    dist: dict[str, dict[int, int]] = {target: {0: 1}}
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


def listing_cost(counts: Mapping[int, int]) -> tuple[int, int]:
    """(multiplications, additions) to list every path and add them up: a path of L edges
    has L local partials, so L − 1 multiplications; P paths need P − 1 additions."""
    paths = sum(counts.values())
    mults = sum((length - 1) * k for length, k in counts.items() if length > 0)
    return mults, max(paths - 1, 0)


def path_edge_total(graph: Graph, source: str, target: str) -> tuple[int, int]:
    """(paths, Σ over paths of their edges) from `source` to `target`, exactly, in O(edges):
    what listing would cost even when the lengths are too many to tabulate."""
    nodes = between(graph, source, target)
    if not nodes:
        return 0, 0
    kids = relevant_children(graph, nodes)
    count, edges = {target: 1}, {target: 0}
    for n in reversed(nodes[:-1]):
        count[n] = sum(count[c] for c in kids[n])
        edges[n] = sum(edges[c] + count[c] for c in kids[n])
    return count[source], edges[source]
