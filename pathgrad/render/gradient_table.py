"""`pathgrad gradient` in the terminal: every param's ∂loss/∂p (grouped like `show`), the
verdict, and the gradient-descent steps with the loss before and after each."""

from __future__ import annotations

from dataclasses import dataclass

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from ..analyses.gradient import Gradient
from .formats import count as big
from .formats import number as _number
from .overview import MAX_ROWS, pattern_of

__all__ = ["gradient", "number", "param_groups", "missing_notes", "is_grouped", "ParamGroup",
           "span", "count_span", "MAX_STEP_COLUMNS", "MAX_STEP_ROWS", "DIGITS"]

DIGITS = 9  # as Mazur's worked example prints its numbers: 0.358916480

MAX_STEP_COLUMNS = 6  # more steps than this: the first ones and the last (JSON has all)
MAX_STEP_ROWS = 60  # more updated params than this: only the loss per step


def number(x: float | None, digits: int = DIGITS) -> str:
    """A value to 9 significant digits (formats.number)."""
    return _number(x, digits)


def _title(gr: Gradient) -> Text:
    spec = gr.spec
    title = Text(f"∂{gr.loss}/∂p for every param p", style="bold")
    if spec.name:
        title.append(f" — {spec.name}")
    title.append(f"  ({spec.source})", style="dim")
    return title


def _value(x: float | None, note: str | None = None) -> Text | str:
    return number(x) if x is not None else Text(note or "—", style="yellow")


def gradient(gr: Gradient) -> RenderableType:
    """The gradient table, the verdict, and the steps (with --lr)."""
    spec = gr.spec
    parts: list[RenderableType] = [_title(gr)]
    n = len(spec.params)
    parts.append(Text(
        f"{gr.loss} = {number(gr.value)} at the point. Reverse mode: one sweep from {gr.loss} "
        f"back to all {n:,} param{'s' * (n != 1)} (δ_v = Σ over v's children c of δ_c·∂c/∂v), "
        "each δ the sum over every path from v.", style="dim"))
    parts.append(_grouped(gr) if is_grouped(gr) else _flat(gr))
    parts.append(_verdict(gr))
    if gr.steps:
        parts.append(Text(""))
        parts.append(_Steps(gr))
    return Group(*parts)


def _flat(gr: Gradient) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("param")
    table.add_column("value", justify="right")
    table.add_column(f"∂{gr.loss}/∂param", justify="right")
    table.add_column(f"paths to {gr.loss}", justify="right")
    last = None
    for p in gr.spec.params:
        pattern = pattern_of(p)
        if last is not None and pattern != last:
            table.add_section()  # one block per name pattern: w1_*_*, b1, w2_*_* …
        last = pattern
        v = gr.values.get(p)
        table.add_row(p, number(float(v)) if v is not None else "—",
                      _value(gr.gradient.get(p), gr.notes.get(p)), big(gr.paths.get(p, 0)))
    return table


@dataclass(frozen=True)
class ParamGroup:
    """The params of one name pattern (w1_*_*): how many, their gradients' range, the largest
    |∂loss/∂p| and its param, their path counts' range. Every format groups with these."""

    pattern: str  # the pattern, or the one name
    count: int
    low: float | None  # None: no entry has a value
    high: float | None
    top: str | None  # the param with the largest |∂loss/∂p|
    top_value: float | None
    paths_low: int
    paths_high: int
    missing: int = 0  # entries with no value (undefined, or beyond or below a float)
    why: str | None = None  # the first such entry's param and reason: 'w1_3_1: too small …'


def is_grouped(gr: Gradient) -> bool:
    """As `show`: a spec with more names than overview.MAX_ROWS gets a row per name pattern."""
    spec = gr.spec
    return len(spec.inputs) + len(spec.params) + len(spec.nodes) > MAX_ROWS


def param_groups(gr: Gradient) -> list[ParamGroup]:
    """The params grouped by name pattern, in declaration order."""
    groups: dict[str, list[str]] = {}
    for p in gr.spec.params:
        groups.setdefault(pattern_of(p), []).append(p)
    out = []
    for pattern, names in groups.items():
        vals = [gr.gradient[p] for p in names if gr.gradient.get(p) is not None]
        top = max(names, key=lambda p: abs(gr.gradient.get(p) or 0.0)) if vals else None
        counts = [gr.paths.get(p, 0) for p in names]
        without = [p for p in names if gr.gradient.get(p) is None]
        why = f"{without[0]}: {gr.notes.get(without[0], 'no value')}" if without else None
        out.append(ParamGroup(names[0] if len(names) == 1 else pattern, len(names),
                              min(vals) if vals else None, max(vals) if vals else None, top,
                              abs(gr.gradient[top] or 0.0) if top else None, min(counts),
                              max(counts), len(without), why))
    return out


def missing_notes(groups: list[ParamGroup]) -> list[str]:
    """One line for each group with entries that have no value, which its row's range leaves
    out (or shows as —): how many, and the first one's reason, as the JSON's notes give it."""
    return [f"{g.pattern}: {g.missing:,} of {g.count:,} with no value ({g.why})"
            if g.count > 1 else str(g.why) for g in groups if g.missing]  # one: 'w: too small …'


