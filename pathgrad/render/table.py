"""The terminal rendering (rich) of `explain`: one row per path, the sum, the direct
derivative, the verdict and the values at the point.

Every piece of text from a spec or from the maths goes into a `rich.text.Text`, never through
rich's markup parser: relu′ is written [z1 > 0], which markup would swallow as a style tag.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.columns import Columns
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from ..analyses.explanation import Explanation, PathTerm
from ..calculus import tree_size
from ..spec import Spec
from . import formats, wording
from .formats import Options
from .notation import Notation
from .readable import Readable, readable

__all__ = ["explanation", "path_sum", "names_on_paths", "PathTable", "group_of",
           "grouped_paths", "title", "point_values", "chain_numbers", "DIRECT_TREE_LIMIT",
           "MAX_POINT_NAMES"]

DIRECT_TREE_LIMIT = 400  # a longer direct derivative is described, not printed
MAX_POINT_NAMES = 60  # more names than this: only those on the listed paths get a value


def title(spec: Spec, what: str) -> Text:
    """A bold headline, the spec's name and where it came from."""
    out = Text(what, style="bold")
    if spec.name:
        out.append(f" — {spec.name}", style="")
    out.append(f"  ({spec.source})", style="dim")
    return out


def chain_numbers(p: PathTerm, edge_values: dict[tuple[str, str], float | None],
                  digits: int, style: str = "text") -> list[str] | None:
    """The values of a path's local partials in chain order (loss side first), or None when
    one is undefined at the point."""
    nums = [edge_values.get((u, v)) for v, u, _ in p.factors_loss_first()]
    if any(x is None for x in nums):
        return None
    return [formats.factor(x, digits, style) for x in nums]


def _edge_values(ex: Explanation, paths: tuple[PathTerm, ...]
                 ) -> dict[tuple[str, str], float | None]:
    from .numbers import edge_values

    edges = {(u, v) for p in paths for u, v in zip(p.nodes, p.nodes[1:])}
    return edge_values(ex.spec, ex.values, sorted(edges))


def explanation(ex: Explanation, options: Options | None = None) -> RenderableType:
    """The derivation: one row per path, then the sum, the direct derivative, the verdict
    and every name's value at the point."""
    opts = options or Options()
    note = Notation(ex.spec)
    read = readable(ex) if opts.simplify else Readable()
    w, loss = ex.weight, ex.loss
    n = ex.path_count
    parts: list[RenderableType] = [
        title(ex.spec, f"∂{loss}/∂{w}: {n:,} path{'s' if n != 1 else ''} from {w} to {loss}")]
    if ex.spec.description:
        parts.append(Text(ex.spec.description, style="italic"))
    if ex.paths:
        parts.append(PathTable(ex, opts, read))
    else:
        parts.append(Text(f"{loss} does not depend on {w}: there are no paths, so "
                          f"∂{loss}/∂{w} = 0.", style="yellow"))
    parts.append(Text(""))
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column(overflow="fold")  # a long product wraps, never ends in …
    summary.add_row("sum over paths", Text(formats.clip(f"∂{loss}/∂{w} = "
                                                      f"{path_sum(ex, note, read)}")))
    summary.add_row("direct", _direct(ex, note, read))
    value = Text(formats.number(ex.value, opts.digits)) if ex.value is not None else Text(
        f"— ({ex.value_note})" if ex.value_note else "—", style="yellow")
    summary.add_row("value", value)
    v = ex.verification
    if v.verified:
        other = "direct derivative" if ex.direct_computed else "finite differences"
        summary.add_row(Text("✓ verified", style="bold green"),
                        Text(f"sum over paths = {other}: "
                             + wording.verdict(v, ex.direct_computed)))
    else:
        summary.add_row(Text("✗ NOT VERIFIED", style="bold red"), Text(v.detail, style="red"))
    parts.append(summary)
    values = point_values(ex, opts.digits)
    if values is not None:
        parts += [Text(""), values]
    return Group(*parts)


