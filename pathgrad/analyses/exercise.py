"""The exercise stage: variants of a network with "nice" numbers, and their answer keys.

Each variant draws the leaves in `vary` (default: every param) from `random.Random(seed + j)`
— one or two decimals, never 0 — and keeps a draw only when every local partial on every path
is defined and non-zero (so no path vanishes and no function is undefined) and the gradient
is not 0. Variant j of `--seed N` is variant 1 of `--seed N+j`, so any variant can be
regenerated alone. The key is `explain` at the values exactly as printed (exact decimals),
path by path, factor by factor.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy as sp

from ..errors import UsageError, count_text, suggest
from ..numeric.evaluate import NoValue
from ..numeric.points import DIGITS, point_values
from ..spec.model import Spec, apply_values, check_weight
from .explanation import DEFAULT_MAX_PATHS, Explanation, explain

__all__ = ["BLANKS", "KeyPath", "Variant", "Exercise", "exercise", "nice_value",
           "parse_blank", "parse_vary", "MAX_TRIES", "MAX_SHEET_NAMES"]

BLANKS = ("paths", "partials", "values")
MAX_TRIES = 500  # draws per variant before giving up (each draw is one cheap forward sweep)
SMALLEST = 1e-12  # |partial| or |gradient| below this counts as vanishing
MAX_SHEET_NAMES = 2_000  # as a picture: 1 → 30,000 outputs wrote 90,000 values in 80 s


@dataclass(frozen=True)
class KeyPath:
    """One path of the key: its local partials (in names and as numbers) and its product."""

    nodes: tuple[str, ...]
    factors: tuple[sp.Expr, ...]  # factors[i] = ∂nodes[i+1]/∂nodes[i]
    factor_values: tuple[float, ...]
    value: float


@dataclass(frozen=True)
class Variant:
    """One version of the sheet: the values as printed and the answers at them."""

    number: int  # 1-based
    seed: int  # regenerate alone with --seed SEED
    values: dict[str, Fraction]  # every leaf, exactly as printed
    varied: tuple[str, ...]
    paths: tuple[KeyPath, ...]
    gradient: float
    explanation: Explanation


@dataclass(frozen=True)
class Exercise:
    spec: Spec
    weight: str
    loss: str
    seed: int
    blank: tuple[str, ...]
    variants: tuple[Variant, ...]

    @property
    def points(self) -> int:
        """Points of one variant under the rubric (the same for every variant)."""
        return points(self.variants[0].paths, self.blank) if self.variants else 0


def points(paths: Sequence[KeyPath], blank: Iterable[str]) -> int:
    """The rubric: a point per path (paths), per factor (partials or values), per product and
    for the gradient (values) — the same points `pathgrad check` gives."""
    blank = set(blank)
    total = 0
    for p in paths:
        total += ("paths" in blank) + (len(p.factors) if blank & {"partials", "values"} else 0)
        total += "values" in blank
    return total + ("values" in blank)


def parse_blank(text: str | None) -> tuple[str, ...]:
    """'paths,values' → ('paths', 'values'); None → all three."""
    if text is None or not text.strip():
        return BLANKS
    out = []
    for part in text.split(","):
        word = part.strip().lower()
        if word not in BLANKS:
            raise UsageError(f"--blank '{part.strip()}' is not one of {', '.join(BLANKS)}",
                             None, suggest(word, BLANKS) or "for example --blank paths,values")
        if word not in out:
            out.append(word)
    return tuple(w for w in BLANKS if w in out)


def parse_vary(spec: Spec, text: str | None) -> tuple[str, ...]:
    """'w11,w21' → the names to draw; None → every param (and every leaf without a value)."""
    if text is None:
        names = [*spec.params]
    else:
        names = [n.strip() for n in text.split(",") if n.strip()]
        for n in names:
            kind = spec.kind(n)
            if kind is None:
                raise UsageError(f"--vary '{n}' is not a name in {spec.source}", None,
                                 suggest(n, [*spec.inputs, *spec.params]))
            if kind == "node":
                raise UsageError(f"--vary '{n}' is a node; its value comes from its expression",
                                 None, "vary inputs and params")
    # dict.fromkeys keeps the order and drops repeats in one pass (`n not in names` on a list
    # was quadratic: 27 s for 30,000 params)
    return tuple(dict.fromkeys([*names, *(n for n, v in spec.values().items() if v is None)]))


def nice_value(rng: random.Random) -> Fraction:
    """±0.1 … ±2.0 in steps of 0.1, or ±0.05 … ±1.5 in steps of 0.05 (two decimals)."""
    sign = rng.choice((-1, 1))
    if rng.random() < 0.7:
        return sign * Fraction(rng.randint(1, 20), 10)
    return sign * Fraction(rng.randint(1, 30), 20)


def exercise(spec: Spec, weight: str, *, seed: int = 0, variants: int = 1,
             vary: Sequence[str] | None = None, blank: Sequence[str] = BLANKS,
             max_paths: int = DEFAULT_MAX_PATHS) -> Exercise:
    """`variants` versions of ∂loss/∂weight with nice values and their keys.

    >>> from pathgrad import load
    >>> spec = load("params: {w: 3}\\ninputs: {x: 2}\\nnodes: {h: w*x, E: h^2}")
    >>> ex = exercise(spec, "w", seed=1, variants=2)
    >>> [v.seed for v in ex.variants], ex.variants[0].values == exercise(spec, "w", seed=1
    ...     ).variants[0].values
    ([1, 2], True)
    """
    check_weight(spec, weight)
    if len(spec.names) > MAX_SHEET_NAMES:  # the sheet lists every value it draws
        raise UsageError(f"the network has {len(spec.names):,} names, more than "
                         f"{MAX_SHEET_NAMES:,} a problem sheet can list", None,
                         "a sheet is worked by hand: write one for a smaller net")
    if variants < 1:
        raise UsageError("--variants must be at least 1")
    names = tuple(vary) if vary is not None else parse_vary(spec, None)
    count = spec.graph.path_counts(spec.loss)[weight]
    if count == 0:
        raise UsageError(f"{spec.loss} does not depend on {weight}: there are no paths to ask "
                         "for", None, "choose a --weight the loss uses")
    if count > max_paths:
        raise UsageError(f"'{weight}' has {count_text(count)} paths, too many for a sheet "
                         f"(more than {max_paths:,})", None,
                         "choose a weight nearer the loss")
    edges = sorted({e for p in spec.graph.paths(weight, spec.loss) for e in zip(p, p[1:])})
    out = []
    for j in range(variants):
        values = _draw(spec, weight, edges, names, seed + j)
        ex = explain(spec, weight, values, max_paths=max_paths)
        unworkable = next((p for p in ex.paths if p.value is None), None)
        if ex.value is None or unworkable is not None:  # 1,900 cosines: below a float
            why = ex.value_note if ex.value is None else unworkable.note  # type: ignore
            raise UsageError(f"∂{spec.loss}/∂{weight} at the drawn values (seed {seed + j}) "
                             f"has {'a path' if ex.value is not None else 'a value'} "
                             f"{why}: nothing to work out by hand", None,
                             "choose a weight nearer the loss")
        with mpmath.workdps(DIGITS):
            pv = point_values(spec, ex.values)
            key = tuple(KeyPath(p.nodes, p.factors,
                                tuple(float(pv.partials[e]) for e in zip(p.nodes, p.nodes[1:])),
                                float(p.value))  # type: ignore[arg-type]
                        for p in ex.paths)
        printed = {n: v for n, v in ex.values.items() if v is not None}
        out.append(Variant(j + 1, seed + j, printed, names, key, float(ex.value),  # type: ignore
                           ex))
    return Exercise(spec, weight, spec.loss, seed, tuple(blank), tuple(out))


def _draw(spec: Spec, weight: str, edges: Sequence[tuple[str, str]], names: Sequence[str],
          seed: int) -> dict[str, Fraction]:
    need = _can_vanish_only_by_choice(spec, weight, edges, names)
    rng = random.Random(seed)
    for _ in range(MAX_TRIES):
        values = {n: nice_value(rng) for n in names}
        if _usable(spec, weight, need, apply_values(spec, values)):
            return values
    raise UsageError(f"found no values for {', '.join(names) or 'the leaves'} (seed {seed}) at "
                     "which every path is defined and non-zero", None,
                     "vary other names with --vary, or fix values in the spec")


def _float(x: object) -> float | None:
    """An mpmath number as a float; None when undefined or beyond a float."""
    if isinstance(x, NoValue) or not mpmath.isfinite(x) or abs(x) > _FLOAT_MAX:  # type: ignore
        return None
    return float(x)  # type: ignore[arg-type]


_FLOAT_MAX = 1.7e308
GENERIC_POINTS = 3


@dataclass(frozen=True)
class _Needs:
    """What a draw must keep: the edges that are non-zero for some values of the varied names
    (an RNN's ∂z1/∂w = h0 = 0 is zero whatever is drawn: not the draw's fault), the names
    that are defined for some, and whether the gradient can be non-zero."""

    edges: tuple[tuple[str, str], ...]
    paths: tuple[tuple[str, ...], ...]
    nodes: frozenset[str]
    gradient: bool


def _can_vanish_only_by_choice(spec: Spec, weight: str, edges: Sequence[tuple[str, str]],
                               names: Sequence[str]) -> _Needs:
    rng = random.Random(20261202)
    alive: set[tuple[str, str]] = set()
    defined: set[str] = set()
    gradient = False
    paths = tuple(spec.graph.paths(weight, spec.loss))
    for k in range(GENERIC_POINTS):  # generic values: positive, then of mixed signs
        values = {n: Fraction(rng.randint(300, 900), 1000) * (1 if k == 0 or rng.random() < .5
                                                              else -1) for n in names}
        with mpmath.workdps(DIGITS):
            pv = point_values(spec, apply_values(spec, values), {v for _, v in edges})
            defined |= {n for n, x in pv.values.items() if _float(x) is not None}
            good = {e for e in edges if _float(pv.partials[e]) is not None
                    and abs(pv.partials[e]) >= SMALLEST}
            alive |= good
            total = mpmath.fsum(mpmath.fprod(pv.partials[e] for e in zip(p, p[1:]))
                                for p in paths if all(e in good for e in zip(p, p[1:])))
            gradient = gradient or abs(total) >= SMALLEST
    return _Needs(tuple(e for e in edges if e in alive), paths, frozenset(defined), gradient)


def _usable(spec: Spec, weight: str, need: _Needs, point: dict[str, Fraction | None]) -> bool:
    """Every partial on a path defined and non-zero, every node defined, gradient ≠ 0 —
    as far as any values of the varied names can make them."""
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, point, {v for _, v in need.edges})
        for n, value in pv.values.items():
            if n in need.nodes and _float(value) is None:
                return False
        partials = {}
        for e in need.edges:
            x = pv.partials[e]
            if _float(x) is None or abs(x) < SMALLEST:
                return False
            partials[e] = x
        if not need.gradient:
            return True
        total = mpmath.mpf(0)
        for p in need.paths:
            if all(e in partials for e in zip(p, p[1:])):
                total += mpmath.fprod(partials[e] for e in zip(p, p[1:]))
        return abs(total) >= SMALLEST and _float(total) is not None
