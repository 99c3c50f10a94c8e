"""`pathgrad matrix --format html` for an rnn: backprop through time in MathML, the matrices
as `<mtable>`s, each step's terms, the totals and the bridge's table (steps, then the node
each path passes next). Self-contained, well-formed XML, inside one `<div class="pathgrad">`."""

from __future__ import annotations

import html as _html
from typing import Any

from ..analyses.matrix_bptt import BPTTForm, Step
from .formats import count, number
from .html import CSS
from .matrix_bptt_latex import notation, shaped
from .matrix_html import EXTRA_CSS, column, ending, math, mn, mo, mtable, page
from .matrix_table import MATRIX_MAX
from .notation import MathMLPrinter

__all__ = ["render", "fragment"]


def _printer(bt: BPTTForm) -> MathMLPrinter:
    return MathMLPrinter(notation(bt).spec)  # the same display names as the LaTeX


def _values(vals: Any) -> str:
    return shaped(vals, mn, mtable, column)


def _names(names: Any, mm: MathMLPrinter) -> str:
    return shaped(names, mm.name_markup, mtable, column)


def _step(bt: BPTTForm, s: Step, mm: MathMLPrinter) -> list[str]:
    esc = _html.escape
    T = len(bt.steps)  # noqa: N806
    t, H = s.step, s.units  # noqa: N806
    terms = ([f"Wᵀ δ_{t + 1}"] if t < T else []) + ([f"v g_{t}"] if s.out_grad is not None
                                                     else [])
    out = [f"<h2>Step {t}{' (the last)' if t == T else ''}</h2>",
           f'<div class="eq"><span class="bp">BPTT</span>δ_{t} = ({esc(" + ".join(terms) or "0")})'
           f" ⊙ {esc(bt.activation)}′(z_{t})</div>"]
    if H <= MATRIX_MAX:
        deltas = column([mm.markup(d) for d in s.delta])
        parts = []
        if t < T:
            parts.append(mtable([[mm.markup(s.W[j, i]) for j in range(H)] for i in range(H)])
                         + column([mm.markup(d) for d in bt.steps[t].delta]))
        if s.out_grad is not None:
            parts.append(column([mm.markup(x) for x in s.v]) + f"<msub><mi>g</mi><mn>{t}</mn>"
                         "</msub>")
        eq = (deltas + mo("=") + "<mrow><mo>(</mo>" + mo("+").join(parts or [mn(0.0)])
              + "<mo>)</mo></mrow>" + mo("⊙") + column([mm.markup(e) for e in s.act_prime])
              + mo("=") + _values(list(s.delta_values)))
        out.append(f'<div class="eq">{math(eq, block=True)}</div>')
    if s.out_grad is not None:
        out.append(f"<p>g_{t} = ∂{esc(bt.loss)}/∂o{t} = {math(mm.markup(s.out_grad))} = "
                   f"{esc(number(s.out_grad_value))}</p>")
    rows = ["<table><thead><tr><th>δ</th><th>in node names</th><th>value</th>"
            "<th>paths to the loss</th></tr></thead><tbody>"]
    for i in range(H):
        rows.append(f"<tr><td>{math(mm.markup(s.delta[i]))}</td>"
                    f"<td>{math(mm.markup(s.delta_expr[i]))}</td>"
                    f'<td class="num">{esc(number(s.delta_values[i]))}</td>'
                    f'<td class="num">{esc(count(s.paths_per_delta[i]))}</td></tr>')
    out += [*rows, "</tbody></table>"]
    if H <= MATRIX_MAX:
        out.append(f'<p class="note">Step {t}\'s terms: δ_{t} (h_{t - 1})ᵀ and δ_{t} (x_{t})ᵀ</p>'
                   f'<div class="eq">{math(_values([list(r) for r in s.grad_W]) + mo(",") + _values([list(r) for r in s.grad_U]), block=True)}</div>')  # noqa: E501
    return out


