"""Node values and local partial VALUES at a point, straight from the grammar AST.

Top-K paths, the backprop table and the length distribution need ∂v/∂u at the point for
thousands of edges; building each as a sympy expression first (Network.local_partial) costs
about a millisecond per edge. Here each node's expression is evaluated once and
differentiated by reverse mode over its own small AST, so all of a node's local partials come
out of one sweep.

Nothing here knows a derivative or a function: each AST operation (a + b, a^3, σ(a),
max(a, b, c) …) is turned into sympy by calculus.to_sympy on placeholder arguments, once,
and sympy.diff of that gives its rule (σ′ = y(1 − y) with y the node's own value,
∂max/∂a = H(a − b)). Both are evaluated by numeric.evaluate in an algebra (by default the
exact one: numeric.exact), so the values and kink conventions are those of the sympy
evaluator, whatever the representation.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..calculus import ONE_MINUS, partial, sigmoid, to_sympy
from ..spec import Spec
from ..spec import grammar as g
from .evaluate import Algebra, NoValue, Program, to_mpf
from .exact import ExactAlgebra, exact_leaves, to_float

__all__ = ["PointValues", "point_values", "leaf_numbers", "undefined_edge", "as_float", "DIGITS"]

DIGITS = 30  # as explain: numbers are exact to far more digits than the floats shown


@dataclass(frozen=True)
class PointValues:
    """Values of names and local partials at one point, in the algebra they were computed in
    (numeric.exact: Fractions, Reals, NoValue with the reason).

    `values` and `partials` give the same numbers as mpmath numbers (NoValue kept), computed
    on first use; compute and use them inside `mpmath.workdps(DIGITS)`.
    """

    exact_values: dict[str, Any]
    exact_partials: dict[tuple[str, str], Any]  # (u, v) → ∂v/∂u, every other name held fixed

    def partial(self, u: str, v: str) -> Any:
        """∂v/∂u at the point (NoValue with the reason when it is undefined)."""
        return self.exact_partials[(u, v)]

    @functools.cached_property
    def values(self) -> dict[str, Any]:
        """Every name's value as an mpmath number (or NoValue)."""
        return {n: _mp(x) for n, x in self.exact_values.items()}

    @functools.cached_property
    def partials(self) -> dict[tuple[str, str], Any]:
        """∂v/∂u as mpmath numbers (or NoValue)."""
        return {e: _mp(x) for e, x in self.exact_partials.items()}


def _mp(x: Any) -> Any:
    return x if isinstance(x, NoValue) else to_mpf(x)


def leaf_numbers(spec: Spec, leaf_values: Mapping[str, Fraction | None]) -> dict[str, Any]:
    """Leaf values as mpmath numbers; NoValue('x1 has no value') where none is given."""
    return {n: (to_mpf(v) if v is not None else NoValue(f"{n} has no value"))
            for n, v in leaf_values.items()}


def point_values(spec: Spec, leaf_values: Mapping[str, Fraction | None],
                 nodes: Iterable[str] | None = None, *, upto: str | None = None,
                 algebra: Algebra | None = None) -> PointValues:
    """Every name's value (nodes up to `upto`, default all), and ∂v/∂u for each node v in
    `nodes` (default every node) and each name u its expression uses.

    Exact by default (numeric.exact); call inside `mpmath.workdps(DIGITS)` for the precision
    of the values that are not rational.
    """
    graph = spec.graph
    alg = algebra or ExactAlgebra()
    want = set(spec.nodes if nodes is None else nodes)
    stop = graph.order.index(upto) + 1 if upto is not None else len(graph.order)
    partials: dict[tuple[str, str], Any] = {}
    zero = alg.rational(0, 1)
    known = _forward_done(spec, leaf_values) if algebra is None else None
    if known is not None:  # every value is known: only the partials asked for are swept
        env = dict(known)
        swept = _LAST[4]  # … and those an earlier call swept are taken as they are
        for n in graph.order[:stop]:
            if n in want and n in spec.nodes:
                grads = swept.get(n)
                if grads is None:
                    grads = swept[n] = _sweep(spec.nodes[n], env, alg, True)[1]
                for u in graph.deps(n):
                    partials[(u, n)] = grads.get(u, zero)
        return PointValues(env, partials)
    swept: dict[str, dict[str, Any]] = {}
    env = exact_leaves(leaf_values) if algebra is None else leaf_numbers(spec, leaf_values)
    nodes = graph.node_order
    for n in nodes[:max(stop - (len(graph.order) - len(nodes)), 0)]:
        if n not in want:
            env[n] = _value(spec.nodes, n, env, alg)
            continue
        value, grads = _sweep(spec.nodes[n], env, alg, True)
        env[n] = value
        swept[n] = grads
        for u in graph.deps(n):
            partials[(u, n)] = grads.get(u, zero)
    if algebra is None and stop == len(graph.order):
        _LAST[:] = [spec, dict(leaf_values), mpmath.mp.dps, dict(env), swept]
    return PointValues(env, partials)


