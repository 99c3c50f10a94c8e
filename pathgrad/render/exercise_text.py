"""What every exercise format shares: values exactly as printed, key numbers, tolerances."""

from __future__ import annotations

import shlex
from fractions import Fraction

from ..analyses.exercise import Exercise, Variant
from ..spec import grammar as g

__all__ = ["KEY_DIGITS", "exact", "key_number", "regenerate", "tolerance"]

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
