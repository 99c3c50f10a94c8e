"""The calculus stage: node expressions in two engines, local partials, the composed loss.

sympy is the public face: every name becomes a real sympy Symbol (made when first asked for),
sigmoid, relu and softplus are sympy functions whose derivatives print the way textbooks write
them, and local partials are rewritten back into the network's own names
(∂a11/∂a01 = w21·a11·(1 − a11)). symengine (a C++ CAS with a sympy-like API) does the heavy
lifting: the composed loss and its derivative, thousands of times faster than sympy.diff on deep
nets; `from_symengine` brings its results back as sympy on their DAG. The custom functions mean
the same in both engines (`symengine_derivative` supplies their textbook derivatives; the
agreement is tested on random DAGs in tests/test_engines.py).
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

import symengine as se
import sympy as sp
from sympy.core.sympify import _sympify

from .errors import SpecError, printable
from .graph import Graph
from .spec import grammar as g
from .spec.model import Spec

__all__ = [
    "sigmoid",
    "relu",
    "softplus",
    "SYMPY_FUNCTIONS",
    "Network",
    "to_sympy",
    "rewrite",
    "sum_index",
    "tree_size",
    "product",
    "products",
    "sum_terms",
    "SYMENGINE_FUNCTIONS",
    "to_symengine",
    "symengine_derivative",
    "from_symengine",
    "symengine_tree_size",
    "symengine_dag",
    "partial",
    "MAX",
    "MIN",
    "EngineError",
    "LARGE_NODE",
    "ONE_MINUS",
]


class sigmoid(sp.Function):  # noqa: N801 - printed name, as in textbooks
    """The logistic function σ(z) = 1/(1 + e^(−z)); σ′(z) = σ(z)(1 − σ(z))."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        # written in σ itself so a node a = σ(z) gives ∂a/∂z = a(1 − a)
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, z: sp.Expr, **kwargs: object) -> sp.Expr:
        return 1 / (1 + sp.exp(-z))

    def _eval_evalf(self, prec: int) -> sp.Expr:
        # the argument as it is: rewrite(exp) would rewrite a sin inside it too, and its
        # complex exponentials leave an imaginary 1e-15 (then sympy cannot compare it)
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


class relu(sp.Function):  # noqa: N801
    """The rectifier max(0, z); relu′(z) is the step [z > 0] (0 at z = 0)."""

    nargs = 1

    @classmethod
    def eval(cls, z: sp.Expr) -> None:
        if z.is_extended_real is False:  # as sympy's Max and Heaviside (its derivative) refuse
            raise ValueError(f"relu takes real numbers, not {z}")

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, z: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.Max(0, z)

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return sp.Max(0, self.args[0])._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return r"\operatorname{relu}\left(%s\right)" % printer._print(self.args[0])


