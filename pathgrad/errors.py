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
    """Return "did you mean 'x'?" for the closest candidate, or None if nothing is close."""
    pool = list(dict.fromkeys(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        lower = {c.lower(): c for c in pool}
        if name.lower() in lower:
            close = [lower[name.lower()]]
    if not close:
        return None
    return f"did you mean {what}'{close[0]}'?" if not what else f"did you mean {what} '{close[0]}'?"
