"""Terminal renderings for nets past listing: `explain --top K` and path-length distributions."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analyses.toppaths import TopPaths
from .formats import Options, count, fraction, number, percent
from .lengths_table import path_lengths
from .readable import Readable, readable
from .table import PathTable, title

__all__ = ["top_paths", "path_lengths"]


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
