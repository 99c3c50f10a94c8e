"""Progress reporting without printing: the library reports, the command line draws.

Long steps (listing paths, sympy.diff, the top-K search) call `reporter.task(...)`; the default
reporter does nothing, and the CLI passes one that draws a rich progress bar on stderr.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType

__all__ = ["Reporter", "Task", "SILENT"]


class Task(AbstractContextManager["Task"]):
    """One step of work: `advance` by units done, or `update` to an absolute amount."""

    def advance(self, amount: float = 1) -> None:
        """`amount` more units are done."""

    def update(self, completed: float) -> None:
        """`completed` units are done in total (for steps measured in seconds)."""

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


class Reporter:
    """Makes tasks; this base class reports nowhere."""

    def task(self, description: str, total: float | None = None) -> Task:
        """A step called `description`, with `total` units (None: unknown)."""
        return Task()


SILENT = Reporter()
