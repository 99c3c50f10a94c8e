"""`pathgrad matrix --format latex`: BP1–BP4 with the vectors and matrices typeset as
`bmatrix`es in the spec's display names (w^{(1)}_{11}, δ^{(2)}_{1} …), the bridge's paths in a
table grouped by the unit they pass next, and the transpose explained. A standalone article
(pdflatex with amsmath, nothing else), or with `fragment` only the body."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

import sympy as sp

from ..analyses.matrix import Bridge, Layer, MatrixForm, delta_name
from ..spec import Spec
from ..verify.methods import Verification
from . import texmath as tm
from .formats import count
from .matrix_table import MATRIX_MAX
from .texmath import Piece, TexNotation

__all__ = ["render", "notation", "layer_section", "bmatrix", "column", "align", "num",
           "with_deltas", "document", "finish", "BUDGET_EM"]

BUDGET_EM = 38.0  # display math per line on A4 with 2 cm margins at 11 pt (44 em)


def with_deltas(spec: Spec, sizes: Sequence[tuple[int, int]], scalar: bool = False,
                extra: Mapping[str, str] | None = None) -> Spec:
    """`spec` with display names for the δ symbols: δ^{(l)}_{j} for each (l, units) of
    `sizes` (δ^{(l)} alone with `scalar`), plus `extra`; the LaTeX and MathML printers use it."""
    names = dict(spec.latex)
    for l, units in sizes:  # noqa: E741 - l is the layer (or step)
        for j in range(1, units + 1):
            names[delta_name(l, j)] = (r"\delta^{(%d)}" % l if scalar else
                                       r"\delta^{(%d)}_{%d}" % (l, j))
    names.update(extra or {})
    return dataclasses.replace(spec, latex=names)


def notation(mf: MatrixForm) -> TexNotation:
    """The spec's display names plus δ^{(l)}_{j} for the delta symbols."""
    return TexNotation(with_deltas(mf.spec, [(x.layer, x.units) for x in mf.layers]))


def entry_tex(mf: MatrixForm, br: Bridge, tex: TexNotation) -> str:
    """The bridge's entry as BP4 writes it: a^{(l−1)}_k δ^{(l)}_j."""
    if br.kind == "weight" and br.first_factor is not None:
        layer = mf.layers[br.layer - 1]
        return f"{tex.latex(br.first_factor)}\\,{tex.latex(layer.delta[(br.row or 1) - 1])}"
    return tex.latex(br.entry)


def _num(x: float | None) -> str:
    return r"\text{---}" if x is None else tm.number(x)


def bmatrix(rows: Sequence[Sequence[str]]) -> str:
    """A matrix of LaTeX cells."""
    body = r" \\ ".join(" & ".join(r) for r in rows)
    return r"\begin{bmatrix} %s \end{bmatrix}" % body


def _col(cells: Sequence[str]) -> str:
    return bmatrix([[c] for c in cells])


column = _col  # public: the rnn renderers write their vectors with it


def _vec(name: str, l: int) -> str:  # noqa: E741
    return f"{name}^{{({l})}}"


def _align(rows: Sequence[str], markdown: bool = False) -> str:
    """An align* block; for Markdown a $$ aligned $$ block, tags as text (GitHub has no
    \\tag inside aligned)."""
    if not markdown:
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    rows = [re.sub(r"\\tag\{([^{}]*)\}", r"\\qquad\\text{(\1)}", r) for r in rows]
    return "\n$$\n\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n$$\n\n"


align = _align  # public: shared with Markdown and the rnn renderer
num = _num


def _draw(layer: Layer) -> bool:
    return layer.units <= MATRIX_MAX and layer.fan_in <= MATRIX_MAX


def _delta_pieces(mf: MatrixForm, layer: Layer, j: int, tex: TexNotation) -> list[Piece]:
    """δ^l_j in the order of its equation: ∂E/∂a · σ′ (BP1), (Σ_i w·δ) · σ′ (BP2)."""
    if layer.sigma_prime is None:  # softmax: the closed form
        return tex.pieces(layer.shown_delta_expr[j], BUDGET_EM - 12)
    l = layer.layer  # noqa: E741
    if l == len(mf.layers):
        first = mf.grad_a[j]
    else:
        nxt = mf.layers[l]
        first = sp.Add(*(nxt.W[i, j] * nxt.delta[i] for i in range(nxt.units)))
    return tex.product([first, layer.sigma_prime[j]], BUDGET_EM - 12)


def layer_section(mf: MatrixForm, layer: Layer, tex: TexNotation, markdown: bool = False
                  ) -> str:
    """One layer's equations (LaTeX, or Markdown with $$ blocks)."""
    return _layer(mf, layer, tex, markdown)


