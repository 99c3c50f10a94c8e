"""`pathgrad backprop` in the terminal: one row per δ (or tangent), then the sum-over-paths line
and what each way of adding up the paths costs."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analyses.backprop import Backprop, Step
from .notation import Notation
from .table import clip, number

__all__ = ["backprop", "formula", "big", "MAX_ROW_CHARS"]

MAX_ROW_CHARS = 400  # a δ with many children is cut in the table; --format json has it all


def big(n: int) -> str:
    """An exact count: with thousands separators up to 10^15, then as m·10^e (≈)."""
    if n < 10**15:
        return f"{n:,}"
    digits = str(n)
    return f"≈ {digits[0]}.{digits[1:3]}·10^{len(digits) - 1}"


def formula(bp: Backprop, step: Step, note: Notation | None = None) -> str:
    """δ_v = δ_c1 · ∂c1/∂v + … (reverse) or ṫ_v = ∂v/∂u1 · ṫ_u1 + … (forward), in names."""
    note = note or Notation(bp.spec)
    s = bp.symbol
    if not step.terms:
        seed = f"∂{bp.loss}/∂{bp.loss}" if bp.mode == "reverse" else f"∂{bp.weight}/∂{bp.weight}"
        return f"{s}_{step.node} = 1   ({seed})"
    parts = []
    for t in step.terms:
        factor = note.factor(t.factor) if t.factor is not None else f"∂{_edge(bp, step, t.other)}"
        if factor == "1":
            parts.append(f"{s}_{t.other}")
        elif bp.mode == "reverse":
            parts.append(f"{s}_{t.other} · {factor}")
        else:
            parts.append(f"{factor} · {s}_{t.other}")
    return f"{s}_{step.node} = " + " + ".join(parts)


def _edge(bp: Backprop, step: Step, other: str) -> str:
    return f"{other}/∂{step.node}" if bp.mode == "reverse" else f"{step.node}/∂{other}"


def backprop(bp: Backprop) -> RenderableType:
    """The table, the line δ_weight = Σ over paths, and the cost comparison."""
    note = Notation(bp.spec)
    reverse = bp.mode == "reverse"
    s = bp.symbol
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
        parts.append(Text(f"ṫ_v = ∂v/∂{bp.weight}, from {bp.weight} forward to {bp.loss}: each "
                          "tangent adds up its parents' tangents times the local partial.",
                          style="dim"))
    if not bp.steps:
        parts.append(Text(f"{bp.loss} does not depend on {bp.weight}: ∂{bp.loss}/∂{bp.weight} "
                          "= 0.", style="yellow"))
        return Group(*parts)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column(f"{s} (in node names)")
    table.add_column("value", justify="right")
    table.add_column(f"paths {'to ' + bp.loss if reverse else 'from ' + bp.weight}",
                     justify="right")
    for i, step in enumerate(bp.steps, 1):
        value: Text | str = number(step.value) if step.value is not None else Text(
            step.note or "—", style="yellow")
        table.add_row(str(i), clip(formula(bp, step, note), MAX_ROW_CHARS), value,
                      big(step.paths))
    parts.append(table)
    parts.append(_summary(bp))
    return Group(*parts)


def _summary(bp: Backprop) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    s = bp.symbol
    end = f"{s}_{bp.weight}" if bp.mode == "reverse" else f"{s}_{bp.loss}"
    n = bp.path_count
    grid.add_row("result", f"{end} = ∂{bp.loss}/∂{bp.weight} = {number(bp.value)}"
                 + (f"  ({bp.note})" if bp.note else ""))
    if bp.listed:
        ok = bp.agrees
        mark = Text("✓ equal" if ok else ("✗ DIFFERENT" if ok is False else "—"),
                    style="bold green" if ok else "bold red")
        line = Text(f"= Σ over all {n:,} path{'s' if n != 1 else ''}, listed one by one: "
                    f"{number(bp.path_sum)}  ")
        line.append_text(mark)
        grid.add_row("sum over paths", line)
    else:
        exactly = f" (exactly {n:,})" if big(n) != f"{n:,}" else ""
        grid.add_row("sum over paths", f"{end} stands for all {big(n)} paths{exactly}; "
                     "too many to list and add one by one")
    way = "reverse mode" if bp.mode == "reverse" else "forward mode"
    grid.add_row("cost", f"{way}: {_ops(bp.multiplications, bp.additions)} (each edge once)")
    ratio = (bp.listing_multiplications / bp.multiplications) if bp.multiplications else None
    more = f" — {_times(ratio)} the multiplications" if ratio and ratio > 1 else ""
    grid.add_row("", f"listing every path: "
                 f"{_ops(bp.listing_multiplications, bp.listing_additions)}{more}")
    return grid


def _ops(mults: int, adds: int) -> str:
    return (f"{big(mults)} multiplication{'s' if mults != 1 else ''} + "
            f"{big(adds)} addition{'s' if adds != 1 else ''}")


def _times(ratio: float) -> str:
    if ratio < 1e6:
        return f"{ratio:,.1f}×"
    mantissa, exponent = f"{ratio:.1e}".split("e")
    return f"{mantissa}·10^{int(exponent)}×"
