"""An independent MLP for the tests of `pathgrad matrix` and `pathgrad gradient`: the forward
pass written out from the builder's settings (no pathgrad code but the settings and values),
and central finite differences of it at 40 digits, by a param or by a weighted input z^l_j."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import mpmath
from hypothesis import strategies as st

DIGITS = 40
STEP = mpmath.mpf(10) ** -12  # truncation ~h² = 1e-24, rounding ~1e-40/h = 1e-28


def _act(name: str, z: list[Any]) -> list[Any]:
    if name == "softmax":
        top = max(z)
        ex = [mpmath.exp(v - top) for v in z]
        s = mpmath.fsum(ex)
        return [e / s for e in ex]
    fn = {"sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)), "tanh": mpmath.tanh,
          "relu": lambda v: v if v > 0 else mpmath.mpf(0),
          "softplus": lambda v: mpmath.log(1 + mpmath.exp(v)), "linear": lambda v: v}[name]
    return [fn(v) for v in z]


def forward(cfg: Mapping[str, Any], values: Mapping[str, Any],
            shift: tuple[int, int, Any] | None = None) -> tuple[Any, list[list[Any]]]:
    """(the loss, the z vector of every layer); `shift` = (l, j, h) adds h to z^l_j."""
    a = [mpmath.mpf(values[x]) for x in cfg["inputs"]]
    zs = []
    for l, (n, act) in enumerate(zip(cfg["layers"], cfg["activation"]), 1):  # noqa: E741
        z = []
        for j in range(1, n + 1):
            v = mpmath.fsum(mpmath.mpf(values[f"w{l}_{j}_{k}"]) * a[k - 1]
                            for k in range(1, len(a) + 1))
            if cfg["bias"] == "unit":
                v += mpmath.mpf(values[f"b{l}_{j}"])
            elif cfg["bias"] == "layer":
                v += mpmath.mpf(values[f"b{l}"])
            if shift is not None and shift[0] == l and shift[1] == j:
                v += shift[2]
            z.append(v)
        zs.append(z)
        a = _act(act, z)
    ys = [mpmath.mpf(values[y]) for y in cfg["targets"]]
    if cfg["loss"] == "mse":
        loss = mpmath.fsum((y - o) ** 2 for y, o in zip(ys, a)) / 2
    elif cfg["loss"] == "cross_entropy":
        loss = -mpmath.fsum(y * mpmath.log(o) for y, o in zip(ys, a))
    else:
        loss = -mpmath.fsum(y * mpmath.log(o) + (1 - y) * mpmath.log(1 - o)
                            for y, o in zip(ys, a))
    return loss, zs


def values_of(spec: Any, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out = {n: mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v
           for n, v in {**spec.inputs, **spec.params}.items()}
    out.update(overrides or {})
    return out


def d_param(cfg: Mapping[str, Any], values: Mapping[str, Any], p: str) -> float:
    """∂loss/∂p by central differences."""
    with mpmath.workdps(DIGITS):
        up, down = dict(values), dict(values)
        up[p] = mpmath.mpf(values[p]) + STEP
        down[p] = mpmath.mpf(values[p]) - STEP
        return float((forward(cfg, up)[0] - forward(cfg, down)[0]) / (2 * STEP))


def d_z(cfg: Mapping[str, Any], values: Mapping[str, Any], l: int, j: int) -> float:  # noqa: E741
    """δ^l_j = ∂loss/∂z^l_j by central differences."""
    with mpmath.workdps(DIGITS):
        up = forward(cfg, values, (l, j, STEP))[0]
        down = forward(cfg, values, (l, j, -STEP))[0]
        return float((up - down) / (2 * STEP))


def smallest_z(cfg: Mapping[str, Any], values: Mapping[str, Any]) -> float:
    """The |z| nearest a kink (relu), to keep finite differences away from it."""
    with mpmath.workdps(DIGITS):
        return float(min(abs(v) for z in forward(cfg, values)[1] for v in z))


ACTIVATIONS = ["sigmoid", "tanh", "relu", "softplus", "linear"]


@st.composite
def mlp_specs(draw: st.DrawFn) -> str:
    """An `mlp:` spec: 1–3 inputs, 1–3 layers of 1–3 units, any activation, bias mode and
    loss (softmax + cross-entropy, sigmoid + bce/cross-entropy, anything + mse), seeded
    params and drawn input and target values."""
    n_in = draw(st.integers(1, 3))
    layers = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    acts = [draw(st.sampled_from(ACTIVATIONS)) for _ in layers]
    loss = draw(st.sampled_from(["mse", "mse", "cross_entropy", "bce"]))
    if loss == "cross_entropy" and draw(st.booleans()):
        layers[-1] = max(layers[-1], 2)
        acts[-1] = "softmax"
    elif loss != "mse":
        acts[-1] = "sigmoid"
    bias = draw(st.sampled_from(["unit", "layer", "none"]))
    seed = draw(st.integers(0, 50))
    xs = [f"x{i}" for i in range(1, n_in + 1)]
    ys = [f"y{j}" for j in range(1, layers[-1] + 1)]
    nums = st.sampled_from(["-1.5", "-0.7", "-0.3", "0.2", "0.5", "0.9", "1.3", "2"])
    unit = st.sampled_from(["0", "0.25", "0.5", "1"] if loss != "mse" else
                           ["-1", "0", "0.3", "0.8", "1"])
    inputs = {x: draw(nums) for x in xs}
    inputs.update({y: draw(unit) for y in ys})
    acts_text = "[" + ", ".join(acts) + "]"
    return (f"mlp:\n  inputs: [{', '.join(xs)}]\n  layers: {layers}\n  activation: {acts_text}\n"
            f"  bias: {bias}\n  loss: {loss}\n  targets: [{', '.join(ys)}]\n"
            f"  init: {{seed: {seed}}}\n"
            "inputs: {" + ", ".join(f"{k}: {v}" for k, v in inputs.items()) + "}\n")


def rnn_forward(cfg: Mapping[str, Any], values: Mapping[str, Any],
                shift: tuple[int, int, Any] | None = None) -> Any:
    """The loss of the rnn builder's Elman net, written out; `shift` = (t, i, h) adds h to
    z_t,i. Names as the builder makes them (w_i_j, u_i_k, h{t}_{i} for width > 1)."""
    H, T = cfg["width"], cfg["steps"]  # noqa: N806
    bases = cfg["inputs"]
    one, scalar = H == 1, H == 1 and len(bases) == 1

    def name(kind: str, *idx: int) -> str:
        if kind in ("w", "b", "v") and one or kind == "u" and scalar:
            return kind
        return kind + "".join(f"_{i}" for i in idx)

    mp = mpmath.mpf
    h = [mp(values["h0" if one else f"h0_{i}"]) for i in range(1, H + 1)]
    act = {"tanh": mpmath.tanh, "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)),
           "relu": lambda v: v if v > 0 else mp(0), "linear": lambda v: v,
           "softplus": lambda v: mpmath.log(1 + mpmath.exp(v))}[cfg["activation"]]
    loss = mp(0)
    for t in range(1, T + 1):
        z = []
        for i in range(1, H + 1):
            v = mpmath.fsum(mp(values[name("w", i, j)]) * h[j - 1] for j in range(1, H + 1))
            v += mpmath.fsum(mp(values[name("u", i, k)]) * mp(values[f"{b}{t}"])
                             for k, b in enumerate(bases, 1))
            if cfg["bias"]:
                v += mp(values[name("b", i)])
            if shift is not None and shift[:2] == (t, i):
                v += shift[2]
            z.append(v)
        h = [act(v) for v in z]
        if cfg["loss"] == "sum" or t == T:
            o = mpmath.fsum(mp(values[name("v", i)]) * h[i - 1] for i in range(1, H + 1))
            o += mp(values["c"]) if cfg["bias"] else 0
            loss += (mp(values[f"{cfg['target']}{t}"]) - o) ** 2 / 2
    return loss


def rnn_d(cfg: Mapping[str, Any], values: Mapping[str, Any], p: str | None = None,
          z: tuple[int, int] | None = None) -> float:
    """∂loss/∂p, or δ_t,i = ∂loss/∂z_t,i, by central differences."""
    with mpmath.workdps(DIGITS):
        if z is not None:
            up = rnn_forward(cfg, values, (*z, STEP))
            down = rnn_forward(cfg, values, (*z, -STEP))
        else:
            hi, lo = dict(values), dict(values)
            hi[p] = mpmath.mpf(values[p]) + STEP
            lo[p] = mpmath.mpf(values[p]) - STEP
            up, down = rnn_forward(cfg, hi), rnn_forward(cfg, lo)
        return float((up - down) / (2 * STEP))
