"""Evaluating sympy expressions on their DAG: high-precision numbers, a prime field, degrees.

Composed losses are small as DAGs but astronomically large as trees, so every evaluator here
visits each distinct subexpression once. One walker serves three algebras: mpmath numbers
(with the reason when a value is undefined), arithmetic modulo a prime with random values for
function applications (for identity testing), and degree bounds (for its error bound).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import mpmath
import sympy as sp

if TYPE_CHECKING:
    from ..calculus import Network

__all__ = [
    "NoValue",
    "evaluate",
    "Algebra",
    "MPAlgebra",
    "ModPAlgebra",
    "DegreeAlgebra",
    "PRIME",
    "forward",
    "to_mpf",
    "SympyPoint",
    "Program",
    "log_note",
    "root_note",
    "pow_note",
    "const_note",
]

PRIME = 2**127 - 1  # a Mersenne prime: big enough that a false pass has negligible chance


@dataclass(frozen=True)
class NoValue:
    """A value that cannot be given, with the reason (unknown input, log of a negative …)."""

    reason: str


class Algebra:
    """What evaluation needs from a number system."""

    def rational(self, p: int, q: int) -> Any: ...
    def const(self, expr: sp.Basic) -> Any: ...
    def add(self, xs: Sequence[Any]) -> Any: ...
    def mul(self, xs: Sequence[Any]) -> Any: ...
    def powi(self, b: Any, n: int) -> Any: ...
    def powq(self, b: Any, n: int, d: int) -> Any: ...
    def func(self, name: str, xs: Sequence[Any]) -> Any: ...

    def apply(self, cls: type, xs: Sequence[Any]) -> Any:
        """A function application; by default by the function's name."""
        return self.func(cls.__name__, xs)


def evaluate(expr: sp.Basic, env: Mapping[sp.Basic, Any], algebra: Algebra,
             memo: dict[int, Any] | None = None) -> Any:
    """Value of `expr` with symbols from `env`, each distinct subexpression computed once.

    A symbol missing from `env` is NoValue; NoValue arguments make NoValue results.
    """
    memo = {} if memo is None else memo
    keep: list[sp.Basic] = []  # ids in memo stay valid while their objects live
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        key = id(node)
        if key in memo:
            continue
        if not ready and node.args and not isinstance(node, sp.Symbol):
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if id(a) not in memo)
            continue
        memo[key] = _apply(node, [memo[id(a)] for a in node.args], env, algebra)
        keep.append(node)
    return memo[id(expr)]


def _apply(node: sp.Basic, xs: list[Any], env: Mapping, algebra: Algebra) -> Any:
    if isinstance(node, sp.Symbol):
        if node in env:
            return env[node]
        return NoValue(f"{node} has no value")
    if isinstance(node, sp.Rational):
        return algebra.rational(int(node.p), int(node.q))
    if isinstance(node, sp.Float):
        r = sp.Rational(node)
        return algebra.rational(int(r.p), int(r.q))
    if not node.args:
        return algebra.const(node)
    for x in xs:
        if isinstance(x, NoValue):
            return x
    if isinstance(node, sp.Add):
        return algebra.add(xs)
    if isinstance(node, sp.Mul):
        return algebra.mul(xs)
    if isinstance(node, sp.Pow):
        e = node.exp
        if isinstance(e, sp.Integer):
            return algebra.powi(xs[0], int(e))
        if isinstance(e, sp.Rational):
            return algebra.powq(xs[0], int(e.p), int(e.q))
        return algebra.func("pow", xs)
    return algebra.apply(type(node), xs)


