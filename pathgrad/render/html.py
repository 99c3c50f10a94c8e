"""HTML export: one self-contained page — MathML for the math (browsers render it natively),
an inline SVG of the network with the weight's paths in red, and a path table whose rows
light up their edges when hovered, focused or clicked. No scripts, fonts or styles are
loaded from anywhere; the page is well-formed XML as well as HTML.
"""

from __future__ import annotations

import hashlib
import html as _html
import re
from collections.abc import Sequence

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter

from ..analyses.explanation import Explanation
from ..calculus import tree_size
from ..spec import Spec
from . import scene as sc
from .notation import factor_rank
from .table import grouped_paths, number, percent

__all__ = ["render", "MathML", "DIRECT_TREE_LIMIT"]

DIRECT_TREE_LIMIT = 2_000  # sympy's derivative larger than this is not printed

_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _xml_safe(markup: str) -> str:
    """Named entities (&ExponentialE;) are not XML: write the characters themselves."""
    def sub(m: re.Match[str]) -> str:
        if m.group(1) in ("amp", "lt", "gt", "quot", "apos"):
            return m.group(0)
        ch = _html.unescape(m.group(0))
        return _html.escape(ch) if ch != m.group(0) else "?"

    return _ENTITY.sub(sub, markup).replace("<mo>-</mo>", "<mo>−</mo>")


class MathML(MathMLPresentationPrinter):
    """sympy's presentation MathML with the spec's display names, σ for sigmoid, [z > 0] for
    the step, and factors in textbook order (as in the terminal and LaTeX)."""

    def __init__(self, spec: Spec) -> None:
        super().__init__({"order": "none", "mul_symbol": "dot"})
        self.spec = spec
        self.rank = factor_rank(spec)
        self._cache: dict[sp.Basic, str] = {}
        self._labels: dict[str, sc.Label] = {}

    def el(self, tag: str, *children: object, text: str | None = None, **attrs: str) -> object:
        node = self.dom.createElement(tag)
        for k, v in attrs.items():
            node.setAttribute(k, v)
        if text is not None:
            node.appendChild(self.dom.createTextNode(_html.escape(text, quote=False)))
        for c in children:
            node.appendChild(c)
        return node

    def name(self, n: str) -> object:
        """A name as MathML: base with subscript/superscript from its display name."""
        if n not in self._labels:
            self._labels[n] = sc.label_of(self.spec, n)
        lab = self._labels[n]
        attrs = {"mathvariant": "normal"} if lab.upright and len(lab.base) == 1 else {}
        base = self.el("mi", text=lab.base, **attrs)

        def script(s: str) -> object:
            return self.el("mn" if s.replace(",", "").isdigit() else "mi", text=s)

        if lab.sub and lab.sup:
            return self.el("msubsup", base, script(lab.sub), script(lab.sup))
        if lab.sub:
            return self.el("msub", base, script(lab.sub))
        if lab.sup:
            return self.el("msup", base, script(lab.sup))
        return base

    def _print_Symbol(self, sym: sp.Symbol, style: str = "plain") -> object:
        return self.name(sym.name)

    def _print_sigmoid(self, e: sp.Basic) -> object:
        return self.el("mrow", self.el("mi", text="σ"), self._paren_comma_separated(*e.args))

    def _print_Heaviside(self, e: sp.Basic) -> object:
        return self.el("mrow", self.el("mo", text="["), self._print(e.args[0]),
                       self.el("mo", text=">"), self.el("mn", text="0"), self.el("mo", text="]"))

    def _print_Mul(self, expr: sp.Mul) -> object:
        if expr.could_extract_minus_sign():
            return self.el("mrow", self.el("mo", text="−"), self._product(-expr))
        return self._product(expr)

    def _product(self, expr: sp.Expr) -> object:
        num, den = sp.fraction(expr)
        if den != 1:
            return self.el("mfrac", self._print(num), self._print(den))
        coeff, rest = expr.as_coeff_Mul()
        factors = sorted(sp.Mul.make_args(rest), key=self.rank)
        if coeff != 1:
            factors.insert(0, coeff)
        if len(factors) == 1:
            return self._print(factors[0])
        row = self.el("mrow")
        for i, f in enumerate(factors):
            if i:
                row.appendChild(self.el("mo", text="·"))
            row.appendChild(self.parenthesize(f, sp.printing.precedence.PRECEDENCE["Mul"]))
        return row

    def markup(self, expr: sp.Basic) -> str:
        """The MathML of `expr` (without the <math> element), printed once per expression."""
        if expr not in self._cache:
            self._cache[expr] = _xml_safe(self.doprint(expr))
        return self._cache[expr]

    def factor(self, expr: sp.Basic) -> str:
        """A local partial as a factor: sums and negatives in parentheses."""
        inner = self.markup(expr)
        if isinstance(expr, sp.Add) or expr.could_extract_minus_sign():
            return f"<mrow><mo>(</mo>{inner}<mo>)</mo></mrow>"
        return inner

    def leibniz(self, v: str, u: str) -> str:
        top = self.el("mrow", self.el("mo", text="∂"), self.name(v))
        bottom = self.el("mrow", self.el("mo", text="∂"), self.name(u))
        return _xml_safe(self.el("mfrac", top, bottom).toxml())  # type: ignore[attr-defined]


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


