"""`pathgrad matrix` in the terminal: BP1–BP4 layer by layer with the matrices drawn as
matrices (⎡ ⎤ brackets), the values at the point, the path counts, and with --weight the bridge
from the weight's paths to its entry of δ^l (a^{l−1})ᵀ, grouped as BP2 adds them up.

Every equation is a row of blocks; when a row is wider than the terminal it is broken before
an `=`, `⊙` or `+`, so nothing is cut mid-matrix at 80 columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sympy as sp
from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from ..analyses.matrix import Bridge, Layer, MatrixForm
from ..spec import Spec
from ..verify.methods import Verification
from .formats import count as big
from .formats import number
from .notation import Notation

__all__ = ["matrix", "Equation", "bracket", "column", "indent", "heading", "verdict", "sup",
           "MATRIX_MAX", "UNITS_MAX", "delta_text"]

MATRIX_MAX = 5  # matrices with more rows or columns than this are not drawn (JSON has them)
UNITS_MAX = 8  # δ lines per layer at most
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_DELTA = re.compile(r"\bdelta(\d+_\d+)\b")


def sup(n: int) -> str:
    """A layer number as a superscript: 2 → ², 10 → ¹⁰."""
    return str(n).translate(_SUP)


def delta_text(text: str) -> str:
    """delta2_1 → δ2_1 in text for people."""
    return _DELTA.sub(r"δ\1", text)


class _Printer:
    def __init__(self, mf: MatrixForm) -> None:
        self.note = Notation(mf.spec)

    def __call__(self, expr: sp.Basic) -> str:
        return delta_text(self.note.pretty(expr))

    def factor(self, expr: sp.Basic) -> str:
        return delta_text(self.note.factor(expr))


Block = list[str]  # the lines of a block, all of one width


def bracket(cells: Sequence[Sequence[str]], right: bool = False) -> Block:
    """A matrix drawn with ⎡ ⎤ brackets; `right` aligns the cells right (numbers)."""
    cols = len(cells[0])
    widths = [max(len(r[c]) for r in cells) for c in range(cols)]
    lines = ["  ".join(cell.rjust(w) if right else cell.ljust(w)
                       for cell, w in zip(row, widths)) for row in cells]
    if len(lines) == 1:
        return [f"[{lines[0]}]"]
    out = []
    for i, line in enumerate(lines):
        left, end = ("⎡", "⎤") if i == 0 else (("⎣", "⎦") if i == len(lines) - 1 else ("⎢", "⎥"))
        out.append(f"{left}{line}{end}")
    return out


def _column(items: Sequence[str], right: bool = False) -> Block:
    return bracket([[x] for x in items], right)


column = _column  # public: the rnn renderer draws with it too


def _width(block: Block) -> int:
    return max((len(s) for s in block), default=0)


def _hjoin(blocks: Sequence[Block]) -> Block:
    """Blocks side by side, centred vertically, one space between them."""
    height = max(len(b) for b in blocks)
    columns = []
    for b in blocks:
        w = _width(b)
        top = (height - len(b)) // 2
        columns.append([(b[r - top] if 0 <= r - top < len(b) else "").ljust(w)
                        for r in range(height)])
    return [" ".join(col[r] for col in columns) for r in range(height)]


class Equation:
    """A row of blocks (matrices, names, operators), broken before an operator when it does
    not fit the console's width; continuation rows are indented."""

    BREAK_BEFORE = ("=", "⊙", "+", "·")

    def __init__(self, items: Sequence[Block | str], indent: int = 6) -> None:
        self.items = [[x] if isinstance(x, str) else list(x) for x in items]
        self.indent = indent

    def rows(self, width: int) -> list[Block]:
        rows: list[list[Block]] = [[]]
        used = 0
        items = self.items
        for i, item in enumerate(items):
            w = _width(item) + 1
            starts = len(item) == 1 and item[0].strip() in self.BREAK_BEFORE
            # an operator starts a new row when it and the block after it do not fit
            after = _width(items[i + 1]) + 1 if starts and i + 1 < len(items) else 0
            if rows[-1] and starts and used + w + after > width - self.indent:
                rows.append([])
                used = 4  # the continuation indent
            rows[-1].append(item)
            used += w
        out = []
        for i, row in enumerate(rows):
            joined = _hjoin(row)
            pad = " " * (self.indent + (4 if i else 0))
            out.append([pad + line for line in joined])
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for block in self.rows(options.max_width):
            for line in block:
                yield Text(line.rstrip(), no_wrap=False)


