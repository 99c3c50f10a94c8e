"""The graph stage: a network as a DAG, exact path counts, and path enumeration.

An edge u → v exists whenever v's expression uses u. Paths can be exponentially many, so
they are counted by dynamic programming (exact big integers), by length too, and listed by a
generator. The graph knows names only: it is built from what the spec checker found (which
names each node uses) and never sees an expression, so it sits below the spec layer.

The adjacency is kept as plain tuples and lists (each node's uses, and on demand each name's
children): a 300,000-param spec is one pass over its edges, and networkx is loaded only when
someone asks for `Graph.nx`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from itertools import repeat
from operator import add
from typing import TYPE_CHECKING, NoReturn, Protocol

from .errors import LimitError

if TYPE_CHECKING:
    import networkx

__all__ = ["Graph", "declared_in_order", "count_paths", "iter_paths", "between", "length_counts",
           "leaf_length_counts", "listing_cost", "relevant_children", "path_edge_total",
           "path_length_range", "path_totals", "cone_edges"]


# children_of scans the uses for this many names before building every children list: a
# weight near the loss visits a handful; listing 10⁴ paths, hundreds
SCANS_BEFORE_SUCCESSORS = 16


class Declared(Protocol):
    """What the graph needs of a spec: the names by kind (each name in one section) and the
    names each node uses (declared names, and `pi` if it is not declared: the constant)."""

    inputs: Mapping[str, object]
    params: Mapping[str, object]
    nodes: Mapping[str, object]
    uses: Mapping[str, tuple[str, ...]]


class Graph:
    """The DAG of a spec: leaves (inputs, params) and nodes, in a stable topological order."""

    def __init__(self, spec: Declared, *, in_order: bool | None = None,
                 constant_pi: bool | None = None) -> None:
        """`in_order` (every node uses only names declared before it: declared_in_order) and
        `constant_pi` (some node uses `pi` without declaring it) are what the spec checker
        already knows; None: find out, one pass over the edges each."""
        self.inner = frozenset(spec.nodes)  # names that have an expression (not leaves)
        self._kinds = (("input", spec.inputs), ("param", spec.params), ("node", spec.nodes))
        declared = (*spec.inputs, *spec.params, *spec.nodes)
        uses = spec.uses
        # an undeclared `pi` is the constant π, not a graph vertex
        if constant_pi is None:
            constant_pi = "pi" not in spec.inputs and "pi" not in spec.params and \
                "pi" not in spec.nodes and any("pi" in uses[v] for v in spec.nodes)
        self._deps: dict[str, tuple[str, ...]] = {
            v: tuple(u for u in uses[v] if u != "pi") for v in spec.nodes} if constant_pi \
            else {v: tuple(uses[v]) for v in spec.nodes}
        if in_order is None:
            in_order = declared_in_order(spec.nodes, self._deps)
        if in_order:
            # declared in dependency order (the usual case): that order is the lexicographic
            # topological order, and no cycle is possible; O(E) instead of a heap-based sort
            self.order: tuple[str, ...] = declared
        else:  # the spec checker has refused cycles, naming them
            self.order = _lexicographic_order(declared, self._deps)
        # leaves come first in either order (they are ready first and declared first)
        self._leaves = len(declared) - len(self._deps)
        self._rank: dict[str, int] | None = None
        self._node_rank: dict[str, int] | None = None
        self._node_pos: dict[str, int] | None = None
        self._ancestors: dict[str, frozenset[str]] = {}
        self._succ: dict[str, list[str]] | None = None
        self._scanned: dict[str, list[str]] = {}  # children_of before successors is built
        self._counts: dict[str, dict[str, int]] = {}
        self._nx: networkx.DiGraph | None = None

    @property
    def nx(self) -> networkx.DiGraph:
        """The same DAG as a networkx DiGraph (vertex attribute `kind`), built on first use."""
        if self._nx is None:
            import networkx as nx_module

            g = nx_module.DiGraph()
            for kind, names in self._kinds:
                g.add_nodes_from(names, kind=kind)  # in bulk: 200k names one at a time is slow
            g.add_edges_from((u, v) for v, deps in self._deps.items() for u in deps)
            self._nx = g
        return self._nx

    def deps(self, name: str) -> tuple[str, ...]:
        """The names a node's expression uses, in order of appearance (empty for leaves)."""
        return self._deps.get(name, ())

    @property
    def edge_count(self) -> int:
        """Every edge of the DAG: the names each node uses, counted together."""
        return sum(map(len, self._deps.values()))

    def children(self, name: str) -> list[str]:
        """The nodes whose expressions use `name`."""
        return list(self.children_of(name))

    def children_of(self, name: str) -> list[str]:
        """The nodes whose expressions use `name` (read-only), in the order of `successors`.
        Until `successors` is built, a name's children come from one scan of the uses (a few
        ms on a 300k-param net, where building every children list takes a third of a
        second); after a few such scans every list is built at once."""
        if self._succ is None:
            hit = self._scanned.get(name)
            if hit is not None:
                return hit
            if len(self._scanned) < SCANS_BEFORE_SUCCESSORS:
                hit = self._scanned[name] = [v for v, ds in self._deps.items() if name in ds]
                return hit
        return self.successors()[name]

    def successors(self) -> dict[str, list[str]]:
        """Children of every name as plain lists (built once; faster than networkx views)."""
        if self._succ is None:
            succ: dict[str, list[str]] = {n: [] for n in self.order}
            get, append = succ.__getitem__, list.append
            for v, deps in self._deps.items():
                for _ in map(append, map(get, deps), repeat(v)):  # succ[u].append(v), in C
                    pass
            self._succ = succ
        return self._succ

    def node_rank(self) -> dict[str, int]:
        """Each node's position among the nodes as declared (the order of each children list)."""
        if self._node_rank is None:
            self._node_rank = {n: i for i, n in enumerate(self._deps)}
        return self._node_rank

    @property
    def node_order(self) -> tuple[str, ...]:
        """The nodes in `order` (leaves come first in it: this is the rest)."""
        return self.order[self._leaves:]

    def node_position(self) -> dict[str, int]:
        """Each node's position in `order` among the nodes (leaves come first: a node's rank
        minus their number); a sort key for children, without a dict of every leaf."""
        if self._node_pos is None:
            self._node_pos = {n: i for i, n in enumerate(self.node_order)}
        return self._node_pos

    def rank(self) -> dict[str, int]:
        """Each name's position in `order` (built once)."""
        if self._rank is None:
            self._rank = {n: i for i, n in enumerate(self.order)}
        return self._rank

    def ancestors_and_self(self, target: str) -> frozenset[str]:
        """Every name `target` depends on, and `target` itself."""
        if target not in self._ancestors:
            if not any(target in names for _, names in self._kinds):
                raise KeyError(f"{target!r} is not a name of the graph")
            deps = self._deps
            seen = {target}
            # backwards from the target (children come later in the order): a node is an
            # ancestor when one of its children is, and then so is everything it uses
            for n in self._nodes_up_to(target):
                if n in seen:
                    seen.update(deps[n])
            self._ancestors[target] = frozenset(seen)
        return self._ancestors[target]

    def _nodes_up_to(self, target: str) -> Iterator[str]:
        """The nodes from `target` back to the first, in reverse topological order (nothing
        when `target` is a leaf: no node comes before it)."""
        at = self.order.index(target, self._leaves) if target in self._deps else -1
        return reversed(self.order[self._leaves:at + 1])

    def path_counts(self, target: str) -> dict[str, int]:
        """Number of paths from every name to `target` (0 where it does not reach).

        Computed once per target and shared: treat the dict as read-only.
        """
        if target not in self._counts:
            self._counts[target] = count_paths(self, target)
        return self._counts[target]

    def path_count(self, source: str, target: str) -> int:
        """The number of paths from `source` to `target`: `path_counts(target)[source]`, but
        by one forward pass from `source` when the counts of every name are not built yet
        (a dict of 300k names for the one number `explain` needs)."""
        counts = self._counts.get(target)
        if counts is not None:
            return counts[source]
        reach = self.ancestors_and_self(target)
        if source == target or source not in reach:
            return int(source == target)
        order, deps = self.order, self._deps
        start = order.index(source, self._leaves) + 1 if source in deps else self._leaves
        found = {source: 1}
        get = found.get
        for v in order[start:order.index(target, self._leaves) + 1]:
            c = sum(map(get, deps[v], repeat(0)))  # in C: the paths into v's names
            if c:
                found[v] = c
        return found.get(target, 0)

    def paths(self, source: str, target: str) -> Iterator[tuple[str, ...]]:
        """Every path from `source` to `target`, lazily, in a stable order."""
        return iter_paths(self, source, target)