_TOTALS = [("W", "Σ_t δ_t (h_{t−1})ᵀ"), ("U", "Σ_t δ_t (x_t)ᵀ"), ("b", "Σ_t δ_t"),
           ("v", "Σ_t g_t h_t"), ("c", "Σ_t g_t")]


def _totals(bt: BPTTForm, mm: MathMLPrinter) -> list[str]:
    out = ["<h2>The gradient: each weight's sum over the steps where it enters</h2>"]
    E = mm.name_markup(bt.loss)  # noqa: N806
    for key, what in _TOTALS:
        vals, names = bt.totals.get(key), bt.names.get(key)
        if vals is None or names is None:
            continue
        eq = (f"<mfrac><mrow><mo>∂</mo>{E}</mrow><mrow><mo>∂</mo>{_names(names, mm)}</mrow>"
              f"</mfrac>" + mo("=") + _values(vals))
        out.append(f'<div class="eq"><span class="bp">{_html.escape(what)}</span>'
                   f"{math(eq, block=True)}</div>")
    return out


def _bridge(bt: BPTTForm, mm: MathMLPrinter) -> list[str]:
    esc = _html.escape
    w = bt.weight or ""
    out = [f"<h2>The bridge: ∂{esc(bt.loss)}/∂{esc(w)} as a sum over the steps</h2>",
           f"<p>∂{esc(bt.loss)}/∂{esc(w)} = {esc(number(bt.weight_value))}: one term per step "
           "where it enters, each the sum of the paths that enter there. Within a step, a path "
           "leaves unit i along w_{m}_{i} into unit m of the next step (row i of Wᵀ) or along "
           "v_i into the step's output; the rows under a step add up to its term.</p>",
           "<table><thead><tr><th>step</th><th>enters · next</th><th>term</th><th>paths</th>"
           "<th>value</th><th>its paths, listed</th></tr></thead><tbody>"]
    for g in bt.groups:
        out.append(f'<tr class="sum"><td>{g.step}</td><td>{esc(g.node)}</td>'
                   f"<td>{math(mm.markup(g.term))}</td><td class=\"num\">{esc(count(g.count))}"
                   f'</td><td class="num">{esc(number(g.value))}</td>'
                   f'<td class="num">{esc(number(g.listed_value))}</td></tr>')
        shared = "".join(mm.markup(f) + "<mo>·</mo>" for f in g.shared)
        for n in g.next:
            out.append(f"<tr><td></td><td>→ {esc(n.node)} via {esc(str(n.edge))}</td>"
                       f"<td>{math(shared + mm.markup(n.term))}</td>"
                       f'<td class="num">{esc(count(n.count))}</td>'
                       f'<td class="num">{esc(number(n.value))}</td>'
                       f'<td class="num">{esc(number(n.listed_value))}</td></tr>')
    out.append("</tbody></table>")
    return out


def fragment(bt: BPTTForm) -> str:
    """The `<div class="pathgrad">` with its styles, for Jupyter or a page of your own."""
    esc = _html.escape
    mm = _printer(bt)
    out = ['<div class="pathgrad">', f"<style>{CSS}{EXTRA_CSS}</style>",
           f"<h1>Backprop through time in matrix form: {esc(bt.spec.name or bt.spec.source)}"
           "</h1>", f'<p class="about">Convention: {esc(bt.convention)}.</p>',
           f"<p>{esc(bt.loss)} = {esc(number(bt.loss_value))} at the point; the equations run "
           "from the last step back to the first.</p>"]
    for s in reversed(bt.steps):
        out += _step(bt, s, mm)
    out += _totals(bt, mm)
    if bt.weight is not None:
        out += _bridge(bt, mm)
    out += ending(bt.verification, bt.spec.source)
    return "\n".join(out)


def render(bt: BPTTForm) -> str:
    """One self-contained page."""
    return page(f"Backprop through time — {bt.spec.name or bt.spec.source}", fragment(bt))