def _layer(mf: MatrixForm, layer: Layer, tex: TexNotation, markdown: bool = False) -> str:
    L = len(mf.layers)  # noqa: N806
    l = layer.layer  # noqa: E741
    E = tex.name(mf.loss)  # noqa: N806
    n, m = layer.units, layer.fan_in
    title = "Layer %d%s: %d %s unit%s" % (l, " (the output layer)" if l == L else "", n,
                                         layer.activation, "s" * (n != 1))
    out = [f"### {title}\n\n" if markdown else r"\subsection*{%s}" % tm.text(title) + "\n"]
    out.append(rf"$W^{{({l})}}$ is ${n}\times{m}$, $a^{{({l - 1})}}$ is ${m}\times 1$, "
               rf"$\delta^{{({l})}}$ is ${n}\times 1$." + "\n")
    deltas = [tex.latex(d) for d in layer.delta]
    rows = []
    if l == L:
        if mf.softmax:
            ys = " + ".join(tex.name(y) for y in mf.targets)
            form = rf"a^{{({l})}} - y" if mf.delta_note else rf"a^{{({l})}}\,({ys}) - y"
            rows.append(rf"&\delta^{{({l})}} = {form} \tag{{BP1, softmax + cross-entropy}}")
            if _draw(layer):
                rows.append("&" + _col(deltas) + " = " + _col([tex.latex(e)
                                                            for e in layer.shown_delta_expr]))
        else:
            rows.append(rf"&\delta^{{({l})}} = \nabla_a {E} \odot \sigma'(z^{{({l})}}) "
                        r"\tag{BP1}")
            if _draw(layer) and layer.sigma_prime is not None:
                rows.append("&" + _col(deltas) + " = " + _col([tex.latex(e) for e in mf.grad_a])
                            + r" \odot " + _col([tex.latex(e) for e in layer.sigma_prime]))
    else:
        nxt = mf.layers[l]
        rows.append(rf"&\delta^{{({l})}} = \bigl((W^{{({l + 1})}})^{{\mathsf T}} "
                    rf"\delta^{{({l + 1})}}\bigr) \odot \sigma'(z^{{({l})}}) \tag{{BP2}}")
        if _draw(layer) and nxt.units <= MATRIX_MAX and layer.sigma_prime is not None:
            wt = bmatrix([[tex.latex(nxt.W[i, j]) for i in range(nxt.units)] for j in range(n)])
            rows.append("&" + _col(deltas) + " = " + wt + _col([tex.latex(d) for d in nxt.delta])
                        + r" \odot " + _col([tex.latex(e) for e in layer.sigma_prime]))
    if _draw(layer):
        rows.append("&" + r"\phantom{" + _col(deltas) + "} = "
                    + _col([_num(x) for x in layer.delta_values]))
    out.append(_align(rows, markdown))
    if l == L and mf.softmax and mf.delta_note:
        ys = " + ".join(tex.name(y) for y in mf.targets)
        out.append(rf"Why $a^{{({l})}} - y$: $a^{{({l})}}\,({ys}) - y$ is exact for any targets, "
                   rf"and here ${ys} = 1$ (the targets are numbers adding up to 1)." + "\n\n")
    # each δ written out, with its path count
    lines = []
    for j in range(min(n, 12)):
        pieces = _delta_pieces(mf, layer, j, tex)
        body = tm.pack(pieces, BUDGET_EM - 8, BUDGET_EM - 14)
        k = layer.paths_per_delta[j]
        tag = r"\quad\text{(%s path%s)}" % (count(k), "s" * (k != 1))
        lines.append(rf"&{deltas[j]} = " + body[0] + ("" if len(body) > 1 else
                                                       f" = {_num(layer.delta_values[j])}{tag}"))
        for i, extra in enumerate(body[1:], 1):
            end = f" = {_num(layer.delta_values[j])}{tag}" if i == len(body) - 1 else ""
            lines.append(rf"&\qquad {extra}{end}")
    out.append(_align(lines, markdown))
    if n > 12:
        out.append(tm.prose(f"… and {n - 12:,} more (the JSON output has every δ).") + "\n\n")
    if layer.bias_mode == "unit":
        out.append(rf"BP3: $\partial {E}/\partial b^{{({l})}}_j = \delta^{{({l})}}_j$." + "\n")
    elif layer.bias_mode == "layer":
        out.append(rf"BP3 (one bias for the layer): $\partial {E}/\partial {tex.name(f'b{l}')} "
                   rf"= \sum_j \delta^{{({l})}}_j = {_num(layer.grad_b)}$." + "\n")  # type: ignore
    rows = [rf"&\frac{{\partial {E}}}{{\partial W^{{({l})}}}} = \delta^{{({l})}}\,"
            rf"\bigl(a^{{({l - 1})}}\bigr)^{{\mathsf T}} \tag{{BP4}}"]
    if _draw(layer):
        sym = bmatrix([[f"{tex.latex(layer.a_prev[k])}\\,{deltas[j]}" for k in range(m)]
                       for j in range(n)])
        num = bmatrix([[_num(x) for x in row] for row in layer.grad_W])
        rows.append("&= " + sym)
        rows.append("&= " + num)
    out.append(_align(rows, markdown))
    return "".join(out)


