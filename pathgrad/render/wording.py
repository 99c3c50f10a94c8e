"""The verdict worded for a reader who does not know sympy, in text, LaTeX or HTML.

JSON keeps the technical `verification.detail`; people read what was shown and how sure it
is: "the two sides agree exactly (expanded symbolically)", with the prime 2¹²⁷ − 1 and the
error bound typeset as mathematics in LaTeX.
"""

from __future__ import annotations

import html as _html
import re

from ..verify.methods import Verification
from . import formats
from .texmath import prose

__all__ = ["verdict"]


def _points(detail: str) -> str:
    m = re.search(r"at (\d+) (?:random )?points?", detail)
    n = int(m.group(1)) if m else 0
    return f"at {n} point{'s' if n != 1 else ''}" if n else "at several points"


def _worst(detail: str) -> float | None:
    m = re.search(r"largest relative difference ([0-9.e+-]+)", detail)
    try:
        return float(m.group(1)) if m else None
    except ValueError:  # pragma: no cover - the detail's own format
        return None


def verdict(v: Verification, direct_computed: bool = True, fmt: str = "text") -> str:
    """One sentence: whether the sum over paths equals the direct derivative, and how that
    was shown. `fmt` is "text", "latex" (text mode with inline math) or "html"."""
    def m(text: str, tex: str) -> str:  # a bit of mathematics
        if fmt == "latex":
            return f"${tex}$"
        return _html.escape(text) if fmt == "html" else text

    def t(text: str) -> str:  # words
        if fmt == "latex":
            return prose(text)
        return _html.escape(text) if fmt == "html" else text

    def num(x: float | None) -> str:
        return m(formats.number(x, 2), formats.number(x, 2, "latex"))

    if not v.verified:
        return t(f"NOT VERIFIED: {v.detail}")
    if v.method == "exact":
        return t("the two sides agree exactly (their difference, expanded symbolically, is 0)")
    if v.method == "modular":
        bound = v.error_bound
        out = (t("the two sides agree exactly as polynomials modulo the prime ")
               + m("p = 2¹²⁷ − 1", "p = 2^{127} - 1") + t(f" {_points(v.detail)} chosen at "
                                                          "random (every σ, exp … a random "
                                                          "value mod p); the chance that "
                                                          "they differ all the same is "))
        if bound is None:
            return out + t("negligible")
        return out + m(f"≤ {formats.number(bound, 1)}",
                       rf"\le {formats.number(bound, 1, 'latex')}")
    worst = _worst(v.detail)
    if v.method == "numeric":
        return (t(f"the two sides agree to 50 digits {_points(v.detail)} (largest relative "
                  "difference ") + (num(worst) if worst else m("0", "0")) + t(")"))
    if v.method == "finite-difference":
        why = v.detail.split(";")[0]
        return (t(f"{why}; the sum over paths agrees with central finite differences of the "
                  f"loss {_points(v.detail)} (largest relative difference ")
                + (num(worst) if worst else m("0", "0")) + t(")"))
    return t(v.detail)
