"""HTML export: one self-contained page — MathML for the math (browsers render it natively),
an inline SVG of the network with the weight's paths in red, and a path table whose rows
light up their edges when hovered, focused or clicked. No scripts, fonts or styles are
loaded from anywhere; the page is well-formed XML as well as HTML.
"""

from __future__ import annotations

import hashlib
import html as _html
from collections.abc import Sequence

from ..analyses.explanation import Explanation
from ..analyses.toppaths import TopPaths
from ..calculus import tree_size
from . import formats, wording
from . import scene as sc
from .formats import Options
from .notation import MathMLPrinter, Notation, display_name
from .readable import Readable, readable
from .table import chain_numbers, grouped_paths, names_on_paths

__all__ = ["render", "MathML", "DIRECT_TREE_LIMIT"]

DIRECT_TREE_LIMIT = 2_000  # sympy's derivative larger than this is not printed
MathML = MathMLPrinter  # the printer lives with the other printers, in notation


def _math(inner: str, block: bool = False) -> str:
    return f'<math display="{"block" if block else "inline"}">{inner}</math>'


def _joined(parts: Sequence[str], op: str = "·") -> str:
    """Inline <math> pieces joined by an operator, so long products wrap between factors."""
    return f' <span class="op">{op}</span> '.join(_math(p) for p in parts)


CSS = """
.pathgrad { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
  margin: 1.5em auto; max-width: 78em; padding: 0 1.2em; line-height: 1.45;
  background: #ffffff; }
.pathgrad h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.pathgrad h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #d0d7de; }
.pathgrad .about { color: #57606a; margin-top: 0; }
.pathgrad figure { margin: 1em 0; overflow-x: auto; }
.pathgrad figcaption { color: #57606a; font-size: 0.9em; }
.pathgrad table { border-collapse: collapse; width: 100%; }
.pathgrad th, .pathgrad td { padding: 0.35em 0.6em; border-bottom: 1px solid #e5e7eb;
  vertical-align: top; text-align: left; }
.pathgrad th { background: #f6f8fa; }
.pathgrad td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pathgrad td.route { white-space: nowrap; color: #57606a; }
.pathgrad tr.path { cursor: pointer; }
.pathgrad tr.path:hover, .pathgrad tr.path.on, .pathgrad tr.path:focus {
  background: #fff1e0; outline: none; }
.pathgrad tr.group td { font-weight: bold; background: #fafafa; }
.pathgrad .neg { color: #b03a2e; }
.pathgrad .op { color: #57606a; }
.pathgrad math { font-size: 1.1em; }
.pathgrad .wide { overflow-x: auto; max-width: 100%; }
.pathgrad .numbers { color: #0b6e8a; font-size: 0.92em; white-space: nowrap; }
.pathgrad table.values td { border: none; padding: 0.1em 1.2em 0.1em 0; white-space: nowrap; }
.pathgrad .verdict { padding: 0.6em 0.9em; border-radius: 6px; }
.pathgrad .ok { background: #e6f4ea; color: #1e6b34; }
.pathgrad .bad { background: #fde2e1; color: #8b1a1a; }
.pathgrad svg .edge { transition: opacity 0.15s; }
.pathgrad svg.focus .edge { opacity: 0.18; }
.pathgrad svg.focus .edge.on { opacity: 1; stroke: #ff7f0e; stroke-width: 5px; }
.pathgrad footer { margin-top: 2em; color: #8c959f; font-size: 0.85em; }
"""