def _bridge(mf: MatrixForm, br: Bridge, tex: TexNotation) -> str:
    E = tex.name(mf.loss)  # noqa: N806
    L = len(mf.layers)  # noqa: N806
    l, j = br.layer, br.row  # noqa: E741
    p = tex.name(br.param)
    out = [r"\section*{The bridge: $\partial %s/\partial %s$ as a sum over its paths}" % (E, p)
           + "\n"]
    where = {"weight": rf"entry $({j}, {br.column})$ of $\delta^{{({l})}}"
                       rf"(a^{{({l - 1})}})^{{\mathsf T}}$",
             "bias": rf"entry ${j}$ of $\delta^{{({l})}}$",
             "layer bias": rf"$\sum_j \delta^{{({l})}}_j$"}[br.kind]
    n = br.path_count
    out.append(rf"$\partial {E}/\partial {p} = {entry_tex(mf, br, tex)} = {_num(br.value)}$ is "
               + where + rf", and the sum over its {count(n)} path{'s' * (n != 1)} to ${E}$. ")
    shared = []
    if br.kind == "weight" and br.first_factor is not None:
        shared.append(tex.factor(br.first_factor))
    if br.sigma_prime is not None and (l < L or not mf.softmax):
        shared.append(tex.factor(br.sigma_prime))
    if br.kind != "layer bias":
        z, a = tex.name(f"z{l}_{j}"), tex.name(f"a{l}_{j}")
        out.append(rf"Every path starts ${p} \to {z}$" + (rf"$\,\to {a}$" if l < L or
                                                          not mf.softmax else "")
                   + (", with the factors $" + r" \cdot ".join(shared) + "$ that all paths "
                      "share" if shared else "") + ". ")
    if l < L and br.kind != "layer bias":
        nxt = mf.layers[l]
        ws = ", ".join(f"${tex.latex(nxt.W[i, j - 1])}$" for i in range(nxt.units))  # type: ignore
        out.append(rf"Then it leaves unit {j} of layer {l} along one of {ws}, the weights in "
                   rf"row {j} of $(W^{{({l + 1})}})^{{\mathsf T}}$, into a unit $i$ of layer "
                   rf"{l + 1}; from there on it is one of the paths of "
                   rf"$\delta^{{({l + 1})}}_i$. Grouped by that next unit:" + "\n\n")
    elif br.kind == "layer bias":
        out.append(rf"The bias enters every unit of layer {l}: grouped by the unit $j$ it "
                   r"enters:" + "\n\n")
    else:
        out.append(r"Grouped by the output it reaches the loss from:" + "\n\n")
    out.append("\\begin{center}\\renewcommand{\\arraystretch}{1.3}\n\\begin{tabular}{lrlr}\n\\hline\n"
               r"next unit & paths & the group adds up to & value \\" + "\n\\hline\n")
    for g in br.groups:
        via = rf" via ${tex.latex(g.edge)}$" if g.edge is not None else ""
        term = r" \cdot ".join([*shared, tex.factor(g.term) if shared else tex.latex(g.term)])
        out.append(rf"${tex.name(g.node)}${via} & {count(g.count)} & ${term}$ & "
                   rf"${_num(g.value)}$ \\" + "\n")
    out.append("\\hline\n\\end{tabular}\n\\end{center}\n\n")
    k = 0
    for g in br.groups:
        for path in g.paths:
            k += 1
            route = r" \to ".join(tex.name(x) for x in path.nodes)
            out.append(rf"\textbf{{Path {k}}} (through ${tex.name(g.node)}$): ${route}$" + "\n")
            pieces = tex.product(list(path.factors), BUDGET_EM - 4)
            lines = tm.pack(pieces, BUDGET_EM - 4)
            rows = [("&= " if i == 0 else "&\\qquad ") + line for i, line in enumerate(lines)]
            rows.append(f"&= {_num(path.value)}")
            out.append(_align(rows))
    if br.listed < br.path_count:
        out.append(tm.prose(f"({br.listed:,} of {count(br.path_count)} paths shown; each "
                            "group's total is its δ term.)") + "\n\n")
    # the sum, grouped
    lhs = rf"\frac{{\partial {E}}}{{\partial {p}}}"
    if l < L and br.kind != "layer bias":
        inner = sp.Add(*(g.term for g in br.groups))
        pieces = [Piece(s, r"\cdot" if i else "") for i, s in enumerate(shared)]
        pieces += tex.product([inner], BUDGET_EM - 6) if not pieces else [
            dataclasses.replace(x, sep=r"\cdot" if i == 0 else x.sep)
            for i, x in enumerate(tex.product([inner], BUDGET_EM - 6))]
        lines = tm.pack(pieces, BUDGET_EM - 4, BUDGET_EM - 8)
        rows = [f"&{lhs} = {lines[0]}", *(rf"&\qquad {x}" for x in lines[1:])]
        rows.append(f"&= {entry_tex(mf, br, tex)} = {_num(br.value)}")
        out.append(_align(rows))
        nxt = mf.layers[l]
        ws = ", ".join(f"${tex.latex(nxt.W[i, j - 1])}$" for i in range(nxt.units))  # type: ignore
        out.append(tm.prose("Where the transpose comes from: ") + rf"row {j} of "
                   rf"$(W^{{({l + 1})}})^{{\mathsf T}}$ is ({ws}), column {j} of "
                   rf"$W^{{({l + 1})}}$: the weights that leave unit {j} of layer {l}, sorted by "
                   rf"the unit of layer {l + 1} they go to next. Each row of the transpose is "
                   "the paths that leave unit $j$, sorted by where they go next, so "
                   rf"$\bigl((W^{{({l + 1})}})^{{\mathsf T}}\delta^{{({l + 1})}}\bigr)_{{{j}}}$ "
                   r"adds up exactly the groups of the table, and $\odot\,\sigma'(z^{(%d)})$ is "
                   r"the edge they all share." % l + "\n\n")
    else:
        out.append(_align([f"&{lhs} = {entry_tex(mf, br, tex)} = {_num(br.value)}"]))
    listing = br.listing_multiplications
    out.append(tm.prose(
        (f"Multiplications: listing its {count(n)} paths and multiplying along each, "
         f"{count(listing)}; " if listing is not None else "Multiplications: ")
        + f"from the δ's of the layer above, {br.matrix_multiplications}. Whole gradient: the "
        f"matrix form {count(mf.matrix_multiplications)}, listing every path of every param "
        f"{count(mf.listing_multiplications)}.") + "\n\n")
    return "".join(out)


