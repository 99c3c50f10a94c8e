"""Derivatives simplified for reading — only when proved equal, and within a time budget.

sympy.diff of (out − y)² is −2·y + 2·out; a reader expects 2·(out − y). The question's
direct derivative comes out as (Out − y)·(2·… + 2·…)/2. This module tries a few rewritings
that textbooks use and keeps the shortest that is proved equal to sympy's form:

- common factors pulled out and constants cancelled (`sympy.factor_terms`);
- the network's own definitions read backwards: a node a = exp(z)/s turns exp(z) into a·s,
  and exp(−b − w·h …) into exp(−z), so softmax with cross-entropy reads a1·(a2·(y1 + y2 +
  y3) − y1) (the textbook a − y once the targets add up to 1);
- terms collected by node (σ(1 − σ) and 1 − tanh² are written so by calculus already).

"Proved equal": either `sympy.expand(raw − simplified) == 0` in the network's names, or —
when a definition was used — the same identity with every node replaced by its expression,
checked exactly (expand) or by the modular identity test of `verify` (Schwartz–Zippel); a
numeric agreement is not enough. Anything that runs past the budget or fails the proof is
shown as sympy wrote it. JSON keeps sympy's forms under their keys and adds these.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from ..analyses.explanation import Explanation
from ..analyses.toppaths import TopPaths
from ..calculus import Network, rewrite, sum_index, tree_size
from ..verify.methods import verify

__all__ = ["Readable", "readable", "simplify", "tidy", "BUDGET_SECONDS", "MAX_TREE"]

BUDGET_SECONDS = 3.0  # CPU seconds for all the simplifications of one explanation
COMPOSED_LIMIT = 20_000  # a loss larger than this written out in leaves is not composed for rules
MAX_TREE = 400  # larger expressions are shown as sympy wrote them
PROOF_TREE = 2_000  # exact proofs (expand, cancel) on trees up to this size
MAX_FACTORS = 2_000  # distinct local partials simplified at most
FACTOR_TREE = 150  # a local partial larger than this is shown as sympy wrote it


@dataclass(frozen=True)
class Readable:
    """The forms shown to people: simplified local partials and direct derivative."""

    factors: Mapping[sp.Basic, sp.Expr] = field(default_factory=dict)  # raw → simplified
    direct: sp.Expr | None = None  # the direct derivative in names, simplified (None: not)
    note: str | None = None  # why the direct derivative was not simplified

    def factor(self, f: sp.Expr) -> sp.Expr:
        """The form of a local partial to show (itself when nothing shorter was proved)."""
        return self.factors.get(f, f)

    def term(self, factors: Iterable[sp.Expr]) -> sp.Expr:
        """A path's product, of the shown forms."""
        return sp.Mul(*(self.factor(f) for f in factors))


