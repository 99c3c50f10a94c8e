"""Pieces every builder shares: reading its block with located errors, building ASTs directly
(no text is generated and parsed again), merging the user's `inputs`/`params`/`latex`, and the
seeded initializer."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import chain, groupby, repeat
from operator import add as _add
from operator import mul as _mul
from typing import Any

from ...errors import LimitError, Location, SpecError, count_text, suggest
from .. import grammar as g
from ..model import LazyLatex
from ..source import Document
from ..source import kind_of as _kind_of
from ..values import Limits, parse_value, too_many_edges, too_many_nodes

__all__ = [
    "ACTIVATIONS", "Block", "Built", "Initializer", "INIT_DISTRIBUTION",
    "add_all", "mul", "call", "sub", "half_sum_of_squares", "merge_user_sections",
    "check_names_free", "kind_of",
]

# hidden-layer activations: name -> function applied to z (None: the identity)
ACTIVATIONS: dict[str, str | None] = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu",
                                      "softplus": "softplus", "linear": None}
INIT_DISTRIBUTION = "uniform(−1/√fan_in, 1/√fan_in), rounded to 4 decimals"
_CHAIN = 256  # sums longer than this become balanced trees of left chains (recursion depth)


def kind_of(value: object) -> str:
    """What a YAML value is, for messages ('the number 3', "the text 'x'", 'a list' …)."""
    return _kind_of(value, numbers=True)


@dataclass
class Built:
    """What a builder produces: leaves with values (None: none given), node ASTs, LaTeX names."""

    inputs: dict[str, Fraction | None]
    params: dict[str, Fraction | None]
    nodes: Mapping[str, g.Expr]  # a dict, or LazyNodes (mlp: ASTs made when first read)
    loss: str
    latex: Mapping[str, str] = field(default_factory=dict)  # a dict, or LazyLatex
    meta: dict[str, Any] = field(default_factory=dict)
    # user-chosen names (inputs, targets) -> the block path that names them, for clash errors
    user_names: dict[str, tuple[str | int, ...]] = field(default_factory=dict)


class Block:
    """A builder's mapping in the spec, read with errors that name the key and its line."""

    def __init__(self, doc: Document, key: str, example: str) -> None:
        self.doc, self.key = doc, key
        raw = doc.data.get(key)
        if not isinstance(raw, Mapping):
            raise SpecError(f"must be a mapping of settings, found {kind_of(raw)}",
                            doc.where(key), f"for example `{key}: {example}`")
        self.raw: Mapping[str, Any] = raw

    def where(self, *path: str | int) -> Location:
        return self.doc.where(self.key, *path)

    def check_keys(self, allowed: Sequence[str], required: Sequence[str] = ()) -> None:
        for k in self.raw:
            if k not in allowed:
                hint = suggest(str(k), allowed) or "the keys are " + ", ".join(allowed)
                raise SpecError(f"unknown key '{k}'", self.where(k), hint)
        for k in required:
            if k not in self.raw:
                raise SpecError(f"`{k}:` is missing", self.where(),
                                f"the keys are {', '.join(allowed)}")

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def name(self, key: str, default: str) -> str:
        return check_name(self.raw.get(key, default), self.where(key))

    def names(self, key: str, default: list[str] | None = None,
              *, what: str = "names") -> list[str]:
        raw = self.raw.get(key, default)
        if raw is None:
            raise SpecError(f"`{key}:` is missing: a list of {what}", self.where(),
                            f"for example `{key}: [x1, x2]`")
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise SpecError(f"must be a non-empty list of {what}, found {kind_of(raw)}",
                            self.where(key), f"for example `{key}: [x1, x2]`")
        out: dict[str, None] = {}  # ordered, and membership is O(1) for 10^5 names
        for i, item in enumerate(raw):
            name = check_name(item, self.where(key, i))
            if name in out:
                raise SpecError(f"'{name}' is listed twice",
                                self.where(key, i))
            out[name] = None
        return list(out)

    def integer(self, key: str, default: int | None = None, *, least: int = 1,
                most: int | None = None) -> int:
        raw = self.raw.get(key, default)
        return check_int(raw, self.where(key), least, most)

    def choice(self, key: str, options: Sequence[str], default: str, *,
               what: str = "") -> str:
        raw = self.raw.get(key, default)
        return check_choice(raw, options, self.where(key), what)

    def flag(self, key: str, default: bool) -> bool:
        raw = self.raw.get(key, default)
        if not isinstance(raw, bool):
            raise SpecError(f"must be true or false, found {kind_of(raw)}",
                            self.where(key))
        return raw

    def seed(self) -> int:
        """The initializer's seed: `init: {seed: N}` (default 0)."""
        raw = self.raw.get("init")
        if raw is None:
            return 0
        if not isinstance(raw, Mapping):
            raise SpecError(f"must be a mapping such as {{seed: 0}}, found {kind_of(raw)}",
                            self.where("init"))
        for k in raw:
            if k != "seed":
                raise SpecError(f"unknown key '{k}'",
                                self.where("init", k),
                                suggest(str(k), ["seed"]) or "the only key is seed")
        return check_int(raw.get("seed", 0), self.where("init", "seed"), 0, 2**63)


