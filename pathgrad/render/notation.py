"""How expressions and names are written, for every format, from the same sympy objects.

Modelled on sympy's own printing package: one printer per format — `PlainPrinter` (text sympy
parses back, for JSON), `TextPrinter` (for people: σ, ·, −, superscripts, [z > 0]),
`LatexPrinter` and `MathMLPrinter` — and the knowledge they share in this module:

- factor order: textbooks put the weight first (w21·a11·(1 − a11)); sympy sorts factors
  alphabetically. `factor_rank` orders leaves (params, inputs) in the spec's order, then
  nodes, then compound factors; `term_key` puts the positive terms of a sum first (a − y).
- when a factor needs parentheses (`needs_parens`: sums and negatives);
- display names: the spec's `latex:` entry (checked by `safe_latex`), else sympy's split of
  the name (a11 → a with subscript 11), as LaTeX, MathML, HTML or Unicode (`display_name`).
- the step functions: relu′ = Heaviside(z, 0) is written [z > 0] (Iverson's bracket);
  max/min/abs′ use Heaviside(z) with H(0) = ½, written H(z).
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter as _SympyLatex
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from ..spec import Spec

__all__ = ["factor_rank", "term_key", "needs_parens", "plain", "pretty", "latex", "latex_name",
           "leibniz", "Notation", "Label", "label_of", "display_name", "safe_latex",
           "unicode_name", "PlainPrinter", "TextPrinter", "UnicodePrinter", "LatexPrinter",
           "MathMLPrinter", "FORMATS"]

FORMATS = ("text", "unicode", "latex", "mathml", "html")
_SUPERSCRIPTS = str.maketrans("0123456789-+()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾")
_SUBSCRIPTS = str.maketrans("0123456789-+()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₋₊₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")

# --- display names ------------------------------------------------------------------------

# control sequences a `latex:` display name may use; anything else is refused (spec check)
# or falls back to sympy's rendering of the name (specs built in Python)
ALLOWED_COMMANDS = set("""mathrm mathit mathbf mathsf mathtt mathcal mathbb mathfrak boldsymbol
bm text textrm textit operatorname hat bar tilde vec dot ddot check breve acute grave widehat
widetilde overline underline prime ell imath jmath hbar nabla partial infty star ast circ bullet
cdot alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta
Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split())


def safe_latex(tex: str) -> bool:
    """Whether a display name is safe to paste into LaTeX: balanced braces, only harmless
    commands (no \\input, \\write, \\def), no characters that end math mode or a table cell."""
    depth = 0
    for ch in tex:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    if depth or any(ch in tex for ch in "%#&$~\n") or not tex.strip():
        return False
    return all(cmd in ALLOWED_COMMANDS for cmd in re.findall(r"\\([A-Za-z]+)", tex)) and \
        not re.search(r"\\[^A-Za-z,;! ]", tex)


_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ",
    "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ",
    "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_ATOM = r"(?:\\(?:%s)|[A-Za-z0-9]+)" % "|".join(sorted(_GREEK, key=len, reverse=True))
_SCRIPT = r"(?:\{((?:%s|[,;.'()\[\]+\- ]|\\,)*)\}|(%s))" % (_ATOM, _ATOM)
_BASE = r"^(?:\\(mathrm|text|mathit|operatorname)\{(%s+)\}|(%s+))" % (_ATOM, _ATOM)
# base, then subscript and superscript in either order: w_{1,1}, h^{(2)}_{3}
_SUB_SUP = re.compile(_BASE + r"(?:_%s)?(?:\^%s)?$" % (_SCRIPT, _SCRIPT))
_SUP_SUB = re.compile(_BASE + r"(?:\^%s)?(?:_%s)?$" % (_SCRIPT, _SCRIPT))


