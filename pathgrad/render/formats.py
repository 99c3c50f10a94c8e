"""Every number a person reads, formatted in one place: values, shares, counts and ratios.

One default precision (`DEFAULT_DIGITS` significant digits, `--digits N`) for every format;
one minus sign (U+2212 in text, `-` in LaTeX); one scientific style, the one textbooks use
(−4.32·10⁻⁵ in text, `-4.32 \\cdot 10^{-5}` in LaTeX). Nothing here imports sympy or rich.

>>> number(-0.0000432217581), number(-0.0000432217581, style="latex"), number(2.0)
('−4.32218·10⁻⁵', '-4.32218 \\\\cdot 10^{-5}', '2')
>>> percent(-0.251), count(10**20), factor(-0.5, 3)
('−25.1%', '≈ 1.00·10²⁰', '(−0.5)')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Options", "DEFAULT_DIGITS", "MINUS", "number", "factor", "percent", "fraction", "count",
           "times", "clip", "superscript", "check_digits", "MAX_DIGITS", "MAX_EXPR_CHARS"]

DEFAULT_DIGITS = 6  # significant digits of every number shown, in every format (--digits)
MAX_DIGITS = 17  # a float has no more: more would print noise
MINUS = "\u2212"
MAX_EXPR_CHARS = 600  # a longer expression is cut in the terminal; JSON and LaTeX carry it
_SUPERSCRIPTS = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")


def check_digits(digits: int) -> int:
    """`digits` if it is a sensible precision (1 … 17), else ValueError."""
    if not 1 <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be between 1 and {MAX_DIGITS}, not {digits}")
    return digits


def superscript(text: str) -> str:
    """Digits and signs as Unicode superscripts: '-5' → '⁻⁵'."""
    return text.translate(_SUPERSCRIPTS)


def number(x: float | None, digits: int = DEFAULT_DIGITS, style: str = "text") -> str:
    """`x` to `digits` significant digits; '—' when unknown. `style` is "text" (Unicode minus,
    ·10⁻⁵) or "latex" (math mode: -, \\cdot 10^{-5})."""
    if x is None:
        return "—"
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return ("-" if x < 0 else "") + (r"\infty" if style == "latex" else "∞")
    if x == 0:
        x = 0.0  # no "-0"
    s = f"{x:.{digits}g}"
    mant, e, exp = s.partition("e")
    if style == "latex":
        return f"{mant} \\cdot 10^{{{int(exp)}}}" if e else mant
    if e:
        mant = f"{mant}·10{superscript(str(int(exp)))}"
    return mant.replace("-", MINUS)


def factor(x: float | None, digits: int = DEFAULT_DIGITS, style: str = "text") -> str:
    """A number as one factor of a product: negative ones (and powers of ten) in parentheses."""
    text = number(x, digits, style)
    if x is not None and (x < 0 or "10" in text and ("·" in text or "cdot" in text)):
        return f"\\left({text}\\right)" if style == "latex" else f"({text})"
    return text


def percent(x: float | None, style: str = "text") -> str:
    """A share of a total, signed so paths that pull the other way stand out: +74.9%."""
    if x is None:
        return "—"
    text = f"{100 * x:+.1f}%"
    if style == "latex":
        return text.replace("%", r"\%")
    return text.replace("-", MINUS)


def fraction(x: float) -> str:
    """An unsigned share for bars and coverage: 50.0%, 0.0023%, small ones not rounded to 0."""
    if x == 0 or x >= 0.001:
        return f"{100 * x:.1f}%"
    return number(100 * x, 2) + "%"


def count(n: int, style: str = "text") -> str:
    """An exact count: thousands separators up to 10^15, then ≈ m·10^e."""
    if n < 10**15:
        return f"{n:,}" if style == "text" else f"{n:,}".replace(",", "{,}")
    mant, _, exp = format(Decimal(n), ".2e").partition("e")  # exact for any size
    exponent = int(exp)
    if style == "latex":
        return rf"\approx {mant} \cdot 10^{{{exponent}}}"
    return f"≈ {mant}·10{superscript(str(exponent))}"


def times(ratio: float) -> str:
    """How many times more: 1.2×, 6.9·10⁸×."""
    if ratio < 1e6:
        return f"{ratio:,.1f}×"
    if isinstance(ratio, int) and ratio >= 10**15:  # beyond a float: exact digits
        return count(ratio).removeprefix("≈ ") + "×"
    return number(ratio, 2) + "×"


def clip(text: str, limit: int = MAX_EXPR_CHARS) -> str:
    """`text`, cut at `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f" … ({len(text):,} characters; --format json has all)"


@dataclass(frozen=True)
class Options:
    """How much of each number to show, the same for every format.

    `digits`: significant digits (--digits); `numbers`: under each path, the value of each
    local partial in chain order (--numbers); `simplify`: show derivatives simplified for
    reading (proved equal; JSON keeps sympy's forms)."""

    digits: int = DEFAULT_DIGITS
    numbers: bool = False
    simplify: bool = True

    def __post_init__(self) -> None:
        check_digits(self.digits)