# no "<" or "&" here: the page must stay well-formed XML. Everything is looked up inside the
# script's own container, so several explanations can share a page (or a notebook).
SCRIPT = """
(function () {
  var root = document.currentScript ? document.currentScript.parentNode : document;
  var svg = root.querySelector("svg");
  var pinned = null;
  function show(row, on) {
    row.getAttribute("data-edges").split(" ").forEach(function (id) {
      var edge = id ? root.querySelector("#" + id) : null;
      if (edge) { edge.classList.toggle("on", on); }
    });
    row.classList.toggle("on", on);
    if (svg) { svg.classList.toggle("focus", on); }
  }
  function pin(row) {
    if (pinned) { show(pinned, false); }
    pinned = (pinned === row) ? null : row;
    if (pinned) { show(row, true); }
  }
  root.querySelectorAll("tr.path").forEach(function (row) {
    row.addEventListener("mouseenter", function () { if (!pinned) { show(row, true); } });
    row.addEventListener("mouseleave", function () { if (!pinned) { show(row, false); } });
    row.addEventListener("click", function () { pin(row); });
    row.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pin(row); }
    });
  });
  // page.html#path=2 opens with path 2 lit (without scrolling to it)
  var wanted = /path=([0-9]+)/.exec(location.hash);
  var start = wanted ? root.querySelector("tr.path[data-index='" + wanted[1] + "']") : null;
  if (start) { pin(start); }
})();
"""