# the last exact forward pass through a whole spec, and the nodes' partials it swept: explain,
# its path-length table and --top each need one at the same point, and on a 300k-param net
# (or a 20,000-link chain) each takes seconds
_LAST: list[Any] = []


def _forward_done(spec: Spec, leaf_values: Mapping[str, Fraction | None]
                  ) -> dict[str, Any] | None:
    if _LAST and _LAST[0] is spec and _LAST[2] == mpmath.mp.dps and _LAST[1] == leaf_values:
        return _LAST[3]
    return None


def as_float(x: Any) -> float | None:
    """`x` as a float; None for NoValue and for numbers beyond a float (JSON has no inf)."""
    return to_float(x)


def undefined_edge(pv: PointValues, nodes: Sequence[str],
                   children: Mapping[str, Iterable[str]]) -> str | None:
    """Why some ∂c/∂n with n in `nodes`, c in children[n] has no value ('∂E/∂h: …'), or None."""
    for n in nodes:
        for c in children.get(n, ()):
            p = pv.exact_partials.get((n, c))
            if isinstance(p, NoValue):
                return f"∂{c}/∂{n} is undefined at the point ({p.reason})"
    return None


# the rules: each AST operation in sympy, on placeholder arguments x0, x1, … with value y

_Y = sp.Symbol("y", real=True)


Rule = tuple[Program, tuple[Program | None, ...]]


def _key(e: g.Expr) -> tuple:
    """What `e` does, independent of its children: its rule is cached under this key."""
    if isinstance(e, g.Neg):
        return ("neg",)
    if isinstance(e, g.BinOp):
        if e.op == "^":
            exponent = g.constant_value(e.right)
            if exponent is not None:  # x^3, x^(1/3): the exponent is part of the operation
                return ("^n", exponent)
        return (e.op,)
    assert isinstance(e, g.Call)
    args = e.args
    # max(h, h, k): sympy keeps one h (Max(h, k)), so one placeholder serves both, as there
    pattern = tuple(next(j for j in range(i + 1) if args[j] is a or args[j] == a)
                    for i, a in enumerate(args)) if len(args) > 1 else (0,)
    return ("call", e.func, pattern)


def _shape(key: tuple) -> tuple[g.Expr, int]:
    """The operation of `key` on placeholder names x0, x1, …, and its number of children."""
    x = [g.Name(f"x{i}") for i in range(max(2, len(key[-1]) if key[0] == "call" else 2))]
    if key[0] == "neg":
        return g.Neg(x[0]), 1
    if key[0] == "^n":
        return g.BinOp("^", x[0], g.Num(key[1])), 2
    if key[0] == "call":
        return g.Call(key[1], tuple(x[j] for j in key[2])), len(key[2])
    return g.BinOp(key[0], x[0], x[1]), 2


@functools.cache
def _rule(key: tuple) -> Rule:
    """For an operation on placeholders: its sympy form f(x0, …) and ∂f/∂x_i with f itself
    written as y (None for a child nothing flows into: a constant exponent), compiled."""
    shape, n = _shape(key)
    xs = _symbols(n)
    f = to_sympy(shape, {f"x{i}": x for i, x in enumerate(xs)})
    if key[0] == "call" and key[1] in _WITHOUT_CANCELLATION:
        return Program(f, xs), (Program(_WITHOUT_CANCELLATION[key[1]](xs[0]), (*xs, _Y)),)
    derivs = tuple(Program(partial(f, x).xreplace({f: _Y}), (*xs, _Y))
                   if x in f.free_symbols else None for x in xs)
    return Program(f, xs), derivs


# σ′ = y(1 − y) and tanh′ = 1 − y² with 1 − y written as calculus.ONE_MINUS writes it (1 − y
# is 0 at 30 digits for y = σ(80)): each factor accurate and positive
_WITHOUT_CANCELLATION = {
    "sigmoid": lambda x: sigmoid(x) * ONE_MINUS[sigmoid](x),
    "tanh": ONE_MINUS[sp.tanh],
}


def _children(e: g.Expr) -> tuple[g.Expr, ...]:
    if isinstance(e, g.BinOp):
        return (e.left, e.right)
    if isinstance(e, g.Neg):
        return (e.operand,)
    if isinstance(e, g.Call):
        return e.args
    return ()


def _postorder(expr: g.Expr) -> list[g.Expr]:
    """Each distinct AST object once, children before parents (builders may share subtrees)."""
    out: list[g.Expr] = []
    seen: set[int] = set()
    stack: list[tuple[g.Expr, bool]] = [(expr, False)]
    while stack:
        e, done = stack.pop()
        if done:
            out.append(e)
            continue
        if id(e) in seen:
            continue
        seen.add(id(e))
        stack.append((e, True))
        stack.extend((k, False) for k in _children(e) if id(k) not in seen)
    return out


@functools.cache
def _symbols(n: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"x{i}", real=True) for i in range(n))