@dataclass(frozen=True)
class Label:
    """A name as it is displayed: base, subscript, superscript (plain text) and whether the
    base is upright (\\mathrm{Out}) rather than math italic."""

    base: str
    sub: str = ""
    sup: str = ""
    upright: bool = False

    @property
    def text(self) -> str:
        """One-line text: a_0,1 is written a0,1 (for formats without subscripts)."""
        return self.base + self.sub + (f"^{self.sup}" if self.sup else "")


def _unlatex(text: str) -> str:
    text = re.sub(r"\\(%s)" % "|".join(_GREEK), lambda m: _GREEK[m.group(1)], text)
    return text.replace("\\,", " ").strip()


def label_of(spec: Spec, name: str) -> Label:
    """The display name of `name`: the spec's simple `latex:` forms (w_{1,1}, \\mathrm{Out},
    \\theta_2) become base and subscript; anything fancier falls back to sympy's split of
    the name itself (a11 → a with subscript 11)."""
    tex = spec.latex.get(name)
    if tex is not None and safe_latex(tex):
        for pattern, sub_first in ((_SUB_SUP, True), (_SUP_SUB, False)):
            m = pattern.match(tex.strip())
            if not m:
                continue
            upright = m.group(1) is not None and m.group(1) != "mathit"
            base = m.group(2) or m.group(3)
            first = m.group(4) if m.group(4) is not None else (m.group(5) or "")
            second = m.group(6) if m.group(6) is not None else (m.group(7) or "")
            sub, sup = (first, second) if sub_first else (second, first)
            return Label(_unlatex(base), _unlatex(sub), _unlatex(sup), upright)
    from sympy.printing.conventions import split_super_sub

    base, sups, subs = split_super_sub(name)
    if not base:
        return Label(name)
    return Label(_GREEK.get(base, base), ",".join(subs), ",".join(sups))


def unicode_name(label: Label) -> str:
    """A label in plain Unicode: w₁,₁, h⁽³⁾₂; scripts without Unicode forms stay as _x, ^x."""
    def script(s: str, table: dict[int, str], mark: str) -> str:
        out = s.translate(table)
        if all(ch in ", " or ord(ch) > 127 for ch in out):
            return out
        return f"{mark}{s}" if len(s) == 1 else f"{mark}({s})"

    return label.base + (script(label.sup, _SUPERSCRIPTS, "^") if label.sup else "") + (
        script(label.sub, _SUBSCRIPTS, "_") if label.sub else "")


def latex_name(spec: Spec, name: str) -> str:
    """A name in LaTeX: the spec's `latex:` entry when it is safe, else sympy's rendering
    (w_{11}, \\lambda)."""
    tex = spec.latex.get(name)
    if tex is not None and safe_latex(tex):
        return tex
    return sp.latex(sp.Symbol(name))


def display_name(spec: Spec, name: str, fmt: str = "latex") -> str:
    """`name` as every format displays it, so captions, titles, path columns, graph labels
    and the maths agree: "text" is the identifier itself (what you type after --weight),
    "unicode" one line of Unicode (w₁,₁, for SVG titles and tooltips), "latex" math mode,
    "html" text with <sub>/<sup> (escaped), "mathml" a MathML element.

    >>> from pathgrad import load
    >>> s = load("params: {w11: 1}\\nnodes: {E: w11^2}\\nlatex: {w11: 'w_{1,1}'}")
    >>> [display_name(s, "w11", f) for f in ("text", "unicode", "latex", "html")]
    ['w11', 'w₁,₁', 'w_{1,1}', '<i>w</i><sub>1,1</sub>']
    """
    if fmt == "text":
        return name
    if fmt == "latex":
        return latex_name(spec, name)
    lab = label_of(spec, name)
    if fmt == "unicode":
        return unicode_name(lab)
    if fmt == "html":
        esc = _html.escape
        base = esc(lab.base) if lab.upright or len(lab.base) > 1 else f"<i>{esc(lab.base)}</i>"
        return base + (f"<sup>{esc(lab.sup)}</sup>" if lab.sup else "") + (
            f"<sub>{esc(lab.sub)}</sub>" if lab.sub else "")
    if fmt == "mathml":
        return MathMLPrinter(spec).name_markup(name)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