class softplus(sp.Function):  # noqa: N801
    """log(1 + e^z); its derivative is σ(z)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, z: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.log(1 + sp.exp(z))

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return sp.log(1 + sp.exp(self.args[0]))._eval_evalf(prec)  # as sigmoid's: args as is

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0])


_FDIFF = (sigmoid, relu, softplus, sp.tanh, sp.exp)  # f(x): sympy.diff gives f.fdiff(1)
_ONE_ARG = (*_FDIFF, sp.sin, sp.cos)  # … and for a term f(x) of a sum, the same
# 1 − tanh(z)² and 1 − σ(z) as products of σ: the same numbers, but 1 − y loses every digit
# where the function saturates (tanh(45) is 1 at 30 digits, and 1.0 in a double)
ONE_MINUS = {sp.tanh: lambda z: 4 * sigmoid(2 * z) * sigmoid(-2 * z),
             sigmoid: lambda z: sigmoid(-z)}
# sin′ and cos′ of a name, without cos's and sin's eval (50 µs each: 20,000 chain links take
# a second); the objects fdiff builds (tests compare them)
_OF_A_NAME = {sp.sin: lambda x: sp.cos(x, evaluate=False),
              sp.cos: lambda x: -sp.sin(x, evaluate=False)}

# max/min of more arguments than this skip sympy's pairwise simplification of their arguments
# (_find_localzeros: quadratic, half a second for 21 symbols and again for each derivative)
WIDE = 3


def _extreme(cls: type) -> Any:
    """cls(*args) (sp.Max or sp.Min) for a spec's max/min: sympy's own for a few arguments;
    for more, nested calls flattened, repeats and all but the extreme number dropped, and the
    rest kept unevaluated (the same object sympy builds when it drops nothing)."""

    def make(*args: sp.Expr) -> sp.Expr:
        if len(args) <= WIDE:
            return cls(*args)
        flat: list[sp.Expr] = []
        for a in map(_sympify, args):  # strict: numbers and sympy objects, never text
            flat.extend(a.args if type(a) is cls else (a,))
        numbers = [a for a in flat if a.is_Rational]
        rest = list(dict.fromkeys(a for a in flat if not a.is_Rational))
        if numbers:
            rest.append(max(numbers) if cls is sp.Max else min(numbers))
        if len(rest) <= WIDE:
            return cls(*rest)
        return cls(*rest, evaluate=False)

    make.__name__ = cls.__name__
    return make


class _WideMax(sp.Max):
    """sp.Max for differentiating only: ∂max/∂a_i = H(a_i − max(others)), the others kept as
    they are (sympy's fdiff simplifies them afresh for every argument)."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        i = argindex - 1
        return sp.Heaviside(self.args[i] - MAX(*self.args[:i], *self.args[i + 1:]))


class _WideMin(sp.Min):
    def fdiff(self, argindex: int = 1) -> sp.Expr:
        i = argindex - 1
        return sp.Heaviside(MIN(*self.args[:i], *self.args[i + 1:]) - self.args[i])


MAX, MIN = _extreme(sp.Max), _extreme(sp.Min)
_WIDE_CLASSES = {sp.Max: _WideMax, sp.Min: _WideMin}


def partial(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """sympy.diff(expr, x), the same result, without sympy re-simplifying the arguments of a
    wide max/min (seconds) for each of its derivatives."""
    wide = {e for e in sp.preorder_traversal(expr)
            if type(e) in _WIDE_CLASSES and len(e.args) > WIDE}
    if not wide:
        return sp.diff(expr, x)
    there = {e: _WIDE_CLASSES[type(e)](*e.args, evaluate=False) for e in wide}
    back = {v: k for k, v in there.items()}
    out = sp.diff(expr.xreplace(there), x)
    return out.xreplace(back) if back else out

SYMPY_FUNCTIONS: dict[str, object] = {
    "sigmoid": sigmoid,
    "tanh": sp.tanh,
    "relu": relu,
    "softplus": softplus,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "sin": sp.sin,
    "cos": sp.cos,
    "max": MAX,
    "min": MIN,
}


def to_sympy(expr: g.Expr, symbols: Mapping[str, sp.Symbol]) -> sp.Expr:
    """Turn a parsed AST into sympy; an undeclared `pi` is π (the spec layer checks the rest).

    Iterative, because a long chain like x + x + … + x is a deep tree.
    """
    out: list[sp.Expr] = []
    stack: list[tuple[g.Expr, bool]] = [(expr, False)]
    sums: dict[int, int] = {}  # id of a chain a + b + … → its number of terms
    while stack:
        e, ready = stack.pop()
        if isinstance(e, g.BinOp) and e.op == "+" and not ready:
            # one sympy Add for the whole chain: adding term by term re-sorts it each time
            terms: list[g.Expr] = []
            node: g.Expr = e
            while isinstance(node, g.BinOp) and node.op == "+":
                terms.append(node.right)
                node = node.left
            terms.append(node)
            sums[id(e)] = len(terms)
            stack.append((e, True))
            stack.extend((k, False) for k in terms)  # pops the leftmost term first
        elif isinstance(e, g.BinOp) and ready and id(e) in sums:
            n = sums[id(e)]
            args, out[-n:] = out[-n:], []
            out.append(sp.Add(*args))
        elif isinstance(e, g.Num):
            out.append(sp.Rational(e.value.numerator, e.value.denominator))
        elif isinstance(e, g.Name):
            if e.id in symbols:
                out.append(symbols[e.id])
            elif e.id == "pi":
                out.append(sp.pi)
            else:
                raise KeyError(e.id)
        elif not ready:
            stack.append((e, True))
            kids = (e.operand,) if isinstance(e, g.Neg) else (
                (e.left, e.right) if isinstance(e, g.BinOp) else e.args)
            stack.extend((k, False) for k in reversed(kids))
        elif isinstance(e, g.Neg):
            out.append(-out.pop())
        elif isinstance(e, g.BinOp):
            b = out.pop()
            a = out.pop()
            out.append(_BINARY[e.op](a, b))
        else:
            n = len(e.args)
            args, out[-n:] = out[-n:], []
            if n == 1 and e.func in _AS_IS and type(args[0]) is sp.Symbol:
                out.append(SYMPY_FUNCTIONS[e.func](args[0], evaluate=False))  # type: ignore
            else:
                out.append(SYMPY_FUNCTIONS[e.func](*args))  # type: ignore[operator]
    return out[0]


# f(name) that sympy leaves as it is for a real symbol: built without asking (sin's eval
# alone takes 50 µs: a second for a 20,000-node chain); tests check the objects are equal
_AS_IS = frozenset(("sigmoid", "tanh", "relu", "softplus", "exp", "log", "abs", "sin", "cos"))


_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
}


def tree_size(expr: sp.Basic, limit: int | None = None) -> int:
    """Size of `expr` written out as a tree, counted on its DAG (memoised, big-int safe)."""
    if limit is not None and len(expr.args) >= limit:
        return len(expr.args) + 1  # past the limit already: no need to walk a huge sum
    memo: dict[int, int] = {}
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    keep: list[sp.Basic] = []  # keeps ids alive while memo holds them
    while stack:
        node, done = stack.pop()
        if id(node) in memo:
            continue
        if done or not node.args:
            memo[id(node)] = 1 + sum(memo[id(a)] for a in node.args)
            keep.append(node)
            if limit is not None and memo[id(node)] > limit:
                return memo[id(node)]
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in node.args if id(a) not in memo)
    return memo[id(expr)]


# --- products: sp.Mul(*factors) for the many path terms, without sympy's flatten each time ---


def product(factors: Sequence[sp.Expr]) -> sp.Expr:
    """sp.Mul(*factors): the same object sympy builds (see `products`)."""
    return products([factors])[0]


