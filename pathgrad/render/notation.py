"""How expressions are written: in the network's names, factors in textbook order.

sympy sorts factors alphabetically (a11·w21·(1 − a11)); textbooks put the weight first
(w21·a11·(1 − a11)). The printers here order factors as leaves (params, inputs) in the
spec's order, then nodes, then compound factors, and write σ, ·, −, and [z > 0] for the step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from ..spec import Spec

__all__ = ["factor_rank", "plain", "pretty", "latex", "latex_name", "leibniz", "Notation"]

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


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


class _Ordered:
    """Mixin: print products with factors in `rank` order (sympy's own order otherwise)."""

    rank: Callable[[sp.Basic], tuple] | None = None

    def _ordered_mul(self, expr: sp.Mul) -> sp.Mul:
        c, rest = expr.as_coeff_Mul()
        factors = sorted(sp.Mul.make_args(rest), key=self.rank) if self.rank else list(rest.args)
        args = [c, *factors] if c != 1 else factors
        return sp.Mul._from_args(args) if len(args) > 1 else args[0]


class _Plain(_Ordered, StrPrinter):
    def __init__(self, rank: Callable | None) -> None:
        StrPrinter.__init__(self, {"order": "none"})
        self.rank = rank

    def _print_Mul(self, expr: sp.Mul) -> str:
        ordered = self._ordered_mul(expr)
        if not isinstance(ordered, sp.Mul):
            return self._print(ordered)
        return StrPrinter._print_Mul(self, ordered)


class _Pretty(_Plain):
    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        return f"[{self._print(expr.args[0])} > 0]"

    def _print_Pi(self, expr: sp.Basic) -> str:
        return "π"

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        return f"σ({self._print(expr.args[0])})"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        e = expr.exp
        if isinstance(e, sp.Integer) and 1 < int(e) < 10:
            return self.parenthesize(expr.base, 60, strict=False) + str(int(e)).translate(
                _SUPERSCRIPTS)
        return StrPrinter._print_Pow(self, expr, rational)


def plain(expr: sp.Basic, rank: Callable | None = None) -> str:
    """Text sympy can parse back (with the names declared), factors in `rank` order."""
    return _Plain(rank).doprint(expr)


def pretty(expr: sp.Basic, rank: Callable | None = None) -> str:
    """Text for people: σ, ·, −, superscript powers and [z > 0] for the step function."""
    text = _Pretty(rank).doprint(expr)
    text = text.replace("**", "^").replace("*", "·")
    text = text.replace(" - ", " − ").replace("(-", "(−").replace("[-", "[−")
    text = "−" + text[1:] if text.startswith("-") else text
    return _tighten(text)


def _tighten(text: str) -> str:
    """Drop the spaces around + and − in short innermost parentheses, as in (1−a)."""
    return _SHORT_GROUP.sub(lambda m: m[0].replace(" − ", "−").replace(" + ", "+"), text)


_SHORT_GROUP = re.compile(r"\([^()]{1,24}\)")


def latex_name(spec: Spec, name: str) -> str:
    """A name in LaTeX: the spec's `latex:` entry, else sympy's rendering (w_{11}, \\lambda)."""
    if name in spec.latex:
        return spec.latex[name]
    return sp.latex(sp.Symbol(name))


class _Latex(_Ordered, LatexPrinter):
    def __init__(self, rank: Callable | None, names: Mapping[sp.Symbol, str]) -> None:
        LatexPrinter.__init__(self, {"order": "none", "symbol_names": dict(names)})
        self.rank = rank

    def _print_Mul(self, expr: sp.Mul) -> str:
        ordered = self._ordered_mul(expr)
        if not isinstance(ordered, sp.Mul):
            return self._print(ordered)
        return LatexPrinter._print_Mul(self, ordered)

    def _print_Heaviside(self, expr: sp.Heaviside, exp: object = None) -> str:
        return r"\left[%s > 0\right]" % self._print(expr.args[0])


def latex(expr: sp.Basic, spec: Spec) -> str:
    """LaTeX for an expression in the spec's names and display names."""
    names = {sp.Symbol(n, real=True): latex_name(spec, n) for n in spec.latex}
    return _Latex(factor_rank(spec), names).doprint(expr)


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

    def plain(self, expr: sp.Basic) -> str:
        return plain(expr, self.rank)

    def pretty(self, expr: sp.Basic) -> str:
        return pretty(expr, self.rank)

    def latex(self, expr: sp.Basic) -> str:
        return latex(expr, self.spec)

    def factor(self, expr: sp.Basic) -> str:
        """A local partial as one factor of a product: sums and negatives in parentheses."""
        text = self.pretty(expr)
        wrap = isinstance(expr, sp.Add) or text.startswith("−")
        return _tighten(f"({text})") if wrap else text