def check_name(raw: object, where: Location) -> str:
    """A name a user chose for a leaf: an identifier that is not a function or a dunder."""
    if not isinstance(raw, str) or not raw.isidentifier():
        shown = f"'{raw}'" if isinstance(raw, str) else kind_of(raw)
        raise SpecError(f"must be a name (letters, digits and _, not starting with a digit), "
                        f"found {shown}", where)
    if raw.startswith("__"):
        raise SpecError("names starting with '__' are not allowed", where,
                        f"try '{raw.lstrip('_') or 'x'}'")
    if raw in g.FUNCTIONS:
        raise SpecError(f"'{raw}' is a function; a name cannot be a function's name", where,
                        f"try '{raw}_'")
    return raw


def check_int(raw: object, where: Location, least: int,
              most: int | None = None) -> int:
    whole = isinstance(raw, int) or (isinstance(raw, Fraction) and raw.denominator == 1)
    if isinstance(raw, bool) or not whole:
        raise SpecError(f"must be a whole number, found {kind_of(raw)}", where)
    value = int(raw)  # type: ignore[arg-type]
    if value < least:
        raise SpecError(f"must be at least {least}, found {value}", where)
    if most is not None and value > most:
        raise LimitError(f"{count_text(value)} is over the limit of {most:,}", where)
    return value


def check_choice(raw: object, options: Sequence[str], where: Location, what: str = "") -> str:
    if not isinstance(raw, str) or raw not in options:
        shown = f"'{raw}'" if isinstance(raw, str) else kind_of(raw)
        hint = (suggest(raw, options) if isinstance(raw, str) else None) or \
            "choose one of " + ", ".join(options)
        raise SpecError(f"unknown {what or 'value'} {shown}", where, hint)
    return raw


def check_size(count: int, where: Location, what: str, nodes: int, edges: int) -> None:
    """Refuse a network with more names, nodes or edges (a name a node uses) than a spec may
    have, before building it."""
    # the same limits a hand-written spec gets, PATHGRAD_MAX_NAMES, _NODES and _EDGES too
    limits = Limits.from_env()
    if nodes > limits.max_nodes:
        raise too_many_nodes(nodes, f"{what} would have", where, limits)
    if edges > limits.max_edges:
        raise too_many_edges(edges, f"{what} would have", where, limits)
    if count > limits.max_names:
        raise LimitError(f"{what} would have {count:,} names; the limit is "
                         f"{limits.max_names:,}", where,
                         f"raise the limit with PATHGRAD_MAX_NAMES={count}")


# --- ASTs, built directly -------------------------------------------------------------------


