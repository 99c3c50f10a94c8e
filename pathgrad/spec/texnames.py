"""Display names for LaTeX (`latex:`), parsed against a whitelist before they reach a document.

A display name is math-mode LaTeX such as `w_{1,1}`, `\\hat{y}` or `a^{(2)}_{j}`. TeX can read
files and run code (`\\input`, `\\write18`, `\\csname`, catcode changes, and `^^5c`, TeX's own
spelling of a backslash), so a blacklist cannot make it safe: this module accepts letters,
digits, a few punctuation marks, `_`, `^`, balanced braces and the control sequences listed in
`ALLOWED`, and refuses everything else with the reason.
"""

from __future__ import annotations

import re

__all__ = ["ALLOWED", "tex_problem"]

# control sequences a display name may use: fonts, accents, Greek, a few symbols
ALLOWED = frozenset("""mathrm mathit mathbf mathsf mathtt mathcal mathbb mathfrak boldsymbol bm
text textrm textit operatorname hat bar tilde vec dot ddot check breve acute grave widehat
widetilde overline underline prime ell imath jmath hbar nabla partial infty star ast circ bullet
cdot times alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda
mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta
Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split())

_PUNCTUATION = frozenset(" _^{}()[]+-=,.'/|:;!*<>")
_SPACING = frozenset(",;! ")  # \, \; \! and "\ " are spaces
MAX_CHARS = 200
# the common case (w^{(1)}_{2,3}: no backslash, braces two deep) accepted by one regex match
_ATOM = r"[A-Za-z0-9_^()\[\],'+\-=.:;!*<>/| ]"
_PLAIN = re.compile(rf"(?:{_ATOM}|\{{(?:{_ATOM}|\{{{_ATOM}*\}})*\}})*")


def tex_problem(tex: str) -> str | None:
    """Why `tex` cannot be used as a display name, or None when it is fine.

    >>> tex_problem(r"w^{(1)}_{1,2}") is None
    True
    >>> tex_problem("^^5cinput{/etc/hostname}")
    "'^^' (TeX's character-code notation) is not allowed"
    >>> print(tex_problem(r"\\input{x}"))
    the control sequence \\input is not allowed
    """
    if _PLAIN.fullmatch(tex) and tex.strip() and len(tex) <= MAX_CHARS and "^^" not in tex \
            and "_}" not in tex and "^}" not in tex and not tex.endswith(("_", "^")):
        return None
    if not tex.strip():
        return "it is empty"
    if len(tex) > MAX_CHARS:
        return f"it has {len(tex):,} characters; a display name has at most {MAX_CHARS}"
    depth = 0
    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isascii() and tex[j].isalpha():
                j += 1
            name = tex[i + 1:j]
            if not name:
                nxt = tex[i + 1:i + 2]
                if nxt in _SPACING and nxt:
                    i += 2
                    continue
                return (f"'\\{nxt}' is not allowed" if nxt else
                        "it ends with a backslash")
            if name not in ALLOWED:
                return f"the control sequence \\{name} is not allowed"
            i = j
            continue
        if ch == "^" and tex[i + 1:i + 2] == "^":
            return "'^^' (TeX's character-code notation) is not allowed"
        if ch in "_^" and tex[i + 1:i + 2] in ("", "}"):
            return f"'{ch}' at character {i + 1} has nothing after it"
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return f"'}}' at character {i + 1} closes no '{{'"
        if ch.isascii():
            if not (ch.isalnum() or ch in _PUNCTUATION):
                return f"the character {ch!r} is not allowed"
        elif not ch.isprintable():
            return f"the character {ch!r} (U+{ord(ch):04X}) is not allowed"
        i += 1
    if depth:
        return f"{depth} '{{' {'is' if depth == 1 else 'are'} not closed"
    return None