class MPAlgebra(Algebra):
    """mpmath numbers at the working precision; undefined operations give NoValue."""

    def apply(self, cls: type, xs: Sequence[Any]) -> Any:
        out = self.func(cls.__name__, xs)
        if isinstance(out, NoValue) and out.reason.startswith("cannot evaluate") \
                and issubclass(cls, sp.Function):
            # a function sympy introduced itself (re, arg, atan2 … come from |f|′): let sympy
            # evaluate it at our numbers; never reached with spec text, only sympy's own trees
            dps = mpmath.mp.dps
            try:
                value = cls(*(sp.Float(x, dps) for x in xs)).evalf(dps)
            except (TypeError, ValueError, ArithmeticError):
                return out
            if value.is_real and value.is_finite:
                return mpmath.mpf(sp.Float(value, dps))
        return out

    def rational(self, p: int, q: int) -> Any:
        return mpmath.mpf(p) / q

    def const(self, expr: sp.Basic) -> Any:
        value = sp.N(expr, mpmath.mp.dps + 5)
        if not (value.is_real and value.is_finite):  # zoo from log(0) or 1/0, I from √−1
            return NoValue(const_note(expr))
        return mpmath.mpf(value)

    def add(self, xs: Sequence[Any]) -> Any:
        return mpmath.fsum(xs)

    def mul(self, xs: Sequence[Any]) -> Any:
        out = mpmath.mpf(1)
        for x in xs:
            out *= x
        return out

    def powi(self, b: Any, n: int) -> Any:
        if b == 0 and n < 0:
            return NoValue("division by zero")
        return b**n

    def powq(self, b: Any, n: int, d: int) -> Any:
        if b < 0:  # the principal root, as sympy's: (−8)^(1/3) is complex, not −2
            return NoValue(root_note(d, b))
        if b == 0 and n < 0:
            return NoValue("division by zero")
        return mpmath.root(b, d) ** n

    def func(self, name: str, xs: Sequence[Any]) -> Any:
        x = xs[0]
        match name:
            case "sigmoid":
                return 1 / (1 + mpmath.exp(-x))
            case "tanh":
                return mpmath.tanh(x)
            case "relu":
                return x if x > 0 else mpmath.mpf(0)
            case "softplus":
                return mpmath.log1p(mpmath.exp(x)) if x < 50 else x + mpmath.log1p(mpmath.exp(-x))
            case "exp":
                return mpmath.exp(x)
            case "log":
                if x <= 0:
                    return NoValue(log_note(x))
                return mpmath.log(x)
            case "Abs":
                return abs(x)
            case "sin":
                return mpmath.sin(x)
            case "cos":
                return mpmath.cos(x)
            case "Max":
                return max(xs)
            case "Min":
                return min(xs)
            case "Heaviside":
                at_zero = xs[1] if len(xs) > 1 else mpmath.mpf(1) / 2
                return mpmath.mpf(1) if x > 0 else (mpmath.mpf(0) if x < 0 else at_zero)
            case "sign":
                return mpmath.sign(x)
            # sympy writes |f|′ with re/im when it cannot tell f is real; our values are real
            case "re" | "conjugate":
                return x
            case "im":
                return mpmath.mpf(0)
            case "arg":
                return mpmath.mpf(0) if x >= 0 else +mpmath.pi
            case "pow":
                b, e = xs
                if b > 0:
                    return mpmath.power(b, e)
                if b < 0 and mpmath.isint(e):  # (−2)^(−2) = 1/4: an integer exponent
                    return mpmath.power(b, int(e))
                if b == 0:  # as sympy: 0^e is 0 for e > 0, 1 for e = 0, complex ∞ for e < 0
                    return NoValue("division by zero") if e < 0 else mpmath.mpf(e == 0)
                return NoValue(pow_note(b, e))
        if name in _MORE:  # what sympy may rewrite re/im of our functions into
            try:
                return getattr(mpmath, _MORE[name])(*xs)
            except (ValueError, ZeroDivisionError):
                return NoValue(f"{name} is undefined at {_short(x)}")
        return NoValue(f"cannot evaluate {name}")


_MORE = {n: n.lower() for n in ("sinh", "cosh", "tan", "cot", "sec", "csc", "coth", "asin",
                                 "acos", "atan", "atan2", "asinh", "acosh", "atanh")}