def declared_in_order(nodes: Iterable[str], uses: Mapping[str, Iterable[str]]) -> bool:
    """True when every node uses only leaves and nodes declared before it: then declaration
    order is a topological order and there is no cycle (a node using itself fails it too).
    One dictionary lookup per edge, in C."""
    pos = {n: i for i, n in enumerate(nodes)}
    get = pos.get
    return all(max(map(get, uses[n], repeat(-1)), default=-1) < i for n, i in pos.items())


def _lexicographic_order(declared: tuple[str, ...], deps: Mapping[str, tuple[str, ...]]
                         ) -> tuple[str, ...]:
    """Kahn's algorithm taking the earliest-declared ready name each time: the order networkx's
    lexicographical_topological_sort gives with key = declaration rank."""
    rank = {n: i for i, n in enumerate(declared)}
    succ: dict[str, list[str]] = {n: [] for n in declared}
    indegree = dict.fromkeys(declared, 0)
    for v, ds in deps.items():
        indegree[v] = len(ds)
        for u in ds:
            succ[u].append(v)
    ready = [(rank[n], n) for n in declared if not indegree[n]]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(n)
        for c in succ[n]:
            indegree[c] -= 1
            if not indegree[c]:
                heapq.heappush(ready, (rank[c], c))
    if len(out) != len(declared):  # the spec checker names cycles before a Graph is made
        raise ValueError("the graph contains a cycle")
    return tuple(out)


