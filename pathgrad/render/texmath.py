"""LaTeX building blocks shared by the LaTeX, Markdown and HTML exports: safe display names,
text escaping, numbers, and products broken into lines that fit the page.

Math is cut into pieces at the places a textbook would break it (between the factors of a
product, before the + and − of a sum) and packed greedily into lines by an estimate of
their printed width in em, so long products never run off the page and nothing relies on
packages beyond amsmath.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sympy as sp

from ..spec import Spec
from . import formats
from .notation import Notation, latex_name, needs_parens, safe_latex

__all__ = [
    "Piece",
    "TexNotation",
    "safe_spec",
    "text",
    "prose",
    "math_chars",
    "number",
    "em",
    "pack",
    "join",
]

_TEXT_SPECIAL = {
    # math-mode forms, so no TS1 (text companion) font is needed for \textbackslash & co.
    "\\": r"$\backslash$", "{": r"\{", "}": r"\}", "$": r"$\$$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"$\sim$", "<": "$<$", ">": "$>$", "|": r"$|$",
}
_UNICODE_TEXT = {
    "—": "---", "–": "--", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\dots{}",
    "·": r"$\cdot$", "×": r"$\times$", "−": "$-$", "≤": r"$\le$", "≥": r"$\ge$",
    "≠": r"$\ne$", "≈": r"$\approx$", "→": r"$\to$", "←": r"$\leftarrow$", "∂": r"$\partial$",
    "∑": r"$\sum$", "Σ": r"$\Sigma$", "√": r"$\surd$", "∞": r"$\infty$", "±": r"$\pm$",
    "°": r"$^\circ$", "²": r"$^2$", "³": r"$^3$", "¹": r"$^1$", "⁰": r"$^0$", "✓": r"$\surd$",
    "✗": r"$\times$", "\u00a0": "~", "\t": " ", "\n": " ", "\r": " ",
}
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "varepsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "varphi",
    "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta",
    "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Υ": "Upsilon",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "∂": "partial", "∞": "infty",
}
_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0302": "^", "\u0308": '"', "\u0303": "~",
            "\u0327": "c", "\u0304": "=", "\u030c": "v", "\u0306": "u", "\u030a": "r"}


def safe_spec(spec: Spec) -> Spec:
    """The spec with every `latex:` display name that could break (unbalanced braces) or
    misuse (\\input, \\write) a document dropped, so sympy's rendering is used instead."""
    names = {n: math_chars(t) for n, t in spec.latex.items() if safe_latex(t)}
    return spec if names == spec.latex else dataclasses.replace(spec, latex=names)


def math_chars(tex: str) -> str:
    """Math-mode LaTeX with non-ASCII characters (a name like θ1) made pdflatex-safe."""
    if tex.isascii():
        return tex
    out = []
    for ch in tex:
        if ch.isascii():
            out.append(ch)
        elif ch in _GREEK:
            out.append("{\\%s}" % _GREEK[ch])
        else:
            out.append(r"\text{%s}" % text(ch))
    return "".join(out)


def text(s: str) -> str:
    """Plain text for LaTeX's text mode: specials escaped, common Unicode spelled out."""
    out = []
    for i, ch in enumerate(s):
        if ch == "-" and i and s[i - 1] == "-":
            out.append("{}-")  # TeX makes -- an en dash: --format json would print as –format
        elif ch in _TEXT_SPECIAL:
            out.append(_TEXT_SPECIAL[ch])
        elif ch in _UNICODE_TEXT:
            out.append(_UNICODE_TEXT[ch])
        elif ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        elif ch in _GREEK:
            out.append("$\\%s$" % _GREEK[ch])
        else:
            out.append(_accented(ch))
    return "".join(out)


LONG_WORD = 16  # a word longer than this may break: after punctuation, or every 12 letters


def prose(s: str) -> str:
    """`text` for paragraphs: long words (paths, URLs, identifiers) may break across lines,
    so user text never runs off the page."""
    words = []
    for word in s.split(" "):
        if len(word) <= LONG_WORD:
            words.append(text(word))
            continue
        out, run = [], 0
        for ch in word:
            out.append(text(ch))
            run = run + 1 if ch.isalnum() else 0
            if not ch.isalnum() or run >= 12:
                out.append(r"\allowbreak{}")
                run = 0
        words.append("".join(out))
    return " ".join(words)


def _accented(ch: str) -> str:
    parts = unicodedata.normalize("NFD", ch)
    base, marks = parts[0], parts[1:]
    if base.isascii() and base.isalpha() and len(marks) == 1 and marks in _ACCENTS:
        return "\\%s{%s}" % (_ACCENTS[marks], base)
    return "?"  # a character the base fonts cannot show


