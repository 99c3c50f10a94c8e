"""The command line: exact output, the JSON contract, exit statuses, and a light --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sympy as sp

import pathgrad
from pathgrad.calculus import Network, sigmoid
from pathgrad.verify.methods import Verification

OLAH = """\
∂e/∂b: 2 paths from b to e — Olah's computational graph  (EX/olah.yaml)
e = (a+b)·(b+1); b reaches e through c and through d.
#   path        chain (loss side first)   local partials   value    share
─────────────────────────────────────────────────────────────────────────
1   b → c → e   ∂e/∂c · ∂c/∂b             d · 1                2   +40.0%
2   b → d → e   ∂e/∂d · ∂d/∂b             c · 1                3   +60.0%

sum over paths  ∂e/∂b = d + c
direct          sympy.diff of the composed e = 1 + a + 2·b
value           5
✓ verified      sum over paths = direct derivative: the two sides agree exactly (their difference, expanded symbolically, is 0)

values at the point (leaves, then the nodes in the order they are computed)
a = 2   b = 1   c = 3   d = 2   e = 6
"""


def _strip(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_explain_table_exact_output(run, examples):
    result = run("explain", str(examples / "olah.yaml"), "--weight", "b")
    assert result.exit_code == 0, result.output
    assert _strip(result.stdout) == OLAH.replace("EX", str(examples))


def test_explain_question_shows_both_chains_in_a_narrow_terminal(run, examples):
    result = run("explain", str(examples / "question.yaml"), "-w", "w11",
                 env={"COLUMNS": "80"})
    assert result.exit_code == 0
    out = result.stdout
    assert "∂E/∂Out · ∂Out/∂a11 · ∂a11/∂a01 · ∂a01/∂w11" in out
    assert "∂E/∂Out · ∂Out/∂a12 · ∂a12/∂a01 · ∂a01/∂w11" in out
    assert "w21·a11·(1−a11)" in out and "✓ verified" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_json_contract(run, examples):
    result = run("explain", str(examples / "question.yaml"), "-w", "w11", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    for key in ("weight", "loss", "path_count", "paths", "sum", "direct", "value", "verified",
                "method"):
        assert key in data
    assert data["weight"] == "w11" and data["loss"] == "E"
    assert isinstance(data["path_count"], int) and data["path_count"] == len(data["paths"]) == 2
    assert data["verified"] is True and isinstance(data["method"], str)
    spec = pathgrad.load(examples / "question.yaml")
    net = Network(spec)
    names = {**net.symbols, "sigmoid": sigmoid}  # the one function sympy lacks by name
    # expressions are strings sympy parses back; factors[i] = ∂nodes[i+1]/∂nodes[i]
    for path in data["paths"]:
        assert set(path) >= {"nodes", "factors", "term", "value", "share"}
        assert path["nodes"][0] == "w11" and path["nodes"][-1] == "E"
        assert len(path["factors"]) == len(path["nodes"]) - 1
        for u, v, text in zip(path["nodes"], path["nodes"][1:], path["factors"]):
            assert sp.parse_expr(text, local_dict=names) == net.local_partial(u, v)
        assert isinstance(path["value"], float) and isinstance(path["share"], float)
    total = sum(sp.parse_expr(p["term"], local_dict=names) for p in data["paths"])
    assert sp.expand(total - sp.parse_expr(data["sum"], local_dict=names)) == 0
    direct = sp.parse_expr(data["direct"], local_dict=names)
    point = {names[k]: sp.Rational(str(v)) for k, v in spec.values().items()}
    assert float(direct.rewrite(sp.exp).evalf(30, subs=point)) == data["value"]
    assert abs(sum(p["value"] for p in data["paths"]) - data["value"]) < 1e-15


def test_show_json_contract(run, examples):
    result = run("show", str(examples / "question.yaml"), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) >= {"inputs", "params", "nodes", "loss", "path_counts"}
    assert data["path_counts"] == {"w11": 2, "w21": 1, "w22": 1, "w31": 1, "w32": 1,
                                   "x1": 2, "y": 1}
    assert data["nodes"]["E"] == "(Out - y)^2/2"


def test_misspelled_weight_gets_a_suggestion_and_exit_2(run, examples):
    result = run("explain", str(examples / "question.yaml"), "-w", "w1l")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: --weight 'w1l' is not a name in "
                             f"{examples / 'question.yaml'}; did you mean 'w11'?\n")
    assert result.stdout == ""


def test_misspelled_name_in_the_spec_gets_a_suggestion(run, tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w11: 1}\ninputs: {x: 2}\nnodes:\n  h: w1l*x\n  E: h^2\n")
    result = run("explain", str(spec), "-w", "w11")
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first == f"Error: {spec}:4: nodes.h: unknown name 'w1l'; did you mean 'w11'?"
    assert result.stderr.splitlines()[1:] == ["    w1l*x", "    ^"]


def test_failed_verification_exits_1_loudly(run, examples, monkeypatch):
    import pathgrad.verify.proof as proof  # prove() checks with verify(): make it say no

    monkeypatch.setattr(proof, "verify", lambda *a, **k: Verification(
        False, "numeric", "the sum over paths and the direct derivative DIFFER: 1 ≠ 2"))
    result = run("explain", str(examples / "olah.yaml"), "-w", "b")
    assert result.exit_code == 1
    assert "✗ NOT VERIFIED" in result.stdout
    assert result.stderr.startswith("Error: NOT VERIFIED")


def test_set_changes_the_point(run, examples):
    result = run("explain", str(examples / "olah.yaml"), "-w", "b", "--set", "a=10",
                 "-f", "json")
    assert json.loads(result.stdout)["value"] == 13.0  # ∂e/∂b = a + 2b + 1
    bad = run("explain", str(examples / "olah.yaml"), "-w", "b", "--set", "a")
    assert bad.exit_code == 2 and "must look like NAME=VALUE" in bad.stderr


def test_output_file_is_written_and_never_the_spec(run, examples, tmp_path):
    out = tmp_path / "olah.json"
    result = run("explain", str(examples / "olah.yaml"), "-w", "b", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["value"] == 5.0
    spec = tmp_path / "net.yaml"
    spec.write_text((examples / "olah.yaml").read_text())
    result = run("explain", str(spec), "-w", "b", "-o", str(spec))
    assert result.exit_code == 2 and "is the spec itself" in result.stderr
    assert spec.read_text() == (examples / "olah.yaml").read_text()


def test_help_does_not_import_sympy():
    code = ("import sys\nfrom pathgrad.cli import cli\n"
            "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'sympy' not in sys.modules, 'sympy was imported'\n"
            "assert 'networkx' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Make the multivariable chain rule visible" in done.stdout


def test_python_dash_m_runs_the_cli(examples):
    done = subprocess.run([sys.executable, "-m", "pathgrad", "explain",
                           str(examples / "olah.yaml"), "-w", "b", "-f", "json"],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == 5.0


def test_readme_shows_what_explain_prints(run, examples, monkeypatch):
    # the README's sample output is the real 80-column output, kept current by this test
    root = examples.parent
    monkeypatch.chdir(root)
    readme = (root / "README.md").read_text()
    start = readme.index("```text\n∂E/∂w11: 2 paths") + len("```text\n")
    sample = readme[start:readme.index("```", start)]
    result = run("explain", "examples/question.yaml", "--weight", "w11", env={"COLUMNS": "80"})
    assert _strip(result.stdout) == sample


def test_a_mis_indented_key_is_named_in_the_hint(run, tmp_path):
    spec = tmp_path / "net.yaml"
    for text, key, other in (("params: {w: 1}\nnodes:\n  h: w^2\n   E: h+1\n", "E", "h"),
                             ("params: {w: 1}\nnodes:\n  h: w^2\n E: h+1\n", "E", "h"),
                             ("params: {w: 1}\n nodes:\n  h: w^2\n", "nodes", "params")):
        spec.write_text(text)
        result = run("show", str(spec))
        assert result.exit_code == 2
        first = result.stderr.splitlines()[0]
        assert f"'{key}' is indented" in first and f"'{other}' above it" in first, first
        assert "quotes" not in first  # not the unrelated hint YAML's message suggests
