"""`pathgrad matrix --format latex|markdown` for an rnn: backprop through time with the
vectors and matrices as `bmatrix`es (δ^{(t)}, Wᵀ, act′(z^{(t)})), each step's terms, the totals
Σ_t, and with --weight the bridge: one term per step, its paths grouped by the node they pass
next. LaTeX is a standalone article (pdflatex with amsmath) or a fragment; Markdown has the
same equations in `$$` blocks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..analyses.matrix_bptt import BPTTForm, Step
from . import texmath as tm
from .formats import count
from .markdown import cell, text
from .matrix_latex import align, bmatrix, column, finish, num, with_deltas
from .matrix_markdown import md_intro, md_verdict
from .matrix_table import MATRIX_MAX
from .texmath import TexNotation

__all__ = ["render", "markdown", "notation", "shaped"]


def notation(bt: BPTTForm) -> TexNotation:
    """Display names plus δ^{(t)}_{i} for the δ symbols and g^{(t)} for ∂E/∂o_t."""
    H = bt.steps[0].units if bt.steps else 1  # noqa: N806
    g = {f"g{s.step}": r"g^{(%d)}" % s.step for s in bt.steps}
    return TexNotation(with_deltas(bt.spec, [(s.step, s.units) for s in bt.steps],
                                   scalar=H == 1, extra=g))


def shaped(x: Any, cell: Callable[[Any], str], matrix: Callable[[list[list[str]]], str],
           col: Callable[[list[str]], str]) -> str:
    """A total as the rnn keeps it (a matrix as a list of rows, a vector as a list, or one
    value) typeset cell by cell with `matrix`, `col` or as the one cell."""
    if isinstance(x, list) and x and isinstance(x[0], list):
        return matrix([[cell(c) for c in row] for row in x])
    if isinstance(x, list | tuple):
        return col([cell(c) for c in x])
    return cell(x)


def _matrix(names: Any, tex: TexNotation) -> str:
    return shaped(names, tex.name, bmatrix, column)


def _values(vals: Any) -> str:
    return shaped(vals, num, bmatrix, column)


def _step(bt: BPTTForm, s: Step, tex: TexNotation, md: bool) -> str:
    T = len(bt.steps)  # noqa: N806
    t, H = s.step, s.units  # noqa: N806
    E = tex.name(bt.loss)  # noqa: N806
    act = tm.text(bt.activation)
    head = f"Step {t}" + (" (the last)" if t == T else "")
    out = [f"### {head}\n\n" if md else r"\subsection*{%s}" % head + "\n"]
    terms = []
    if t < T:
        terms.append(rf"W^{{\mathsf T}} \delta^{{({t + 1})}}")
    if s.out_grad is not None:
        terms.append(rf"v\, g^{{({t})}}")
    inner = " + ".join(terms) or "0"
    rows = [rf"&\delta^{{({t})}} = \bigl({inner}\bigr) \odot \mathrm{{{act}}}'(z^{{({t})}}) "
            r"\tag{BPTT}"]
    if H <= MATRIX_MAX:
        deltas = [tex.latex(d) for d in s.delta]
        eq = "&" + column(deltas) + " = "
        parts = []
        if t < T:
            wt = bmatrix([[tex.latex(s.W[j, i]) for j in range(H)] for i in range(H)])
            parts.append(wt + column([tex.latex(d) for d in bt.steps[t].delta]))
        if s.out_grad is not None:
            parts.append(column([tex.latex(x) for x in s.v]) + rf"\, g^{{({t})}}")
        eq += r"\Bigl(" + " + ".join(parts or ["0"]) + r"\Bigr)"
        act_col = r"\odot " + column([tex.latex(e) for e in s.act_prime])
        if H < 3:  # two units fit on one line; three or more: ⊙ act′ on the next
            rows.append(eq + " " + act_col)
        else:
            rows += [eq, r"&\phantom{" + column(deltas) + r"} \qquad " + act_col]
        rows.append("&" + r"\phantom{" + column(deltas) + "} = "
                    + column([num(x) for x in s.delta_values]))
    if s.out_grad is not None:
        rows.append(rf"&g^{{({t})}} = \frac{{\partial {E}}}{{\partial {tex.name(f'o{t}')}}} = "
                    f"{tex.latex(s.out_grad)} = {num(s.out_grad_value)}")
    out.append(align(rows, md))
    lines = []
    for i in range(min(H, 12)):
        k = s.paths_per_delta[i]
        body = tm.pack(tex.pieces(s.delta_expr[i], 24), 30, 24)
        tag = r"\quad\text{(%s path%s)}" % (count(k), "s" * (k != 1))
        end = f" = {num(s.delta_values[i])}{tag}"
        lines.append(rf"&{tex.latex(s.delta[i])} = " + body[0] + (end if len(body) == 1 else ""))
        lines += [rf"&\qquad {x}" + (end if n == len(body) - 1 else "")
                  for n, x in enumerate(body[1:], 1)]
    out.append(align(lines, md))
    if H <= MATRIX_MAX:
        w_term = (rf"&\delta^{{({t})}} \bigl(h^{{({t - 1})}}\bigr)^{{\mathsf T}} = "
                  + _values([list(r) for r in s.grad_W]))
        u_term = (rf"\delta^{{({t})}} \bigl(x^{{({t})}}\bigr)^{{\mathsf T}} = "
                  + _values([list(r) for r in s.grad_U]))
        # side by side while they fit the line (2 units), else one under the other
        rows = [w_term + r", \qquad " + u_term] if H < 3 else [w_term, "&" + u_term]
        out.append(align(rows, md))
    return "".join(out)


_TOTALS = [("W", r"\sum_t \delta^{(t)} \bigl(h^{(t-1)}\bigr)^{\mathsf T}"),
           ("U", r"\sum_t \delta^{(t)} \bigl(x^{(t)}\bigr)^{\mathsf T}"),
           ("b", r"\sum_t \delta^{(t)}"), ("v", r"\sum_t g^{(t)} h^{(t)}"),
           ("c", r"\sum_t g^{(t)}")]


def _totals(bt: BPTTForm, tex: TexNotation, md: bool) -> str:
    E = tex.name(bt.loss)  # noqa: N806
    rows = []
    for key, sum_tex in _TOTALS:
        vals, names = bt.totals.get(key), bt.names.get(key)
        if vals is None or names is None:
            continue
        rows.append(rf"&\frac{{\partial {E}}}{{\partial {_matrix(names, tex)}}} = {sum_tex} = "
                    + _values(vals))
    head = "The gradient: each weight's sum over the steps where it enters"
    return (f"### {head}\n\n" if md else r"\subsection*{%s}" % head + "\n") + align(rows, md)


def _bridge_rows(bt: BPTTForm, tex: TexNotation) -> list[tuple[str, str, str, str, str]]:
    """(step, node, term, paths, value) in LaTeX math, step rows then their next-unit rows."""
    rows = []
    for g in bt.groups:
        rows.append((str(g.step), tex.name(g.node), tex.latex(g.term), count(g.count),
                     num(g.value)))
        shared = [tex.factor(f) for f in g.shared]
        for n in g.next:
            rows.append(("", rf"\to {tex.name(n.node)}\ \text{{via}}\ {tex.latex(n.edge)}",
                         r" \cdot ".join([*shared, tex.factor(n.term)]), count(n.count),
                         num(n.value)))
    return rows


_BRIDGE_TEXT = ("Within a step, a path leaves unit i along w_{m}_{i} into unit m of the next "
                "step (row i of Wᵀ) or along v_i into the step's output; the rows under a step "
                "add up to its term, and the steps to the gradient.")


def _bridge(bt: BPTTForm, tex: TexNotation) -> str:
    E, p = tex.name(bt.loss), tex.name(bt.weight or "")  # noqa: N806
    out = [r"\section*{The bridge: $\partial %s/\partial %s$ as a sum over the steps}" % (E, p)
           + "\n",
           rf"$\partial {E}/\partial {p} = {num(bt.weight_value)}$: one term per step where "
           f"${p}$ enters, each the sum of the paths that enter there. "
           + tm.prose(_BRIDGE_TEXT) + "\n\n",
           "\\begin{center}\\renewcommand{\\arraystretch}{1.3}\n\\begin{tabular}{llrr}\n"
           "\\hline\nstep: enters, then next & term & paths & value \\\\\n\\hline\n"]
    for step, node, term, paths, value in _bridge_rows(bt, tex):
        out.append((f"{step}: ${node}$" if step else f"\\quad ${node}$")
                   + f" & ${term}$ & {paths} & ${value}$ \\\\\n")
    out.append("\\hline\n\\end{tabular}\n\\end{center}\n\n")
    return "".join(out)


_CONVENTION = (r"Convention: $w_{ij}$, named \texttt{w\_\{i\}\_\{j\}}, joins hidden unit $j$ "
               r"at step $t-1$ to hidden unit $i$ at step $t$, so in $W$ row $i$ is the unit a "
               r"weight enters and column $j$ the unit it leaves (as Nielsen's "
               r"$w^{(l)}_{jk}$); $u_{ik}$ joins input $k$ to hidden unit $i$; "
               r"$z^{(t)} = W h^{(t-1)} + U x^{(t)} + b$, $h^{(t)} = \mathrm{act}(z^{(t)})$, "
               r"$o^{(t)} = v \cdot h^{(t)} + c$; $\delta^{(t)} = \partial %s/\partial z^{(t)}$, "
               r"$g^{(t)} = \partial %s/\partial o^{(t)}$. Gradients in numerator layout, summed "
               r"over the steps (the same $W$ at every step).")


def _intro(bt: BPTTForm, tex: TexNotation) -> str:
    E = tex.name(bt.loss)  # noqa: N806
    return (_CONVENTION % (E, E) + "\n\n"
            + rf"At the point ${tex.name(bt.loss)} = {num(bt.loss_value)}$. The equations run "
            "from the last step back to the first.\n\n")


def render(bt: BPTTForm, fragment: bool = False) -> str:
    """The standalone document, or (`fragment`) only its body."""
    tex = notation(bt)
    body = [_intro(bt, tex)]
    body += [_step(bt, s, tex, False) for s in reversed(bt.steps)]
    body.append(_totals(bt, tex, False))
    if bt.weight is not None:
        body.append(_bridge(bt, tex))
    return finish(body, bt.verification, "Backprop through time in matrix form: "
                  f"{bt.spec.name or bt.spec.source}", fragment)


def _md_table(rows: Sequence[tuple[str, str, str, str, str]]) -> list[str]:
    out = ["| step | enters, then next | term | paths | value |", "|:--|:--|:--|--:|--:|"]
    for step, node, term, paths, value in rows:
        out.append(f"| {step} | ${cell(node)}$ | ${cell(term)}$ | {paths} | ${value}$ |")
    return out


def markdown(bt: BPTTForm) -> str:
    """GitHub-flavoured Markdown: the same equations in `$$` blocks, the bridge as a table."""
    tex = notation(bt)
    out = md_intro("Backprop through time in matrix form", bt, "the last step back to the "
                   "first")
    out += [_step(bt, s, tex, True) for s in reversed(bt.steps)]
    out.append(_totals(bt, tex, True))
    if bt.weight is not None:
        E, p = tex.name(bt.loss), tex.name(bt.weight)  # noqa: N806
        out += [f"## The bridge: ∂{text(bt.loss)}/∂{text(bt.weight)} as a sum over the steps",
                "", rf"$\partial {E}/\partial {p} = {num(bt.weight_value)}$: "
                + text("one term per step where it enters, each the sum of the paths that "
                       "enter there. " + _BRIDGE_TEXT), "", *_md_table(_bridge_rows(bt, tex)),
                ""]
    out.append(md_verdict(bt.verification))
    return "\n".join(out) + "\n"
