"""Pictures of a network: SVG (written here), PNG (that SVG rasterised by resvg), TikZ for the
LaTeX document, Graphviz .dot and Mermaid .mmd. All draw one `Geometry` made from one
`scene.Scene`, so a node sits at the same coordinates in every format.

`geometry` turns the scene's columns and rows into pixels, routes every edge (straight across
columns, curved only in the gaps between them, residual skips as arcs above the blocks) and
places every edge label on its own edge where it overlaps no node and no other label —
growing the picture, never shrinking the text, until they fit.

SVG contract (tests outside this repository rely on it): each node is
`<g class="node …" data-name="NAME" transform="translate(x,y)">` holding its shape (rect,
circle or ellipse) and its text; each edge is `<path class="edge …" data-source="U"
data-target="V" d="…">` with only absolute M, L, C and Q commands; highlighted elements carry
the class `on-path`; each edge label is `<text class="edge-label" data-source="U"
data-target="V">`; in the neuron view a weight's edge also has `data-weight="w1_1_1"`.

PNG is the SVG rendered by resvg (the `resvg-py` wheel carries it, no Cairo or browser
needed) with the DejaVu fonts that matplotlib's wheel ships, which are also the fonts the
label widths are measured with here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from ..errors import UsageError, suggest
from .scene import MAX_DRAWN_NAMES, Edge, Label, Node, Scene, build

if TYPE_CHECKING:
    from ..spec import Spec

__all__ = ["FORMATS", "Geometry", "Shape", "Placed", "geometry", "svg", "png", "dot",
           "mermaid", "tikz", "TIKZ_PREAMBLE", "draw", "format_of", "text_width",
           "sample", "PNG_SCALE"]

FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}

LIT = "#d62728"
EDGE = "#8a9096"
STYLE = {  # kind → (fill, stroke)
    "input": ("#e8f0fb", "#4a6fa5"),
    "param": ("#fff2cc", "#b8860b"),
    "node": ("#ffffff", "#555555"),
    "unit": ("#f4f8f1", "#4f7a3a"),
    "loss": ("#fde2e1", "#a93226"),
}
FONT = "DejaVu Sans, Verdana, sans-serif"
NAME_PX = 15.0  # node names; scripts are SCRIPT × this
SCRIPT = 0.7
LABEL_PX = 12.0  # edge labels: never smaller
SMALL_PX = 11.0  # biases, legend, headers
TITLE_PX = 16.0
NODE_H = 30.0
MARGIN = 24.0
TITLE_H = 34.0
HALO = 5.0  # white stroke around label text: the edge under it stops short of the text
PNG_SCALE = 1.5
GROW_STEPS = 10


@lru_cache(maxsize=4)
def _font(style: str = "normal") -> object:
    import os

    import matplotlib
    from matplotlib import ft2font

    name = {"normal": "DejaVuSans.ttf", "italic": "DejaVuSans-Oblique.ttf",
            "bold": "DejaVuSans-Bold.ttf"}[style]
    font = ft2font.FT2Font(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name))
    font.set_size(100, 72)  # one unit = 1/100 of a pixel at size 1
    return font


@lru_cache(maxsize=4096)
def _advance(ch: str, style: str) -> float:
    font = _font(style)
    try:
        return font.load_char(ord(ch)).linearHoriAdvance / 65536 / 100  # type: ignore
    except (RuntimeError, ValueError):
        return 0.6


def text_width(text: str, size: float, style: str = "normal") -> float:
    """Width in pixels of `text` in DejaVu Sans at `size` px (the font the PNG is drawn with).

    >>> round(text_width("w", 100))
    82
    """
    return size * sum(_advance(ch, style) for ch in text)


def font_files() -> list[str]:
    """The DejaVu font files resvg draws with (shipped inside matplotlib's wheel)."""
    import os

    import matplotlib

    base = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    return [os.path.join(base, n) for n in ("DejaVuSans.ttf", "DejaVuSans-Oblique.ttf",
                                             "DejaVuSans-Bold.ttf")]


# --- geometry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A node's shape: centre, full width and height; `kind` is rect, circle or ellipse."""

    name: str
    kind: str
    cx: float
    cy: float
    w: float
    h: float
    extra: tuple[float, float, float, float] | None = None  # a unit's bias label box
    below: tuple[float, float, float, float] | None = None  # the loss's note (its targets)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.cx - self.w / 2, self.cy - self.h / 2, self.cx + self.w / 2,
                self.cy + self.h / 2)


@dataclass(frozen=True)
class Placed:
    """An edge label: centre, box size, the text shown and, when cut, the whole text."""

    u: str
    v: str
    x: float
    y: float
    w: float
    h: float
    text: str
    full: str | None
    lit: bool

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x - self.w / 2, self.y - self.h / 2, self.x + self.w / 2,
                self.y + self.h / 2)


Segment = tuple[str, tuple[float, ...]]  # ("M", (x, y)), ("L", …), ("Q", c, p), ("C", c1, c2, p)