def products(many: Iterable[Sequence[sp.Expr]]) -> list[sp.Expr]:
    """[sp.Mul(*factors) for factors in many], identical objects, faster for path terms.

    A path's term multiplies a dozen local partials (w, a(1 − a), Out − y …): sympy's Mul
    flattens and sorts them with Basic.compare, about 0.5 ms a term, seconds for 10⁴ paths.
    Here each distinct factor is split into (coefficient, base → exponent) once, the bases are
    merged, and the arguments are sorted by ranks Basic.compare gives once per distinct
    argument. Anything unusual (numbers or exp as bases, a lone number times a sum) goes to
    sp.Mul itself; tests/test_engines.py checks the results are identical to sp.Mul's.
    """
    merged: list[tuple[Sequence[sp.Expr], Any, list[sp.Basic] | None]] = []
    for factors in many:
        merged.append((factors, *_merge(factors)))
    _CANON.add(a for _, _, args in merged if args for a in args)
    out = []
    for factors, coeff, args in merged:
        if args is None:
            out.append(sp.Mul(*factors))
            continue
        if not args:
            out.append(coeff)
            continue
        args.sort(key=_CANON.rank.__getitem__)
        if coeff is not sp.S.One:
            args.insert(0, coeff)
        out.append(args[0] if len(args) == 1 else sp.Mul._from_args(args, True))
    return out


_SPLIT: dict[sp.Basic, tuple[Any, tuple[tuple[sp.Basic, sp.Expr], ...]] | None] = {}
_POWS: dict[tuple[sp.Basic, sp.Expr], sp.Expr] = {}


def _split(f: sp.Expr) -> tuple[Any, tuple[tuple[sp.Basic, sp.Expr], ...]] | None:
    """f as (rational coefficient, ((base, exponent), …)); None for what only sp.Mul knows."""
    if f in _SPLIT:
        return _SPLIT[f]
    out: Any = None
    coeff, args = f.as_coeff_mul()
    if coeff.is_Rational and not coeff.is_zero:
        pairs = []
        for a in args:
            b, e = (a.base, a.exp) if isinstance(a, sp.Pow) else (a, sp.S.One)
            if b.is_Number or b is sp.E or isinstance(a, sp.exp) or not a.is_commutative:
                break  # numbers fold into the coefficient, exps combine: sympy's business
            pairs.append((b, e))
        else:
            out = (coeff, tuple(pairs))
    if len(_SPLIT) > 100_000:
        _SPLIT.clear()
    _SPLIT[f] = out
    return out


def _merge(factors: Sequence[sp.Expr]) -> tuple[Any, list[sp.Basic] | None]:
    """The coefficient and the (unsorted) arguments of sp.Mul(*factors); None: use sp.Mul."""
    coeff = sp.S.One
    exps: dict[sp.Basic, sp.Expr] = {}
    for f in factors:
        parts = _split(f) if isinstance(f, sp.Basic) else None
        if parts is None:
            return coeff, None
        c, pairs = parts
        if c is not sp.S.One:
            coeff = coeff * c
        for b, e in pairs:
            exps[b] = exps[b] + e if b in exps else e
    args: list[sp.Basic] = []
    for b, e in exps.items():
        if e is sp.S.One:
            args.append(b)
        elif e.is_zero:
            continue
        else:
            p = _POWS.get((b, e))
            if p is None:
                p = _POWS[(b, e)] = sp.Pow(b, e)
            if not isinstance(p, sp.Pow) or p.base != b:
                return coeff, None  # the power simplified itself ((x²)^½ …): sympy decides
            args.append(p)
    if coeff.is_zero or (coeff is not sp.S.One and len(args) == 1 and args[0].is_Add):
        return coeff, None  # 0, and 2·(a + b) → 2a + 2b: sympy's own rules
    return coeff, args


class _Canonical:
    """Ranks in sympy's canonical order (Basic.compare), computed once per distinct object."""

    def __init__(self) -> None:
        self.rank: dict[sp.Basic, int] = {}
        self._sorted: list[sp.Basic] = []

    def add(self, items: Iterable[sp.Basic]) -> None:
        new = {a for a in items if a not in self.rank}
        if not new:
            return
        key = cmp_to_key(sp.Basic.compare)
        fresh = sorted(new, key=key)
        if len(self._sorted) > 200_000:
            self._sorted = []
        keys = [key(a) for a in self._sorted]
        merged: list[sp.Basic] = []
        i = 0
        for a in fresh:  # merge two sorted lists: O(n) compares, not a full re-sort
            ka = key(a)
            j = bisect.bisect_left(keys, ka, i)
            merged.extend(self._sorted[i:j])
            merged.append(a)
            i = j
        merged.extend(self._sorted[i:])
        self._sorted = merged
        self.rank = {a: r for r, a in enumerate(merged)}


_CANON = _Canonical()


# --- symengine: the composed loss and its derivative ----------------------------------------


class EngineError(Exception):
    """symengine met something the translation does not cover (the caller falls back)."""


_SE_SIGMOID = se.Function("sigmoid")
_SE_RELU = se.Function("relu")
_SE_SOFTPLUS = se.Function("softplus")
_SE_HEAVISIDE = se.Function("Heaviside")  # Heaviside(x, value at 0), as sympy writes it