def count_paths(graph: Graph, target: str) -> dict[str, int]:
    """Exact path counts to `target` by dynamic programming over the reverse topological order.

    >>> # a → b, a → c, b → d, c → d: two paths from a to d
    """
    counts = dict.fromkeys(graph.order, 0)
    if target not in counts:
        raise ValueError(f"{target!r} is not a name of the graph")
    counts[target] = 1
    deps = graph._deps
    get, update = counts.__getitem__, counts.update
    # names after `target` in topological order cannot reach it and keep 0; going backwards
    # from it, each node's count is final when reached (its children come later) and is
    # added to the names it uses (in C: counts[u] += c for each): no list of children
    for n in graph._nodes_up_to(target):
        c = counts[n]
        if c:
            ds = deps[n]
            update(zip(ds, map(add, map(get, ds), repeat(c))))
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
    pos = graph.node_position()  # children are nodes
    succ: dict[str, list[str]] = {}  # only for the names visited: near the loss, a handful

    def following(n: str) -> list[str]:
        out = succ.get(n)
        if out is None:
            out = succ[n] = sorted((c for c in graph.children_of(n) if c in reach),
                                   key=pos.__getitem__)
        return out

    path = [source]
    stack = [iter(following(source))]
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
        stack.append(iter(following(nxt)))


def between(graph: Graph, source: str, target: str) -> tuple[str, ...]:
    """Every name on some path from `source` to `target`, in topological order."""
    reach = graph.ancestors_and_self(target)
    if source not in reach:
        return ()
    # forwards from the source in topological order: a node is on a path when it reaches the
    # target and uses a name already on one (one set test per node; no list of children)
    order, deps = graph.order, graph._deps
    at = order.index(source, 0 if source not in deps else graph._leaves)
    seen = {source}
    found = [source]
    for v in order[max(at + 1, graph._leaves):]:
        if v in reach and not seen.isdisjoint(deps[v]):
            seen.add(v)
            found.append(v)
    return tuple(found)


def relevant_children(graph: Graph, nodes: Iterable[str]) -> dict[str, list[str]]:
    """Each of `nodes` → its children among `nodes` (in the order of Graph.successors),
    from the uses of those nodes alone."""
    keep = set(nodes)
    out: dict[str, list[str]] = {n: [] for n in keep}
    deps = graph._deps
    for v in (deps if len(keep) * 4 > len(deps) else sorted(
            (n for n in keep if n in deps), key=graph.node_rank().__getitem__)):
        if v in keep:
            for u in deps[v]:
                if u in keep:
                    out[u].append(v)
    return out


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
            _too_many_lengths(what)