@dataclass(frozen=True)
class Geometry:
    """Pixel positions of everything in a picture."""

    shapes: dict[str, Shape]
    routes: dict[tuple[str, str], tuple[Segment, ...]]
    labels: dict[tuple[str, str], Placed]
    width: float
    height: float
    col_x: tuple[float, ...]
    top: float
    legend_y: float
    failed: int = 0  # labels that found no free place (0 unless the net is huge)
    notes: tuple[tuple[float, float, str], ...] = field(default=())
    bands: tuple[tuple[float, float, str], ...] = field(default=())

    @property
    def x(self) -> dict[str, float]:
        return {n: s.cx for n, s in self.shapes.items()}

    @property
    def y(self) -> dict[str, float]:
        return {n: s.cy for n, s in self.shapes.items()}

    @property
    def w(self) -> dict[str, float]:
        return {n: s.w for n, s in self.shapes.items()}


def _label_widths(label: Label) -> tuple[float, float, str]:
    """(base width, script width, base style) of a node name."""
    style = "normal" if label.upright or len(label.base) > 2 else "italic"
    base = text_width(label.base, NAME_PX, style)
    small = NAME_PX * SCRIPT
    script = max(text_width(label.sub, small), text_width(label.sup, small))
    return base, script, style


def _name_width(label: Label) -> float:
    base, script, _ = _label_widths(label)
    return base + script


def _shape_size(node: Node) -> tuple[float, float]:
    if node.kind == "unit":
        parts = [_name_width(p) for p in node.parts] or [_name_width(node.label)]
        inner = sum(parts) + (12 if len(parts) > 1 else 0)
        d = max(50.0, inner + 18)
        return d, d
    text = _name_width(node.label)
    if node.shape == "circle":
        d = max(34.0, text + 16)
        return d, d
    if node.shape == "ellipse":
        return max(46.0, text * 1.25 + 26), 36.0
    return max(34.0, text + 20), NODE_H


def _label_box(text: str) -> tuple[float, float]:
    """The room a label takes: its measured width plus the halo, and never less than a plain
    estimate (0.6 em a character) so a browser's wider fallback font fits too."""
    return max(text_width(text, LABEL_PX) + HALO + 2, 0.6 * LABEL_PX * len(text) + 2), \
        LABEL_PX * 1.35


def geometry(scene: Scene) -> Geometry:
    """Lay the scene out in pixels: shapes, routed edges and placed labels. When labels do
    not fit, columns and rows move apart (text keeps its size) and placement is retried."""
    sizes = {n: _shape_size(node) for n, node in scene.nodes.items()}
    has_labels = any(e.label for e in scene.edges)
    longest = max((_label_box(e.label)[0] for e in scene.edges if e.label), default=0.0)
    tallest = max((h for _, h in sizes.values()), default=NODE_H)
    gap = max(64.0, min(longest, 300.0) + 36) if has_labels else 64.0
    if scene.view == "neuron":  # fan-outs of weight labels need room to separate
        gap = max(gap, 120.0)
    pitch = tallest + (34.0 if has_labels else 22.0)
    if any(n.bias for n in scene.nodes.values()):
        pitch += 14
    best = None
    for _ in range(GROW_STEPS):
        geo = _attempt(scene, sizes, gap, pitch)
        if best is None or geo.failed < best.failed:
            best = geo
        if geo.failed == 0:
            return geo
        gap *= 1.25
        pitch *= 1.12
    assert best is not None
    return best


def _attempt(scene: Scene, sizes: Mapping[str, tuple[float, float]], gap: float,
             pitch: float) -> Geometry:
    ncol = max(scene.columns, 1)
    col_w = [0.0] * ncol
    for n, node in scene.nodes.items():
        col_w[node.column] = max(col_w[node.column], sizes[n][0])
    for i, cw in enumerate(col_w):
        col_w[i] = max(cw, 24.0)
    arcs = [e for e in scene.edges if e.arc]
    lanes = _lanes(scene, arcs)
    n_lanes = max(lanes.values(), default=-1) + 1
    band_h = 22.0 if scene.bands else 0.0
    top = MARGIN + TITLE_H + band_h + (n_lanes * 18.0 + 14 if n_lanes else 0.0)
    has_bias = any(n.bias for n in scene.nodes.values())
    top += 14 if has_bias else 0
    centres, left = [], MARGIN
    for cw in col_w:
        centres.append(left + cw / 2)
        left += cw + gap
    right_edge = left - gap
    y0 = top + max((h for _, h in sizes.values()), default=NODE_H) / 2
    shapes: dict[str, Shape] = {}
    for n, node in scene.nodes.items():
        w, h = sizes[n]
        cx, cy = centres[node.column], y0 + node.row * pitch
        extra = None
        if node.bias:
            bw = text_width(node.bias, SMALL_PX) + 4
            extra = (cx - bw / 2, cy - h / 2 - SMALL_PX - 5, cx + bw / 2, cy - h / 2 - 2)
        below = None
        if node.note:
            nw = text_width(node.note, SMALL_PX) + 4
            below = (cx - nw / 2, cy + h / 2 + 2, cx + nw / 2, cy + h / 2 + SMALL_PX + 6)
        kind = "circle" if node.shape == "circle" else node.shape
        shapes[n] = Shape(n, kind, cx, cy, w, h, extra, below)
    content_top = min((s.box[1] if s.extra is None else s.extra[1] for s in shapes.values()),
                      default=top)
    bottom = max((s.box[3] if s.below is None else s.below[3] for s in shapes.values()),
                 default=top)
    routes = {}
    ports = _ports(scene, shapes)
    for e in scene.edges:
        if e.arc:
            lane_y = content_top - 14 - lanes[(e.u, e.v)] * 18.0
            routes[(e.u, e.v)] = _arc(e, shapes, centres, col_w, gap, lane_y, ports)
        else:
            routes[(e.u, e.v)] = _route(e, shapes, centres, col_w, pitch, y0, ports)
    # long edges may bend below the lowest node: the picture reaches down to them
    bottom = max([bottom] + [a[-1] + 8 for segs in routes.values() for _, a in segs])
    notes = []
    for c, row, text in scene.elided:  # a row the layout left free, between the units
        notes.append((centres[c], y0 + row * pitch + SMALL_PX * 0.35, text))
    bands = []
    for b in scene.bands:
        x1 = centres[b.first] - col_w[b.first] / 2
        x2 = centres[b.last] + col_w[b.last] / 2
        bands.append(((x1 + x2) / 2, MARGIN + TITLE_H + 12, b.text))
    legend_y = bottom + 26
    notes_right = max([b[2] for s in shapes.values() for b in (s.extra, s.below) if b] or [0])
    width = max(right_edge + MARGIN, notes_right + MARGIN,
                text_width(scene.title, TITLE_PX, "bold") + 2 * MARGIN,
                min(_legend_width(scene), 560.0) + 2 * MARGIN)
    rows = len(_legend_rows(scene, width - 2 * MARGIN))
    height = legend_y + 24.0 * rows + MARGIN
    labels, failed = _place_labels(scene, shapes, routes, notes, width, legend_y)
    return Geometry(shapes, routes, labels, width, height, tuple(centres), top, legend_y,
                    failed, tuple(notes), tuple(bands))