def heading(what: str, spec: Spec) -> list[RenderableType]:
    """The title line (what, the spec's name and file) and the builder's summary lines."""
    title = Text(what, style="bold")
    if spec.name:
        title.append(f" — {spec.name}")
    title.append(f"  ({spec.source})", style="dim")
    parts: list[RenderableType] = [title]
    for line in spec.meta.get("summary") or ():
        parts.append(Text(line, style="dim"))
    return parts


def verdict(v: Verification) -> RenderableType:
    """✓ verified (or ✗ NOT VERIFIED) and the detail, side by side."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column()
    grid.add_column()
    if v.verified:
        grid.add_row(Text("✓ verified", style="bold green"), Text(v.detail))
    else:
        grid.add_row(Text("✗ NOT VERIFIED", style="bold red"), Text(v.detail, style="red"))
    return grid


def _title(mf: MatrixForm) -> RenderableType:
    parts = heading("Backprop in matrix form (Nielsen's BP1–BP4)", mf.spec)
    parts.append(Text(
        "Convention (Nielsen): w{l}_{j}_{k} joins unit k of layer l−1 to unit j of layer l, so "
        "in W^l row j is the unit a weight enters and column k the unit it leaves; z^l = W^l "
        "a^{l−1} + b^l, a^l = σ(z^l), δ^l_j = ∂E/∂z^l_j. Numerator layout: ∂E/∂W^l has the "
        "shape of W^l.".replace("E", mf.loss), style="italic"))
    value = number(mf.loss_value)
    parts.append(Text(f"{mf.loss} = {value} at the point; the equations run from the loss "
                      "down to layer 1."))
    return Group(*parts)


def _vector(name: str, l: int) -> str:  # noqa: E741
    return f"{name}{sup(l)}"


def _values(xs: Sequence[float | None]) -> Block:
    return _column([number(x) for x in xs], right=True)


def _layer(mf: MatrixForm, layer: Layer, pr: _Printer) -> list[RenderableType]:
    L = len(mf.layers)  # noqa: N806
    l = layer.layer  # noqa: E741
    n, m = layer.units, layer.fan_in
    loss = mf.loss
    where = " (the output layer, l = L)" if l == L else ""
    act = layer.activation
    prev = f"a⁰ (the inputs {', '.join(str(x) for x in layer.a_prev)})" if l == 1 else \
        f"a{sup(l - 1)}"
    head = Text(f"Layer {l}{where}: {n} {act} unit{'s' * (n != 1)}. W{sup(l)} is {n}×{m}, "
                f"{prev} is {m}×1, δ{sup(l)} is {n}×1", style="bold")
    parts: list[RenderableType] = [Text(""), head]
    draw = n <= MATRIX_MAX and m <= MATRIX_MAX
    deltas = [_DELTA.sub(r"δ\1", str(d)) for d in layer.delta]
    d_vec = _column(deltas)
    counts = layer.paths_per_delta
    if l == L:
        if mf.softmax:
            ys = " + ".join(mf.targets)
            form = f"a{sup(l)} − y" if mf.delta_note else f"a{sup(l)}·({ys}) − y"
            parts.append(Text(f" BP1  softmax + cross-entropy: δ{sup(l)} = {form} "
                              f"(the softmax couples the outputs through s{l}, so δ is "
                              f"J_softmaxᵀ ∇ₐ{loss}, not an elementwise ⊙)"))
            if mf.delta_note:
                parts.append(_indent(Text(f"why a{sup(l)} − y: a{sup(l)}·({ys}) − y is exact "
                                          f"for any targets, and here {ys} = 1 (the targets "
                                          "are numbers adding up to 1)", style="dim")))
            if draw:
                parts.append(Equation([d_vec, "=",
                                       _column([pr(e) for e in layer.shown_delta_expr]),
                                       "=", _values(layer.delta_values)]))
        else:
            parts.append(Text(f" BP1  δ{sup(l)} = ∇ₐ{loss} ⊙ σ′(z{sup(l)})   "
                              f"(∇ₐ{loss}: ∂{loss}/∂a{l}_j, σ′: ∂a{l}_j/∂z{l}_j)"))
            if draw and layer.sigma_prime is not None:
                parts.append(Equation([d_vec, "=", _column([pr(e) for e in mf.grad_a]), "⊙",
                                       _column([pr(e) for e in layer.sigma_prime]), "=",
                                       _values(layer.delta_values)]))
    else:
        nxt = mf.layers[l]
        parts.append(Text(f" BP2  δ{sup(l)} = ((W{sup(l + 1)})ᵀ δ{sup(l + 1)}) ⊙ σ′(z{sup(l)})"))
        parts.append(_indent(Text(f"row j of (W{sup(l + 1)})ᵀ: the weights leaving unit j of "
                                  f"layer {l}, in the order of the unit of layer {l + 1} they "
                                  "enter", style="dim")))
        if draw and nxt.units <= MATRIX_MAX and layer.sigma_prime is not None:
            wt = bracket([[str(nxt.W[i, j]) for i in range(nxt.units)] for j in range(n)])
            dn = _column([_DELTA.sub(r"δ\1", str(d)) for d in nxt.delta])
            parts.append(Equation([d_vec, "=", wt, dn, "⊙",
                                   _column([pr(e) for e in layer.sigma_prime]), "=",
                                   _values(layer.delta_values)]))
    for j in range(min(n, UNITS_MAX)):
        paths = counts[j]
        why = f"{big(paths)} path{'s' * (paths != 1)}"
        if l < L and mf.layers[l].units > 1:
            why += " = " + " + ".join(big(c) for c in mf.layers[l].paths_per_delta)
        line = Text(f"{deltas[j]} = {_delta_formula(mf, layer, j, pr)} = "
                    f"{number(layer.delta_values[j])}")
        line.append(f"   [{why}]", style="dim")
        parts.append(_indent(line))
    if n > UNITS_MAX:
        parts.append(Text(f"      … {n - UNITS_MAX:,} more (--format json has every δ)",
                          style="dim"))
    # BP3
    if layer.bias_mode == "unit":
        parts.append(Text(f" BP3  ∂{loss}/∂b{sup(l)} = δ{sup(l)}: ∂{loss}/∂b{l}_j = δ{l}_j"))
    elif layer.bias_mode == "layer":
        parts.append(Text(f" BP3  one bias b{l} for the layer: ∂{loss}/∂b{l} = Σ_j δ{l}_j = "
                          f"{number(layer.grad_b)}"))  # type: ignore[arg-type]
    else:
        parts.append(Text(" BP3  (no biases: bias: none)", style="dim"))
    # BP4
    parts.append(Text(f" BP4  ∂{loss}/∂W{sup(l)} = δ{sup(l)} (a{sup(l - 1)})ᵀ: "
                      f"entry (j, k) = a{l - 1}_k·δ{l}_j" if l > 1 else
                      f" BP4  ∂{loss}/∂W¹ = δ¹ (a⁰)ᵀ: entry (j, k) = x_k·δ1_j"))
    if draw:
        sym = bracket([[f"{pr(layer.a_prev[k])}·{deltas[j]}" for k in range(m)]
                       for j in range(n)])
        num = bracket([[number(x) for x in row] for row in layer.grad_W], right=True)
        parts.append(Equation([sym, "=", num]))
    return parts


def _delta_formula(mf: MatrixForm, layer: Layer, j: int, pr: _Printer) -> str:
    """δ^l_j in the order of the equation: (Σ_i w·δ)·σ′ (BP2), ∂E/∂a·σ′ (BP1)."""
    l = layer.layer  # noqa: E741
    if layer.sigma_prime is None:  # softmax: the closed form
        return pr(layer.shown_delta_expr[j])
    sigma = pr.factor(layer.sigma_prime[j])
    if l == len(mf.layers):
        return f"{pr.factor(mf.grad_a[j])}·{sigma}"
    nxt = mf.layers[l]
    back = sp.Add(*(nxt.W[i, j] * nxt.delta[i] for i in range(nxt.units)))
    inner = pr(back)
    return (f"({inner})" if nxt.units > 1 else inner) + f"·{sigma}"


def _indent(r: RenderableType, by: int = 6) -> RenderableType:
    from rich.padding import Padding

    return Padding(r, (0, 0, 0, by))


indent = _indent  # public: the rnn renderer indents with it too


def _bridge(mf: MatrixForm, br: Bridge, pr: _Printer) -> list[RenderableType]:
    loss = mf.loss
    l, j, k = br.layer, br.row, br.column  # noqa: E741
    L = len(mf.layers)  # noqa: N806
    layer = mf.layers[l - 1]
    parts: list[RenderableType] = [Text("")]
    if br.kind == "weight":
        where = f"entry ({j}, {k}) of ∂{loss}/∂W{sup(l)} = δ{sup(l)} (a{sup(l - 1)})ᵀ"
    elif br.kind == "bias":
        where = f"entry {j} of ∂{loss}/∂b{sup(l)} = δ{sup(l)}"
    else:
        where = f"the sum of the entries of δ{sup(l)}"
    parts.append(Text(f"The bridge: ∂{loss}/∂{br.param} as a sum over its paths and as "
                      f"{where}", style="bold"))
    parts.append(_indent(Text(f"∂{loss}/∂{br.param} = {entry(mf, br, pr)} = "
                              f"{number(br.value)}"), 2))
    n = br.path_count
    intro = f"  {br.param} has {big(n)} path{'s' * (n != 1)} to {loss}."
    if br.kind != "layer bias":
        z, a = f"z{l}_{j}", f"a{l}_{j}"
        first = pr(br.first_factor) if br.first_factor is not None else "1"
        share = (f" Every one starts {br.param} → {z}" + (f" → {a}" if l < L or not mf.softmax
                                                          else "") +
                 f": ∂{z}/∂{br.param} = {first}" +
                 (f" (the a{sup(l - 1)}_{k} of BP4)" if br.kind == "weight" else " (BP3)"))
        if br.sigma_prime is not None and (l < L or not mf.softmax):
            share += f" and ∂{a}/∂{z} = {pr(br.sigma_prime)} (the σ′(z{l}_{j}) of BP2)"
        intro += share + "."
    if br.kind == "layer bias":
        intro += (f" The bias enters every unit of layer {l}; grouped by the unit j it enters, "
                  f"group j is δ{l}_j's paths.")
    elif l < L:
        nxt = mf.layers[l]
        ws = ", ".join(str(nxt.W[i, j - 1]) for i in range(nxt.units))  # type: ignore[operator]
        intro += (f" Then each path leaves unit {j} of layer {l} along one of the weights "
                  f"{ws} — row {j} of (W{sup(l + 1)})ᵀ — into a unit i of layer {l + 1}, and "
                  f"from there it is one of δ{l + 1}_i's paths. Grouped by that next unit:")
    elif mf.softmax:
        intro += (f" The softmax sends each path to E through some output a{l}_i (directly for "
                  f"i = {j}, or through s{l}); grouped by that output, group i adds up to "
                  f"∂{loss}/∂a{l}_i · ∂a{l}_i/∂z{l}_{j}, entry (i, {j}) of the softmax's "
                  f"Jacobian — a transpose again: δ{sup(l)} = Jᵀ ∇ₐ{loss}.")
    else:
        intro += f" It ends a{l}_{j} → {loss}: BP1's ∂{loss}/∂a{l}_{j}, one path."
    parts.append(_indent(Text(intro.strip()), 2))
    parts.append(_GroupTable(mf, br, pr))
    # the sum
    total = Text(f"  sum over the {big(n)} path{'s' * (n != 1)}: ")
    if br.kind != "layer bias" and l < L:
        nxt = mf.layers[l]
        row = sp.Add(*(g.term for g in br.groups))
        total.append(" · ".join([*_shared(mf, br, pr), f"({pr(row)})"]) + f" = {entry(mf, br, pr)}"
                     f" = {number(br.value)}")
    else:
        total.append(f"{entry(mf, br, pr)} = {number(br.value)}")
    total.plain = total.plain.strip()
    parts.append(_indent(total, 2))
    if br.kind != "layer bias" and l < L:
        nxt = mf.layers[l]
        ws = ", ".join(str(nxt.W[i, j - 1]) for i in range(nxt.units))  # type: ignore[operator]
        parts.append(_indent(Text(
            f"Where the transpose comes from: row {j} of (W{sup(l + 1)})ᵀ is ({ws}), column "
            f"{j} of W{sup(l + 1)}: the weights that leave unit {j} of layer {l}, sorted by the "
            f"unit of layer {l + 1} they go to next. Each row of the transpose is the paths that "
            f"leave unit j, sorted by where they go next, so ((W{sup(l + 1)})ᵀ δ{sup(l + 1)})_j "
            f"adds up exactly the groups above, and ⊙ σ′(z{sup(l)}) is the edge {f'z{l}_{j}'} → "
            f"a{l}_{j} they all share.", style="italic"), 2))
    counts = ""
    if l < L:
        per = " + ".join(big(g.count) for g in br.groups)
        counts = (f"  Paths: δ{l}_{j} stands for {big(layer.paths_per_delta[(j or 1) - 1])} "
                  f"paths ({per}, one term per unit of layer {l + 1}); ") if br.kind != \
            "layer bias" else f"  Paths: {' + '.join(big(g.count) for g in br.groups)}; "
    else:
        counts = "  Paths: "
    counts += f"this entry stands for {big(n)}."
    parts.append(_indent(Text(counts.strip()), 2))
    listing = br.listing_multiplications
    cost = (f"  Multiplications: listing its {big(n)} paths and multiplying along each, "
            f"{big(listing)}; " if listing is not None else "  Multiplications: ")
    cost += f"from the δ's of the layer above, {br.matrix_multiplications}. Whole gradient: "
    cost += (f"the matrix form {big(mf.matrix_multiplications)}, listing every path of every "
             f"param {big(mf.listing_multiplications)}.")
    parts.append(_indent(Text(cost.strip()), 2))
    return parts


def entry(mf: MatrixForm, br: Bridge, pr: _Printer) -> str:
    """The bridge's entry as BP4 writes it: a^{l−1}_k·δ^l_j (weight first), δ^l_j, Σ_j δ^l_j."""
    if br.kind == "weight" and br.first_factor is not None:
        layer = mf.layers[br.layer - 1]
        return f"{pr(br.first_factor)}·{pr(layer.delta[(br.row or 1) - 1])}"
    return pr(br.entry)


