"""An exercise sheet (or its key) as a LaTeX article: one page per variant.

Each page has the variant's seed and the command that regenerates it, the network drawn with
TikZ (the paths lit only when they are not asked for), every leaf value exactly as the key
used it, and one block per path: the path (or a line to write it on), a table of its local
partials loss side first (expression and/or value, or empty cells), its product, and the
gradient. The key (after the sheets, with --key) fills every blank and gives the points line
by line.
"""

from __future__ import annotations

from ..analyses.exercise import Exercise, KeyPath, Variant, points
from . import texmath as tm
from .exercise_text import KEY_DIGITS, exact, regenerate
from .texmath import TexNotation

__all__ = ["render"]

PICTURE_NAMES_LIMIT = 150
ROW = r"\rule[-0.3cm]{0pt}{0.85cm}"  # the height of a row the student writes in
RULE = r"\hrulefill"  # a line to write on, to the end of the line


def render(ex: Exercise, key: bool = False, source: str | None = None) -> str:
    """The sheet as a standalone document; with `key`, the sheets and then their keys (one
    command makes the exam and its key)."""
    from .drawing import TIKZ_PREAMBLE

    parts = [
        "\\documentclass[11pt]{article}\n",
        "\\usepackage[a4paper,margin=2cm]{geometry}\n",
        "\\usepackage{amsmath,amssymb,array}\n",
        TIKZ_PREAMBLE,
        "\\setlength{\\parindent}{0pt}\n\\setlength{\\parskip}{0.8ex}\n",
        "\\setlength{\\emergencystretch}{3em}\n\\renewcommand{\\arraystretch}{1.3}\n",
        "\\pagestyle{empty}\n\\begin{document}\n",
    ]
    # with the key: every variant's sheet, then every variant's key (print them apart)
    writers = [_Page(ex, False, source)] + ([_Page(ex, True, source)] if key else [])
    pages = [w.page(v) for w in writers for v in ex.variants]
    parts.append("\\newpage\n".join(pages))
    parts.append("\\end{document}\n")
    return "".join(parts)


def _pt(n: int) -> str:
    return r"\hfill\textbf{[%d\,pt]}" % n


