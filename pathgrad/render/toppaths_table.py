"""Terminal renderings for nets past listing: `explain --top K` and path-length distributions."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analyses.lengths import LengthDistribution
from ..analyses.toppaths import TopPaths
from .formats import DEFAULT_DIGITS, Options, count, fraction, number, percent
from .readable import Readable, readable
from .table import PathTable, title

__all__ = ["top_paths", "path_lengths", "BAR_WIDTH"]

BAR_WIDTH = 12


def top_paths(tp: TopPaths, options: Options | None = None) -> RenderableType:
    """The K largest paths as explain lists paths, then how much of the gradient they carry."""
    opts = options or Options()
    digits = opts.digits
    n = tp.path_count
    shown = len(tp.paths)
    parts: list[RenderableType] = [title(tp.spec, f"∂{tp.loss}/∂{tp.weight}: the {shown:,} "
                                         f"largest of {count(n)} path{'s' if n != 1 else ''} "
                                         f"from {tp.weight} to {tp.loss}")]
    if tp.paths:
        parts.append(Text("ranked by |value| at the spec's point, found without listing the "
                          "others (K shortest paths on −log|local partial|)", style="dim"))
        read = readable(tp) if opts.simplify else Readable()
        parts.append(PathTable(tp, opts, read))  # type: ignore[arg-type] - .spec, .paths
    else:
        parts.append(Text(f"no path from {tp.weight} to {tp.loss} has a nonzero value here"
                          if n else f"{tp.loss} does not depend on {tp.weight}: no paths",
                          style="yellow"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    found = shown - tp.zero_filled
    grid.add_row(f"top {found:,}", Text(f"add up to {number(tp.covered, digits)} = "
                                        f"{percent(tp.share)} of ∂{tp.loss}/∂{tp.weight}"))
    if tp.mass_share is not None:
        grid.add_row("", Text(f"and carry {fraction(tp.mass_share)} of Σ|value| over all "
                              f"{count(n)} paths (signed shares can pass 100% when paths "
                              "cancel)"))
    grid.add_row(Text(f"∂{tp.loss}/∂{tp.weight}"),
                 Text(f"{number(tp.value, digits)}  ({tp.method})"))
    if tp.nonzero_count < n:
        zero = n - tp.nonzero_count
        grid.add_row("", Text(f"{count(zero)} of the {count(n)} paths are 0 at this point "
                              "(a local partial is 0 on them)", style="dim"))
    if found < tp.k and not tp.zero_filled:
        grid.add_row("", Text(f"only {found:,} path{'s' if found != 1 else ''} "
                              f"{'have' if found != 1 else 'has'} a nonzero value; "
                              f"asked for {tp.k:,}", style="yellow"))
    parts.append(grid)
    return Group(*parts)


def path_lengths(dist: LengthDistribution, digits: int = DEFAULT_DIGITS) -> RenderableType:
    """How many paths have each length, and (for one weight) how much of the gradient."""
    if dist.source is not None:
        head = f"paths from {dist.source} to {dist.target} by length"
    else:
        head = f"paths from every {dist.sources_kind} to {dist.target} by length"
    mean = dist.mean_length
    if mean is not None:
        head += f" (mean {mean:.2f} edges)"
    parts: list[RenderableType] = [Text(head, style="bold")]
    if not dist.bins:
        parts.append(Text("no paths", style="yellow"))
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