class _Rules:
    """The network's definitions, read backwards, for one explanation."""

    def __init__(self, net: Network, weight: str, loss: str) -> None:
        self.net = net
        self.weight = weight
        self.composed = net.compose(loss, free=weight)
        sym = net.symbols
        table: dict[sp.Basic, sp.Expr] = {}
        for n, e in self.composed.items():
            if n in net.exprs and e.args and e is not sym[n]:
                for c in (1, -1, 2, -2):  # exp(−b − w·h) is exp(−z); 2·b + 2·w·h is 2·z
                    # (sympy distributes a number over a sum by itself: no expand needed)
                    table.setdefault(e if c == 1 else c * e, c * sym[n])
        self.table = table
        # a = N/D: N → a·D (softmax: exp(z) → a·s); in names, on the nodes used here
        self.backwards = []
        for n, e in net.exprs.items():
            if n in self.composed:
                num, den = sp.fraction(e)
                if den != 1 and num.args:
                    self.backwards.append((num, sym[n] * den))
        self.node_subs = {sym[n]: c for n, c in self.composed.items() if c is not sym[n]}
        # node expressions in names, to fold a1 + h2 + h3 back into a3 (a3 = a2 + h3, …)
        self.names_table = {e: sym[n] for n, e in net.exprs.items()
                            if e.args and n in self.composed and n != weight}
        self.sums = sum_index(self.names_table)
        # nearest the loss first: collect a·(y1 + y2) before the factors further back
        self.nodes = [sym[n] for n in reversed(list(net.exprs)) if n in self.composed]

    def _fold(self, expr: sp.Expr) -> sp.Expr:
        for _ in range(6):  # each pass folds one level: a1 + h2 → a2, then a2 + h3 → a3
            new = rewrite(expr, self.names_table, self.sums)
            if new == expr:
                break
            expr = new
        return expr

    def fold(self, expr: sp.Expr) -> sp.Expr:
        """Sums of node names folded into the node they define, also when negated:
        y − a1 − h2 − h3 → y − a3."""
        def one(add: sp.Expr) -> sp.Expr:
            plus, minus = self._fold(add), -self._fold(-add)
            return min((plus, minus), key=lambda e: (sp.count_ops(e), len(str(e))))

        return self._fold(expr).replace(lambda e: isinstance(e, sp.Add), one)

    def in_names(self, expr: sp.Expr) -> sp.Expr:
        out = rewrite(expr, self.table)
        for old, new in self.backwards:
            if out.has(old):
                out = out.subs(old, new)
        return out

    def proved(self, raw: sp.Expr, new: sp.Expr, used_definitions: bool,
               thorough: bool = True) -> bool:
        try:
            if sp.expand(raw - new) == 0:
                return True
        except (RecursionError, MemoryError):  # pragma: no cover - guarded by MAX_TREE
            return False
        if not used_definitions:
            return False
        lhs, rhs = raw.xreplace(self.node_subs), new.xreplace(self.node_subs)
        limit = PROOF_TREE if thorough else PROOF_TREE // 4
        if tree_size(lhs, limit) + tree_size(rhs, limit) <= limit:
            # exp(a + b) = exp(a)·exp(b) by expand, then a rational function in the atoms
            if sp.cancel(sp.together(sp.expand(lhs - rhs))) == 0:
                return True
        if not thorough:  # a local partial: exact proofs only, each a fraction of a second
            return False
        v = verify(self.net, self.weight, new, lhs, self.composed)
        return v.verified and v.method in ("exact", "modular")


MAX_EXPANDED_TERMS = 2_000  # sympy's expand and cancel run unbounded: refuse larger ones first


def expanded_terms(expr: sp.Basic, cap: int = MAX_EXPANDED_TERMS) -> int:
    """An upper bound on the terms `sympy.expand(expr)` makes (capped at cap + 1): a product
    of sums multiplies out, so a 400-node tree can expand into millions of terms."""
    memo: dict[sp.Basic, int] = {}

    def terms(e: sp.Basic) -> int:
        if e in memo:
            return memo[e]
        if isinstance(e, sp.Add):
            n = sum(terms(a) for a in e.args)
        elif isinstance(e, sp.Mul):
            n = 1
            for a in e.args:
                n *= terms(a)
                if n > cap:
                    break
        elif isinstance(e, sp.Pow) and e.exp.is_Integer and e.exp > 0:
            base = terms(e.base)
            n = cap + 1 if base > 1 and int(e.exp) > 20 else base ** int(e.exp)
        else:
            n = 1
        memo[e] = min(n, cap + 1)
        return memo[e]

    return terms(expr)


def _size(expr: sp.Expr) -> tuple[int, int]:
    return (sp.count_ops(expr), len(str(expr)))


def simplify(expr: sp.Expr, rules: _Rules | None, deadline: float,
             leaves: sp.Expr | None = None, *, max_tree: int = MAX_TREE,
             thorough: bool = True) -> sp.Expr:
    """The shortest proved-equal reading of `expr`, or `expr` itself. `leaves` is the same
    expression written in leaves (sympy's direct derivative), read into names afresh."""
    if not expr.args or tree_size(expr, max_tree) > max_tree:
        return expr
    best, best_size = expr, _size(expr)
    tries: list[tuple[str, bool]] = [("factor_terms", False)]
    if rules is not None:  # the shortest candidates first, so longer ones need no proof
        tries += [("collect", True), ("names", True), ("cancel", True)]
    base: sp.Expr | None = None
    for how, definitions in tries:
        if time.process_time() > deadline:
            break
        try:
            if how == "factor_terms":
                cand = sp.factor_terms(expr)
            else:
                if base is None:
                    base = rules.in_names(expr if leaves is None else leaves)  # type: ignore
                    if tree_size(base, MAX_TREE) > MAX_TREE:
                        break
                if how == "names":
                    cand = sp.factor_terms(base)
                elif expanded_terms(base) > MAX_EXPANDED_TERMS:
                    continue  # expand/cancel would multiply out past any time budget
                elif how == "cancel":
                    cand = sp.factor_terms(sp.cancel(base))
                else:
                    nodes = [s for s in rules.nodes if base.has(s)]  # type: ignore[union-attr]
                    cand = sp.factor_terms(sp.collect(sp.expand(base), nodes))
        except (RecursionError, MemoryError, sp.PolynomialError):  # pragma: no cover
            continue
        if rules is not None:
            folded = rules.fold(cand)
            if folded != cand:
                cand, definitions = folded, True
        cand = _fewer_minus(cand)
        size = _size(cand)
        shorter = size[0] < best_size[0] if definitions else size < best_size
        if shorter and time.process_time() <= deadline and \
                rules_proved(rules, expr, cand, definitions, thorough):
            best, best_size = cand, size
    return best