class _Page:
    def __init__(self, ex: Exercise, key: bool, source: str | None) -> None:
        self.ex, self.key, self.source = ex, key, source
        self.tex = TexNotation(ex.spec)
        self.blank = set(ex.blank)

    def page(self, v: Variant) -> str:
        ex, tex = self.ex, self.tex
        w, loss = tex.name(ex.weight), tex.name(ex.loss)
        k = len(ex.variants)
        title = "Answer key" if self.key else "Exercise"
        out = [rf"\section*{{{title}: $\partial {loss}/\partial {w}$ as a sum over paths}}" "\n",
               rf"\textbf{{Variant {v.number} of {k}}} \quad seed {v.seed} \hfill "
               rf"{{\small\texttt{{{tm.prose(regenerate(ex, v, self.source))}}}}}" "\n\n"]
        about = [r"\textbf{%s.}" % tm.prose(ex.spec.name)] if ex.spec.name else []
        if ex.spec.description:
            about.append(tm.prose(ex.spec.description))
        if about:
            out.append(" ".join(about) + "\n\n")
        out.append(self.picture(v))
        out.append(self.values(v))
        out.append(self.tasks(v))
        for n, p in enumerate(v.paths, 1):
            out.append(self.block(p, n))
        if "values" in self.blank:
            line = (rf"$= {tm.number(v.gradient, KEY_DIGITS)}$" + _pt(1)) if self.key else RULE
            out.append(rf"\medskip\textbf{{Gradient:}} $\dfrac{{\partial {loss}}}"
                       rf"{{\partial {w}}}$ (the sum over the paths) \quad {line}" "\n\n")
        if self.key:
            out.append(rf"\medskip\textbf{{Total: {points(v.paths, ex.blank)} points}} "
                       r"(one per path found, per factor, per product and for the "
                       r"gradient, as \texttt{pathgrad check} counts them)." "\n\n")
            out.append(r"{\small Computed from the values above exactly as printed; every "
                       r"sum over paths verified against sympy's derivative ("
                       + tm.prose(v.explanation.verification.method) + ").}\n\n")
        else:
            out.append(r"{\small Check your work: \texttt{pathgrad exercise ... --seed "
                       rf"{v.seed} --answers-template -o answers.yaml}}, fill it in, then "
                       r"\texttt{pathgrad check SPEC answers.yaml}.}" "\n\n")
        return "".join(out)

    def picture(self, v: Variant) -> str:
        spec = self.ex.spec
        if len(spec.names) > PICTURE_NAMES_LIMIT:
            return ""
        from . import drawing, scene

        lit = self.key or "paths" not in self.blank
        sc = scene.build(spec, self.ex.weight if lit else None, "none",
                         explanation=v.explanation)
        names = {n: self.tex.name(n) for n in sc.nodes}
        caption = (rf"In red: the paths from ${self.tex.name(self.ex.weight)}$ to "
                   rf"${self.tex.name(self.ex.loss)}$." if lit else "The network.")
        return ("\\begin{center}\n" + drawing.tikz(sc, names, max_height_pt=210)
                + "\n{\\small " + caption + "}\n\\end{center}\n")

    def values(self, v: Variant) -> str:
        items = []
        for n, x in v.values.items():
            items.append(f"${self.tex.name(n)} = {exact(x)}$")
        return r"\textbf{Values:} " + ", \\ ".join(items) + ".\n\n"

    def tasks(self, v: Variant) -> str:
        tex, ex = self.tex, self.ex
        w, loss = tex.name(ex.weight), tex.name(ex.loss)
        asks = []
        if "paths" in self.blank:
            asks.append(rf"Write down every path from ${w}$ to ${loss}$ (a path follows the "
                        "arrows; list its names).")
        if "partials" in self.blank:
            asks.append(r"For each edge $u \to v$ of a path, write the local partial "
                        r"derivative $\partial v/\partial u$ in the network's names (all other "
                        "names held fixed).")
        if "values" in self.blank:
            asks.append(r"Evaluate each local partial at the values above, multiply along "
                        rf"each path, and add the paths: $\partial {loss}/\partial {w}$ is the "
                        "sum over paths of the product of the local partials. Give 4 "
                        "significant digits.")
        if not asks:
            return ""
        return "\\begin{enumerate}\n" + "".join(rf"\item {a}" "\n" for a in asks) + \
            "\\end{enumerate}\n"

    def block(self, p: KeyPath, n: int) -> str:
        tex, key = self.tex, self.key
        out = [r"\par\medskip\textbf{Path %d:} " % n]
        route = "$" + r" \to ".join(tex.name(x) for x in p.nodes) + "$"
        if "paths" in self.blank and not key:
            out.append(RULE + "\n\n")
        else:
            out.append(route + (_pt(1) if key and "paths" in self.blank else "") + "\n\n")
        cols = []
        if "partials" in self.blank or key or "values" in self.blank:
            cols.append("partial")
        if "values" in self.blank:
            cols.append("value")
        if not ({"partials", "values"} & self.blank):
            return "".join(out)
        spec = [r">{\raggedright\arraybackslash}p{2.4cm}",
                r">{\raggedright\arraybackslash}p{%.1fcm}" % (8.6 if "value" in cols else 11.6)]
        head = [r"\textbf{edge}", r"\textbf{local partial}"]
        if "value" in cols:
            spec.append(r">{\raggedright\arraybackslash}p{2.8cm}")
            head.append(r"\textbf{value}")
        if key:
            spec.append("c")
            head.append(r"\textbf{pt}")
        rows = []
        for i in reversed(range(len(p.factors))):  # loss side first, as the chain is written
            u, v_ = p.nodes[i], p.nodes[i + 1]
            edge = r"\partial %s/\partial %s" % (tex.name(v_), tex.name(u))
            show_edge = key or "paths" not in self.blank
            cells = [f"${edge}$" if show_edge else ROW]
            partial = f"${tex.latex(p.factors[i])}$"
            cells.append(partial if key or "partials" not in self.blank else ROW)
            if "value" in cols:
                cells.append(f"${tm.number(p.factor_values[i], KEY_DIGITS)}$" if key else ROW)
            if key:
                cells.append("1")
            rows.append(" & ".join(cells) + r" \\ \hline")
        out.append("\\begin{tabular}{|" + "|".join(spec) + "|}\n\\hline\n"
                   + " & ".join(head) + r" \\ \hline" + "\n" + "\n".join(rows)
                   + "\n\\end{tabular}\n\n")
        if "values" in self.blank:
            value = rf"$= {tm.number(p.value, KEY_DIGITS)}$" + _pt(1) if key else RULE
            out.append(r"\smallskip Product along path %d: \quad %s" % (n, value) + "\n\n")
        return "".join(out)
