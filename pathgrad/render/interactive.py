"""The interactive page: move a value and every number follows, click a node to light its
paths, step through backprop (or forward mode) as δ flows back.

One self-contained HTML file (nothing is loaded from the network). The arithmetic runs in
the page: `model_js` prints every node's expression and every edge's local partial with
`jscode.JSPrinter`, straight from the sympy expressions pathgrad itself differentiates, with
names replaced by array slots — so nothing from the spec is ever part of the script. Text
from the spec (names, display names, descriptions) travels as JSON in a
`<script type="application/json">` block (with `<`, `>` and `&` escaped) and is only ever set
as textContent. The page's behaviour lives in interactive.js and its look in interactive.css
(package data), shared with the Jupyter widget (`pathgrad.widget`).

DOM contract (tests outside this repository rely on it): `<input data-leaf="NAME">` per leaf;
a row `data-path="i"` (1-based, in the order of the JSON `paths`) with `data-value` per path;
`id="gradient"` with `data-value`; the picture's `g.node[data-name]` get `data-value` (and
`data-delta` once stepping has computed their δ); buttons `step-next`, `step-back`,
`step-reset`; clicking a node gives the class `on-path` to exactly the edges of the paths
through it and the `hidden` attribute to the rows of the other paths.
"""

from __future__ import annotations

import hashlib
import html as _html
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..analyses.explanation import DEFAULT_MAX_PATHS, check_listing
from ..errors import LimitError, UsageError, count_text
from ..graph import between
from ..spec import Limits
from ..spec.model import apply_values, check_weight
from . import scene as sc
from .jscode import JSPrinter, check

if TYPE_CHECKING:
    from ..analyses.explanation import Explanation
    from ..calculus import Network
    from ..spec import Spec

__all__ = ["Live", "build", "page", "fragment", "model_js", "script", "style", "slider_range",
           "default_weight", "script_json", "MAX_LABELLED_EDGES", "MAX_PAGE_NAMES"]

MAX_PAGE_NAMES = 2_000  # a page holds every name's formula and slider: 5,000 took 4.8 s
MAX_PAGE_EDGES = 10_000  # … and every edge's local partial (sympy, then JavaScript)

MAX_LABELLED_EDGES = 40  # more edges than this: no number on each edge (the picture would blur)


@dataclass(frozen=True)
class Live:
    """Everything the page (or the widget) needs: the data, the generated model, the markup."""

    data: dict[str, Any]
    model: str  # `function (v, p, pg) {…}`, generated from sympy
    html: str  # the <div class="pg-live"> with the controls, picture and tables
    title: str
    prefix: str


def script() -> str:
    """The page's behaviour (interactive.js, package data)."""
    return resources.files(__package__).joinpath("interactive.js").read_text(encoding="utf-8")


def style() -> str:
    """The page's look (interactive.css, package data)."""
    return resources.files(__package__).joinpath("interactive.css").read_text(encoding="utf-8")