def span(lo: float | None, hi: float | None, digits: int = 4) -> str:
    """'lo … hi' (or one number) as text."""
    if lo is None or hi is None:
        return "—"
    return number(lo, digits) if lo == hi else f"{number(lo, digits)} … {number(hi, digits)}"


def count_span(lo: int, hi: int) -> str:
    return big(lo) if lo == hi else f"{big(lo)} … {big(hi)}"


GROUPED_NOTE = "params grouped by name pattern (* stands for an index); --format json lists " \
    "every one"


def _grouped(gr: Gradient) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("params")
    table.add_column("how many", justify="right")
    table.add_column(f"∂{gr.loss}/∂p from … to", justify="right")
    table.add_column("largest |∂E/∂p|".replace("E", gr.loss), justify="right")
    table.add_column(f"paths to {gr.loss}", justify="right")
    groups = param_groups(gr)
    for g in groups:
        largest = "—" if g.top is None else f"{number(g.top_value, 4)} ({g.top})"
        table.add_row(g.pattern, f"{g.count:,}", span(g.low, g.high), largest,
                      count_span(g.paths_low, g.paths_high))
    note = Text(f"{len(gr.spec.params):,} {GROUPED_NOTE}", style="dim")
    return Group(note, table, *(Text(line, style="yellow") for line in missing_notes(groups)))


def _verdict(gr: Gradient) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column()
    grid.add_column()
    v = gr.verification
    bad = next((s.verification for s in gr.steps if not s.verification.verified), None)
    if v.verified and bad is None:
        extra = f"; so at each of the {len(gr.steps)} steps" if len(gr.steps) > 1 else ""
        grid.add_row(Text("✓ verified", style="bold green"), Text(v.detail + extra))
    else:
        grid.add_row(Text("✗ NOT VERIFIED", style="bold red"),
                     Text((bad or v).detail if v.verified else v.detail, style="red"))
    return grid


def _shown_steps(count: int, most: int = MAX_STEP_COLUMNS) -> list[int]:
    """The steps that get a column: all when they fit, else the first ones and the last."""
    most = max(most, 1)
    if count <= most:
        return list(range(count))
    return [*range(most - 1), count - 1]


STEP_COLUMN_CHARS = 15  # "after step 12" or −0.123456789, and the gap between columns


class _Steps:
    """The steps table, with as many step columns as the terminal has room for."""

    def __init__(self, gr: Gradient) -> None:
        self.gr = gr

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        gr = self.gr
        names = max([len(p) for p in gr.update[:MAX_STEP_ROWS]] + [len(f"loss {gr.loss}")])
        room = (options.max_width - names - 2 * STEP_COLUMN_CHARS) // STEP_COLUMN_CHARS
        yield from _steps(gr, max(1, min(MAX_STEP_COLUMNS, room)))


def _steps(gr: Gradient, most: int) -> list[RenderableType]:
    first = gr.steps[0]
    k = len(gr.steps)
    n = len(gr.update)
    head = Text(f"Gradient descent: p ← p − η·∂{gr.loss}/∂p with η = {first.lr:g}, {k} "
                f"step{'s' * (k != 1)}, updating {n:,} param{'s' * (n != 1)}", style="bold")
    fixed = [p for p in gr.spec.params if p not in set(gr.update)]
    if fixed:
        head.append(f" (kept: {', '.join(fixed[:8])}{', …' if len(fixed) > 8 else ''})",
                    style="dim")
    shown = _shown_steps(k, most)
    gap = k > len(shown)  # a "…" column before the last step

    def cells(values: list[Text | str]) -> list[Text | str]:
        return [*values[:-1], "…", values[-1]] if gap else values

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("param")
    table.add_column("before", justify="right")
    table.add_column(f"∂{gr.loss}/∂p", justify="right")
    for title in cells([f"after step {i + 1}" for i in shown]):
        table.add_column(title, justify="right", no_wrap=True)
    if n <= MAX_STEP_ROWS:
        for p in gr.update:
            v = gr.values.get(p)
            table.add_row(p, number(float(v)) if v is not None else "—",
                          _value(first.gradient.get(p)),
                          *cells([number(gr.steps[i].params[p]) for i in shown]))
        table.add_section()
    table.add_row(Text(f"loss {gr.loss}", style="bold"), number(first.loss_before), "",
                  *cells([number(gr.steps[i].loss_after) for i in shown]))
    parts: list[RenderableType] = [head, table]
    if n > MAX_STEP_ROWS:
        parts.append(Text(f"{n:,} updated params: --format json has every new value",
                          style="dim"))
    if gap:
        left = f"{len(shown)}" if len(shown) == k - 1 else f"{len(shown)} … {k - 1}"
        parts.append(Text(f"step{'s' * (left != str(len(shown)))} {left} left out here; "
                          "--format json has every step", style="dim"))
    return parts