SYMENGINE_FUNCTIONS: dict[str, Any] = {
    "sigmoid": _SE_SIGMOID,
    "tanh": se.tanh,
    "relu": _SE_RELU,
    "softplus": _SE_SOFTPLUS,
    "exp": se.exp,
    "log": se.log,
    "sqrt": se.sqrt,
    "abs": se.Abs,
    "sin": se.sin,
    "cos": se.cos,
    "max": lambda *a: _se_extreme(se.Max, a),
    "min": lambda *a: _se_extreme(se.Min, a),
}


# max/min whose arguments are at most this large (as trees) are built the way sympy builds
# them; beyond it sympy's comparisons cost too much, and sympy.diff is not run anyway
SAME_AS_SYMPY_LIMIT = 300


def _se_extreme(cls: type, args: tuple[Any, ...]) -> Any:
    """se.Max/se.Min of `args` as sympy's MAX/MIN would simplify it. sympy drops arguments it
    can order (max(p + p², p, q) is max(q, p + p²)), absorbs (max(min(a, b), a) is a) and
    factors (max(min(a, b), min(a, c)) is min(a, max(b, c))); each form is the same function,
    but not the same derivative at a tie (½ of each side, chained), so both engines must build
    the same one. sympy decides, on small arguments; the result is brought back to symengine."""
    if not 2 <= len(args) <= WIDE:
        return cls(*args)
    args = tuple(map(se.sympify, args))
    memo: dict[Any, sp.Basic] = {}
    try:
        if sum(symengine_tree_size(a, SAME_AS_SYMPY_LIMIT)
               for a in args) > SAME_AS_SYMPY_LIMIT:
            return cls(*args)
        mine = [from_symengine(a, _REAL_SYMBOLS, memo) for a in args]
        theirs = (MAX if cls is se.Max else MIN)(*mine)
        return _back_to_symengine(theirs, {v: k for k, v in memo.items()})
    except (EngineError, ValueError, TypeError, AttributeError):  # sympy refuses it: as is
        return cls(*args)


class _RealSymbols(dict):
    """name → sp.Symbol(name, real=True), Network's symbols, made on demand."""

    def __missing__(self, name: str) -> sp.Symbol:
        self[name] = out = sp.Symbol(name, real=True)
        return out


_REAL_SYMBOLS = _RealSymbols()
_SE_BY_SP: dict[Any, Any] = {sp.Max: se.Max, sp.Min: se.Min, sp.Add: se.Add, sp.Mul: se.Mul,
                             sp.Pow: se.Pow}


def _back_to_symengine(e: sp.Basic, known: Mapping[sp.Basic, Any]) -> Any:
    """A sympy expression made of `known` pieces (sympy → their symengine originals) by Max,
    Min, +, ·, ^ and numbers, as symengine; EngineError for anything else."""
    if e in known:
        return known[e]
    if e.is_Rational:
        return se.Rational(int(e.p), int(e.q))
    if e.is_Symbol:
        return se.Symbol(e.name)
    make = _SE_BY_SP.get(type(e))
    if make is None:
        raise EngineError(f"cannot bring {e} to symengine")
    return make(*[_back_to_symengine(a, known) for a in e.args])


_SE_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
}


def to_symengine(expr: g.Expr, env: Mapping[str, Any]) -> Any:
    """A parsed AST as symengine, names looked up in `env` (a symbol, or a node's composed
    expression: composing is converting). Iterative; subtrees a builder shares are done once."""
    done: dict[int, Any] = {}
    stack: list[tuple[g.Expr, bool]] = [(expr, False)]
    keep: list[g.Expr] = []
    while stack:
        e, ready = stack.pop()
        if id(e) in done:
            continue
        if isinstance(e, g.Num):
            out = se.Rational(e.value.numerator, e.value.denominator)
        elif isinstance(e, g.Name):
            if e.id in env:
                out = env[e.id]
            elif e.id == "pi":
                out = se.pi
            else:
                raise KeyError(e.id)
        else:
            kids = (e.operand,) if isinstance(e, g.Neg) else (
                (e.left, e.right) if isinstance(e, g.BinOp) else e.args)
            if not ready:
                stack.append((e, True))
                stack.extend((k, False) for k in reversed(kids) if id(k) not in done)
                continue
            xs = [done[id(k)] for k in kids]
            try:
                if isinstance(e, g.Neg):
                    out = -xs[0]
                elif isinstance(e, g.BinOp):
                    out = _SE_BINARY[e.op](xs[0], xs[1])
                else:
                    out = SYMENGINE_FUNCTIONS[e.func](*xs)
            except RuntimeError:  # symengine has no (−∞)² and such: undefined
                out = se.nan
        done[id(e)] = out
        keep.append(e)
    return done[id(expr)]


def symengine_dag(expr: Any, stop: tuple[type, ...] = ()) -> Iterator[Any]:
    """Each distinct subexpression of a symengine expression once (not below `stop` types)."""
    seen = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        yield e
        if not isinstance(e, stop):
            stack.extend(e.args)


def symengine_tree_size(expr: Any, limit: int) -> int:
    """Size of a symengine expression written out as a tree, counted on its DAG (each
    distinct subexpression once), stopping once past `limit`."""
    size: dict[Any, int] = {}
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in size:
            continue
        args = e.args
        if args and not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in args if a not in size)
            continue
        size[e] = 1 + sum(size[a] for a in args)
        if size[e] > limit:
            return size[e]
    return size[expr]


