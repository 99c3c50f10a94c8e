"""`pathgrad expand`: the nodes form loads back to the same network, for every example."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathgrad.spec import Spec, load
from pathgrad.spec.dump import to_yaml, yaml_scalar
from pathgrad.spec.source import read_text

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


def same_network(a: Spec, b: Spec) -> None:
    assert list(a.inputs.items()) == list(b.inputs.items())  # names, order, exact values
    assert list(a.params.items()) == list(b.params.items())
    assert list(a.nodes) == list(b.nodes)
    for name in a.nodes:
        assert a.nodes[name] == b.nodes[name], name  # the same AST
    assert (a.loss, a.name, a.description, a.latex) == (b.loss, b.name, b.description, b.latex)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_round_trips(path):
    spec = load(path)
    text = to_yaml(spec)
    back = load(text)
    assert back.builder is None and "\nmlp:" not in text
    same_network(spec, back)
    assert to_yaml(back, header=False) == to_yaml(spec, header=False)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.sampled_from(["unit", "layer", "none"]), st.sampled_from(["mse", "bce"]),
       st.integers(0, 1000))
def test_any_mlp_round_trips(n_in, layers, bias, loss, seed):
    inputs = ", ".join(f"x{i}" for i in range(1, n_in + 1))
    spec = load(f"mlp: {{inputs: [{inputs}], layers: {layers}, bias: {bias}, loss: {loss}, "
                f"init: {{seed: {seed}}}}}\n")
    same_network(spec, load(to_yaml(spec)))


def test_exact_values_and_odd_names_survive():
    spec = load("name: \"it's 'quoted': #1\"\ndescription: |\n  two\n  lines\n"
                "inputs: {x: 1/3, 'null': -2.5e-7}\nparams: {w: 0.1}\n"
                "nodes: {h: -(w*x), E: h^2 - null + 1/3}\n"
                "latex: {w: '\\omega', h: \"h'\"}\n")
    back = load(to_yaml(spec))
    same_network(spec, back)
    assert back.inputs["x"].denominator == 3


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_yaml_scalar_reads_back(text):
    doc = read_text(f"k: {yaml_scalar(text)}\n")
    assert doc.data["k"] == text


def test_cli_expand_prints_and_writes(run, examples, tmp_path):
    result = run("expand", str(examples / "mazur.yaml"))
    assert result.exit_code == 0, result.output
    assert "z1_1: w1_1_1*x1 + w1_1_2*x2 + b1" in result.stdout
    same_network(load(examples / "mazur.yaml"), load(result.stdout))
    out = tmp_path / "nodes.yaml"
    result = run("expand", str(examples / "rnn.yaml"), "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    same_network(load(examples / "rnn.yaml"), load(out))


def test_cli_expand_bad_builder_exits_2(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("mlp: {inputs: [x], layers: [2], activation: sigmoidd}\n")
    result = run("expand", str(bad))
    assert result.exit_code == 2 and result.stdout == ""
    assert "mlp.activation" in result.stderr and "'sigmoid'" in result.stderr
