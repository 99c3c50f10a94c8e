"""The layered (Sugiyama) layout: which row each name takes in its column, and where the long
edges bend.

The columns (layers) are chosen by the caller — depth from the leaves in the graph view, layer
or time step in the neuron view. grandalf's `SugiyamaLayout` does the hard part: a dummy
vertex on every column a long edge crosses, then rounds of barycenter ordering with crossing
reduction over real and dummy vertices alike. Rows are then assigned here: each vertex is
pulled towards the median row of its neighbours, subject to keeping every vertex of a column
(dummies included) at least a fixed distance from the next, which is an isotonic regression
solved exactly by pool-adjacent-violators; sweeps alternate left-to-right and back.

Why grandalf and not python-igraph's `layout_sugiyama`: igraph 1.0 places vertices of the same
layer on the same coordinate (x1 and w11 of examples/question.yaml coincide) and splits its
list of dummy points between the wrong edges, so its coordinates cannot be drawn as they are
and its order cannot be recovered from them. grandalf is pure Python (no compiled wheel
needed), exposes the ordered layers with their dummies, and orders a 700-name net in a
quarter of a second. `benchmarks/layout.py` measures both.

A long edge is then drawn through its dummies: straight across each column it passes (where
the dummy holds a row no node can take) and curved only in the gaps between columns, where
there are no nodes at all — so no edge ever runs through a node it does not join.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Layered", "layered", "crossings", "isotonic"]

DUMMY_GAP = 0.5  # rows between two dummy points (edges may pass closer than nodes)
MIXED_GAP = 0.75  # rows between a node and a dummy point
SWEEPS = 6


@dataclass(frozen=True)
class Layered:
    """Rows (0 at the top, fractional where a vertex sits between its neighbours) and, per
    edge, the (column, row) of each dummy point it bends through, in order."""

    row: dict[str, float]
    bends: dict[tuple[str, str], tuple[tuple[int, float], ...]]


def isotonic(target: Sequence[float], gaps: Sequence[float],
             weights: Sequence[float] | None = None) -> list[float]:
    """The positions p closest to `target` (weighted least squares) with
    p[i+1] − p[i] ≥ gaps[i]: pool-adjacent-violators on p[i] − (sum of the gaps before i).

    >>> isotonic([0, 0, 0], [1, 1])
    [-1.0, 0.0, 1.0]
    >>> isotonic([0, 5], [1])
    [0.0, 5.0]
    >>> isotonic([0, 0], [1], [9, 1])
    [-0.1, 0.9]
    """
    weights = weights or [1.0] * len(target)
    offset = [0.0]
    for gap in gaps:
        offset.append(offset[-1] + gap)
    values = [t - o for t, o in zip(target, offset)]
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values, weights):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for mean, _, count in blocks:
        out += [mean] * int(count)
    return [round(q + o, 9) for q, o in zip(out, offset)]


def _median(values: list[tuple[float, float]]) -> float:
    """The weighted median of (value, weight) pairs (the mean of the two middle values on a
    tie, so two equal pulls meet half-way)."""
    values = sorted(values)
    total = sum(w for _, w in values)
    acc = 0.0
    for i, (v, w) in enumerate(values):
        acc += w
        if acc * 2 > total + 1e-9:
            return v
        if abs(acc * 2 - total) <= 1e-9:
            return (v + values[i + 1][0]) / 2
    return values[-1][0]


def layered(names: Sequence[str], edges: Sequence[tuple[str, str]],
            column: Mapping[str, int], *, weights: Mapping[tuple[str, str], float] | None = None,
            rounds: int = 4) -> Layered:
    """Lay out `names` in the given columns; every edge must go to a later column. An edge's
    weight (default 1) is how hard it pulls its two ends onto one row: the caller makes the
    main chain heavy and the edges of leaves light, so the chain stays straight.

    >>> lay = layered(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")],
    ...               {"a": 0, "b": 1, "c": 2})
    >>> [c for c, _ in lay.bends[("a", "c")]]
    [1]
    """
    from grandalf.graphs import Edge, Vertex, graph_core
    from grandalf.layouts import Layer, SugiyamaLayout

    for u, v in edges:
        if column[v] <= column[u]:
            raise ValueError(f"edge {u} → {v} does not go to a later column")
    if not names:
        return Layered({}, {})

    class _View:
        w = h = 1.0

    # start each column in the order of the names' first users: a leaf next to its user
    rank = {n: float(i) for i, n in enumerate(names)}
    has_deps = {v for _, v in edges}
    first = dict(rank)
    for u, v in edges:
        if u not in has_deps:
            first[u] = min(first[u] if first[u] != rank[u] else math.inf, rank[v] - 0.5)
    vertex = {n: Vertex(n) for n in names}
    for vx in vertex.values():
        vx.view = _View()
    gedges = {(u, v): Edge(vertex[u], vertex[v]) for u, v in edges}
    # connected parts by union-find (grandalf's own Graph() merges them in quadratic time)
    parent = {n: n for n in names}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for u, v in edges:
        parent[root(u)] = root(v)
    parts: dict[str, tuple[list[object], list[object]]] = {}
    for n in names:
        parts.setdefault(root(n), ([], []))[0].append(vertex[n])
    for (u, _v), e in gedges.items():
        parts[root(u)][1].append(e)
    components = [graph_core(vs, es) for vs, es in parts.values()]
    layers: list[list[object]] = [[] for _ in range(max(column[n] for n in names) + 1)]
    ctrls: dict[tuple[str, str], dict[int, object]] = {}
    edge_rank = {id(e): i for i, e in enumerate(gedges.values())}
    # visit vertices and edges in the caller's order: the same network, the same picture
    for comp in components:
        sug = SugiyamaLayout(comp)
        sug.alt_e = []
        sug.dag = False
        count = max(column[vx.data] for vx in comp.sV) + 1
        sug.layers = [Layer([]) for _ in range(count)]
        for vx in sorted(comp.sV, key=lambda x: (first[x.data], rank[x.data])):
            sug.grx[vx].rank = column[vx.data]
            sug.layers[column[vx.data]].append(vx)
        for e in sorted(comp.sE, key=lambda e: edge_rank[id(e)]):
            sug.setdummies(e)
        for layer in sug.layers:
            layer.setup(sug)
        sug.initdone = True
        for _ in range(rounds if len(names) < 400 else min(rounds, 2)):  # big: 2 rounds
            for _step in sug.ordering_step():
                pass
        for c, layer in enumerate(sug.layers):
            layers[c].extend(_tidy(layer, rank, column))
        for e, ctrl in sug.ctrls.items():
            ctrls[(e.v[0].data, e.v[1].data)] = ctrl
    return _rows(layers, ctrls, list(edges), weights or {})


def _tidy(layer: list[object], rank: Mapping[str, float],
          column: Mapping[str, int]) -> list[object]:
    """Vertices with the same neighbours on both sides, all one column away, can trade
    places without changing a single crossing: put those in the spec's order (x1 above x2,
    unit 1 above unit 2)."""
    from grandalf.layouts import DummyVertex

    def key(vx: object) -> tuple:
        if isinstance(vx, DummyVertex):
            return ("dummy", id(vx))
        near = [*vx.N(-1), *vx.N(+1)]  # type: ignore[attr-defined]
        c = column[vx.data]  # type: ignore[attr-defined]
        if any(abs(column[n.data] - c) != 1 for n in near):
            return ("long", id(vx))
        return (frozenset(id(n) for n in vx.N(-1)),  # type: ignore[attr-defined]
                frozenset(id(n) for n in vx.N(+1)))  # type: ignore[attr-defined]

    groups: dict[tuple, list[int]] = {}
    for i, vx in enumerate(layer):
        groups.setdefault(key(vx), []).append(i)
    out = list(layer)
    for slots in groups.values():
        if len(slots) > 1:
            members = sorted((layer[i] for i in slots),
                             key=lambda vx: (rank[vx.data], vx.data))  # type: ignore[attr-defined]
            for i, vx in zip(slots, members):
                out[i] = vx
    return out


def _rows(layers: list[list[object]], ctrls: dict[tuple[str, str], dict[int, object]],
          edges: list[tuple[str, str]], weights: Mapping[tuple[str, str], float]) -> Layered:
    """Rows for the ordered layers: median of the neighbours, kept apart (see `isotonic`)."""
    from grandalf.layouts import DummyVertex

    key = {}  # vertex → its id in the chains below
    for layer in layers:
        for vx in layer:
            key[id(vx)] = vx
    up: dict[int, list[tuple[int, float]]] = {id(vx): [] for layer in layers for vx in layer}
    down: dict[int, list[tuple[int, float]]] = {id(vx): [] for layer in layers for vx in layer}
    by_name = {vx.data: vx for layer in layers for vx in layer
               if not isinstance(vx, DummyVertex)}
    for u, v in edges:
        ctrl = ctrls.get((u, v))
        chain = [by_name[u], *(ctrl[r] for r in sorted(ctrl) if ctrl[r] not in
                               (by_name[u], by_name[v]))] if ctrl else [by_name[u]]
        chain.append(by_name[v])
        w = weights.get((u, v), 1.0) * (2.0 if len(chain) > 2 else 1.0)  # long edges: straight
        for a, b in zip(chain, chain[1:]):
            down[id(a)].append((id(b), w))
            up[id(b)].append((id(a), w))
    pos: dict[int, float] = {}
    gaps: list[list[float]] = []
    for layer in layers:
        g = []
        for a, b in zip(layer, layer[1:]):
            da, db = isinstance(a, DummyVertex), isinstance(b, DummyVertex)
            g.append(DUMMY_GAP if da and db else MIXED_GAP if da or db else 1.0)
        gaps.append(g)
        at = 0.0
        for i, vx in enumerate(layer):
            pos[id(vx)] = at
            at += g[i] if i < len(g) else 0
    order = list(range(len(layers)))
    for sweep in range(SWEEPS):
        links = up if sweep % 2 == 0 else down
        for c in order if sweep % 2 == 0 else reversed(order):
            layer = layers[c]
            if not layer:
                continue
            want = []
            for vx in layer:
                near = [(pos[n], w) for n, w in links[id(vx)]] or [
                    (pos[n], w) for n, w in up[id(vx)] + down[id(vx)]]
                want.append(_median(near) if near else pos[id(vx)])
            heavy = [sum(w for _, w in up[id(vx)] + down[id(vx)]) ** 2 or 1.0 for vx in layer]
            for vx, p in zip(layer, isotonic(want, gaps[c], heavy)):
                pos[id(vx)] = p
    # snap to quarter rows (an edge 2 px off straight looks like a mistake) where the
    # spacing allows it; the regression keeps the gaps where it does not
    for c, layer in enumerate(layers):
        if layer:
            snapped = isotonic([round(pos[id(vx)] * 4) / 4 for vx in layer], gaps[c])
            for vx, p in zip(layer, snapped):
                pos[id(vx)] = p
    low = min(pos.values())
    row = {name: pos[id(vx)] - low for name, vx in by_name.items()}
    bends = {}
    for u, v in edges:
        ctrl = ctrls.get((u, v))
        if ctrl:
            bends[(u, v)] = tuple((r, pos[id(ctrl[r])] - low) for r in sorted(ctrl)
                                  if isinstance(ctrl[r], DummyVertex))
        else:
            bends[(u, v)] = ()
    return Layered(row, bends)


def crossings(lay: Layered, edges: Sequence[tuple[str, str]],
              column: Mapping[str, int]) -> int:
    """Edge crossings between neighbouring columns (each edge cut into its dummy hops): the
    number a layout tries to make small.

    >>> lay = Layered({"a": 0, "d": 1, "b": 0, "c": 1}, {("a", "c"): (), ("d", "b"): ()})
    >>> crossings(lay, [("a", "c"), ("d", "b")], {"a": 0, "d": 0, "b": 1, "c": 1})
    1
    """
    hops: dict[int, list[tuple[float, float]]] = {}
    for u, v in edges:
        pts = [(column[u], lay.row[u]), *lay.bends.get((u, v), ()), (column[v], lay.row[v])]
        for (c1, r1), (_, r2) in zip(pts, pts[1:]):
            hops.setdefault(c1, []).append((r1, r2))
    total = 0
    for segs in hops.values():
        for i, (a1, a2) in enumerate(segs):
            for b1, b2 in segs[i + 1:]:
                if (a1 - b1) * (a2 - b2) < 0:
                    total += 1
    return total