# --- shared knowledge: order and parentheses --------------------------------------------------


def factor_rank(spec: Spec) -> Callable[[sp.Basic], tuple]:
    """Sort key for the factors of a product: number, leaves, nodes, then compound factors."""
    order = {n: i for i, n in enumerate([*spec.params, *spec.inputs, *spec.nodes])}
    nodes = set(spec.nodes)

    def rank(f: sp.Basic) -> tuple:
        base = f.base if isinstance(f, sp.Pow) and isinstance(f.exp, sp.Integer) else f
        # ties keep sympy's canonical order (sorted() is stable), so no costly str() keys
        if f.is_Number:
            return (0, 0)
        if isinstance(base, sp.Symbol):
            return (2 if base.name in nodes else 1, order.get(base.name, len(order)))
        return (4, 0) if isinstance(base, sp.Add) else (3, 0)

    return rank


def term_key(t: sp.Basic) -> int:
    """Sort key for the terms of a sum: positive terms first, as in (a − y) and (1 − a)."""
    return 1 if t.could_extract_minus_sign() else 0


def needs_parens(expr: sp.Basic) -> bool:
    """Whether a local partial needs parentheses as one factor of a product."""
    return isinstance(expr, sp.Add) or (expr.is_Number and expr < 0) or \
        (isinstance(expr, sp.Mul) and expr.could_extract_minus_sign())


