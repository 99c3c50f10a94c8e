"""A progress.Reporter that draws rich progress bars on stderr, for the command line.

Bars appear only when stderr is a terminal and a step has run for over `delay` seconds, and
vanish when it ends (transient), so quick commands and redirected output stay clean.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any

from ..progress import Reporter, Task

__all__ = ["RichReporter", "reporter"]


class _RichTask(Task):
    """Shown by a timer after the delay, so steps that never report still get a spinner."""

    def __init__(self, owner: RichReporter, description: str, total: float | None) -> None:
        self.owner = owner
        self.description = description
        self.total = total
        self.completed = 0.0
        self.id: Any = None
        self.done = False
        self.timer = threading.Timer(owner.delay, self._appear)
        self.timer.daemon = True

    def __enter__(self) -> _RichTask:
        self.timer.start()
        return self

    def _appear(self) -> None:
        with self.owner.lock:
            if not self.done and self.id is None:
                self.id = self.owner.show(self.description, self.total, self.completed)

    def advance(self, amount: float = 1) -> None:
        self.completed += amount
        if self.id is not None:
            self.owner.bars.update(self.id, completed=self.completed)

    def update(self, completed: float) -> None:
        self.completed = completed
        if self.id is not None:
            self.owner.bars.update(self.id, completed=self.completed)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.timer.cancel()
        with self.owner.lock:
            self.done = True
            if self.id is not None:
                self.owner.hide(self.id)


class RichReporter(Reporter):
    """Transient rich bars on stderr, started lazily after `delay` seconds of work."""

    def __init__(self, delay: float = 1.0) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.delay = delay
        self.lock = threading.Lock()
        self.bars = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                             BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(),
                             console=Console(stderr=True), transient=True)
        self.live = 0

    def task(self, description: str, total: float | None = None) -> Task:
        return _RichTask(self, description, total)

    def show(self, description: str, total: float | None, completed: float) -> Any:
        if not self.live:
            self.bars.start()
        self.live += 1
        return self.bars.add_task(description, total=total, completed=completed)

    def hide(self, task_id: Any) -> None:
        self.bars.remove_task(task_id)
        self.live -= 1
        if not self.live:
            self.bars.stop()


def reporter() -> Reporter:
    """Rich bars when stderr is a terminal; otherwise the silent reporter."""
    if sys.stderr.isatty():
        return RichReporter()
    return Reporter()