def path_sum(ex: Explanation, note: Notation, read: Readable) -> str:
    """The sum over paths as text, one term per path (sympy's Add would merge and reorder
    them: (a3 − y) + … would read a3 + … − y)."""
    if not ex.paths:
        return note.pretty(ex.sum)
    out = ""
    for p in ex.paths:
        term = note.pretty(read.term(p.factors))
        if not out:
            out = term
        elif term.startswith("−"):
            out += " − " + term[1:]
        else:
            out += " + " + term
    return out


def _direct(ex: Explanation, note: Notation, read: Readable) -> Text:
    if not ex.direct_computed:
        return Text(ex.direct_note, style="yellow")
    if read.direct is not None:
        return Text(formats.clip(f"{ex.direct_label}, simplified (proved "
                                 f"equal) = {note.pretty(read.direct)}"))
    if tree_size(ex.direct_names, DIRECT_TREE_LIMIT) > DIRECT_TREE_LIMIT:
        return Text(f"{ex.direct_label} is too long to read here; "
                    "--format json has it (\"direct\")", style="yellow")
    out = Text(formats.clip(f"{ex.direct_label} = "
                            f"{note.pretty(ex.direct_names)}"))
    if ex.direct_names != ex.direct:
        out.append("\n(written in node names; --format json has it in leaves)", style="dim")
    if read.note and "time" in read.note:
        out.append(f"\n(as sympy wrote it: {read.note})", style="dim")
    return out


def point_values(ex: Explanation, digits: int = formats.DEFAULT_DIGITS
                 ) -> RenderableType | None:
    """Every name's value at the point — the leaves, then the forward pass through the
    nodes — so each local partial can be checked by hand."""
    spec = ex.spec
    names = [*ex.values, *[n for n in spec.graph.order if n in spec.nodes]]
    head = "values at the point (leaves, then the nodes in the order they are computed)"
    if len(names) > MAX_POINT_NAMES:
        on_paths = names_on_paths(ex)
        names = [n for n in names if n in on_paths]
        head = "values at the point of the names on the paths (--format json has every name)"
        if not names or len(names) > MAX_POINT_NAMES * 4:
            return None
    items = []
    for name in names:
        if name in ex.values:
            v = ex.values[name]
            val = formats.number(float(v), digits) if v is not None else "—"
        else:
            val = formats.number(ex.node_values.get(name), digits)
        items.append(Text(f"{name} = {val}"))
    return Group(Text(head, style="bold"), Columns(items, padding=(0, 3)))


def names_on_paths(ex: Explanation) -> set[str]:
    """The names a reader needs for the listed paths: their nodes and every name their
    local partials use (the point's values of a big net, cut down to these)."""
    out = {x for p in ex.paths for x in p.nodes}
    for f in {f for p in ex.paths for f in p.factors}:
        out.update(s.name for s in f.free_symbols)
    return out


def group_of(ex: Explanation, nodes: tuple[str, ...]) -> str | None:
    """The group a path belongs to (an RNN step, a batch example): set by the builders."""
    groups = ex.spec.meta.get("groups") or {}
    return groups.get(nodes[1]) if len(nodes) > 1 else None


def grouped_paths(ex: Explanation) -> list[tuple[int, PathTerm, str | None]]:
    """(number, path, header) with the paths of one group (RNN step, batch example) together in
    order of first appearance; header is the group's label on its first row, else None."""
    rows = [(i, p, group_of(ex, p.nodes)) for i, p in enumerate(ex.paths, 1)]
    firsts: dict[str | None, int] = {}
    for k, (_, _, g) in enumerate(rows):
        firsts.setdefault(g, k)
    if list(firsts) == [None]:
        return [(i, p, None) for i, p, _ in rows]
    rows.sort(key=lambda r: firsts[r[2]])
    label = ex.spec.meta.get("group_title", "group")
    out: list[tuple[int, PathTerm, str | None]] = []
    seen: set[str | None] = set()
    for i, p, g in rows:
        header = None if g in seen else (g if g is not None else f"(no {label})")
        seen.add(g)
        out.append((i, p, header))
    return out


LONG_PATH = 40  # a path with more names than this is shown by its first and last ones
_HEAD, _TAIL = 16, 8