def _fewer_minus(expr: sp.Expr) -> sp.Expr:
    """−A·(y − a) → A·(a − y): a leading minus moved into a sum that reads better negated."""
    if not isinstance(expr, sp.Mul):
        return expr
    coeff, rest = expr.as_coeff_Mul()
    if coeff >= 0:
        return expr
    for f in sp.Mul.make_args(rest):
        if isinstance(f, sp.Add) and 2 * sum(t.could_extract_minus_sign() for t in f.args) \
                >= len(f.args):
            flipped = sp.Add(*(-t for t in f.args))
            return sp.Mul(-coeff, *(flipped if g is f else g for g in sp.Mul.make_args(rest)))
    return expr


def rules_proved(rules: _Rules | None, raw: sp.Expr, new: sp.Expr, definitions: bool,
                 thorough: bool = True) -> bool:
    if rules is None:
        if expanded_terms(raw - new) > MAX_EXPANDED_TERMS:
            return False  # not provable within the budget: keep sympy's form
        try:
            return sp.expand(raw - new) == 0
        except (RecursionError, MemoryError):  # pragma: no cover
            return False
    return rules.proved(raw, new, definitions, thorough)


_TIDY: dict[sp.Basic, sp.Expr] = {}
TIDY_SECONDS = 0.2  # per expression, for tables without an explanation (backprop)


def tidy(expr: sp.Expr) -> sp.Expr:
    """`expr` with constants cancelled and common factors pulled out, when that is shorter
    (pure algebra, proved by expand; no network definitions): 2·(a2 − y) for 2·a2 − 2·y."""
    hit = _TIDY.get(expr)
    if hit is None:
        if len(_TIDY) > 10_000:
            _TIDY.clear()
        hit = _TIDY[expr] = simplify(expr, None, time.process_time() + TIDY_SECONDS)
    return hit


_CACHE: dict[int, tuple[object, Readable]] = {}  # id → (explanation kept alive, result)


def readable(ex: Explanation | TopPaths, budget: float = BUDGET_SECONDS) -> Readable:
    """The simplified forms for `ex` (computed once per explanation); for top paths only
    the local partials."""
    hit = _CACHE.get(id(ex))
    if hit is not None and hit[0] is ex:
        return hit[1]
    deadline = time.process_time() + budget
    net = ex.network or Network(ex.spec)
    try:
        rules: _Rules | None = _Rules(net, ex.weight, ex.loss) \
            if len(net.exprs) <= 500 and net.composed_size(ex.loss, COMPOSED_LIMIT) \
            <= COMPOSED_LIMIT else None
    except (RecursionError, MemoryError):  # pragma: no cover
        rules = None
    # the direct derivative first: it gains most from reading backwards (softmax)
    direct, note = None, None
    if not isinstance(ex, Explanation):
        pass
    elif not ex.direct_computed:
        note = "sympy.diff did not finish in time"
    elif tree_size(ex.direct_names, MAX_TREE) > MAX_TREE:
        note = "too large to simplify"
    elif time.process_time() > deadline:
        note = f"not simplified within the time budget of {budget:g} s"
    else:
        new = simplify(ex.direct_names, rules, deadline, ex.direct)
        if new != ex.direct_names:
            direct = new
    factors: dict[sp.Basic, sp.Expr] = {}
    seen: set[sp.Basic] = set()
    for p in ex.paths:
        for f in p.factors:
            if f in seen or len(seen) >= MAX_FACTORS:
                continue
            seen.add(f)
            if time.process_time() > deadline:
                break
            new = simplify(f, rules, deadline, max_tree=FACTOR_TREE, thorough=False)
            if new is not f and new != f:
                factors[f] = new
    out = Readable(factors, direct, note)
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[id(ex)] = (ex, out)
    return out
