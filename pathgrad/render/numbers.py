"""The numbers shown beside the maths: each local partial's value at the point (so a student
can follow one path factor by factor) and every name's value (the forward pass).

Both come from `numeric.points` — one reverse sweep over each node's own expression — so the
factor values printed are the ones the path values were multiplied from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

import mpmath

from ..numeric.points import DIGITS, as_float, point_values
from ..spec import Spec

__all__ = ["edge_values", "forward_values"]


def edge_values(spec: Spec, leaf_values: Mapping[str, Fraction | None],
                edges: Iterable[tuple[str, str]]) -> dict[tuple[str, str], float | None]:
    """∂v/∂u at the point for each edge u → v (None where undefined or a value is missing)."""
    wanted = list(edges)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaf_values, {v for _, v in wanted})
        return {(u, v): as_float(pv.partials.get((u, v), mpmath.mpf(0))) for u, v in wanted}


def forward_values(spec: Spec, leaf_values: Mapping[str, Fraction | None]
                   ) -> dict[str, float | None]:
    """Every node's value at the point, in the order they are computed."""
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaf_values, ())
        return {n: as_float(pv.values[n]) for n in spec.graph.order if n in spec.nodes}