def render(mf: MatrixForm, fragment: bool = False) -> str:
    """The standalone document, or (`fragment`) only its body."""
    tex = notation(mf)
    E = tex.name(mf.loss)  # noqa: N806
    body = [r"Convention (Nielsen's): $w^{(l)}_{jk}$, named \texttt{w\{l\}\_\{j\}\_\{k\}}, "
            r"joins unit $k$ of layer $l-1$ to unit $j$ of layer $l$, so in $W^{(l)}$ row $j$ "
            r"is the unit a weight enters and column $k$ the unit it leaves; "
            r"$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$, $a^{(l)} = \sigma(z^{(l)})$, "
            rf"$\delta^{{(l)}}_j = \partial {E}/\partial z^{{(l)}}_j$. Gradients in numerator "
            rf"layout: $\partial {E}/\partial W^{{(l)}}$ has the shape of $W^{{(l)}}$." + "\n\n",
            rf"At the point ${tex.name(mf.loss)} = {_num(mf.loss_value)}$. The equations run "
            "from the loss down to layer 1.\n\n"]
    for layer in reversed(mf.layers):
        body.append(_layer(mf, layer, tex))
    body.append(tm.prose(f"Multiplications for the whole gradient: the matrix form "
                         f"{count(mf.matrix_multiplications)}, listing every path of every "
                         f"param {count(mf.listing_multiplications)}.") + "\n\n")
    if mf.bridge is not None:
        body.append(_bridge(mf, mf.bridge, tex))
    return finish(body, mf.verification, f"Backprop in matrix form: "
                  f"{mf.spec.name or mf.spec.source}", fragment)


def finish(body: list[str], v: Verification, title: str, fragment: bool) -> str:
    """The body and the verdict: a fragment, or the standalone `document`."""
    text = "".join([*body, ("\\textbf{Verified:} " if v.verified else "\\textbf{NOT VERIFIED:} ")
                    + tm.prose(v.detail) + ".\n"])
    return text if fragment else document(title, text)


def document(title: str, body: str) -> str:
    """A standalone article (pdflatex with amsmath) with a section titled `title` (prose)."""
    return ("\\documentclass[11pt]{article}\n\\usepackage[a4paper,margin=2cm]{geometry}\n"
            "\\usepackage{amsmath,amssymb}\n\\allowdisplaybreaks\n"
            "\\setlength{\\parindent}{0pt}\n\\setlength{\\parskip}{0.6ex}\n"
            "\\setlength{\\emergencystretch}{3em}\n\\begin{document}\n"
            f"\\section*{{{tm.prose(title)}}}\n" + body + "\\end{document}\n")
