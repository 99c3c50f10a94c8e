"""What every exercise format shares: values exactly as printed, key numbers, the rubric."""

from __future__ import annotations

import shlex
from fractions import Fraction

from ..analyses.exercise import Exercise, KeyPath, Variant
from ..spec import grammar as g

__all__ = ["exact", "key_number", "regenerate", "rubric", "RubricLine", "tolerance"]

KEY_DIGITS = 4  # significant digits of the key's numbers; `check` accepts 1 % (3 digits)


def exact(value: Fraction) -> str:
    """A leaf value exactly: 0.35, -1.2, 1/3 (never a rounded float)."""
    return g.to_text(g.Num(Fraction(value)))


def key_number(x: float, digits: int = KEY_DIGITS) -> str:
    """A number of the key, rounded for reading (the JSON keeps every digit)."""
    text = f"{x:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"{mant}e{int(exp)}"
    return text


def regenerate(ex: Exercise, v: Variant, source: str | None = None) -> str:
    """The command that writes this variant alone."""
    spec = shlex.quote(source or ex.spec.source)
    return f"pathgrad exercise {spec} --weight {ex.weight} --seed {v.seed}"


def tolerance(x: float, relative: float = 0.01) -> float:
    """An absolute tolerance for an LMS: `relative` of the value (1 % by default)."""
    return max(abs(x) * relative, 1e-12)


class RubricLine(tuple):
    """(what, points): one line of the marking scheme."""

    __slots__ = ()

    def __new__(cls, what: str, points: int) -> RubricLine:
        return super().__new__(cls, (what, points))

    @property
    def what(self) -> str:
        return self[0]

    @property
    def points(self) -> int:
        return self[1]


def rubric(p: KeyPath, k: int, blank: tuple[str, ...]) -> list[RubricLine]:
    """The points for path k (1-based), line by line, the same as `pathgrad check` gives."""
    lines = []
    if "paths" in blank:
        lines.append(RubricLine(f"path {k} found", 1))
    if {"partials", "values"} & set(blank):
        for i in range(len(p.factors)):
            lines.append(RubricLine(f"path {k}, factor ∂{p.nodes[i + 1]}/∂{p.nodes[i]}", 1))
    if "values" in blank:
        lines.append(RubricLine(f"path {k}, product", 1))
    return lines
