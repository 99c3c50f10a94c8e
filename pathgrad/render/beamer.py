"""`explain --format beamer`: a Beamer deck that tells the story one overlay at a time.

1. the network, then the same picture with every path from the weight to the loss lit;
2. one overlay per path: that path lit in the TikZ picture, its chain in Leibniz notation, the
   local partials in the network's names, their numbers, the path's value and the running sum
   (with `top`, the K largest paths, then a closing overlay with the rest summed);
3. the sum over paths equals sympy's direct derivative (and how it was verified);
4. backprop adds the same sum without listing: δ_loss = 1, then δ_v = Σ δ_child · ∂child/∂v
   node by node, one overlay per node, ending at δ_weight = the sum over paths.

16:9 frames, Beamer's default 11 pt sans serif (large on a projector), at most one path or
one δ per overlay. Compiles with pdflatex (beamer is in texlive-latex-recommended; TikZ in
texlive-pictures).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import sympy as sp

from ..analyses.backprop import Backprop
from ..analyses.explanation import Explanation, PathTerm
from . import texmath as tm
from .texmath import Piece, TexNotation

__all__ = ["render", "BUDGET_EM", "ROWS_PER_FRAME", "PICTURE_NAMES_LIMIT"]

BUDGET_EM = 34.0  # em of math per line in a 16:9 frame at 11 pt (the text is ~38 em wide)
ROWS_PER_FRAME = 7  # δ rows on one backprop frame
PICTURE_NAMES_LIMIT = 80  # a larger network is unreadable on a slide
SUM_TERMS = 8  # more paths than this: the sum frame names them instead of listing numbers
DIRECT_EM = 3 * BUDGET_EM  # sympy's derivative longer than three lines is not shown
DIGITS = 4
MAX_GROW = 1.8  # a small network is drawn at most this much larger than its natural size


def _num(x: float | None) -> str:
    return r"\text{undefined}" if x is None else tm.number(x, DIGITS)


def _paren(x: float | None) -> str:
    text = _num(x)
    return f"({text})" if x is not None and x < 0 else text


def render(ex: Explanation, backprop: Backprop | None = None, top: int | None = None) -> str:
    """The deck as a standalone Beamer document."""
    return _Deck(ex, backprop, top).document()


def _light(sc, nodes: Sequence[str] | None):  # noqa: ANN001, ANN202 - a scene.Scene
    """The scene with exactly the edges (and names) of one path lit; None: nothing lit."""
    edges = set(zip(nodes, nodes[1:])) if nodes else set()
    names = set(nodes or ())

    def edge_on(e) -> bool:  # noqa: ANN001
        return (e.u, e.v) in edges or any(c in edges for c in getattr(e, "covers", ()))

    def node_on(name: str, node) -> bool:  # noqa: ANN001
        return name in names or any(c in names for c in getattr(node, "covers", ()))

    return dataclasses.replace(
        sc, edges=tuple(dataclasses.replace(e, lit=edge_on(e)) for e in sc.edges),
        nodes={n: dataclasses.replace(node, lit=node_on(n, node))
               for n, node in sc.nodes.items()})


def _paths_only(sc):  # noqa: ANN001, ANN202 - a scene.Scene
    """Only the names on a path from the weight to the loss, columns closed up: the picture
    of the paths is then large enough to read on a projector."""
    keep = {n for n, node in sc.nodes.items() if node.lit}
    if not keep:
        return sc
    used = sorted({sc.nodes[n].column for n in keep})
    col = {c: i for i, c in enumerate(used)}
    rows: dict[int, list[str]] = {}
    for n in keep:
        rows.setdefault(sc.nodes[n].column, []).append(n)
    nodes = {}
    for c, names in rows.items():  # rows closed up too, centred on one another
        names.sort(key=lambda n: sc.nodes[n].row)
        for r, n in enumerate(names):
            nodes[n] = dataclasses.replace(sc.nodes[n], column=col[c],
                                           row=r - (len(names) - 1) / 2)
    edges = tuple(dataclasses.replace(e, bends=()) for e in sc.edges
                  if e.u in keep and e.v in keep and e.lit)
    return dataclasses.replace(sc, nodes=nodes, edges=edges, columns=len(used),
                               elided=(), bands=())


def _largest(r: int) -> str:
    """'the largest', 'the 2nd largest', … (by |value|)."""
    if r == 1:
        return "the largest"
    suffix = "th" if 10 <= r % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(r % 10, "th")
    return f"the {r}{suffix} largest"


class _Deck:
    def __init__(self, ex: Explanation, bp: Backprop | None, top: int | None) -> None:
        self.ex, self.bp = ex, bp
        self.tex = TexNotation(ex.spec)
        self.w, self.loss = self.tex.name(ex.weight), self.tex.name(ex.loss)
        order = list(range(len(ex.paths)))
        if top is not None and top < len(order):
            big = sorted(order, key=lambda i: -abs(ex.paths[i].value or 0.0))[:top]
            order = sorted(big)  # the K largest, in the listing's order
        self.shown = order
        self._scene = None
        self._values: dict[tuple[str, str], float | None] | None = None

    # --- pieces ---------------------------------------------------------------------------

    def scene(self):  # noqa: ANN201
        if self._scene is None:
            from . import scene

            self._scene = scene.build(self.ex.spec, self.ex.weight, "none", explanation=self.ex)
        return self._scene

    def overview(self):  # noqa: ANN201
        from . import scene

        try:
            return scene.build(self.ex.spec, self.ex.weight, "none", explanation=self.ex,
                               view="auto")
        except TypeError:  # a scene module without views
            return self.scene()

    def picture(self, nodes: Sequence[str] | None, all_paths: bool = False,
                height: float = 105, focus: bool = True) -> str:
        """The network (`focus`: only the names on the paths) with one path lit (`nodes`),
        every path (`all_paths`) or none."""
        if len(self.ex.spec.names) > PICTURE_NAMES_LIMIT:
            return ""
        from . import drawing

        if focus:
            sc = _paths_only(self.scene())
        else:  # the whole network: units and weights for mlp/rnn builders (more compact)
            sc = self.overview()
        sc = sc if all_paths else _light(sc, nodes)
        names = {n: self.tex.name(n) for n in sc.nodes}
        width = 370.0  # the frame has about 398 pt of text width; the picture runs a bit over
        picture = drawing.tikz(sc, names, max_width_pt=width, max_height_pt=height)
        # tikz() only shrinks; a small network is enlarged to fill the slide (up to 1.8×)
        g = drawing.geometry(sc)
        drawn_h = max(g.height - getattr(drawing, "TITLE_H", 34.0), 1.0)
        grow = min(MAX_GROW, width / g.width, height / drawn_h)
        if grow > 1.01:
            picture = r"\scalebox{%.3f}{%s}" % (grow, picture.rstrip("\n"))
        return "\\begin{center}\n" + picture + "\n\\end{center}\n"

    def edge_values(self) -> dict[tuple[str, str], float | None]:
        if self._values is None:
            from ..calculus import Network
            from .scene import edge_values

            edges = sorted({e for p in self.ex.paths for e in zip(p.nodes, p.nodes[1:])})
            net = self.ex.network or Network(self.ex.spec)
            self._values = edge_values(net, self.ex.values, edges)
        return self._values

    def lines(self, pieces: Sequence[Piece], lead: str) -> str:
        """Display math rows: `lead` then the pieces packed into lines that fit the frame."""
        rows = tm.pack(pieces, BUDGET_EM - 2, BUDGET_EM - tm.em(lead))
        return " \\\\\n".join(f"&{lead if i == 0 else chr(92) + 'qquad'} {r}"
                              for i, r in enumerate(rows))

    def path_math(self, p: PathTerm) -> str:
        steps = p.factors_loss_first()
        chain = [Piece(self.tex.leibniz(v, u), r"\cdot" if k else "")
                 for k, (v, u, _) in enumerate(steps)]
        rows = [self.lines(chain, "")]
        rows.append(self.lines(self.tex.product([f for _, _, f in steps], BUDGET_EM - 2), "="))
        values = self.edge_values()
        nums = [values.get((u, v)) for v, u, _ in steps]
        if all(x is not None for x in nums) and len(nums) > 1:
            rows.append(self.lines([Piece(_paren(x), r"\cdot" if k else "")
                                    for k, x in enumerate(nums)], "="))
        rows.append(r"&= \mathbf{%s}" % _num(p.value) if p.value is not None
                    else r"&\text{(no value here: %s)}" % tm.text(p.note or "undefined"))
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"

    # --- frames ---------------------------------------------------------------------------

    def title(self) -> str:
        spec = self.ex.spec
        sub = r"\subtitle{%s}" % tm.prose(spec.name) if spec.name else ""
        return (rf"\title{{$\partial {self.loss}/\partial {self.w}$ as a sum over paths}}"
                + sub + "\n\\date{}\n\\begin{frame}\n\\titlepage\n"
                + (r"\centering " + tm.prose(spec.description) if spec.description else "")
                + "\n\\end{frame}\n")

    def network(self) -> str:
        ex = self.ex
        n = ex.path_count
        point = [(k, v) for k, v in ex.values.items() if v is not None][:12]
        values = ", ".join(f"${self.tex.name(k)} = {tm.number(float(v), DIGITS)}$"
                           for k, v in point)
        return (
            "\\begin{frame}{The network}\n"
            f"\\only<1>{{{self.picture(None, height=135, focus=False)}}}"
            f"\\only<2->{{{self.picture(None, True, height=135, focus=False)}}}\n"
            f"{{\\small At the point {values}.}}\n\n\\medskip\n"
            rf"\uncover<2->{{How does ${self.loss}$ change with ${self.w}$? Along every path "
            rf"from ${self.w}$ to ${self.loss}$ --- there {'is' if n == 1 else 'are'} "
            rf"\textbf{{{n:,}}} path{'s' if n != 1 else ''} (in red).}}" "\n"
            "\\end{frame}\n")

    def paths(self) -> str:
        ex = self.ex
        n, shown = ex.path_count, self.shown
        if not shown:
            return (rf"\begin{{frame}}{{No paths}}${self.loss}$ does not depend on ${self.w}$: "
                    rf"$\partial {self.loss}/\partial {self.w} = 0$.\end{{frame}}" "\n")
        out = ["\\begin{frame}\n"]
        by_size = sorted(shown, key=lambda i: -abs(ex.paths[i].value or 0.0))
        rank = {i: r for r, i in enumerate(by_size, 1)}
        running = 0.0
        for k, i in enumerate(shown, 1):
            p = ex.paths[i]
            running += p.value or 0.0
            label = f"Path {i + 1} of {n:,}" + (f" ({_largest(rank[i])})" if len(shown) < n
                                                 else "")
            route = r" \to ".join(self.tex.name(x) for x in p.nodes)
            so_far = (rf"Running sum ({k} of {len(shown)} path{'s' if k > 1 else ''}): "
                      rf"$\mathbf{{{_num(running)}}}$")
            out.append(
                f"\\frametitle<{k}>{{{label}: ${route}$}}\n"
                f"\\only<{k}>{{\n{self.picture(p.nodes)}"
                f"{self.path_math(p)}"
                f"\\vfill {so_far}\n}}\n")
        if len(shown) < len(ex.paths):
            rest = len(ex.paths) - len(shown)
            top_sum = sum(ex.paths[i].value or 0.0 for i in shown)
            total = ex.value if ex.value is not None else 0.0
            k = len(shown) + 1
            out.append(
                f"\\frametitle<{k}>{{The other {rest:,} paths}}\n"
                f"\\only<{k}>{{\n{self.picture(None, True)}"
                rf"The {len(shown)} largest paths add up to ${_num(top_sum)}$." "\n\n"
                rf"The other {rest:,} paths add up to ${_num(total - top_sum)}$." "\n\n"
                rf"All {len(ex.paths):,} together: $\dfrac{{\partial {self.loss}}}"
                rf"{{\partial {self.w}}} = \mathbf{{{_num(ex.value)}}}$." "\n}\n")
        out.append("\\end{frame}\n")
        return "".join(out)

    def agreement(self) -> str:
        ex = self.ex
        lhs = rf"\frac{{\partial {self.loss}}}{{\partial {self.w}}}"
        values = [p.value for p in ex.paths]
        if 1 < len(values) <= SUM_TERMS and all(v is not None for v in values):
            nums = [Piece(_num(values[0]))] + [
                Piece(_num(abs(v)), "-" if v < 0 else "+") for v in values[1:]]  # type: ignore
            sum_rows = self.lines(nums, f"{lhs} =") + r" \\" + "\n" + \
                rf"&= \mathbf{{{_num(ex.value)}}}"
        else:
            sum_rows = (rf"&{lhs} = \sum_{{k=1}}^{{{len(values)}}} \text{{path}}_k = "
                        rf"\mathbf{{{_num(ex.value)}}}")
        direct = ""
        if ex.direct_computed:
            pieces = self.tex.pieces(ex.direct_names, BUDGET_EM - 2)
            if sum(tm.em(pc.body) for pc in pieces) <= DIRECT_EM:
                direct = ("\\uncover<2->{sympy differentiates the composed "
                          f"${self.loss}$ directly:\n\\begin{{align*}}\n"
                          + self.lines(pieces, f"{lhs} =") + " \\\\\n"
                          + rf"&= \mathbf{{{_num(ex.value)}}}" + "\n\\end{align*}}\n")
        if not direct:
            direct = ("\\uncover<2->{" + tm.prose(ex.direct_note) + ".}\n\n")
        mark = r"\textcolor{green!50!black}{$\checkmark$}" if ex.verified else \
            r"\textcolor{red}{$\times$}"
        return ("\\begin{frame}{The sum over paths is the derivative}\n"
                "Add the paths:\n\\begin{align*}\n" + sum_rows + "\n\\end{align*}\n"
                + direct
                + "\\uncover<3->{" + mark + " " + tm.prose(ex.verdict) + "}\n\\end{frame}\n")

    def backprop(self) -> str:
        bp = self.bp
        if bp is None or not bp.steps:
            return ""
        sym = r"\delta" if bp.mode == "reverse" else r"\dot t"
        rows = []
        for s in bp.steps:
            lhs = rf"{sym}_{{{self.tex.name(s.node)}}}"
            if not s.terms:
                rows.append(rf"{lhs} &= 1")
                continue
            parts = []
            for t in s.terms:
                other = rf"{sym}_{{{self.tex.name(t.other)}}}"
                factor = self.tex.factor(t.factor) if isinstance(t.factor, sp.Basic) \
                    else _paren(t.factor_value)
                parts.append(rf"{other} \cdot {factor}" if bp.mode == "reverse"
                             else rf"{factor} \cdot {other}")
            body = " + ".join(parts)
            if tm.em(body) > BUDGET_EM - 10:
                body = r"\textstyle\sum_{\text{%d children}} \dots" % len(s.terms)
            rows.append(rf"{lhs} &= {body} = {_num(s.value)}")
        chunks = [rows[i:i + ROWS_PER_FRAME] for i in range(0, len(rows), ROWS_PER_FRAME)]
        out = []
        for c, chunk in enumerate(chunks):
            body = " \\\\\n".join(rf"\uncover<{k}->{{{r}}}".replace("&", "}&\\uncover<%d->{" % k,
                                                                   1)
                                  for k, r in enumerate(chunk, 1))
            more = f" ({c + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            out.append(
                f"\\begin{{frame}}{{Backprop adds the same sum, node by node{more}}}\n"
                + (rf"From the loss back: $\delta_v = \sum_{{\text{{children }} c}} \delta_c"
                   rf"\cdot \partial c/\partial v$ ($\delta_v = \partial {self.loss}/"
                   r"\partial v$)." "\n" if c == 0 else "")
                + "\\begin{align*}\n" + body + "\n\\end{align*}\n")
            if c == len(chunks) - 1:
                k = len(chunk) + 1
                saved = (f"{bp.multiplications:,} multiplications instead of "
                         f"{bp.listing_multiplications:,} for listing every path")
                out.append(
                    rf"\uncover<{k}->{{$\delta_{{{self.w}}} = {_num(bp.value)}$: the sum over "
                    rf"all {bp.path_count:,} path{'s' if bp.path_count != 1 else ''}, each edge "
                    rf"used once --- {saved}.}}" "\n")
            out.append("\\end{frame}\n")
        return "".join(out)

    def document(self) -> str:
        from .drawing import TIKZ_PREAMBLE

        return "".join([
            "\\documentclass[aspectratio=169,11pt]{beamer}\n",
            "\\usepackage{amsmath,amssymb}\n",
            TIKZ_PREAMBLE,
            "\\setbeamertemplate{navigation symbols}{}\n",
            "\\setbeamertemplate{footline}[frame number]\n",
            "\\setbeamercolor{frametitle}{fg=black}\n",
            "\\begin{document}\n",
            self.title(), self.network(), self.paths(), self.agreement(), self.backprop(),
            "\\end{document}\n",
        ])
