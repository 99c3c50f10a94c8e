"""Exact numbers at a point: rationals where the arithmetic allows it, sound decisions at kinks.

Leaf values are exact rationals (0.1 is 1/10), so + − × ÷ and integer powers stay Fractions,
and relu, abs, max, min, Heaviside, sign and comparisons of Fractions are decided exactly.
A value that goes through a transcendental function becomes a `Real`: its number at the
working precision plus how it was computed. When a kink needs the sign of a Real (relu(tanh z),
max(σ(u), 1/2), a division, a log), the sign is decided soundly, never from rounding noise:

1. an interval enclosure (mpmath.iv) of the Real; if it excludes 0, that is the sign;
2. else sympy tries to prove the small subexpression exactly 0 (tanh(0) = 0, σ(0) = 1/2);
3. else ever finer enclosures; if none excludes 0 the value is NoValue(KINK): the cell says
   'at a kink: not decided' instead of guessing.

Multiplying by an exact 0 gives an exact 0 (relu′(0) = 0 makes the whole path 0), and a
decided kink gives an exact result, so exact zeros print as 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp
from mpmath.libmp import from_int, from_man_exp, from_rational, mpf_div

from ..calculus import relu, sigmoid, softplus, tree_size
from .evaluate import (
    Algebra,
    MPAlgebra,
    NoValue,
    SympyPoint,
    const_note,
    log_note,
    pow_note,
    root_note,
    to_mpf,
)

__all__ = [
    "Real",
    "within_float",
    "ExactAlgebra",
    "KINK",
    "MAX_BITS",
    "sign",
    "is_zero",
    "plus",
    "times",
    "dot",
    "divide",
    "exact_text",
    "to_float",
    "exact_leaves",
    "at_point",
]

KINK = "at a kink: not decided"
NOT_DECIDED_ZERO = "not decided whether a divisor is 0"
MAX_BITS = 4096  # a rational with a longer numerator or denominator is carried as a Real
REFINE_DIGITS = (110, 400)  # enclosures tried after the first one fails and sympy cannot prove 0
PROOF_NODES = 200  # sympy is asked to prove a value 0 only when it is this small as a DAG
PROOF_SIZE = 20_000  # … and no proof is tried for a Real with more operations
SIMPLIFY_TREE = 60  # … and sp.simplify only below this tree size (145 nodes took 1.7 s)
EXTREME_ARGUMENT = 10**4  # … and numerically (is_zero, simplify) only for arguments within it
TINY = mpmath.mpf(10) ** -25  # a Real this close to 0 is checked for being exactly 0 on display
NONZERO = mpmath.mpf(10) ** -15  # is_zero: a Real further from 0 than this is not 0

_MP = MPAlgebra()
_MAKE = mpmath.mp.make_mpf
_HALF = Fraction(1, 2)
_ZERO = Fraction(0)
_ONE = Fraction(1)


class Real:
    """A number that is not (known to be) rational: its value at the working precision
    (`mid`), and the operation and arguments that made it, for enclosures and proofs."""

    __slots__ = ("mid", "op", "args", "_iv", "_iv_dps", "size", "_sign")

    def __init__(self, mid: Any, op: str, args: tuple, size: int | None = None) -> None:
        self.mid = mid
        self.op = op  # add mul dot powi powq fn app const rat
        self.args = args
        self._iv: Any = None
        self._iv_dps = 0
        self._sign = 0  # a product's sign from its factors' (_product_sign); 0: not known
        if size is not None:  # counted by the caller, as below
            self.size = size
            return
        # operations below, shared ones counted again (a bound on the DAG's size): a proof
        # walks all of them, so past PROOF_SIZE none is tried
        kids = args if op in ("add", "mul") else args[1] if op in ("fn", "app") else \
            args[1:] if op == "dot" else args[:1] if op in ("powi", "powq") else ()
        self.size = min(1 + sum(k.size for k in kids if type(k) is Real), PROOF_SIZE + 1)

    @property
    def _mpf_(self) -> Any:  # mpmath converts anything with _mpf_: mpf arithmetic accepts a Real
        return self.mid._mpf_

    def __float__(self) -> float:
        return float(self.mid)

    def __repr__(self) -> str:
        return f"Real({mpmath.nstr(self.mid, 15)})"


Number = Fraction | Real


def _mid(x: Number) -> Any:
    if type(x) is Real:
        return x.mid
    return _MAKE(from_rational(x.numerator, x.denominator, mpmath.mp.prec, "n"))


def _cap(x: Fraction) -> Number:
    """`x`, or a Real standing for it when it has grown too long to compute with exactly."""
    if x.numerator.bit_length() > MAX_BITS or x.denominator.bit_length() > MAX_BITS:
        return Real(_mid(x), "rat", (x,))
    return x


# arithmetic on Fractions and Reals (NoValue propagates)


def plus(xs: Sequence[Any]) -> Any:
    """The sum; exact when every term is a Fraction."""
    exact = _ZERO
    reals = []
    for x in xs:
        t = type(x)
        if t is Fraction:
            if x:
                exact = exact + x if exact else x
        elif t is NoValue:
            return x
        else:
            reals.append(x)
    if not reals:
        return _cap(exact)
    if exact:
        reals.append(exact)
    if len(reals) == 1:
        return reals[0]
    mids = [_mid(a) for a in reals]
    out = Real(mpmath.fsum(mids), "add", tuple(reals))
    _, man, exp, bits = out.mid._mpf_
    if man and max(e + b for _, m, e, b in (x._mpf_ for x in mids) if m) - exp - bits \
            > _CANCELLED_BITS:
        _accurate(out)
    return out


def _accurate(x: Real) -> None:
    """Give a sum that cancelled most of its digits (1 − tanh(30)² keeps 6 of 31) back its
    working precision: the midpoint of the first enclosure tight enough replaces its value.
    Sums that cancel to exactly 0 are left to `sign` (they are often 0: h − h)."""
    for dps in (mpmath.mp.dps + 10, *REFINE_DIGITS):
        box = enclose(x, dps)
        if box is None:
            return
        if 0 not in box and not _loose(box):
            x.mid = _midpoint(box)
            return


def times(xs: Sequence[Any]) -> Any:
    """The product; an exact 0 factor makes an exact 0 (every Real is finite), unless some
    factor is undefined."""
    if len(xs) == 2:  # a path's next factor: the general code's Real, fewer steps
        a, b = xs
        ta, tb = type(a), type(b)
        if ta is Real and tb is Real:
            return Real(a.mid * b.mid, "mul", (a, b), min(1 + a.size + b.size, PROOF_SIZE + 1))
        if ta is Fraction and tb is Real:
            a, b, ta, tb = b, a, tb, ta
        if ta is Real and tb is Fraction and b and b != 1 and \
                b.numerator.bit_length() <= MAX_BITS and b.denominator.bit_length() <= MAX_BITS:
            return Real(a.mid * _mid(b), "mul", (a, b), min(1 + a.size, PROOF_SIZE + 1))
    return _product(xs)


def _product(xs: Sequence[Any]) -> Any:
    """`times` without its two-factor shortcuts (tests check they agree)."""
    num = den = 1  # the rational factors, multiplied as integers: one gcd at the end
    rationals = 0
    last: Any = _ONE
    reals = []
    zero = False
    for x in xs:
        t = type(x)
        if t is Fraction:
            if not x:
                zero = True
            elif x != 1:
                num *= x.numerator
                den *= x.denominator
                rationals += 1
                last = x
        elif t is NoValue:
            return x  # 0 · undefined is undefined
        else:
            reals.append(x)
    if zero:
        return _ZERO
    exact = last if rationals < 2 else Fraction(num, den)
    if not reals:
        return _cap(exact) if rationals > 1 else exact
    if rationals:
        reals.append(exact)
    if len(reals) == 1:
        return reals[0]
    out = _mid(reals[0])
    for a in reals[1:]:
        out *= _mid(a)
    return Real(out, "mul", tuple(reals))


def dot(pairs: Sequence[tuple[Any, Any]], rest: Sequence[Any] = ()) -> Any:
    """Σ a·b over `pairs`, plus the terms `rest`: what plus(times(a, b) …) gives, but with one
    Real for the whole sum instead of one per product, and the sum rounded once, exactly
    (an mlp unit's 64 products: 300k of them make the forward pass of a 300k-param net)."""
    fast = _weighted(pairs, rest)
    if fast is not None:
        return fast
    exact: list[Any] = []  # terms that are Fractions (or NoValue)
    inexact: list[tuple[Any, Any]] = []
    for a, b in pairs:
        ta, tb = type(a), type(b)
        if ta is NoValue or tb is NoValue:
            return a if ta is NoValue else b
        if ta is Fraction and tb is Fraction:
            if a and b:
                exact.append(a * b)
        elif (ta is Fraction and not a) or (tb is Fraction and not b):
            continue  # an exact 0 factor: an exact 0 term
        else:
            inexact.append((a, b))
    reals: list[Any] = []
    for x in rest:
        t = type(x)
        if t is NoValue:
            return x
        if t is Fraction:
            if x:
                exact.append(x)
        else:
            reals.append(x)
    if len(inexact) + len(reals) < 2:  # nothing to share: the plain arithmetic
        return plus([*(times(p) for p in inexact), *reals, *exact])
    constant = _cap(sum(exact, _ZERO))  # a Fraction (kept unless 0) or a Real standing for it
    if type(constant) is Real or constant:
        reals.append(constant)
    mid = _exact_sum(inexact, reals)
    return Real(mid, "dot", (len(inexact), *(x for p in inexact for x in p), *reals))


_SPREAD = 20_000  # bits between the largest and smallest term: beyond, mpmath sums them


def _weighted(pairs: Sequence[tuple[Any, Any]], rest: Sequence[Any]) -> Any:
    """`dot` in one pass for its common case, the same Real: every pair a nonzero Fraction (a
    weight) times a Real with a nonzero finite mid (an activation), every other term a
    Fraction or such a Real. None for anything else (dot's general code decides)."""
    parts: list[tuple[int, int, int, int]] = []  # (p, q, man, exp): p/q · man·2^exp
    append = parts.append
    size = 1
    for a, b in pairs:
        if type(a) is not Fraction or type(b) is not Real or not a:
            return None
        s, m, e, _ = b.mid._mpf_
        if not m:
            return None
        append((a.numerator, a.denominator, -m if s else m, e))
        size += b.size
    constant = _ZERO
    reals: list[Any] = []
    for x in rest:
        t = type(x)
        if t is Fraction:
            constant += x
            continue
        if t is not Real:
            return None
        s, m, e, _ = x.mid._mpf_
        if not m:
            return None
        append((1, 1, -m if s else m, e))
        reals.append(x)
        size += x.size
    if len(pairs) + len(reals) < 2 or constant.numerator.bit_length() > MAX_BITS \
            or constant.denominator.bit_length() > MAX_BITS:
        return None
    if constant:
        append((constant.numerator, constant.denominator, 1, 0))
        reals.append(constant)
    exps = [e for *_, e in parts]
    low = min(exps)
    if max(exps) - low > _SPREAD:
        return None
    den = math.lcm(*(q for _, q, _, _ in parts))
    num = sum(p * (den // q) * (m << (e - low)) for p, q, m, e in parts)
    prec = mpmath.mp.prec
    if not num:
        mid = mpmath.mpf(0)
    elif den == 1:
        mid = _MAKE(from_man_exp(num, low, prec, "n"))
    else:
        mid = _MAKE(mpf_div(from_man_exp(num, low), from_int(den), prec, "n"))
    flat = [x for p in pairs for x in p]
    return Real(mid, "dot", (len(pairs), *flat, *reals), min(size, PROOF_SIZE + 1))


def _exact_sum(pairs: Sequence[tuple[Any, Any]], terms: Sequence[Any]) -> Any:
    """Σ a·b + Σ t, correctly rounded to the working precision: each term is a rational
    times a binary float, so the sum is one integer over the terms' common denominator."""
    parts: list[tuple[int, int, int, int]] = []  # (p, q, man, exp): p/q · man·2^exp
    for a, b in (*pairs, *((t, _ONE) for t in terms)):
        if type(a) is Fraction and type(b) is Real:  # a weight times an activation: most
            s, m, e, _ = b.mid._mpf_
            if m:
                parts.append((a.numerator, a.denominator, -m if s else m, e))
                continue
        p = q = 1
        man, exp = 1, 0
        for x in (a, b):
            if type(x) is Fraction:
                p *= x.numerator
                q *= x.denominator
            else:
                s, m, e, _ = x.mid._mpf_
                if not m:  # the mid is 0 (or inf/nan: then mpmath knows best)
                    if e:
                        return _mp_sum(pairs, terms)
                    p = 0
                man *= -m if s else m
                exp += e
        if p:
            parts.append((p, q, man, exp))
    if not parts:
        return mpmath.mpf(0)
    low = min(e for *_, e in parts)
    if max(e for *_, e in parts) - low > _SPREAD:
        return _mp_sum(pairs, terms)
    den = math.lcm(*(q for _, q, _, _ in parts))
    num = sum(p * (den // q) * (m << (e - low)) for p, q, m, e in parts)
    if not num:
        return mpmath.mpf(0)
    prec = mpmath.mp.prec
    if den == 1:
        return _MAKE(from_man_exp(num, low, prec, "n"))
    return _MAKE(mpf_div(from_man_exp(num, low), from_int(den), prec, "n"))


def _mp_sum(pairs: Sequence[tuple[Any, Any]], terms: Sequence[Any]) -> Any:
    """_exact_sum's value by mpmath, where one integer would not do (inf, nan, huge spreads)."""
    return mpmath.fsum([*(_mid(u) * _mid(v) for u, v in pairs), *map(_mid, terms)])


def _neg(x: Number) -> Number:
    return times([Fraction(-1), x])


def _minus(a: Number, b: Number) -> Number:
    return plus([a, _neg(b)])


def divide(a: Any, b: Any) -> Any:
    """a / b; NoValue('division by zero') when b is exactly 0."""
    return times([a, _powi(b, -1)])


def _powi(b: Any, n: int) -> Any:
    if isinstance(b, NoValue):
        return b
    if n == 0:
        return _ONE
    if isinstance(b, Fraction):
        if not b:
            return NoValue("division by zero") if n < 0 else _ZERO
        bits = max(b.numerator.bit_length(), b.denominator.bit_length())
        if bits * abs(n) > MAX_BITS:
            return Real(_mid(b) ** n, "powi", (b, n))
        return b**n
    if n < 0:
        s = _domain_sign(b)
        if s is None:
            return NoValue(NOT_DECIDED_ZERO)
        if s == 0:
            return NoValue("division by zero")
    return Real(b.mid**n, "powi", (b, n))


def _iroot(k: int, d: int) -> int | None:
    """The integer d-th root of k ≥ 0 when k is a perfect d-th power, else None."""
    if k < 2:
        return k
    r = int(round(float(mpmath.root(k, d)))) if k.bit_length() < 1000 else \
        int(mpmath.nint(mpmath.root(mpmath.mpf(k), d, prec=k.bit_length() // d + 64)))
    for c in (r - 1, r, r + 1):
        if c >= 0 and c**d == k:
            return c
    return None


def _powq(b: Any, n: int, d: int) -> Any:
    """b^(n/d) (d > 1) with the principal root, as sympy: undefined (complex) for b < 0."""
    if isinstance(b, NoValue):
        return b
    s = _domain_sign(b)
    if s is None:
        return NoValue(KINK)
    if s < 0:
        return NoValue(root_note(d, _mid(b)))
    if s == 0:
        return NoValue("division by zero") if n < 0 else _ZERO
    if isinstance(b, Fraction) and max(b.numerator.bit_length(),
                                       b.denominator.bit_length()) <= MAX_BITS:
        p, q = _iroot(abs(b.numerator), d), _iroot(b.denominator, d)
        if p is not None and q is not None:
            return _powi(Fraction(p, q), n)
    mid = _MP.powq(_mid(b), n, d)
    return Real(mid, "powq", (b, n, d))


# deciding signs soundly


def sign(x: Any) -> int | None:
    """−1, 0 or 1, decided exactly (Fractions) or soundly (Reals); None: not decided."""
    if isinstance(x, Fraction):
        return (x > 0) - (x < 0)
    first = enclose(x, mpmath.mp.dps + 10)
    if first is not None and 0 not in first:
        return _decided(x, first)
    # a value made by a long chain (10,000 residual blocks) is not handed to sympy: the
    # refinements below reuse the enclosures cached on the chain, a proof would walk it anew
    zero = _proved_zero(x) if x.size <= PROOF_SIZE else None
    if zero is True:
        return 0
    for dps in REFINE_DIGITS:
        box = enclose(x, dps)
        if box is not None and 0 not in box:
            return _decided(x, box)
    return None


_POSITIVE = frozenset(("exp", "sigmoid"))  # positive for every real argument


def _product_sign(x: Real) -> int | None:
    """The sign of a product of factors each further than NONZERO from 0, as `is_zero` reads
    one such number (no enclosure; never for a branch): a δ 10,000 residual blocks deep is a
    tiny product of such factors. None: not such a product, or its working-precision value
    does not have the sign."""
    out = 1
    stack: list[tuple[Number, bool]] = [(x, True)]  # a factor, and whether its sign counts
    while stack:
        node, counts = stack.pop()
        if type(node) is Fraction:
            if not node:
                return None
            negative = node < 0
        elif node._sign:
            negative = node._sign < 0
        elif abs(node.mid) > NONZERO:
            negative = node.mid < 0
        elif node.op == "mul":
            stack.extend((k, counts) for k in node.args)
            continue
        elif node.op == "powi":  # an even power of a nonzero base is positive
            stack.append((node.args[0], counts and node.args[1] % 2 == 1))
            continue
        elif node.op == "fn" and node.args[0] in _POSITIVE:
            continue
        else:
            return None
        if counts and negative:
            out = -out
    if not x.mid or (out > 0) != (x.mid > 0):
        return None
    x._sign = out  # the next δ, a product with this one, stops here
    return out


def _decided(x: Real, box: Any) -> int:
    """The sign `box` shows. If x's working-precision value lies outside it, or the box is too
    wide to vouch for the digits shown (x lost them to cancellation: 1 − tanh(45)² is 0 at
    30 digits), tighter boxes are made and the midpoint of the first tight one replaces it."""
    if _loose(box):
        for dps in REFINE_DIGITS:
            if dps > x._iv_dps:
                tighter = enclose(x, dps)
                if tighter is None or 0 in tighter:
                    break
                box = tighter
                if not _loose(box):
                    break
    if _loose(box) or not box.a <= x.mid <= box.b:
        x.mid = _midpoint(box)
    return 1 if box > 0 else -1


def _loose(box: Any) -> bool:
    """Whether an interval away from 0 pins down fewer than 25 significant digits (as many as
    the working precision vouches for: gradient checks compare to 1e-20)."""
    return box.b - box.a > abs(box.mid) * _TIGHT


def _midpoint(box: Any) -> Any:
    """The box's midpoint at the working precision (box.mid would be computed at mpmath.iv's
    own precision, 53 bits once `enclose` has put it back: 17 digits)."""
    a, b = box._mpi_
    return (_MAKE(a) + _MAKE(b)) / 2


_TIGHT = mpmath.mpf(10) ** -25
_CANCELLED_BITS = 34  # a sum 2^34 (10^10) times smaller than its largest term lost its digits


def _domain_sign(x: Any) -> int | None:
    """The sign for a domain check (a divisor, the argument of log or of a root): a Real
    further than NONZERO from 0 has the sign of its 30-digit value (an error of 1e-15 would
    take 15 digits of cancellation), and so has a product of such numbers (5,000 cosines);
    the rest, and every kink, are decided by `sign`."""
    if type(x) is Real and abs(x.mid) > NONZERO:
        return 1 if x.mid > 0 else -1
    if type(x) is Real:
        s = _product_sign(x)
        if s:
            return s
    return sign(x)


def is_zero(x: Any) -> bool:
    """Whether `x` is exactly 0, for shares and for leaving value-0 paths out (never for a
    branch: kinks use `sign`). A Real of magnitude above NONZERO is taken as nonzero without
    an enclosure; an undecided one counts as 0 only if its value is 0 at the working
    precision."""
    if isinstance(x, Fraction):
        return not x
    if isinstance(x, NoValue):
        return False
    if abs(x.mid) > NONZERO:
        return False  # 15 digits from 0 at 30-digit precision: not a rounding error
    if _product_sign(x):
        return False  # a product of such numbers (a δ 10,000 blocks deep) is not 0 either
    s = sign(x)
    return s == 0 or (s is None and not x.mid)


def _kids(x: Real) -> tuple:
    if x.op in ("add", "mul"):
        return x.args
    if x.op == "dot":
        return x.args[1:]
    if x.op in ("powi", "powq"):
        return (x.args[0],)
    if x.op in ("fn", "app"):
        return x.args[1]
    return ()


def enclose(x: Number, dps: int) -> Any:
    """An mpmath.iv interval that contains `x` (None: no enclosure for some function in it)."""
    iv = mpmath.iv
    saved = iv.prec  # mpmath.iv has no workdps
    iv.dps = dps
    try:
        if isinstance(x, Fraction):
            return iv.mpf(x.numerator) / x.denominator
        stack: list[tuple[Real, bool]] = [(x, False)]
        while stack:
            node, ready = stack.pop()
            if node._iv_dps >= dps:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((k, False) for k in _kids(node)
                             if isinstance(k, Real) and k._iv_dps < dps)
                continue
            node._iv = _enclose_op(node, iv)
            node._iv_dps = dps
        return x._iv
    finally:
        iv.prec = saved


def _box(k: Number, iv: Any) -> Any:
    return iv.mpf(k.numerator) / k.denominator if isinstance(k, Fraction) else k._iv


def _enclose_op(node: Real, iv: Any) -> Any:
    op, args = node.op, node.args
    if op == "rat":
        return _box(args[0], iv)
    if op == "const":
        return _enclose_const(args[0], iv)
    kids = [_box(k, iv) for k in _kids(node)]
    if any(k is None for k in kids):
        return None
    if op == "add":
        out = kids[0]
        for k in kids[1:]:
            out = out + k
        return out
    if op == "mul":
        out = kids[0]
        for k in kids[1:]:
            out = out * k
        return out
    if op == "dot":
        n = args[0]
        terms = [*(kids[i] * kids[i + 1] for i in range(0, 2 * n, 2)), *kids[2 * n:]]
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return out
    if op == "powi":
        return kids[0] ** args[1]
    if op == "powq":
        b, n, d = kids[0], args[1], args[2]
        if b > 0:
            return iv.exp(iv.log(b) / d) ** n
        return None
    if op == "fn":
        return _enclose_fn(args[0], kids, iv)
    return None  # "app": a function sympy introduced, without an enclosure here


def _enclose_const(expr: sp.Basic, iv: Any) -> Any:
    if expr == sp.pi:
        return +iv.pi
    if expr == sp.E:
        return iv.exp(1)
    try:  # sympy's evalf keeps track of its error; widen by far more than it
        v = sp.N(expr, iv.dps + 20)
        if not v.is_real or not v.is_finite:
            return None
        c = iv.mpf(str(v))
        return c + iv.mpf([-1, 1]) * iv.mpf(10) ** -(iv.dps + 5) * (1 + abs(c))
    except (TypeError, ValueError, ArithmeticError):
        return None


def _enclose_fn(name: str, xs: list[Any], iv: Any) -> Any:
    x = xs[0]
    zero = iv.mpf(0)
    match name:
        case "sigmoid":
            return 1 / (1 + iv.exp(-x))
        case "tanh":  # x occurs once: the enclosure stays tight
            return 1 - 2 / (iv.exp(2 * x) + 1)
        case "softplus":
            return iv.log1p(iv.exp(x))
        case "exp":
            return iv.exp(x)
        case "log":
            return iv.log(x) if x > 0 else None
        case "sin":
            return iv.sin(x)
        case "cos":
            return iv.cos(x)
        case "relu":
            return iv.mpf([max(x.a, zero).a, max(x.b, zero).b])
        case "Abs":
            return abs(x)
        case "Max" | "Min":
            pick = max if name == "Max" else min
            return iv.mpf([pick(k.a for k in xs).a, pick(k.b for k in xs).b])
        case "pow":
            return iv.exp(xs[1] * iv.log(x)) if x > 0 else None
        case "re" | "conjugate":
            return x
    return None


def _to_sympy(x: Real) -> sp.Expr | None:
    """The exact value of `x` as a sympy expression (None when too big to try a proof on)."""
    memo: dict[int, sp.Expr] = {}
    stack: list[tuple[Any, bool]] = [(x, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in memo:
            continue
        if isinstance(node, Fraction):
            memo[id(node)] = sp.Rational(node.numerator, node.denominator)
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((k, False) for k in _kids(node) if id(k) not in memo)
            continue
        if len(memo) > PROOF_NODES:
            return None
        kids = [memo[id(k)] for k in _kids(node)]
        op, args = node.op, node.args
        if op == "add":
            out = sp.Add(*kids)
        elif op == "mul":
            out = sp.Mul(*kids)
        elif op == "dot":
            n = args[0]
            out = sp.Add(*(kids[i] * kids[i + 1] for i in range(0, 2 * n, 2)), *kids[2 * n:])
        elif op == "powi":
            out = kids[0] ** args[1]
        elif op == "powq":
            out = kids[0] ** sp.Rational(args[1], args[2])  # b > 0: any root is the principal one
        elif op == "fn":
            f = _SYMPY.get(args[0])
            if f is None:
                return None
            out = f(*kids)
        elif op == "app":
            out = args[0](*kids)
        elif op == "const":
            out = args[0]
        else:  # "rat"
            out = sp.Rational(args[0].numerator, args[0].denominator)
        memo[id(node)] = out
    return memo[id(x)]


_SYMPY: dict[str, Any] = {
    "sigmoid": sigmoid, "tanh": sp.tanh, "softplus": softplus, "relu": relu, "exp": sp.exp,
    "log": sp.log, "sin": sp.sin, "cos": sp.cos, "Abs": sp.Abs, "Max": sp.Max, "Min": sp.Min,
    "pow": sp.Pow, "re": sp.re, "conjugate": sp.conjugate,
}


def _saturated(x: Real) -> bool:
    """Whether some function in `x` is applied at an argument beyond ±EXTREME_ARGUMENT."""
    seen: set[int] = set()
    stack: list[Any] = [x]
    while stack:
        node = stack.pop()
        if type(node) is not Real or id(node) in seen:
            continue
        seen.add(id(node))
        kids = _kids(node)
        if node.op in ("fn", "app") and any(abs(_mid(k)) > EXTREME_ARGUMENT for k in kids):
            return True
        stack.extend(kids)
    return False


def _proved_zero(x: Real) -> bool | None:
    """True when sympy proves `x` exactly 0, False when it proves it nonzero, else None."""
    try:
        e = _to_sympy(x)
        if e is None:
            return None
        if e == 0:
            return True
        # sympy's assumptions and simplify evaluate numerically: at exp(5e94) that takes
        # minutes and still cannot see past 100 digits, so there only the rewrites are tried
        numeric = not _saturated(x)
        z = e.is_zero if numeric else None
        if z is not None:
            return bool(z)
        # our functions written out: σ(0) − 1/2 = 1/(1 + e^0) − 1/2 = 0, softplus(0) = log 2
        e = e.rewrite(softplus, sp.log).rewrite(sigmoid, sp.exp).rewrite(relu, sp.Max)
        if e == 0:
            return True
        z = e.is_zero if numeric else None
        if z is not None:
            return bool(z)
        e = e.rewrite(sp.exp)
        if e == 0:
            return True
        if numeric and tree_size(e, SIMPLIFY_TREE) <= SIMPLIFY_TREE and sp.simplify(e) == 0:
            return True
    except Exception:  # noqa: BLE001 - sympy may fail in many ways; then it proved nothing
        return None
    return None


# functions


def _compare(a: Number, b: Number) -> int | None:
    return sign(_minus(a, b))


def _extreme(name: str, xs: Sequence[Number]) -> Number:
    """max/min, decided pairwise; an undecided tie keeps the value (it is continuous)."""
    best = xs[0]
    for x in xs[1:]:
        s = _compare(x, best)
        if s is None:
            mids = [_mid(k) for k in xs]
            return Real(max(mids) if name == "Max" else min(mids), "fn", (name, tuple(xs)))
        if (s > 0) if name == "Max" else (s < 0):
            best = x
    return best


_SPECIAL_AT_ZERO: dict[str, Fraction] = {
    "sigmoid": _HALF, "tanh": _ZERO, "exp": _ONE, "sin": _ZERO, "cos": _ONE,
}
_SMOOTH = ("sigmoid", "tanh", "softplus", "exp", "sin", "cos")
_RELATIONS = {"StrictGreaterThan": lambda s: s > 0, "GreaterThan": lambda s: s >= 0,
              "StrictLessThan": lambda s: s < 0, "LessThan": lambda s: s <= 0,
              "Equality": lambda s: s == 0, "Unequality": lambda s: s != 0}


class ExactAlgebra(Algebra):
    """Fractions where the arithmetic is rational, Reals (with sound sign decisions) where it
    is not; NoValue with the reason where a value is undefined or a kink cannot be decided.
    Follows sympy's conventions: Heaviside(0, h0) = h0 (½ without h0), sign(0) = 0."""

    def rational(self, p: int, q: int) -> Fraction:
        return Fraction(p, q)

    def const(self, expr: sp.Basic) -> Any:
        value = sp.N(expr, mpmath.mp.dps + 5)
        if not (value.is_real and value.is_finite):
            return NoValue(const_note(expr))
        return Real(mpmath.mpf(value), "const", (expr,))

    def add(self, xs: Sequence[Any]) -> Any:
        return plus(xs)

    def mul(self, xs: Sequence[Any]) -> Any:
        return times(xs)

    def dot(self, pairs: Sequence[tuple[Any, Any]], rest: Sequence[Any]) -> Any:
        return dot(pairs, rest)

    def powi(self, b: Any, n: int) -> Any:
        return _powi(b, n)

    def powq(self, b: Any, n: int, d: int) -> Any:
        return _powq(b, n, d)

    def apply(self, cls: type, xs: Sequence[Any]) -> Any:
        name = cls.__name__
        if name in _RELATIONS:
            s = _compare(xs[0], xs[1])
            return NoValue(KINK) if s is None else Fraction(int(_RELATIONS[name](s)))
        if name in _KNOWN:
            return self.func(name, xs)
        # a function sympy introduced itself (atan2, floor … in |f|′): computed by mpmath or
        # sympy, carried without an enclosure (so no kink is ever decided from it)
        out = _MP.apply(cls, [_mid(x) for x in xs])
        return out if isinstance(out, NoValue) else Real(out, "app", (cls, tuple(xs)))

    def func(self, name: str, xs: Sequence[Any]) -> Any:
        x = xs[0]
        exact = isinstance(x, Fraction)
        match name:
            case "relu":
                s = sign(x)
                if s is None:
                    return Real(max(_mid(x), 0), "fn", ("relu", (x,)))
                return x if s > 0 else _ZERO
            case "Abs":
                s = sign(x)
                if s is None:
                    return Real(abs(_mid(x)), "fn", ("Abs", (x,)))
                return x if s > 0 else (_neg(x) if s < 0 else _ZERO)
            case "Max" | "Min":
                return _extreme(name, xs)
            case "Heaviside":
                s = sign(x)
                if s is None:
                    return NoValue(KINK)
                at_zero = xs[1] if len(xs) > 1 else _HALF
                return _ONE if s > 0 else (_ZERO if s < 0 else at_zero)
            case "sign":
                s = sign(x)
                return NoValue(KINK) if s is None else Fraction(s)
            case "log":
                if exact and x == 1:
                    return _ZERO
                s = _domain_sign(x)
                if s is None:
                    return NoValue(KINK)
                if s <= 0:
                    return NoValue(log_note(_mid(x)))
                return Real(mpmath.log(_mid(x)), "fn", ("log", (x,)))
            case "pow":
                s = _domain_sign(x)
                e = xs[1]
                if s is None:
                    return NoValue(KINK)
                if s == 0:  # as sympy: 0^e is 0 for e > 0, 1 for e = 0, complex ∞ for e < 0
                    t = sign(e)
                    if t is None:
                        return NoValue(KINK)
                    return NoValue("division by zero") if t < 0 else Fraction(int(t == 0))
                if s < 0:  # (−2)^(−2) = 1/4; a non-integer exponent makes it complex
                    if isinstance(e, Fraction) and e.denominator == 1:
                        return _powi(x, e.numerator)
                    return NoValue(pow_note(_mid(x), _mid(e)))
                if isinstance(e, Fraction):
                    if e.denominator == 1:
                        return _powi(x, e.numerator)
                    if e.denominator.bit_length() <= 16:
                        return _powq(x, e.numerator, e.denominator)
                return Real(mpmath.power(_mid(x), _mid(e)), "fn", ("pow", tuple(xs)))
            case "re" | "conjugate":
                return x
            case "im":
                return _ZERO
            case "arg":
                s = sign(x)
                if s is None:
                    return NoValue(KINK)
                return _ZERO if s >= 0 else self.const(sp.pi)
        if name in _SMOOTH:
            if exact and not x and name in _SPECIAL_AT_ZERO:
                return _SPECIAL_AT_ZERO[name]
            return Real(_MP.func(name, [_mid(x)]), "fn", (name, (x,)))
        out = _MP.func(name, [_mid(k) for k in xs])
        return out if isinstance(out, NoValue) else Real(out, "fn", (name, tuple(xs)))


_KNOWN = frozenset(("relu", "Abs", "Max", "Min", "Heaviside", "sign", "log", "pow", "re",
                    "conjugate", "im", "arg", *_SMOOTH))


# for the records


def exact_text(x: Any) -> str | None:
    """An exact rational as text ('0', '-3/25'); None for Reals and NoValue."""
    if isinstance(x, Fraction):
        return str(x)
    return None


def to_float(x: Any) -> float | None:
    """`x` as a float: None for NoValue and beyond a float; a Real too close to 0 to tell is
    checked for being exactly 0 (then 0.0, not 1e-41)."""
    t = type(x)
    if t is Real:
        if abs(x.mid) < TINY and is_zero(x):
            return 0.0
        f = float(x.mid)
    elif t is Fraction:
        try:
            return float(x)
        except OverflowError:
            return None
    elif t is NoValue:
        return None
    else:  # an mpmath number (or int) from another algebra
        f = float(x)
    return f if f - f == 0 else None  # neither inf nor nan


def within_float(v: Any) -> Any:
    """`v`, or NoValue when it is beyond a float (JSON has no inf, and 'inf' explains nothing)
    or a nonzero number below the smallest float (a product of 1,000 cosines is not 0)."""
    if isinstance(v, NoValue):
        return v
    f = to_float(v)
    if f is not None and (f != 0 or isinstance(v, Fraction) or not to_mpf(v)):
        return v
    x = to_mpf(v)
    if f == 0 and abs(x) >= _SMALLEST_FLOAT:  # to_float proved it 0: −1.2e-32 is the
        return v                              # rounding left of a sum that cancels exactly
    mantissa, exponent = mpmath.frexp(x)  # x = m·2^e exactly, ½ ≤ |m| < 1
    # e^(e^1000) has a binary exponent of 434 digits: no float holds it
    digits = math.log10(abs(float(mantissa))) + exponent * _LOG10_2 \
        if abs(exponent) < 40_000 else math.inf
    if abs(digits) < 10_000:
        size = _sci6(x, float(mantissa), digits)
    else:
        size = f"about 10^{mpmath.nstr(mpmath.log10(abs(x)), 4)}"
    return NoValue(f"too {'large' if f is None else 'small'} for a float ({size})")


_LOG10_2 = math.log10(2)
_SMALLEST_FLOAT = mpmath.mpf(2) ** -1074  # the least subnormal double: below it float() is 0


def _sci6(x: Any, mantissa: float, digits: float) -> str:
    """`x` (beyond a float, |log10 x| < 10,000) to 6 significant digits exactly as
    mpmath.nstr(x, 6) writes it ('3.66787e-348'), from its binary exponent: nstr converts
    the number in full, a tenth of a 20,000-row backprop table's time."""
    k = math.floor(digits)
    scaled = 10 ** (digits - k + 5)  # 100,000 ≤ scaled < 1,000,000: the 6 digits
    # a float log10 is good to ~1e-12 here; near a rounding edge the exact conversion decides
    if abs(scaled - math.floor(scaled) - 0.5) < 1e-6 or not 100_000.5 < scaled < 999_999.4:
        return mpmath.nstr(x, 6)
    six = str(round(scaled))
    return f"{'-' if mantissa < 0 else ''}{six[0]}.{six[1:].rstrip('0') or '0'}" \
           f"e{'+' if k >= 0 else '-'}{abs(k)}"


def exact_leaves(leaf_values: Mapping[str, Fraction | None]) -> dict[str, Any]:
    """Leaf values as the exact algebra's numbers; NoValue('x1 has no value') where none."""
    out: dict[str, Any] = {}
    for n, v in leaf_values.items():
        if v is None:
            out[n] = NoValue(f"{n} has no value")
            continue
        if type(v) is not Fraction:
            v = Fraction(v)
        # _cap inlined (one call for each of 300k params costs a tenth of a second)
        out[n] = v if v.numerator.bit_length() <= MAX_BITS and \
            v.denominator.bit_length() <= MAX_BITS else _cap(v)
    return out


def at_point(network: Any, leaf_values: Mapping[str, Fraction | None]) -> SympyPoint:
    """The network's sympy expressions evaluated exactly at the point (one forward pass)."""
    return SympyPoint(network, exact_leaves(leaf_values), ExactAlgebra())