def render(ex: Explanation | TopPaths, options: Options | None = None) -> str:
    """The explanation (or the top K paths) as one self-contained HTML page (MathML, inline
    SVG, no network).

    Everything sits in one `<div class="pathgrad">` with its styles scoped to it, so the
    same page also displays inside Jupyter (`api.Explanation._repr_html_`)."""
    opts = options or Options()
    top = isinstance(ex, TopPaths)
    spec = ex.spec
    mm = MathMLPrinter(spec)
    read = readable(ex) if opts.simplify else Readable()
    esc = _html.escape
    w, loss = ex.weight, ex.loss
    uw, uloss = display_name(spec, w, "unicode"), display_name(spec, loss, "unicode")
    hw, hloss = display_name(spec, w, "html"), display_name(spec, loss, "html")
    n = ex.path_count
    if top:
        title = f"the {len(ex.paths)} largest of {formats.count(n)} paths from {uw} to {uloss}"
        head = f"The {len(ex.paths):,} largest of {formats.count(n)} paths from {hw} to {hloss}"
    else:
        title = f"∂{uloss}/∂{uw}: {n:,} path{'s' if n != 1 else ''} from {uw} to {uloss}"
        head = (f"{_math(mm.leibniz(loss, w))} as a sum over {n:,} "
                f"path{'s' if n != 1 else ''}")
    # ids unique per explanation, stable across runs (no random ids in files people commit)
    key = f"{spec.source}|{spec.name}|{w}|{loss}|{n}|{top}".encode()
    prefix = "pg" + hashlib.sha1(key).hexdigest()[:8] + "-"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f"<title>{esc(title)}{esc(' — ' + spec.name) if spec.name else ''}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        '<body style="margin: 0; background: #ffffff;">',
        f'<div class="pathgrad" id="{prefix}page">',
        f"<h1>{head}</h1>",
    ]
    about = " — ".join(esc(x) for x in (spec.name, spec.description) if x)
    out.append(f'<p class="about">{about or esc(spec.source)}</p>')
    out += _values(ex, mm, opts)
    scene = None
    if len(spec.names) <= sc.MAX_DRAWN_NAMES:
        scene = sc.build(spec, ex.weight, "none", explanation=None if top else ex)
    out += _picture(ex, scene, prefix, read, opts)
    out += _table(ex, mm, scene, prefix, read, opts)
    out += _summary(ex, mm, read, opts)
    out.append(f"<footer>Written by pathgrad from {esc(spec.source)}.</footer>")
    out.append(f"<script>{SCRIPT}</script>")
    out += ["</div>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def _values(ex: Explanation | TopPaths, mm: MathMLPrinter, opts: Options) -> list[str]:
    """The point and the forward pass: every name's value, in display names."""
    spec = ex.spec
    items = [(n, float(v) if v is not None else None) for n, v in ex.values.items()]
    if isinstance(ex, Explanation):
        nodes = ex.node_values
    else:
        from .numbers import forward_values

        nodes = forward_values(spec, ex.values) if len(spec.nodes) <= 2_000 else {}
    items += [(n, nodes.get(n)) for n in spec.graph.order if n in spec.nodes and n in nodes]
    if len(items) > 120:
        on_paths = names_on_paths(ex)  # type: ignore[arg-type]
        items = [it for it in items if it[0] in on_paths][:120]
    if not items:
        return []
    cells = [_math(mm.name_markup(n) + "<mo>=</mo><mn>"
                   + _html.escape(formats.number(v, opts.digits)) + "</mn>")
             for n, v in items]
    rows = ["<tr>" + "".join(f"<td>{c}</td>" for c in cells[k:k + 6]) + "</tr>"
            for k in range(0, len(cells), 6)]
    return ["<h2>Values at the point</h2>",
            "<p>The leaves, then the nodes in the order they are computed (the forward "
            "pass).</p>", '<div class="wide"><table class="values">', *rows,
            "</table></div>"]


def _picture(ex: Explanation | TopPaths, scene: sc.Scene | None, prefix: str,
             read: Readable, opts: Options) -> list[str]:
    if scene is None:
        return [f"<p>(The network has {len(ex.spec.names):,} names, too many to draw here; "
                "<code>pathgrad graph</code> writes it as .dot or .mmd.)</p>"]
    from .drawing import svg
    from .numbers import edge_values

    # each edge's tooltip: its local partial, written out in display names, and its value
    note = Notation(ex.spec)
    net = ex.network
    titles = {}
    if net is not None:
        lit = [(e.u, e.v) for e in scene.edges if e.lit]
        values = edge_values(ex.spec, ex.values, lit)
        for u, v in lit:
            val = values[(u, v)]
            name = display_name(ex.spec, v, "unicode"), display_name(ex.spec, u, "unicode")
            partial = read.factor(net.local_partial(u, v))
            titles[(u, v)] = f"∂{name[0]}/∂{name[1]} = {note.unicode(partial)}" + (
                f" = {formats.number(val, opts.digits)}" if val is not None else "")
    hw = display_name(ex.spec, ex.weight, "html")
    hloss = display_name(ex.spec, ex.loss, "html")
    which = "the largest paths" if isinstance(ex, TopPaths) else "every path"
    return ["<figure>", svg(scene, standalone=False, prefix=prefix, titles=titles),
            f"<figcaption>In red: {which} from {hw} to {hloss}. Hover over, focus or click a "
            "row below to light up its path.</figcaption>", "</figure>"]


def _table(ex: Explanation | TopPaths, mm: MathMLPrinter, scene: sc.Scene | None,
           prefix: str, read: Readable, opts: Options) -> list[str]:
    esc = _html.escape
    spec = ex.spec
    if not ex.paths:
        hw, hloss = display_name(spec, ex.weight, "html"), display_name(spec, ex.loss, "html")
        return [f"<p>{hloss} does not depend on {hw}: there are no paths, "
                f"so {_math(mm.leibniz(ex.loss, ex.weight) + '<mo>=</mo><mn>0</mn>')}.</p>"]
    edge_ids = {e: f"{prefix}e{i}" for e, i in scene.edge_index().items()} if scene else {}
    values = {}
    if opts.numbers:
        from .numbers import edge_values

        edges = {(u, v) for p in ex.paths for u, v in zip(p.nodes, p.nodes[1:])}
        values = edge_values(spec, ex.values, sorted(edges))
    out = ["<h2>The paths</h2>",
           "<p>Each path contributes the product of the local partial derivatives along it, "
           "written from the loss side back to the weight.</p>",
           '<div class="wide"><table class="paths">',
           "<thead><tr><th>#</th><th>path</th><th>chain (loss side first)</th>"
           "<th>local partials</th><th>value</th><th>share</th></tr></thead>",
           "<tbody>"]
    for i, p, header in grouped_paths(ex):  # type: ignore[arg-type]
        if header is not None:
            out.append(f'<tr class="group"><td></td><td colspan="5">{esc(header)}</td></tr>')
        steps = p.factors_loss_first()
        chain = _joined([mm.leibniz(v, u) for v, u, _ in steps])
        partials = _joined([mm.factor(read.factor(f)) for _, _, f in steps])
        if opts.numbers:
            nums = chain_numbers(p, values, opts.digits)
            if nums:
                partials += (f'<div class="numbers">= {esc(" · ".join(nums))} = '
                             f"{esc(formats.number(p.value, opts.digits))}</div>")
        ids = " ".join(edge_ids.get((u, v), "") for u, v in zip(p.nodes, p.nodes[1:]))
        route = " → ".join(display_name(spec, x, "html") for x in p.nodes)
        value = esc(formats.number(p.value, opts.digits)) if p.value is not None else \
            esc(p.note or "—")
        neg = ' neg' if (p.value or 0) < 0 else ""
        share = formats.percent(p.share)
        out.append(
            f'<tr class="path" data-index="{i}" data-edges="{ids}" tabindex="0">'
            f'<td class="num">{i}</td><td class="route">{route}</td>'
            f"<td>{chain}</td><td>{partials}</td>"
            f'<td class="num{neg}">{value}</td><td class="num">{share}</td></tr>')
    out += ["</tbody>", "</table></div>"]
    return out


def _summary(ex: Explanation | TopPaths, mm: MathMLPrinter, read: Readable,
             opts: Options) -> list[str]:
    esc = _html.escape
    top = isinstance(ex, TopPaths)
    lhs = mm.leibniz(ex.loss, ex.weight)
    out = ["<h2>The sum over paths</h2>" if not top else "<h2>What these paths add up to</h2>"]
    if ex.paths:
        terms = []
        for p in ex.paths[:200]:
            factors = "<mo>·</mo>".join(mm.factor(read.factor(f))
                                        for _, _, f in p.factors_loss_first())
            terms.append(f"<mrow>{factors}</mrow>")
        more = len(ex.paths) - len(terms)
        body = _joined(terms, "+")
        if more > 0:
            body += f' <span class="op">+ … ({more:,} more paths, listed above)</span>'
        start = _math(lhs + "<mo>=</mo>") if not top else ""
        out.append(f"<p>{start} {body}</p>")
        if len(ex.paths) > 1 and all(p.value is not None for p in ex.paths[:200]):
            nums = formats.number(ex.paths[0].value, opts.digits) + "".join(
                f" {'−' if p.value < 0 else '+'} "  # type: ignore[operator]
                f"{formats.number(abs(p.value), opts.digits)}"  # type: ignore[arg-type]
                for p in ex.paths[1:200])
            out.append(f"<p>= {esc(nums)}{' + …' if more > 0 else ''}</p>")
    if top:
        if ex.covered is not None:
            out.append(f"<p><strong>= {esc(formats.number(ex.covered, opts.digits))}</strong>"
                       f" = {esc(formats.percent(ex.share))} of {_math(lhs)}</p>")
        out.append(f'<p class="verdict ok">Over all {formats.count(ex.path_count)} paths '
                   f"(reverse-mode accumulation, without listing them): {_math(lhs)} = "
                   f"{esc(formats.number(ex.value, opts.digits))}</p>")
        return out
    if ex.value is not None:
        out.append(f"<p><strong>= {esc(formats.number(ex.value, opts.digits))}</strong></p>")
    elif ex.value_note:
        out.append(f"<p>No value at this point: {esc(ex.value_note)}</p>")
    out.append("<h2>Check</h2>")
    expr = read.direct if read.direct is not None else ex.direct_names
    if ex.direct_computed and tree_size(expr, DIRECT_TREE_LIMIT) <= DIRECT_TREE_LIMIT:
        simplified = " and simplified for reading (proved equal)" \
            if read.direct is not None else ""
        before, after = ex.direct_label_parts
        out.append(f"<p>{esc(before)}{display_name(ex.spec, ex.loss, 'html')}{esc(after)}, "
                   f"written in the network's names{simplified}:</p>")
        out.append('<div class="wide">' + _math(lhs + "<mo>=</mo>" + mm.markup(expr),
                                                block=True) + "</div>")
    else:
        out.append(f"<p>{esc(ex.direct_note)}.</p>")
    v = ex.verification
    words = wording.verdict(v, ex.direct_computed, "html")
    if v.verified:
        out.append('<p class="verdict ok">✓ verified: the sum over paths equals the direct '
                   f"derivative; {words}.</p>")
    else:
        out.append(f'<p class="verdict bad">✗ {words}</p>')
    return out