def number(x: float, digits: int = formats.DEFAULT_DIGITS) -> str:
    """A number in LaTeX math: `digits` significant digits, powers of ten written out."""
    return formats.number(x, digits, style="latex")


# --- width estimate -----------------------------------------------------------------------

_CMD_EM = {"cdot": 0.78, "quad": 1.0, "qquad": 2.0, "partial": 0.6, "to": 1.3,
           "left": 0.0, "right": 0.0, "bigl": 0.0, "bigr": 0.0, "Bigl": 0.0, "Bigr": 0.0,
           "mathrm": 0.0, "operatorname": 0.0, "text": 0.0, "mathit": 0.0, "mathbf": 0.0,
           "boldsymbol": 0.0, "mathcal": 0.0, "mathbb": 0.0, "hat": 0.0, "bar": 0.0,
           "tilde": 0.0, "vec": 0.0, "dot": 0.0, "sum": 1.5, "le": 1.3, "ge": 1.3,
           "approx": 1.3, "times": 1.2, "dots": 1.2, "ldots": 1.2, "cdots": 1.2,
           "exp": 1.6, "log": 1.6, "tanh": 2.1, "sin": 1.5, "cos": 1.6, "sqrt": 1.0}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}_^]|\s+|.", re.S)


def em(tex: str) -> float:
    """A generous estimate of the printed width of display math, in em."""
    tokens = _TOKEN.findall(tex)
    return _em_seq(tokens, [0])


def _group(tokens: list[str], pos: list[int]) -> float:
    """Width of the next argument: a {…} group or a single token."""
    if pos[0] >= len(tokens):
        return 0.0
    tok = tokens[pos[0]]
    if tok == "{":
        pos[0] += 1
        return _em_seq(tokens, pos, stop="}")
    return _em_seq(tokens, pos, single=True)


def _em_seq(tokens: list[str], pos: list[int], stop: str | None = None,
            single: bool = False) -> float:
    total = 0.0
    while pos[0] < len(tokens):
        tok = tokens[pos[0]]
        pos[0] += 1
        if stop and tok == stop:
            break
        if tok.isspace() or tok in "{}":
            if tok == "{":
                total += _em_seq(tokens, pos, stop="}")
        elif tok in "_^":
            total += 0.72 * _group(tokens, pos)
        elif tok == r"\frac":
            total += max(_group(tokens, pos), _group(tokens, pos)) + 0.3
        elif tok in (r"\text", r"\mathrm", r"\operatorname", r"\textrm"):
            total += 0.9 * _group(tokens, pos)
        elif tok.startswith("\\") and len(tok) > 2:
            total += _CMD_EM.get(tok[1:], 1.0)
        elif tok in (r"\,", r"\;", r"\!", r"\ "):
            total += {r"\,": 0.17, r"\;": 0.28, r"\!": -0.17, r"\ ": 0.33}[tok]
        elif tok in "+-":
            total += 1.25
        elif tok in "=<>":
            total += 1.35
        elif tok in "()[]|":
            total += 0.42
        elif tok in ",;.":
            total += 0.45
        elif tok.isdigit():
            total += 0.52
        elif tok.isupper():
            total += 0.8
        else:
            total += 0.62
        if single:
            break
    return total


# --- pieces and lines ---------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A chunk of math and the operator in front of it ('' for the first chunk)."""

    body: str
    sep: str = ""

    def at_start(self) -> str:
        # `{}+ x` keeps the binary spacing of + at the start of a continued line
        return f"{{}}{self.sep} {self.body}" if self.sep else self.body

    def after(self) -> str:
        return f" {self.sep} {self.body}" if self.sep else f" {self.body}"


def join(pieces: Iterable[Piece]) -> str:
    """All pieces on one line."""
    out = ""
    for p in pieces:
        out += p.after() if out else p.at_start()
    return out


def pack(pieces: Sequence[Piece], budget: float, first_budget: float | None = None) -> list[str]:
    """Greedy line filling: as many pieces per line as fit in `budget` em."""
    lines: list[str] = []
    line, width = "", 0.0
    limit = budget if first_budget is None else first_budget
    for p in pieces:
        w = em(p.after())
        if line and width + w > limit:
            lines.append(line)
            line, width, limit = "", 0.0, budget
        if not line:
            line, width = p.at_start(), em(p.at_start())
        else:
            line, width = line + p.after(), width + w
    if line:
        lines.append(line)
    return lines