def _lanes(scene: Scene, arcs: Sequence[Edge]) -> dict[tuple[str, str], int]:
    """Lane of each arc: shorter arcs lower, overlapping arcs never in the same lane."""
    out: dict[tuple[str, str], int] = {}
    used: list[tuple[int, int, int]] = []
    for e in sorted(arcs, key=lambda e: (scene.nodes[e.v].column - scene.nodes[e.u].column,
                                         scene.nodes[e.u].column)):
        a, b = scene.nodes[e.u].column, scene.nodes[e.v].column
        lane = 0
        while any(lane == k and not (b <= a2 or a >= b2) for a2, b2, k in used):
            lane += 1
        used.append((a, b, lane))
        out[(e.u, e.v)] = lane
    return out


def _ports(scene: Scene, shapes: Mapping[str, Shape]) -> dict[tuple[str, str, str], float]:
    """Vertical offset where each edge leaves ('out') and enters ('in') its shapes, spread
    over the side so that arrowheads of a fan-in do not sit on top of each other."""
    ins: dict[str, list[Edge]] = {}
    outs: dict[str, list[Edge]] = {}
    for e in scene.edges:
        if not e.arc:
            ins.setdefault(e.v, []).append(e)
            outs.setdefault(e.u, []).append(e)
    out: dict[tuple[str, str, str], float] = {}

    def toward(e: Edge, end: str) -> float:
        other = e.u if end == "in" else e.v
        bend = e.bends[-1 if end == "in" else 0] if e.bends else None
        return shapes[other].cy if bend is None else bend[1]

    for side, groups in (("in", ins), ("out", outs)):
        for n, es in groups.items():
            s = shapes[n]
            room = s.h * 0.3  # ports stay on the middle of the side
            step = min(9.0, 2 * room / max(len(es), 1))
            ordered = sorted(es, key=lambda e: (toward(e, side), e.index))
            # an edge arriving level with the shape keeps the middle, so it stays straight
            level = [i for i, e in enumerate(ordered) if abs(toward(e, side) - s.cy) < 1]
            mid = level[0] if level else (len(es) - 1) / 2
            if level and max(abs(i - mid) for i in range(len(es))) * step > room:
                mid = (len(es) - 1) / 2
            for i, e in enumerate(ordered):
                out[(e.u, e.v, side)] = (i - mid) * step
    return out


def _side(s: Shape, dy: float, right: bool) -> float:
    """x where a horizontal line at cy + dy meets the shape's left or right side."""
    half = s.w / 2
    if s.kind in ("circle", "ellipse"):
        ry = s.h / 2
        half = half * math.sqrt(max(0.0, 1 - (dy / ry) ** 2)) if abs(dy) < ry else 0.0
    return s.cx + half if right else s.cx - half


def _curve(x1: float, y1: float, x2: float, y2: float) -> Segment:
    if abs(y1 - y2) < 0.05:
        return ("L", (x2, y2))
    dx = (x2 - x1) / 2
    return ("C", (x1 + dx, y1, x2 - dx, y2, x2, y2))


def _route(e: Edge, shapes: Mapping[str, Shape], centres: Sequence[float],
           col_w: Sequence[float], pitch: float, y0: float,
           ports: Mapping[tuple[str, str, str], float]) -> tuple[Segment, ...]:
    su, sv = shapes[e.u], shapes[e.v]
    dyo, dyi = ports.get((e.u, e.v, "out"), 0.0), ports.get((e.u, e.v, "in"), 0.0)
    cu = min(range(len(centres)), key=lambda i: abs(centres[i] - su.cx))
    cv = min(range(len(centres)), key=lambda i: abs(centres[i] - sv.cx))
    x, y = _side(su, dyo, True), su.cy + dyo
    segs: list[Segment] = [("M", (x, y))]
    right = centres[cu] + col_w[cu] / 2
    if right - x > 0.5:
        segs.append(("L", (right, y)))
        x = right
    for c, row in e.bends:
        yb = y0 + row * pitch
        lx, rx = centres[c] - col_w[c] / 2, centres[c] + col_w[c] / 2
        segs.append(_curve(x, y, lx, yb))
        segs.append(("L", (rx, yb)))
        x, y = rx, yb
    tx, ty = _side(sv, dyi, False), sv.cy + dyi
    lx = centres[cv] - col_w[cv] / 2
    if tx - lx > 0.5:
        segs.append(_curve(x, y, lx, ty))
        segs.append(("L", (tx, ty)))
    else:
        segs.append(_curve(x, y, tx, ty))
    return tuple(segs)


