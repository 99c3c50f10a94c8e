"""The path-length distribution as a terminal table (`show`, `explain`): how many paths have each
length and how much of the gradient they carry. Light: `show` must not load sympy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .formats import DEFAULT_DIGITS, count, fraction, number, percent

if TYPE_CHECKING:
    from ..analyses.lengths import LengthDistribution

__all__ = ["path_lengths", "BAR_WIDTH"]

BAR_WIDTH = 12


def path_lengths(dist: LengthDistribution, digits: int = DEFAULT_DIGITS) -> RenderableType:
    """How many paths have each length, and (for one weight) how much of the gradient."""
    if dist.source is not None:
        head = f"paths from {dist.source} to {dist.target} by length"
    else:
        head = f"paths from every {dist.sources_kind} to {dist.target} by length"
    mean = dist.mean_length if dist.bins else None
    if mean is not None:
        head += f" (mean {mean:.2f} edges)"
    parts: list[RenderableType] = [Text(head, style="bold")]
    if not dist.bins:
        parts.append(Text(f"{count(dist.total)} paths; {dist.note}" if dist.note and dist.total
                          else "no paths", style="yellow"))
        return Group(*parts)
    values = dist.source is not None and any(b.value is not None for b in dist.bins)
    if values:
        parts.append(Text(f"value: Σ over the paths of that length; share: of "
                          f"∂{dist.target}/∂{dist.source}", style="dim"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("length", justify="right", no_wrap=True)
    table.add_column("paths", justify="right", no_wrap=True)
    table.add_column("% of paths", justify="left", no_wrap=True)
    if values:
        table.add_column("value", justify="right", no_wrap=True)
        table.add_column("share", justify="right", no_wrap=True)
    top = max(b.paths for b in dist.bins)
    for b in dist.bins:
        cells = round(BAR_WIDTH * b.paths / top)
        bar = "█" * cells if cells else ("▏" if b.paths else "")
        row = [str(b.length), count(b.paths), f"{bar} {fraction(b.paths / dist.total)}"]
        if values:
            row += [number(b.value, digits), percent(b.share)]
        table.add_row(*row)
    parts.append(table)
    if dist.note:
        parts.append(Text(f"values: — ({dist.note})", style="yellow"))
    return Group(*parts)