def script_json(data: object) -> str:
    """JSON that can sit inside a <script> element: no `</script>`, `<!--` or `&` in it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def default_weight(spec: Spec) -> str:
    """The first param (else input) the loss depends on: what `pathgrad page` explains."""
    counts = spec.graph.path_counts(spec.loss)
    for name in [*spec.params, *spec.inputs]:
        if counts.get(name):
            return name
    raise UsageError(f"the loss {spec.loss} depends on no input or param of {spec.source}",
                     suggestion="choose a node with --weight NAME")


def slider_range(value: float | None) -> tuple[float, float, str]:
    """(min, max, step) for a leaf's slider: about ±max(1, 2|value|) around it, with round
    ends; the step is a short decimal so the numbers the slider gives stay readable.

    >>> slider_range(0.5), slider_range(0.0), slider_range(-1.2)
    ((-1.0, 2.0, '0.01'), (-1.0, 1.0, '0.01'), (-4.0, 2.0, '0.01'))
    """
    x = 0.0 if value is None or not math.isfinite(value) else value
    half = max(1.0, 2 * abs(x))
    grain = 10.0 ** math.floor(math.log10(half))
    lo = math.floor((x - half) / grain) * grain
    hi = math.ceil((x + half) / grain) * grain
    step_exp = math.floor(math.log10(half)) - 2
    step = f"{10.0 ** step_exp:.{max(0, -step_exp)}f}" if step_exp < 0 else str(10 ** step_exp)
    return float(lo), float(hi), step


_SUB = str.maketrans("0123456789+-−=()aehijklmnoprstuvx",
                     "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789+-−=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁱⁿ")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def display_text(label: sc.Label) -> str:
    """A display name as one line of text, with Unicode sub- and superscripts where they
    exist (w₁₁⁽¹⁾, a₀,₁); else written out as a_{…}.

    >>> display_text(sc.Label("w", "11", "(1)")), display_text(sc.Label("h", "t,q"))
    ('w₁₁⁽¹⁾', 'h_t,q')
    """
    def script(text: str, table: dict[int, str], mark: str) -> str:
        if all(ch == "," or ord(ch) in table for ch in text):
            return text.translate(table)
        return f"{mark}{text}"

    return label.base + script(label.sub, _SUB, "_") + script(label.sup, _SUP, "^")


def _in_display_names(text: str, names: Mapping[str, str]) -> str:
    """Pretty-printed math with every declared name replaced by its display name."""
    return _WORD.sub(lambda m: names.get(m[0], m[0]), text)


def model_js(network: Network, slots: Mapping[str, int],
             edges: list[tuple[str, str]]) -> str:
    """`function (v, p, pg) {…}`: v[slot] = each node's value (topological order), then
    p[k] = ∂v/∂u of edge k; every line printed by JSPrinter and checked token by token."""
    import sympy as sp

    from ..calculus import ONE_MINUS, sigmoid

    printer = JSPrinter({network.symbols[n]: f"v[{i}]" for n, i in slots.items()})
    lines = ["function (v, p, pg) {", '"use strict";']
    # 1 − h² and 1 − a of a saturated tanh or σ are 0 in doubles (tanh(45) is 1.0) although
    # the partial is 4.9·10⁻³⁹: the page computes them as σ's of the argument, as numeric.points
    stable: dict[sp.Basic, sp.Basic] = {}
    for n in network.graph.order:
        if n in network.exprs:
            lines.append(f"v[{slots[n]}] = {check(printer.doprint(network.exprs[n]))};")
            e, y = network.exprs[n], network.symbols[n]
            if isinstance(e, sp.tanh):
                stable[1 - y**2] = ONE_MINUS[sp.tanh](e.args[0])
            elif isinstance(e, sigmoid):
                stable[1 - y] = ONE_MINUS[sigmoid](e.args[0])
    for k, (u, v) in enumerate(edges):
        partial = network.local_partial(u, v)
        code = printer.doprint(sp.sympify(partial).xreplace(stable))
        lines.append(f"p[{k}] = {check(code)};")
    lines.append("}")
    return "\n".join(lines)


def _label_html(label: sc.Label) -> str:
    esc = _html.escape
    out = f'<span class="pg-name">{esc(label.base)}'
    if label.sub:
        out += f"<sub>{esc(label.sub)}</sub>"
    if label.sup:
        out += f"<sup>{esc(label.sup)}</sup>"
    return out + "</span>"


def _contract_svg(svg: str, scene: sc.Scene) -> str:
    """The picture with the pictures' SVG contract where the drawing does not write it yet:
    `data-source`/`data-target` on edges and edge labels, `on-path` on highlighted edges."""
    root = ET.fromstring(svg)
    by_id = {}
    for e in scene.edges:
        by_id[e.index] = e
    edges = [el for el in root.iter() if el.tag == "path"
             and "edge" in (el.get("class") or "").split()]
    for el in edges:
        u, v = el.get("data-source") or el.get("data-u"), el.get("data-target") or el.get("data-v")
        if u is None or v is None:
            continue
        el.set("data-source", u)
        el.set("data-target", v)
        classes = (el.get("class") or "").split()
        lit = "lit" in classes or "on-path" in classes
        if lit and "on-path" not in classes:
            el.set("class", " ".join([*classes, "on-path"]))
    labels = [el for el in root.iter() if el.tag == "text"
              and "edge-label" in (el.get("class") or "").split()]
    labelled = [e for e in scene.edges if e.label]
    if labels and all(el.get("data-source") is None for el in labels) \
            and len(labels) == len(labelled):
        for el, e in zip(labels, labelled):  # the drawing writes labels in edge order
            el.set("data-source", e.u)
            el.set("data-target", e.v)
    return ET.tostring(root, encoding="unicode")


def build(spec: Spec, weight: str, values: Mapping[str, object] | None = None, *,
          explanation: Explanation | None = None, network: Network | None = None,
          max_paths: int = DEFAULT_MAX_PATHS, picture: bool = True) -> Live:
    """The page's parts for ∂loss/∂weight at the spec's point (with `values` applied).

    With an `explanation` its paths, values and verdict are used; without one the paths are
    listed here (no sympy.diff of the composed loss: the page checks the sum live instead).
    """
    from ..calculus import Network

    if explanation is not None:
        spec, weight = explanation.spec, explanation.weight
    check_weight(spec, weight)
    if len(spec.names) > MAX_PAGE_NAMES:  # every name's expression and slider is in the page
        raise LimitError(f"the network has {len(spec.names):,} names, more than "
                         f"{MAX_PAGE_NAMES:,} a live page can hold", None,
                         "write a static page with `pathgrad explain -f html -o FILE.html`, "
                         "or step through a smaller net")
    edges = spec.graph.edge_count
    if edges > MAX_PAGE_EDGES:  # … and every edge's local partial, in sympy and JavaScript
        raise LimitError(f"the network has {edges:,} edges, more than {MAX_PAGE_EDGES:,} a "
                         "live page can hold", None,
                         "write a static page with `pathgrad explain -f html -o FILE.html`, "
                         "or step through a smaller net")
    leaf_values = explanation.values if explanation is not None else apply_values(spec, values)
    net = network or (explanation.network if explanation is not None else None) \
        or Network(spec, spec.graph)
    graph = net.graph
    loss = spec.loss
    if explanation is not None:
        paths = [p.nodes for p in explanation.paths]
    else:
        count = graph.path_counts(loss)[weight]
        if count > max_paths:
            raise LimitError(
                f"'{weight}' has {count_text(count)} paths to '{loss}', more than --max-paths "
                f"{max_paths:,}", None, "choose a --weight nearer the loss")
        if count:  # each path's factors are written out on the page, as explain's are
            check_listing(graph, weight, loss, Limits.from_env())
        paths = list(graph.paths(weight, loss))
    names = list(graph.order)
    slots = {n: i for i, n in enumerate(names)}
    edges = [(u, v) for v in graph.order for u in graph.deps(v)]
    edge_index = {e: k for k, e in enumerate(edges)}
    order = list(between(graph, weight, loss))
    keep = set(order)
    kids = [[edge_index[(n, c)] for c in graph.children(n) if c in keep] for n in order]
    parents = [[edge_index[(u, n)] for u in graph.deps(n) if u in keep] for n in order]
    to_loss = graph.path_counts(loss)
    from_weight: dict[str, int] = {}
    for n in order:
        from_weight[n] = 1 if n == weight else sum(
            from_weight[u] for u in graph.deps(n) if u in keep)

    from .notation import Notation

    note = Notation(spec)
    labels = {n: sc.label_of(spec, n) for n in names}
    shown = {n: display_text(lab) for n, lab in labels.items()}
    leaves = []
    for n in names:
        kind = spec.kind(n)
        if kind in ("input", "param"):
            raw = leaf_values.get(n)
            value = None if raw is None else float(raw)
            lo, hi, step = slider_range(value)
            leaves.append({"slot": slots[n], "kind": kind, "value": value,
                           "min": lo, "max": hi, "step": step})
    key = f"{spec.source}|{spec.name}|{weight}|{loss}|{len(paths)}".encode()
    prefix = "pg" + hashlib.sha1(key).hexdigest()[:8] + "-"
    data: dict[str, Any] = {
        "version": 1,
        "prefix": prefix,
        "names": names,
        "kinds": ["loss" if n == loss else spec.kind(n) for n in names],
        "labels": [[labels[n].base, labels[n].sub, labels[n].sup] for n in names],
        "exprs": [_in_display_names(note.pretty(net.exprs[n]), shown) if n in net.exprs
                  else None for n in names],
        "leaves": leaves,
        "weight": slots[weight],
        "loss": slots[loss],
        "edges": [[slots[u], slots[v]] for u, v in edges],
        "partials": [_in_display_names(note.pretty(net.local_partial(u, v)), shown)
                     for u, v in edges],
        "paths": [[edge_index[(a, b)] for a, b in zip(p, p[1:])] for p in paths],
        "order": [slots[n] for n in order],
        "kids": kids,
        "parents": parents,
        "reverseSteps": _step_order(order, kids, edges, spec.names, reverse=True),
        "forwardSteps": _step_order(order, parents, edges, spec.names, reverse=False),
        "pathsToLoss": [f"{to_loss[n]:,}" for n in order],
        "pathsFromWeight": [f"{from_weight[n]:,}" for n in order],
    }
    model = model_js(net, slots, edges)
    svg = None
    if picture and len(names) <= sc.MAX_DRAWN_NAMES:
        from .drawing import svg as draw_svg

        label = "value" if len(edges) <= MAX_LABELLED_EDGES else "none"
        scene = sc.build(spec, weight, label, network=net, values=leaf_values, view="graph")
        svg = _contract_svg(draw_svg(scene, standalone=False, prefix=prefix), scene)
    title = (f"∂{loss}/∂{weight}, live: {len(paths):,} path{'s' if len(paths) != 1 else ''} "
             f"from {weight} to {loss}")
    markup = _markup(spec, weight, paths, labels, leaves, names, svg, title, prefix,
                     explanation, len(order))
    return Live(data, model, markup, title, prefix)


def _step_order(order: list[str], terms: list[list[int]], edges: list[tuple[str, str]],
                declared: list[str], *, reverse: bool) -> list[int]:
    """The order the steps are shown in, as `pathgrad backprop` lists its rows: nearest the
    loss (reverse) or the weight (forward) first, one level in the spec's order (δ_a11 before
    δ_a12). Indices into `order`; each step's terms come before it."""
    rank = {n: i for i, n in enumerate(declared)}
    at = {n: i for i, n in enumerate(order)}
    level: dict[str, int] = {}
    for n in (reversed(order) if reverse else order):
        others = [edges[k][1] if reverse else edges[k][0] for k in terms[at[n]]]
        level[n] = 1 + max((level[o] for o in others), default=-1)
    return [at[n] for n in sorted(order, key=lambda n: (level[n], rank.get(n, 0)))]


