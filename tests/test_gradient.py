"""`pathgrad gradient`: every param's derivative against independent oracles (finite
differences of an MLP written out in the test, sympy.diff per param on random DAGs), Mazur's
published updated weights to 8 digits, the JSON contract, the CLI read back."""

from __future__ import annotations

import json
import re
import subprocess
import xml.dom.minidom

import mpmath
import pytest
import sympy as sp
from exporthelp import need
from hypothesis import HealthCheck, assume, example, given, settings
from mlp_oracle import d_param, forward, mlp_specs, smallest_z, values_of
from randomnets import networks

from pathgrad import load
from pathgrad.analyses import gradient as gmod
from pathgrad.analyses.gradient import gradient
from pathgrad.calculus import Network
from pathgrad.render import gradient_html, gradient_json, gradient_latex, gradient_markdown

# Mazur, "A Step by Step Backpropagation Example": his w1…w8 are w1_1_1, w1_1_2, w1_2_1,
# w1_2_2 (input → hidden, h1 then h2) and w2_1_1, w2_1_2, w2_2_1, w2_2_2 (hidden → output)
MAZUR_NEW = {"w2_1_1": 0.35891648, "w2_1_2": 0.408666186, "w2_2_1": 0.511301270,
             "w2_2_2": 0.561370121, "w1_1_1": 0.149780716, "w1_1_2": 0.19956143,
             "w1_2_1": 0.24975114, "w1_2_2": 0.29950229}
CONTRACT = {"loss", "value", "gradient", "verified", "method"}


def close(a: float | None, b: float, rel: float = 1e-9) -> bool:
    return a is not None and abs(a - b) <= rel * max(1.0, abs(b))