def _steps(z: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """z = P − N with P the positive terms and N the negated negative ones: [P > N]."""
    pos = [t for t in sp.Add.make_args(z) if not t.could_extract_minus_sign()]
    neg = [-t for t in sp.Add.make_args(z) if t.could_extract_minus_sign()]
    return sp.Add(*pos), sp.Add(*neg)


class _Ordered:
    """Mixin: products with factors in `rank` order, sums with positive terms first."""

    rank: Callable[[sp.Basic], tuple] | None = None

    def _ordered_mul(self, expr: sp.Mul) -> sp.Expr:
        args = self._ordered_factors(expr)
        return sp.Mul._from_args(args) if len(args) > 1 else args[0]

    def _ordered_factors(self, expr: sp.Mul) -> list[sp.Basic]:
        """The coefficient (unless 1), then the other factors in `rank` order."""
        c, rest = expr.as_coeff_Mul()
        factors = sp.Mul.make_args(rest)
        if self.rank:
            factors = sorted(factors, key=self._rank_of)
        return [c, *factors] if c != 1 else list(factors)

    def _rank_of(self, f: sp.Basic) -> tuple:
        """`rank(f)`, once per factor: 10⁴ path terms share their factors."""
        ranks = self.__dict__.setdefault("_ranks", {})
        hit = ranks.get(f)
        if hit is None:
            hit = ranks[f] = self.rank(f)  # type: ignore[misc]
        return hit

    def _as_ordered_terms(self, expr: sp.Basic, order: str | None = None) -> list:
        if isinstance(expr, sp.Add):
            return sorted(expr.args, key=term_key)
        return super()._as_ordered_terms(expr, order)  # type: ignore[misc]


# --- the printers ---------------------------------------------------------------------------


class PlainPrinter(_Ordered, StrPrinter):
    """Text sympy parses back (declare the names as symbols): for JSON."""

    def __init__(self, rank: Callable | None = None) -> None:
        StrPrinter.__init__(self, {"order": "none"})
        self.rank = rank
        self._memo: dict[sp.Basic, str] = {}
        self._precedence: dict[sp.Basic, int] = {}

    def _print(self, expr: Any, **kwargs: Any) -> str:
        # a subexpression prints the same wherever it appears (parentheses are added by the
        # caller), so each distinct one is printed once: 10⁴ path terms share their factors
        if kwargs or not isinstance(expr, sp.Basic):
            return StrPrinter._print(self, expr, **kwargs)
        hit = self._memo.get(expr)
        if hit is None:
            hit = self._memo[expr] = StrPrinter._print(self, expr)
        return hit

    def parenthesize(self, item: Any, level: int, strict: bool = False) -> str:
        prec = self._precedence.get(item) if isinstance(item, sp.Basic) else None
        if prec is None:
            prec = precedence(item)
            if isinstance(item, sp.Basic):
                self._precedence[item] = prec
        if prec < level or (not strict and prec <= level):
            return "(%s)" % self._print(item)
        return self._print(item)

    def _print_Mul(self, expr: sp.Mul) -> str:
        if not isinstance(expr, sp.Mul):
            return StrPrinter._print_Mul(self, expr)
        args = self._ordered_factors(expr)
        if len(args) == 1:
            return self._print(args[0])
        c = args[0] if isinstance(args[0], sp.Integer) else None
        rest = args[1:] if c is not None else args
        if not any(isinstance(a, (sp.Number, sp.Pow)) for a in rest):
            # what StrPrinter._print_Mul gives when no factor but an integer coefficient is a
            # number and none is a power (no denominator): the factors joined, in a tenth of
            # the time (10⁴ path terms, each 2·(a − y)·…)
            # sympy's precedence_Mul: Mul unless the sign can be extracted (a negative c)
            prec = PRECEDENCE["Mul"] if c is None or c > 0 else precedence(expr)
            parts = [self.parenthesize(a, prec, strict=False) for a in rest]
            if c is None:
                return "*".join(parts)
            if c > 0:
                return f"{c}*" + "*".join(parts)
            return "-" + (f"{-c}*" if c != -1 else "") + "*".join(parts)
        return StrPrinter._print_Mul(self, sp.Mul._from_args(args))


class TextPrinter(PlainPrinter):
    """Text for people (before `pretty` turns * into · and - into −)."""

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        z = expr.args[0]
        if len(expr.args) > 1 and expr.args[1] == 0:
            pos, neg = _steps(z)
            if pos == 0:
                return f"[{self._print(neg)} < 0]"
            return f"[{self._print(pos)} > {self._print(neg)}]"
        return f"H({self._print(z)})"

    def _print_Pi(self, expr: sp.Basic) -> str:
        return "π"

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        return f"σ({self._print(expr.args[0])})"

    def _print_Max(self, expr: sp.Basic) -> str:
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr: sp.Basic) -> str:
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Abs(self, expr: sp.Basic) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        e = expr.exp
        if isinstance(e, sp.Integer) and 1 < int(e) < 10:
            return self.parenthesize(expr.base, PRECEDENCE["Pow"], strict=False) + str(
                int(e)).translate(_SUPERSCRIPTS)
        return StrPrinter._print_Pow(self, expr, rational)


class UnicodePrinter(TextPrinter):
    """TextPrinter with display names in Unicode (w₁,₁), for tooltips and picture titles."""

    def __init__(self, rank: Callable | None, spec: Spec) -> None:
        super().__init__(rank)
        self.spec = spec

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return unicode_name(label_of(self.spec, expr.name))


def plain(expr: sp.Basic, rank: Callable | None = None,
          printer: PlainPrinter | None = None) -> str:
    """Text sympy can parse back (with the names declared), factors in `rank` order
    (`printer`: one to reuse, with its memo of printed subexpressions)."""
    return (printer or PlainPrinter(rank)).doprint(expr)