def render(ex: Explanation) -> str:
    """The explanation as one self-contained HTML page (MathML, inline SVG, no network).

    Everything sits in one `<div class="pathgrad">` with its styles scoped to it, so the
    same page also displays inside Jupyter (`Explanation._repr_html_`)."""
    spec = ex.spec
    mm = MathML(spec)
    esc = _html.escape
    w, loss = ex.weight, ex.loss
    n = ex.path_count
    title = f"∂{loss}/∂{w}: {n:,} path{'s' if n != 1 else ''} from {w} to {loss}"
    # ids unique per explanation, stable across runs (no random ids in files people commit)
    key = f"{spec.source}|{spec.name}|{w}|{loss}|{n}".encode()
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
        f"<h1>{_math(mm.leibniz(loss, w))} as a sum over {n:,} path{'s' if n != 1 else ''}"
        "</h1>",
    ]
    about = " — ".join(esc(x) for x in (spec.name, spec.description) if x)
    out.append(f'<p class="about">{about or esc(spec.source)}</p>')
    scene = None
    if len(spec.names) <= sc.MAX_DRAWN_NAMES:
        scene = sc.build(spec, ex.weight, "none", explanation=ex)
    out += _picture(ex, scene, prefix)
    out += _table(ex, mm, scene, prefix)
    out += _summary(ex, mm)
    out.append(f"<footer>Written by pathgrad from {esc(spec.source)}.</footer>")
    out.append(f"<script>{SCRIPT}</script>")
    out += ["</div>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def _picture(ex: Explanation, scene: sc.Scene | None, prefix: str) -> list[str]:
    if scene is None:
        return [f"<p>(The network has {len(ex.spec.names):,} names, too many to draw here; "
                "<code>pathgrad graph</code> writes it as .dot or .mmd.)</p>"]
    from .drawing import svg
    from .notation import Notation

    # each edge's tooltip: its local partial, written out, and its value at the point
    note = Notation(ex.spec)
    net = ex.network
    titles = {}
    if net is not None:
        lit = [(e.u, e.v) for e in scene.edges if e.lit]
        values = sc.edge_values(net, ex.values, lit)
        for u, v in lit:
            val = values[(u, v)]
            titles[(u, v)] = f"∂{v}/∂{u} = {note.pretty(net.local_partial(u, v))}" + (
                f" = {number(val)}" if val is not None else "")
    return ["<figure>", svg(scene, standalone=False, prefix=prefix, titles=titles),
            f"<figcaption>In red: every path from {_html.escape(ex.weight)} to "
            f"{_html.escape(ex.loss)}. Hover over, focus or click a row below to light up "
            "its path.</figcaption>", "</figure>"]


def _table(ex: Explanation, mm: MathML, scene: sc.Scene | None, prefix: str) -> list[str]:
    esc = _html.escape
    if not ex.paths:
        return [f"<p>{esc(ex.loss)} does not depend on {esc(ex.weight)}: there are no paths, "
                f"so ∂{esc(ex.loss)}/∂{esc(ex.weight)} = 0.</p>"]
    edge_ids = {e: f"{prefix}e{i}" for e, i in scene.edge_index().items()} if scene else {}
    out = ["<h2>The paths</h2>",
           "<p>Each path contributes the product of the local partial derivatives along it, "
           "written from the loss side back to the weight.</p>",
           '<table class="paths">',
           "<thead><tr><th>#</th><th>path</th><th>chain (loss side first)</th>"
           "<th>local partials</th><th>value</th><th>share</th></tr></thead>",
           "<tbody>"]
    for i, p, header in grouped_paths(ex):
        if header is not None:
            out.append(f'<tr class="group"><td></td><td colspan="5">{esc(header)}</td></tr>')
        steps = p.factors_loss_first()
        chain = _joined([mm.leibniz(v, u) for v, u, _ in steps])
        partials = _joined([mm.factor(f) for _, _, f in steps])
        ids = " ".join(edge_ids.get((u, v), "") for u, v in zip(p.nodes, p.nodes[1:]))
        value = number(p.value) if p.value is not None else esc(p.note or "—")
        neg = ' neg' if (p.value or 0) < 0 else ""
        share = percent(p.share)
        out.append(
            f'<tr class="path" data-index="{i}" data-edges="{ids}" tabindex="0">'
            f'<td class="num">{i}</td><td class="route">{esc(" → ".join(p.nodes))}</td>'
            f"<td>{chain}</td><td>{partials}</td>"
            f'<td class="num{neg}">{value}</td><td class="num">{share}</td></tr>')
    out += ["</tbody>", "</table>"]
    return out


def _summary(ex: Explanation, mm: MathML) -> list[str]:
    esc = _html.escape
    lhs = mm.leibniz(ex.loss, ex.weight)
    out = ["<h2>The sum over paths</h2>"]
    if ex.paths:
        terms = []
        for p in ex.paths[:200]:
            factors = "<mo>·</mo>".join(mm.factor(f) for _, _, f in p.factors_loss_first())
            terms.append(f"<mrow>{factors}</mrow>")
        more = len(ex.paths) - len(terms)
        body = _joined(terms, "+")
        if more > 0:
            body += f' <span class="op">+ … ({more:,} more paths, listed above)</span>'
        out.append(f"<p>{_math(lhs + '<mo>=</mo>')} {body}</p>")
        if len(ex.paths) > 1 and all(p.value is not None for p in ex.paths[:200]):
            nums = number(ex.paths[0].value) + "".join(
                f" {'−' if p.value < 0 else '+'} {number(abs(p.value))}"  # type: ignore
                for p in ex.paths[1:200])
            out.append(f"<p>= {esc(nums)}{' + …' if more > 0 else ''}</p>")
    if ex.value is not None:
        out.append(f"<p><strong>= {esc(number(ex.value))}</strong> at the point "
                   f"{esc(_point(ex))}</p>")
    elif ex.value_note:
        out.append(f"<p>No value at this point: {esc(ex.value_note)}</p>")
    out.append("<h2>Check</h2>")
    if ex.direct_computed and tree_size(ex.direct_names, DIRECT_TREE_LIMIT) <= DIRECT_TREE_LIMIT:
        out.append(f"<p>sympy's derivative of the composed {esc(ex.loss)}, written in the "
                   "network's names:</p>")
        out.append(_math(lhs + "<mo>=</mo>" + mm.markup(ex.direct_names), block=True))
    else:
        out.append(f"<p>{esc(ex.direct_note)}.</p>")
    v = ex.verification
    if v.verified:
        out.append(f'<p class="verdict ok">✓ verified: {esc(ex.verdict)}</p>')
    else:
        out.append(f'<p class="verdict bad">✗ NOT VERIFIED: {esc(v.detail)}</p>')
    return out


def _point(ex: Explanation) -> str:
    items = [f"{n} = {number(float(v))}" for n, v in ex.values.items() if v is not None]
    return ", ".join(items[:40]) + (", …" if len(items) > 40 else "")