def _fdiff(name: str, z: Any) -> Any:
    """The textbook derivative of a custom function, as calculus' sympy classes define it."""
    if name == "sigmoid":
        s = _SE_SIGMOID(z)
        return s * (1 - s)
    if name == "softplus":
        return _SE_SIGMOID(z)
    if name == "relu":
        return _SE_HEAVISIDE(z, 0)  # relu′(0) = 0, as relu.fdiff says
    raise EngineError(f"no derivative for {name}")


def symengine_derivative(expr: Any, x: Any) -> Any:
    """d expr / d x in symengine, with the derivatives symengine leaves unevaluated supplied
    the way sympy writes them: σ′ = σ(1 − σ), softplus′ = σ, relu′ = Heaviside(z, 0),
    |f|′ = sign(f)·f′, max/min′ = Heaviside of the differences (½ at a tie), term by term."""
    memo: dict[Any, Any] = {}

    def d(e: Any) -> Any:
        if e in memo:
            return memo[e]
        raw = se.diff(e, x)
        fixes = {}
        for node in symengine_dag(raw, stop=(se.Subs, se.Derivative)):
            if isinstance(node, se.Subs):
                inner = node.expr
                if not (isinstance(inner, se.Derivative) and len(node.variables) == 1
                        and isinstance(inner.expr, se.FunctionSymbol)):
                    raise EngineError(f"unexpected {node}")
                fixes[node] = _fdiff(inner.expr.get_name(), node.point[0])
            elif isinstance(node, se.Derivative):
                fixes[node] = _chain(node)
        out = raw.xreplace(fixes) if fixes else raw
        memo[e] = out
        return out

    def _chain(node: Any) -> Any:
        f, variables = node.expr, node.variables
        if len(variables) != 1 or variables[0] != x:
            raise EngineError(f"unexpected {node}")
        if isinstance(f, se.FunctionSymbol) and f.args == (x,):
            return _fdiff(f.get_name(), x)  # σ(x) of the variable itself: no Subs
        args = f.args
        if isinstance(f, se.Abs):
            return se.sign(args[0]) * d(args[0])
        if isinstance(f, (se.Max, se.Min)):
            half = se.Rational(1, 2)
            big = isinstance(f, se.Max)
            terms = []
            for i, a in enumerate(args):
                others = args[:i] + args[i + 1:]
                rest = others[0] if len(others) == 1 else type(f)(*others)
                gap = a - rest if big else rest - a  # sympy's Max/Min.fdiff
                terms.append(_SE_HEAVISIDE(gap, half) * d(a))
            return se.Add(*terms)
        raise EngineError(f"symengine cannot differentiate {f}")

    return d(expr)


_SP_BY_TYPE: dict[str, Any] = {
    "tanh": sp.tanh, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "Abs": sp.Abs,
    "sign": sp.sign, "Max": MAX, "Min": MIN,
}
_SP_BY_NAME: dict[str, Any] = {"sigmoid": sigmoid, "relu": relu, "softplus": softplus,
                               "Heaviside": sp.Heaviside}


def from_symengine(expr: Any, symbols: Mapping[str, sp.Symbol],
                   memo: dict[Any, sp.Basic] | None = None) -> sp.Expr:
    """A symengine expression as sympy, each distinct subexpression converted once (a DAG
    stays a DAG); names become `symbols[name]`. `memo` may be shared between calls."""
    memo = {} if memo is None else memo
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in memo:
            continue
        args = () if isinstance(e, se.Number) else e.args  # symengine's zoo.args is (0,)
        if args and not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in args if a not in memo)
            continue
        memo[e] = _one_from_symengine(e, [memo[a] for a in args], symbols)
    return memo[expr]


def sum_terms(terms: Iterable[sp.Basic]) -> sp.Basic:
    """sp.Add(*terms), the same object, faster for many distinct terms (the path terms)."""
    return _add(list(terms))


def _add(xs: list[sp.Basic]) -> sp.Basic:
    """sp.Add(*xs) for terms symengine has already collected (no two alike): sorted by the
    canonical ranks instead of Add.flatten's compare-sort, which dominates on sums of
    hundreds of terms. Anything else goes to sp.Add; tests check the two agree."""
    if len(xs) < 8:
        return sp.Add(*xs)
    coeff = None
    terms: list[sp.Basic] = []
    seen = set()
    for x in xs:
        if not isinstance(x, sp.Basic):
            return sp.Add(*xs)  # plain Python numbers: sympy converts them
        if x.is_Number:
            if coeff is not None or not x.is_Rational:
                return sp.Add(*xs)
            coeff = x
            continue
        if x.is_Add or not x.is_commutative:
            return sp.Add(*xs)
        c, rest = x.as_coeff_Mul()
        if not c.is_Rational or rest in seen:
            return sp.Add(*xs)
        seen.add(rest)
        terms.append(x)
    terms.sort(key=_term_key(terms))
    if coeff is not None and not coeff.is_zero:
        terms.insert(0, coeff)
    return sp.Add._from_args(terms, True)