def mul(a: g.Expr, b: g.Expr) -> g.Expr:
    return g.BinOp("*", a, b)


def sub(a: g.Expr, b: g.Expr) -> g.Expr:
    return g.BinOp("-", a, b)


def call(func: str, arg: g.Expr) -> g.Expr:
    return g.Call(func, (arg,))


def add_all(terms: Sequence[g.Expr]) -> g.Expr:
    """t1 + t2 + … as the parser would build it (a left chain); very long sums become a
    balanced tree of left chains, so no walk of the tree goes thousands of levels deep."""
    if not terms:
        return g.Num(Fraction(0))
    if len(terms) > _CHAIN:
        mid = len(terms) // 2
        return g.BinOp("+", add_all(terms[:mid]), add_all(terms[mid:]))
    out = terms[0]
    for t in terms[1:]:
        out = g.BinOp("+", out, t)
    return out


def half_sum_of_squares(pairs: Iterable[tuple[str, str]]) -> g.Expr:
    """½·Σ (y − a)², written ((y1 − a1)^2 + …)/2 so ∂E/∂a reads a − y."""
    two = g.Num(Fraction(2))
    squares = [g.BinOp("^", sub(g.Name(y), g.Name(a)), two) for y, a in pairs]
    return g.BinOp("/", add_all(squares), two)


# --- the user's own sections -----------------------------------------------------------------


def merge_user_sections(doc: Document, built: Built, builder: str) -> dict[str, Any]:
    """The nodes-form data: the built network with the user's values and LaTeX merged in.

    Every name in the user's `inputs:`/`params:` must be one the builder made: a typo or a
    name from another bias mode is an error, not a silently unused leaf.
    """
    data = doc.data
    if "nodes" in data:
        raise SpecError(f"cannot be used with `{builder}:`, which writes the nodes",
                        doc.where("nodes"),
                        f"run `pathgrad expand` to get the nodes form of the {builder} and edit "
                        "that, or remove `nodes:`")
    loss = data.get("loss")
    if loss is not None and loss != built.loss:
        raise SpecError(f"with `{builder}:` the loss is the node '{built.loss}', not '{loss}'",
                        doc.where("loss"), "remove `loss:`")
    check_names_free(doc, built, builder)
    sections = {"inputs": built.inputs, "params": built.params}
    for section, generated in sections.items():
        raw = data.get(section)
        if raw is None:
            continue
        if isinstance(raw, list):
            for i, name in enumerate(raw):
                if not isinstance(name, str):
                    raise SpecError(f"a list of names, but item {i + 1} is {kind_of(name)}",
                                    doc.where(section, i))
            raw = dict.fromkeys(raw)
        if not isinstance(raw, Mapping):
            raise SpecError(f"must be a mapping (name: value) or a list of names, found "
                            f"{kind_of(raw)}", doc.where(section))
        other = "params" if section == "inputs" else "inputs"
        for name, value in raw.items():
            where = doc.where(section, name)
            if name not in generated:
                if name in sections[other]:
                    raise SpecError(f"this is one of the {builder}'s {other}, not its {section}",
                                    where, f"move it to `{other}:`")
                hint = suggest(str(name), generated) or (
                    f"the {builder}'s {section} are " + _few(generated))
                raise SpecError(f"the {builder} has no {section[:-1]} '{name}'", where, hint)
            try:
                parsed = parse_value(value)
            except ValueError as exc:
                raise SpecError(f"{exc}",
                                doc.where(section, name, key=False)) from None
            if parsed is not None:
                generated[name] = parsed
    out: dict[str, Any] = {k: data[k] for k in ("version", "name", "description") if k in data}
    user_latex = data.get("latex")
    latex: Mapping[str, Any] = built.latex
    if isinstance(latex, LazyLatex):  # made when read; the user's entries go on top
        if isinstance(user_latex, Mapping):
            latex = latex.with_overrides(user_latex, doc.source)
    elif isinstance(user_latex, Mapping):
        latex = {**latex, **user_latex}  # the user's display names win; spec checks them
    if user_latex is not None and not isinstance(user_latex, Mapping):
        latex = user_latex  # not a mapping: let spec report it with its line
    out.update(inputs=built.inputs, params=built.params, nodes=built.nodes, loss=built.loss,
               latex=latex)
    return out


