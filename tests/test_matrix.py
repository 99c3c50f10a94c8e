"""`pathgrad matrix`: BP1–BP4 against an independent MLP (finite differences at 40 digits), the
path counts against brute-force listing, the bridge's grouping, the JSON contract, and every
output format read back."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.dom.minidom

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from mlp_oracle import d_param, d_z, mlp_specs, rnn_d, smallest_z, values_of
from randomnets import all_paths

from pathgrad import load
from pathgrad.analyses import matrix as mx
from pathgrad.analyses import matrix_bptt as bptt
from pathgrad.analyses.matrix import matrix_form
from pathgrad.calculus import sigmoid
from pathgrad.render import matrix_html, matrix_json, matrix_latex, matrix_markdown

CONTRACT = {"loss", "convention", "layers", "verified", "method"}
LAYER_KEYS = {"layer", "units", "delta", "delta_expr", "grad_W", "grad_b", "paths_per_delta"}


def close(a: float | None, b: float, rel: float = 1e-9) -> bool:
    return a is not None and abs(a - b) <= rel * max(1.0, abs(b))


def check_against_oracle(spec, mf) -> None:  # noqa: ANN001
    cfg = spec.meta["mlp"]
    values = values_of(spec)
    for layer in mf.layers:
        l = layer.layer  # noqa: E741
        for j in range(1, layer.units + 1):
            assert close(layer.delta_values[j - 1], d_z(cfg, values, l, j)), (l, j)
            for k in range(1, layer.fan_in + 1):
                assert close(layer.grad_W[j - 1][k - 1], d_param(cfg, values, f"w{l}_{j}_{k}"))
        if cfg["bias"] == "unit":
            for j in range(1, layer.units + 1):
                assert close(layer.grad_b[j - 1], d_param(cfg, values, f"b{l}_{j}"))
        elif cfg["bias"] == "layer":
            assert close(layer.grad_b, d_param(cfg, values, f"b{l}"))
        else:
            assert layer.grad_b is None


def test_mazur_against_finite_differences_and_his_numbers(examples):
    spec = load(examples / "mazur.yaml")
    mf = matrix_form(spec)
    assert mf.verified
    check_against_oracle(spec, mf)
    # Mazur's published gradients: ∂E/∂w5 = 0.082167041 (w5 = w2_1_1), ∂E/∂w1 = 0.000438568
    assert round(mf.layers[1].grad_W[0][0], 9) == 0.082167041
    assert round(mf.layers[0].grad_W[0][0], 9) == 0.000438568
    assert [layer.paths_per_delta for layer in mf.layers] == [(2, 2), (1, 1)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mlp_specs())
def test_random_mlps_every_delta_and_entry(text):
    spec = load(text)
    cfg = spec.meta["mlp"]
    assume(smallest_z(cfg, values_of(spec)) > 1e-6)  # finite differences stay off relu's kink
    mf = matrix_form(spec)
    assert mf.verified, mf.verification.detail
    check_against_oracle(spec, mf)
    for layer in mf.layers:  # each δ stands for every path from z^l_j, listed by brute force
        for j in range(1, layer.units + 1):
            assert layer.paths_per_delta[j - 1] == len(all_paths(spec, f"z{layer.layer}_{j}",
                                                                 spec.loss))
    # the whole-gradient listing cost against listing every path of every param
    listing = sum(len(p) - 2 for q in spec.params for p in all_paths(spec, q, spec.loss))
    assert mf.listing_multiplications == listing


def _parse(names: list[str], text: str) -> sp.Expr:
    local = {n: sp.Symbol(n, real=True) for n in names}
    local["sigmoid"] = sigmoid
    return sp.sympify(text, locals=local)  # our own output, not spec text


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mlp_specs())
def test_json_contract_and_expressions_parse_back(text):
    spec = load(text)
    assume(smallest_z(spec.meta["mlp"], values_of(spec)) > 1e-6)
    mf = matrix_form(spec)
    data = json.loads(json.dumps(matrix_json.matrix(mf)))
    assert CONTRACT <= set(data)
    assert [layer["layer"] for layer in data["layers"]] == list(range(1, len(mf.layers) + 1))
    node_values = {n: float(v) for n, v in mx.point_values(
        spec, spec.values()).values.items()}
    deltas: dict[str, float] = {}
    for item in reversed(data["layers"]):
        assert LAYER_KEYS <= set(item)
        assert len(item["delta"]) == item["units"] == len(item["delta_expr"])
        assert all(isinstance(n, int) for n in item["paths_per_delta"])
        names = [*spec.names, *(f"delta{item['layer'] + 1}_{i}" for i in range(1, 10))]
        for j, (expr, value) in enumerate(zip(item["delta_expr"], item["delta"]), 1):
            e = _parse(names, expr)
            env = {s: node_values.get(s.name, deltas.get(s.name)) for s in e.free_symbols}
            assert close(float(e.subs(env).evalf(30)), value, 1e-9), expr
            deltas[f"delta{item['layer']}_{j}"] = value
        bias = spec.meta["mlp"]["bias"]
        grad_b = item["grad_b"]
        assert (grad_b is None) if bias == "none" else (
            isinstance(grad_b, float) if bias == "layer" else len(grad_b) == item["units"])


def test_mazur_bridge_groups_the_two_paths(examples):
    mf = matrix_form(load(examples / "mazur.yaml"), weight="w1_1_1")
    br = mf.bridge
    assert br.path_count == 2 and (br.layer, br.row, br.column) == (1, 1, 1)
    assert [g.node for g in br.groups] == ["z2_1", "z2_2"]
    assert [str(g.edge) for g in br.groups] == ["w2_1_1", "w2_2_1"]  # row 1 of (W²)ᵀ
    assert [p.nodes for g in br.groups for p in g.paths] == all_paths(mf.spec, "w1_1_1", "E")
    assert close(sum(g.value for g in br.groups), br.value, 1e-12)
    for g in br.groups:  # each group's δ form equals the sum of its listed paths
        assert close(g.value, g.listed_value, 1e-12)
    assert br.listing_multiplications == 8  # 2 paths of 5 edges
    assert close(br.value, 0.000438568, 1e-6)


@pytest.mark.parametrize("weight", ["w1_2_3", "b1_2", "w3_1_2", "w2_3_1"])
def test_bridge_groups_add_up_in_a_deeper_net(examples, weight):
    spec = load(examples / "mlp3x3.yaml")
    mf = matrix_form(spec, weight=weight)
    br = mf.bridge
    listed = [p.nodes for g in br.groups for p in g.paths]
    assert sorted(listed) == sorted(all_paths(spec, weight, "E"))
    assert close(sum(g.value for g in br.groups), br.value, 1e-12)
    assert all(close(g.value, g.listed_value, 1e-12) for g in br.groups)
    assert close(br.value, d_param(spec.meta["mlp"], values_of(spec), weight))


def test_softmax_bridge_groups_by_output(examples):
    spec = load(examples / "mlp_softmax.yaml")
    mf = matrix_form(spec, weight="w2_2_1")
    assert [g.node for g in mf.bridge.groups] == ["a2_1", "a2_2", "a2_3"]
    assert sum(g.count for g in mf.bridge.groups) == mf.bridge.path_count == 4
    assert all(close(g.value, g.listed_value, 1e-12) for g in mf.bridge.groups)
    check_against_oracle(spec, mf)


def test_layer_bias_bridge(examples):
    mf = matrix_form(load(examples / "mazur.yaml"), weight="b1")
    assert mf.bridge.kind == "layer bias" and mf.bridge.path_count == 4
    assert [g.node for g in mf.bridge.groups] == ["z1_1", "z1_2"]
    assert close(mf.bridge.value, mf.layers[0].grad_b, 1e-12)


def test_a_wrong_entry_is_caught(examples, monkeypatch):
    spec = load(examples / "mazur.yaml")
    real = mx._Oracle.at

    def off(self, leaves):  # noqa: ANN001
        out = real(self, leaves)
        return {**out, "w1_2_1": mpmath.mpf(out["w1_2_1"]) * 1.001}

    monkeypatch.setattr(mx._Oracle, "at", off)
    mf = matrix_form(spec)
    assert not mf.verified and "w1_2_1" in mf.verification.detail


def test_cli_table_80_columns_reads_back(run, examples):
    result = run("matrix", str(examples / "mazur.yaml"), "--weight", "w1_1_1",
                 env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    m = re.search(r"∂E/∂w1_1_1 = x1·δ1_1 = ([0-9.e−-]+)", out)
    assert m and close(float(m.group(1).replace("−", "-")), 0.000438568, 1e-5)
    assert "w1_1_1 → z1_1 → a1_1 → z2_1 → a2_1 → E" in out
    assert "w1_1_1 → z1_1 → a1_1 → z2_2 → a2_2 → E" in out
    assert "row 1 of (W²)ᵀ is (w2_1_1, w2_2_1)" in out.replace("\n  ", " ")
    assert "✓ verified" in out


def test_cli_json(run, examples):
    result = run("matrix", str(examples / "mlp_softmax.yaml"), "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert CONTRACT <= set(data) and data["verified"] is True
    assert data["layers"][1]["paths_per_delta"] == [4, 4, 4]


def test_not_layered_is_exit_2_with_a_pointer(run, examples):
    for name in ("question.yaml", "batch.yaml", "residual.yaml"):
        result = run("matrix", str(examples / name))
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "pathgrad backprop" in lines[0], lines


def test_weight_must_be_a_param(run, examples):
    result = run("matrix", str(examples / "mazur.yaml"), "--weight", "z1_1")
    assert result.exit_code == 2 and "node" in result.stderr


def test_markdown_and_html(examples):
    mf = matrix_form(load(examples / "mazur.yaml"), weight="w1_1_1")
    md = matrix_markdown.render(mf)
    assert md.count("$$") % 2 == 0 and r"\begin{bmatrix}" in md
    assert "| z2\\_1 via w2\\_1\\_1 |" in md
    page = matrix_html.render(mf)
    xml.dom.minidom.parseString(page)  # well-formed
    assert "<mtable>" in page and "w1_1_1 → z1_1 → a1_1 → z2_1 → a2_1 → E" in page


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("name,weight", [("mazur.yaml", "w1_1_1"), ("mlp3x3.yaml", "w1_2_3"),
                                         ("mlp_softmax.yaml", "w2_1_1")])
def test_latex_compiles_without_overfull_lines(tmp_path, examples, name, weight):
    mf = matrix_form(load(examples / name), weight=weight)
    tex = tmp_path / "m.tex"
    tex.write_text(matrix_latex.render(mf))
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "Overfull" not in proc.stdout


@pytest.mark.parametrize("text", [
    "rnn: {inputs: [x], steps: 3, width: 2, activation: tanh, loss: sum, init: {seed: 2}}\n"
    "inputs: {x1: 1.0, x2: -0.5, x3: 0.25, y1: 0.5, y2: -0.2, y3: 0.1}\n",
    "rnn: {inputs: [x, q], steps: 2, width: 3, activation: sigmoid, loss: last, bias: false}\n"
    "inputs: {x1: 0.3, x2: -1.0, q1: 0.5, q2: 2, y2: 0.4, h0_1: 0.1, h0_2: -0.2, h0_3: 0.3}\n",
    "rnn: {inputs: [x], steps: 3}\ninputs: {x1: 1.0, x2: -0.5, x3: 0.25, y3: 0.3}\n",
])
def test_bptt_against_finite_differences(text):
    spec = load(text)
    cfg = spec.meta["rnn"]
    values = values_of(spec)
    bt = bptt.bptt_form(spec, weight=next(iter(spec.params)))
    assert bt.verified, bt.verification.detail
    for s in bt.steps:  # every δ_t,i, and the paths each stands for
        for i in range(1, s.units + 1):
            assert close(s.delta_values[i - 1], rnn_d(cfg, values, z=(s.step, i)))
            z = f"z{s.step}" if s.units == 1 else f"z{s.step}_{i}"
            assert s.paths_per_delta[i - 1] == len(all_paths(spec, z, "E"))
    for key, names in bt.names.items():  # every total: Σ over the steps
        if names is None:
            continue
        flat_n = [n for r in names for n in r] if isinstance(names, list) and isinstance(
            names[0], list) else (names if isinstance(names, list) else [names])
        vals = bt.totals[key]
        flat_v = [x for r in vals for x in r] if isinstance(vals, list) and isinstance(
            vals[0], list) else (vals if isinstance(vals, list) else [vals])
        for n, x in zip(flat_n, flat_v):
            assert close(x, rnn_d(cfg, values, p=n)), n
    groups = bt.groups  # the bridge: one term per step, each its paths' sum
    assert close(sum(g.value for g in groups), bt.weight_value, 1e-12)
    assert all(close(g.value, g.listed_value, 1e-12) for g in groups)


def test_bptt_cli(run, examples):
    result = run("matrix", str(examples / "rnn_width2.yaml"), "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert CONTRACT <= set(data) and data["kind"] == "rnn" and data["verified"]
    assert [x["layer"] for x in data["layers"]] == [1, 2, 3]
    assert all(LAYER_KEYS <= set(x) for x in data["layers"])
    result = run("matrix", str(examples / "rnn_width2.yaml"), "-w", "w_1_2",
                 env={"COLUMNS": "80"})
    assert result.exit_code == 0 and "δ_2 = (Wᵀ δ_3 + v·g_2) ⊙ tanh′(z_2)" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    for fmt in ("latex", "markdown", "html"):
        assert run("matrix", str(examples / "rnn_width2.yaml"), "-f", fmt).exit_code == 0


@pytest.mark.parametrize("weight", ["w_1_2", "u_2_1", "b_1", "w_2_2"])
def test_bptt_bridge_groups_each_step_by_the_next_node(examples, weight):
    spec = load(examples / "rnn_width2.yaml")
    bt = bptt.bptt_form(spec, weight=weight)
    listed = all_paths(spec, weight, "E")
    for g in bt.groups:
        mine = [p for p in listed if p[1] == g.node]  # brute force: the paths entering here
        nexts = {p[3] for p in mine}
        assert {n.node for n in g.next} == nexts, g.step
        for n in g.next:  # each next-node group: its count and value from the δ's equal
            # the brute-force listing of its paths (counted and added up independently)
            theirs = [p for p in mine if p[3] == n.node]
            assert n.count == len(theirs)
            assert close(n.value, n.listed_value, 1e-12)
        assert close(sum(n.value for n in g.next), g.value, 1e-12)
        assert sum(n.count for n in g.next) == g.count == len(mine)
    cfg, values = spec.meta["rnn"], values_of(spec)
    assert close(sum(g.value for g in bt.groups), rnn_d(cfg, values, p=weight))


def test_bptt_bridge_json_has_the_next_groups(run, examples):
    result = run("matrix", str(examples / "rnn_width2.yaml"), "-w", "w_1_2", "-f", "json")
    data = json.loads(result.stdout)
    step2 = next(g for g in data["bridge"]["groups"] if g["step"] == 2)
    assert [n["node"] for n in step2["next"]] == ["z3_1", "z3_2", "o2"]
    assert [n["edge"] for n in step2["next"]] == ["w_1_1", "w_2_1", "v_1"]  # row 1 of Wᵀ
    assert close(sum(n["value"] for n in step2["next"]), step2["value"], 1e-12)


def test_bptt_markdown_and_html_read_back(examples):
    from pathgrad.render import matrix_bptt_html, matrix_bptt_latex

    bt = bptt.bptt_form(load(examples / "rnn_width2.yaml"), weight="w_1_2")
    md = matrix_bptt_latex.markdown(bt)
    assert md.count("$$") % 2 == 0 and r"\begin{bmatrix}" in md
    rows = [line for line in md.splitlines() if line.startswith("| 2 |")]
    assert len(rows) == 1 and "0.00726833" in rows[0]
    page = matrix_bptt_html.render(bt)
    dom = xml.dom.minidom.parseString(page)  # well-formed
    assert dom.getElementsByTagName("mtable")
    cells = [td.toxml() for td in dom.getElementsByTagName("td")]
    assert any("→ z3_2 via w_2_1" in c for c in cells)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("text,weight", [
    (None, "w_1_2"),
    ("rnn: {inputs: [x, q], steps: 2, width: 3, activation: sigmoid, loss: last, bias: false}\n"
     "inputs: {x1: 0.3, x2: -1.0, q1: 0.5, q2: 2, y2: 0.4, h0_1: 0.1, h0_2: -0.2, h0_3: 0.3}\n",
     "u_2_2"),
    ("rnn: {inputs: [x], steps: 3}\ninputs: {x1: 1.0, x2: -0.5, x3: 0.25, y3: 0.3}\n", "w"),
])
def test_bptt_latex_compiles(tmp_path, examples, text, weight):
    from pathgrad.render import matrix_bptt_latex

    spec = load(text) if text else load(examples / "rnn_width2.yaml")
    tex = tmp_path / "r.tex"
    tex.write_text(matrix_bptt_latex.render(bptt.bptt_form(spec, weight=weight)))
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "Overfull" not in proc.stdout


def test_softmax_delta_is_a_minus_y_when_the_targets_add_up_to_1(examples):
    spec = load(examples / "mlp_softmax.yaml")  # y = (0, 1, 0)
    mf = matrix_form(spec)
    assert mf.delta_note and "= 1" in mf.delta_note
    top = mf.layers[-1]
    assert [str(e) for e in top.shown_delta_expr] == ["a2_1 - y1", "a2_2 - y2", "a2_3 - y3"]
    text = mx_text(mf)
    assert "δ² = a² − y" in text and "y1 + y2 + y3 = 1" in text
    data = matrix_json.matrix(mf)  # JSON keeps the form that is exact for any targets
    assert data["layers"][-1]["delta_expr"][0].replace(" ", "") == "a2_1*(y1+y2+y3)-y1"
    other = matrix_form(spec, {"y1": 0.5})  # Σy = 1.5: the general form, no note
    assert other.delta_note is None and "a²·(y1 + y2 + y3) − y" in mx_text(other)
    assert other.verified
    check_against_oracle(load(examples / "mlp_softmax.yaml"), mf)


def mx_text(mf) -> str:  # noqa: ANN001
    from pathgrad.render.matrix_notebook import wrap

    return " ".join(wrap(mf).to_text(200).split())
