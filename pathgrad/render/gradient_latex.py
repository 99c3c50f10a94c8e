"""`pathgrad gradient --format latex`: the gradient as a table in the spec's display names
(w^{(1)}_{11} …), the verdict, and the gradient-descent steps; a standalone article, or with
`fragment` only the tables (they need nothing beyond LaTeX itself)."""

from __future__ import annotations

from ..analyses.gradient import Gradient
from . import texmath as tm
from .gradient_table import (
    GROUPED_NOTE,
    MAX_STEP_ROWS,
    _shown_steps,
    count_span,
    is_grouped,
    missing_notes,
    param_groups,
)
from .texmath import TexNotation

__all__ = ["render"]


def _num(x: float | None, digits: int = 9) -> str:
    return "---" if x is None else f"${tm.number(x, digits)}$"


def _cell(gr: Gradient, p: str) -> str:
    """∂loss/∂p, or why it has none ('too small for a float (…)'), as the other formats."""
    g = gr.gradient.get(p)
    return _num(g) if g is not None or p not in gr.notes else tm.prose(gr.notes[p])


def _gradient_table(gr: Gradient, tex: TexNotation) -> str:
    loss = tex.name(gr.loss)
    if is_grouped(gr):  # as `show`: one row per name pattern
        rows = [r"\begin{tabular}{lrrrr}", r"\hline",
                rf"params & how many & $\partial {loss}/\partial p$ from \dots{{}} to & "
                rf"largest $|\partial {loss}/\partial p|$ & paths to ${loss}$ \\", r"\hline"]
        groups = param_groups(gr)
        for g in groups:
            lo_hi = "---" if g.low is None else (  # 4 digits, as the terminal: it fits A4
                _num(g.low, 4) if g.low == g.high else
                rf"{_num(g.low, 4)} \dots{{}} {_num(g.high, 4)}")
            top = "---" if g.top is None else f"{_num(g.top_value, 4)} (${tex.name(g.top)}$)"
            rows.append(rf"\texttt{{{tm.text(g.pattern)}}} & {g.count:,} & {lo_hi} & {top} & "
                        rf"{tm.text(count_span(g.paths_low, g.paths_high))} \\")
        rows += [r"\hline", r"\end{tabular}", "",
                 tm.prose(f"{len(gr.spec.params):,} {GROUPED_NOTE}.")]
        rows += [f"\\par {tm.prose(line)}" for line in missing_notes(groups)]
        return "\n".join(rows) + "\n"
    rows = [r"\begin{tabular}{lrrr}", r"\hline",
            rf"param $p$ & value & $\partial {loss}/\partial p$ & paths to ${loss}$ \\",
            r"\hline"]
    for p in gr.spec.params:
        v = gr.values.get(p)
        rows.append(rf"${tex.name(p)}$ & {_num(None if v is None else float(v))} & "
                    rf"{_cell(gr, p)} & {gr.paths.get(p, 0):,} \\")
    rows += [r"\hline", r"\end{tabular}"]
    return "\n".join(rows) + "\n"


def _steps_table(gr: Gradient, tex: TexNotation) -> str:
    loss = tex.name(gr.loss)
    shown = _shown_steps(len(gr.steps))
    first = gr.steps[0]
    cols = "l" + "r" * (2 + len(shown))
    head = ["param", "before", rf"$\partial {loss}/\partial p$",
            *(f"step {i + 1}" for i in shown)]
    rows = [rf"\begin{{tabular}}{{{cols}}}", r"\hline", " & ".join(head) + r" \\", r"\hline"]
    if len(gr.update) <= MAX_STEP_ROWS:
        for p in gr.update:
            v = gr.values.get(p)
            cells = [f"${tex.name(p)}$", _num(None if v is None else float(v)),
                     _num(first.gradient.get(p)), *(_num(gr.steps[i].params[p]) for i in shown)]
            rows.append(" & ".join(cells) + r" \\")
        rows.append(r"\hline")
    cells = [f"loss ${loss}$", _num(first.loss_before), "",
             *(_num(gr.steps[i].loss_after) for i in shown)]
    rows += [" & ".join(cells) + r" \\", r"\hline", r"\end{tabular}"]
    return "\n".join(rows) + "\n"


def render(gr: Gradient, fragment: bool = False) -> str:
    """A standalone document (pdflatex, texlive-latex-base only) or just the tables."""
    tex = TexNotation(gr.spec)
    loss = tex.name(gr.loss)
    center = r"\begin{center}\renewcommand{\arraystretch}{1.3}"  # room for w^{(1)}_{11}
    body = [center, _gradient_table(gr, tex), r"\end{center}", ""]
    v = gr.verification
    body.append(("Verified: " if gr.verified else "NOT VERIFIED: ") + tm.prose(v.detail) + ".")
    body.append("")
    if gr.steps:
        k, n = len(gr.steps), len(gr.update)
        body.append(rf"Gradient descent, $p \leftarrow p - \eta\,\partial {loss}/\partial p$ "
                    rf"with $\eta = {tm.number(gr.steps[0].lr)}$: {k} step{'s' * (k != 1)}, "
                    f"updating {n:,} param{'s' * (n != 1)}, every one from the same gradient.")
        body += ["", center, _steps_table(gr, tex), r"\end{center}", ""]
    text = "\n".join(body) + "\n"
    if fragment:
        return text
    title = rf"\section*{{$\partial {loss}/\partial p$ for every param $p$}}"
    about = []
    if gr.spec.name:
        about.append(r"\textbf{%s.}" % tm.prose(gr.spec.name))
    if gr.spec.description:
        about.append(tm.prose(gr.spec.description))
    intro = (rf"At the point, ${loss} = {tm.number(gr.value, 9) if gr.value is not None else '?'}$."
             rf" Reverse mode computes every $\partial {loss}/\partial p$ in one sweep from "
             rf"${loss}$ back to the params: each $\delta_v = \sum_c \delta_c\,\partial c/"
             r"\partial v$ is the sum over every path from $v$.")
    return ("\\documentclass[11pt]{article}\n\\usepackage[a4paper,margin=2cm]{geometry}\n"
            "\\usepackage{amsmath}\n\\setlength{\\parindent}{0pt}\n"
            "\\setlength{\\parskip}{0.6ex}\n\\setlength{\\emergencystretch}{3em}\n"
            "\\begin{document}\n" + title + "\n" + " ".join(about) + "\n\n" + intro + "\n\n"
            + text + "\\end{document}\n")
