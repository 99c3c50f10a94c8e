"""`pathgrad show`: leaves with values and path counts, nodes with expressions and their values
at the point (the forward pass), the loss. Big specs are grouped by name pattern instead.

A 50-layer MLP of width 64 has 200,000 weights; a row each is a flood nobody reads and takes
minutes to lay out. Names that differ only in their numbers (w12_3_4 → w12_*_*) form one row
with how many there are, the range of their values and of their path counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fractions import Fraction
from itertools import groupby, repeat
from operator import add, is_not, itemgetter, methodcaller, ne

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..spec import Spec
from .formats import clip, count, number

__all__ = ["spec_overview", "grouped_overview", "pattern_of", "MAX_ROWS"]

MAX_ROWS = 200  # specs with more names than this are shown grouped


def _title(spec: Spec, what: str) -> Text:
    out = Text(what, style="bold")
    if spec.name:
        out.append(f" — {spec.name}", style="")
    out.append(f"  ({spec.source})", style="dim")
    return out


def spec_overview(spec: Spec, digits: int | None = None) -> RenderableType:
    """`pathgrad show`: leaves with values and path counts, nodes with expressions and values
    at the point (computed forward from the leaves), the loss."""
    from .formats import DEFAULT_DIGITS

    digits = digits or DEFAULT_DIGITS
    counts = spec.graph.path_counts(spec.loss)
    parts: list[RenderableType] = [_title(spec, f"network with loss {spec.loss}")]
    if spec.description:
        parts.append(Text(spec.description, style="italic"))
    for line in spec.meta.get("summary") or ():  # what a builder block made (pathgrad expand)
        parts.append(Text(line, style="dim"))
    initialized = set((spec.meta.get("init") or {}).get("initialized") or ())
    if len(spec.inputs) + len(spec.params) + len(spec.nodes) > MAX_ROWS:
        return Group(*parts, grouped_overview(spec, counts))  # a row per name floods
    leaves = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    leaves.add_column("leaf")
    leaves.add_column("kind")
    leaves.add_column("value", justify="right", no_wrap=True)
    leaves.add_column(f"paths to {spec.loss}", justify="right", no_wrap=True)
    for kind, section in (("param", spec.params), ("input", spec.inputs)):
        for name, val in section.items():
            shown = number(float(val), digits) if val is not None else "—"
            if name in initialized:
                shown = f"{shown} (init)"
            leaves.add_row(Text(name), kind, shown, f"{counts[name]:,}")
    from .numbers import float_values

    values = float_values(spec, spec.values())
    nodes = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    nodes.add_column("node")
    nodes.add_column("expression")
    nodes.add_column("value", justify="right", no_wrap=True)
    nodes.add_column(f"paths to {spec.loss}", justify="right", no_wrap=True)
    for name in spec.nodes:
        label = f"{name}  (loss)" if name == spec.loss else name
        nodes.add_row(Text(label), Text(clip(spec.text(name), 200)),
                      number(values.get(name), digits), f"{counts[name]:,}")
    parts += [leaves, nodes]
    return Group(*parts)



def pattern_of(name: str) -> str:
    """The name with its index numbers starred, keeping a leading layer number: w12_3_4 →
    w12_*_*, a3_1 → a3_*, x1 → x*, E → E."""
    head, sep, rest = name.partition("_")
    if sep:
        if rest.replace("_", "").isdigit():  # the common case, without a regex
            return head + "_*" * (rest.count("_") + 1)
        return head + re.sub(r"\d+", "*", sep + rest)
    return re.sub(r"\d+$", "*", name)


_DIGITS = "0123456789"
_MARK = ("", "0")


def _grouped(names: list[str]) -> dict[str, list[str]]:
    """Names by pattern_of, in order of first appearance (each group in the names' order).

    pattern_of only asks whether a name's last run of digits is there, not what it is:
    w12_3_4 and w12_3_0 have one pattern. So names are keyed by that (in C, no call per
    name), consecutive equal keys taken as one run, and pattern_of is asked once per key.
    """
    stripped = list(map(methodcaller("rstrip", _DIGITS), names))
    ended = map(ne, map(len, names), map(len, stripped))  # had trailing digits
    keys = map(add, stripped, map(_MARK.__getitem__, ended))
    groups: dict[str, list[str]] = {}
    patterns: dict[str, str] = {}
    for key, run in groupby(zip(keys, names), key=itemgetter(0)):
        pattern = patterns.get(key)
        if pattern is None:
            pattern = patterns[key] = pattern_of(key)
        group = groups.get(pattern)
        if group is None:
            group = groups[pattern] = []
        group.extend(map(itemgetter(1), run))
    return groups


def _span(xs: list[int]) -> str:
    lo, hi = min(xs), max(xs)
    return count(lo) if lo == hi else f"{count(lo)} … {count(hi)}"


def _floats(vals: Iterable[Fraction | None]) -> dict[int, float]:
    """id → float of each distinct value object: an initializer's 200,000 values are a few
    thousand Fraction objects, each converted once (floats compare ~8× faster)."""
    distinct = dict(zip(map(id, vals), vals))
    return {i: float(v) for i, v in distinct.items() if v is not None}


def _values(vals: list[Fraction | None], floats: Mapping[int, float] | None = None) -> str:
    n_known = sum(map(is_not, vals, repeat(None)))
    if floats is None:
        floats = _floats(vals)
    if n_known == len(vals):
        known = list(map(floats.__getitem__, map(id, vals)))
    else:
        known = [floats[id(v)] for v in vals if v is not None]
    if not known:
        return "—"
    lo, hi = min(known), max(known)
    text = number(lo, 4) if lo == hi else f"{number(lo, 4)} … {number(hi, 4)}"
    return text + (f" ({len(vals) - n_known:,} without)" if n_known < len(vals) else "")


def grouped_overview(spec: Spec, counts: Mapping[str, int]) -> RenderableType:
    """Leaves and nodes, one row per name pattern, with counts and ranges."""
    n_leaves = len(spec.params) + len(spec.inputs)
    parts: list[RenderableType] = [Text(
        f"{n_leaves:,} leaves and {len(spec.nodes):,} nodes, grouped by name pattern "
        f"(* stands for an index; --format json lists every name)", style="dim")]
    leaves = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    leaves.add_column("leaves")
    leaves.add_column("kind")
    leaves.add_column("how many", justify="right")
    leaves.add_column("values", justify="right")
    leaves.add_column(f"paths to {spec.loss}", justify="right")
    count_of = counts.__getitem__
    for kind, section in (("param", spec.params), ("input", spec.inputs)):
        floats = _floats(section.values())
        for pattern, names in _grouped(list(section)).items():
            label = names[0] if len(names) == 1 else pattern
            leaves.add_row(Text(label), kind, f"{len(names):,}",
                           _values(list(map(section.__getitem__, names)), floats),
                           _span(list(map(count_of, names))))
    nodes = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    nodes.add_column("nodes")
    nodes.add_column("how many", justify="right")
    nodes.add_column("for example")
    nodes.add_column(f"paths to {spec.loss}", justify="right")
    node_groups = _grouped(list(spec.nodes))
    for pattern, names in node_groups.items():
        first = names[0]
        label = first if len(names) == 1 else pattern
        if spec.loss in names:
            label += "  (loss)"
        nodes.add_row(Text(label), f"{len(names):,}",
                      Text(clip(f"{first} = {spec.text(first)}", 120)),
                      _span(list(map(count_of, names))))
    parts += [leaves, nodes]
    return Group(*parts)
