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

import sys
from collections.abc import Iterator, Mapping
from functools import cmp_to_key
from typing import Any

import symengine as se
import sympy as sp

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
    "SYMENGINE_FUNCTIONS",
    "to_symengine",
    "symengine_derivative",
    "from_symengine",
    "symengine_tree_size",
    "EngineError",
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
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


class relu(sp.Function):  # noqa: N801
    """The rectifier max(0, z); relu′(z) is the step [z > 0] (0 at z = 0)."""

    nargs = 1

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
        return self.rewrite(sp.log)._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0])


_FDIFF = (sigmoid, relu, softplus, sp.tanh, sp.exp)  # f(x): sympy.diff gives f.fdiff(1)

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
    "max": sp.Max,
    "min": sp.Min,
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
            out.append(SYMPY_FUNCTIONS[e.func](*args))  # type: ignore[operator]
    return out[0]


_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
}


def tree_size(expr: sp.Basic, limit: int | None = None) -> int:
    """Size of `expr` written out as a tree, counted on its DAG (memoised, big-int safe)."""
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


class Network:
    """A spec in sympy: symbols, node expressions in names, local partials, composition."""

    def __init__(self, spec: Spec, graph: Graph | None = None) -> None:
        self.spec = spec
        self.graph = graph if graph is not None else Graph(spec)
        names: Iterable[str] = [*spec.inputs, *spec.params, *spec.nodes]
        self.symbols: dict[str, sp.Symbol] = {n: sp.Symbol(n, real=True) for n in names}
        self.exprs: dict[str, sp.Expr] = {
            n: to_sympy(spec.nodes[n], self.symbols) for n in self.graph.order if n in spec.nodes
        }
        # a node's own expression, looked up to write partials back in the network's names;
        # plain numbers and lone names are left alone (they would rename every 2 or every x)
        self._names_table: dict[sp.Basic, sp.Symbol] = {}
        for n, e in self.exprs.items():
            if e.args and e not in self._names_table:
                self._names_table[e] = self.symbols[n]
        self._partials: dict[tuple[str, str], sp.Expr] = {}
        self._terms: dict[str, dict[sp.Symbol, list[sp.Expr]]] = {}

    def symbol(self, name: str) -> sp.Symbol:
        """The sympy Symbol of a declared name."""
        return self.symbols[name]

    def local_partial(self, u: str, v: str) -> sp.Expr:
        """∂v/∂u with all other names held fixed, written in the network's names."""
        key = (u, v)
        if key not in self._partials:
            raw = self._quick_partial(u, v)
            if raw is None:
                raw = sp.diff(self.exprs[v], self.symbols[u])
            self._partials[key] = rewrite(raw, self._table_for(v)) if raw.args else raw
        return self._partials[key]

    def _table_for(self, v: str) -> dict[sp.Basic, sp.Symbol]:
        """The names a partial of `v` may be written in: v itself (σ(w·a) → a11) and nodes whose
        expression appears inside v's. Not every node: ∂(w²)/∂w = 2w must not become `a` just
        because some node a happens to be 2w."""
        expr = self.exprs[v]
        inside = set(sp.preorder_traversal(expr)) if tree_size(expr, 500) <= 500 else {expr}
        table = {e: s for e, s in self._names_table.items() if e in inside}
        table[expr] = self.symbols[v]
        return table

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
        if isinstance(t, sp.Mul) and len(t.args) == 2 and x in t.args:
            other = t.args[0] if t.args[1] == x else t.args[1]
            if x not in other.free_symbols:
                return other
        return None

    def compose(self, target: str, free: str | None = None) -> dict[str, sp.Expr]:
        """Each node `target` depends on, written in leaves only (`free` stays a symbol)."""
        needed = self.graph.ancestors_and_self(target)
        composed: dict[str, sp.Expr] = {}
        for n in self.graph.order:
            if n not in needed:
                continue
            if n == free or n not in self.exprs:
                composed[n] = self.symbols[n]
                continue
            e = self.exprs[n]
            subs = {
                self.symbols[d]: composed[d]
                for d in self.graph.deps(n)
                if composed[d] is not self.symbols[d]
            }
            composed[n] = e.xreplace(subs) if subs else e
        return composed

    def composed_table(self, composed: Mapping[str, sp.Expr]) -> dict[sp.Basic, sp.Symbol]:
        """Composed node expression → node symbol, upstream nodes first, for `rewrite`."""
        table: dict[sp.Basic, sp.Symbol] = {}
        for n, e in composed.items():
            if n in self.exprs and e.args and e not in table:
                table[e] = self.symbols[n]
        return table

    def leaf_values(self, overrides: Mapping[str, Fraction | None] | None = None) -> dict:
        """Values of inputs and params from the spec, with `overrides` applied."""
        values = {**self.spec.inputs, **self.spec.params}
        if overrides:
            values.update(overrides)
        return values
