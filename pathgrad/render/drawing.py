"""Pictures of a network: SVG (written here), PNG (matplotlib), Graphviz .dot, Mermaid .mmd,
and TikZ for the LaTeX document. All draw the same `scene.Scene`.

SVG is written by hand so the HTML page can give every edge an id; PNG is drawn with
matplotlib because its wheels carry their own fonts and rasterizer, so `pip install` alone is
enough on a machine without Cairo, Graphviz or a browser. matplotlib is imported only here.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from ..errors import UsageError, suggest
from .scene import MAX_DRAWN_NAMES, Label, Node, Scene, build

if TYPE_CHECKING:
    from ..spec import Spec

__all__ = ["FORMATS", "Geometry", "geometry", "svg", "png", "dot", "mermaid", "tikz",
           "TIKZ_PREAMBLE", "draw", "format_of"]

FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}

LIT = "#d62728"
EDGE = "#9aa0a6"
STYLE = {  # kind → (fill, stroke)
    "input": ("#e8f0fb", "#4a6fa5"),
    "param": ("#fff2cc", "#b8860b"),
    "node": ("#ffffff", "#555555"),
    "loss": ("#fde2e1", "#a93226"),
}
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
NODE_H = 30.0
ROW_GAP = 58.0
MARGIN = 24.0
TITLE_H = 34.0


@dataclass(frozen=True)
class Geometry:
    """Pixel positions: centre and width of each node box, and the canvas size."""

    x: dict[str, float]
    y: dict[str, float]
    w: dict[str, float]
    width: float
    height: float


def _label_width(label: Label) -> float:
    return 8.6 * len(label.base) + 6.4 * len(label.sub + label.sup)


def geometry(scene: Scene) -> Geometry:
    """Columns as wide as their widest node, a gap that leaves room for edge labels."""
    w = {n: max(34.0, _label_width(node.label) + 20) for n, node in scene.nodes.items()}
    longest = max((len(e.label or "") for e in scene.edges), default=0)
    gap = 60.0 + (min(longest, 36) * 6.3 if longest else 0)
    col_w = [0.0] * scene.columns
    for n, node in scene.nodes.items():
        col_w[node.column] = max(col_w[node.column], w[n])
    centres, left = [], MARGIN
    for cw in col_w:
        centres.append(left + cw / 2)
        left += cw + gap
    width = left - gap + MARGIN
    low = min((n.row for n in scene.nodes.values()), default=0.0)
    high = max((n.row for n in scene.nodes.values()), default=0.0)
    top = MARGIN + TITLE_H + NODE_H / 2
    x = {n: centres[node.column] for n, node in scene.nodes.items()}
    y = {n: top + (node.row - low) * ROW_GAP for n, node in scene.nodes.items()}
    height = top + (high - low) * ROW_GAP + NODE_H / 2 + MARGIN
    width = max(width, 9.0 * len(scene.title) + 2 * MARGIN)
    return Geometry(x, y, w, width, height)


def _curve(g: Geometry, u: str, v: str) -> tuple[float, float, float, float, float]:
    """Edge from the right side of u to the left side of v: x1, y1, x2, y2, control x."""
    x1, y1 = g.x[u] + g.w[u] / 2, g.y[u]
    x2, y2 = g.x[v] - g.w[v] / 2 - 2, g.y[v]
    return x1, y1, x2, y2, (x1 + x2) / 2


def _svg_label(label: Label, x: float, y: float, size: float = 14) -> str:
    style = ' font-style="italic"' if not label.upright and len(label.base) <= 2 else ""
    parts = [f"<tspan{style}>{escape(label.base)}</tspan>"]
    small = size * 0.72
    if label.sub:
        parts.append(f'<tspan dy="{size * 0.3:.1f}" font-size="{small:.1f}">'
                     f"{escape(label.sub)}</tspan>")
    if label.sup:
        dy = -size * (0.75 if label.sub else 0.45)
        parts.append(f'<tspan dy="{dy:.1f}" font-size="{small:.1f}">{escape(label.sup)}</tspan>')
    return (f'<text x="{x:.1f}" y="{y + size * 0.35:.1f}" text-anchor="middle" '
            f'font-size="{size:g}">{"".join(parts)}</text>')


def svg(scene: Scene, *, standalone: bool = True, prefix: str = "",
        titles: Mapping[tuple[str, str], str] | None = None) -> str:
    """The picture as SVG. `standalone` adds the XML namespace (needed in a .svg file, not
    inside HTML). Edge i gets the id `{prefix}e{i}` (prefix keeps ids unique when several
    pictures share a page) and, from `titles`, a tooltip."""
    g = geometry(scene)
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    out = [
        f'<svg{ns} class="pathgrad-graph" width="{g.width:.0f}" height="{g.height:.0f}" '
        f'viewBox="0 0 {g.width:.0f} {g.height:.0f}" font-family="{FONT}" role="img">',
        f"<title>{escape(scene.title)}</title>",
        "<defs>",
    ]
    for name, colour in (("arrow", EDGE), ("arrow-lit", LIT)):
        out.append(f'<marker id="{prefix}{name}" viewBox="0 0 10 10" refX="9" refY="5" '
                   f'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" '
                   f'orient="auto-start-reverse">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    out.append("</defs>")
    out.append('<rect width="100%" height="100%" fill="#ffffff"/>')
    out.append(f'<text x="{MARGIN}" y="{MARGIN + 12}" font-size="15" font-weight="bold">'
               f"{escape(scene.title)}</text>")
    # plain edges first so highlighted ones are drawn on top
    for e in sorted(scene.edges, key=lambda e: e.lit):
        x1, y1, x2, y2, cx = _curve(g, e.u, e.v)
        cls = "edge lit" if e.lit else "edge"
        colour, width = (LIT, 2.6) if e.lit else (EDGE, 1.3)
        tip = (titles or {}).get((e.u, e.v))
        close = f"><title>{escape(tip)}</title></path>" if tip else "/>"
        out.append(
            f'<path id="{prefix}e{e.index}" class="{cls}" data-u={quoteattr(e.u)} '
            f'data-v={quoteattr(e.v)} '
            f'd="M{x1:.1f},{y1:.1f} C{cx:.1f},{y1:.1f} {cx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" '
            f'fill="none" stroke="{colour}" stroke-width="{width}" '
            f'marker-end="url(#{prefix}{"arrow-lit" if e.lit else "arrow"})"{close}')
    for e in scene.edges:
        if e.label:
            x1, y1, x2, y2, _ = _curve(g, e.u, e.v)
            colour = "#8b1a1a" if e.lit else "#333333"
            out.append(
                f'<text class="edge-label" x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 3:.1f}" '
                f'text-anchor="middle" font-size="11" fill="{colour}" stroke="#ffffff" '
                f'stroke-width="3" paint-order="stroke">{escape(e.label)}</text>')
    for node in scene.nodes.values():
        out.append(_svg_node(node, g))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_node(node: Node, g: Geometry) -> str:
    fill, stroke = STYLE[node.kind]
    x, y, w = g.x[node.name], g.y[node.name], g.w[node.name]
    rx = NODE_H / 2 if node.kind in ("node", "loss") else 5
    width = 2.6 if node.kind == "loss" else 1.4
    if node.lit:
        stroke, width = LIT, max(width, 2.4)
    cls = f"node {node.kind}" + (" lit" if node.lit else "")
    data = f" data-name={quoteattr(node.name)}"
    return (f'<g class="{cls}"{data}><title>{escape(node.name)} ({node.kind})</title>'
            f'<rect x="{x - w / 2:.1f}" y="{y - NODE_H / 2:.1f}" width="{w:.1f}" '
            f'height="{NODE_H:.0f}" rx="{rx:.0f}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{width}"/>{_svg_label(node.label, x, y)}</g>')


def _png_label(ax: object, measure: object, label: Label, x: float, y: float,
               size: float) -> None:
    """Base and sub/superscript as plain text pieces placed side by side — as the SVG does
    with tspans; matplotlib's mathtext would cost 15 ms a label."""
    pt = 0.72
    small = size * 0.72
    style = "normal" if label.upright or len(label.base) > 2 else "italic"
    script = label.sub or label.sup
    base_w = measure(label.base, size * pt, style)  # type: ignore[operator]
    total = base_w + (measure(script, small * pt, "normal") if script else 0)  # type: ignore
    left = x - total / 2
    ax.text(left, y, label.base, fontsize=size * pt, fontstyle=style,  # type: ignore[attr-defined]
            ha="left", va="center", zorder=5)
    if label.sub:
        ax.text(left + base_w, y + size * 0.3, label.sub,  # type: ignore[attr-defined]
                fontsize=small * pt, ha="left", va="center", zorder=5)
    if label.sup:
        ax.text(left + base_w, y - size * 0.4, label.sup,  # type: ignore[attr-defined]
                fontsize=small * pt, ha="left", va="center", zorder=5)