def _arc(e: Edge, shapes: Mapping[str, Shape], centres: Sequence[float],
         col_w: Sequence[float], gap: float, lane: float,
         ports: Mapping[tuple[str, str, str], float]) -> tuple[Segment, ...]:
    """Up in the gap after u's column, along a lane above every node, down in the gap before
    v's column: rounded corners, nothing crossed but other edges."""
    su, sv = shapes[e.u], shapes[e.v]
    cu = min(range(len(centres)), key=lambda i: abs(centres[i] - su.cx))
    cv = min(range(len(centres)), key=lambda i: abs(centres[i] - sv.cx))
    xa = centres[cu] + col_w[cu] / 2 + gap * 0.35
    xb = centres[cv] - col_w[cv] / 2 - gap * 0.35
    y1, y2 = su.cy - su.h * 0.25, sv.cy - sv.h * 0.25
    r = min(10.0, gap * 0.2, (y1 - lane) / 2, (y2 - lane) / 2)
    return (("M", (_side(su, y1 - su.cy, True), y1)), ("L", (xa - r, y1)),
            ("Q", (xa, y1, xa, y1 - r)), ("L", (xa, lane + r)), ("Q", (xa, lane, xa + r, lane)),
            ("L", (xb - r, lane)), ("Q", (xb, lane, xb, lane + r)), ("L", (xb, y2 - r)),
            ("Q", (xb, y2, xb + r, y2)), ("L", (_side(sv, y2 - sv.cy, False), y2)))


def sample(segs: Sequence[Segment], step: float = 4.0) -> list[tuple[float, float]]:
    """Points along a route, about `step` pixels apart (for label placement and tests)."""
    pts: list[tuple[float, float]] = []
    x = y = 0.0
    for cmd, a in segs:
        if cmd == "M":
            x, y = a
            pts.append((x, y))
            continue
        if cmd == "L":
            ctrl = [(x, y), (a[0], a[1])]
        elif cmd == "Q":
            ctrl = [(x, y), (a[0], a[1]), (a[2], a[3])]
        else:
            ctrl = [(x, y), (a[0], a[1]), (a[2], a[3]), (a[4], a[5])]
        length = sum(math.dist(p, q) for p, q in zip(ctrl, ctrl[1:]))
        n = max(1, math.ceil(length / step))
        for i in range(1, n + 1):
            pts.append(_bezier(ctrl, i / n))
        x, y = ctrl[-1]
    return pts