def _shared(mf: MatrixForm, br: Bridge, pr: _Printer) -> list[str]:
    """The factors every path of the bridge shares, as text: a^{l−1}_k and σ′(z^l_j)."""
    out = []
    if br.kind == "weight" and br.first_factor is not None:
        out.append(pr.factor(br.first_factor))
    if br.sigma_prime is not None and (br.layer < len(mf.layers) or not mf.softmax):
        out.append(pr.factor(br.sigma_prime))
    return out


class _GroupTable:
    """The bridge's paths, one block per group; path and partials side by side when wide."""

    def __init__(self, mf: MatrixForm, br: Bridge, pr: _Printer) -> None:
        self.mf, self.br, self.pr = mf, br, pr
        self.shared = _shared(mf, br, pr)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        br, pr = self.br, self.pr
        rows = []
        for g in br.groups:
            label = g.node + (f" via {g.edge}" if g.edge is not None else "") + \
                f"\n{big(g.count)} path{'s' * (g.count != 1)}"
            members = []
            for p in g.paths:
                partials = " · ".join(pr.factor(f) for f in p.factors)
                members.append((" → ".join(p.nodes), partials, number(p.value)))
            rows.append((label, g, members))
        longest = max((len(a) + len(b) for _, _, ms in rows for a, b, _ in ms), default=0)
        wide = longest + 40 <= options.max_width
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("next unit" if br.kind != "layer bias" else "unit it enters",
                         no_wrap=True)
        if wide:
            table.add_column("path", no_wrap=True)
            table.add_column("local partials (weight side first)")
        else:
            table.add_column("path · local partials (weight side first)")
        table.add_column("value", justify="right", no_wrap=True)
        for label, g, members in rows:
            for i, (path, partials, value) in enumerate(members):
                first = Text(label, style="bold") if i == 0 else ""
                cells = [path, partials] if wide else [f"{path}\n{partials}"]
                table.add_row(first, *cells, value)
            if not members:
                table.add_row(Text(label, style="bold"), *([""] * (2 if wide else 1)), "")
            own = pr.factor(g.term) if self.shared else pr(g.term)
            term = Text(f"group: {' · '.join([*self.shared, own])}", style="bold")
            cells = ["", term] if wide else [term]
            table.add_row("", *cells, Text(number(g.value), style="bold"), end_section=True)
        yield table
        if br.listed < br.path_count:
            yield Text(f"  ({br.listed:,} of {big(br.path_count)} paths shown; each group's "
                       "total is its δ term)", style="dim")


def matrix(mf: MatrixForm) -> RenderableType:
    """The whole terminal output."""
    pr = _Printer(mf)
    parts: list[RenderableType] = [_title(mf)]
    for layer in reversed(mf.layers):
        parts += _layer(mf, layer, pr)
    parts.append(Text(""))
    parts.append(Text(f"Multiplications for the whole gradient: the matrix form "
                      f"{big(mf.matrix_multiplications)} (BP1, BP2 and BP4, each edge once); "
                      f"listing every path of every param {big(mf.listing_multiplications)}."))
    if mf.bridge is not None:
        parts += _bridge(mf, mf.bridge, pr)
    parts.append(Text(""))
    parts.append(verdict(mf.verification))
    return Group(*parts)