def pretty(expr: sp.Basic, rank: Callable | None = None, spec: Spec | None = None,
           printer: TextPrinter | None = None) -> str:
    """Text for people: σ, ·, −, superscript powers and [z > 0] for the step function; with
    `spec`, names are written as their Unicode display names (w₁,₁)."""
    if printer is None:
        printer = TextPrinter(rank) if spec is None else UnicodePrinter(rank, spec)
    text = printer.doprint(expr)
    text = text.replace("**", "^").replace("*", "·")
    text = text.replace(" - ", " − ").replace("(-", "(−").replace("[-", "[−").replace(
        ", -", ", −").replace("^-", "^−").replace("|-", "|−")
    text = "−" + text[1:] if text.startswith("-") else text
    return _tighten(text)


def _tighten(text: str) -> str:
    """Drop the spaces around + and − in short innermost parentheses, as in (1−a)."""
    return _SHORT_GROUP.sub(lambda m: m[0].replace(" − ", "−").replace(" + ", "+"), text)


_SHORT_GROUP = re.compile(r"\([^()]{1,24}\)")


class LatexPrinter(_Ordered, _SympyLatex):
    """sympy's LaTeX with display names, textbook factor order and the step as [z > 0]."""

    def __init__(self, rank: Callable | None, names: Mapping[sp.Symbol, str]) -> None:
        _SympyLatex.__init__(self, {"order": "none", "symbol_names": dict(names)})
        self.rank = rank

    def _print_Mul(self, expr: sp.Mul) -> str:
        if not isinstance(expr, sp.Mul):  # sympy prints x**-1 as the "product" 1/x
            return _SympyLatex._print_Mul(self, expr)
        ordered = self._ordered_mul(expr)
        if not isinstance(ordered, sp.Mul):
            return self._print(ordered)
        return _SympyLatex._print_Mul(self, ordered)

    def _print_Heaviside(self, expr: sp.Heaviside, exp: object = None) -> str:
        z = expr.args[0]
        if len(expr.args) > 1 and expr.args[1] == 0:
            pos, neg = _steps(z)
            inner = (f"{self._print(neg)} < 0" if pos == 0
                     else f"{self._print(pos)} > {self._print(neg)}")
            out = r"\left[%s\right]" % inner
        else:
            out = r"H\left(%s\right)" % self._print(z)
        return f"{out}^{{{exp}}}" if exp else out

    def _print_Max(self, expr: sp.Basic, exp: object = None) -> str:
        out = r"\max\left(%s\right)" % ", ".join(self._print(a) for a in expr.args)
        return f"{out}^{{{exp}}}" if exp else out

    def _print_Min(self, expr: sp.Basic, exp: object = None) -> str:
        out = r"\min\left(%s\right)" % ", ".join(self._print(a) for a in expr.args)
        return f"{out}^{{{exp}}}" if exp else out


def latex(expr: sp.Basic, spec: Spec) -> str:
    """LaTeX for an expression in the spec's names and display names."""
    names = {sp.Symbol(n, real=True): latex_name(spec, n) for n in spec.latex}
    return LatexPrinter(factor_rank(spec), names).doprint(expr)


_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _xml_safe(markup: str) -> str:
    """Named entities (&ExponentialE;) are not XML: write the characters themselves; a bare
    < is escaped."""
    def sub(m: re.Match[str]) -> str:
        if m.group(1) in ("amp", "lt", "gt", "quot", "apos"):
            return m.group(0)
        ch = _html.unescape(m.group(0))
        return _html.escape(ch) if ch != m.group(0) else "?"

    # sympy's doprint writes text unescaped: the step [p < 0] came out as <mo><</mo>
    return _ENTITY.sub(sub, markup).replace("<mo>-</mo>", "<mo>−</mo>") \
        .replace("<mo><</mo>", "<mo>&lt;</mo>")


