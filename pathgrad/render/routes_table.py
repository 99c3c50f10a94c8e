"""The route table of `show` and `explain` (rich): paths grouped by the state they carry
between steps (c only, h only, mixed, none), each route then by length, with the gradient
each carries. JSON: routes_json."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analyses.routes import RouteDistribution
from .formats import count, number, percent

__all__ = ["routes", "MAX_LENGTH_ROWS"]

MAX_LENGTH_ROWS = 24  # more rows than this: one row per route, no lengths


def routes(dist: RouteDistribution) -> RenderableType:
    """One bold row per route (paths, mean length, value, share), then a row per length."""
    head = Text(f"paths from {dist.source} to {dist.target} by route "
                "(which state each carries between steps)", style="bold")
    parts: list[RenderableType] = [head]
    for label, what in dist.labels:
        parts.append(Text(f"  {label}: {what}", style="dim"))
    if not dist.classes:
        parts.append(Text("no paths", style="yellow"))
        return Group(*parts)
    lengths = sum(len(c.bins) for c in dist.classes)
    per_length = lengths <= MAX_LENGTH_ROWS
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("route", no_wrap=True)
    table.add_column("length" if per_length else "mean length", justify="right", no_wrap=True)
    table.add_column("paths", justify="right", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    for c in dist.classes:
        one = len(c.bins) == 1
        length = (str(c.bins[0].length) if one else "") if per_length else f"{c.mean_length:.1f}"
        table.add_row(Text(c.title, style="bold"), length, count(c.paths), number(c.value),
                      _share(c.share), style="bold")
        if per_length and not one:
            for b in c.bins:
                table.add_row("", str(b.length), count(b.paths), number(b.value),
                              _share(b.share))
    parts.append(table)
    if dist.note:
        parts.append(Text(f"values: — ({dist.note})", style="yellow"))
    else:
        parts.append(Text(f"share: of ∂{dist.target}/∂{dist.source} = "
                          f"{number(dist.gradient)}; the routes add up to it", style="dim"))
    if not per_length:
        parts.append(Text(f"({lengths:,} route and length pairs; --format json has each)",
                          style="dim"))
    return Group(*parts)


def _share(x: float | None) -> Text:
    return Text(percent(x), style="red" if (x or 0) < 0 else "")
