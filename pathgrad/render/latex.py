"""LaTeX export: a standalone document (article + amsmath + TikZ) or just the math.

For handouts and exams, readable at any size: the point as a table of values (leaves, then
the forward pass), the network with the weight's paths in red, then one labelled equation
per path in the spec's notation — the chain of partials, the local partials written out
(simplified for reading when proved equal), their numbers and the path's value — the sum
over paths written once, compactly, the direct derivative (or a sentence when it is too long
to read), and the verdict as mathematics. Equations are set flush left (`fleqn`) so every
path lines up; long lines break between factors (see `texmath`), so the document compiles
with plain pdflatex without overfull lines. `--top K` gives the same handout for the K
largest paths of a network of any size.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..analyses.explanation import Explanation
from ..analyses.toppaths import TopPaths
from . import formats, wording
from . import texmath as tm
from .formats import Options
from .readable import Readable, readable
from .table import names_on_paths
from .texmath import Piece, TexNotation

__all__ = ["render", "document", "fragment", "Writer", "BUDGET_EM", "SUM_PRODUCTS_LIMIT",
           "PICTURE_NAMES_LIMIT", "DIRECT_LINES_LIMIT"]

BUDGET_EM = 37.0  # em of display math per line: A4 with 2 cm margins at 11 pt is 44 em,
MATH_INDENT_EM = 2.0  # less the fleqn indent
FRAGMENT_BUDGET_EM = 30.0  # the default article is 34.5 em wide: fragments fit it
TAG_EM = 6.0  # room for a tag such as (Path 64) at the end of a first line
SUM_PRODUCTS_LIMIT = 4  # more paths than this: the sum names the paths instead of repeating
COMPACT_PATHS = 8  # more paths than this: each partial once, then a line per path
DIRECT_LINES_LIMIT = 8  # a longer direct derivative is a sentence pointing to the JSON
PICTURE_NAMES_LIMIT = 150  # a larger network would be unreadable at page size
POINT_LIMIT = 120  # names in the values table at most
TABLE_PAIRS = 4  # name = value pairs per row of the values table


def render(ex: Explanation | TopPaths, fragment: bool = False,
           options: Options | None = None) -> str:
    """The explanation (or the top K paths) as a standalone LaTeX document, or (`fragment`)
    only its math: `align*` blocks that need amsmath and paste into any document."""
    w = Writer(ex, budget=FRAGMENT_BUDGET_EM if fragment else BUDGET_EM, options=options)
    return w.fragment() if fragment else w.document()


def document(ex: Explanation | TopPaths, options: Options | None = None) -> str:
    """A standalone document: `pdflatex file.tex` with texlive-latex-base/-recommended and
    texlive-pictures."""
    return Writer(ex, options=options).document()


def fragment(ex: Explanation | TopPaths, options: Options | None = None) -> str:
    """Only the math (align* environments), for pasting into your own document."""
    return Writer(ex, budget=FRAGMENT_BUDGET_EM, options=options).fragment()


class Writer:
    """The rows of the derivation. `tags` labels equations (\\tag is not available in
    GitHub's `aligned`); `notes` adds \\text rows for paths without a value."""

    def __init__(self, ex: Explanation | TopPaths, *, tags: bool = True, notes: bool = True,
                 budget: float = BUDGET_EM, options: Options | None = None) -> None:
        self.ex = ex
        self.top = isinstance(ex, TopPaths)
        self.opts = options or Options()
        self.budget = budget
        self.tags = tags
        self.notes = notes
        self.tex = TexNotation(ex.spec)
        self.read = readable(ex) if self.opts.simplify else Readable()
        self._edge_values: dict[tuple[str, str], float | None] | None = None

    def num(self, x: float | None, paren: bool = True) -> str:
        return formats.factor(x, self.opts.digits, "latex") if paren else \
            formats.number(x, self.opts.digits, "latex")

    # --- pieces of the derivation -------------------------------------------------------

    def edge_values(self) -> dict[tuple[str, str], float | None]:
        """∂v/∂u at the point for every edge on a path (one forward pass)."""
        if self._edge_values is None:
            from .numbers import edge_values

            edges = {(u, v) for p in self.ex.paths for u, v in zip(p.nodes, p.nodes[1:])}
            self._edge_values = edge_values(self.ex.spec, self.ex.values, sorted(edges))
        return self._edge_values

    def tag(self, text: str, key: str) -> str:
        return r" \tag{%s}\label{pathgrad:%s}" % (text, key) if self.tags else ""

    def block(self, pieces: Sequence[Piece], lead: str = "", tag: str = "") -> list[str]:
        """Rows of an align*: the first starts with `lead`, the rest are indented."""
        first = self.budget - (TAG_EM if tag else 0) - tm.em(lead)
        lines = tm.pack(pieces, self.budget - 2, first)
        rows = []
        for i, line in enumerate(lines):
            if i == 0:
                rows.append(f"&{lead} {line}" + tag)
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

    def factors(self, i: int) -> list[sp.Expr]:
        """Path i's local partials as shown (simplified), loss side first."""
        return [self.read.factor(f) for _, _, f in self.ex.paths[i].factors_loss_first()]

    def path_rows(self, i: int) -> list[str]:
        p = self.ex.paths[i]
        steps = p.factors_loss_first()
        chain = [Piece(self.tex.leibniz(v, u), r"\cdot" if k else "")
                 for k, (v, u, _) in enumerate(steps)]
        rows = self.block(chain, "", tag=self.tag(f"Path {i + 1}", f"path-{i + 1}"))
        rows += self.block(self.tex.product(self.factors(i), self.budget - 2), "=")
        values = self.edge_values()
        nums = [values.get((u, v)) for v, u, _ in steps]
        if len(nums) > 1 and all(x is not None for x in nums):
            rows += self.block([Piece(self.num(x), r"\cdot" if k else "")
                                for k, x in enumerate(nums)], "=")
        if p.value is not None:
            rows.append("&= " + self.num(p.value, paren=False))
        elif p.note and self.notes:
            rows += self.text_rows(f"(no value: {p.note})")
        return rows

    def edge_rows(self) -> list[str]:
        """Each local partial on the paths once (loss side first): ∂v/∂u = expression = value,
        two side by side when they fit."""
        order = {n: i for i, n in enumerate(self.ex.spec.graph.order)}
        edges = {(u, v): f for p in self.ex.paths for v, u, f in p.factors_loss_first()}
        values = self.edge_values()
        items = []
        for (u, v), f in sorted(edges.items(), key=lambda e: (-order.get(e[0][1], 0),
                                                              -order.get(e[0][0], 0))):
            x = values.get((u, v))
            lhs = rf"\partial {self.tex.name(v)}/\partial {self.tex.name(u)} ="
            pieces = self.tex.pieces(self.read.factor(f), self.budget - 4)
            if x is not None:
                pieces.append(Piece(self.num(x, paren=False), "="))
            items.append((f"{lhs} {tm.join(pieces)}", lhs, pieces))
        return self._side_by_side(items)

    def route_rows(self) -> list[str]:
        """Every path in one line (two side by side when they fit): route and value."""
        items = []
        for i, p in enumerate(self.ex.paths):
            route = r" \to ".join(self.tex.name(x) for x in p.nodes)
            value = self.num(p.value, paren=False) if p.value is not None else r"\text{—}"
            head = rf"\text{{({i + 1})}}\;"
            pieces = [Piece(self.tex.name(x), r"\to" if k else "") for k, x in enumerate(p.nodes)]
            pieces.append(Piece(value, ":"))
            items.append((rf"{head} {route}:\ {value}", head, pieces))
        return self._side_by_side(items)

    def _side_by_side(self, items: list[tuple[str, str, list[Piece]]]) -> list[str]:
        """(math, lead, pieces) items, two to a row when they fit; one too wide for a row is
        broken between its pieces."""
        rows, k = [], 0
        while k < len(items):
            tex = items[k][0]
            pair = f"{tex} \\qquad {items[k + 1][0]}" if k + 1 < len(items) else None
            if pair is not None and tm.em(pair) <= self.budget - 1:
                rows.append(f"&{pair}")
                k += 2
                continue
            if tm.em(tex) <= self.budget:
                rows.append(f"&{tex}")
            else:
                rows += self.block(items[k][2], items[k][1])
            k += 1
        return rows

    def _number_sum(self, values: Sequence[float]) -> list[Piece]:
        nums = [Piece(self.num(values[0], paren=False))]
        nums += [Piece(self.num(abs(v), paren=False), "-" if v < 0 else "+")
                 for v in values[1:]]
        return nums

    def sum_rows(self) -> list[str]:
        ex = self.ex
        lhs = self.tex.leibniz(ex.loss, ex.weight)
        n = len(ex.paths)
        tag = self.tag("Sum", "sum")
        if self.top:
            lhs = r"\sum_{\text{top } %d} \text{Path } k" % n
        if n == 0:
            return [f"&{lhs} = 0{tag}"]
        values = [p.value for p in ex.paths]
        known = all(v is not None for v in values)
        if n > SUM_PRODUCTS_LIMIT or self.top:
            head = r"\text{Path } 1 + \text{Path } 2" + (
                r" + \dots + \text{Path } %d" % n if n > 3 else
                (r" + \text{Path } 3" if n == 3 else "")) if n > 1 else r"\text{Path } 1"
            if self.top:
                rows = [f"&{lhs}{tag}"]
            else:
                rows = [f"&{lhs} = {head}{tag}"]
            if n > 1 and known:
                rows += self.block(self._number_sum(values), "=")  # type: ignore[arg-type]
        else:
            rows = []
            # every product gets the same width, so identical terms break identically
            width = self.budget - 2 - max(TAG_EM + tm.em(lhs + " ="), 4)
            for k in range(n):  # each path's product starts a line of its own
                prod = self.tex.product(self.factors(k), width)
                lines = tm.pack(prod, width)
                for j, line in enumerate(lines):
                    if k == 0 and j == 0:
                        rows.append(f"&{lhs} = {line}{tag}")
                    else:
                        lead = "+ " if j == 0 else r"\quad "
                        rows.append(rf"&\qquad {lead}{line}")
            if n > 1 and known:
                rows += self.block(self._number_sum(values), "=")  # type: ignore[arg-type]
        total = ex.covered if self.top else ex.value
        if total is not None:
            rows.append("&= " + self.num(total, paren=False))
        return rows

    def direct_rows(self) -> list[str] | None:
        """sympy's derivative in the network's names (simplified for reading when proved
        equal); None when it was not computed or is too long to read."""
        ex = self.ex
        if self.top or not ex.direct_computed:
            return None
        expr = self.read.direct if self.read.direct is not None else ex.direct_names
        from ..calculus import tree_size

        if tree_size(expr, 4_000) > 4_000:
            return None
        lhs = self.tex.leibniz(ex.loss, ex.weight)
        pieces = self.tex.pieces(expr, self.budget - 2)
        rows = self.block(pieces, f"{lhs} =", tag=self.tag("Direct", "direct"))
        return rows if len(rows) <= DIRECT_LINES_LIMIT else None

    def direct_note(self) -> str:
        ex = self.ex
        if self.top:
            return ""
        if not ex.direct_computed:
            return f"({ex.direct_note})"
        return (f"({ex.direct_label} is too long to be worth "
                "reading here; pathgrad explain --format json has it under \"direct\".)")

    def verdict(self) -> str:
        """The verdict in LaTeX text mode (with inline math)."""
        ex = self.ex
        if self.top:
            return tm.prose(f"Over all {formats.count(ex.path_count)} paths (reverse-mode "
                            "accumulation, without listing them): ") + \
                f"${self.tex.leibniz(ex.loss, ex.weight)} = {self.num(ex.value, False)}$" + (
                    tm.prose(f"; the {len(ex.paths)} paths above carry "
                             f"{formats.percent(ex.share)} of it.")
                    if ex.share is not None else ".")
        words = wording.verdict(ex.verification, ex.direct_computed, "latex")
        if ex.verified:
            what = ("the direct derivative" if ex.direct_computed
                    else "finite differences of the composed loss")
            return (r"\textbf{Verified:} " + tm.prose(f"the sum over paths equals {what}; ")
                    + words + ".")
        return r"\textbf{NOT VERIFIED:} " + words + "."

    @staticmethod
    def align(rows: Sequence[str]) -> str:
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"

    # --- the two outputs ----------------------------------------------------------------

    def fragment(self) -> str:
        out = [self.align(self.path_rows(i)) for i in range(len(self.ex.paths))]
        out.append(self.align(self.sum_rows()))
        rows = [] if self.top else (self.direct_rows() or self.text_rows(self.direct_note()))
        out.append(self.align(rows + self.text_rows(self.verdict_words())))
        return "".join(out)

    def verdict_words(self) -> str:
        """The verdict as plain words (for \text rows in a fragment or Markdown)."""
        ex = self.ex
        if self.top:
            return (f"Over all {formats.count(ex.path_count)} paths: ∂{ex.loss}/∂{ex.weight} = "
                    f"{formats.number(ex.value, self.opts.digits)}"
                    + (f"; these paths carry {formats.percent(ex.share)} of it."
                       if ex.share is not None else "."))
        words = wording.verdict(ex.verification, ex.direct_computed)
        return f"Verified: the sum over paths equals the direct derivative; {words}." \
            if ex.verified else f"{words}."

    def values_table(self) -> str:
        """The point and the forward pass as a table of name = value pairs."""
        ex = self.ex
        spec = ex.spec
        leaves = [(n, float(v) if v is not None else None) for n, v in ex.values.items()]
        if self.top:
            from .numbers import forward_values

            node_values = forward_values(spec, ex.values) if len(spec.nodes) <= 2_000 else {}
        else:
            node_values = ex.node_values
        nodes = [(n, node_values.get(n)) for n in spec.graph.order if n in spec.nodes
                 and n in node_values]
        on_paths = names_on_paths(ex)  # type: ignore[arg-type]
        out = []
        for title, items in (("At the point", leaves), ("Forward pass", nodes)):
            if len(items) > POINT_LIMIT:  # keep the names on the paths, then the first ones
                keep = [it for it in items if it[0] in on_paths][:POINT_LIMIT]
                rest = len(items) - len(keep)
                items = keep
            else:
                rest = 0
            if not items:
                continue
            cells = [rf"${self.tex.name(n)} = {self.num(v, False)}$" for n, v in items]
            rows = [" & ".join(cells[k:k + TABLE_PAIRS] + [""] * (TABLE_PAIRS - len(
                cells[k:k + TABLE_PAIRS]))) for k in range(0, len(cells), TABLE_PAIRS)]
            more = (rf" \multicolumn{{{TABLE_PAIRS}}}{{l}}{{\small and {rest:,} more: "
                    r"\texttt{--format json} has every value}\\" + "\n") if rest else ""
            out.append(rf"\textbf{{{title}}}" + "\\par\\nopagebreak\\smallskip\n"
                       + "{\\small\n\\begin{tabular}{@{}" + "l" * TABLE_PAIRS + "@{}}\n"
                       + " \\\\\n".join(rows) + " \\\\\n" + more + "\\end{tabular}}\n\n")
        return "\\medskip\n".join(out) + ("\n" if out else "")

    def picture(self) -> str:
        ex = self.ex
        if len(ex.spec.names) > PICTURE_NAMES_LIMIT:
            return (f"(The network has {len(ex.spec.names):,} names, too many to draw on a page; "
                    r"\texttt{pathgrad graph} writes it as .svg, .png, .dot or .mmd.)" + "\n\n")
        from . import drawing, scene

        sc = scene.build(ex.spec, ex.weight, "none",
                         explanation=None if self.top else ex)  # type: ignore[arg-type]
        names = {n: self.tex.name(n) for n in sc.nodes}
        shown = len(ex.paths)
        what = (f"the {shown} largest of the {formats.count(ex.path_count)} paths"
                if self.top else f"the {shown} path{'s' if shown != 1 else ''}")
        caption = (rf"The network; in red, {tm.text(what)} from "
                   rf"${self.tex.name(ex.weight)}$ to ${self.tex.name(ex.loss)}$.")
        return ("\\begin{center}\n" + drawing.tikz(sc, names) + "\n\\medskip\n{\\small "
                + caption + "}\n\\end{center}\n\n")

    def document(self) -> str:
        ex = self.ex
        w, loss = self.tex.name(ex.weight), self.tex.name(ex.loss)
        n = ex.path_count
        from .drawing import TIKZ_PREAMBLE

        if self.top:
            head = (rf"The {len(ex.paths)} largest of the {formats.count(n, 'latex')} paths "
                    rf"from ${w}$ to ${loss}$")
        else:
            head = (rf"$\partial {loss}/\partial {w}$ as a sum over {n:,} "
                    rf"path{'s' if n != 1 else ''}")
        parts = [
            "\\documentclass[11pt,fleqn]{article}\n",
            "\\usepackage[a4paper,margin=2cm]{geometry}\n",
            "\\usepackage{amsmath,amssymb}\n",
            TIKZ_PREAMBLE,
            "\\allowdisplaybreaks\n\\setlength{\\parindent}{0pt}\n\\setlength{\\parskip}{0.6ex}\n",
            f"\\setlength{{\\mathindent}}{{{MATH_INDENT_EM:g}em}}\n",
            # loose lines rather than overfull ones when user text has few places to break
            "\\setlength{\\emergencystretch}{3em}\n",
            "\\begin{document}\n",
            rf"\section*{{{head}}}" + "\n",
        ]
        about = []
        if ex.spec.name:
            about.append(r"\textbf{%s.}" % tm.prose(ex.spec.name))
        if ex.spec.description:
            about.append(tm.prose(ex.spec.description))
        if about:
            parts.append(" ".join(about) + "\n\n")
        parts.append(self.values_table())
        parts.append(self.picture())
        parts.append("\\subsection*{The paths}\n")
        parts.append(rf"Each path from ${w}$ to ${loss}$ contributes the product of the local "
                     "partial derivatives along it, written from the loss side back to the "
                     "weight, then their values at the point.\n\n")
        if len(ex.paths) > COMPACT_PATHS:  # the partials once, then each path in one line
            parts.append("The paths share their edges, so each local partial is written once "
                         "with its value at the point; a path's value is the product of the "
                         "partials along its route.\n")
            parts.append(self.align(self.edge_rows()))
            parts.append(self.align(self.route_rows()))
        else:
            for i, p in enumerate(ex.paths):
                route = r" \to ".join(self.tex.name(x) for x in p.nodes)
                parts.append(rf"\textbf{{Path {i + 1}:}} ${route}$" + "\n")
                parts.append(self.align(self.path_rows(i)))
        if not ex.paths:
            parts.append(rf"${loss}$ does not depend on ${w}$: there are no paths." + "\n\n")
        parts.append("\\subsection*{The sum over paths}\n" if not self.top
                     else "\\subsection*{What these paths add up to}\n")
        parts.append(self.align(self.sum_rows()))
        if not self.top:
            parts.append("\\subsection*{Check}\n")
            before, after = self.ex.direct_label_parts
            parts.append(tm.prose(before) + rf"${loss}${tm.prose(after)}, written in the "
                         "network's names" + (" and simplified for reading (proved equal)"
                                    if self.read.direct is not None else "") + ":\n")
            direct = self.direct_rows()
            parts.append(self.align(direct) if direct else tm.prose(self.direct_note()) + "\n")
        parts.append("\n" + self.verdict() + "\n")
        if not self.top and ex.value_note and ex.value is None:
            parts.append("\n" + tm.prose(f"No value at this point: {ex.value_note}.") + "\n")
        parts.append("\\end{document}\n")
        return "".join(parts)
