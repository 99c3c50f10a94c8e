"""What every picture of a network shares: the layout, the highlighted paths, edge labels.

Two views of the same network:

- **graph** — every name a node (the computational graph). Columns follow depth (the longest
  path from the leaves), so the loss ends up on the right; each input or param sits one column
  before the first node using it.
- **neuron** — the textbook figure (Nielsen, Mazur): each weighted sum z = Σ w·a + b and its
  activation a = σ(z) become one unit, drawn as a circle split into z | a; weights are the
  edges between units, labelled w^{(l)}_{jk}; biases are small labels on their units. The
  default for nets made by the `mlp` and `rnn` builders; `units.find` recognises the pattern
  in any spec. An RNN's units fall into a column per time step, so each use of a shared
  weight is its own highlighted edge.

Rows come from a real layered (Sugiyama) layout with crossing reduction (`layout`, built on
python-igraph); long edges bend through dummy rows. Residual nets draw their skip edges as
arcs above the blocks. The writers in `drawing` (SVG, PNG, TikZ, Graphviz, Mermaid) and the
HTML page all draw a `Scene`, so a highlighted edge is the same edge in every format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..errors import LimitError, UsageError, suggest
from .notation import Label, label_of  # display names: one definition, in notation

if TYPE_CHECKING:
    from ..analyses.explanation import Explanation
    from ..calculus import Network
    from ..spec import Spec

__all__ = [
    "Label",
    "Node",
    "Edge",
    "Band",
    "Scene",
    "LABELS",
    "VIEWS",
    "MAX_DRAWN_NAMES",
    "MAX_DRAWN_EDGES",
    "MAX_UNITS",
    "build",
    "columns",
    "path_edges",
    "edge_values",
    "label_of",
    "display",
    "display_text",
    "number",
]

LABELS = ("partial", "value", "none")
VIEWS = ("auto", "graph", "neuron")
MAX_DRAWN_NAMES = 2_000  # beyond this a picture is a grey smear; .dot/.mmd have no limit
MAX_DRAWN_EDGES = 150_000  # edges read for a picture in any format (about 3 s here)
MAX_UNITS = 12  # a neuron-view column with more units shows the first and last few and "… n more"
LABEL_CHARS = 36  # longer edge labels are cut with … (the SVG <title> has them whole)

_SUBS = dict(zip("0123456789+-−=()aehijklmnoprstuvx,",
                 "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ,"))
_SUPS = dict(zip("0123456789+-−=()abcdefghijklmnoprstuvwxyzLT,",
                 "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴸᵀ'"))


def _script(text: str, table: Mapping[str, str], mark: str) -> str:
    if all(ch in table for ch in text):
        return "".join(table[ch] for ch in text)
    return f"{mark}{{{text}}}" if len(text) > 1 else mark + text


def display_text(label: Label) -> str:
    """A display name in one line of Unicode: w⁽¹⁾₁₁, a₀,₁, σ; scripts Unicode has no small
    letters for fall back to _{…} / ^{…}."""
    out = label.base
    if label.sup:
        out += _script(label.sup, _SUPS, "^")
    if label.sub:
        out += _script(label.sub, _SUBS, "_")
    return out


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def display(spec: Spec, text: str) -> str:
    """Text written in the spec's names (a local partial) rewritten in display names:
    x1·a01·(1−a01) → x₁·a₀,₁·(1−a₀,₁). Words that are not names (tanh, exp) stay."""
    names = set(spec.names)
    return _IDENT.sub(lambda m: display_text(label_of(spec, m[0])) if m[0] in names else m[0],
                      text)


@dataclass(frozen=True)
class Node:
    """A name placed in the picture; `row` is its position in its column (0 at the top).

    In the neuron view a unit is one node for two names: `name` is its activation a (what
    its out-edges carry), `parts` the display names drawn inside it (z | a), `covers` every
    name it stands for (z, a and its bias)."""

    name: str
    kind: str  # 'input', 'param', 'node', 'loss' or 'unit'
    column: int
    row: float
    label: Label
    lit: bool  # on a path from the weight to the loss
    shape: str = "rect"  # 'rect', 'circle' or 'ellipse'
    parts: tuple[Label, ...] = ()
    bias: str | None = None  # a unit's bias, as display text (b⁽¹⁾₁)
    bias_lit: bool = False
    note: str | None = None  # the loss's targets in the neuron view (y₁, y₂), drawn below it
    note_lit: bool = False
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Edge:
    """u → v (v's expression uses u); `lit` when it lies on a path from the weight to the loss.

    In the neuron view a weight's edge runs from the unit (or input) it multiplies to the
    unit it enters, and `weight` names the weight; `covers` lists the graph edges it draws
    (a1_1 → z2_1 and w2_1_1 → z2_1). `bends` are the (column, row) of the dummy points of a
    long edge; `arc` edges (residual skips) are drawn above the blocks instead."""

    u: str
    v: str
    lit: bool
    label: str | None = None
    index: int = 0
    weight: str | None = None
    bends: tuple[tuple[int, float], ...] = ()
    arc: bool = False
    full: str | None = None  # the whole label when `label` had to be shortened
    covers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Band:
    """A header over columns first … last (an RNN's time step: 't = 2')."""

    first: int
    last: int
    text: str


@dataclass(frozen=True)
class Scene:
    """A laid-out network: nodes by name, edges in a stable order, and what was asked."""

    nodes: dict[str, Node]
    edges: tuple[Edge, ...]
    columns: int
    weight: str | None
    loss: str
    title: str
    view: str = "graph"
    bands: tuple[Band, ...] = ()
    legend: tuple[tuple[str, str], ...] = ()  # (swatch kind, text)
    elided: tuple[tuple[int, float, str], ...] = ()  # (column, row, '… 12 more units')

    def edge_index(self) -> dict[tuple[str, str], int]:
        """(u, v) → position in `edges` (the id the HTML page uses for that edge)."""
        return {(e.u, e.v): e.index for e in self.edges}

    def column_of(self, i: int) -> list[Node]:
        """The nodes of column i, top to bottom."""
        return sorted((n for n in self.nodes.values() if n.column == i), key=lambda n: n.row)


def columns(spec: Spec) -> dict[str, int]:
    """Column per name: nodes by depth (longest path from the leaves), leaves one column
    before their first user, the loss in the last column."""
    graph = spec.graph
    depth: dict[str, int] = {}
    for n in graph.order:
        deps = graph.deps(n)
        depth[n] = 1 + max((depth[d] for d in deps), default=-1) if n in spec.nodes else 0
        if n in spec.nodes and not deps:
            depth[n] = 1  # a constant node still sits right of the leaves
    col: dict[str, int] = {}
    for n in graph.order:
        if n in spec.nodes:
            col[n] = depth[n]
        else:
            users = graph.children(n)
            col[n] = max(0, min((depth[c] for c in users), default=1) - 1)
    last = max(col.values(), default=0)
    col[spec.loss] = last
    return col


def path_edges(spec: Spec, weight: str | None) -> set[tuple[str, str]]:
    """Every edge on some path from `weight` to the loss: u reachable from the weight and v
    reaching the loss (in a DAG that is exactly the union of the paths; no listing needed)."""
    if weight is None:
        return set()
    import networkx as nx

    graph = spec.graph
    start = {weight} | nx.descendants(graph.nx, weight)
    end = graph.ancestors_and_self(spec.loss)
    return {(u, v) for u, v in graph.nx.edges if u in start and v in end}


def number(x: float | None, digits: int = 4) -> str:
    """A short value for an edge label, with a real minus sign; '—' when undefined."""
    if x is None:
        return "—"
    text = f"{x:.{digits}g}"
    return "−" + text[1:] if text.startswith("-") else text


def _clip(text: str) -> tuple[str, str | None]:
    """(shown, full): a label past LABEL_CHARS is cut with …, the full text kept."""
    if len(text) <= LABEL_CHARS:
        return text, None
    return text[: LABEL_CHARS - 1] + "…", text


def edge_values(network: Network, leaf_values: Mapping[str, Fraction | None],
                edges: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float | None]:
    """∂v/∂u at the point for each edge (None where undefined or a value is missing),
    with one exact forward pass over the network (numeric.exact, as explain)."""
    import mpmath

    from ..numeric.exact import at_point, to_float

    with mpmath.workdps(30):
        point = at_point(network, leaf_values)
        return {(u, v): to_float(point.value(network.local_partial(u, v))) for u, v in edges}


def _skips(spec: Spec, col: Mapping[str, int]) -> set[tuple[str, str]]:
    """Identity skip edges, v = u + (something computed from u), spanning several columns:
    residual connections, drawn as arcs above the blocks."""
    from ..spec import grammar as g

    out = set()
    for v, expr in spec.nodes.items():
        terms, stack = [], [expr]
        while stack:
            e = stack.pop()
            if isinstance(e, g.BinOp) and e.op == "+":
                stack += [e.left, e.right]
            else:
                terms.append(e)
        for t in terms:
            if isinstance(t, g.Name) and t.id in spec.nodes.keys() | spec.inputs.keys() \
                    and col[v] - col[t.id] > 1 and len(terms) > 1:
                out.add((t.id, v))
    return out


def _view_of(spec: Spec, view: str) -> str:
    if view not in VIEWS:
        raise UsageError(f"--view '{view}' is not one of graph, neuron", None,
                         suggest(view, VIEWS))
    if view != "auto":
        return view
    builders = spec.meta.get("builders") or ([spec.builder] if spec.builder else [])
    return "neuron" if builders in (["mlp"], ["rnn"]) else "graph"


def build(spec: Spec, weight: str | None = None, label: str = "none", *,
          explanation: Explanation | None = None, network: Network | None = None,
          values: Mapping[str, Fraction | None] | None = None,
          limit: int | None = MAX_DRAWN_NAMES, view: str = "graph") -> Scene:
    """Lay out `spec`, highlight the paths from `weight` to the loss, label edges with their
    local partials (`partial`), their values at the spec's point (`value`) or not at all.

    `view` is 'graph' (every name a node), 'neuron' (units and weights, see `units`) or
    'auto' (neuron for nets made by the mlp and rnn builders, else graph)."""
    if label not in LABELS:
        raise UsageError(f"--label '{label}' is not one of {', '.join(LABELS)}", None,
                         suggest(label, LABELS))
    view = _view_of(spec, view)
    if weight is not None:
        from ..spec.model import check_weight

        check_weight(spec, weight)
    names = spec.names
    if limit is not None and len(names) > limit and view == "graph":
        raise LimitError(f"the network has {len(names):,} names, more than {limit:,} can be "
                         "drawn legibly", None, "write a .dot or .mmd file instead, or use "
                         "--view neuron for a layered net")
    # every edge is read (the neuron view reads each weight to abbreviate wide layers): a
    # 700-700 mlp's 982,101 took 17 s and 1.3 GB to draw as 1,400 units
    edge_count = spec.graph.edge_count
    if edge_count > MAX_DRAWN_EDGES:
        raise LimitError(f"the network has {edge_count:,} edges, more than the {MAX_DRAWN_EDGES:,} "
                         "a picture is made from", None, "draw a smaller net (`pathgrad backprop` "
                         "and `explain` work from one weight of this one)")
    lit = path_edges(spec, weight)
    lit_nodes = {x for e in lit for x in e} | ({weight} if weight else set())
    graph = spec.graph
    edges = [(u, v) for v in graph.order for u in graph.deps(v)]

    def labels_of(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The label text of each wanted graph edge (only those: partials cost sympy time)."""
        if label == "none" or not wanted:
            return {}
        from ..calculus import Network

        net = network or (explanation.network if explanation else None) or Network(spec)
        if label == "partial":
            from .notation import Notation

            note = Notation(spec)
            return {e: display(spec, note.pretty(net.local_partial(*e))) for e in wanted}
        point = values if values is not None else (
            explanation.values if explanation else spec.values())
        return {e: number(x) for e, x in edge_values(net, point, wanted).items()}
    what = f"∂{display_text(label_of(spec, spec.loss))}/∂{display_text(label_of(spec, weight))}" \
        if weight else display_text(label_of(spec, spec.loss))
    title = f"{spec.name} — {what}" if spec.name else what
    if view == "neuron":
        scene = _neuron(spec, weight, label, lit, lit_nodes, labels_of, title, values,
                        explanation)
        if scene is not None:
            return scene
        raise UsageError(f"{spec.source}: --view neuron needs weighted sums z = Σ w·a + b "
                         "(as the mlp and rnn builders write); this spec has none", None,
                         "use --view graph")
    labels = labels_of(edges)
    col = columns(spec)
    arcs = _skips(spec, col)
    lay = _layout(list(graph.order), [e for e in edges if e not in arcs], col,
                  set(spec.inputs) | set(spec.params))
    nodes = {}
    for n in graph.order:
        kind = "loss" if n == spec.loss else spec.kind(n) or "node"
        nodes[n] = Node(n, kind, col[n], lay.row[n], label_of(spec, n), n in lit_nodes,
                        shape="ellipse" if kind == "loss" else "rect", covers=(n,))
    out_edges = []
    for i, (u, v) in enumerate(edges):
        text, full = _clip(labels[(u, v)]) if (u, v) in labels else (None, None)
        out_edges.append(Edge(u, v, (u, v) in lit, text, i, bends=lay.bends.get((u, v), ()),
                              arc=(u, v) in arcs, full=full, covers=((u, v),)))
    legend = _legend(spec, weight, label, "graph", nodes)
    return Scene(nodes=nodes, edges=tuple(out_edges), columns=max(col.values(), default=0) + 1,
                 weight=weight, loss=spec.loss, title=title, view="graph",
                 bands=_bands(spec, nodes), legend=legend)


def _layout(names: list[str], edges: list[tuple[str, str]], col: Mapping[str, int],
            leaves: set[str]):  # noqa: ANN202
    """Rows from the layered layout; edges between nodes pull 4× harder than a leaf's edge,
    so chains of nodes (a residual trunk, an RNN's h⁽¹⁾ → h⁽²⁾ → …) stay straight."""
    from .layout import layered

    weights = {(u, v): 1.0 if u in leaves else 4.0 for u, v in edges}
    return layered(names, edges, col, weights=weights)


def _bands(spec: Spec, nodes: Mapping[str, Node]) -> tuple[Band, ...]:
    """Headers over the columns whose grouped names (an RNN's steps) all share one group."""
    groups = spec.meta.get("groups") or {}
    if not groups or spec.meta.get("group_title") != "step":
        return ()
    by_col: dict[int, set[str]] = {}
    for node in nodes.values():
        for n in node.covers:
            if n in groups:
                by_col.setdefault(node.column, set()).add(groups[n])
    out: list[Band] = []
    for c in sorted(by_col):
        if len(by_col[c]) == 1:
            text = next(iter(by_col[c])).replace("step ", "t = ")
            if out and out[-1].text == text and out[-1].last == c - 1:
                out[-1] = Band(out[-1].first, c, text)  # o⁽ᵀ⁾ next to h⁽ᵀ⁾: one header
            else:
                out.append(Band(c, c, text))
    return tuple(out)


def _legend(spec: Spec, weight: str | None, label: str, view: str,
            nodes: Mapping[str, Node]) -> tuple[tuple[str, str], ...]:
    kinds = {n.kind for n in nodes.values()}
    out: list[tuple[str, str]] = []
    if weight:
        out.append(("lit", f"every path from {display_text(label_of(spec, weight))} to "
                           f"{display_text(label_of(spec, spec.loss))}"))
    names = {"input": "input", "param": "param", "node": "node", "unit": "unit  z | a",
             "loss": "loss"}
    out += [(k, names[k]) for k in ("input", "param", "unit", "node", "loss") if k in kinds]
    if view == "neuron":
        text = {"none": "edge labels: the weight w of each edge (z = Σ w·a + b, a = f(z))",
                "partial": "edge labels: the weight w = ∂z/∂a; other edges ∂v/∂u",
                "value": "edge labels: weights, and ∂v/∂u, at the point"}[label]
    else:
        text = {"none": "", "partial": "edge labels: the local partial ∂v/∂u",
                "value": "edge labels: ∂v/∂u at the point"}[label]
    if text:
        out.append(("label", text))
    return tuple(out)


def _neuron(spec: Spec, weight: str | None, label: str, lit: set[tuple[str, str]],
            lit_nodes: set[str], labels_of: Any, title: str,
            values: Mapping[str, Fraction | None] | None,
            explanation: Explanation | None) -> Scene | None:
    from .units import find

    found = find(spec)
    if not found.units:
        return None
    graph = spec.graph
    drawn = {n: found.drawn_as.get(n, n) for n in graph.order}
    point = None
    if label == "value":
        point = values if values is not None else (
            explanation.values if explanation else spec.values())
    # view edges: (drawn u, drawn v) → covered graph edges, and the weights they carry
    covers: dict[tuple[str, str], list[tuple[str, str]]] = {}
    weights: dict[tuple[str, str], list[str]] = {}
    bias_of: dict[str, list[str]] = {}
    for unit in found.units.values():
        for s, w in unit.inputs:
            key = (drawn[s], unit.name)
            covers.setdefault(key, []).extend([(s, unit.z), (w, unit.z)])
            weights.setdefault(key, []).append(w)
        bias_of[unit.name] = list(unit.biases)
    inside = {(u.z, u.a) for u in found.units.values() if u.a}
    claimed = {e for c in covers.values() for e in c} | inside
    for v in graph.order:
        for u in graph.deps(v):
            if (u, v) in claimed or u in found.absorbed:
                continue
            if spec.kind(u) == "param" and v in found.drawn_as and u in bias_of.get(drawn[v], ()):
                continue
            covers.setdefault((drawn[u], drawn[v]), []).append((u, v))
    # targets that feed only the loss become a note on it, as textbook figures write them
    loss_deps = graph.deps(spec.loss)
    targets = [u for u in loss_deps if spec.kind(u) == "input" and graph.children(u) ==
               [spec.loss]] if any(spec.kind(u) == "node" for u in loss_deps) else []
    for t in targets:
        covers.pop((t, spec.loss), None)
    noted = set(targets)  # a set: 30,000 targets in a list made this loop take 12 s
    shown = [n for n in graph.order if drawn[n] == n and n not in found.absorbed
             and n not in noted]
    col = _view_columns(shown, list(covers), spec.loss)
    shown, elided = _elide(shown, col, found, weight, drawn)
    keep = set(shown)
    view_edges = [e for e in covers if e[0] in keep and e[1] in keep]
    lay = _layout(shown, view_edges, col, set(spec.inputs) | set(spec.params))
    lay, elided = _make_room(lay, col, elided)
    nodes: dict[str, Node] = {}
    for n in shown:
        unit = found.units.get(n)
        if unit is None:
            kind = "loss" if n == spec.loss else spec.kind(n) or "node"
            note = None
            if n == spec.loss and targets:
                note = ("target " if len(targets) == 1 else "targets ") + ", ".join(
                    display_text(label_of(spec, t)) for t in targets)
            nodes[n] = Node(n, kind, col[n], lay.row[n], label_of(spec, n), n in lit_nodes,
                            shape="circle" if kind == "input" else (
                                "ellipse" if kind == "loss" else "rect"),
                            covers=(n, *(targets if n == spec.loss else ())), note=note,
                            note_lit=weight in targets)
            continue
        members = (unit.z, *((unit.a,) if unit.a else ()))
        bias = ", ".join(display_text(label_of(spec, b)) for b in unit.biases) or None
        parts = tuple(label_of(spec, m) for m in members)
        nodes[n] = Node(n, "unit", col[n], lay.row[n], label_of(spec, n),
                        any(m in lit_nodes for m in members), shape="circle", parts=parts,
                        bias=bias, bias_lit=weight in unit.biases,
                        covers=(*members, *unit.biases))
    wvals = {}
    if point is not None:
        wvals = {w: point.get(w) for ws in weights.values() for w in ws}
    labels = labels_of([e for ve in view_edges if not weights.get(ve) for e in covers[ve]])
    out_edges = []
    for i, (u, v) in enumerate(view_edges):
        cov = tuple(covers[(u, v)])
        ws = weights.get((u, v), [])
        if ws:
            texts = []
            for w in ws:
                t = display_text(label_of(spec, w))
                if w in wvals:
                    x = wvals[w]
                    t += " = " + number(float(x) if x is not None else None)
                texts.append(t)
            text = ", ".join(texts)
        else:
            parts = [labels[e] for e in cov if e in labels]
            text = " · ".join(parts) if parts else None
        shown_text, full = _clip(text) if text else (None, None)
        on = any(e in lit for e in cov)
        out_edges.append(Edge(u, v, on, shown_text, i, weight=" ".join(ws) or None,
                              bends=lay.bends.get((u, v), ()), full=full, covers=cov))
    legend = _legend(spec, weight, label, "neuron", nodes)
    return Scene(nodes=nodes, edges=tuple(out_edges), columns=max(col.values(), default=0) + 1,
                 weight=weight, loss=spec.loss, title=title, view="neuron",
                 bands=_bands(spec, nodes), legend=legend, elided=elided)


def _view_columns(names: list[str], edges: list[tuple[str, str]], loss: str) -> dict[str, int]:
    """Depth in the neuron view's graph: units by layer (or time step), leaves one column
    before their first user, the loss last."""
    deps: dict[str, list[str]] = {n: [] for n in names}
    users: dict[str, list[str]] = {n: [] for n in names}
    for u, v in edges:
        if u in deps and v in deps:
            deps[v].append(u)
            users[u].append(v)
    depth: dict[str, int] = {}
    for n in names:  # names come in topological order
        depth[n] = 1 + max((depth[d] for d in deps[n]), default=-1) if deps[n] else 0
    col = {}
    for n in names:
        if deps[n] or not users[n]:
            col[n] = max(depth[n], 1 if deps[n] else 0)
        else:
            col[n] = max(0, min(depth[c] for c in users[n]) - 1)
    col[loss] = max(col.values(), default=0) + (0 if col.get(loss) == max(col.values()) else 1)
    return col


def _elide(names: list[str], col: Mapping[str, int], found: Any, weight: str | None,
           drawn: Mapping[str, str]) -> tuple[list[str], tuple[tuple[int, float, str], ...]]:
    """Columns of more than MAX_UNITS units keep their first 4, their last and the units the
    weight enters; the rest become one line '… n more units'."""
    by_col: dict[int, list[str]] = {}
    for n in names:
        if n in found.units:
            by_col.setdefault(col[n], []).append(n)
    hidden: set[str] = set()
    notes = []
    mine = {drawn.get(weight, weight)} if weight else set()
    for unit in found.units.values():
        if weight in [w for _, w in unit.inputs] or weight in unit.biases:
            mine.add(unit.name)
    for c, units in sorted(by_col.items()):
        if len(units) <= MAX_UNITS:
            continue
        keep = set(units[:4]) | {units[-1]} | (mine & set(units))
        hidden |= {u for u in units if u not in keep}
        run = 0
        for u in units:  # one line for each run of hidden units, where the run was
            if u not in keep:
                run += 1
            elif run:
                notes.append((c, u, f"… {run} more unit{'s' * (run > 1)}"))
                run = 0
    return [n for n in names if n not in hidden], tuple(notes)


def _make_room(lay: Any, col: Mapping[str, int], notes: tuple[tuple[int, str, str], ...]
               ) -> tuple[Any, tuple[tuple[int, float, str], ...]]:
    """Open a row in each elided column just above the first unit kept after the gap, for
    the '… n more units' line (everything below it in that column moves down one row)."""
    from .layout import Layered

    row = dict(lay.row)
    bends = dict(lay.bends)
    out = []
    for c, after, text in notes:
        r0 = row[after]
        for n in row:
            if col.get(n) == c and row[n] >= r0 - 1e-9:
                row[n] += 1.0
        for e, bs in bends.items():
            bends[e] = tuple((bc, br + 1.0 if bc == c and br >= r0 - 1e-9 else br)
                             for bc, br in bs)
        above = [row[n] for n in row if col.get(n) == c and row[n] < r0 - 1e-9]
        out.append((c, ((max(above) if above else r0 - 1) + r0 + 1) / 2, text))
    return Layered(row, bends), tuple(out)