def _markup(spec: Spec, weight: str, paths: list[tuple[str, ...]], labels: dict[str, sc.Label],
            leaves: list[dict[str, Any]], names: list[str], svg: str | None, title: str,
            prefix: str, explanation: Explanation | None, steps: int) -> str:
    esc = _html.escape
    loss = spec.loss
    w, lo = _label_html(labels[weight]), _label_html(labels[loss])
    grad = f"∂{lo}/∂{w}"
    n = len(paths)
    out = [f'<div class="pg-live" id="{prefix}live">', "<header>",
           f"<h1>{grad}: {n:,} path{'s' if n != 1 else ''} from {w} to {lo}, live</h1>"]
    about = " — ".join(esc(x) for x in (spec.name, spec.description) if x)
    out.append(f'<p class="pg-about">{about or esc(spec.source)}</p>')
    out.append(
        '<p class="pg-howto"><b>Drag a slider</b> (or type a number) to change an input or a '
        "param: every value, local partial, path and the gradient follow at once. "
        "<b>Click a node or an edge</b> in the picture to light the paths through it and keep "
        "only their rows (click it again, or press Esc, to see all). <b>Step through "
        "backprop</b> at the left with ◀ ▶ or the keys ← → and space.</p>")
    out += ["</header>", '<div class="pg-layout">', '<aside class="pg-controls">']
    # the steps sit first beside the picture (this column stays on screen), so each step's lit
    # edges are seen as it is taken
    mode = f"{prefix}mode"
    out += [
        '<section class="pg-steps">',
        "<h2>Step through backprop</h2>",
        '<div class="pg-modes">'
        f'<label><input type="radio" class="pg-mode" name="{mode}" value="reverse" checked/> '
        "backprop: δ, from the loss back</label>"
        f'<label><input type="radio" class="pg-mode" name="{mode}" value="forward"/> '
        "forward mode: ṫ, from the weight on</label></div>",
        '<div class="pg-buttons">'
        '<button type="button" id="step-reset" title="back to the start">↺ reset</button>'
        '<button type="button" id="step-back" title="one step back (←)">◀ back</button>'
        '<button type="button" class="pg-play" title="play (space)">▶ play</button>'
        '<button type="button" id="step-next" class="pg-primary" title="next step (→)">'
        "next ▶</button>"
        f'<span class="pg-step-count">step 0 of {steps}</span></div>',
        '<div class="pg-step-now" aria-live="polite"></div>',
        '<ol class="pg-step-list"></ol>',
        "</section>",
    ]
    out.append("<h2>Values</h2>")
    for kind, heading in (("input", "Inputs"), ("param", "Params")):
        group = [leaf for leaf in leaves if leaf["kind"] == kind]
        if not group:
            continue
        out.append(f"<h3>{heading}</h3>")
        for leaf in group:
            name = names[leaf["slot"]]
            ident = f"{prefix}leaf-{leaf['slot']}"
            value = "" if leaf["value"] is None else repr(leaf["value"])
            start = leaf["value"] if leaf["value"] is not None else 0.0
            cls = "pg-leaf pg-weight" if name == weight else "pg-leaf"
            out.append(
                f'<div class="{cls}"><label for="{ident}" title="{esc(name)}">'
                f"{_label_html(labels[name])}</label>"
                f'<input type="range" data-slider="{esc(name)}" min="{leaf["min"]!r}" '
                f'max="{leaf["max"]!r}" step="{leaf["step"]}" value="{start!r}" '
                f'aria-label="{esc(name)}" tabindex="-1"/>'
                f'<input type="number" id="{ident}" data-leaf="{esc(name)}" step="any" '
                f'value="{value}"/></div>')
    out.append('<button type="button" class="pg-reset-values">Reset all values</button>')
    out += ["</aside>", '<main class="pg-main">']
    out.append(f'<div class="pg-result">{grad} = <strong id="gradient" data-value="">…</strong> '
               f'<span class="pg-small">= the sum of the {n:,} path value'
               f'{"s" if n != 1 else ""} in the table = <span class="pg-path-sum">…</span>'
               "</span></div>")
    if svg is not None:
        out += [f'<figure class="pg-figure">{svg}</figure>',
                '<div class="pg-legend">Edge width: how much the paths through the edge add '
                f'to {grad}.<span class="pg-swatch" style="background:#d9480f"></span>'
                'they add (+)<span class="pg-swatch" style="background:#1c6fd1"></span>'
                'they subtract (−)<span class="pg-swatch" style="background:#b8bec5"></span>'
                f"not on a path from {w} to {lo}. Under each node: its value"
                + (", on each edge: its local partial" if "edge-label" in svg else "")
                + '; above it, once computed: its <span style="color:#5f3dc4">δ</span>.'
                "</div>",
                '<div class="pg-info" aria-live="polite"></div>']
    else:
        out.append(f"<p>(The network has {len(names):,} names, too many to draw here.)</p>")
    out.append('<div class="pg-selection" aria-live="polite"></div>'
               '<button type="button" class="pg-clear" hidden>Show all paths</button>')
    out += ["<h2>The paths</h2>",
            "<p>Each path contributes the product of the local partials along it (loss side "
            "first). Click a row to light its path and see its formula.</p>"]
    if not paths:
        out.append(f"<p>{lo} does not depend on {w}: no paths, so {grad} = 0.</p>")
    else:
        # rows are a grid of divs, not a <table>: with content-visibility the browser lays out
        # only the rows on screen, so a slider move stays fast with thousands of paths
        out += ['<div class="pg-paths" role="table" aria-label="the paths">',
                '<div class="pg-row pg-head" role="row"><span role="columnheader">#</span>'
                '<span role="columnheader">path</span>'
                '<span role="columnheader">local partials (loss side first)</span>'
                '<span role="columnheader">value</span><span role="columnheader">share</span>'
                "</div>"]
        arrow = " → "
        for i, p in enumerate(paths, 1):
            route = arrow.join(_label_html(labels[x]) for x in p)
            out.append(
                f'<div class="pg-row" role="row" data-path="{i}" data-value="" tabindex="0">'
                f'<span class="pg-n" role="cell">{i}</span>'
                f'<span class="pg-route" role="cell">{route}</span>'
                '<span class="pg-factors" role="cell"></span>'
                '<span class="pg-value" role="cell"></span><span class="pg-share" role="cell">'
                '<span class="pg-bar-box"><span class="pg-bar"></span></span>'
                '<span class="pg-pct"></span></span></div>')
        out.append("</div>")
    if explanation is not None:
        mark = "✓ verified" if explanation.verified else "✗ NOT VERIFIED"
        out.append(f'<p class="pg-check">{mark}: '
                   f"{esc(explanation.verdict)}.</p>")
    out.append('<p class="pg-check">The numbers are computed in this page, in double '
               "precision, by JavaScript that pathgrad generated from the same sympy "
               "expressions it differentiates.</p>")
    out += ["</main>", "</div>",
            f"<footer>Written by pathgrad from {esc(spec.source)}.</footer>", "</div>"]
    return "\n".join(out)


