"""The checked network: `Spec`, and the questions asked of it (which names, which values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

from ..errors import Location, UsageError, suggest
from ..graph import Graph
from . import grammar as g
from .values import parse_value

__all__ = ["Spec", "check_weight", "apply_values"]


@dataclass(frozen=True)
class Spec:
    """A checked network: leaves with optional values, node expressions (ASTs), the loss."""

    inputs: dict[str, Fraction | None]
    params: dict[str, Fraction | None]
    nodes: dict[str, g.Expr]
    loss: str
    name: str | None = None
    description: str | None = None
    latex: dict[str, str] = field(default_factory=dict)
    source: str = "<string>"
    lines: dict[str, int] = field(default_factory=dict, compare=False)
    builder: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    # the names each node's expression uses, found once while checking (the graph reuses it)
    uses: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def graph(self) -> Graph:
        """The spec's DAG (built once)."""
        return Graph(self)

    @property
    def names(self) -> list[str]:
        """Every declared name: inputs, params, then nodes."""
        return [*self.inputs, *self.params, *self.nodes]

    def kind(self, name: str) -> str | None:
        """'input', 'param', 'node', or None if `name` is not declared."""
        for kind, section in (("input", self.inputs), ("param", self.params), ("node", self.nodes)):
            if name in section:
                return kind
        return None

    def line_of(self, name: str) -> int | None:
        """The line where `name` is declared, if known."""
        return self.lines.get(name)

    def where(self, section: str, name: str | None = None) -> Location:
        """A Location for a key of the spec, e.g. where('nodes', 'a11')."""
        key = section if name is None else f"{section}.{name}"
        line = self.lines.get(name) if name is not None else None
        return Location(self.source, line, None, key)

    def text(self, name: str) -> str:
        """A node's expression as canonical text."""
        return g.to_text(self.nodes[name])

    def values(self) -> dict[str, Fraction | None]:
        """Values of every leaf (None where the spec gives none)."""
        return {**self.inputs, **self.params}


def check_weight(spec: Spec, weight: str) -> None:
    """Raise UsageError unless `weight` is a declared name other than the loss."""
    if spec.kind(weight) is None:
        hint = suggest(weight, spec.names) or "choose one of: " + ", ".join(
            [*spec.params][:8]) + (", …" if len(spec.params) > 8 else "")
        raise UsageError(f"--weight '{weight}' is not a name in {spec.source}", None, hint)
    if weight == spec.loss:
        raise UsageError(f"--weight '{weight}' is the loss itself; ∂{weight}/∂{weight} = 1. "
                         "Choose a param, input or node that the loss depends on")


def apply_values(spec: Spec, values: Mapping[str, object] | None) -> dict[str, Fraction | None]:
    """The spec's leaf values with `values` (name → number) applied; checks the names."""
    out = spec.values()
    for name, value in (values or {}).items():
        kind = spec.kind(name)
        if kind is None:
            raise UsageError(f"cannot set '{name}': it is not a name in {spec.source}", None,
                             suggest(name, out) or "the inputs and params are "
                             + (", ".join([*out][:8]) + (", …" if len(out) > 8 else "")
                                if out else "none"))
        if kind == "node":
            raise UsageError(f"cannot set '{name}': it is a node (computed from its expression); "
                             "set inputs and params")
        try:
            out[name] = parse_value(value)
        except ValueError as exc:
            raise UsageError(f"cannot set '{name}': {exc}") from None
    return out