def _bezier(ctrl: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
    s = 1 - t
    if len(ctrl) == 2:
        (x0, y0), (x1, y1) = ctrl
        return (s * x0 + t * x1, s * y0 + t * y1)
    if len(ctrl) == 3:
        (x0, y0), (x1, y1), (x2, y2) = ctrl
        a, b, c = s * s, 2 * s * t, t * t
        return (a * x0 + b * x1 + c * x2, a * y0 + b * y1 + c * y2)
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ctrl
    a, b, c, d = s * s * s, 3 * s * s * t, 3 * s * t * t, t * t * t
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


class _Grid:
    """Boxes in 64-pixel buckets, so a picture of thousands of labels places them fast."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    def _keys(self, b: tuple[float, float, float, float]):  # noqa: ANN202
        for i in range(int(b[0] // 64), int(b[2] // 64) + 1):
            for j in range(int(b[1] // 64), int(b[3] // 64) + 1):
                yield (i, j)

    def add(self, b: tuple[float, float, float, float]) -> None:
        for k in self._keys(b):
            self.cells.setdefault(k, []).append(b)

    def hits(self, b: tuple[float, float, float, float]) -> bool:
        for k in self._keys(b):
            for o in self.cells.get(k, ()):
                if b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3]:
                    return True
        return False


_PREFER = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8, 0.14, 0.86)


def _place_labels(scene: Scene, shapes: Mapping[str, Shape],
                  routes: Mapping[tuple[str, str], Sequence[Segment]],
                  notes: Sequence[tuple[float, float, str]], width: float, bottom: float
                  ) -> tuple[dict[tuple[str, str], Placed], int]:
    """Each label centred on a point of its own edge where its box meets no node, no other
    label and as few other edges as possible; lit edges and long labels choose first."""
    blocked = _Grid()
    for s in shapes.values():
        x1, y1, x2, y2 = s.box
        blocked.add((x1 - 3, y1 - 3, x2 + 3, y2 + 3))
        for extra in (s.extra, s.below):
            if extra:
                blocked.add(extra)
    for x, y, text in notes:
        w = text_width(text, SMALL_PX)
        blocked.add((x - w / 2, y - SMALL_PX, x + w / 2, y + 4))
    lines: dict[tuple[int, int], list[tuple[float, float, tuple[str, str]]]] = {}
    samples = {}
    for key, segs in routes.items():
        pts = sample(segs, 6.0)
        samples[key] = pts
        for px, py in pts:
            lines.setdefault((int(px // 32), int(py // 32)), []).append((px, py, key))
    placed: dict[tuple[str, str], Placed] = {}
    failed = 0
    todo = sorted((e for e in scene.edges if e.label), key=lambda e: (not e.lit,
                                                                       -len(e.label or "")))
    for e in todo:
        key = (e.u, e.v)
        w, h = _label_box(e.label or "")
        pts = _usable(samples[key], shapes[e.u], shapes[e.v])
        best = None
        for t in _PREFER:
            if not pts:
                break
            x, y = pts[min(len(pts) - 1, int(t * len(pts)))]
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if box[0] < 2 or box[2] > width - 2 or box[1] < MARGIN + TITLE_H - 6 \
                    or box[3] > bottom or blocked.hits(box):
                continue
            others = set()
            for i in range(int(box[0] // 32), int(box[2] // 32) + 1):
                for j in range(int(box[1] // 32), int(box[3] // 32) + 1):
                    others.update(k for px, py, k in lines.get((i, j), ()) if k != key
                                  and box[0] <= px <= box[2] and box[1] <= py <= box[3])
            crossing = len(others)
            score = crossing * 10 + abs(t - 0.5)
            if best is None or score < best[0]:
                best = (score, x, y, box)
            if crossing == 0:
                break
        if best is None:
            failed += 1
            continue
        _, x, y, box = best
        blocked.add((box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1))
        placed[key] = Placed(e.u, e.v, x, y, w, h, e.label or "", e.full, e.lit)
    return placed, failed


def _usable(pts: list[tuple[float, float]], su: Shape, sv: Shape) -> list[tuple[float, float]]:
    """The points of a route away from its two ends (a label there would touch the node)."""
    return [p for p in pts if math.dist(p, (su.cx, su.cy)) > su.w / 2 + 10
            and math.dist(p, (sv.cx, sv.cy)) > sv.w / 2 + 10]


# --- SVG ----------------------------------------------------------------------------------


def _d(segs: Sequence[Segment]) -> str:
    out = []
    for cmd, a in segs:
        out.append(cmd + " ".join(f"{a[i]:.1f},{a[i + 1]:.1f}" for i in range(0, len(a), 2)))
    return " ".join(out)


def _svg_name(label: Label, x: float, y: float, size: float = NAME_PX,
              cls: str = "name") -> str:
    """A display name centred on (x, y): the base, its superscript and subscript stacked."""
    base_w, script_w, style = _label_widths(label)
    small = size * SCRIPT
    scale = size / NAME_PX
    base_w, script_w = base_w * scale, script_w * scale
    left = x - (base_w + script_w) / 2
    base_y = y + size * 0.35
    italic = ' font-style="italic"' if style == "italic" else ""
    out = [f'<text class="{cls}" x="{left:.1f}" y="{base_y:.1f}" font-size="{size:g}">'
           f'<tspan{italic}>{escape(label.base)}</tspan>']
    if label.sup:
        out.append(f'<tspan x="{left + base_w:.1f}" y="{base_y - size * 0.42:.1f}" '
                   f'font-size="{small:.1f}">{escape(label.sup)}</tspan>')
    if label.sub:
        out.append(f'<tspan x="{left + base_w:.1f}" y="{base_y + size * 0.25:.1f}" '
                   f'font-size="{small:.1f}">{escape(label.sub)}</tspan>')
    out.append("</text>")
    return "".join(out)


def svg(scene: Scene, *, standalone: bool = True, prefix: str = "",
        titles: Mapping[tuple[str, str], str] | None = None,
        geo: Geometry | None = None) -> str:
    """The picture as SVG (see the module docstring for its contract). `standalone` adds
    the XML namespace (needed in a .svg file, not inside HTML). Edge i gets the id
    `{prefix}e{i}` (prefix keeps ids unique when several pictures share a page) and, from
    `titles`, a tooltip."""
    g = geo or geometry(scene)
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    out = [
        f'<svg{ns} class="pathgrad-graph" width="{g.width:.0f}" height="{g.height:.0f}" '
        f'viewBox="0 0 {g.width:.0f} {g.height:.0f}" font-family="{FONT}" role="img" '
        f'data-view="{scene.view}">',
        f"<title>{escape(scene.title)}</title>",
        "<defs>",
    ]
    for name, colour in (("arrow", EDGE), ("arrow-lit", LIT)):
        out.append(f'<marker id="{prefix}{name}" viewBox="0 0 10 10" refX="9" refY="5" '
                   f'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
                   f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>')
    out.append("</defs>")
    out.append('<rect class="background" width="100%" height="100%" fill="#ffffff"/>')
    out.append(f'<text class="title" x="{MARGIN}" y="{MARGIN + 12}" font-size="{TITLE_PX:g}" '
               f'font-weight="bold">{escape(scene.title)}</text>')
    for x, y, text in g.bands:
        out.append(f'<text class="band" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" '
                   f'font-size="{SMALL_PX + 1:g}" fill="#555555">{escape(text)}</text>')
    # plain edges first so highlighted ones are drawn on top
    for e in sorted(scene.edges, key=lambda e: e.lit):
        cls = "edge on-path lit" if e.lit else "edge"
        colour, width = (LIT, 2.4) if e.lit else (EDGE, 1.2)
        tip = (titles or {}).get((e.u, e.v))
        close = f"><title>{escape(tip)}</title></path>" if tip else "/>"
        weight = f" data-weight={quoteattr(e.weight)}" if e.weight else ""
        out.append(
            f'<path id="{prefix}e{e.index}" class="{cls}" data-source={quoteattr(e.u)} '
            f'data-target={quoteattr(e.v)}{weight} data-u={quoteattr(e.u)} '
            f'data-v={quoteattr(e.v)} d="{_d(g.routes[(e.u, e.v)])}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}" '
            f'marker-end="url(#{prefix}{"arrow-lit" if e.lit else "arrow"})"{close}')
    for key in sorted(g.labels, key=lambda k: g.labels[k].lit):
        lab = g.labels[key]
        colour = "#8b1a1a" if lab.lit else "#333333"
        cls = "edge-label on-path" if lab.lit else "edge-label"
        tip = f"<title>{escape(lab.full)}</title>" if lab.full else ""
        # the halo: a white box under the text (a stroke alone lets the edge show between
        # words), then a white stroke around the glyphs
        inner = text_width(lab.text, LABEL_PX) + 4
        out.append(f'<rect class="label-halo" x="{lab.x - inner / 2:.1f}" '
                   f'y="{lab.y - LABEL_PX * 0.55:.1f}" width="{inner:.1f}" '
                   f'height="{LABEL_PX * 1.1:.1f}" rx="3" fill="#ffffff"/>')
        out.append(
            f'<text class="{cls}" data-source={quoteattr(lab.u)} data-target={quoteattr(lab.v)} '
            f'x="{lab.x:.1f}" y="{lab.y + LABEL_PX * 0.35:.1f}" text-anchor="middle" '
            f'font-size="{LABEL_PX:g}" fill="{colour}" stroke="#ffffff" '
            f'stroke-width="{HALO}" stroke-linejoin="round" paint-order="stroke">'
            f"{tip}{escape(lab.text)}</text>")
    for node in scene.nodes.values():
        out.append(_svg_node(node, g.shapes[node.name]))
    for x, y, text in g.notes:
        out.append(f'<text class="elided" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" '
                   f'font-size="{SMALL_PX:g}" fill="#555555">{escape(text)}</text>')
    out += _svg_legend(scene, g)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_node(node: Node, s: Shape) -> str:
    fill, stroke = STYLE[node.kind]
    width = 2.4 if node.kind == "loss" else 1.4
    if node.lit:
        stroke, width = LIT, max(width, 2.4)
    cls = f"node {node.kind}" + (" on-path lit" if node.lit else "")
    data = f" data-name={quoteattr(node.name)}"
    if node.kind == "unit" and len(node.covers) > 1:
        data += f" data-z={quoteattr(node.covers[0])}"
    what = node.kind if node.kind != "unit" else "unit: " + " | ".join(
        n for n in node.covers[: len(node.parts)])
    out = [f'<g class="{cls}"{data} transform="translate({s.cx:.1f},{s.cy:.1f})">'
           f"<title>{escape(node.name)} ({escape(what)})</title>"]
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    if s.kind == "circle":
        out.append(f'<circle cx="0" cy="0" r="{s.w / 2:.1f}" {paint}/>')
    elif s.kind == "ellipse":
        out.append(f'<ellipse cx="0" cy="0" rx="{s.w / 2:.1f}" ry="{s.h / 2:.1f}" {paint}/>')
    else:
        out.append(f'<rect x="{-s.w / 2:.1f}" y="{-s.h / 2:.1f}" width="{s.w:.1f}" '
                   f'height="{s.h:.1f}" rx="5" {paint}/>')
    if node.kind == "unit" and len(node.parts) == 2:
        z, a = node.parts
        wz, wa = _name_width(z), _name_width(a)
        gap = 12.0
        split = -(wz + wa + gap) / 2 + wz + gap / 2
        out.append(f'<line class="split" x1="{split:.1f}" y1="{-s.h / 2 + 6:.1f}" '
                   f'x2="{split:.1f}" y2="{s.h / 2 - 6:.1f}" stroke="{stroke}" '
                   f'stroke-width="1"/>')
        out.append(_svg_name(z, split - gap / 2 - wz / 2, 0))
        out.append(_svg_name(a, split + gap / 2 + wa / 2, 0))
    else:
        out.append(_svg_name(node.parts[0] if node.parts else node.label, 0, 0))
    if node.bias and s.extra:
        colour = LIT if node.bias_lit else "#6b5a1e"
        weight = ' font-weight="bold"' if node.bias_lit else ""
        out.append(f'<text class="bias{" on-path" if node.bias_lit else ""}" x="0" '
                   f'y="{s.extra[3] - s.cy - 2:.1f}" text-anchor="middle" '
                   f'font-size="{SMALL_PX:g}" fill="{colour}"{weight}>'
                   f"{escape(node.bias)}</text>")
    if node.note and s.below:
        colour = LIT if node.note_lit else "#4a6fa5"
        out.append(f'<text class="note{" on-path" if node.note_lit else ""}" x="0" '
                   f'y="{s.below[3] - s.cy - 4:.1f}" text-anchor="middle" '
                   f'font-size="{SMALL_PX:g}" fill="{colour}">{escape(node.note)}</text>')
    out.append("</g>")
    return "".join(out)


_SWATCH_W = 30.0


def _legend_items(scene: Scene) -> list[tuple[str, str, float]]:
    return [(k, t, _SWATCH_W + 8 + text_width(t, SMALL_PX) + 18) for k, t in scene.legend]


def _legend_width(scene: Scene) -> float:
    return sum(w for _, _, w in _legend_items(scene))


def _legend_rows(scene: Scene, room: float) -> list[list[tuple[str, str, float]]]:
    """The legend's items in rows no wider than the picture (at least one item a row)."""
    rows: list[list[tuple[str, str, float]]] = []
    used = room + 1
    for item in _legend_items(scene):
        if used + item[2] > room and (not rows or rows[-1]):
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += item[2]
    return rows


def _svg_legend(scene: Scene, g: Geometry) -> list[str]:
    if not scene.legend:
        return []
    out = ['<g class="legend">']
    y = g.legend_y + 8
    for row in _legend_rows(scene, g.width - 2 * MARGIN):
        x = MARGIN
        for kind, text, w in row:
            out += _swatch(scene, kind, x, y)
            out.append(f'<text x="{x + _SWATCH_W + 8:.1f}" y="{y + 4:.1f}" '
                       f'font-size="{SMALL_PX:g}" fill="#333333">{escape(text)}</text>')
            x += w
        y += 24
    out.append("</g>")
    return out


def _swatch(scene: Scene, kind: str, x: float, y: float) -> list[str]:
    if kind in ("lit", "label"):
        colour, width = (LIT, 2.4) if kind == "lit" else (EDGE, 1.2)
        out = [f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + _SWATCH_W:.1f}" y2="{y:.1f}" '
               f'stroke="{colour}" stroke-width="{width}"/>']
        if kind == "label":
            mark = "w" if scene.view == "neuron" else "∂"
            out.append(f'<text x="{x + _SWATCH_W / 2:.1f}" y="{y + 4:.1f}" text-anchor="middle" '
                       f'font-size="{LABEL_PX:g}" fill="#333333" stroke="#ffffff" '
                       f'stroke-width="{HALO}" paint-order="stroke">{mark}</text>')
        return out
    fill, stroke = STYLE[kind]
    if kind in ("unit", "loss") or (kind == "input" and scene.view == "neuron"):
        return [f'<ellipse cx="{x + _SWATCH_W / 2:.1f}" cy="{y:.1f}" rx="{_SWATCH_W / 2 - 3:.1f}" '
                f'ry="8" fill="{fill}" stroke="{stroke}" stroke-width="1.4"/>']
    return [f'<rect x="{x + 2:.1f}" y="{y - 8:.1f}" width="{_SWATCH_W - 4:.1f}" height="16" '
            f'rx="4" fill="{fill}" stroke="{stroke}" stroke-width="1.4"/>']


