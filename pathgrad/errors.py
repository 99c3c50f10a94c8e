"""Errors pathgrad raises on bad input: each renders as one line naming what and where."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Location",
    "PathgradError",
    "SpecError",
    "ExpressionError",
    "GraphError",
    "UsageError",
    "LimitError",
    "suggest",
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
    ) -> None:
        self.message = message
        self.where = where
        self.suggestion = suggestion
        # the offending text and a 0-based caret column into it, shown under the message
        self.excerpt = excerpt
        self.caret = caret
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line form: `where: message; did you mean 'x'?`."""
        text = self.message
        if self.where is not None:
            text = f"{self.where}: {text}"
        if self.suggestion:
            text = f"{text}; {self.suggestion}"
        return " ".join(text.split("\n"))

    def detail(self) -> list[str]:
        """Extra lines shown under the message: the excerpt with a caret, if any."""
        if self.excerpt is None or self.caret is None:
            return []
        shown = self.excerpt if len(self.excerpt) <= 200 else self.excerpt[:200] + "…"
        caret = min(self.caret, len(shown))
        return ["    " + shown, "    " + " " * caret + "^"]

    def __str__(self) -> str:
        return self.line()


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

    Closest = fewest single-character edits (a typo like w1l → w11), ties to the first.
    """
    pool = list(dict.fromkeys(candidates))
    if not pool:
        return None
    limit = max(1, min(3, len(name) // 3))
    scored = [(_distance(name.lower(), c.lower()), i, c) for i, c in enumerate(pool)]
    best = min(scored)
    if best[0] > limit:
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.75)
        if not close:
            return None
        choice = close[0]
    else:
        choice = best[2]
    return f"did you mean {what + ' ' if what else ''}'{choice}'?"


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent swaps)."""
    if abs(len(a) - len(b)) > 3:
        return 99
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
