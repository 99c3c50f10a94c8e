"""What a person reads, for a relu net, a max/min net and softmax + cross-entropy, in every
format: each factor derived by hand below appears in the terminal (read through rich, so
[z > 0] must survive markup), JSON, LaTeX, Markdown and HTML; the numbers are the hand values;
and the command line's options for handouts (--digits, --numbers, --top K, -o FILE.pdf)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import sympy as sp
from exporthelp import EXAMPLES, need
from rich.console import Console

import pathgrad
from pathgrad.calculus import sigmoid
from pathgrad.render import html, jsonout, latex, markdown, table
from pathgrad.render.formats import Options

RELU = """\
name: relu residual
inputs: {x: 1.5, y: 0.5}
params: {w1: 0.8, w2: -0.6}
nodes:
  z1: w1*x
  h1: relu(z1)
  a1: x + h1
  z2: w2*a1
  h2: relu(z2)
  a2: a1 + h2
  E: (a2 - y)^2
loss: E
"""

MAXMIN = """\
inputs: {x: 1.5, y: 0.5}
params: {w1: 0.8, w2: -0.6, w3: 2}
nodes:
  p: max(w1*x, w2*x)
  q: min(p, w3)
  E: (q - y)^2/2
loss: E
"""


def terminal(ex, width: int = 100, **options) -> str:
    console = Console(record=True, width=width, color_system=None,
                      file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(table.explanation(ex, Options(**options)))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


@pytest.fixture(scope="module")
def relu():
    return pathgrad.explain(RELU, "w1")


@pytest.fixture(scope="module")
def maxmin():
    return pathgrad.explain(MAXMIN, "w1")


@pytest.fixture(scope="module")
def softmax():
    return pathgrad.explain(EXAMPLES / "mlp_softmax.yaml", "w2_1_1")


# by hand: z1 = 1.2 > 0, a1 = x + z1 = 2.7, z2 = −0.6·2.7 = −1.62 < 0, so h2 = 0, a2 = 2.7;
# ∂E/∂a2 = 2·(a2 − y) = 4.4; path 1 goes through the dead relu (0), path 2 = 4.4·1.5 = 6.6
RELU_ROWS = [
    "1   w1 → z1 → h1 → a1 → z2 → h2 → a2 → E                                     0     +0.0%",
    "    ∂E/∂a2 · ∂a2/∂h2 · ∂h2/∂z2 · ∂z2/∂a1 · ∂a1/∂h1 · ∂h1/∂z1 · ∂z1/∂w1",
    "    = 2·(a2−y) · 1 · [z2 > 0] · w2 · 1 · [z1 > 0] · x",
    "    = 4.4 · 1 · 0 · (−0.6) · 1 · 1 · 1.5 = 0",
    "2   w1 → z1 → h1 → a1 → a2 → E                                             6.6   +100.0%",
    "    ∂E/∂a2 · ∂a2/∂a1 · ∂a1/∂h1 · ∂h1/∂z1 · ∂z1/∂w1",
    "    = 2·(a2−y) · 1 · 1 · [z1 > 0] · x",
    "    = 4.4 · 1 · 1 · 1 · 1.5 = 6.6",
]


def test_relu_terminal_golden(relu):
    text = terminal(relu, numbers=True)
    lines = text.splitlines()
    start = lines.index(RELU_ROWS[0])
    assert lines[start:start + len(RELU_ROWS)] == RELU_ROWS
    assert "∂E/∂w1 = 2·w2·x·[z1 > 0]·[z2 > 0]·(a2−y) + 2·x·[z1 > 0]·(a2−y)" in text
    assert "value           6.6" in text
    assert "z2 = −1.62" in text and "h2 = 0" in text  # the forward pass
    assert "··" not in text and "·  ·" not in text  # no factor vanished


def test_relu_every_other_format(relu):
    data = json.loads(jsonout.dumps(jsonout.explanation(relu)))
    # factors[i] = ∂nodes[i+1]/∂nodes[i]: w1 → z1 → h1 → a1 → z2 → h2 → a2 → E
    assert data["paths"][0]["factors"][1] == "Heaviside(z1, 0)"
    assert data["paths"][0]["factors"][4] == "Heaviside(z2, 0)"
    assert data["paths"][0]["factors"][-1] == "2*a2 - 2*y"  # sympy's form, unchanged
    assert data["paths"][0]["factors_simplified"][-1] == "2*(a2 - y)"
    tex = latex.render(relu)
    assert tex.count(r"\left[z_{1} > 0\right]") >= 2 and r"\left[z_{2} > 0\right]" in tex
    assert r"2 \left(a_{2} - y\right)" in tex
    md = markdown.render(relu)
    row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    assert r"\left[z_{2} > 0\right]" in row and r"\left[z_{1} > 0\right]" in row
    page = html.render(relu)
    root = ET.fromstring(page)
    tr = next(t for t in root.iter("tr") if t.get("data-index") == "1")
    cell = "".join(list(tr.iter("td"))[3].itertext())
    assert cell.count("[") == 2 and cell.count(">") == 2 and "0" in cell


def test_max_and_min_factors_in_every_format(maxmin):
    # ∂p/∂w1 = x·H(w1·x − w2·x), ∂q/∂p = H(w3 − p) (max and min pick one argument),
    # ∂E/∂q = q − y = 0.7; the path: 0.7 · 1 · 1.5 = 1.05
    text = terminal(maxmin, numbers=True)
    assert "(q−y) · H(w3−p) · x·H(x·(w1−w2))" in text
    assert "= 0.7 · 1 · 1.5 = 1.05" in text
    data = jsonout.explanation(maxmin)
    names = {s.name: s for s in maxmin.network.symbols.values()}
    factors = [sp.parse_expr(f, local_dict={**names, "Heaviside": sp.Heaviside})
               for f in data["paths"][0]["factors"]]
    x, w1, w2, w3, p = (names[n] for n in ("x", "w1", "w2", "w3", "p"))
    assert factors[0] == x * sp.Heaviside(w1 * x - w2 * x)
    assert factors[1] == sp.Heaviside(w3 - p)
    tex = latex.render(maxmin)
    assert r"H\left(w_{3} - p\right)" in tex
    page = html.render(maxmin)
    ET.fromstring(page)
    assert page.count("<mi>H</mi>") >= 2


def test_softmax_cross_entropy_reads_as_the_textbook(softmax):
    # ∂a_j/∂s = −exp(z_j)/s² = −a_j/s (a_j = exp(z_j)/s), and the direct derivative
    # a1_1·(a2_1·(y1 + y2 + y3) − y1): the textbook a − y when the targets add up to 1
    text = terminal(softmax, width=120)
    assert "= (−y1/a2_1) · (−a2_1/s2) · exp(z2_1) · a1_1" in text
    assert "a1_1·(a2_1·(y1+y2+y3) − y1)" in text
    assert "exp(−b2_1" not in text  # no leaves-only exponent mixed with names
    data = jsonout.explanation(softmax)
    sym = {s.name: s for s in softmax.network.symbols.values()}
    simplified = sp.parse_expr(data["direct_simplified"], local_dict=sym)
    a11, a21, y1, y2, y3 = (sym[n] for n in ("a1_1", "a2_1", "y1", "y2", "y3"))
    assert sp.expand(simplified - a11 * (a21 * (y1 + y2 + y3) - y1)) == 0
    # at the point (y = 0, 1, 0): a1_1·(a2_1 − 0) … = the path sum
    vals = data["node_values"]
    assert vals["a1_1"] * (vals["a2_1"] * 1 - 0) == pytest.approx(data["value"], rel=1e-12)
    assert "2*exp" not in data["direct_simplified"]
    tex = latex.render(softmax)
    md = markdown.render(softmax)
    for doc in (tex, md):  # −a2_1/s2 in display names, in both LaTeX formats
        assert r"- \frac{a^{(2)}_{1}}{s^{(2)}}" in doc
    page = html.render(softmax)
    ET.fromstring(page)


def test_question_direct_derivative_has_no_two_over_two(run, examples):
    out = run("explain", str(examples / "question.yaml"), "-w", "w11").stdout
    assert "/2" not in out and "2·w21" not in out
    assert "x1·a01·(1−a01)·(Out−y)·(w21·w31·a11·(1−a11) + w22·w32·a12·(1−a12))" in out
    data = json.loads(run("explain", str(examples / "question.yaml"), "-w", "w11",
                          "-f", "json").stdout)
    names = {n: sp.Symbol(n, real=True) for n in data["values"]}
    names.update({n: sp.Symbol(n, real=True) for n in data["node_values"]})
    names["sigmoid"] = sigmoid
    raw = sp.parse_expr(data["direct_names"], local_dict=names)
    shown = sp.parse_expr(data["direct_simplified"], local_dict=names)
    assert sp.expand(raw - shown) == 0  # proved equal, checked again here independently


# --- the command line --------------------------------------------------------------------


def test_digits_apply_to_every_format(run, examples):
    q = str(examples / "question.yaml")
    for fmt in ("table", "markdown", "html", "latex"):
        out = run("explain", q, "-w", "w11", "-f", fmt, "--digits", "3").stdout
        assert "0.00432" in out.replace("−", "-") and "0.004322" not in out, fmt
    out = run("explain", q, "-w", "w11").stdout
    assert "−0.00432218" in out  # the default: 6 significant digits everywhere
    assert run("explain", q, "-w", "w11", "--digits", "0").exit_code == 2


def test_numbers_follow_one_path_factor_by_factor(run, examples):
    out = run("explain", str(examples / "question.yaml"), "-w", "w11", "--numbers").stdout
    # σ′ by hand: a01 = σ(0.5), a11 = σ(−1.2·a01): the four factors of path 1 and their product
    assert "= 0.0468419 · 1.5 · (−0.261759) · 0.235004 = −0.00432218" in out


def test_narrow_terminals_never_cut_numbers(run, examples):
    out = run("explain", str(examples / "mazur.yaml"), "-w", "w1_1_1",
              env={"COLUMNS": "60"}).stdout
    assert "…" not in out
    assert "0.000668396" in out and "−0.000229828" in out


def test_top_k_writes_every_format(run, examples, tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("mlp: {inputs: [x1], layers: [4, 4, 4, 1], targets: [y]}\n"
                    "inputs: {x1: 0.5, y: 1}\n")
    for fmt, mark in (("latex", r"\documentclass"), ("markdown", "## The 3 largest"),
                      ("html", "<!DOCTYPE html>"), ("json", '"top": 3')):
        result = run("explain", str(spec), "-w", "w1_1_1", "--top", "3", "-f", fmt)
        assert result.exit_code == 0, (fmt, result.stderr)
        assert mark in result.stdout
    tex = run("explain", str(spec), "-w", "w1_1_1", "--top", "3", "-f", "latex").stdout
    assert len(re.findall(r"\\tag\{Path \d+\}", tex)) == 3


def test_unknown_extension_is_refused_listing_the_known_ones(run, examples, tmp_path):
    out = tmp_path / "handout.docx"
    result = run("explain", str(examples / "olah.yaml"), "-w", "b", "-o", str(out))
    assert result.exit_code == 2 and not out.exists()
    line = result.stderr.strip()
    assert "'.docx'" in line and ".tex" in line and ".pdf" in line and "no extension" in line
    plain = tmp_path / "notes"
    assert run("explain", str(examples / "olah.yaml"), "-w", "b", "-o", str(plain)
               ).exit_code == 0
    assert "b → c → e" in plain.read_text(encoding="utf-8")


def test_pdf_without_pdflatex_is_exit_2(run, examples, tmp_path, monkeypatch):
    import pathgrad.render.pdf as pdf

    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    out = tmp_path / "handout.pdf"
    result = run("explain", str(examples / "olah.yaml"), "-w", "b", "-o", str(out))
    assert result.exit_code == 2 and "pdflatex" in result.stderr and not out.exists()


def test_pdf_is_compiled(run, examples, tmp_path):
    need("pdflatex")
    out = tmp_path / "handout.pdf"
    result = run("explain", str(examples / "question.yaml"), "-w", "w11", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF")


def test_show_has_the_forward_pass(run, examples):
    out = run("show", str(examples / "question.yaml")).stdout
    assert "0.622459" in out  # a01 = σ(0.5)
    data = json.loads(run("show", str(examples / "question.yaml"), "-f", "json").stdout)
    assert data["node_values"]["a01"] == pytest.approx(1 / (1 + 2.718281828459045 ** -0.5))
    assert "path_lengths" in data


def test_show_describes_residual_lengths_in_words(run, examples):
    out = run("show", str(examples / "residual.yaml")).stdout
    assert "(edges: count)" not in out and "{4:" not in out
    assert "4 edges (1 path), 6 (3), 8 (3), 10 (1)" in out  # C(3, k) paths


def test_backprop_keeps_a_layer_in_the_spec_order_and_names_tangents(run, examples):
    out = run("backprop", str(examples / "question.yaml"), "-w", "w11").stdout
    assert out.index("δ_a11 =") < out.index("δ_a12 =")
    fwd = run("backprop", str(examples / "question.yaml"), "-w", "w11", "--forward").stdout
    assert "ṫ" not in fwd and "∂a11/∂w11 = w21·a11·(1−a11) · ∂a01/∂w11" in fwd


def test_top_level_help_is_not_cut():
    done = subprocess.run([sys.executable, "-m", "pathgrad", "--help"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "80"})
    commands = done.stdout.split("Commands:")[1]
    assert "..." not in commands
    assert "Explain ∂loss/∂WEIGHT as a sum over every path from WEIGHT to the" in commands


# --- the Python API ----------------------------------------------------------------------


def test_api_takes_a_path_or_a_spec_and_renders_every_format(examples, tmp_path):
    ex = pathgrad.explain(str(examples / "question.yaml"), "w11")
    spec = pathgrad.load(examples / "question.yaml")
    assert pathgrad.load(spec) is spec
    again = pathgrad.explain(spec, "w11")
    assert again.value == ex.value
    assert repr(ex) == "<Explanation ∂E/∂w11: 2 paths, value −0.00577157, verified (exact)>"
    assert ex.to_text().startswith("∂E/∂w11: 2 paths")
    assert ex.to_latex().startswith(r"\documentclass")
    assert ex.to_html().startswith("<!DOCTYPE html>")
    assert ex.to_markdown().startswith("## ")
    assert json.loads(ex.to_json())["path_count"] == 2
    for ext in (".md", ".json", ".txt", ".html", ".tex"):
        path = ex.save(tmp_path / f"q{ext}")
        assert path.read_text(encoding="utf-8")
    with pytest.raises(pathgrad.UsageError, match="extension"):
        ex.save(tmp_path / "q.docx")
    assert ex._repr_html_().startswith("<!DOCTYPE html>")
    assert ex._repr_latex_().startswith(r"\begin{align*}")
    assert "| # | path |" in ex._repr_markdown_()


def test_api_signatures_read_cleanly():
    import inspect

    for f in (pathgrad.explain, pathgrad.load):
        assert "object at 0x" not in str(inspect.signature(f))


def test_the_analysis_record_knows_no_renderer():
    code = ("import sys, pathgrad.analyses.explanation as e\n"
            "assert not any(m.startswith('pathgrad.render') for m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith('pathgrad.render'))\n"
            "assert not hasattr(e.Explanation, '_repr_html_')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
