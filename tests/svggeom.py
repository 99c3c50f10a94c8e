"""Read a pathgrad picture back from its SVG text alone and check its geometry: the SVG
contract of issue 11, parsed with ElementTree and a path parser of our own (no pathgrad
code), and the three promises: no edge runs through a node it does not join, no two nodes
overlap, no edge label overlaps a node or another label."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

SVG = "{http://www.w3.org/2000/svg}"
_TRANSLATE = re.compile(r"^translate\(\s*(-?[\d.]+)\s*[, ]\s*(-?[\d.]+)\s*\)$")
_TOKEN = re.compile(r"[A-Za-z]|-?\d+(?:\.\d+)?(?:e-?\d+)?")
EST_EM = 0.55  # estimated width of a character, in em (DejaVu Sans averages about 0.6)


def _tag(el: ET.Element) -> str:
    return el.tag.replace(SVG, "")


@dataclass
class Shape:
    name: str
    tag: str  # rect, circle or ellipse
    cx: float
    cy: float
    w: float
    h: float
    classes: set[str]
    element: ET.Element

    def box(self) -> tuple[float, float, float, float]:
        return (self.cx - self.w / 2, self.cy - self.h / 2, self.cx + self.w / 2,
                self.cy + self.h / 2)

    def contains(self, x: float, y: float, shrink: float = 1.0) -> bool:
        """Strictly inside, `shrink` pixels away from the outline."""
        dx, dy = x - self.cx, y - self.cy
        if self.tag == "rect":
            return abs(dx) < self.w / 2 - shrink and abs(dy) < self.h / 2 - shrink
        rx, ry = self.w / 2 - shrink, self.h / 2 - shrink
        return rx > 0 and ry > 0 and (dx / rx) ** 2 + (dy / ry) ** 2 < 1


@dataclass
class Path:
    u: str
    v: str
    d: str
    classes: set[str]
    weight: str | None
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Text:
    u: str
    v: str
    text: str
    x: float
    y: float
    size: float
    classes: set[str]

    def box(self) -> tuple[float, float, float, float]:
        """Estimated from the font size and the number of characters (text-anchor middle,
        y is the baseline)."""
        w = EST_EM * self.size * len(self.text)
        return (self.x - w / 2, self.y - 0.75 * self.size, self.x + w / 2,
                self.y + 0.2 * self.size)


@dataclass
class Picture:
    root: ET.Element
    nodes: dict[str, Shape]
    edges: dict[tuple[str, str], Path]
    labels: list[Text]
    width: float
    height: float


def _bezier(ctrl: list[tuple[float, float]], t: float) -> tuple[float, float]:
    pts = ctrl
    while len(pts) > 1:
        pts = [((1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]) for a, b in zip(pts, pts[1:])]
    return pts[0]


def path_points(d: str, n: int = 24) -> list[tuple[float, float]]:
    """Sample a path `d` made of absolute M, L, C and Q commands (anything else fails)."""
    tokens = _TOKEN.findall(d)
    assert "".join(tokens).replace(" ", "") != "", d
    pts: list[tuple[float, float]] = []
    cur = (0.0, 0.0)
    i = 0
    while i < len(tokens):
        cmd = tokens[i]
        assert cmd in "MLCQ" and len(cmd) == 1, f"path command {cmd!r} in {d!r}"
        arity = {"M": 1, "L": 1, "Q": 2, "C": 3}[cmd]
        nums = [float(t) for t in tokens[i + 1:i + 1 + 2 * arity]]
        assert len(nums) == 2 * arity, d
        i += 1 + 2 * arity
        xy = [(nums[k], nums[k + 1]) for k in range(0, len(nums), 2)]
        if cmd == "M":
            cur = xy[0]
            pts.append(cur)
            continue
        ctrl = [cur, *xy]
        for k in range(1, n + 1):
            pts.append(_bezier(ctrl, k / n))
        cur = xy[-1]
    return pts


def parse(text: str) -> Picture:
    root = ET.fromstring(text)
    assert _tag(root) == "svg"
    nodes: dict[str, Shape] = {}
    for g in root.iter(f"{SVG}g"):
        classes = set((g.get("class") or "").split())
        if "node" not in classes:
            continue
        name = g.get("data-name")
        assert name and name not in nodes, name
        m = _TRANSLATE.match(g.get("transform") or "translate(0,0)")
        assert m, f"node {name}: transform {g.get('transform')!r} is not a translate"
        tx, ty = float(m[1]), float(m[2])
        shapes = [c for c in g if _tag(c) in ("rect", "circle", "ellipse")]
        assert len(shapes) == 1, f"node {name} has {len(shapes)} shapes"
        assert any(_tag(c) == "text" for c in g.iter()), f"node {name} has no text"
        s = shapes[0]
        tag = _tag(s)
        if tag == "rect":
            x, y, w, h = (float(s.get(k)) for k in ("x", "y", "width", "height"))
            cx, cy = tx + x + w / 2, ty + y + h / 2
        elif tag == "circle":
            r = float(s.get("r"))
            cx, cy, w, h = tx + float(s.get("cx", 0)), ty + float(s.get("cy", 0)), 2 * r, 2 * r
        else:
            rx, ry = float(s.get("rx")), float(s.get("ry"))
            cx, cy, w, h = tx + float(s.get("cx", 0)), ty + float(s.get("cy", 0)), 2 * rx, 2 * ry
        nodes[name] = Shape(name, tag, cx, cy, w, h, classes, g)
    edges: dict[tuple[str, str], Path] = {}
    for p in root.iter(f"{SVG}path"):
        classes = set((p.get("class") or "").split())
        if "edge" not in classes:
            continue
        assert p.get("transform") is None
        key = (p.get("data-source"), p.get("data-target"))
        assert None not in key and key not in edges, key
        edges[key] = Path(*key, p.get("d"), classes, p.get("data-weight"),
                          path_points(p.get("d")))
    labels = []
    for t in root.iter(f"{SVG}text"):
        classes = set((t.get("class") or "").split())
        if "edge-label" not in classes:
            continue
        shown = "".join(t.text or "" for _ in [0]) + "".join(
            (c.tail or "") for c in t)  # text after the <title> child
        labels.append(Text(t.get("data-source"), t.get("data-target"), shown.strip(),
                           float(t.get("x")), float(t.get("y")), float(t.get("font-size")),
                           classes))
    return Picture(root, nodes, edges, labels, float(root.get("width")),
                   float(root.get("height")))


def _to_segment(c: tuple[float, float], p: tuple[float, float], q: tuple[float, float]) -> float:
    dx, dy = q[0] - p[0], q[1] - p[1]
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((c[0] - p[0]) * dx + (c[1] - p[1]) * dy)
                                               / (dx * dx + dy * dy)))
    return math.dist(c, (p[0] + t * dx, p[1] + t * dy))


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def problems(pic: Picture) -> list[str]:
    """Everything wrong with a picture's geometry, as sentences (empty when it is right)."""
    out = []
    for (u, v), path in pic.edges.items():
        assert u in pic.nodes and v in pic.nodes, (u, v)
        for name, shape in pic.nodes.items():
            if name in (u, v):
                continue
            hit = next((p for p in path.points if shape.contains(*p)), None)
            if hit:
                out.append(f"edge {u} → {v} passes through node {name} at {hit}")
        for end, name, word in ((path.points[0], u, "start"), (path.points[-1], v, "end")):
            x1, y1, x2, y2 = pic.nodes[name].box()
            if not (x1 - 2 <= end[0] <= x2 + 2 and y1 - 2 <= end[1] <= y2 + 2):
                out.append(f"edge {u} → {v} does not {word} at {name}")
    shapes = list(pic.nodes.values())
    for s in shapes:  # a node's notes (bias, targets) stay inside the picture
        for t in s.element.iter(f"{SVG}text"):
            if t.get("text-anchor") == "middle":
                half = EST_EM * float(t.get("font-size")) * len("".join(t.itertext())) / 2
                x = s.cx + float(t.get("x"))
                if x - half < 0 or x + half > pic.width:
                    out.append(f"text {''.join(t.itertext())!r} of {s.name} leaves the picture")
    for i, a in enumerate(shapes):
        for b in shapes[i + 1:]:
            if _overlap(a.box(), b.box()):
                out.append(f"nodes {a.name} and {b.name} overlap")
    for i, lab in enumerate(pic.labels):
        box = lab.box()
        for s in shapes:
            if _overlap(box, s.box()):
                out.append(f"label {lab.text!r} of {lab.u} → {lab.v} overlaps node {s.name}")
        for other in pic.labels[i + 1:]:
            if _overlap(box, other.box()):
                out.append(f"labels {lab.text!r} ({lab.u} → {lab.v}) and {other.text!r} "
                           f"({other.u} → {other.v}) overlap")
        own = pic.edges.get((lab.u, lab.v))
        if own is None:
            out.append(f"label {lab.text!r} names no edge {lab.u} → {lab.v}")
            continue
        centre = (lab.x, lab.y - 0.35 * lab.size)
        if min(_to_segment(centre, p, q) for p, q in zip(own.points, own.points[1:])) > 3:
            out.append(f"label {lab.text!r} is not on its edge {lab.u} → {lab.v}")
        if not (0 <= box[0] and box[2] <= pic.width and 0 <= box[1] and box[3] <= pic.height):
            out.append(f"label {lab.text!r} is outside the picture")
    return out