class MathMLPrinter(MathMLPresentationPrinter):
    """sympy's presentation MathML with the spec's display names, σ for sigmoid, [z > 0] for
    the step, e^z for exp, and factors in textbook order (as in the terminal and LaTeX).
    Parentheses keep one size unless they hold a fraction."""

    def __init__(self, spec: Spec) -> None:
        super().__init__({"order": "none", "mul_symbol": "dot"})
        self.spec = spec
        self.rank = factor_rank(spec)
        self._cache: dict[sp.Basic, str] = {}
        self._labels: dict[str, Label] = {}

    def _as_ordered_terms(self, expr: sp.Basic, order: str | None = None) -> list:
        if isinstance(expr, sp.Add):
            return sorted(expr.args, key=term_key)
        return super()._as_ordered_terms(expr, order)

    def el(self, tag: str, *children: object, text: str | None = None, **attrs: str) -> object:
        node = self.dom.createElement(tag)
        for k, v in attrs.items():
            node.setAttribute(k, v)
        if text is not None:
            node.appendChild(self.dom.createTextNode(text))
        for c in children:
            node.appendChild(c)
        return node

    def label(self, n: str) -> Label:
        if n not in self._labels:
            self._labels[n] = label_of(self.spec, n)
        return self._labels[n]

    def name(self, n: str) -> object:
        """A name as MathML: base with subscript/superscript from its display name."""
        lab = self.label(n)
        attrs = {"mathvariant": "normal"} if lab.upright and len(lab.base) == 1 else {}
        base = self.el("mi", text=lab.base, **attrs)

        def script(s: str) -> object:
            return self.el("mn" if s.replace(",", "").isdigit() else "mi", text=s)

        if lab.sub and lab.sup:
            return self.el("msubsup", base, script(lab.sub), script(lab.sup))
        if lab.sub:
            return self.el("msub", base, script(lab.sub))
        if lab.sup:
            return self.el("msup", base, script(lab.sup))
        return base

    def name_markup(self, n: str) -> str:
        return _xml_safe(self.name(n).toxml())  # type: ignore[attr-defined]

    def _paren(self, inner: object) -> object:
        return self.el("mrow", self.el("mo", text="("), inner, self.el("mo", text=")"))

    def _print_Symbol(self, sym: sp.Symbol, style: str = "plain") -> object:
        return self.name(sym.name)

    def _print_Pow(self, e: sp.Pow) -> object:
        base, ex = e.base, e.exp
        if isinstance(base, sp.Symbol) and self.label(base.name).sup and ex.is_Integer \
                and ex > 0:
            # (h^{(3)})^2, not h^{(3)2}
            return self.el("msup", self._paren(self.name(base.name)), self._print(ex))
        return super()._print_Pow(e)

    def _print_exp(self, e: sp.Basic) -> object:
        return self.el("msup", self.el("mi", text="e", mathvariant="normal"),
                       self._print(e.args[0]))

    def _print_sigmoid(self, e: sp.Basic) -> object:
        return self.el("mrow", self.el("mi", text="σ"), self._paren(self._print(e.args[0])))

    def _print_Max(self, e: sp.Basic) -> object:
        return self._call("max", e.args)

    def _print_Min(self, e: sp.Basic) -> object:
        return self._call("min", e.args)

    def _call(self, fname: str, args: tuple) -> object:
        row = self.el("mrow")
        for i, a in enumerate(args):
            if i:
                row.appendChild(self.el("mo", text=","))
            row.appendChild(self._print(a))
        return self.el("mrow", self.el("mi", text=fname), self._paren(row))

    def _print_Heaviside(self, e: sp.Basic) -> object:
        z = e.args[0]
        if len(e.args) > 1 and e.args[1] == 0:
            pos, neg = _steps(z)
            if pos == 0:
                inner = [self._print(neg), self.el("mo", text="<"), self.el("mn", text="0")]
            else:
                inner = [self._print(pos), self.el("mo", text=">"), self._print(neg)]
            return self.el("mrow", self.el("mo", text="["), *inner, self.el("mo", text="]"))
        return self.el("mrow", self.el("mi", text="H"), self._paren(self._print(z)))

    def _print_Mul(self, expr: sp.Mul) -> object:
        if expr.could_extract_minus_sign():
            return self.el("mrow", self.el("mo", text="−"), self._product(-expr))
        return self._product(expr)

    def _product(self, expr: sp.Expr) -> object:
        num, den = sp.fraction(expr)
        if den != 1:
            return self.el("mfrac", self._print(num), self._print(den))
        coeff, rest = expr.as_coeff_Mul()
        factors = sorted(sp.Mul.make_args(rest), key=self.rank)
        if coeff != 1:
            factors.insert(0, coeff)
        if len(factors) == 1:
            return self._print(factors[0])
        row = self.el("mrow")
        for i, f in enumerate(factors):
            if i:
                row.appendChild(self.el("mo", text="·"))
            row.appendChild(self.parenthesize(f, PRECEDENCE["Mul"]))
        return row

    def markup(self, expr: sp.Basic) -> str:
        """The MathML of `expr` (without the <math> element), printed once per expression."""
        if expr not in self._cache:
            text = _xml_safe(self.doprint(expr))
            if "<mfrac" not in text:  # one size of parentheses unless a fraction needs more
                text = text.replace("<mo>(</mo>", '<mo stretchy="false">(</mo>').replace(
                    "<mo>)</mo>", '<mo stretchy="false">)</mo>')
            self._cache[expr] = text
        return self._cache[expr]

    def factor(self, expr: sp.Basic) -> str:
        """A local partial as a factor: sums and negatives in parentheses."""
        inner = self.markup(expr)
        if needs_parens(expr):
            s = '' if "<mfrac" in inner else ' stretchy="false"'
            return f"<mrow><mo{s}>(</mo>{inner}<mo{s}>)</mo></mrow>"
        return inner

    def leibniz(self, v: str, u: str) -> str:
        top = self.el("mrow", self.el("mo", text="∂"), self.name(v))
        bottom = self.el("mrow", self.el("mo", text="∂"), self.name(u))
        return _xml_safe(self.el("mfrac", top, bottom).toxml())  # type: ignore[attr-defined]


