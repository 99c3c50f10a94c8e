"""Terminal renderings (rich): the derivation table of `explain`, the overview of `show`."""

from __future__ import annotations

import re

import sympy as sp
from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from ..analyses.explanation import Explanation, PathTerm
from ..spec import Spec
from .notation import Notation

__all__ = ["explanation", "spec_overview", "PathTable", "group_of", "grouped_paths", "number",
           "percent", "clip"]

MAX_EXPR_CHARS = 600  # a longer sum is cut in the table; JSON and LaTeX carry it whole


def number(x: float | None, digits: int = 9) -> str:
    """A value with `digits` significant digits and a real minus sign; '—' when unknown."""
    if x is None:
        return "—"
    text = f"{x:.{digits}g}"
    return "−" + text[1:] if text.startswith("-") else text


def percent(x: float | None) -> str:
    """A share of the total, signed so cancelling paths stand out."""
    if x is None:
        return "—"
    text = f"{100 * x:+.1f}%"
    return text.replace("-", "−")


def clip(text: str, limit: int = MAX_EXPR_CHARS) -> str:
    """`text`, cut at `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f" … ({len(text):,} characters; --format json has all)"


def _title(spec: Spec, what: str) -> Text:
    title = Text(what, style="bold")
    if spec.name:
        title.append(f" — {spec.name}", style="")
    title.append(f"  ({spec.source})", style="dim")
    return title


def explanation(ex: Explanation) -> RenderableType:
    """The derivation: one row per path, then the sum, the direct derivative, the verdict."""
    note = Notation(ex.spec)
    w, loss = ex.weight, ex.loss
    n = ex.path_count
    head = _title(ex.spec, f"∂{loss}/∂{w}: {n:,} path{'s' if n != 1 else ''} from {w} to {loss}")
    parts: list[RenderableType] = [head]
    if ex.spec.description:
        parts.append(Text(ex.spec.description, style="italic"))
    if ex.paths:
        parts.append(PathTable(ex))
    else:
        parts.append(Text(f"{loss} does not depend on {w}: there are no paths, so "
                          f"∂{loss}/∂{w} = 0.", style="yellow"))
    parts.append(Text(""))
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("sum over paths", clip(f"∂{loss}/∂{w} = {note.pretty(ex.sum)}"))
    if ex.direct_computed:
        summary.add_row("direct", clip(f"sympy.diff of the composed {loss} = "
                                       f"{note.pretty(ex.direct_names)}"))
    else:
        summary.add_row("direct", Text(ex.direct_note, style="yellow"))
    if ex.direct_computed and ex.direct_names != ex.direct \
            and sp.count_ops(ex.direct_names) < 40:
        summary.add_row("", Text("(written in node names; --format json has it in leaves)",
                                 style="dim"))
    value = number(ex.value) if ex.value is not None else Text(
        f"— ({ex.value_note})" if ex.value_note else "—", style="yellow")
    summary.add_row("value", value)
    v = ex.verification
    if v.verified:
        short = re.sub(r"^the sum over paths equals (the )?", "sum over paths = ", ex.verdict)
        summary.add_row(Text("✓ verified", style="bold green"), short)
    else:
        summary.add_row(Text("✗ NOT VERIFIED", style="bold red"), Text(v.detail, style="red"))
    parts.append(summary)
    return Group(*parts)


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
    title = ex.spec.meta.get("group_title", "group")
    out: list[tuple[int, PathTerm, str | None]] = []
    seen: set[str | None] = set()
    for i, p, g in rows:
        header = None if g in seen else (g if g is not None else f"(no {title})")
        seen.add(g)
        out.append((i, p, header))
    return out


class PathTable:
    """One row per path; wide terminals get a column each for path, chain and partials,
    narrow ones get them stacked in one cell so nothing is chopped mid-symbol."""

    def __init__(self, ex: Explanation) -> None:
        note = Notation(ex.spec)
        self.rows = []
        for i, p, header in grouped_paths(ex):
            partials = " · ".join(note.factor(f) for _, _, f in p.factors_loss_first())
            value: Text | str = number(p.value) if p.value is not None else Text(
                p.note or "—", "yellow")
            share = Text(percent(p.share), style="red" if (p.share or 0) < 0 else "")
            self.rows.append((str(i), " → ".join(p.nodes), p.chain, partials, value, share,
                              header))

    def wide_width(self) -> int:
        cols = [max(len(str(r[c])) for r in self.rows) for c in range(6)]
        return sum(cols) + 2 * 5

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = self.wide_width() <= options.max_width
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("#", justify="right", style="dim")
        if wide:
            table.add_column("path", no_wrap=True)
            table.add_column("chain (loss side first)", no_wrap=True)
            table.add_column("local partials")
        else:
            table.add_column("path · chain (loss side first) · local partials")
        table.add_column("value", justify="right")
        table.add_column("share", justify="right")
        for i, path, chain, partials, value, share, header in self.rows:
            if header is not None:
                table.add_row("", Text(header, style="bold"), *[""] * (5 if wide else 3))
            cells = [path, chain, partials] if wide else [f"{path}\n{chain}\n= {partials}"]
            table.add_row(i, *cells, value, share)
        yield table


def spec_overview(spec: Spec) -> RenderableType:
    """`pathgrad show`: leaves with values and path counts, nodes with expressions, the loss."""
    counts = spec.graph.path_counts(spec.loss)
    parts: list[RenderableType] = [_title(spec, f"network with loss {spec.loss}")]
    if spec.description:
        parts.append(Text(spec.description, style="italic"))
    for line in spec.meta.get("summary") or ():  # what a builder block made (pathgrad expand)
        parts.append(Text(line, style="dim"))
    initialized = set((spec.meta.get("init") or {}).get("initialized") or ())
    from . import overview  # imports this module: loaded here, not at the top

    if len(spec.inputs) + len(spec.params) + len(spec.nodes) > overview.MAX_ROWS:
        return Group(*parts, overview.grouped_overview(spec, counts))  # a row per name floods
    leaves = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    leaves.add_column("leaf")
    leaves.add_column("kind")
    leaves.add_column("value", justify="right")
    leaves.add_column(f"paths to {spec.loss}", justify="right")
    for kind, section in (("param", spec.params), ("input", spec.inputs)):
        for name, val in section.items():
            shown = number(float(val)) if val is not None else "—"
            if name in initialized:
                shown = f"{shown} (init)"
            leaves.add_row(name, kind, shown, f"{counts[name]:,}")
    nodes = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    nodes.add_column("node")
    nodes.add_column("expression")
    nodes.add_column(f"paths to {spec.loss}", justify="right")
    for name in spec.nodes:
        label = f"{name}  (loss)" if name == spec.loss else name
        nodes.add_row(label, clip(spec.text(name), 200), f"{counts[name]:,}")
    parts += [leaves, nodes]
    return Group(*parts)
