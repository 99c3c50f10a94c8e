"""`pathgrad matrix --format html`: one self-contained page (nothing loaded from the network):
BP1–BP4 in MathML with the matrices as `<mtable>`s, and the bridge's paths in a table
grouped by the unit they pass next. Well-formed XML as well as HTML; everything inside one
`<div class="pathgrad">`, so it also displays inside Jupyter."""

from __future__ import annotations

import html as _html
from collections.abc import Sequence

import sympy as sp

from ..analyses.matrix import Bridge, Layer, MatrixForm
from ..verify.methods import Verification
from .formats import count, number
from .html import CSS
from .matrix_latex import with_deltas
from .matrix_table import MATRIX_MAX, UNITS_MAX, _Printer, _shared, entry, sup
from .notation import MathMLPrinter

__all__ = ["render", "fragment", "mtable", "column", "math", "mo", "mn", "page", "ending",
           "EXTRA_CSS"]

EXTRA_CSS = """
.pathgrad .eq { overflow-x: auto; overflow-y: hidden; margin: 0.4em 0 0.4em 1.5em;
  padding: 0.2em 0; }
.pathgrad .bp { font-weight: bold; color: #57606a; margin-right: 0.6em; }
.pathgrad tr.sum td { font-weight: bold; background: #f6f8fa; }
.pathgrad .note { color: #57606a; }
.pathgrad th.num { text-align: right; }
"""


def _printer(mf: MatrixForm) -> MathMLPrinter:
    return MathMLPrinter(with_deltas(mf.spec, [(x.layer, x.units) for x in mf.layers]))


def _m(inner: str, block: bool = False) -> str:
    return f'<math display="{"block" if block else "inline"}">{inner}</math>'


def _mo(op: str) -> str:
    return f"<mo>{_html.escape(op)}</mo>"


def _mn(x: float | None) -> str:
    text = number(x)
    return f"<mn>{_html.escape(text)}</mn>"


def mtable(rows: Sequence[Sequence[str]]) -> str:
    """A bracketed matrix of MathML cells."""
    body = "".join("<mtr>" + "".join(f"<mtd>{c}</mtd>" for c in r) + "</mtr>" for r in rows)
    return f"<mrow><mo>[</mo><mtable>{body}</mtable><mo>]</mo></mrow>"


def _col(cells: Sequence[str]) -> str:
    return mtable([[c] for c in cells])


column, math, mo, mn = _col, _m, _mo, _mn  # public: the rnn page is written with them


def _sym(text: str, l: int | None = None, t: bool = False) -> str:  # noqa: E741
    """A vector or matrix name with its layer as a superscript, e.g. W^(2), optionally ᵀ."""
    base = f"<mi>{_html.escape(text)}</mi>"
    if l is None:
        return base
    paren = '<mo stretchy="false">%s</mo>'
    out = f"<msup>{base}<mrow>{paren % '('}<mn>{l}</mn>{paren % ')'}</mrow></msup>"
    if t:
        out = f"<msup><mrow>{paren % '('}{out}{paren % ')'}</mrow><mi>T</mi></msup>"
    return out


def _draw(layer: Layer) -> bool:
    return layer.units <= MATRIX_MAX and layer.fan_in <= MATRIX_MAX