def _term_key(terms: list[sp.Basic]) -> Callable[[sp.Basic], Any]:
    """A sort key giving Basic.compare's order on `terms` (as Add.flatten sorts them).

    When every term is a product whose arguments already have canonical ranks (the path
    terms `products` made), compare's order is the order of (number of arguments, their
    ranks): compare looks at the class, then the length of the arguments, then the
    arguments one by one. Tuples of ints sort in milliseconds where compare takes seconds.
    """
    rank = _CANON.rank
    if all(isinstance(t, sp.Mul) and all(a in rank for a in t.args) for t in terms):
        return lambda t: (len(t.args), [rank[a] for a in t.args])
    return cmp_to_key(sp.Basic.compare)


def _one_from_symengine(e: Any, xs: list[sp.Basic], symbols: Mapping[str, sp.Symbol]
                        ) -> sp.Basic:
    if isinstance(e, se.Symbol):
        return symbols[e.name]
    if isinstance(e, se.Integer):
        return sp.Integer(int(e))
    if isinstance(e, se.Rational):
        return sp.Rational(int(e.p), int(e.q))
    if isinstance(e, se.Add):
        return _add(xs)
    if isinstance(e, se.Mul):
        return sp.Mul(*xs)
    if isinstance(e, se.Pow):
        return sp.exp(xs[1]) if xs[0] is sp.E else sp.Pow(xs[0], xs[1])
    if isinstance(e, se.FunctionSymbol):
        name = e.get_name()
        if name in _SP_BY_NAME:
            return _unchecked(_SP_BY_NAME[name], xs)
    elif not xs:
        if e == se.pi:
            return sp.pi
        if e == se.E:
            return sp.E
        # constants a spec can make from real numbers: log(-1) = iπ, sqrt(-1), log(0) = -∞
        for const, back in ((se.I, sp.I), (se.zoo, sp.zoo), (se.oo, sp.oo),
                            (-se.oo, -sp.oo), (se.nan, sp.nan)):
            if e == const:
                return back
    else:
        kind = type(e).__name__
        if kind in _SP_BY_TYPE:
            return _unchecked(_SP_BY_TYPE[kind], xs)
    raise EngineError(f"cannot bring {e} back from symengine")


def _unchecked(f: Callable[..., sp.Basic], xs: list[sp.Basic]) -> sp.Basic:
    """f(*xs), or f unevaluated where sympy refuses a complex argument (relu(log(−eˣ)),
    max(log(−eˣ), x)): the expression stays printable; its value is a cell note."""
    try:
        return f(*xs)
    except ValueError:
        return _unevaluated(f, xs)


def _unevaluated(f: Callable[..., sp.Basic], xs: list[sp.Basic]) -> sp.Basic:
    cls = {MAX: sp.Max, MIN: sp.Min}.get(f, f)
    if cls in (sp.Max, sp.Min):  # their constructor checks comparability even unevaluated
        return sp.Expr.__new__(cls, *xs)
    return sp.Function.__new__(cls, *xs, evaluate=False)


SumIndex = dict[sp.Basic, list[tuple[frozenset, sp.Symbol]]]


def sum_index(table: Mapping[sp.Basic, sp.Symbol]) -> SumIndex:
    """For `rewrite`: each term of a sum in `table` → (the sum's terms, its symbol)."""
    sums: SumIndex = {}
    for e, s in table.items():
        if isinstance(e, sp.Add):
            terms = frozenset(e.args)
            for t in e.args:
                sums.setdefault(t, []).append((terms, s))
    return sums


def rewrite(expr: sp.Basic, table: Mapping[sp.Basic, sp.Symbol],
            sums: SumIndex | None = None) -> sp.Basic:
    """Replace every subexpression found in `table` by its symbol, top-down, on the DAG.

    Sums are matched partly too: if a node's expression is the sum A + B and `expr` contains
    A + B − y, the result is Out − y. Each distinct subexpression is visited once.
    `sums` is `sum_index(table)`, passed in when the same table serves many calls.
    """
    if sums is None:
        sums = sum_index(table)
    memo: dict[sp.Basic, sp.Basic] = {}

    def walk(node: sp.Basic) -> sp.Basic:
        hit = memo.get(node)
        if hit is not None:
            return hit
        if node in table:
            out: sp.Basic = table[node]
        elif not node.args:
            out = node
        elif isinstance(node, sp.Add) and sums:
            out = _rewrite_add(node)
        else:
            new = [walk(a) for a in node.args]
            out = node if all(n is a for n, a in zip(new, node.args)) else node.func(*new)
        memo[node] = out
        return out

    def _rewrite_add(node: sp.Add) -> sp.Basic:
        args = set(node.args)
        replaced: list[sp.Basic] = []
        # try the largest node sums first so Out wins over a part of Out
        candidates = {c for a in node.args for c in sums.get(a, ())}
        for terms, sym in sorted(candidates, key=lambda c: -len(c[0])):
            if len(terms) < len(args) and terms <= args:
                args -= terms
                replaced.append(sym)
        if not replaced:
            new = [walk(a) for a in node.args]
            return node if all(n is a for n, a in zip(new, node.args)) else sp.Add(*new)
        return sp.Add(*replaced, *(walk(a) for a in node.args if a in args))

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20_000))
    try:
        return walk(expr)
    finally:
        sys.setrecursionlimit(old)


