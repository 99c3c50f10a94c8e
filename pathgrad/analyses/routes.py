"""Routes: which state a path carries from one step to the next, and how much of the gradient
each kind of path carries.

In an unrolled recurrent net the edges between steps are of a few kinds, and the lesson of the
LSTM is in them: c(t−1) → c(t) has the local partial f(t) and no squashing, so products of
them fade slowly, while h(t−1) → gates multiplies by U and a σ′ or tanh′ at every step. A
path's *route* is the set of kinds of step-crossing edge it uses: "c only", "h only", "mixed"
(both), or "none" (it crosses no step). The builders tag those edges (`meta["routes"]`:
lstm "c"/"h", gru "direct"/"gates"); an rnn's edges between steps are found from its step
groups (all "h").

Nothing is listed: a signed dynamic program over the DAG, as `lengths.path_lengths` does per
length, keeps per name and per (route, length) the number of paths to the loss and the sum of
their products of local partials at the spec's point. The routes' values add up to ∂E/∂w.

`with_steps(doc, T)` rebuilds a builder spec with T steps, for the plot of the route shares
as the unroll grows (`pathgrad lengths --steps`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath

from ..errors import UsageError
from ..graph import between, relevant_children
from ..numeric.evaluate import NoValue
from ..numeric.points import DIGITS, point_values, undefined_edge
from ..spec.check import from_document
from ..spec.model import Spec, apply_values, check_weight
from ..spec.source import Document
from .lengths import LengthBin

__all__ = ["RouteClass", "RouteDistribution", "route_edges", "route_roles", "path_routes",
           "default_source", "with_steps", "route_sweep", "STEP_BUILDERS", "as_float"]

STEP_BUILDERS = ("rnn", "lstm", "gru")  # the builders with `steps:`
_LETTERS = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class RouteClass:
    """The paths of one route: how many, their summed value and share, and by length."""

    route: str  # "c", "h", "c+h" (mixed), … or "none"
    title: str  # "c only", "mixed (c and h)", "no step crossed"
    paths: int
    value: float | None
    share: float | None  # value / ∂loss/∂source (signed)
    bins: tuple[LengthBin, ...]  # the same paths by length

    @property
    def mean_length(self) -> float | None:
        return sum(b.length * b.paths for b in self.bins) / self.paths if self.paths else None


@dataclass(frozen=True)
class RouteDistribution:
    """Paths from `source` to `target` grouped by route (then by length)."""

    source: str
    target: str
    labels: tuple[tuple[str, str], ...]  # (label, what its edges are), e.g. ("c", "cell state …")
    classes: tuple[RouteClass, ...]
    total: int
    gradient: float | None = None
    note: str | None = None  # why values or shares are missing
    roles: tuple[tuple[str, str], ...] = ()  # (label, "carry" | "gates"): comparable across nets

    def by_route(self) -> dict[str, RouteClass]:
        return {c.route: c for c in self.classes}


def route_edges(spec: Spec) -> tuple[dict[str, str], dict[tuple[str, str], str]] | None:
    """(label → description, (u, v) → label) for the edges between steps; None when the spec
    has no steps. A batch of copies is not split into routes (its copies are renamed)."""
    found = _routes(spec)
    return None if found is None else (found[0], found[1])


def route_roles(spec: Spec) -> dict[str, str]:
    """label → "carry" (a state passed on unsquashed: LSTM c, GRU h → h) or "gates" (through
    a weight and a squashing function: LSTM and rnn h, GRU h → r, z, n)."""
    found = _routes(spec)
    return {} if found is None else found[2]


def _routes(spec: Spec) -> tuple[dict[str, str], dict[tuple[str, str], str],
                                 dict[str, str]] | None:
    meta = spec.meta
    if "batch" in (meta.get("builders") or ()):
        return None
    routes = meta.get("routes")
    if routes:
        labels = dict(routes["labels"])
        return labels, dict(routes["edges"]), {lab: routes.get("roles", {}).get(lab, "gates")
                                               for lab in labels}
    groups = meta.get("groups")
    if meta.get("group_title") != "step" or not groups:
        return None
    # an rnn: an edge from a node of one step to a node of another carries that node's state
    edges: dict[tuple[str, str], str] = {}
    labels: dict[str, str] = {}
    graph = spec.graph
    for v in spec.nodes:
        gv = groups.get(v)
        for u in graph.deps(v):
            gu = groups.get(u)
            if gu is not None and gv is not None and gu != gv:
                m = _LETTERS.match(u)
                label = m.group(0) if m else u
                edges[(u, v)] = label
                labels.setdefault(label, f"state {label}(t−1) → step t")
    return labels, edges, dict.fromkeys(labels, "gates")  # one step: every path is "none"


def as_float(x: Any) -> float | None:
    """An mpmath sum as a float; None for NoValue and beyond a float (JSON has no inf)."""
    if isinstance(x, NoValue):
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _class_key(mask: int, labels: Sequence[str]) -> str:
    used = [lab for i, lab in enumerate(labels) if mask >> i & 1]
    return "+".join(used) if used else "none"


def _class_title(mask: int, labels: Sequence[str]) -> str:
    used = [lab for i, lab in enumerate(labels) if mask >> i & 1]
    if not used:
        return "no step crossed"
    if len(used) == 1:
        return f"{used[0]} only"
    return f"mixed ({', '.join(used[:-1])} and {used[-1]})"


def path_routes(spec: Spec, source: str, values: Mapping[str, object] | None = None
                ) -> RouteDistribution | None:
    """Paths from `source` to the loss by route and length, with the gradient each carries;
    None when the spec has no steps (see `route_edges`).

    >>> import pathgrad
    >>> spec = pathgrad.load("lstm: {steps: 3}\\ninputs: {x1: 1, x2: 0.5, x3: 0, y: 0.2}")
    >>> d = path_routes(spec, "x1")
    >>> [(c.route, c.paths) for c in d.classes], d.total
    ([('c', 3), ('h', 64), ('c+h', 24)], 91)
    >>> abs(sum(c.value for c in d.classes) - d.gradient) < 1e-15
    True
    """
    found = route_edges(spec)
    if found is None:
        return None
    check_weight(spec, source)
    described, edges = found
    labels = list(described)
    bit = {lab: 1 << i for i, lab in enumerate(labels)}
    graph, loss = spec.graph, spec.loss
    label_pairs = tuple(described.items())
    nodes = between(graph, source, loss)
    if not nodes:
        return RouteDistribution(source, loss, label_pairs, (), 0, 0.0,
                                 roles=tuple(route_roles(spec).items()))
    kids = relevant_children(graph, nodes)
    Key = tuple[int, int]  # noqa: N806 - (route mask, length)
    counts: dict[str, dict[Key, int]] = {loss: {(0, 0): 1}}
    leaf_values = apply_values(spec, values)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaf_values, nodes[1:], upto=loss)
        why = undefined_edge(pv, nodes, kids)
        sums: dict[str, dict[Key, Any]] = {loss: {(0, 0): mpmath.mpf(1)}}
        for n in reversed(nodes[:-1]):
            out_k: dict[Key, int] = {}
            out_v: dict[Key, Any] = {}
            for c in kids[n]:
                b = bit.get(edges.get((n, c)), 0)  # type: ignore[arg-type]
                p = pv.partials[(n, c)] if why is None else None
                child_v = sums.get(c, {})
                for (mask, length), k in counts[c].items():
                    key = (mask | b, length + 1)
                    out_k[key] = out_k.get(key, 0) + k
                    if p is not None:
                        out_v[key] = out_v.get(key, 0) + p * child_v[(mask, length)]
            counts[n] = out_k
            if why is None:
                sums[n] = out_v
        by_key = counts[source]
        vals = sums.get(source, {}) if why is None else {}
        gradient = mpmath.fsum(vals.values()) if why is None else None
        classes = []
        masks = sorted({m for m, _ in by_key}, key=lambda m: (m == 0, bin(m).count("1"), m))
        for mask in masks:
            keys = sorted(k for k in by_key if k[0] == mask)
            paths = sum(by_key[k] for k in keys)
            if why is None:
                value = mpmath.fsum(vals[k] for k in keys)
                bins = tuple(LengthBin(k[1], by_key[k], as_float(vals[k]),
                                       as_float(vals[k] / gradient) if gradient else None)
                             for k in keys)
                cls = RouteClass(_class_key(mask, labels), _class_title(mask, labels), paths,
                                 as_float(value), as_float(value / gradient) if gradient
                                 else None, bins)
            else:
                bins = tuple(LengthBin(k[1], by_key[k]) for k in keys)
                cls = RouteClass(_class_key(mask, labels), _class_title(mask, labels), paths,
                                 None, None, bins)
            classes.append(cls)
    total = sum(by_key.values())
    grad = as_float(gradient) if gradient is not None else None
    note = why if why is not None else (None if grad is not None else "too large for a float")
    roles = tuple(route_roles(spec).items())
    return RouteDistribution(source, loss, label_pairs, tuple(classes), total, grad, note, roles)


def default_source(spec: Spec) -> str:
    """The input a lesson about path lengths starts from: the builder's first input of step 1
    (x1_1 or x1 for lstm, gru, conv1d, attention; x1 for an rnn; x for residual), else the first
    input with a path to the loss, else the first param."""
    meta = spec.meta
    candidates = [meta.get("probe")]
    if "rnn" in meta:
        candidates.append(f"{meta['rnn']['inputs'][0]}1")
    if "residual" in meta:
        candidates.append(meta["residual"]["input"])
    for name in candidates:
        if name and spec.kind(name) is not None:
            return name
    counts = spec.graph.path_counts(spec.loss)
    for name in [*spec.inputs, *spec.params]:
        if counts.get(name):
            return name
    return next(iter([*spec.inputs, *spec.params]), spec.loss)


def with_steps(doc: Document, steps: int) -> Spec:
    """The spec of `doc` (an rnn, lstm or gru block) rebuilt with `steps` steps.

    Values in `inputs:` and `params:` carry over for the names the rebuilt net has; the names
    of later steps are left out (so T ≤ the spec's own steps keeps every value). An rnn with
    `loss: last` reads the target of its last step, y{T}: it gets the value of the spec's own
    last target, so every T is scored against the same number.
    """
    key = next((k for k in STEP_BUILDERS if k in doc.data), None)
    if key is None or not isinstance(doc.data.get(key), Mapping):
        raise UsageError(f"--steps needs a spec with a `steps:` builder ({', '.join(STEP_BUILDERS)}"
                         f"); {doc.source} has none", None, "leave out --steps")
    block = {**doc.data[key], "steps": steps}
    bare = {k: v for k, v in doc.data.items() if k not in ("inputs", "params")}
    bare[key] = block
    names = set(from_document(_with_data(doc, bare)).names)
    data = dict(bare)
    for section in ("inputs", "params"):
        raw = doc.data.get(section)
        if isinstance(raw, Mapping):
            data[section] = {n: v for n, v in raw.items() if n in names}
        elif isinstance(raw, list):
            data[section] = [n for n in raw if n in names]
    own = doc.data[key].get("steps")
    if key == "rnn" and doc.data[key].get("loss", "last") == "last" and isinstance(own, int) \
            and isinstance(doc.data.get("inputs"), Mapping):
        # an rnn's loss reads the target of its last step, y{T}: it keeps the spec's y{T}
        target = doc.data[key].get("target", "y")
        if f"{target}{own}" in doc.data["inputs"]:
            data["inputs"] = {**data["inputs"],
                              f"{target}{steps}": doc.data["inputs"][f"{target}{own}"]}
    return from_document(_with_data(doc, data))


def route_sweep(path: str, steps: Sequence[int], source: str | None = None
                ) -> list[tuple[int, RouteDistribution]]:
    """The spec at `path` rebuilt with each number of steps in `steps`, and the routes of
    `source` (default: `default_source`) to the loss in each."""
    from ..spec.source import read
    from ..spec.values import Limits

    limits = Limits.from_env()
    doc = read(path, max_bytes=limits.max_bytes, max_items=max(200_000, limits.max_names * 2))
    out = []
    for t in steps:
        spec = with_steps(doc, t)
        name = source or default_source(spec)
        dist = path_routes(spec, name)
        assert dist is not None, "a spec with steps has routes"
        out.append((t, dist))
    return out


def _with_data(doc: Document, data: dict) -> Document:
    return Document(data, doc.source, doc.text, doc.lines, doc.key_lines, doc.aliases)
