"""The graph stage: a spec as a networkx DAG, exact path counts, and path enumeration.

An edge u → v exists whenever v's expression uses u. Paths can be exponentially many, so
they are counted by dynamic programming (exact big integers) and listed by a generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import networkx as nx

from .errors import GraphError
from .grammar import free_names

if TYPE_CHECKING:
    from .spec import Spec

__all__ = ["Graph", "count_paths", "iter_paths"]


class Graph:
    """The DAG of a spec: leaves (inputs, params) and nodes, in a stable topological order."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        g = nx.DiGraph()
        rank: dict[str, int] = {}
        for kind, names in (("input", spec.inputs), ("param", spec.params), ("node", spec.nodes)):
            for n in names:
                rank[n] = len(rank)
            g.add_nodes_from(names, kind=kind)  # in bulk: 200k names one call at a time is slow
        self._deps: dict[str, tuple[str, ...]] = {}
        for v, expr in spec.nodes.items():
            # an undeclared `pi` is the constant π, not a graph vertex
            used = spec.uses.get(v) or free_names(expr)
            self._deps[v] = tuple(u for u in used if u in rank)
        g.add_edges_from((u, v) for v, deps in self._deps.items() for u in deps)
        self.nx = g
        if all(rank[u] < rank[v] for v, deps in self._deps.items() for u in deps):
            # declared in dependency order (the usual case): that order is the lexicographic
            # topological order, and no cycle is possible; O(E) instead of a heap-based sort
            self.order: tuple[str, ...] = tuple(rank)
        else:
            self._check_acyclic(spec)
            self.order = tuple(nx.lexicographical_topological_sort(g, key=rank.__getitem__))
        self._ancestors: dict[str, frozenset[str]] = {}
        self._succ: dict[str, list[str]] | None = None
        self._counts: dict[str, dict[str, int]] = {}

    def _check_acyclic(self, spec: Spec) -> None:
        for v, deps in self._deps.items():
            if v in deps:
                where = spec.where("nodes", v)
                raise GraphError(f"node '{v}' uses itself: a node cannot depend on itself", where)
        if nx.is_directed_acyclic_graph(self.nx):
            return  # linear; find_cycle alone is superlinear on big DAGs (20 s at 5k edges)
        try:
            cycle = nx.find_cycle(self.nx)
        except nx.NetworkXNoCycle:
            return
        names = [u for u, _ in cycle] + [cycle[0][0]]
        first = min(names[:-1], key=lambda n: spec.line_of(n) or 0)
        i = names.index(first)
        names = names[i:-1] + names[:i] + [first]
        where = spec.where("nodes", first)
        raise GraphError(
            "the nodes form a cycle: " + " → ".join(names) + "; a network must be a DAG",
            where,
        )

    def kind(self, name: str) -> str:
        """'input', 'param' or 'node'."""
        return self.nx.nodes[name]["kind"]

    def deps(self, name: str) -> tuple[str, ...]:
        """The names a node's expression uses, in order of appearance (empty for leaves)."""
        return self._deps.get(name, ())

    def children(self, name: str) -> list[str]:
        """The nodes whose expressions use `name`."""
        return list(self.nx.successors(name))

    def sinks(self) -> list[str]:
        """Nodes that no other node uses."""
        return [n for n in self.spec.nodes if self.nx.out_degree(n) == 0]

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