class _Lazy(Mapping[str, Any]):
    """name → value, made on first look-up (a 300k-name spec needs few of them)."""

    def __init__(self, names: Any, make: Any) -> None:
        self._names = names  # a container with the keys, in order
        self._make = make
        self._made: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        hit = self._made.get(name)
        if hit is None:
            if name not in self._names:
                raise KeyError(name)
            hit = self._made[name] = self._make(name)
        return hit

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _Ordered:
    """The names of a dict in another order (the nodes in topological order), as a container."""

    def __init__(self, order: tuple[str, ...], members: Mapping[str, object]) -> None:
        self.order, self.members = order, members

    def __contains__(self, name: object) -> bool:
        return name in self.members

    def __iter__(self) -> Iterator[str]:
        return (n for n in self.order if n in self.members)

    def __len__(self) -> int:
        return len(self.members)


class _Names:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def __contains__(self, name: object) -> bool:
        s = self.spec
        return name in s.inputs or name in s.params or name in s.nodes

    def __iter__(self) -> Iterator[str]:
        s = self.spec
        yield from s.inputs
        yield from s.params
        yield from s.nodes

    def __len__(self) -> int:
        s = self.spec
        return len(s.inputs) + len(s.params) + len(s.nodes)


_FEW_CHILDREN = 64  # Network._candidates: past this many children of one name, the buckets
LARGE_NODE = 2_000  # AST nodes: a node this large gets its local partials from symengine


