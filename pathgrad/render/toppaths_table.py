"""Terminal renderings for nets past listing: `explain --top K` and path-length distributions."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analyses.lengths import LengthDistribution
from ..analyses.toppaths import TopPaths
from .backprop_table import big
from .table import PathTable, number, percent

__all__ = ["top_paths", "path_lengths", "BAR_WIDTH"]

BAR_WIDTH = 12


def top_paths(tp: TopPaths) -> RenderableType:
    """The K largest paths as explain lists paths, then how much of the gradient they carry."""
    n = tp.path_count
    shown = len(tp.paths)
    title = Text(f"∂{tp.loss}/∂{tp.weight}: the {shown:,} largest of {n:,} "
                 f"path{'s' if n != 1 else ''} from {tp.weight} to {tp.loss}", style="bold")
    if tp.spec.name:
        title.append(f" — {tp.spec.name}")
    title.append(f"  ({tp.spec.source})", style="dim")
    parts: list[RenderableType] = [title]
    if tp.paths:
        parts.append(Text("ranked by |value| at the spec's point, found without listing the "
                          "others (K shortest paths on −log|local partial|)", style="dim"))
        parts.append(PathTable(tp))  # type: ignore[arg-type] - needs only .spec and .paths
    else:
        parts.append(Text(f"no path from {tp.weight} to {tp.loss} has a nonzero value here"
                          if n else f"{tp.loss} does not depend on {tp.weight}: no paths",
                          style="yellow"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    found = shown - tp.zero_filled
    grid.add_row(f"top {found:,}", f"add up to {number(tp.covered)} = {percent(tp.share)} of "
                 f"∂{tp.loss}/∂{tp.weight}")
    if tp.mass_share is not None:
        grid.add_row("", f"and carry {_pct(tp.mass_share)} of Σ|value| over all {big(n)} paths "
                     "(signed shares can pass 100% when paths cancel)")
    grid.add_row(f"∂{tp.loss}/∂{tp.weight}", f"{number(tp.value)}  ({tp.method})")
    if tp.nonzero_count < n:
        zero = n - tp.nonzero_count
        grid.add_row("", Text(f"{big(zero)} of the {big(n)} paths are 0 at this point "
                              "(a local partial is 0 on them)", style="dim"))
    if found < tp.k and not tp.zero_filled:
        grid.add_row("", Text(f"only {found:,} path{'s' if found != 1 else ''} "
                              f"{'have' if found != 1 else 'has'} a nonzero value; "
                              f"asked for {tp.k:,}", style="yellow"))
    parts.append(grid)
    return Group(*parts)


def _pct(x: float) -> str:
    if x == 0 or x >= 0.001:
        return f"{100 * x:.1f}%"
    return f"{100 * x:.2g}%".replace("e-0", "e-")


def path_lengths(dist: LengthDistribution) -> RenderableType:
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
        row = [str(b.length), big(b.paths), f"{bar} {_pct(b.paths / dist.total)}"]
        if values:
            row += [number(b.value, 6), percent(b.share)]
        table.add_row(*row)
    parts.append(table)
    if dist.note:
        parts.append(Text(f"values: — ({dist.note})", style="yellow"))
    return Group(*parts)