# --- PNG ----------------------------------------------------------------------------------


def png(scene: Scene, *, scale: float = PNG_SCALE, geo: Geometry | None = None) -> bytes:
    """The picture as PNG: the SVG of the same scene, rendered by resvg at `scale` pixels
    per SVG pixel with the DejaVu fonts."""
    import resvg_py

    text = svg(scene, geo=geo)
    return bytes(resvg_py.svg_to_bytes(svg_string=text, zoom=scale, skip_system_fonts=True,
                                       font_files=font_files(), font_family="DejaVu Sans",
                                       sans_serif_family="DejaVu Sans", background="#ffffff"))


# --- Graphviz and Mermaid -----------------------------------------------------------------


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
        if node.shape == "circle":
            extra += ", shape=circle"
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
              "loss": ('(("', '"))'), "unit": ('(("', '"))')}
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


# --- TikZ ---------------------------------------------------------------------------------


def _tikz_path(segs: Sequence[Segment]) -> str:
    out = []
    x = y = 0.0
    for cmd, a in segs:
        if cmd == "M":
            out.append("(%.1f,%.1f)" % a)
        elif cmd == "L":
            out.append("-- (%.1f,%.1f)" % a)
        elif cmd == "Q":  # a quadratic as the cubic it equals
            c1 = (x + 2 / 3 * (a[0] - x), y + 2 / 3 * (a[1] - y))
            c2 = (a[2] + 2 / 3 * (a[0] - a[2]), a[3] + 2 / 3 * (a[1] - a[3]))
            out.append(".. controls (%.1f,%.1f) and (%.1f,%.1f) .. (%.1f,%.1f)"
                       % (*c1, *c2, a[2], a[3]))
        else:
            out.append(".. controls (%.1f,%.1f) and (%.1f,%.1f) .. (%.1f,%.1f)" % a)
        x, y = a[-2], a[-1]
    return " ".join(out)