def to_mpf(value: object) -> Any:
    """An exact leaf value (Fraction, int, str, mpf, or a numeric.exact Real) as an mpmath
    number at the working precision."""
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    return mpmath.mpf(value)


def _short(x: Any) -> str:
    return mpmath.nstr(to_mpf(x), 6)


# why a value is undefined; every algebra words it the same way
def log_note(x: Any) -> str:
    """'log of zero' or 'log of a negative number (−2.0)'."""
    return "log of zero" if x == 0 else f"log of a negative number ({_short(x)})"


def root_note(d: int, x: Any) -> str:
    """'square root of a negative number (−1.0)' (or 'cube root', 'dth root'): complex."""
    root = {2: "square root", 3: "cube root"}.get(d, f"{d}th root")
    return f"{root} of a negative number ({_short(x)})"


def pow_note(x: Any, e: Any) -> str:
    """A negative base to a non-constant exponent whose value is not an integer (complex)."""
    return f"power of a negative number ({_short(x)}) to a non-integer exponent ({_short(e)})"


def const_note(expr: sp.Basic) -> str:
    """Why a constant sympy made from the spec has no real value: log(0) = zoo, √−1 = I …"""
    if expr.has(sp.zoo, sp.oo, -sp.oo):
        return "division by zero or log of zero: the value is infinite"
    if expr.has(sp.nan):
        return "undefined (0/0)"
    return f"{expr} is not a real number"


class ModPAlgebra(Algebra):
    """Arithmetic modulo PRIME; each function application gets a random value, keyed by its
    name and argument values, so equal applications agree and distinct ones are independent."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.oracle: dict[tuple, int] = {}

    def draw(self, key: tuple) -> int:
        if key not in self.oracle:
            self.oracle[key] = self.rng.randrange(1, PRIME)
        return self.oracle[key]

    def rational(self, p: int, q: int) -> int:
        return p * pow(q, -1, PRIME) % PRIME

    def const(self, expr: sp.Basic) -> int:
        return self.draw(("const", str(expr)))

    def add(self, xs: Sequence[int]) -> int:
        return sum(xs) % PRIME

    def mul(self, xs: Sequence[int]) -> int:
        out = 1
        for x in xs:
            out = out * x % PRIME
        return out

    def powi(self, b: int, n: int) -> int:
        return pow(b, n, PRIME)  # a zero base with n < 0 raises ValueError: caller redraws

    def powq(self, b: int, n: int, d: int) -> int:
        return pow(self.draw(("root", d, b)), n, PRIME)

    def func(self, name: str, xs: Sequence[int]) -> int:
        return self.draw((name, *xs))


class DegreeAlgebra(Algebra):
    """Bounds (numerator degree, denominator degree) of an expression as a rational function
    of its leaves and function applications; used for the Schwartz–Zippel error bound."""

    def rational(self, p: int, q: int) -> tuple[int, int]:
        return (0, 0)

    def const(self, expr: sp.Basic) -> tuple[int, int]:
        return (1, 0)

    def add(self, xs: Sequence[tuple[int, int]]) -> tuple[int, int]:
        den = sum(d for _, d in xs)
        return (max(n + den - d for n, d in xs), den)

    def mul(self, xs: Sequence[tuple[int, int]]) -> tuple[int, int]:
        return (sum(n for n, _ in xs), sum(d for _, d in xs))

    def powi(self, b: tuple[int, int], n: int) -> tuple[int, int]:
        return (n * b[0], n * b[1]) if n >= 0 else (-n * b[1], -n * b[0])

    def powq(self, b: tuple[int, int], n: int, d: int) -> tuple[int, int]:
        return (abs(n), 0) if n >= 0 else (0, abs(n))

    def func(self, name: str, xs: Sequence[Any]) -> tuple[int, int]:
        return (1, 0)


def forward(order: Sequence[str], exprs: Mapping[str, sp.Expr], symbols: Mapping[str, sp.Symbol],
            leaves: Mapping[str, Any], algebra: Algebra,
            fixed: Mapping[str, Any] | None = None) -> dict[sp.Symbol, Any]:
    """Values of every name: leaves as given, nodes evaluated in topological order.

    Names in `fixed` keep the given value even if they are nodes (a node taken as the
    variable of differentiation). The result maps symbols to values, ready as an `env`.
    """
    env: dict[sp.Basic, Any] = {symbols[n]: v for n, v in leaves.items()}
    fixed = fixed or {}
    for n in order:
        if n in fixed:
            env[symbols[n]] = fixed[n]
        elif n in exprs:
            env[symbols[n]] = evaluate(exprs[n], env, algebra)
    return env


class _ByName(Mapping[sp.Basic, Any]):
    """symbol → value through the symbol's name: no Symbol is made for a name never used."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getitem__(self, symbol: sp.Basic) -> Any:
        return self._values[symbol.name]  # type: ignore[attr-defined]

    def __contains__(self, symbol: object) -> bool:
        return isinstance(symbol, sp.Symbol) and symbol.name in self._values

    def __iter__(self) -> Any:
        raise TypeError("a name-keyed environment is not iterated")

    def __len__(self) -> int:
        return len(self._values)