def leibniz(v: str, u: str, spec: Spec | None = None) -> str:
    """∂v/∂u as LaTeX (with display names) or, without a spec, as text."""
    if spec is None:
        return f"∂{v}/∂{u}"
    return r"\frac{\partial %s}{\partial %s}" % (latex_name(spec, v), latex_name(spec, u))


class Notation:
    """The printers bound to one spec, so renderers need not repeat the ranking."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.rank = factor_rank(spec)
        self._mathml: MathMLPrinter | None = None
        # one printer of each kind, so what one call printed the next need not print again
        self._plain = PlainPrinter(self.rank)
        self._text = TextPrinter(self.rank)
        self._unicode = UnicodePrinter(self.rank, spec)

    def plain(self, expr: sp.Basic) -> str:
        return plain(expr, printer=self._plain)

    def pretty(self, expr: sp.Basic) -> str:
        return pretty(expr, printer=self._text)

    text = pretty

    def unicode(self, expr: sp.Basic) -> str:
        """`pretty` with display names: ∂a₁,₁/∂a₀,₁ = w₂,₁·a₁,₁·(1−a₁,₁)."""
        return pretty(expr, printer=self._unicode)

    def latex(self, expr: sp.Basic) -> str:
        return latex(expr, self.spec)

    @property
    def mathml(self) -> MathMLPrinter:
        if self._mathml is None:
            self._mathml = MathMLPrinter(self.spec)
        return self._mathml

    def name(self, n: str, fmt: str = "text") -> str:
        return display_name(self.spec, n, fmt)

    def factor(self, expr: sp.Basic) -> str:
        """A local partial as one factor of a product: sums and negatives in parentheses."""
        text = self.pretty(expr)
        wrap = needs_parens(expr) or text.startswith("−")
        return _tighten(f"({text})") if wrap else text