class Network:
    """A spec in sympy: symbols, node expressions in names, local partials, composition.

    `symbols` and `exprs` are mappings over every name and node, made on first use: a
    300k-param spec explained from a weight near the loss builds only what it touches.
    """

    def __init__(self, spec: Spec, graph: Graph | None = None) -> None:
        self.spec = spec
        self.graph = graph if graph is not None else Graph(spec)
        self.symbols: Mapping[str, sp.Symbol] = _Lazy(
            _Names(spec), lambda n: sp.Symbol(n, real=True))
        self.exprs: Mapping[str, sp.Expr] = _Lazy(
            _Ordered(self.graph.order, spec.nodes),
            lambda n: to_sympy(spec.nodes[n], self.symbols))
        self.se_symbols: Mapping[str, Any] = _Lazy(_Names(spec), se.Symbol)
        self._se_plain: dict[str, Any] = {}
        self._partials: dict[tuple[str, str], sp.Expr] = {}
        self._terms: dict[str, dict[sp.Symbol, list[sp.Expr]]] = {}
        self._constant_nodes: list[str] | None = None

    def local_partial(self, u: str, v: str) -> sp.Expr:
        """∂v/∂u with all other names held fixed, written in the network's names."""
        key = (u, v)
        if key not in self._partials and g.size(self.spec.nodes[v]) > LARGE_NODE:
            self._partials[key] = self._large_partial(u, v)
        if key not in self._partials:
            raw = self._quick_partial(u, v)
            if raw is None:
                raw = partial(self.exprs[v], self.symbols[u])
            self._partials[key] = rewrite(raw, self._table_for(v)) if raw.args else raw
        return self._partials[key]

    def se_expression(self, v: str) -> Any:
        """Node v's expression in symengine, in the network's names (converted once: a loss
        summing 30,000 outputs takes half a second, and the partial and the proof need it)."""
        if v not in self._se_plain:
            self._se_plain[v] = to_symengine(self.spec.nodes[v], self.se_symbols)
        return self._se_plain[v]

    def _large_partial(self, u: str, v: str) -> sp.Expr:
        """∂v/∂u for a node with a huge expression (a loss summing 30,000 outputs): symengine
        differentiates it (sympy would spend seconds just building the sum) and v's own
        expression inside the result becomes v, before the small result comes back to sympy."""
        expr = self.se_expression(v)
        raw = symengine_derivative(expr, self.se_symbols[u])
        raw = raw.xreplace({expr: self.se_symbols[v]})
        return from_symengine(raw, self.symbols)

    def _table_for(self, v: str) -> dict[sp.Basic, sp.Symbol]:
        """The names a partial of `v` may be written in: v itself (σ(w·a) → a11) and nodes whose
        expression appears inside v's. Not every node: ∂(w²)/∂w = 2w must not become `a` just
        because some node a happens to be 2w. Where two nodes have the same expression, the
        first in topological order names it. Plain numbers and lone names are left alone
        (they would rename every 2 or every x)."""
        expr = self.exprs[v]
        inside = set(sp.preorder_traversal(expr)) if tree_size(expr, 500) <= 500 else {expr}
        table: dict[sp.Basic, sp.Symbol] = {}
        for n in self._candidates(v):
            e = self.exprs[n]
            if e.args and e in inside and e not in table:
                table[e] = self.symbols[n]
        table[expr] = self.symbols[v]
        return table

    def _candidates(self, v: str) -> list[str]:
        """Nodes whose expression could appear inside v's, in topological order: one that
        does uses a name v uses (so it is that name's child), or no name at all."""
        deps, children = self.graph.deps, self.graph.children_of
        if self._constant_nodes is None:
            self._constant_nodes = [n for n in self.spec.nodes if not deps(n)]
        mine = set(deps(v))
        found = set(self._constant_nodes)
        # a node inside v's expression uses only names v uses, so it is a child of each of
        # them: v's names' children are the candidates, when they are few (near the loss of
        # a 300k-param net, a handful) …
        few = all(len(children(u)) <= _FEW_CHILDREN for u in mine)
        for u in mine:
            for n in children(u) if few else self._bucket(u):
                if n not in found and mine.issuperset(deps(n)):
                    found.add(n)
        if len(found) * 4 > len(self.graph.order):  # most of the net: walk the order once
            return [n for n in self.graph.order if n in found]
        return sorted(found, key=self.graph.node_position().__getitem__)  # all are nodes

    def _bucket(self, u: str) -> list[str]:
        """… else the nodes filed under u: each node under its name with the fewest children
        (an input that every node uses would otherwise make every node a candidate of every
        node), filed once for all nodes."""
        if not hasattr(self, "_buckets"):
            succ = self.graph.successors()
            self._buckets: dict[str, list[str]] = {}
            for n in self.spec.nodes:
                deps = self.graph.deps(n)
                if deps:
                    rarest = min(deps, key=lambda u: len(succ[u]))
                    self._buckets.setdefault(rarest, []).append(n)
        return self._buckets.get(u, [])

    def _quick_partial(self, u: str, v: str) -> sp.Expr | None:
        """What sympy.diff returns for the shapes networks are made of — x itself, σ(x),
        tanh(x), relu(x), softplus(x), exp(x), and a sum with x in one term c·x — without its
        Derivative machinery (about 3 ms a call, seconds on a net); None for anything else."""
        expr, x = self.exprs[v], self.symbols[u]
        if expr == x:
            return sp.S.One
        if isinstance(expr, _FDIFF) and expr.args == (x,):
            return expr.fdiff(1)
        if v not in self._terms:
            index: dict[sp.Symbol, list[sp.Expr]] = {}
            for t in sp.Add.make_args(expr):
                for s in t.free_symbols:
                    index.setdefault(s, []).append(t)
            self._terms[v] = index
        terms = self._terms[v].get(x, ())
        if len(terms) != 1:
            return None
        t = terms[0]
        if t == x:
            return sp.S.One
        if isinstance(t, _ONE_ARG) and t.args == (x,):  # σ(x) + …, sin(x) + …: f′(x)
            quick = _OF_A_NAME.get(type(t))
            return quick(x) if quick is not None else t.fdiff(1)
        if isinstance(t, sp.Mul) and len(t.args) == 2 and x in t.args:
            other = t.args[0] if t.args[1] == x else t.args[1]
            if x not in other.free_symbols:
                return other
        return None

    def composed_size(self, target: str, cap: int) -> int:
        """About how large `target` is written out in leaves (each node's expression with its
        names replaced by theirs), counted without composing; anything past `cap` is cap + 1.
        Ten residual blocks are 2^10 times one: composing them in sympy never finishes."""
        nodes = self.spec.nodes
        size: dict[str, int] = {}
        for n in self.graph.order:
            if n in nodes and n in self.graph.ancestors_and_self(target):
                size[n] = min(g.size(nodes[n]) + sum(size.get(u, 1) - 1
                                                     for u in self.graph.deps(n)), cap + 1)
        return size.get(target, 1)

    def compose(self, target: str, free: str | None = None) -> dict[str, sp.Expr]:
        """Each node `target` depends on, written in leaves only (`free` stays a symbol)."""
        needed = self.graph.ancestors_and_self(target)
        composed: dict[str, sp.Expr] = {}
        for n in self.graph.order:
            if n not in needed:
                continue
            if n == free or n not in self.spec.nodes:
                composed[n] = self.symbols[n]
                continue
            e = self.exprs[n]
            subs = {
                self.symbols[d]: composed[d]
                for d in self.graph.deps(n)
                if composed[d] is not self.symbols[d]
            }
            try:
                composed[n] = e.xreplace(subs) if subs else e
            except ValueError:  # sympy's relu/max/Heaviside refuse a value that is never real
                raise self._never_real(n, composed) from None
        return composed

    def _never_real(self, n: str, composed: Mapping[str, sp.Expr]) -> SpecError:
        bad = [d for d in self.graph.deps(n) if composed[d].is_extended_real is False]
        what = (f"{printable(bad[0])} = {printable(str(composed[bad[0]]))} is never a real "
                "number" if bad else "its argument is never a real number")
        return SpecError(
            f"'{printable(n)}' = {printable(self.spec.text(n))} has no value for any values of "
            f"the names: {what}", self.spec.where("nodes", n),
            "relu, max, min, abs and their derivatives take real numbers: a log or square root "
            "of something that is always negative is not one")

    def compose_symengine(self, target: str, free: str | None = None) -> dict[str, Any]:
        """`compose` in symengine: each node `target` depends on, in leaves (C++, fast)."""
        needed = self.graph.ancestors_and_self(target)
        composed: dict[str, Any] = {}
        nodes = self.spec.nodes
        for n in self.graph.order:
            if n not in needed:
                continue
            if n == free or n not in nodes:
                composed[n] = self.se_symbols[n]
            else:
                composed[n] = to_symengine(nodes[n], composed)
        return composed

    def composed_table(self, composed: Mapping[str, sp.Expr]) -> dict[sp.Basic, sp.Symbol]:
        """Composed node expression → node symbol, upstream nodes first, for `rewrite`."""
        table: dict[sp.Basic, sp.Symbol] = {}
        for n, e in composed.items():
            if n in self.spec.nodes and e.args and e not in table:
                table[e] = self.symbols[n]
        return table