def _layer(mf: MatrixForm, layer: Layer, mm: MathMLPrinter, pr: _Printer) -> list[str]:
    L = len(mf.layers)  # noqa: N806
    l = layer.layer  # noqa: E741
    n, m = layer.units, layer.fan_in
    esc = _html.escape
    out = [f"<h2>Layer {l}{' (the output layer)' if l == L else ''}: {n} "
           f"{esc(layer.activation)} unit{'s' * (n != 1)}</h2>",
           f'<p class="note">W{sup(l)} is {n}×{m}, a{sup(l - 1)} is {m}×1, δ{sup(l)} is '
           f"{n}×1.</p>"]
    deltas = [mm.markup(d) for d in layer.delta]
    E = mm.name_markup(mf.loss)  # noqa: N806
    if l == L:
        if mf.softmax:
            ys = _mo("+").join(mm.name_markup(y) for y in mf.targets)
            head = (_sym("δ", l) + _mo("=") + _sym("a", l) + ("" if mf.delta_note else
                    "<mo>·</mo><mrow><mo>(</mo>" + ys + "<mo>)</mo></mrow>")
                    + _mo("−") + "<mi>y</mi>")
            label = "BP1 (softmax + cross-entropy)"
            eq = (_col(deltas) + _mo("=") + _col([mm.markup(e) for e in layer.shown_delta_expr])
                  if _draw(layer) else None)
        else:
            head = (_sym("δ", l) + _mo("=") + "<msub><mo>∇</mo><mi>a</mi></msub>" + E
                    + _mo("⊙") + "<mi>σ</mi><mo>′</mo><mrow><mo>(</mo>" + _sym("z", l)
                    + "<mo>)</mo></mrow>")
            label = "BP1"
            eq = (_col(deltas) + _mo("=") + _col([mm.markup(e) for e in mf.grad_a]) + _mo("⊙")
                  + _col([mm.markup(e) for e in layer.sigma_prime])  # type: ignore[union-attr]
                  if _draw(layer) and layer.sigma_prime is not None else None)
    else:
        nxt = mf.layers[l]
        head = (_sym("δ", l) + _mo("=") + "<mrow><mo>(</mo>" + _sym("W", l + 1, t=True)
                + _sym("δ", l + 1) + "<mo>)</mo></mrow>" + _mo("⊙")
                + "<mi>σ</mi><mo>′</mo><mrow><mo>(</mo>" + _sym("z", l) + "<mo>)</mo></mrow>")
        label = "BP2"
        eq = None
        if _draw(layer) and nxt.units <= MATRIX_MAX and layer.sigma_prime is not None:
            wt = mtable([[mm.markup(nxt.W[i, j]) for i in range(nxt.units)] for j in range(n)])
            eq = (_col(deltas) + _mo("=") + wt + _col([mm.markup(d) for d in nxt.delta])
                  + _mo("⊙") + _col([mm.markup(e) for e in layer.sigma_prime]))
    out.append(f'<div class="eq"><span class="bp">{label}</span>{_m(head)}</div>')
    if eq is not None:
        values = _col([_mn(x) for x in layer.delta_values])
        out.append(f'<div class="eq">{_m(eq + _mo("=") + values, block=True)}</div>')
    if l == L and mf.softmax and mf.delta_note:
        ys = " + ".join(esc(y) for y in mf.targets)
        out.append(f'<p class="note">Why a{sup(l)} − y: a{sup(l)}·({ys}) − y is exact for any '
                   f"targets, and here {ys} = 1 (the targets are numbers adding up to 1).</p>")
    if l < L:
        out.append(f'<p class="note">Row j of (W{sup(l + 1)})ᵀ: the weights that leave unit j '
                   f"of layer {l}, in the order of the unit of layer {l + 1} they enter.</p>")
    rows = ["<table><thead><tr><th>δ</th><th>in node names</th><th>value</th>"
            "<th>paths to the loss</th></tr></thead><tbody>"]
    for j in range(min(n, UNITS_MAX)):
        rows.append(f"<tr><td>{_m(deltas[j])}</td><td>{_m(mm.markup(layer.shown_delta_expr[j]))}"
                    f'</td><td class="num">{esc(number(layer.delta_values[j]))}</td>'
                    f'<td class="num">{esc(count(layer.paths_per_delta[j]))}</td></tr>')
    rows.append("</tbody></table>")
    out += rows
    if n > UNITS_MAX:
        out.append(f'<p class="note">… and {n - UNITS_MAX:,} more (JSON has every δ).</p>')
    if layer.bias_mode == "unit":
        out.append(f"<p>BP3: ∂{esc(mf.loss)}/∂b{l}_j = δ{l}_j.</p>")
    elif layer.bias_mode == "layer":
        out.append(f"<p>BP3 (one bias for the layer): ∂{esc(mf.loss)}/∂b{l} = Σ_j δ{l}_j = "
                   f"{esc(number(layer.grad_b))}.</p>")  # type: ignore[arg-type]
    head = ("<mfrac><mrow><mo>∂</mo>" + E + "</mrow><mrow><mo>∂</mo>" + _sym("W", l)
            + "</mrow></mfrac>" + _mo("=") + _sym("δ", l) + _sym("a", l - 1, t=True))
    out.append(f'<div class="eq"><span class="bp">BP4</span>{_m(head)}</div>')
    if _draw(layer):
        sym = mtable([[mm.markup(layer.a_prev[k]) + "<mo>·</mo>" + deltas[j] for k in range(m)]
                      for j in range(n)])
        num = mtable([[_mn(x) for x in row] for row in layer.grad_W])
        out.append(f'<div class="eq">{_m(sym + _mo("=") + num, block=True)}</div>')
    return out