def fragment(live: Live) -> str:
    """The page's markup with its data, model, script and style: a piece of HTML that works
    inside another page (one per page: the step buttons have fixed ids)."""
    return "\n".join([
        f"<style>{style()}</style>",
        live.html,
        f'<script type="application/json" id="{live.prefix}data">{script_json(live.data)}'
        "</script>",
        f"<script>{_safe_script(script())}</script>",
        "<script>(function () {\n"
        f"var model = {live.model};\n"
        f'var root = document.getElementById("{live.prefix}live");\n'
        f'var data = JSON.parse(document.getElementById("{live.prefix}data").textContent);\n'
        "window.pathgradPage = PathgradLive.mount(root, data, model);\n"
        "})();</script>",
    ])


def _safe_script(code: str) -> str:
    if "</script" in code.lower() or "<!--" in code:
        raise ValueError("a script would end its <script> element early")
    return code


def page(spec: Spec | None = None, weight: str | None = None,
         values: Mapping[str, object] | None = None, *,
         explanation: Explanation | None = None, max_paths: int = DEFAULT_MAX_PATHS) -> str:
    """The interactive page as one self-contained HTML file.

    >>> from pathgrad import load
    >>> text = page(load("params: {w: 3}\\ninputs: {x: 2}\\nnodes: {E: (w*x)^2}"), "w")
    >>> 'data-leaf="w"' in text and 'id="gradient"' in text and 'data-path="1"' in text
    True
    """
    if explanation is None:
        if spec is None or weight is None:
            raise UsageError("page() needs a spec and a weight, or an explanation")
    live = build(spec, weight, values, explanation=explanation,  # type: ignore[arg-type]
                 max_paths=max_paths)
    name = explanation.spec.name if explanation is not None else spec.name  # type: ignore
    head = _html.escape(live.title + (f" — {name}" if name else ""))
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f"<title>{head}</title>", "</head>",
        '<body style="margin: 0; background: #ffffff;">',
        fragment(live),
        "</body>", "</html>"]) + "\n"


