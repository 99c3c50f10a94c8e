"""`pathgrad backprop` in the terminal: one row per δ (or tangent), then the sum-over-paths line
and what each way of adding up the paths costs."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analyses.backprop import Backprop, Step
from .formats import DEFAULT_DIGITS, clip, count, number, times
from .notation import Notation
from .readable import tidy

__all__ = ["backprop", "formula", "quantity", "ordered_steps", "MAX_ROW_CHARS", "MAX_ROWS"]

MAX_ROW_CHARS = 400  # a δ with many children is cut in the table; --format json has it all
MAX_ROWS = 400  # a longer table keeps its first and last 200 rows (30,000 would take a minute)


def quantity(bp: Backprop, node: str) -> str:
    """What a row computes: δ_v = ∂loss/∂v (reverse), or the tangent ∂v/∂weight (forward),
    written out: a dotted letter (ṫ) means nothing to a reader who has not seen it."""
    return f"δ_{node}" if bp.mode == "reverse" else f"∂{node}/∂{bp.weight}"


def ordered_steps(bp: Backprop) -> list[Step]:
    """The rows in an order they can be computed in, nearest the loss (reverse) or the
    weight (forward) first, and names of one layer in the spec's order (δ_a11 before δ_a12)."""
    declared = {n: i for i, n in enumerate(bp.spec.names)}
    level: dict[str, int] = {}
    for step in bp.steps:  # computed order: every term's name comes earlier
        level[step.node] = 1 + max((level[t.other] for t in step.terms), default=-1)
    return sorted(bp.steps, key=lambda st: (level[st.node], declared.get(st.node, 0)))


def formula(bp: Backprop, step: Step, note: Notation | None = None) -> str:
    """δ_v = δ_c1 · ∂c1/∂v + … (reverse) or ∂v/∂w = ∂v/∂u1 · ∂u1/∂w + … (forward), in names."""
    note = note or Notation(bp.spec)
    q = quantity(bp, step.node)
    if not step.terms:
        seed = f"   (∂{bp.loss}/∂{bp.loss})" if bp.mode == "reverse" else ""
        return f"{q} = 1{seed}"
    parts = []
    for t in step.terms:
        factor = note.factor(tidy(t.factor)) if t.factor is not None else \
            f"∂{_edge(bp, step, t.other)}"
        other = quantity(bp, t.other)
        if factor == "1":
            parts.append(other)
        elif bp.mode == "reverse":
            parts.append(f"{other} · {factor}")
        else:
            parts.append(f"{factor} · {other}")
    return f"{q} = " + " + ".join(parts)


def _edge(bp: Backprop, step: Step, other: str) -> str:
    return f"{other}/∂{step.node}" if bp.mode == "reverse" else f"{step.node}/∂{other}"


def backprop(bp: Backprop, digits: int = DEFAULT_DIGITS) -> RenderableType:
    """The table, the line δ_weight = Σ over paths, and the cost comparison."""
    note = Notation(bp.spec)
    reverse = bp.mode == "reverse"
    what = "Reverse mode (backprop)" if reverse else "Forward mode"
    title = Text(f"{what} for ∂{bp.loss}/∂{bp.weight}", style="bold")
    if bp.spec.name:
        title.append(f" — {bp.spec.name}")
    title.append(f"  ({bp.spec.source})", style="dim")
    parts: list[RenderableType] = [title]
    if reverse:
        parts.append(Text(f"δ_v = ∂{bp.loss}/∂v, from the loss back to {bp.weight}: each δ adds "
                          "up its children's δ times the local partial.", style="dim"))
    else:
        parts.append(Text(f"∂v/∂{bp.weight} for each v, from {bp.weight} forward to {bp.loss} "
                          "(the tangents): each adds up its parents' tangents times the local "
                          "partial.", style="dim"))
    if not bp.steps:
        parts.append(Text(f"{bp.loss} does not depend on {bp.weight}: ∂{bp.loss}/∂{bp.weight} "
                          "= 0.", style="yellow"))
        return Group(*parts)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column(f"{'δ' if reverse else 'tangent'} (in node names)")
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column(f"paths {'to ' + bp.loss if reverse else 'from ' + bp.weight}",
                     justify="right", no_wrap=True)
    steps = ordered_steps(bp)
    cut = len(steps) > MAX_ROWS  # the ends are kept: nearest the loss and nearest the weight
    for i, step in enumerate(steps, 1):
        if cut and MAX_ROWS // 2 < i <= len(steps) - MAX_ROWS // 2:
            if i == MAX_ROWS // 2 + 1:
                table.add_row("⋮", Text(f"{len(steps) - MAX_ROWS:,} more rows; --format json "
                                        "lists every one", style="dim"), "", "")
            continue
        value = Text(number(step.value, digits)) if step.value is not None else Text(
            step.note or "—", style="yellow")
        table.add_row(str(i), Text(clip(formula(bp, step, note), MAX_ROW_CHARS)), value,
                      count(step.paths))
    parts.append(table)
    parts.append(_summary(bp, digits))
    return Group(*parts)


def _summary(bp: Backprop, digits: int = DEFAULT_DIGITS) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    end = f"δ_{bp.weight} = " if bp.mode == "reverse" else ""
    n = bp.path_count
    grid.add_row("result", Text(f"{end}∂{bp.loss}/∂{bp.weight} = {number(bp.value, digits)}"
                                + (f"  ({bp.note})" if bp.note else "")))
    if bp.listed:
        ok = bp.agrees
        mark = Text("✓ equal" if ok else ("✗ DIFFERENT" if ok is False else "—"),
                    style="bold green" if ok else "bold red")
        line = Text(f"= Σ over all {n:,} path{'s' if n != 1 else ''}, listed one by one: "
                    f"{number(bp.path_sum, digits)}  ")
        line.append_text(mark)
        grid.add_row("sum over paths", line)
    else:
        exactly = f" (exactly {n:,})" if count(n) != f"{n:,}" and n < 10**40 else ""
        result = f"δ_{bp.weight}" if bp.mode == "reverse" else f"∂{bp.loss}/∂{bp.weight}"
        grid.add_row("sum over paths", Text(f"{result} stands for all {count(n)} paths{exactly}; "
                     "too many to list and add one by one"))
    way = "reverse mode" if bp.mode == "reverse" else "forward mode"
    grid.add_row("cost", Text(f"{way}: {_ops(bp.multiplications, bp.additions)} "
                              "(each edge once)"))
    # exact integer ratio first: listing 2^10000 paths is beyond a float's range
    ratio = (bp.listing_multiplications // bp.multiplications) if bp.multiplications else None
    if ratio is not None and ratio < 10**15:
        ratio = bp.listing_multiplications / bp.multiplications
    more = f" — {times(ratio)} the multiplications" if ratio and ratio > 1 else ""
    grid.add_row("", Text(f"listing every path: "
                          f"{_ops(bp.listing_multiplications, bp.listing_additions)}{more}"))
    return grid


def _ops(mults: int, adds: int) -> str:
    return (f"{count(mults)} multiplication{'s' if mults != 1 else ''} + "
            f"{count(adds)} addition{'s' if adds != 1 else ''}")