def tikz(scene: Scene, names: dict[str, str], *, max_width_pt: float = 480,
         max_height_pt: float = 560, geo: Geometry | None = None) -> str:
    """A tikzpicture of the scene for the LaTeX document, scaled down to fit the page.
    `names` maps each name to its LaTeX display name (math mode). Nodes, edges and labels
    sit at the SVG's coordinates (1 px = 1 pt before the scaling); a unit gets the names
    of its z and a, weight labels their weight's name."""
    g = geo or geometry(scene)

    def tex(name: str) -> str:  # a name missing from `names` is set upright, escaped
        return names.get(name) or r"\mathrm{%s}" % name.replace("_", r"\_")

    scale = min(1.0, max_width_pt / g.width, max_height_pt / g.height)
    ids = {n: f"n{i}" for i, n in enumerate(scene.nodes)}
    out = [
        r"\scalebox{%.3f}{%%" % scale,
        r"\begin{tikzpicture}[x=1pt,y=-1pt,>=stealth,"
        r"every node/.style={draw,inner sep=0pt,line width=0.6pt,font=\Large},"
        r"input/.style={fill=pgInput,draw=pgInputLine},"
        r"param/.style={fill=pgParam,draw=pgParamLine},"
        r"node/.style={fill=white,draw=pgNodeLine},"
        r"unit/.style={fill=pgUnit,draw=pgUnitLine},"
        r"loss/.style={fill=pgLoss,draw=pgLossLine,double},"
        r"lit/.style={draw=pgLit,line width=1.2pt},"
        r"edge/.style={->,draw=pgEdge,line width=0.6pt},"
        r"litedge/.style={->,draw=pgLit,line width=1.4pt},"
        r"label/.style={draw=none,fill=white,inner sep=1pt,font=\normalsize}]",
        r"\path[use as bounding box] (0,0) rectangle (%.1f,%.1f);" % (g.width, g.height),
    ]
    for n, node in scene.nodes.items():
        s = g.shapes[n]
        style = node.kind + (",lit" if node.lit else "")
        shape = {"circle": "circle", "ellipse": "ellipse"}.get(s.kind, "rectangle,rounded "
                                                                      "corners=3pt")
        size = ("minimum size=%.1fpt" % s.w if s.kind == "circle" else
                "minimum width=%.1fpt,minimum height=%.1fpt" % (s.w, s.h))
        text = "$%s$" % tex(n)
        if node.kind == "unit" and len(node.covers) >= 2 and node.parts and len(node.parts) == 2:
            z, a = node.covers[0], node.covers[1]
            text = r"$%s\,|\,%s$" % (tex(z), tex(a))
        out.append(r"\node[%s,%s,%s] (%s) at (%.1f,%.1f) {%s};"
                   % (shape, size, style, ids[n], s.cx, s.cy, text))
        # a unit's biases above it, the loss's targets below it, as in the SVG
        extra = node.covers[len(node.parts):] if node.kind == "unit" else node.covers[1:]
        box = s.extra if node.kind == "unit" else s.below
        if extra and box:
            lead = "" if node.kind == "unit" else (r"\mbox{target%s }"
                                                   % ("s" if len(extra) > 1 else ""))
            out.append(r"\node[label] at (%.1f,%.1f) {$%s%s$};"
                       % ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, lead,
                          ",".join(tex(b) for b in extra)))
    for e in sorted(scene.edges, key=lambda e: e.lit):
        style = "litedge" if e.lit else "edge"
        out.append(r"\draw[%s] %s;" % (style, _tikz_path(g.routes[(e.u, e.v)])))
    for e in scene.edges:
        lab = g.labels.get((e.u, e.v))
        if lab is None:
            continue
        if e.weight and all(w in names for w in e.weight.split()):
            text = "$" + ",".join(names[w] for w in e.weight.split()) + "$"
        else:
            continue  # partials in LaTeX are in the derivation; the picture keeps names
        out.append(r"\node[label] at (%.1f,%.1f) {%s};" % (lab.x, lab.y, text))
    out.append(r"\end{tikzpicture}}")
    return "\n".join(out) + "\n"