def png(scene: Scene, *, scale: float = 1.5) -> bytes:
    """The picture as PNG, drawn with matplotlib (Agg) at `scale` pixels per SVG pixel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MPath

    g = geometry(scene)
    dpi = 100 * scale
    fig = Figure(figsize=(g.width / 100, g.height / 100), dpi=dpi, facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, g.width)
    ax.set_ylim(g.height, 0)
    ax.set_axis_off()
    pt = 0.72  # one SVG pixel in points at 100 pixels per inch
    ax.text(MARGIN, MARGIN + 12, scene.title, fontsize=15 * pt, fontweight="bold",
            va="baseline")
    for e in sorted(scene.edges, key=lambda e: e.lit):
        x1, y1, x2, y2, cx = _curve(g, e.u, e.v)
        path = MPath([(x1, y1), (cx, y1), (cx, y2), (x2 + 2, y2)],
                     [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4])
        colour, width = (LIT, 2.6) if e.lit else (EDGE, 1.3)
        # add_artist, not add_patch: the limits are fixed, and updating them is slow
        ax.add_artist(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=12,
                                      color=colour, linewidth=width * pt, shrinkA=0,
                                      shrinkB=0, zorder=2 if e.lit else 1))
    for e in scene.edges:
        if e.label:
            x1, y1, x2, y2, _ = _curve(g, e.u, e.v)
            ax.text((x1 + x2) / 2, (y1 + y2) / 2 - 3, e.label, fontsize=11 * pt, ha="center",
                    va="baseline", color="#8b1a1a" if e.lit else "#333333", zorder=3,
                    bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none"})
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()

    fonts: dict[tuple[float, str], FontProperties] = {}
    widths: dict[tuple[str, float, str], float] = {}

    def measure(text: str, points: float, style: str) -> float:
        """Width in picture pixels, summed per character (cached: measuring is slow)."""
        font = fonts.setdefault((points, style), FontProperties(size=points, style=style))
        total = 0.0
        for ch in text:
            if (ch, points, style) not in widths:
                w, _, _ = renderer.get_text_width_height_descent(ch, font, ismath=False)
                widths[(ch, points, style)] = w / scale  # device pixels → picture pixels
            total += widths[(ch, points, style)]
        return total

    for n, node in scene.nodes.items():
        fill, stroke = STYLE[node.kind]
        width = 2.6 if node.kind == "loss" else 1.4
        if node.lit:
            stroke, width = LIT, max(width, 2.4)
        x, y, w = g.x[n], g.y[n], g.w[n]
        r = NODE_H / 2 if node.kind in ("node", "loss") else 5
        ax.add_artist(FancyBboxPatch((x - w / 2 + r, y - NODE_H / 2 + r), w - 2 * r,
                                     NODE_H - 2 * r, boxstyle=f"round,pad={r}",
                                     fc=fill, ec=stroke, lw=width * pt, zorder=4))
        _png_label(ax, measure, node.label, x, y, 14)
    buf = io.BytesIO()
    canvas.print_png(buf)
    return buf.getvalue()


def _dot_id(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_label(label: Label) -> str:
    base = escape(label.base)
    text = base if label.upright or len(label.base) > 2 else f"<I>{base}</I>"
    if label.sub:
        text += f"<SUB>{escape(label.sub)}</SUB>"
    if label.sup:
        text += f"<SUP>{escape(label.sup)}</SUP>"
    return f"<{text}>"


def dot(scene: Scene) -> str:
    """Graphviz: `dot -Tsvg graph.dot`. Columns become rank=same groups; highlighted edges
    are red and thick and carry class="lit"."""
    out = [
        "digraph pathgrad {",
        "  rankdir=LR;",
        f"  graph [label={_dot_id(scene.title)}, labelloc=t, fontname=Helvetica];",
        '  node [fontname=Helvetica, shape=box, style="rounded,filled"];',
        f'  edge [fontname=Helvetica, fontsize=10, color="{EDGE}"];',
    ]
    for n, node in scene.nodes.items():
        fill, stroke = STYLE[node.kind]
        if node.lit:
            stroke = LIT
        extra = ", peripheries=2" if node.kind == "loss" else ""
        out.append(f'  {_dot_id(n)} [label={_dot_label(node.label)}, class="{node.kind}", '
                   f'fillcolor="{fill}", color="{stroke}"{extra}];')
    for e in scene.edges:
        attrs = []
        if e.lit:
            attrs += [f'color="{LIT}"', "penwidth=2.5", 'class="lit"']
        if e.label:
            attrs.append(f"label={_dot_id(e.label)}")
        tail = f" [{', '.join(attrs)}]" if attrs else ""
        out.append(f"  {_dot_id(e.u)} -> {_dot_id(e.v)}{tail};")
    for i in range(scene.columns):
        names = " ".join(_dot_id(n.name) + ";" for n in scene.column_of(i))
        if names:
            out.append(f"  {{ rank=same; {names} }}")
    out.append("}")
    return "\n".join(out) + "\n"


def _mmd_text(text: str) -> str:
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(
        ">", "#gt;")


def mermaid(scene: Scene) -> str:
    """A Mermaid flowchart (renders in GitHub Markdown inside a ```mermaid block). Node ids are
    n0, n1, … (a name like `end` would break Mermaid); a comment maps each id to its name."""
    ids = {n: f"n{i}" for i, n in enumerate(scene.nodes)}
    shapes = {"input": ('["', '"]'), "param": ('(["', '"])'), "node": ('("', '")'),
              "loss": ('(("', '"))')}
    out = ["flowchart LR"]
    for n, node in scene.nodes.items():
        lab = node.label
        text = _mmd_text(lab.base)
        if lab.sub:
            text += f"<sub>{_mmd_text(lab.sub)}</sub>"
        if lab.sup:
            text += f"<sup>{_mmd_text(lab.sup)}</sup>"
        left, right = shapes[node.kind]
        out.append(f"  %% {ids[n]} = {n}")
        out.append(f"  {ids[n]}{left}{text}{right}:::k_{node.kind}")
    for e in scene.edges:
        label = f'|"{_mmd_text(e.label)}"|' if e.label else ""
        out.append(f"  {ids[e.u]} -->{label} {ids[e.v]}")
    for kind, (fill, stroke) in STYLE.items():
        out.append(f"  classDef k_{kind} fill:{fill},stroke:{stroke},color:#000")
    lit_nodes = [ids[n] for n, node in scene.nodes.items() if node.lit]
    if lit_nodes:
        out.append(f"  classDef lit stroke:{LIT},stroke-width:2px")
        out.append(f"  class {','.join(lit_nodes)} lit")
    lit = [str(e.index) for e in scene.edges if e.lit]
    if lit:
        out.append(f"  linkStyle {','.join(lit)} stroke:{LIT},stroke-width:3px")
    return "\n".join(out) + "\n"


def tikz(scene: Scene, names: dict[str, str], *, max_width_pt: float = 480,
         max_height_pt: float = 560) -> str:
    """A tikzpicture of the scene for the LaTeX document, scaled down to fit the page.
    `names` maps each name to its LaTeX display name (math mode)."""
    g = geometry(scene)
    scale = min(1.0, max_width_pt / g.width, max_height_pt / (g.height - TITLE_H))
    top = MARGIN + TITLE_H
    ids = {n: f"n{i}" for i, n in enumerate(scene.nodes)}
    out = [
        r"\scalebox{%.3f}{%%" % scale,
        r"\begin{tikzpicture}[x=1pt,y=-1pt,>=stealth,"
        r"every node/.style={draw,minimum height=20pt,inner sep=3pt,line width=0.6pt},"
        r"input/.style={rectangle,rounded corners=3pt,fill=pgInput,draw=pgInputLine},"
        r"param/.style={rectangle,rounded corners=3pt,fill=pgParam,draw=pgParamLine},"
        r"node/.style={rounded rectangle,fill=white,draw=pgNodeLine},"
        r"loss/.style={rounded rectangle,fill=pgLoss,draw=pgLossLine,double},"
        r"lit/.style={draw=pgLit,line width=1.2pt},"
        r"edge/.style={->,draw=pgEdge,line width=0.6pt},"
        r"litedge/.style={->,draw=pgLit,line width=1.4pt}]",
    ]
    for n, node in scene.nodes.items():
        style = node.kind + (",lit" if node.lit else "")
        out.append(r"\node[%s] (%s) at (%.1f,%.1f) {$%s$};"
                   % (style, ids[n], g.x[n], g.y[n] - top, names[n]))
    for e in sorted(scene.edges, key=lambda e: e.lit):
        style = "litedge" if e.lit else "edge"
        out.append(r"\draw[%s] (%s.east) .. controls +(%.1f,0) and +(%.1f,0) .. (%s.west);"
                   % (style, ids[e.u], 0.4 * _gap(g, e), -0.4 * _gap(g, e), ids[e.v]))
    out.append(r"\end{tikzpicture}}")
    return "\n".join(out) + "\n"


TIKZ_PREAMBLE = r"""\usepackage{tikz}
\usetikzlibrary{shapes.misc}
\definecolor{pgInput}{HTML}{E8F0FB}\definecolor{pgInputLine}{HTML}{4A6FA5}
\definecolor{pgParam}{HTML}{FFF2CC}\definecolor{pgParamLine}{HTML}{B8860B}
\definecolor{pgNodeLine}{HTML}{555555}\definecolor{pgLoss}{HTML}{FDE2E1}
\definecolor{pgLossLine}{HTML}{A93226}\definecolor{pgLit}{HTML}{D62728}
\definecolor{pgEdge}{HTML}{9AA0A6}
"""


def _gap(g: Geometry, e: object) -> float:
    u, v = e.u, e.v  # type: ignore[attr-defined]
    return max(10.0, (g.x[v] - g.w[v] / 2) - (g.x[u] + g.w[u] / 2))


def format_of(path: str) -> str:
    """The drawing format for an output file name, from its extension."""
    from pathlib import Path

    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise UsageError(f"-o {path}: cannot tell the picture format from '{ext or path}'",
                         None, suggest(ext, FORMATS) or "use .svg, .png, .dot or .mmd")
    return FORMATS[ext]


def draw(spec: Spec, fmt: str, weight: str | None = None, label: str = "none",
         values: Mapping[str, object] | None = None) -> str | bytes:
    """The spec drawn in `fmt` ('svg', 'png', 'dot', 'mermaid'); bytes for PNG. `values`
    (name → number) override the spec's point for `label='value'`."""
    point = None
    if values:
        from ..spec.model import apply_values

        point = apply_values(spec, values)
    # text formats are for tools that lay out big graphs themselves: no size limit
    limit = None if fmt in ("dot", "mermaid") else MAX_DRAWN_NAMES
    scene = build(spec, weight, label, values=point, limit=limit)
    if fmt == "svg":
        return svg(scene)
    if fmt == "png":
        return png(scene)
    if fmt == "dot":
        return dot(scene)
    if fmt == "mermaid":
        return mermaid(scene)
    raise UsageError(f"unknown picture format '{fmt}'", None, suggest(fmt, FORMATS.values()))
