"""Leaf values and size limits: the numbers a spec may hold and how large it may grow."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from fractions import Fraction

from ..errors import ExpressionError, LimitError, Location, UsageError
from . import grammar as g
from .numbers import MAX_VALUE, magnitude_problem
from .source import kind_of

__all__ = ["Limits", "LIMIT_ENV", "MAX_VALUE", "parse_value", "too_many_edges",
           "too_many_nodes"]


@dataclass(frozen=True)
class Limits:
    """How large a spec may be before pathgrad refuses it instead of exhausting memory.

    max_names: names declared in inputs, params and nodes together (builders included);
    max_nodes: nodes (the names an expression computes; builders included), what every
        exact pass over the network costs;
    max_edges: edges, the names each node's expression uses counted together (builders
        included): what loading and one exact forward pass cost;
    max_cone_edges: the edges into the nodes between a weight and the loss (every node
        above the loss for `gradient`): what backprop, explain, --top and lengths work
        through, each edge's local partial computed exactly;
    max_expression_chars: characters in one node's expression;
    max_depth: nesting of parentheses, calls, powers and unary minus in one expression;
    max_bytes: size of the spec file;
    max_path_edges: edges of one path that explain writes out as a product of partials;
    max_factors: factors of every path explain writes out, together.

    `Limits.from_env()` reads PATHGRAD_MAX_NAMES, PATHGRAD_MAX_NODES,
    PATHGRAD_MAX_EDGES, PATHGRAD_MAX_EXPRESSION_CHARS, PATHGRAD_MAX_DEPTH, PATHGRAD_MAX_BYTES,
    PATHGRAD_MAX_CONE_EDGES, PATHGRAD_MAX_PATH_EDGES and PATHGRAD_MAX_FACTORS; `load` and
    the analyses use it when given no limits. The defaults keep every command within a few
    seconds (README, Limits).
    """

    max_names: int = 500_000
    max_expression_chars: int = 10_000
    max_depth: int = 100
    max_bytes: int = 5_000_000
    max_nodes: int = 10_000
    max_edges: int = 1_000_000
    max_cone_edges: int = 20_000
    max_path_edges: int = 2_000
    max_factors: int = 200_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"limit {f.name} must be a whole number of at least 1, "
                                 f"got {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, with any PATHGRAD_MAX_… environment variable applied."""
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for name, var in LIMIT_ENV.items():
            raw = env.get(var)
            if raw is None or not raw.strip():
                continue
            digits = raw.strip().replace("_", "").replace(",", "")
            if not digits.isdigit() or len(digits) > 18 or int(digits) < 1:
                default = getattr(cls, name)
                raise UsageError(f"environment variable {var}={raw!r} must be a whole number "
                                 f"of at least 1", None, f"for example {var}={default * 10}")
            values[name] = int(digits)
        return cls(**values)


# the environment variable that sets each limit, named in every error about it
LIMIT_ENV = {f.name: f"PATHGRAD_{f.name.upper()}" for f in fields(Limits)}


def too_many_nodes(count: int, what: str, where: Location | None, limits: Limits) -> LimitError:
    """The one line for a network with more nodes than every command can work through."""
    return LimitError(f"{what} {count:,} nodes; the limit is {limits.max_nodes:,}", where,
                      f"write a smaller network, or raise the limit with PATHGRAD_MAX_NODES="
                      f"{count} (expect minutes and GBs)", limit="max_nodes")


def too_many_edges(count: int, what: str, where: Location | None, limits: Limits) -> LimitError:
    """The one line for a network whose nodes use more names, together, than loading and a
    forward pass can work through in seconds."""
    return LimitError(f"{what} {count:,} edges (names its nodes use); the limit is "
                      f"{limits.max_edges:,}", where,
                      f"write a smaller network, or raise the limit with PATHGRAD_MAX_EDGES="
                      f"{count} (expect minutes and GBs)", limit="max_edges")


def parse_value(raw: object) -> Fraction | None:
    """A leaf value: a number (exact), or None. Raises ValueError for anything else."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError("true/false is not a number")
    if isinstance(raw, int):
        return _in_range(Fraction(raw), raw)
    if isinstance(raw, Fraction):
        return _in_range(raw, raw)
    if isinstance(raw, float | Decimal | numbers.Rational):  # numpy numbers are among these
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ValueError(f"{raw} is not a finite number")
        return _in_range(Fraction(raw), raw)
    if isinstance(raw, str):
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        text = raw.strip()
        try:
            expr = g.parse(text, max_length=200)
        except ExpressionError as exc:
            if exc.message.startswith("number '"):  # the number rule: digits and size
                raise ValueError(exc.message) from None
            expr = None
        value = g.constant_value(expr) if expr is not None else None
        if value is not None:
            return _in_range(value, shown)
        if text.lower().lstrip("+-.") in ("nan", "inf", "infinity"):
            raise ValueError(f"'{shown}' is not a finite number")
        raise ValueError(f"'{shown}' is not a number")
    raise ValueError(f"{kind_of(raw)} is not a number")


def _in_range(value: Fraction, raw: object) -> Fraction:
    problem = magnitude_problem(value)
    if problem:
        text = str(raw)
        shown = f"'{text}'" if len(text) <= 24 else "the value"
        raise ValueError(f"{shown} is {problem}")
    return value