TIKZ_PREAMBLE = r"""\usepackage{tikz}
\usetikzlibrary{shapes.misc,shapes.geometric}
\definecolor{pgInput}{HTML}{E8F0FB}\definecolor{pgInputLine}{HTML}{4A6FA5}
\definecolor{pgParam}{HTML}{FFF2CC}\definecolor{pgParamLine}{HTML}{B8860B}
\definecolor{pgNodeLine}{HTML}{555555}\definecolor{pgLoss}{HTML}{FDE2E1}
\definecolor{pgLossLine}{HTML}{A93226}\definecolor{pgLit}{HTML}{D62728}
\definecolor{pgUnit}{HTML}{F4F8F1}\definecolor{pgUnitLine}{HTML}{4F7A3A}
\definecolor{pgEdge}{HTML}{8A9096}
"""


# --- files --------------------------------------------------------------------------------


def format_of(path: str) -> str:
    """The drawing format for an output file name, from its extension."""
    from pathlib import Path

    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise UsageError(f"-o {path}: cannot tell the picture format from '{ext or path}'",
                         None, suggest(ext, FORMATS) or "use .svg, .png, .dot or .mmd")
    return FORMATS[ext]


def draw(spec: Spec, fmt: str, weight: str | None = None, label: str = "none",
         values: Mapping[str, object] | None = None, view: str = "auto") -> str | bytes:
    """The spec drawn in `fmt` ('svg', 'png', 'dot', 'mermaid'); bytes for PNG. `values`
    (name → number) override the spec's point for `label='value'`; `view` is 'auto' (the
    neuron view for mlp and rnn nets), 'graph' or 'neuron'."""
    point = None
    if values:
        from ..spec.model import apply_values

        point = apply_values(spec, values)
    # text formats are for tools that lay out big graphs themselves: no size limit
    limit = None if fmt in ("dot", "mermaid") else MAX_DRAWN_NAMES
    scene = build(spec, weight, label, values=point, limit=limit, view=view)
    if fmt == "svg":
        return svg(scene)
    if fmt == "png":
        return png(scene)
    if fmt == "dot":
        return dot(scene)
    if fmt == "mermaid":
        return mermaid(scene)
    raise UsageError(f"unknown picture format '{fmt}'", None, suggest(fmt, FORMATS.values()))
