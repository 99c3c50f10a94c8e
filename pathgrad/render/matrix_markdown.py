"""`pathgrad matrix --format markdown`: GitHub-flavoured — the equations in `$$` blocks with
`bmatrix` matrices (MathJax and KaTeX render them), the bridge's paths as a table grouped by
the unit they pass next."""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..analyses.matrix import Bridge, MatrixForm
from ..verify.methods import Verification
from .formats import count, number
from .markdown import cell, text
from .matrix_latex import _align, _num, entry_tex, layer_section, notation
from .matrix_table import _Printer, _shared, sup
from .texmath import TexNotation

__all__ = ["render", "md_intro", "md_verdict"]


def _bridge(mf: MatrixForm, br: Bridge, tex: TexNotation, pr: _Printer) -> list[str]:
    E = tex.name(mf.loss)  # noqa: N806
    L = len(mf.layers)  # noqa: N806
    l, j = br.layer, br.row  # noqa: E741
    n = br.path_count
    out = [f"## The bridge: ∂{text(mf.loss)}/∂{text(br.param)} as a sum over its paths", ""]
    lhs = rf"\partial {E}/\partial {tex.name(br.param)}"
    paths = f"{count(n)} path{'s' * (n != 1)}"
    nxt = (f" (unit i of layer {l + 1}, after the weight w{l + 1}_i_{j} that leaves unit {j} of "
           f"layer {l})" if l < L and br.kind != "layer bias" else "")
    out += [f"${lhs} = {entry_tex(mf, br, tex)} = {_num(br.value)}$, "
            + text(f"the sum over its {paths} to {mf.loss}, grouped by the unit each path "
                   f"passes next{nxt}:"), ""]
    shared = _shared(mf, br, pr)
    out += ["| next unit | # | path | local partials (weight side first) | value |",
            "|:--|--:|:--|:--|--:|"]
    k = 0
    for g in br.groups:
        label = g.node + (f" via {pr(g.edge)}" if g.edge is not None else "")
        for i, p in enumerate(g.paths):
            k += 1
            partials = " · ".join(pr.factor(f) for f in p.factors)
            out.append(f"| {cell(label) if i == 0 else ''} | {k} | {cell(' → '.join(p.nodes))} "
                       f"| {cell(partials)} | {number(p.value)} |")
        term = " · ".join([*shared, pr.factor(g.term) if shared else pr(g.term)])
        out.append(f"| | | **group: {count(g.count)} path{'s' * (g.count != 1)}** | "
                   f"**{cell(term)}** | **{number(g.value)}** |")
    out.append("")
    if br.listed < br.path_count:
        out += [f"({br.listed:,} of {count(br.path_count)} paths shown.)", ""]
    if l < L and br.kind != "layer bias":
        inner = sp.Add(*(g.term for g in br.groups))
        lhs = rf"\frac{{\partial {E}}}{{\partial {tex.name(br.param)}}}"
        pieces = [tex.factor(f) for f in ([br.first_factor] if br.kind == "weight" else [])
                  if f is not None]
        if br.sigma_prime is not None:
            pieces.append(tex.factor(br.sigma_prime))
        pieces.append(r"\left(%s\right)" % tex.latex(inner))
        out.append(_align([rf"&{lhs} = " + r" \cdot ".join(pieces),
                           f"&= {entry_tex(mf, br, tex)} = {_num(br.value)}"], markdown=True))
        nxt = mf.layers[l]
        ws = ", ".join(str(nxt.W[i, j - 1]) for i in range(nxt.units))  # type: ignore[operator]
        out += [text(f"Where the transpose comes from: row {j} of (W{sup(l + 1)})ᵀ is ({ws}), "
                     f"column {j} of W{sup(l + 1)}: the weights that leave unit {j} of layer "
                     f"{l}, sorted by the unit of layer {l + 1} they go to next. Each row of "
                     "the transpose is the paths that leave unit j, sorted by where they go "
                     f"next, so ((W{sup(l + 1)})ᵀ δ{sup(l + 1)})_{j} adds up exactly the groups "
                     f"of the table, and ⊙ σ′(z{sup(l)}) is the edge they all share."), ""]
    listing = br.listing_multiplications
    out += [text((f"Multiplications: listing its {count(n)} paths, {count(listing)}; "
                  if listing is not None else "Multiplications: ")
                 + f"from the δ's of the layer above, {br.matrix_multiplications}."), ""]
    return out


def render(mf: MatrixForm) -> str:
    """The whole page."""
    tex = notation(mf)
    pr = _Printer(mf)
    out = md_intro("Backprop in matrix form", mf, "the loss down to layer 1")
    for layer in reversed(mf.layers):
        out.append(layer_section(mf, layer, tex, markdown=True))
    out += [text(f"Multiplications for the whole gradient: the matrix form "
                 f"{count(mf.matrix_multiplications)}, listing every path of every param "
                 f"{count(mf.listing_multiplications)}."), ""]
    if mf.bridge is not None:
        out += _bridge(mf, mf.bridge, tex, pr)
    out.append(md_verdict(mf.verification))
    return "\n".join(out) + "\n"


def md_intro(what: str, record: Any, direction: str) -> list[str]:
    """The title, the convention and the loss at the point (an mlp's or an rnn's record)."""
    title = record.spec.name or record.spec.source
    return [f"## {what}: {text(title)}", "", text("Convention: " + record.convention + "."), "",
            f"{text(record.loss)} = {number(record.loss_value)} at the point; the equations run "
            f"from {direction}.", ""]


def md_verdict(v: Verification) -> str:
    """✓ **verified** (or ✗ **NOT VERIFIED**) and the detail, as one Markdown line."""
    return (f"✓ **verified**: {text(v.detail)}" if v.verified
            else f"✗ **NOT VERIFIED**: {text(v.detail)}")
