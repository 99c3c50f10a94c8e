"""The one rule for every number pathgrad reads: a spec's values, expressions and --set.

At most MAX_DIGITS significant digits, and 0 or a size between 1e-308 and 1.7e308 (a double's
range, so every number prints as itself). Constants folded in an expression obey the same
bounds. Numbers stay exact (Fractions); the bounds only keep them printable and cheap.
"""

from __future__ import annotations

import sys
from fractions import Fraction

__all__ = ["MAX_DIGITS", "MAX_VALUE", "MIN_VALUE", "magnitude_problem", "digits_problem"]

MAX_DIGITS = 60
MAX_VALUE = Fraction(int(sys.float_info.max))
MIN_VALUE = Fraction(1, 10**308)
_BITS_MAX = MAX_VALUE.numerator.bit_length()
_BITS_MIN = MIN_VALUE.denominator.bit_length()


def magnitude_problem(value: Fraction) -> str | None:
    """Why `value` is too large or too small for pathgrad, or None.

    >>> magnitude_problem(Fraction(1, 10**300)) is None, magnitude_problem(Fraction(10**400))
    (True, 'too large: a number must be below 1.7e308 in size')
    """
    if not value:
        return None
    size = value.numerator.bit_length() - value.denominator.bit_length()
    if -_BITS_MIN + 2 < size < _BITS_MAX - 2:  # settles almost every value without a Fraction
        return None
    if abs(value) > MAX_VALUE:
        return "too large: a number must be below 1.7e308 in size"
    if abs(value) < MIN_VALUE:
        return "too small: a number other than 0 must be at least 1e-308 in size"
    return None


def digits_problem(mantissa: str) -> str | None:
    """Why a number written with these digits (no sign, point or exponent) has too many."""
    significant = len(mantissa.lstrip("0"))
    if significant > MAX_DIGITS:
        return f"has {significant:,} significant digits; the limit is {MAX_DIGITS}"
    return None
