"""sympy expressions as JavaScript for the interactive page, with pathgrad's conventions.

sympy's own `JavascriptCodePrinter` does the work; this subclass adds the functions pathgrad
defines (σ, relu, softplus) and makes every place where pathgrad's Python engines say "no
value" (log of a non-positive number, division by zero, a root of a negative number)
give NaN in the page instead of ±Infinity — otherwise exp(−∞) = 0 would turn an undefined
value back into a number. The kinks follow `numeric.evaluate.MPAlgebra`: relu′(0) = 0
(`Heaviside(z, 0)`), ∂max/∂a = H(a − b) with H(0) = ½, sign(0) = 0. pathgrad's Python
engines compute exactly at the spec's rational point, so a kink it hits exactly (0.1·0.2 +
0.3·0.4 − 0.14 = 0) is a rounding error of ±3e-17 in double precision: the page's kink
helpers treat an argument within 1e-12 of 0 as 0.

Symbols are printed as slots of a numeric array (`v[3]`), so no name from a spec ever reaches
the script: the only words in the output are `Math.…` and the helpers in `HELPERS`, which
the page's script (`interactive.js`) defines on its `pg` object. `check` proves that.

>>> import sympy as sp
>>> from pathgrad.calculus import sigmoid, relu
>>> x, y = sp.symbols("x y", real=True)
>>> js = JSPrinter({x: "v[0]", y: "v[1]"})
>>> js.doprint(sigmoid(x) * (1 - sigmoid(x)))
'(1 - pg.sigmoid(v[0]))*pg.sigmoid(v[0])'
>>> js.doprint(relu(x).diff(x)), js.doprint(sp.log(x) / y)
('pg.step(v[0], 0)', 'pg.powi(v[1], -1)*pg.log(v[0])')
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import sympy as sp
from sympy.printing.jscode import JavascriptCodePrinter
from sympy.printing.precedence import PRECEDENCE, precedence

from ..errors import UsageError

__all__ = ["JSPrinter", "HELPERS", "check", "UnprintableError"]

# what the page's `pg` object must define (interactive.js; a test checks both ways)
HELPERS = ("sigmoid", "relu", "softplus", "step", "sign", "log", "powi", "powq", "pow", "re",
           "im", "arg")

_MATH = {  # sympy function → JavaScript, where Math's own meaning matches MPAlgebra's
    "tanh": "Math.tanh", "exp": "Math.exp", "sin": "Math.sin", "cos": "Math.cos",
    "tan": "Math.tan", "sinh": "Math.sinh", "cosh": "Math.cosh", "asin": "Math.asin",
    "acos": "Math.acos", "atan": "Math.atan", "atan2": "Math.atan2", "asinh": "Math.asinh",
    "acosh": "Math.acosh", "atanh": "Math.atanh", "Abs": "Math.abs",
    "Max": "Math.max", "Min": "Math.min",
}
_HELPED = {"sigmoid": "pg.sigmoid", "relu": "pg.relu", "softplus": "pg.softplus", "sign": "pg.sign",
           "log": "pg.log", "re": "pg.re", "im": "pg.im", "arg": "pg.arg",
           "conjugate": "pg.re"}  # our values are real: conj(x) = re(x) = x

# the whole vocabulary of a printed expression: slots, numbers, operators, Math and pg
_TOKEN = re.compile(r"\s+|[vpdt]\[\d+\]|\d+(?:\.\d+)?(?:e[+-]?\d+)?|[-+*/(),]|"
                    r"Math\.(?:%s|PI|E)\b|pg\.(?:%s)\b" % (
                        "|".join(sorted({f.split(".")[1] for f in _MATH.values()})),
                        "|".join(HELPERS)))


class UnprintableError(UsageError):
    """An expression uses something the page cannot compute (no JavaScript for it)."""


class JSPrinter(JavascriptCodePrinter):
    """JavaScript for one expression; `slots` maps each symbol to its array slot (`v[3]`)."""

    def __init__(self, slots: Mapping[sp.Symbol, str]) -> None:
        super().__init__({"strict": True, "user_functions": {}})
        self.slots = slots

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        try:
            return self.slots[expr]
        except KeyError:
            raise UnprintableError(f"'{expr}' has no value slot in the page") from None

    def _print_Rational(self, expr: sp.Rational) -> str:
        p, q = int(expr.p), int(expr.q)
        return str(p) if q == 1 else f"({p}/{q})"

    def _print_Integer(self, expr: sp.Integer) -> str:
        return str(int(expr))

    def _print_Float(self, expr: sp.Float) -> str:
        return self._print_Rational(sp.Rational(expr))

    def _print_Pi(self, expr: sp.Basic) -> str:
        return "Math.PI"

    def _print_Exp1(self, expr: sp.Basic) -> str:
        return "Math.E"

    def _print_Mul(self, expr: sp.Mul) -> str:
        # every factor printed on its own, so 1/x goes through pg.powi (NaN at x = 0)
        c, rest = expr.as_coeff_Mul()
        if c < 0:
            inner = self._print(-expr)
            return f"-{inner}" if not isinstance(-expr, sp.Add) else f"-({inner})"
        factors = list(sp.Mul.make_args(rest)) if c == 1 else [c, *sp.Mul.make_args(rest)]
        return "*".join(self._print(f) if f.is_Rational else self.parenthesize(f, PRECEDENCE["Mul"])
                        for f in factors)

    def _print_Pow(self, expr: sp.Pow) -> str:
        base, e = self._print(expr.base), expr.exp
        if isinstance(e, sp.Integer):
            return f"pg.powi({base}, {int(e)})"
        if isinstance(e, sp.Rational):
            return f"pg.powq({base}, {int(e.p)}, {int(e.q)})"
        return f"pg.pow({base}, {self._print(e)})"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        return f"pg.step({self._print(expr.args[0])}, {self._print(at_zero)})"

    def _print_Function(self, expr: sp.Function) -> str:
        name = type(expr).__name__
        target = _HELPED.get(name) or _MATH.get(name)
        if target is None:
            raise UnprintableError(f"the page cannot compute {name}(…) in JavaScript")
        if name in ("Max", "Min") or len(expr.args) == 1 or name == "atan2":
            return f"{target}({', '.join(self._print(a) for a in expr.args)})"
        raise UnprintableError(f"the page cannot compute {name} of {len(expr.args)} arguments")

    # sympy routes these through dedicated methods; all of them mean a plain call here
    _print_sigmoid = _print_relu = _print_softplus = _print_Function
    _print_log = _print_exp = _print_Abs = _print_sign = _print_Max = _print_Min = _print_Function
    _print_tanh = _print_sin = _print_cos = _print_re = _print_im = _print_arg = _print_Function
    _print_conjugate = _print_Function

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        parts = []
        for i, term in enumerate(sp.Add.make_args(expr)):
            text = self.parenthesize(term, precedence(expr)) if isinstance(term, sp.Add) \
                else self._print(term)
            if i == 0:
                parts.append(text)
            elif text.startswith("-"):
                parts.append(f" - {text[1:]}")
            else:
                parts.append(f" + {text}")
        return "".join(parts)

    def _print_not_supported(self, expr: sp.Basic) -> str:
        raise UnprintableError(f"the page cannot compute {type(expr).__name__} in JavaScript")

    def emptyPrinter(self, expr: sp.Basic) -> str:  # noqa: N802 - sympy's name
        return self._print_not_supported(expr)


def check(code: str) -> str:
    """`code`, after proving it is made only of slots, numbers, operators, `Math.…` and the
    page's helpers (no name, string or other word can be in it); raises otherwise."""
    pos = 0
    for m in _TOKEN.finditer(code):
        if m.start() != pos:
            break
        pos = m.end()
    if pos != len(code):
        raise UnprintableError(f"generated JavaScript has an unexpected token at {pos}: "
                               f"{code[pos:pos + 20]!r}")
    return code