class TexNotation:
    """LaTeX for one spec's expressions: display names, textbook factor order, and pieces
    that break long expressions; every distinct expression is printed once."""

    def __init__(self, spec: Spec) -> None:
        self.spec = safe_spec(spec)
        self.note = Notation(self.spec)
        self._latex: dict[sp.Basic, str] = {}
        self._names: dict[str, str] = {}

    def name(self, n: str) -> str:
        if n not in self._names:
            self._names[n] = math_chars(latex_name(self.spec, n))
        return self._names[n]

    def latex(self, expr: sp.Basic) -> str:
        if expr not in self._latex:
            self._latex[expr] = math_chars(self.note.latex(expr))
        return self._latex[expr]

    def leibniz(self, v: str, u: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (self.name(v), self.name(u))

    def factor(self, expr: sp.Basic) -> str:
        """A local partial as one factor of a product: sums and negatives in parentheses."""
        tex = self.latex(expr)
        if needs_parens(expr) or tex.lstrip().startswith("-"):
            return r"\left(%s\right)" % tex
        return tex

    def product(self, factors: Sequence[sp.Basic], budget: float) -> list[Piece]:
        """Factors joined by ·, each factor that alone is too wide broken further."""
        out: list[Piece] = []
        for f in factors:
            tex = self.factor(f)
            sub = [Piece(tex)] if em(tex) <= budget else self._wrapped(f, budget)
            out.append(dataclasses.replace(sub[0], sep=r"\cdot") if out else sub[0])
            out.extend(sub[1:])
        return out

    def _wrapped(self, expr: sp.Basic, budget: float) -> list[Piece]:
        inner = self.pieces(expr, budget)
        if isinstance(expr, sp.Add) or self.latex(expr).lstrip().startswith("-"):
            first = inner[0]
            inner[0] = Piece(r"\bigl(" + (first.sep if first.sep == "-" else "") + first.body)
            last = inner[-1]
            inner[-1] = dataclasses.replace(last, body=last.body + r"\bigr)")
        return inner

    def pieces(self, expr: sp.Basic, budget: float) -> list[Piece]:
        """`expr` cut before the terms of a sum and between the factors of a product, as
        far as needed for each piece to fit in `budget` em."""
        tex = self.latex(expr)
        if em(tex) <= budget:
            return [Piece(tex)]
        if isinstance(expr, sp.Add):
            out: list[Piece] = []
            for t in expr.args:
                neg = t.could_extract_minus_sign()
                sub = self.pieces(-t if neg else t, budget)
                if out:
                    out.append(dataclasses.replace(sub[0], sep="-" if neg else "+"))
                else:  # a leading minus is unary: it stays with its term
                    out.append(Piece(("-" if neg else "") + sub[0].body))
                out.extend(sub[1:])
            return out
        if isinstance(expr, sp.Mul):
            coeff, rest = expr.as_coeff_Mul()
            if coeff < 0:
                sub = self.pieces(-expr, budget)
                return [Piece("-" + sub[0].body), *sub[1:]]
            num, den = sp.fraction(rest)
            factors = sorted(sp.Mul.make_args(num), key=self.note.rank)
            if coeff != 1:
                factors.insert(0, coeff)
            out = self.product(factors, budget) if factors != [1] else [Piece("1")]
            if den != 1:
                out.append(Piece(r"\frac{1}{%s}" % self.latex(den), r"\cdot"))
            return out
        if isinstance(expr, sp.Function) and len(expr.args) == 1:
            return self._call(expr, budget) or [Piece(tex)]
        return [Piece(tex)]  # an atom too wide for a line: rare, and cannot be cut

    def _call(self, expr: sp.Function, budget: float) -> list[Piece] | None:
        hole = sp.Symbol("PGHOLE")
        shape = self.note.latex(expr.func(hole))
        head, _, tail = shape.partition("PGHOLE")
        head, tail = head.rstrip(), tail.strip()
        braced = head.endswith(r"{\left(") and tail == r"\right)}"
        if not (head.endswith(r"\left(") and tail in (r"\right)", r"\right)}")):
            return None
        if tail == r"\right)}" and not braced:
            return None
        head = head[: -len(r"\left(")].rstrip("{") + r"\bigl("
        inner = self.pieces(expr.args[0], budget)
        first = inner[0]
        inner[0] = Piece(head + ("-" if first.sep == "-" else "") + first.body)
        inner[-1] = dataclasses.replace(inner[-1], body=inner[-1].body + r"\bigr)")
        return inner
