"""LaTeX export: a standalone document (article + amsmath + TikZ) or just the math.

For handouts and exams: the network with the weight's paths in red, then one labelled
equation per path in the spec's notation — the chain of partials, the local partials written
out, their numbers and the path's value — the sum over paths, sympy's direct derivative, and
the verification statement. Long lines are broken between factors (see `texmath`), so the
document compiles with plain pdflatex without overfull lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..analyses.explanation import Explanation
from ..calculus import tree_size
from . import texmath as tm
from .texmath import Piece, TexNotation

__all__ = ["render", "document", "fragment", "Writer", "BUDGET_EM", "SUM_TERMS_LIMIT",
           "PICTURE_NAMES_LIMIT"]

BUDGET_EM = 39.0  # em of display math per line: A4 with 2 cm margins at 11 pt is 44 em
FRAGMENT_BUDGET_EM = 30.0  # the default article is 34.5 em wide: fragments fit it
TAG_EM = 6.0  # room for a tag such as (Path 64) at the end of a first line
SUM_TERMS_LIMIT = 100  # more paths than this: the sum refers to the paths instead of repeating
DIRECT_TREE_LIMIT = 2_000  # sympy's derivative larger than this is not printed
PICTURE_NAMES_LIMIT = 150  # a larger network would be unreadable at page size
POINT_LIMIT = 60  # leaf values listed at most


def render(ex: Explanation, fragment: bool = False) -> str:
    """The explanation as a standalone LaTeX document, or (`fragment`) only its math:
    `align*` blocks that need amsmath and paste into any document (or Jupyter)."""
    return Writer(ex, budget=FRAGMENT_BUDGET_EM).fragment() if fragment else \
        Writer(ex).document()


def document(ex: Explanation) -> str:
    """A standalone document: `pdflatex file.tex` with texlive-latex-base/-recommended and
    texlive-pictures."""
    return Writer(ex).document()


def fragment(ex: Explanation) -> str:
    """Only the math (align* environments), for pasting into your own document."""
    return Writer(ex, budget=FRAGMENT_BUDGET_EM).fragment()


def _num(x: float, paren: bool = True) -> str:
    text = tm.number(x)
    return f"({text})" if paren and x < 0 else text


class Writer:
    """The rows of the derivation. `tags` labels equations (\\tag is not available in
    GitHub's `aligned`); `notes` adds \\text rows for paths without a value."""

    def __init__(self, ex: Explanation, *, tags: bool = True, notes: bool = True,
                 budget: float = BUDGET_EM) -> None:
        self.ex = ex
        self.budget = budget
        self.tags = tags
        self.notes = notes
        self.tex = TexNotation(ex.spec)
        self._edge_values: dict[tuple[str, str], float | None] | None = None

    # --- pieces of the derivation -------------------------------------------------------

    def edge_values(self) -> dict[tuple[str, str], float | None]:
        """∂v/∂u at the point for every edge on a path (one forward pass)."""
        if self._edge_values is None:
            from ..calculus import Network
            from .scene import edge_values

            edges = {(u, v) for p in self.ex.paths for u, v in zip(p.nodes, p.nodes[1:])}
            net = self.ex.network or Network(self.ex.spec)
            self._edge_values = edge_values(net, self.ex.values, sorted(edges))
        return self._edge_values

    def block(self, pieces: Sequence[Piece], lead: str = "", tag: str | None = None) -> list[str]:
        """Rows of an align*: the first starts with `lead`, the rest are indented."""
        tag = tag if self.tags else None
        first = self.budget - (TAG_EM if tag else 0) - tm.em(lead)
        lines = tm.pack(pieces, self.budget - 2, first)
        rows = []
        for i, line in enumerate(lines):
            if i == 0:
                rows.append(f"&{lead} {line}" + (r" \tag{%s}" % tag if tag else ""))
            else:
                rows.append(rf"&\qquad {line}")
        return rows

    def text_rows(self, text: str, lead: str = "") -> list[str]:
        """Text inside math, cut into lines of words (a \\text{} cannot break by itself)."""
        rows, line = [], ""
        limit = int(self.budget * 2)  # about two characters per em in roman text
        for word in text.split():
            if line and len(line) + 1 + len(word) > limit:
                rows.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            rows.append(line)
        return [f"&{lead if i == 0 else ''}" + r"\text{%s}" % tm.text(r)
                for i, r in enumerate(rows)]

    def path_rows(self, i: int) -> list[str]:
        p = self.ex.paths[i]
        steps = p.factors_loss_first()
        chain = [Piece(self.tex.leibniz(v, u), r"\cdot" if k else "")
                 for k, (v, u, _) in enumerate(steps)]
        rows = self.block(chain, "", tag=f"Path {i + 1}")
        rows += self.block(self.tex.product([f for _, _, f in steps], self.budget - 2), "=")
        values = self.edge_values()
        nums = [values.get((u, v)) for v, u, _ in steps]
        if len(nums) > 1 and all(x is not None for x in nums):
            rows += self.block([Piece(_num(x), r"\cdot" if k else "")  # type: ignore[arg-type]
                                for k, x in enumerate(nums)], "=")
        if p.value is not None:
            rows.append("&= " + _num(p.value, paren=False))
        elif p.note and self.notes:
            rows += self.text_rows(f"(no value: {p.note})")
        return rows

    def sum_rows(self) -> list[str]:
        ex = self.ex
        lhs = self.tex.leibniz(ex.loss, ex.weight)
        n = len(ex.paths)
        tag = r" \tag{Sum}" if self.tags else ""
        if n == 0:
            return [f"&{lhs} = 0{tag}"]
        if n > SUM_TERMS_LIMIT:
            rows = [rf"&{lhs} = \sum_{{k=1}}^{{{n}}} \text{{Path }} k{tag}"]
        else:
            rows = []
            for k, p in enumerate(ex.paths):  # each path's product starts a line of its own
                factors = [f for _, _, f in p.factors_loss_first()]
                prod = self.tex.product(factors, self.budget - 4)
                if k:
                    prod[0] = Piece(prod[0].body, "+")
                    rows += [rf"&\qquad {line}" for line in tm.pack(prod, self.budget - 2)]
                else:
                    rows += self.block(prod, f"{lhs} =", tag="Sum")
            values = [p.value for p in ex.paths]
            if n > 1 and all(v is not None for v in values):
                nums = [Piece(tm.number(values[0]))]  # type: ignore[arg-type]
                nums += [Piece(tm.number(abs(v)), "-" if v < 0 else "+")  # type: ignore
                         for v in values[1:]]
                rows += self.block(nums, "=")
        if ex.value is not None:
            rows.append("&= " + tm.number(ex.value))
        return rows

    def direct_rows(self) -> list[str] | None:
        """sympy's derivative in the network's names; None when too large to print."""
        ex = self.ex
        if not ex.direct_computed or \
                tree_size(ex.direct_names, DIRECT_TREE_LIMIT) > DIRECT_TREE_LIMIT:
            return None
        lhs = self.tex.leibniz(ex.loss, ex.weight)
        pieces = self.tex.pieces(ex.direct_names, self.budget - 2)
        return self.block(pieces, f"{lhs} =", tag="Direct")

    def direct_note(self) -> str:
        return f"({self.ex.direct_note})"

    def verdict(self) -> str:
        text = self.ex.verdict
        return (f"Verified: {text}." if self.ex.verified else f"{text}.")

    @staticmethod
    def align(rows: Sequence[str]) -> str:
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"

    # --- the two outputs ----------------------------------------------------------------

    def fragment(self) -> str:
        out = [self.align(self.path_rows(i)) for i in range(len(self.ex.paths))]
        out.append(self.align(self.sum_rows()))
        direct = self.direct_rows() or self.text_rows(self.direct_note())
        out.append(self.align(direct + self.text_rows(self.verdict())))
        return "".join(out)

    def point(self) -> str:
        items = [(n, v) for n, v in self.ex.values.items() if v is not None]
        shown = [f"${self.tex.name(n)} = {tm.number(float(v))}$" for n, v in items[:POINT_LIMIT]]
        if len(items) > POINT_LIMIT:
            shown.append(f"and {len(items) - POINT_LIMIT:,} more")
        return ", ".join(shown)

    def picture(self) -> str:
        ex = self.ex
        if len(ex.spec.names) > PICTURE_NAMES_LIMIT:
            return (f"(The network has {len(ex.spec.names):,} names, too many to draw on a page; "
                    r"\texttt{pathgrad graph} writes it as .svg, .png, .dot or .mmd.)" + "\n\n")
        from . import drawing, scene

        sc = scene.build(ex.spec, ex.weight, "none", explanation=ex)
        names = {n: self.tex.name(n) for n in sc.nodes}
        caption = (rf"The network; in red, the {len(ex.paths)} "
                   rf"path{'s' if len(ex.paths) != 1 else ''} from "
                   rf"${self.tex.name(ex.weight)}$ to ${self.tex.name(ex.loss)}$.")
        return ("\\begin{center}\n" + drawing.tikz(sc, names) + "\n\\medskip\n{\\small "
                + caption + "}\n\\end{center}\n\n")

    def document(self) -> str:
        ex = self.ex
        w, loss = self.tex.name(ex.weight), self.tex.name(ex.loss)
        n = ex.path_count
        from .drawing import TIKZ_PREAMBLE

        parts = [
            "\\documentclass[11pt]{article}\n",
            "\\usepackage[a4paper,margin=2cm]{geometry}\n",
            "\\usepackage{amsmath,amssymb}\n",
            TIKZ_PREAMBLE,
            "\\allowdisplaybreaks\n\\setlength{\\parindent}{0pt}\n\\setlength{\\parskip}{0.6ex}\n",
            # loose lines rather than overfull ones when user text has few places to break
            "\\setlength{\\emergencystretch}{3em}\n",
            "\\begin{document}\n",
            rf"\section*{{$\partial {loss}/\partial {w}$ as a sum over "
            rf"{n:,} path{'s' if n != 1 else ''}}}" + "\n",
        ]
        about = []
        if ex.spec.name:
            about.append(r"\textbf{%s.}" % tm.prose(ex.spec.name))
        if ex.spec.description:
            about.append(tm.prose(ex.spec.description))
        if about:
            parts.append(" ".join(about) + "\n\n")
        point = self.point()
        if point:
            parts.append(f"At the point {point}.\n\n")
        parts.append(self.picture())
        parts.append("\\subsection*{The paths}\n")
        parts.append(rf"Each path from ${w}$ to ${loss}$ contributes the product of the local "
                     "partial derivatives along it, written from the loss side back to the "
                     "weight.\n\n")
        for i, p in enumerate(ex.paths):
            route = r" \to ".join(self.tex.name(x) for x in p.nodes)
            parts.append(rf"\textbf{{Path {i + 1}:}} ${route}$" + "\n")
            parts.append(self.align(self.path_rows(i)))
        if not ex.paths:
            parts.append(rf"${loss}$ does not depend on ${w}$: there are no paths." + "\n\n")
        parts.append("\\subsection*{The sum over paths}\n")
        parts.append(self.align(self.sum_rows()))
        parts.append("\\subsection*{Check}\n")
        parts.append(rf"sympy's derivative of the composed ${loss}$, written in the network's "
                     "names:\n")
        direct = self.direct_rows()
        parts.append(self.align(direct) if direct else tm.prose(self.direct_note()) + "\n")
        parts.append("\n" + tm.prose(self.verdict()) + "\n")
        if ex.value_note and ex.value is None:
            parts.append("\n" + tm.prose(f"No value at this point: {ex.value_note}.") + "\n")
        parts.append("\\end{document}\n")
        return "".join(parts)
