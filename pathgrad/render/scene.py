"""What every picture of a network shares: the layout, the highlighted paths, edge labels.

Columns follow depth (the longest path from the leaves), so the loss ends up on the right
and data flows left to right; each input or param sits one column before the first node that
uses it, so its edge is short instead of crossing the whole picture. Rows are ordered by a
few barycenter sweeps, which untangles layered networks well enough to read.

The writers in `drawing` (SVG, PNG, Graphviz, Mermaid, TikZ) and the HTML page all draw a
`Scene`, so a highlighted edge is the same edge in every format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..errors import LimitError, UsageError, suggest

if TYPE_CHECKING:
    from ..analyses.explanation import Explanation
    from ..calculus import Network
    from ..spec import Spec

__all__ = [
    "Label",
    "Node",
    "Edge",
    "Scene",
    "LABELS",
    "MAX_DRAWN_NAMES",
    "build",
    "columns",
    "path_edges",
    "edge_values",
    "label_of",
    "number",
]

LABELS = ("partial", "value", "none")
MAX_DRAWN_NAMES = 2_000  # beyond this a picture is a grey smear; .dot/.mmd have no limit
LABEL_CHARS = 36  # longer edge labels are cut with … (the derivation has them whole)
SWEEPS = 4

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ",
    "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ",
    "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_ATOM = r"(?:\\(?:%s)|[A-Za-z0-9]+)" % "|".join(sorted(_GREEK, key=len, reverse=True))
_SCRIPT = r"(?:\{((?:%s|[,;.'()\[\]+\- ]|\\,)*)\}|(%s))" % (_ATOM, _ATOM)
_BASE = r"^(?:\\(mathrm|text|mathit|operatorname)\{(%s+)\}|(%s+))" % (_ATOM, _ATOM)
# base, then subscript and superscript in either order: w_{1,1}, h^{(2)}_{3}
_SUB_SUP = re.compile(_BASE + r"(?:_%s)?(?:\^%s)?$" % (_SCRIPT, _SCRIPT))
_SUP_SUB = re.compile(_BASE + r"(?:\^%s)?(?:_%s)?$" % (_SCRIPT, _SCRIPT))


@dataclass(frozen=True)
class Label:
    """A name as it is displayed: base, subscript, superscript (plain text) and whether the
    base is upright (\\mathrm{Out}) rather than math italic."""

    base: str
    sub: str = ""
    sup: str = ""
    upright: bool = False

    @property
    def text(self) -> str:
        """One-line text: a_0,1 is written a0,1 (for formats without subscripts)."""
        return self.base + self.sub + (f"^{self.sup}" if self.sup else "")


def _unlatex(text: str) -> str:
    text = re.sub(r"\\(%s)" % "|".join(_GREEK), lambda m: _GREEK[m.group(1)], text)
    return text.replace("\\,", " ").strip()


def label_of(spec: Spec, name: str) -> Label:
    """The display name of `name`: the spec's simple `latex:` forms (w_{1,1}, \\mathrm{Out},
    \\theta_2) become base and subscript; anything fancier falls back to sympy's split of
    the name itself (a11 → a with subscript 11)."""
    tex = spec.latex.get(name)
    if tex is not None:
        for pattern, sub_first in ((_SUB_SUP, True), (_SUP_SUB, False)):
            m = pattern.match(tex.strip())
            if not m:
                continue
            upright = m.group(1) is not None and m.group(1) != "mathit"
            base = m.group(2) or m.group(3)
            first = m.group(4) if m.group(4) is not None else (m.group(5) or "")
            second = m.group(6) if m.group(6) is not None else (m.group(7) or "")
            sub, sup = (first, second) if sub_first else (second, first)
            return Label(_unlatex(base), _unlatex(sub), _unlatex(sup), upright)
    from sympy.printing.conventions import split_super_sub

    base, sups, subs = split_super_sub(name)
    if not base:
        return Label(name)
    return Label(_GREEK.get(base, base), ",".join(subs), ",".join(sups))


@dataclass(frozen=True)
class Node:
    """A name placed in the picture; `row` is centred on 0 within its column."""

    name: str
    kind: str  # 'input', 'param', 'node' or 'loss'
    column: int
    row: float
    label: Label
    lit: bool  # on a path from the weight to the loss


@dataclass(frozen=True)
class Edge:
    """u → v (v's expression uses u); `lit` when it lies on a path from the weight to the loss."""

    u: str
    v: str
    lit: bool
    label: str | None = None
    index: int = 0


@dataclass(frozen=True)
class Scene:
    """A laid-out network: nodes by name, edges in a stable order, and what was asked."""

    nodes: dict[str, Node]
    edges: tuple[Edge, ...]
    columns: int
    weight: str | None
    loss: str
    title: str

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


def _order(col: Mapping[str, int], spec: Spec) -> dict[str, float]:
    """Rows within columns: spec order first, then barycenter sweeps both ways."""
    graph = spec.graph
    by_col: dict[int, list[str]] = {}
    for n in graph.order:
        by_col.setdefault(col[n], []).append(n)
    pos = {n: float(i) for names in by_col.values() for i, n in enumerate(names)}
    preds = {n: [u for u in graph.deps(n)] for n in graph.order}
    succs = {n: graph.children(n) for n in graph.order}
    keys = sorted(by_col)
    for sweep in range(SWEEPS):
        for c in keys if sweep % 2 == 0 else reversed(keys):
            names = by_col[c]
            links = preds if sweep % 2 == 0 else succs

            def bary(n: str, links: Mapping[str, list[str]] = links) -> float:
                near = links[n]
                return sum(pos[m] for m in near) / len(near) if near else pos[n]

            names.sort(key=bary)  # stable: ties keep the current order
            for i, n in enumerate(names):
                pos[n] = float(i)
    rows: dict[str, float] = {}
    for names in by_col.values():
        mid = (len(names) - 1) / 2
        for i, n in enumerate(names):
            rows[n] = i - mid
    return rows


def number(x: float | None, digits: int = 4) -> str:
    """A short value for an edge label, with a real minus sign; '—' when undefined."""
    if x is None:
        return "—"
    text = f"{x:.{digits}g}"
    return "−" + text[1:] if text.startswith("-") else text


def _clip(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def edge_values(network: Network, leaf_values: Mapping[str, Fraction | None],
                edges: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float | None]:
    """∂v/∂u at the point for each edge (None where undefined or a value is missing),
    with one forward pass over the network."""
    import mpmath

    from ..numeric.evaluate import MPAlgebra, NoValue, evaluate, forward, to_mpf

    with mpmath.workdps(30):
        alg = MPAlgebra()
        leaves = {n: (to_mpf(v) if v is not None else NoValue(f"{n} has no value"))
                  for n, v in leaf_values.items()}
        env = forward(network.graph.order, network.exprs, network.symbols, leaves, alg)
        memo: dict[int, Any] = {}
        out: dict[tuple[str, str], float | None] = {}
        for u, v in edges:
            val = evaluate(network.local_partial(u, v), env, alg, memo)
            out[(u, v)] = None if isinstance(val, NoValue) else float(val)
    return out


def build(spec: Spec, weight: str | None = None, label: str = "none", *,
          explanation: Explanation | None = None, network: Network | None = None,
          values: Mapping[str, Fraction | None] | None = None,
          limit: int | None = MAX_DRAWN_NAMES) -> Scene:
    """Lay out `spec`, highlight the paths from `weight` to the loss, label edges with their
    local partials (`partial`), their values at the spec's point (`value`) or not at all."""
    if label not in LABELS:
        raise UsageError(f"--label '{label}' is not one of {', '.join(LABELS)}", None,
                         suggest(label, LABELS))
    if weight is not None:
        from ..spec.model import check_weight

        check_weight(spec, weight)
    names = spec.names
    if limit is not None and len(names) > limit:
        raise LimitError(f"the network has {len(names):,} names, more than {limit:,} can be "
                         "drawn legibly", None, "write a .dot or .mmd file instead")
    col = columns(spec)
    rows = _order(col, spec)
    lit = path_edges(spec, weight)
    lit_nodes = {x for e in lit for x in e} | ({weight} if weight else set())
    graph = spec.graph
    edges = [(u, v) for v in graph.order for u in graph.deps(v)]
    labels: dict[tuple[str, str], str] = {}
    if label != "none" and edges:
        from ..calculus import Network

        net = network or (explanation.network if explanation else None) or Network(spec)
        if label == "partial":
            from .notation import Notation

            note = Notation(spec)
            labels = {e: _clip(note.pretty(net.local_partial(*e))) for e in edges}
        else:
            point = values if values is not None else (
                explanation.values if explanation else spec.values())
            labels = {e: _clip(number(x)) for e, x in edge_values(net, point, edges).items()}
    nodes = {}
    for n in graph.order:
        kind = "loss" if n == spec.loss else spec.kind(n) or "node"
        nodes[n] = Node(n, kind, col[n], rows[n], label_of(spec, n), n in lit_nodes)
    what = f"∂{spec.loss}/∂{weight}" if weight else spec.loss
    title = f"{spec.name} — {what}" if spec.name else what
    return Scene(
        nodes=nodes,
        edges=tuple(Edge(u, v, (u, v) in lit, labels.get((u, v)), i)
                    for i, (u, v) in enumerate(edges)),
        columns=max(col.values(), default=0) + 1,
        weight=weight,
        loss=spec.loss,
        title=title,
    )
