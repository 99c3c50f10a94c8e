"""How much exact work a command would do, checked before it does any: every edge between the
weight and the loss gets its local partial computed exactly (PATHGRAD_MAX_CONE_EDGES)."""

from __future__ import annotations

from ..errors import LimitError
from ..graph import cone_edges
from ..spec import Limits, Spec

__all__ = ["check_cone"]


def check_cone(spec: Spec, weight: str | None, limits: Limits | None = None) -> None:
    """Refuse, in one line, a weight whose cone (the nodes between it and the loss) has more
    edges than `limits.max_cone_edges`; with no weight, every node above the loss (gradient).

    >>> from pathgrad import load
    >>> spec = load("params: {w: 1, v: 2}\\nnodes: {h: w*v, E: h^2 + v}")
    >>> check_cone(spec, "h", Limits(max_cone_edges=2))  # E uses h and v
    >>> check_cone(spec, "w", Limits(max_cone_edges=3))  # h uses w and v; E, h and v
    Traceback (most recent call last):
    ...
    pathgrad.errors.LimitError: the nodes between 'w' and 'E' use 4 names together, each a \
local partial to compute; the limit is 3; choose a --weight nearer the loss, or raise the \
limit with PATHGRAD_MAX_CONE_EDGES=4
    """
    limits = limits or Limits.from_env()
    loss = spec.loss
    count = cone_edges(spec.graph, weight, loss)
    if count <= limits.max_cone_edges:
        return
    raise_it = f"raise the limit with PATHGRAD_MAX_CONE_EDGES={count}"
    if weight is None:
        raise LimitError(f"the nodes of '{loss}' use {count:,} names together, each a local "
                         f"partial that every param's gradient needs; the limit is "
                         f"{limits.max_cone_edges:,}", None,
                         f"`pathgrad backprop --weight W` for one weight near the loss, or "
                         f"{raise_it}", limit="max_cone_edges")
    raise LimitError(f"the nodes between '{weight}' and '{loss}' use {count:,} names together, "
                     f"each a local partial to compute; the limit is {limits.max_cone_edges:,}",
                     None,
                     f"choose a --weight nearer the loss, or {raise_it}",
                     limit="max_cone_edges")