def _bridge(mf: MatrixForm, br: Bridge, mm: MathMLPrinter, pr: _Printer) -> list[str]:
    esc = _html.escape
    L = len(mf.layers)  # noqa: N806
    l, j = br.layer, br.row  # noqa: E741
    n = br.path_count
    out = [f"<h2>The bridge: ∂{esc(mf.loss)}/∂{esc(br.param)} as a sum over its paths</h2>"]
    out.append(f"<p>{esc(entry(mf, br, pr))} = {esc(number(br.value))}: the sum over its "
               f"{esc(count(n))} path{'s' * (n != 1)} to {esc(mf.loss)}, grouped by the unit "
               "each path passes next.</p>")
    shared = _shared(mf, br, pr)
    out += ["<table><thead><tr><th>next unit</th><th>#</th><th>path</th>"
            "<th>local partials (weight side first)</th><th>value</th></tr></thead><tbody>"]
    k = 0
    for g in br.groups:
        label = esc(g.node + (f" via {pr(g.edge)}" if g.edge is not None else ""))
        for i, p in enumerate(g.paths):
            k += 1
            partials = " · ".join(pr.factor(f) for f in p.factors)
            out.append(f"<tr><td>{label if i == 0 else ''}</td><td>{k}</td>"
                       f'<td class="route">{esc(" → ".join(p.nodes))}</td>'
                       f'<td>{esc(partials)}</td><td class="num">{esc(number(p.value))}</td></tr>')
        term = " · ".join([*shared, pr.factor(g.term) if shared else pr(g.term)])
        out.append(f'<tr class="sum"><td>{"" if g.paths else label}</td><td></td>'
                   f"<td>group: {esc(count(g.count))} path{'s' * (g.count != 1)}</td>"
                   f'<td>{esc(term)}</td><td class="num">{esc(number(g.value))}</td></tr>')
    out.append("</tbody></table>")
    if l < L and br.kind != "layer bias":
        nxt = mf.layers[l]
        inner = sp.Add(*(g.term for g in br.groups))
        ws = ", ".join(str(nxt.W[i, j - 1]) for i in range(nxt.units))  # type: ignore[operator]
        out.append(f"<p>Sum: {esc(' · '.join([*shared, '(' + pr(inner) + ')']))} = "
                   f"{esc(entry(mf, br, pr))} = {esc(number(br.value))}</p>")
        out.append(f"<p><em>Where the transpose comes from:</em> row {j} of (W{sup(l + 1)})ᵀ is "
                   f"({esc(ws)}), column {j} of W{sup(l + 1)}: the weights that leave unit {j} "
                   f"of layer {l}, sorted by the unit of layer {l + 1} they go to next. Each row "
                   "of the transpose is the paths that leave unit j, sorted by where they go "
                   f"next, so ((W{sup(l + 1)})ᵀ δ{sup(l + 1)})<sub>{j}</sub> adds up exactly the "
                   f"groups of the table, and ⊙ σ′(z{sup(l)}) is the edge they all share.</p>")
    listing = br.listing_multiplications
    out.append("<p>" + esc((f"Multiplications: listing its {count(n)} paths, "
                            f"{count(listing)}; " if listing is not None else
                            "Multiplications: ")
                           + f"from the δ's of the layer above, {br.matrix_multiplications}.")
               + "</p>")
    return out


def fragment(mf: MatrixForm) -> str:
    """The `<div class="pathgrad">` with its styles, for Jupyter or a page of your own."""
    esc = _html.escape
    mm = _printer(mf)
    pr = _Printer(mf)
    title = mf.spec.name or mf.spec.source
    out = ['<div class="pathgrad">', f"<style>{CSS}{EXTRA_CSS}</style>",
           f"<h1>Backprop in matrix form: {esc(title)}</h1>",
           f'<p class="about">Convention: {esc(mf.convention)}.</p>',
           f"<p>{esc(mf.loss)} = {esc(number(mf.loss_value))} at the point; the equations run "
           "from the loss down to layer 1.</p>"]
    for layer in reversed(mf.layers):
        out += _layer(mf, layer, mm, pr)
    out.append(f"<p>Multiplications for the whole gradient: the matrix form "
               f"{esc(count(mf.matrix_multiplications))}, listing every path of every param "
               f"{esc(count(mf.listing_multiplications))}.</p>")
    if mf.bridge is not None:
        out += _bridge(mf, mf.bridge, mm, pr)
    out += ending(mf.verification, mf.spec.source)
    return "\n".join(out)


def page(title: str, body: str) -> str:
    """A self-contained page around a fragment (the mlp's and the rnn's)."""
    return "\n".join(['<!DOCTYPE html>', '<html lang="en">', "<head>",
                      '<meta charset="utf-8"/>',
                      '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
                      f"<title>{_html.escape(title)}</title>", "</head>",
                      '<body style="margin: 0; background: #ffffff;">', body,
                      "</body>", "</html>"]) + "\n"


def ending(v: Verification, source: str) -> list[str]:
    """The verdict and the footer, then the fragment's closing tag."""
    cls, mark = ("ok", "✓ verified") if v.verified else ("bad", "✗ NOT VERIFIED")
    return [f'<p class="verdict {cls}">{mark}: {_html.escape(v.detail)}</p>',
            f"<footer>Written by pathgrad from {_html.escape(source)}.</footer>", "</div>"]


def render(mf: MatrixForm) -> str:
    """One self-contained page."""
    return page(f"Backprop in matrix form — {mf.spec.name or mf.spec.source}", fragment(mf))
