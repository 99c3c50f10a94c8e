"""The checked network: `Spec`, and the questions asked of it (which names, which values)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

from ..errors import Location, SpecError, UsageError, suggest
from ..graph import Graph
from . import grammar as g
from .texnames import tex_problem
from .values import parse_value

__all__ = ["Spec", "check_weight", "apply_values", "LazyNodes", "LazyLatex"]


@dataclass(frozen=True)
class Spec:
    """A checked network: leaves with optional values, node expressions (ASTs), the loss."""

    inputs: dict[str, Fraction | None]
    params: dict[str, Fraction | None]
    nodes: Mapping[str, g.Expr]  # a dict, or a builder's LazyNodes (ASTs made when read)
    loss: str
    name: str | None = None
    description: str | None = None
    latex: Mapping[str, str] = field(default_factory=dict)  # or a builder's LazyLatex
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


# --- what a builder fills on first use ---------------------------------------------------------
# A 300,000-param `mlp:` declares every name, but `show` prints a handful of expressions and
# `explain` from a weight near the loss touches a few nodes: an AST or a LaTeX name (checked)
# per generated name up front costs more than the rest of the load. These mappings know their
# keys in order and make each value once, when first read; what the checker and the graph need
# of every node (the names it uses) is given eagerly.


class LazyNodes(Mapping[str, g.Expr]):
    """Node name → AST, each made by `make(recipe)` when first read; `uses` (node → the names
    its expression uses, in order of first appearance, as grammar.free_names gives them) is
    known without making any AST, so the checker and the graph never force one."""

    def __init__(self, recipes: dict[str, Any], make: Callable[[Any], g.Expr],
                 uses: dict[str, tuple[str, ...]],
                 products: Callable[[Any], list[Any] | None] | None = None) -> None:
        self._recipes = recipes
        self._make = make
        self._products = products
        self.uses = uses
        self._made: dict[str, g.Expr] = {}

    def products(self, name: str) -> list[Any] | None:
        """A node that is a sum of names and products of two names (an mlp unit's Σ w·a + b):
        its terms in order, a product as the pair of its names, without making its AST (a
        forward pass through 300k params needs nothing else); None for any other node."""
        if self._products is None:
            return None
        return self._products(self._recipes[name])

    def __getitem__(self, name: str) -> g.Expr:
        expr = self._made.get(name)
        if expr is None:
            expr = self._made[name] = self._make(self._recipes[name])
        return expr

    def __contains__(self, name: object) -> bool:
        return name in self._recipes

    def __iter__(self) -> Iterator[str]:
        return iter(self._recipes)

    def __len__(self) -> int:
        return len(self._recipes)

    def __repr__(self) -> str:
        return f"LazyNodes({len(self)} nodes, {len(self._made)} made)"


class LazyLatex(Mapping[str, str]):
    """Display names: the builder's (`make(name)` for each generated name, made and checked with
    tex_problem when first read) with `overrides` (the user's `latex:`, checked by the spec
    checker) on top. Iterates as `{**generated, **overrides}` would. `keys` are the generated
    names in order, or a function giving them (called when first needed)."""

    def __init__(self, keys: Iterable[str] | Callable[[], Iterable[str]],
                 make: Callable[[str], str], overrides: Mapping[str, Any] | None = None,
                 source: str = "<string>") -> None:
        self._keys_from = keys
        self._keys_made: dict[str, None] | None = None
        self._make = make
        self.overrides: dict[str, Any] = dict(overrides or {})
        self.source = source
        self._made: dict[str, str] = {}

    @property
    def _keys(self) -> dict[str, None]:
        if self._keys_made is None:
            keys = self._keys_from
            self._keys_made = dict.fromkeys(keys() if callable(keys) else keys)
        return self._keys_made

    def with_overrides(self, overrides: Mapping[str, Any], source: str | None = None
                       ) -> LazyLatex:
        """The same generated names with these user entries on top (instead of the current)."""
        out = LazyLatex(self._keys_from, self._make, overrides,
                        self.source if source is None else source)
        out._keys_made, out._made = self._keys_made, self._made  # share what is made
        return out

    def __getitem__(self, name: str) -> str:
        if name in self.overrides:
            return self.overrides[name]
        tex = self._made.get(name)
        if tex is None:
            if name not in self._keys:
                raise KeyError(name)
            tex = self._make(name)
            problem = tex_problem(tex)  # checked when made, as a `latex:` entry is at load
            if problem is not None:
                raise SpecError(f"the display name of '{name}' cannot be typeset safely: "
                                f"{problem}", Location(self.source, None, None, "latex"))
            self._made[name] = tex
        return tex

    def __contains__(self, name: object) -> bool:
        return name in self.overrides or name in self._keys

    def __iter__(self) -> Iterator[str]:
        keys = self._keys
        yield from keys
        yield from (n for n in self.overrides if n not in keys)

    def __len__(self) -> int:
        keys = self._keys
        return len(keys) + sum(1 for n in self.overrides if n not in keys)

    def __repr__(self) -> str:
        return f"LazyLatex({len(self)} names, {len(self._made)} made)"