def _few(names: Iterable[str], n: int = 6) -> str:
    items = list(names)
    return ", ".join(items[:n]) + (", …" if len(items) > n else "")


def check_names_free(doc: Document, built: Built, builder: str) -> None:
    """A name the user chose (an input, a target) must not be one the builder generates."""
    params, nodes = built.params, built.nodes
    user = built.user_names
    for name in built.inputs:
        if name in params or name in nodes:
            path = user.get(name, ())
            raise SpecError(f"the name '{name}' clashes with a name the {builder} generates",
                            doc.where(builder, *path), "choose another name")
    for name, path in user.items():
        if name in params or name in nodes:
            raise SpecError(f"the name '{name}' clashes with a name the {builder} generates",
                            doc.where(builder, *path), "choose another name")


# --- initial values ---------------------------------------------------------------------------


class Initializer:
    """Seeded values for params the user gave none: uniform(−1/√fan_in, 1/√fan_in), 4 decimals
    (PyTorch's nn.Linear default, for weights and biases alike).

    One number is drawn for every param in declaration order, given or not, so the value of a
    param never depends on which other params the user set.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self._fan_in: dict[str, int] = {}
        self._runs: list[tuple[list[str], int]] = []  # add_all's names, in the order added

    @property
    def fan_in(self) -> dict[str, int]:
        """Each added param's fan_in."""
        for names, n in self._runs:
            self._fan_in.update(zip(names, repeat(n)))
        self._runs.clear()
        return self._fan_in

    def add(self, name: str, fan_in: int) -> None:
        self.fan_in[name] = fan_in

    def add_all(self, names: list[str], fan_in: int) -> None:
        """add(name, fan_in) for each of `names`, at once (a layer's weights, say)."""
        if self._fan_in:
            self._fan_in.update(zip(names, repeat(fan_in)))
        else:
            self._runs.append((names, fan_in))

    def fill(self, params: dict[str, Fraction | None]) -> list[str]:
        """Give every param without a value its draw; return the names that got one."""
        names = list(params)
        runs = self._runs
        if not self._fan_in and names == list(chain.from_iterable(ns for ns, _ in runs)):
            # added run by run in declaration order (a builder's layers): no dict per name
            spans = [(len(ns), n) for ns, n in runs]
        else:
            fans = list(map(self.fan_in.get, names, repeat(1)))
            spans = [(len(list(group)), n) for n, group in groupby(fans)]
        rng = self.rng
        ks: list[int] = []
        for count, n in spans:
            bound = 1 / math.sqrt(n)
            # random.Random.uniform(-bound, bound) written out, one draw per param in order:
            # round((-bound + 2 * bound * draw()) * 10_000), each step mapped in C
            draws = map(random.Random.random, repeat(rng, count))
            ks += map(round, map(_mul, map(_add, repeat(-bound),
                                           map(_mul, repeat(2 * bound), draws)), repeat(10_000)))
        exact = {k: Fraction(k, 10_000) for k in set(ks)}  # at most 20,001 distinct values
        values = map(exact.__getitem__, ks)
        given_values = list(params.values())
        if given_values.count(None) != len(given_values):
            done = []  # some params have values of their own: they keep them
            for name, given, value in zip(names, given_values, values):
                if given is None:
                    params[name] = value
                    done.append(name)
            return done
        params.update(zip(names, values))  # none has a value (the usual case)
        return names

    def meta(self, initialized: list[str]) -> dict[str, Any]:
        return {"seed": self.seed, "distribution": INIT_DISTRIBUTION,
                "initialized": initialized}
