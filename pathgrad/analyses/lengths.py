"""Path lengths: how many paths of each length, and how much of the gradient each carries.

Dynamic programs over the DAG in topological order (`graph.length_counts` for the counts,
exact numbers for the values: numeric.exact), so a net with 64^49 paths per weight is counted in
the time it takes to visit its edges once. The path-length distribution is the view of Veit et
al. (2016) on residual nets: how many paths of each length, and how much of the gradient each
length carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath

from ..errors import LimitError
from ..graph import between, leaf_length_counts, length_counts, relevant_children
from ..spec.model import Spec, apply_values, check_weight
from .budget import check_cone

__all__ = ["LengthBin", "LengthDistribution", "path_lengths", "network_path_lengths"]


@dataclass(frozen=True)
class LengthBin:
    """Paths of one length (in edges): how many, their summed value, and its share."""

    length: int
    paths: int
    value: float | None = None  # Σ over these paths of the product of local partials
    share: float | None = None  # value / ∂loss/∂weight


@dataclass(frozen=True)
class LengthDistribution:
    """Paths from `source` (or from every leaf of `sources_kind`) to `target`, by length."""

    target: str
    bins: tuple[LengthBin, ...]
    total: int
    source: str | None = None
    sources_kind: str | None = None  # "param" or "input" when summed over every such leaf
    gradient: float | None = None
    note: str | None = None  # why values or shares are missing

    @property
    def mean_length(self) -> float | None:
        """The average path length (exact counts, so fine for 10^88 paths)."""
        if not self.total:
            return None
        return sum(b.length * b.paths for b in self.bins) / self.total


def network_path_lengths(spec: Spec, kind: str = "param") -> LengthDistribution:
    """`pathgrad show`: paths from every param (or input) to the loss, by length."""
    sources = spec.params if kind == "param" else spec.inputs
    try:
        counts = leaf_length_counts(spec.graph, spec.loss, sources)
    except LimitError as exc:  # too many lengths to tabulate: say so instead of the table
        if exc.limit != "max_length_cells":
            raise
        total = sum(spec.graph.path_counts(spec.loss)[s] for s in sources if s != spec.loss)
        return LengthDistribution(spec.loss, (), total, None, kind, note=exc.message)
    bins = tuple(LengthBin(length, k) for length, k in counts.items())
    return LengthDistribution(spec.loss, bins, sum(counts.values()), None, kind)


def path_lengths(spec: Spec, weight: str, values: Mapping[str, object] | None = None,
                 ) -> LengthDistribution:
    """Paths from `weight` to the loss by length, with the gradient each length carries.

    The value of a length is the sum over its paths of the product of local partials at the
    spec's point: a signed dynamic program over lengths, so nothing is listed.
    """
    # the values need the numeric layer (and so sympy); the counts alone do not, so `show`
    # (network_path_lengths) stays light: imported here, not at the top
    from ..numeric.evaluate import NoValue
    from ..numeric.exact import divide, is_zero, plus, times, within_float
    from ..numeric.points import DIGITS, as_float, point_values, undefined_edge

    check_weight(spec, weight)
    graph = spec.graph
    loss = spec.loss
    nodes = between(graph, weight, loss)
    try:
        counts = length_counts(graph, weight, loss)
    except LimitError as exc:  # too many lengths to tabulate: say so instead of the table
        if exc.limit != "max_length_cells":
            raise
        return LengthDistribution(loss, (), graph.path_counts(loss)[weight], weight,
                                  note=exc.message)
    total = sum(counts.values())
    leaf_values = apply_values(spec, values)
    if not nodes:
        return LengthDistribution(loss, (), 0, weight, None, 0.0)
    check_cone(spec, weight)
    kids = relevant_children(graph, nodes)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaf_values, nodes[1:], upto=loss)
        why = undefined_edge(pv, nodes, kids)
        if why is not None:
            bins = tuple(LengthBin(length, k) for length, k in counts.items())
            return LengthDistribution(loss, bins, total, weight, None, None, why)
        sums: dict[str, dict[int, Any]] = {loss: {0: Fraction(1)}}
        for n in reversed(nodes[:-1]):
            parts: dict[int, list[Any]] = {}
            for c in kids[n]:
                p = pv.exact_partials[(n, c)]
                for length, v in sums[c].items():
                    parts.setdefault(length + 1, []).append(times([p, v]))
            sums[n] = {length: plus(xs) for length, xs in parts.items()}
        by_length = sums[weight]
        gradient = plus(list(by_length.values()))
        nonzero = not is_zero(gradient)
        bins = tuple(  # a nonzero below a float is None (with the note), not 0.0
            LengthBin(length, k, as_float(within_float(by_length[length])),
                      as_float(divide(by_length[length], gradient)) if nonzero else None)
            for length, k in counts.items())
        shown = within_float(gradient)
    grad = as_float(shown)
    return LengthDistribution(loss, bins, total, weight, None, grad,
                              shown.reason if isinstance(shown, NoValue) else None)
