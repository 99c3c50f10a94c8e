"""Errors pathgrad raises on bad input: each renders as one line naming what and where."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "count_text",
    "Location",
    "PathgradError",
    "SpecError",
    "ExpressionError",
    "GraphError",
    "UsageError",
    "LimitError",
    "suggest",
    "printable",
]


@dataclass(frozen=True)
class Location:
    """Where something is: a file (or "<string>"), a 1-based line and column, a dotted key."""

    source: str = "<string>"
    line: int | None = None
    column: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        parts = [self.source]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        text = ":".join(parts)
        return f"{text}: {self.key}" if self.key else text


class PathgradError(Exception):
    """Base class of every error pathgrad raises about its input."""

    def __init__(
        self,
        message: str,
        where: Location | None = None,
        suggestion: str | None = None,
        excerpt: str | None = None,
        caret: int | None = None,
        limit: str | None = None,
    ) -> None:
        self.message = message
        self.where = where
        self.suggestion = suggestion
        # the offending text and a 0-based caret column into it, shown under the message
        self.excerpt = excerpt
        self.caret = caret
        # the field of spec.Limits this error is about, so the caller can say how to raise it
        self.limit = limit
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line form: `where: message; did you mean 'x'?`."""
        text = self.message
        if self.where is not None:
            text = f"{self.where}: {text}"
        if self.suggestion:
            text = f"{text}; {self.suggestion}"
        return printable(" ".join(text.splitlines()))

    def detail(self) -> list[str]:
        """Extra lines shown under the message: the excerpt's line with a caret under the
        offending column, cut to a window around it so both fit an 80-column terminal."""
        if self.excerpt is None or self.caret is None:
            return []
        text = self.excerpt
        caret = max(0, min(self.caret, len(text)))
        start = max(text.rfind("\n", 0, caret), text.rfind("\r", 0, caret)) + 1
        ends = [i for i in (text.find("\n", caret), text.find("\r", caret)) if i >= 0]
        line, caret = text[start:min(ends, default=len(text))], caret - start
        if len(line) > EXCERPT_WIDTH:
            lo = max(0, min(caret - EXCERPT_WIDTH // 2, len(line) - EXCERPT_WIDTH))
            hi = lo + EXCERPT_WIDTH
            line = ("…" if lo else "") + line[lo:hi] + ("…" if hi < len(line) else "")
            caret += (1 if lo else 0) - lo
        # one printed column per character, so the caret stays under its character
        shown = "".join(_one_column(ch) for ch in line)
        return ["    " + shown, "    " + " " * caret + "^"]

    def __str__(self) -> str:
        return self.line()


EXCERPT_WIDTH = 72  # characters of an excerpt shown around the caret


def printable(text: str) -> str:
    """`text` with control and bidirectional-format characters escaped (\\x1b, \\u202e), so
    a hostile name cannot move the cursor, clear the screen or reorder what is shown."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def _one_column(ch: str) -> str:
    if ch == "\t" or not ch.isprintable():
        return " " if ch.isspace() else "?"
    if unicodedata.combining(ch) or unicodedata.east_asian_width(ch) in "WF":
        return "?"
    return ch


class SpecError(PathgradError):
    """The spec file or its structure is wrong."""


class ExpressionError(SpecError):
    """A node's expression is not in the grammar."""


class GraphError(SpecError):
    """The nodes do not form a DAG, or a name is used where it cannot be."""


class UsageError(PathgradError):
    """A command-line choice (weight, --set, option) does not fit the spec."""


class LimitError(PathgradError):
    """The input is larger than a configured limit allows."""


def suggest(name: str, candidates: Iterable[str], what: str = "") -> str | None:
    """Return "did you mean 'x'?" for the closest candidate, or None if nothing is close.

    Closest = fewest single-character edits (a typo like w1l → w11); ties go to the most
    similar (w1 → w11 rather than x1), then to the first. A one-letter name only matches
    itself in another case: every other letter is one edit away.
    """
    pool = list(dict.fromkeys(candidates))
    if not pool:
        return None
    low = name.lower()
    limit = 0 if len(name) < 2 else max(1, min(3, len(name) // 3))
    # a name more than `limit` letters longer or shorter is never the closest: skip it cheaply
    near = [c for c in pool if abs(len(c) - len(name)) <= limit][:_MAX_CANDIDATES]
    scored = [(_distance(low, c.lower(), limit), i, c) for i, c in enumerate(near)]
    best = min(scored, default=(limit + 1, 0, ""))
    if best[0] <= limit:
        ties = [c for d, _, c in scored if d == best[0]]
        choice = max(ties, key=lambda c: difflib.SequenceMatcher(None, low, c.lower()).ratio())
    else:
        close = difflib.get_close_matches(name, pool[:_MAX_CANDIDATES], n=1, cutoff=0.75)
        if not close:
            return None
        choice = close[0]
    return f"did you mean {what + ' ' if what else ''}'{choice}'?"


_MAX_CANDIDATES = 20_000  # a suggestion is a courtesy: it must stay instant on huge specs


def _distance(a: str, b: str, cap: int = 3) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent swaps); any distance
    above `cap` is reported as cap + 1, found as soon as a whole row exceeds it."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > cap:
            return cap + 1
        prev2, prev = prev, cur
    return min(prev[-1], cap + 1)


def count_text(n: int) -> str:
    """An exact count for a message: '4,096', or '≈ 3.18·10^88' past 15 digits (a 3,000-digit
    count would make a 4,000-character error line).

    >>> count_text(4096), count_text(64**49), count_text(2**10000)
    ('4,096', '≈ 3.182·10^88', '≈ 1.995·10^3010')
    """
    if abs(n) < 10**15:
        return f"{n:,}"
    digits = int((abs(n).bit_length() - 1) * 0.30102999566398120)  # log10(2): no str(n)
    while 10 ** (digits + 1) <= abs(n):
        digits += 1
    while 10**digits > abs(n):
        digits -= 1
    lead = abs(n) // 10 ** (digits - 3)
    mantissa = f"{lead / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{'−' if n < 0 else ''}≈ {mantissa}·10^{digits}"