def test_mazur_updated_weights_to_8_digits(run, examples):
    result = run("gradient", str(examples / "mazur.yaml"), "--lr", "0.5", "--update", "w*",
                 "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert CONTRACT | {"steps"} <= set(data) and data["verified"] is True
    (step,) = data["steps"]
    assert set(step) >= {"lr", "params", "loss_before", "loss_after"} and step["lr"] == 0.5
    assert set(step["params"]) == set(MAZUR_NEW)  # the biases are not updated
    for name, published in MAZUR_NEW.items():
        digits = len(str(published).split(".")[1])
        assert round(step["params"][name], digits) == published, name
    assert round(step["loss_before"], 9) == 0.298371109  # Mazur's total error
    assert step["loss_after"] < step["loss_before"]
    assert round(data["gradient"]["w2_1_1"], 9) == 0.082167041


def test_mazur_table_reads_back(run, examples):
    result = run("gradient", str(examples / "mazur.yaml"), "--lr", "0.5", "--update", "w*",
                 env={"COLUMNS": "80"})
    assert result.exit_code == 0
    out = result.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    for name, published in MAZUR_NEW.items():
        row = re.search(rf"^{name}\s+\S+\s+\S+\s+(\S+)\s*$", out.split("Gradient descent")[1],
                        re.M)
        assert row and abs(float(row.group(1).replace("−", "-")) - published) < 5e-9, name
    flat = " ".join(out.split())
    assert "✓ verified" in flat and "kept: b1, b2" in flat


SOFTMAX_SHIFT = ("mlp:\n  inputs: [x1]\n  layers: [2]\n  activation: [softmax]\n  bias: layer\n"
                 "  loss: cross_entropy\n  targets: [y1, y2]\n  init: {seed: 0}\n"
                 "inputs: {x1: -1.5, y1: 0, y2: 0.25}\n")  # ∂E/∂b1 = 0: softmax ignores a shift


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mlp_specs())
@example(SOFTMAX_SHIFT).via("a random seed: ∂E/∂b1 was 'too small for a float (-1.2326e-32)'")
def test_random_mlps_against_finite_differences(text):
    spec = load(text)
    cfg = spec.meta["mlp"]
    values = values_of(spec)
    assume(smallest_z(cfg, values) > 1e-6)
    for method in ("symengine", "complex-step"):
        gr = gradient(spec, method=method)
        assert gr.verified, gr.verification.detail
        for p in spec.params:
            assert close(gr.gradient[p], d_param(cfg, values, p)), (method, p)
        with mpmath.workdps(40):
            assert close(gr.value, float(forward(cfg, values)[0]), 1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_any_dag_against_sympy_diff_per_param(text):
    spec = load(text)
    net = Network(spec)
    loss = net.compose(spec.loss)[spec.loss]
    point = {net.symbols[n]: sp.Rational(v.numerator, v.denominator)
             for n, v in spec.values().items() if v is not None}
    expected = {}
    for p in spec.params:
        d = sp.diff(loss, net.symbols[p]).subs(point).evalf(30)
        assume(d.is_real and d.is_finite)  # kinks (relu at 0) have no derivative to compare
        expected[p] = float(d)
    gr = gradient(spec)
    for p, want in expected.items():
        assert close(gr.gradient[p], want, 1e-9), p


def test_steps_follow_the_rule_and_lower_the_loss(examples):
    spec = load(examples / "mlp3x3.yaml")
    gr = gradient(spec, lr=1, steps=4)
    assert gr.verified and len(gr.steps) == 4
    before = {p: float(v) for p, v in spec.params.items()}
    for step in gr.steps:
        for p, new in step.params.items():
            assert close(new, before[p] - step.lr * step.gradient[p], 1e-12)
        before.update(step.params)
    losses = [gr.steps[0].loss_before] + [s.loss_after for s in gr.steps]
    assert losses == sorted(losses, reverse=True)
    for a, b in zip(gr.steps, gr.steps[1:]):
        assert a.loss_after == b.loss_before


def test_update_glob_keeps_the_rest(examples):
    gr = gradient(load(examples / "mlp_softmax.yaml"), lr=0.1, update="b*,w2_1_*")
    assert set(gr.steps[0].params) == {"b1_1", "b1_2", "b1_3", "b2_1", "b2_2", "b2_3",
                                       "w2_1_1", "w2_1_2", "w2_1_3"}


def test_a_wrong_gradient_is_caught_and_exits_1(run, examples, monkeypatch):
    real = gmod._Oracle.at

    def off(self, leaves):  # noqa: ANN001
        out = real(self, leaves)
        return {**out, "b2": mpmath.mpf(out["b2"]) * (1 + 1e-6)}

    monkeypatch.setattr(gmod._Oracle, "at", off)
    gr = gradient(load(examples / "mazur.yaml"))
    assert not gr.verified and "b2" in gr.verification.detail
    result = run("gradient", str(examples / "mazur.yaml"))
    assert result.exit_code == 1 and "NOT VERIFIED" in result.stderr


@pytest.mark.parametrize("args,words", [
    (["--steps", "3"], "need a learning rate"),
    (["--update", "w*"], "need a learning rate"),
    (["--lr", "-1"], "positive"),
    (["--lr", "abc"], "--lr"),
    (["--lr", "0.5", "--update", "q*"], "matches no param"),
    (["--set", "x1=null"], "has no value"),
])
def test_bad_options_exit_2(run, examples, args, words):
    result = run("gradient", str(examples / "mazur.yaml"), *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines


def test_big_net_is_grouped_and_checked_by_complex_step():
    text = ("mlp:\n  inputs: [x1, x2]\n  layers: [16, 16, 16, 16, 1]\n  targets: [y]\n"
            "inputs: {x1: 0.5, x2: -0.3, y: 0.2}\n")
    gr = gradient(load(text))
    assert gr.verified and gr.method == "complex-step"
    from rich.console import Console

    from pathgrad.render import gradient_table

    console = Console(width=100, record=True, file=open("/dev/null", "w"))
    console.print(gradient_table.gradient(gr))
    out = console.export_text()
    assert "w1_*_*" in out and "params grouped by name pattern" in out
    # LaTeX, Markdown and HTML group the same way: one row per pattern, its count and range
    n_w1 = sum(1 for p in gr.spec.params if p.startswith("w1_"))
    w1 = [gr.gradient[p] for p in gr.spec.params if p.startswith("w1_")]
    md = gradient_markdown.render(gr)
    row = next(line for line in md.splitlines() if line.startswith("| w1\\_\\*\\_\\* |"))
    lo, hi = (float(x.replace("−", "-").replace("·10", "e").translate(SUPER))
              for x in row.split("|")[3].split("…"))
    assert row.split("|")[2].strip() == str(n_w1)
    assert close(lo, min(w1), 1e-8) and close(hi, max(w1), 1e-8)
    assert len([line for line in md.splitlines() if line.startswith("| ")]) < 40
    tex = gradient_latex.render(gr)
    assert r"\texttt{w1\_*\_*}" in tex and tex.count(r"\\") < 60
    page = gradient_html.render(gr)
    dom = xml.dom.minidom.parseString(page)
    assert len(dom.getElementsByTagName("tr")) < 40


def one_too_small(n: int = 250) -> str:
    """n params in one group (p*); ∂E/∂p0 = e^(−800) is too small for a float."""
    params = ", ".join(f"p{i}: {i / 10 + 0.1}" for i in range(n))
    terms = " + ".join(f"p{i}^2" for i in range(1, n))
    return f"params: {{{params}}}\nnodes: {{E: 'p0*exp(-800) + {terms}'}}\n"


def test_a_grouped_table_says_which_entries_have_no_value_in_every_format():
    # the row's range leaves p0 out, so each format says so under the table (it showed only
    # the range)
    n = 250
    gr = gradient(load(one_too_small(n)))
    reason = gr.notes["p0"]
    assert gr.gradient["p0"] is None and reason.startswith("too small for a float (3.66787e-348")
    assert list(gr.notes) == ["p0"]  # the oracle: exactly one entry has no value
    from rich.console import Console

    from pathgrad.render import gradient_table

    console = Console(width=120, record=True, file=open("/dev/null", "w"), color_system=None)
    console.print(gradient_table.gradient(gr))
    lines = console.export_text().splitlines()
    want = f"p*: 1 of 250 with no value (p0: {reason})"
    assert want in lines
    row = next(line for line in lines if line.startswith("p* "))
    lo, hi = (float(x) for x in row.split()[2::2][:2])
    assert (lo, hi) == (min(2 * (i / 10 + 0.1) for i in range(1, n)), 2 * ((n - 1) / 10 + 0.1))
    assert f"- {want.replace('*', chr(92) + '*')}" in gradient_markdown.render(gr).splitlines()
    assert rf"\par p*: 1 of 250 with no value (p0: {reason})" in gradient_latex.render(gr)
    dom = xml.dom.minidom.parseString(gradient_html.render(gr))
    notes = [p.firstChild.data for p in dom.getElementsByTagName("p")
             if p.getAttribute("class") == "note"]
    assert want in notes
    # a group of one param (its pattern is its name) does not say the name twice
    alone = gradient_table.ParamGroup("q", 1, None, None, None, None, 1, 1, 1, f"q: {reason}")
    assert gradient_table.missing_notes([alone]) == [f"q: {reason}"]
    # ungrouped, LaTeX's cell gives the reason (it printed ---), as the other formats do
    small = gradient(load("params: {w: 1, v: 2}\nnodes: {E: 'w*exp(-800) + v^2'}\n"))
    assert rf"$w$ & $1$ & {small.notes['w']} & 1 \\" in gradient_latex.render(small)


def test_the_compiled_latex_prints_two_hyphens_as_typed(tmp_path):
    # TeX turns -- into an en dash: the grouped note's --format json printed as –format json
    pdflatex, pdftotext = need("pdflatex"), need("pdftotext")
    (tmp_path / "g.tex").write_text(gradient_latex.render(gradient(load(one_too_small()))))
    subprocess.run([pdflatex, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape",
                    "g.tex"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    subprocess.run([pdftotext, "g.pdf"], cwd=tmp_path, check=True, timeout=60)
    shown = " ".join((tmp_path / "g.txt").read_text().split())
    assert "--format json lists every one" in shown and "–" not in shown
    assert "p*: 1 of 250 with no value (p0: too small for a float (3.66787e-348))" in shown


SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def test_html_reads_back(run, examples):
    result = run("gradient", str(examples / "mazur.yaml"), "--lr", "0.5", "--update", "w*",
                 "-f", "html")
    assert result.exit_code == 0, result.stderr
    dom = xml.dom.minidom.parseString(result.stdout)
    rows = {}
    for tr in dom.getElementsByTagName("tr"):
        cells = ["".join(n.data for n in td.childNodes if n.nodeType == n.TEXT_NODE)
                 for td in tr.getElementsByTagName("td")]
        if len(cells) == 4 and cells[0] in MAZUR_NEW:  # the steps table: param … after
            rows[cells[0]] = float(cells[3].replace("−", "-"))
    assert set(rows) == set(MAZUR_NEW)
    assert all(abs(rows[p] - v) < 5e-9 for p, v in MAZUR_NEW.items())


def test_other_formats(examples):
    gr = gradient(load(examples / "mazur.yaml"), lr=0.5, update="w*")
    data = gradient_json.gradient(gr)
    assert CONTRACT <= set(data) and len(data["steps"]) == 1
    md = gradient_markdown.render(gr)
    assert "| w2\\_1\\_1 |" in md and "0.35891648" in md
    tex = gradient_latex.render(gr)
    assert r"\begin{tabular}" in tex and "0.35891648" in tex


def test_a_kink_hit_exactly_is_decided_exactly(examples):
    # z = 0.1·0.2 + 0.3·0.4 − 0.14 is exactly 0: relu′(0) = 0 and |z|′(0) = 0, so every
    # gradient entry is exactly 0 (binary floating point would make z a rounding error)
    gr = gradient(load(examples / "kink.yaml"))
    assert gr.verified and set(gr.gradient.values()) == {0.0}


def test_a_gradient_that_cancels_to_0_is_shown_as_0_in_every_command(tmp_path):
    # the exact value is 0 but its 30-digit midpoint is −1.2e-32: to_float proves it 0, and
    # within_float called that "too small for a float (-1.2326e-32)", which a float holds
    from click.testing import CliRunner

    from pathgrad.cli import cli

    spec = tmp_path / "shift.yaml"
    spec.write_text(SOFTMAX_SHIFT)
    gr = gradient(load(SOFTMAX_SHIFT))
    assert gr.gradient["b1"] == 0.0 and "b1" not in gr.notes
    for args in (["gradient", str(spec)], ["explain", str(spec), "-w", "b1"],
                 ["backprop", str(spec), "-w", "b1"]):
        out = CliRunner().invoke(cli, [*args, "-f", "json"])
        assert out.exit_code == 0 and "too small" not in out.stdout, (args, out.output)