def _too_many_lengths(what: str) -> NoReturn:
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

    Raises LimitError when the table would be too large (see MAX_LENGTH_CELLS).
    """
    deps = graph._deps
    inner = graph.inner
    keep = inner.__contains__
    # a source edge into a node before the target never starts at the target itself
    is_source = (sources if isinstance(sources, Mapping | AbstractSet) else set(sources)
                 ).__contains__
    layered = _layered_length_counts(graph, target, is_source)
    if layered is not None:
        return layered
    # backwards from the target each node's table is final when reached (its children come
    # later in the order) and is pushed, one edge longer, to the nodes it uses: no list of
    # children, and nothing per leaf but a membership test
    dist: dict[str, dict[int, int]] = {target: {0: 1}}
    total: dict[int, int] = {}
    cells = 1
    for n in graph._nodes_up_to(target):
        d = dist.get(n)
        if d is None:
            continue  # reaches no path to the target
        if n != target:
            # the span of lengths (longest − shortest + 1) bounds the table's entries
            cells += max(d) - min(d) + 1
            if cells > MAX_LENGTH_CELLS:
                _too_many_lengths(f"to {target}")
        up = {length + 1: k for length, k in d.items()}
        ds = deps[n]
        times = sum(map(is_source, ds))  # source edges entering n
        if times:
            for length, k in up.items():
                total[length] = total.get(length, 0) + times * k
        for u in filter(keep, ds):
            du = dist.get(u)
            if du is None:
                dist[u] = dict(up)
            else:
                for length, k in up.items():
                    du[length] = du.get(length, 0) + k
    return dict(sorted(total.items()))


def _layered_length_counts(graph: Graph, target: str, is_source: Callable[[str], bool]
                           ) -> dict[int, int] | None:
    """leaf_length_counts when all paths from each node to `target` have one length (a
    layered net, such as an mlp): then a node's table is its path count at its depth, and
    the walk is a few C-level operations per node. None when some node has two lengths (or
    the table would be too large: leaf_length_counts then says so)."""
    deps = graph._deps
    keep = graph.inner.__contains__
    counts = graph.path_counts(target)
    depth = {target: 0}
    total: dict[int, int] = {}
    for n in graph._nodes_up_to(target):
        d = depth.get(n)
        if d is None:
            continue  # reaches no path to the target
        ds = deps[n]
        times = sum(map(is_source, ds))  # source edges entering n: paths of d + 1 edges
        if times:
            total[d + 1] = total.get(d + 1, 0) + times * counts[n]
        up = list(filter(keep, ds))
        if up:
            if not {*map(depth.get, up)} <= {None, d + 1}:
                return None  # paths of two lengths meet
            depth.update(zip(up, repeat(d + 1)))
    if len(depth) > MAX_LENGTH_CELLS:
        return None
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
    return path_totals(graph, source, target)[:2]


def path_length_range(graph: Graph, source: str, target: str) -> tuple[int, int]:
    """(fewest, most) edges of a path from `source` to `target`, in O(edges); (0, 0) when
    there is none: how long a path that would be written out can be, before listing any."""
    return path_totals(graph, source, target)[2:]


def path_totals(graph: Graph, source: str, target: str) -> tuple[int, int, int, int]:
    """(paths, their edges together, fewest edges, most edges), one pass over the cone."""
    nodes = between(graph, source, target)
    if not nodes:
        return 0, 0, 0, 0
    kids = relevant_children(graph, nodes)
    count, edges, fewest, most = {target: 1}, {target: 0}, {target: 0}, {target: 0}
    for n in reversed(nodes[:-1]):
        ks = kids[n]
        count[n] = sum(count[c] for c in ks)
        edges[n] = sum(edges[c] + count[c] for c in ks)
        fewest[n] = 1 + min(fewest[c] for c in ks)
        most[n] = 1 + max(most[c] for c in ks)
    return count[source], edges[source], fewest[source], most[source]


def cone_edges(graph: Graph, source: str | None, target: str) -> int:
    """The edges into the names between `source` and `target` (with no source: into every
    node `target` depends on, itself included), each counted once, in O(those edges): how
    many local partials reverse mode from `source` computes, before computing any."""
    if source is None:
        names: Iterable[str] = graph.ancestors_and_self(target)
    else:
        names = between(graph, source, target)[1:]
    return sum(len(graph.deps(n)) for n in names)