def _ends(items: Any, sep: str | None = None, total: int | None = None) -> Any:
    """The first and last items of a long list; with `sep`, joined with the count of the
    elided middle ('a1 → … 9,976 more … → E'). `total`: the length of the full list."""
    n = len(items) if total is None else total
    if n <= LONG_PATH:
        return items if sep is None else sep.join(items)
    if sep is None:
        return [*items[:_HEAD], *items[-_TAIL:]]
    return (sep.join(items[:_HEAD]) + f"{sep}… {n - _HEAD - _TAIL:,} more …{sep}"
            + sep.join(items[-_TAIL:]))


class PathTable:
    """One row per path; wide terminals get a column each for path, chain and partials,
    narrow ones get them stacked in one cell so nothing is chopped mid-symbol. Numbers are
    never cut: their columns are as wide as their widest value."""

    def __init__(self, ex: Explanation, options: Options | None = None,
                 read: Readable | None = None) -> None:
        opts = options or Options()
        note = Notation(ex.spec)
        read = read if read is not None else (readable(ex) if opts.simplify else Readable())
        values = _edge_values(ex, ex.paths) if opts.numbers else {}
        self.rows = []
        for i, p, header in grouped_paths(ex):
            chain = p.factors_loss_first()
            # a path through 10,000 residual blocks is shown by its ends, and only those are
            # printed: the middle is the same few steps again
            partials = _ends([note.factor(read.factor(f)) for _, _, f in _ends(chain)],
                             " · ", len(chain))
            value = formats.number(p.value, opts.digits) if p.value is not None else (
                p.note or "—")
            share = formats.percent(p.share)
            nums = None
            if opts.numbers:
                steps = chain_numbers(p, values, opts.digits)
                nums = ("= " + _ends(_ends(steps), " · ", len(steps)) + f" = {value}") \
                    if steps else "(a local partial is undefined here)"
            leibniz = [f"∂{v}/∂{u}" for v, u, _ in _ends(chain)]
            self.rows.append((str(i), _ends(_ends(list(p.nodes)), " → ", len(p.nodes)),
                              _ends(leibniz, " · ", len(chain)), partials, value, share,
                              header, nums, p.value is None, (p.share or 0) < 0))

    HEADERS = ("#", "path", "chain (loss side first)", "local partials", "value", "share")

    def wide_width(self) -> int:
        cols = [max(len(h), *(len(r[c]) for r in self.rows)) for c, h in enumerate(self.HEADERS)]
        if any(r[7] for r in self.rows):
            cols[3] = max(cols[3], max(len(r[7] or "") for r in self.rows))
        return sum(cols) + 2 * 5

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = self.wide_width() <= options.max_width
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("#", justify="right", style="dim", no_wrap=True)
        if wide:
            table.add_column(self.HEADERS[1], no_wrap=True)
            table.add_column(self.HEADERS[2], no_wrap=True)
            table.add_column(self.HEADERS[3], overflow="fold")
        else:
            table.add_column("path · chain (loss side first) · local partials", overflow="fold")
        # numbers are never cut: their columns are as wide as the widest one
        width = max(len(r[4]) for r in self.rows)
        table.add_column("value", justify="right", no_wrap=True,
                         min_width=min(width, 40), overflow="fold")
        table.add_column("share", justify="right", no_wrap=True,
                         min_width=max(len(r[5]) for r in self.rows))
        for i, path, chain, partials, value, share, header, nums, undefined, neg in self.rows:
            if header is not None:
                table.add_row("", Text(header, style="bold"), *[""] * (5 if wide else 3))
            shown = Text(value, style="yellow" if undefined else "")
            mark = Text(share, style="red" if neg else "")
            if wide:
                table.add_row(i, Text(path), Text(chain), Text(partials), shown, mark)
                if nums:
                    table.add_row("", "", "", Text(nums, style="cyan"), "", "")
            else:
                cell = Text(f"{path}\n{chain}\n= {partials}")
                if nums:
                    cell.append(f"\n{nums}", style="cyan")
                table.add_row(i, cell, shown, mark)
        yield table