def _sweep(expr: g.Expr, env: Mapping[str, Any], alg: Algebra,
           differentiate: bool) -> tuple[Any, dict[str, Any]]:
    """The value of `expr` and, if asked, its partials by every name it uses (reverse mode)."""
    order = _postorder(expr)
    val: dict[int, Any] = {}
    rules: dict[int, Rule] = {}
    for e in order:
        kids = _children(e)
        if kids:
            rules[id(e)] = rule = _rule(_key(e))
            xs = [val[id(k)] for k in kids]
            bad = next((x for x in xs if isinstance(x, NoValue)), None)
            val[id(e)] = bad if bad is not None else rule[0].run(xs, alg)
        else:
            val[id(e)] = _leaf(e, env, alg)
    root = val[id(expr)]
    if not differentiate:
        return root, {}
    adj: dict[int, Any] = {id(expr): alg.rational(1, 1)}
    grads: dict[str, Any] = {}
    for e in reversed(order):
        a = adj.get(id(e))
        if a is None:
            continue
        if isinstance(e, g.Name):
            if e.id in env:
                grads[e.id] = _plus(alg, grads.get(e.id), a)
            continue
        kids = _children(e)
        if not kids:
            continue
        xs = [val[id(k)] for k in kids]
        out = val[id(e)]
        for k, rule in zip(kids, rules[id(e)][1]):
            if rule is None:
                continue  # a constant exponent: nothing flows into it
            d = _local(rule, xs, out, alg)
            adj[id(k)] = _plus(alg, adj.get(id(k)), _times(alg, a, d))
    return root, grads


def _value(nodes: Mapping[str, g.Expr], n: str, env: Mapping[str, Any], alg: Algebra) -> Any:
    """The value of node `n`; a sum of products of names (an mlp unit's Σ w·a + b) in one step
    where the algebra has one (numeric.exact.dot), not one number per product, and from the
    builder's names where it gives them (model.LazyNodes.products: no AST is made)."""
    if not hasattr(alg, "dot"):
        return _sweep(nodes[n], env, alg, False)[0]
    products = getattr(nodes, "products", None)
    terms = products(n) if products is not None else None
    if terms is not None:
        try:  # every name has its value (a builder's net): straight from env
            out = alg.dot(  # type: ignore[attr-defined]
                [(env[t[0]], env[t[1]]) for t in terms if type(t) is tuple],
                [env[t] for t in terms if type(t) is not tuple])
            if not isinstance(out, NoValue):
                return out
        except KeyError:  # pi, or a name with no value yet: as below
            pass
        leaf = _named  # … which also reports the first undefined name in order
    else:
        terms, leaf = _dot_terms(nodes[n]), _leaf
        if terms is None:
            return _sweep(nodes[n], env, alg, False)[0]
    pairs, rest = [], []
    for t in terms:  # undefined names are reported in the order they appear, as _sweep does
        if type(t) is tuple:
            a, b = leaf(t[0], env, alg), leaf(t[1], env, alg)
            for x in (a, b):
                if isinstance(x, NoValue):
                    return x
            pairs.append((a, b))
        else:
            x = leaf(t, env, alg)
            if isinstance(x, NoValue):
                return x
            rest.append(x)
    return alg.dot(pairs, rest)  # type: ignore[attr-defined]


def _named(name: str, env: Mapping[str, Any], alg: Algebra) -> Any:
    value = env.get(name)
    return value if value is not None else _leaf(g.Name(name), env, alg)


_LEAVES = (g.Name, g.Num)


def _dot_terms(expr: g.Expr) -> list[Any] | None:
    """The terms of `expr` in order when it is a sum of two or more leaves and products of
    two leaves (a product as the pair of its leaves); None for any other shape."""
    if not (isinstance(expr, g.BinOp) and expr.op == "+"):
        return None
    out: list[Any] = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, _LEAVES):
            out.append(e)
        elif isinstance(e, g.BinOp) and e.op == "+":
            stack += (e.right, e.left)
        elif isinstance(e, g.BinOp) and e.op == "*" and isinstance(e.left, _LEAVES) \
                and isinstance(e.right, _LEAVES):
            out.append((e.left, e.right))
        else:
            return None
    return out


def _plus(alg: Algebra, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if isinstance(a, NoValue):
        return a
    if isinstance(b, NoValue):
        return b
    return alg.add([a, b])


def _times(alg: Algebra, a: Any, b: Any) -> Any:
    if isinstance(a, NoValue):
        return a
    if isinstance(b, NoValue):
        return b
    return alg.mul([a, b])


def _leaf(e: g.Expr, env: Mapping[str, Any], alg: Algebra) -> Any:
    if isinstance(e, g.Num):
        return alg.rational(e.value.numerator, e.value.denominator)
    assert isinstance(e, g.Name)
    if e.id in env:
        return env[e.id]
    return alg.const(sp.pi) if e.id == "pi" else NoValue(f"{e.id} has no value")


def _local(rule: Program, xs: list[Any], out: Any, alg: Algebra) -> Any:
    """One ∂e/∂child: the rule evaluated at the children's values and e's own value."""
    for x in xs:
        if isinstance(x, NoValue):
            return x
    if isinstance(out, NoValue):
        return out
    return rule.run([*xs, out], alg)