class SympyPoint:
    """Sympy expressions in a network's names (local partials, path terms, the direct
    derivative in leaves) evaluated at one point: one forward pass, one shared memo, so an
    edge's partial that many paths share is computed once.

    `leaves` maps leaf names to the algebra's numbers (NoValue where a value is missing).
    """

    def __init__(self, network: Network, leaves: Mapping[str, Any], algebra: Algebra,
                 values: Mapping[str, Any] | None = None) -> None:
        """`values`: every name's value already computed (numeric.points, from the AST: no
        sympy expression of every node); without it, a forward pass on the sympy nodes."""
        self.algebra = algebra
        self.symbols = network.symbols
        if values is not None:
            self.leaves: Mapping[sp.Basic, Any] = _ByName(leaves)
            self.env: Mapping[sp.Basic, Any] = _ByName(values)
        else:
            self.leaves = {network.symbols[n]: v for n, v in leaves.items()}
            self.env = forward(network.graph.order, network.exprs, network.symbols, leaves,
                               algebra)
        self._memo: dict[int, Any] = {}

    def node(self, name: str) -> Any:
        """The value of a name (leaf or node)."""
        if isinstance(self.env, _ByName):
            return self.env._values[name]
        return self.env[self.symbols[name]]

    def value(self, expr: sp.Basic) -> Any:
        """`expr` (in node names) at the point."""
        return evaluate(expr, self.env, self.algebra, self._memo)

    def in_leaves(self, expr: sp.Basic) -> Any:
        """`expr` written in leaves only (the composed loss's derivative) at the point."""
        return evaluate(expr, self.leaves, self.algebra)


class Program:
    """A small sympy expression compiled for evaluating many times (the rules of
    numeric.points): its distinct subexpressions in postorder, each with its arguments'
    positions; `inputs` are the symbols whose values `run` is given, in order."""

    def __init__(self, expr: sp.Basic, inputs: Sequence[sp.Symbol]) -> None:
        index: dict[sp.Basic, int] = {s: i for i, s in enumerate(inputs)}
        self.steps: list[tuple[sp.Basic, list[int]]] = []
        for node in sp.postorder_traversal(expr):
            if node in index:
                continue
            args = [] if isinstance(node, sp.Symbol) else [index[a] for a in node.args]
            index[node] = len(inputs) + len(self.steps)
            self.steps.append((node, args))
        self.result = index[expr]

    def run(self, inputs: Sequence[Any], algebra: Algebra) -> Any:
        """The expression's value with the inputs' values, in `algebra`."""
        vals = list(inputs)
        for node, args in self.steps:
            vals.append(_apply(node, [vals[i] for i in args], {}, algebra))
        return vals[self.result]
