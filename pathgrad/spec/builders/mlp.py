"""The `mlp` builder: a fully connected network in a few lines, named as in Nielsen's book.

```yaml
mlp:
  inputs: [x1, x2]      # required: the input names (layer 0); their values go in `inputs:`
  layers: [2, 2]        # required: units per layer: hidden layers, then the output layer
  activation: sigmoid   # one for all layers, or a list with one per layer: sigmoid (default),
                        # tanh, relu, softplus, linear (a = z), softmax (output layer only)
  bias: unit            # unit: b{l}_{j} (default) | layer: one b{l} per layer | none
  loss: mse             # mse (default):  E = ½·Σ_j (y_j − a{L}_{j})²
                        # cross_entropy:  E = −Σ_j y_j·log(a{L}_{j})
                        # bce:  E = −Σ_j (y_j·log(a{L}_{j}) + (1 − y_j)·log(1 − a{L}_{j}))
  targets: [y1, y2]     # one per output unit (default: y for one output unit, else y1, y2, …)
  init: {seed: 0}       # params given no value get seeded values (default seed 0)
```

Generated names (l = 1…L is the layer, j the unit, k the unit of layer l − 1; layer 0 is the
inputs themselves, so layer 1 reads x1, x2, …):

- `w{l}_{j}_{k}` the weight from unit k of layer l − 1 to unit j of layer l   (w^{(l)}_{jk})
- `b{l}_{j}` (bias: unit) or `b{l}` (bias: layer)                            (b^{(l)}_{j}, b^{(l)})
- `z{l}_{j} = Σ_k w{l}_{j}_{k}·a{l−1}_{k} + b{l}_{j}` the weighted input        (z^{(l)}_{j})
- `a{l}_{j} = act(z{l}_{j})` the activation; with `linear` the node is a{l}_{j} = z{l}_{j}
- with softmax on the output layer: `s{L} = Σ_j exp(z{L}_{j})` (the denominator, s^{(L)}) and
  `a{L}_{j} = exp(z{L}_{j})/s{L}`
- `E` the loss.

Params without a value get uniform(−1/√fan_in, 1/√fan_in) rounded to 4 decimals, fan_in the
width of layer l − 1 (PyTorch's nn.Linear default), from Python's random.Random(seed), one draw
per param in declaration order (weights of a layer row by row, then its biases).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import chain
from typing import Any

from ...errors import SpecError
from .. import grammar as g
from ..model import LazyLatex, LazyNodes
from ..source import Document
from ._common import (
    ACTIVATIONS,
    Block,
    Built,
    Initializer,
    add_all,
    call,
    check_choice,
    check_size,
    half_sum_of_squares,
    kind_of,
    mul,
    sub,
)

__all__ = ["build", "KEYS", "LOSSES", "BIAS_MODES", "OUTPUT_ACTIVATIONS", "latex_name"]

KEYS = ("inputs", "layers", "activation", "bias", "loss", "targets", "init")
LOSSES = ("mse", "cross_entropy", "bce")
BIAS_MODES = ("unit", "layer", "none")
OUTPUT_ACTIVATIONS = (*ACTIVATIONS, "softmax")
_LOSS_TEXT = {"mse": "E = ½·Σ_j (y_j − a{L}_j)²", "cross_entropy": "E = −Σ_j y_j·log(a{L}_j)",
              "bce": "E = −Σ_j (y_j·log(a{L}_j) + (1 − y_j)·log(1 − a{L}_j))"}
_EXAMPLE = "{inputs: [x1, x2], layers: [2, 1]}"


def latex_name(kind: str, layer: int, *units: int) -> str:
    """The display name of a generated name: w^{(l)}_{jk}, b^{(l)}_{j}, b^{(l)}, z^{(l)}_{j}.

    Unit indices are run together while all are single digits (w^{(1)}_{21}) and separated by
    commas otherwise (w^{(1)}_{12,3}, since 123 could be 1,23).
    """
    if not units:
        return f"{kind}^{{({layer})}}"
    sep = "," if any(i > 9 for i in units) else ""
    return f"{kind}^{{({layer})}}_{{{sep.join(map(str, units))}}}"


def _edges(widths: list[int], acts: list[str], bias: bool, loss: str) -> int:
    """The names each node would use, counted: z = Σ w·a (+ b), a = f(z) or softmax's z and
    s, s = Σ exp(z), and the loss: each target and output (bce: the one output and y)."""
    out = 0
    for fan_in, width, act in zip(widths, widths[1:], acts):
        out += width * (2 * fan_in + bias)
        out += width * 3 if act == "softmax" else width  # softmax: s uses each z, a uses z, s
    return out + 2 * widths[-1]


def _layers(b: Block) -> list[int]:
    raw = b.raw.get("layers")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = [raw]  # one layer: `layers: 1`
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"must be a list of layer widths, found {kind_of(raw)}",
                        b.where("layers"), "for example `layers: [3, 1]`: 3 hidden units, "
                        "then 1 output unit")
    out = []
    for i, width in enumerate(raw):
        ok = isinstance(width, int) or (isinstance(width, Fraction) and width.denominator == 1)
        if isinstance(width, bool) or not ok or int(width) < 1:
            raise SpecError(f"a layer width must be a positive whole number, found "
                            f"{kind_of(width)}", b.where("layers", i))
        out.append(int(width))
    return out


def _activations(b: Block, n_layers: int) -> list[str]:
    raw = b.raw.get("activation", "sigmoid")
    if isinstance(raw, list):
        if len(raw) != n_layers:
            raise SpecError(f"{len(raw)} activations for {n_layers} "
                            f"layer{'s' * (n_layers != 1)}", b.where("activation"),
                            "give one per layer, or a single name for all layers")
        return [check_choice(a, OUTPUT_ACTIVATIONS, b.where("activation", i), "activation")
                for i, a in enumerate(raw)]
    act = check_choice(raw, OUTPUT_ACTIVATIONS, b.where("activation"), "activation")
    if act == "softmax" and n_layers > 1:
        raise SpecError("softmax is only for the output layer, and `activation: softmax` "
                        "applies to every layer", b.where("activation"),
                        "give a list, e.g. [sigmoid, softmax]")
    return [act] * n_layers


def build(doc: Document) -> tuple[Built, Initializer]:
    """Read the `mlp:` block of `doc` and build the network (params without values yet)."""
    b = Block(doc, "mlp", _EXAMPLE)
    b.check_keys(KEYS, required=("inputs", "layers"))
    inputs = b.names("inputs", what="input names")
    layers = _layers(b)
    acts = _activations(b, len(layers))
    bias = b.choice("bias", BIAS_MODES, "unit", what="bias mode")
    loss = b.choice("loss", LOSSES, "mse", what="loss")
    n_out = layers[-1]
    # refuse a network too large to build before making any list of its names
    widths = [len(inputs), *layers]
    count = sum(widths[i] * widths[i + 1] + 3 * widths[i + 1] for i in range(len(layers)))
    check_size(count + len(inputs) + n_out + len(layers) + 1, b.where("layers"), "this mlp",
               nodes=2 * sum(layers) + acts.count("softmax") + 1,
               edges=_edges(widths, acts, bias != "none", loss))
    default = ["y"] if n_out == 1 else [f"y{j}" for j in range(1, n_out + 1)]
    targets = b.names("targets", default, what="target names")
    if len(targets) != n_out:
        raise SpecError(f"{len(targets)} target{'s' * (len(targets) != 1)} "
                        f"but the output layer has {n_out} unit{'s' * (n_out != 1)}",
                        b.where("targets"), "give one target per output unit")
    input_set = set(inputs)
    for i, t in enumerate(targets):
        if t in input_set and b.has("targets"):
            raise SpecError(f"'{t}' is both an input and a target of the mlp",
                            b.where("targets", i), "choose another name")
        if t in input_set:
            names = ", ".join(f"t{j}" for j in range(1, min(n_out, 3) + 1)) + \
                (", …" if n_out > 3 else "")
            raise SpecError(f"'{t}' is also the name of a default target",
                            b.where("inputs", inputs.index(t)),
                            f"name the targets, e.g. `targets: [{names}]`")
    for i, act in enumerate(acts[:-1]):
        if act == "softmax":
            path = ("activation", i) if isinstance(b.raw.get("activation"), list) else (
                "activation",)
            raise SpecError(f"softmax is only for the output layer, not layer {i + 1}",
                            b.where(*path), "use sigmoid, tanh, relu, softplus or linear")
    if acts[-1] == "softmax":
        if loss != "cross_entropy":
            raise SpecError(f"a softmax output layer goes with `loss: cross_entropy`, not "
                            f"`{loss}`", b.where("loss") if b.has("loss") else b.where(),
                            "add `loss: cross_entropy`")
        if n_out == 1:
            raise SpecError("softmax over a single output unit is always 1 (its gradient is 0)",
                            b.where("layers"), "use sigmoid with `loss: bce` for one output")
    seed = b.seed()

    init = Initializer(seed)
    param_names: list[str] = []  # in declaration order: a layer's weights, then its biases
    # each node's AST is made when first read (LazyNodes); the names it uses are known now
    recipes: dict[str, tuple[Any, ...]] = {}
    uses: dict[str, tuple[str, ...]] = {}
    tex_names: list[list[str]] = []  # the generated names with a display name, in order
    prev = list(inputs)
    for l, (width, act) in enumerate(zip(layers, acts), 1):  # noqa: E741 - l is the layer
        fan_in = len(prev)
        ends = [f"_{k}" for k in range(1, fan_in + 1)]
        prev_names = tuple(prev)
        weights: list[str] = []
        biases: list[str] = []
        if bias == "layer":
            biases.append(f"b{l}")
            tex_names.append([f"b{l}"])
        func = ACTIVATIONS.get(act)
        zs: list[str] = []
        for j in range(1, width + 1):
            head = f"w{l}_{j}"
            row = [head + end for end in ends]  # w{l}_{j}_{k}, k = 1 … fan_in
            weights += row
            bname = f"b{l}_{j}" if bias == "unit" else f"b{l}" if bias == "layer" else None
            used = [*chain.from_iterable(zip(row, prev_names))]
            if bname is not None:
                used.append(bname)
            z = f"z{l}_{j}"
            recipes[z] = ("z", row, prev_names, bname)
            uses[z] = tuple(used)  # as free_names: in order (each once: the names differ)
            zs.append(z)
            tex_names.append(row)
            if bias == "unit":
                biases.append(bname)  # type: ignore[arg-type]
                tex_names.append([bname, z])  # type: ignore[list-item]
            else:
                tex_names.append([z])
            if act != "softmax":
                a = f"a{l}_{j}"
                recipes[a] = ("a", func, z)
                uses[a] = (z,)
                tex_names.append([a])
        param_names += weights
        param_names += biases
        init.add_all(weights, fan_in)
        init.add_all(biases, fan_in)
        if act == "softmax":
            s = f"s{l}"
            recipes[s] = ("s", zs)
            uses[s] = tuple(dict.fromkeys(zs))
            tex_names.append([s])
            for j, z in enumerate(zs, 1):
                a = f"a{l}_{j}"
                recipes[a] = ("softmax", z, s)
                uses[a] = (z, s)
                tex_names.append([a])
        prev = [f"a{l}_{j}" for j in range(1, width + 1)]
    params: dict[str, Fraction | None] = dict.fromkeys(param_names)  # one sized insert
    outs = prev
    recipes["E"] = ("expr", _loss(loss, targets, outs))
    uses["E"] = g.free_names(recipes["E"][1])
    nodes = LazyNodes(recipes, _node, uses, _products)
    latex = LazyLatex(lambda: chain.from_iterable(tex_names), _latex_of, source=doc.source)

    arrows = " → ".join([f"{len(inputs)} input{'s' * (len(inputs) != 1)}",
                         *(f"{w} {a}" for w, a in zip(layers, acts))])
    bias_text = {"unit": "a bias per unit", "layer": "one bias per layer", "none": "no bias"}
    L = len(layers)  # noqa: N806 - the textbook's L
    meta: dict[str, Any] = {
        "summary": [f"mlp: {arrows}; {bias_text[bias]}; loss {loss}: "
                    + _LOSS_TEXT[loss].replace("{L}", str(L))],
        "mlp": {"inputs": inputs, "layers": layers, "activation": acts, "bias": bias,
                "loss": loss, "targets": targets},
    }
    user = {x: ("inputs", i) for i, x in enumerate(inputs)}
    user.update({t: ("targets", i) for i, t in enumerate(targets)} if b.has("targets") else {})
    built = Built(inputs=dict.fromkeys([*inputs, *targets]), params=params, nodes=nodes,
                  loss="E", latex=latex, meta=meta, user_names=user)
    return built, init


def _node(recipe: tuple[Any, ...]) -> g.Expr:
    """A node's AST from its recipe, as the parser would build its text."""
    kind = recipe[0]
    if kind == "z":  # Σ_k w{l}_{j}_{k}·a{l−1}_{k} (+ the bias)
        _, row, prev, b = recipe
        terms = [mul(g.Name(w), g.Name(a)) for w, a in zip(row, prev)]
        if b is not None:
            terms.append(g.Name(b))
        return add_all(terms)
    if kind == "a":  # act(z), or z itself for `linear`
        _, func, z = recipe
        return call(func, g.Name(z)) if func else g.Name(z)
    if kind == "s":  # the softmax denominator Σ_j exp(z{L}_{j})
        return add_all([call("exp", g.Name(z)) for z in recipe[1]])
    if kind == "softmax":  # exp(z{L}_{j})/s{L}
        _, z, s = recipe
        return g.BinOp("/", call("exp", g.Name(z)), g.Name(s))
    return recipe[1]  # made already (the loss)


def _products(recipe: tuple[Any, ...]) -> list[Any] | None:
    """The terms of a "z" node as names, in the order _node writes them (model.LazyNodes)."""
    if recipe[0] != "z":
        return None
    _, row, prev, b = recipe
    terms: list[Any] = list(zip(row, prev))
    if b is not None:
        terms.append(b)
    return terms


def _latex_of(name: str) -> str:
    """The display name of a generated name: w12_3_4 → latex_name("w", 12, 3, 4)."""
    layer, *units = name[1:].split("_")
    return latex_name(name[0], int(layer), *map(int, units))


def _loss(loss: str, targets: list[str], outs: list[str]) -> g.Expr:
    if loss == "mse":
        return half_sum_of_squares(zip(targets, outs))
    one = g.Num(Fraction(1))
    terms: list[g.Expr] = []
    for y, a in zip(targets, outs):
        terms.append(mul(g.Name(y), call("log", g.Name(a))))
        if loss == "bce":
            terms.append(mul(sub(one, g.Name(y)), call("log", sub(one, g.Name(a)))))
    return g.Neg(add_all(terms))
