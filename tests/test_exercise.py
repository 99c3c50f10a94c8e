"""`pathgrad exercise`: reproducible variants with nice numbers, keys that agree with
`explain --set` and with the question's network worked out by hand, documents that compile,
Moodle XML that parses, and answers templates that `pathgrad check` grades."""

from __future__ import annotations

import json
import math
import re
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from exporthelp import need, oracle_paths

import pathgrad

ROOT = Path(__file__).resolve().parent.parent
QUESTION = str(ROOT / "examples" / "question.yaml")
OVERFULL_PT = 1.0


def _sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def by_hand(v: dict[str, float]) -> dict:
    """The question's network at the values `v`, by hand (no pathgrad)."""
    a01 = _sig(v["w11"] * v["x1"])
    a11, a12 = _sig(v["w21"] * a01), _sig(v["w22"] * a01)
    out = v["w31"] * a11 + v["w32"] * a12
    f1 = [v["x1"] * a01 * (1 - a01), v["w21"] * a11 * (1 - a11), v["w31"], out - v["y"]]
    f2 = [v["x1"] * a01 * (1 - a01), v["w22"] * a12 * (1 - a12), v["w32"], out - v["y"]]
    return {"f": [f1, f2], "v": [math.prod(f1), math.prod(f2)],
            "grad": math.prod(f1) + math.prod(f2)}


def _make(run, tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    result = run("exercise", QUESTION, "-w", "w11", *args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """The 3-variant exam of the issue, as JSON (seed 7)."""
    from click.testing import CliRunner

    from pathgrad.cli import cli

    out = tmp_path_factory.mktemp("ex") / "ex.json"
    result = CliRunner().invoke(cli, ["exercise", QUESTION, "-w", "w11", "--variants", "3",
                                      "--seed", "7", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_json_contract(three):
    assert three["weight"] == "w11" and len(three["variants"]) == 3
    for v in three["variants"]:
        assert set(v) >= {"seed", "values", "answers"}
        assert set(v["answers"]) >= {"paths", "gradient"}
        for p in v["answers"]["paths"]:
            assert set(p) >= {"nodes", "factors", "factor_values", "value"}
            assert all(isinstance(f, str) for f in p["factors"])
            assert all(isinstance(x, float) for x in p["factor_values"])
            assert len(p["factors"]) == len(p["factor_values"]) == len(p["nodes"]) - 1
    assert [v["seed"] for v in three["variants"]] == [7, 8, 9]


def test_the_key_is_right_by_hand_at_the_printed_values(three):
    for v in three["variants"]:
        printed = {n: float(Fraction(t)) for n, t in v["values_text"].items()}
        assert printed == v["values"]
        hand = by_hand(printed)
        paths = v["answers"]["paths"]
        assert sorted(p["nodes"] for p in paths) == sorted(list(p) for p in oracle_paths(
            pathgrad.load(QUESTION), "w11"))
        assert [p["nodes"][2] for p in paths] == ["a11", "a12"]  # by_hand's order
        for p, f, value in zip(paths, hand["f"], hand["v"]):
            assert p["factor_values"] == pytest.approx(f, rel=1e-12)
            assert p["value"] == pytest.approx(value, rel=1e-12)
        assert v["answers"]["gradient"] == pytest.approx(hand["grad"], rel=1e-12)


def test_the_key_agrees_with_explain_set_at_the_printed_values(run, three):
    for v in three["variants"]:
        sets = [a for n, t in v["values_text"].items() for a in ("--set", f"{n}={t}")]
        result = run("explain", QUESTION, "-w", "w11", *sets, "--format", "json")
        assert result.exit_code == 0
        data = json.loads(result.stdout)
        assert [p["nodes"] for p in data["paths"]] == [p["nodes"] for p in
                                                       v["answers"]["paths"]]
        assert [p["factors"] for p in data["paths"]] == [p["factors"] for p in
                                                         v["answers"]["paths"]]
        assert [p["value"] for p in data["paths"]] == pytest.approx(
            [p["value"] for p in v["answers"]["paths"]], rel=1e-12)
        assert data["value"] == pytest.approx(v["answers"]["gradient"], rel=1e-12)


def test_values_are_nice_and_no_path_vanishes(three):
    spec = pathgrad.load(QUESTION)
    for v in three["variants"]:
        assert v["varied"] == list(spec.params)
        for n in v["varied"]:
            text = v["values_text"][n]
            assert re.fullmatch(r"-?\d+(\.\d{1,2})?", text), text
            assert Fraction(text) != 0 and abs(Fraction(text)) <= 2
        for p in v["answers"]["paths"]:
            assert all(abs(x) > 1e-12 for x in p["factor_values"])
        # inputs not in --vary keep the spec's values
        assert v["values_text"]["x1"] == "1" and v["values_text"]["y"] == "0"


def test_same_seed_same_files_and_other_seeds_other_values(run, tmp_path):
    for ext in ("tex", "md", "json", "xml"):
        a = _make(run, tmp_path, f"a.{ext}", "--variants", "2", "--seed", "3")
        b = _make(run, tmp_path, f"b.{ext}", "--variants", "2", "--seed", "3")
        assert a.read_bytes() == b.read_bytes(), ext
    one = json.loads(_make(run, tmp_path, "s1.json", "--seed", "1").read_text())
    two = json.loads(_make(run, tmp_path, "s2.json", "--seed", "2").read_text())
    assert one["variants"][0]["values"] != two["variants"][0]["values"]


def test_a_variant_regenerates_alone_from_its_printed_seed(run, tmp_path, three):
    sheet = _make(run, tmp_path, "sheet.tex", "--variants", "3", "--seed", "7").read_text()
    assert "Variant 2 of 3" in sheet and "seed 8" in sheet and "--seed 8" in sheet
    alone = json.loads(_make(run, tmp_path, "alone.json", "--seed", "8").read_text())
    assert alone["variants"][0]["values"] == three["variants"][1]["values"]
    # the values are printed on the sheet exactly as the key used them
    for v in three["variants"]:
        for n, t in v["values_text"].items():
            name = "x_1" if n == "x1" else "y" if n == "y" else f"w_{{{n[1]},{n[2]}}}"
            assert f"${name} = {t}$" in sheet


def test_blanks_hide_what_is_asked_and_the_key_fills_it(run, tmp_path):
    sheet = _make(run, tmp_path, "s.tex", "--blank", "paths").read_text()
    key = _make(run, tmp_path, "k.tex", "--blank", "paths", "--key").read_text()
    route = r"w_{1,1} \to a_{0,1} \to a_{1,1}"
    assert route not in sheet and route in key
    assert "local partial" not in sheet  # only the paths are asked
    assert "Total: 2 points" in key
    full = _make(run, tmp_path, "f.tex", "--key").read_text()
    assert "Total: 13 points" in full  # as pathgrad check counts: 2 × (1 + 4 + 1) + 1
    values = _make(run, tmp_path, "v.tex", "--blank", "values").read_text()
    assert route in values and r"w_{2,1} a_{1,1} \left(1 - a_{1,1}\right)" in values
    bad = run("exercise", QUESTION, "-w", "w11", "--blank", "pathz", "-o", str(tmp_path / "x.tex"))
    assert bad.exit_code == 2 and "did you mean 'paths'?" in bad.stderr
    assert not (tmp_path / "x.tex").exists()


@pytest.mark.parametrize("args", [["--vary", "w99"], ["--vary", "a01"], ["--variants", "0"],
                                  ["-o", "sheet.docx"]])
def test_bad_options_are_one_line_and_exit_2(run, tmp_path, args):
    out = ["-o", str(tmp_path / "s.tex")] if "-o" not in args else \
        ["-o", str(tmp_path / args[-1])]
    args = [a for a in args if a not in ("-o", "sheet.docx")]
    result = run("exercise", QUESTION, "-w", "w11", *args, *out)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_latex_sheet_and_key_compile_without_overfull_lines(run, tmp_path):
    pdflatex = need("pdflatex")
    for name, extra in (("sheet", []), ("key", ["--key"]), ("paths", ["--blank", "paths"]),
                        ("mazur", [])):
        if name == "mazur":
            out = tmp_path / "mazur.tex"
            assert run("exercise", str(ROOT / "examples" / "mazur.yaml"), "-w", "w1_1_1",
                       "--key", "-o", str(out)).exit_code == 0
        else:
            out = _make(run, tmp_path, f"{name}.tex", "--variants", "2", *extra)
        done = subprocess.run([pdflatex, "-halt-on-error", "-interaction=nonstopmode",
                               "-no-shell-escape", out.name], cwd=tmp_path,
                              capture_output=True, timeout=180)
        log = (tmp_path / f"{name}.log").read_text(encoding="latin-1")
        assert done.returncode == 0, [ln for ln in log.splitlines() if ln.startswith("!")]
        overfull = [float(x) for x in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt", log)]
        assert all(x <= OVERFULL_PT for x in overfull), (name, overfull)


def test_pdf_output(run, tmp_path):
    need("pdflatex")
    pdf = _make(run, tmp_path, "key.pdf", "--variants", "3", "--key")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_moodle_xml_parses_and_holds_k_numerical_questions(run, tmp_path, three):
    xml = _make(run, tmp_path, "quiz.xml", "--variants", "3", "--seed", "7")
    root = ET.parse(xml).getroot()
    questions = [q for q in root.findall("question") if q.get("type") == "cloze"]
    assert root.tag == "quiz" and len(questions) == 3
    for q, v in zip(questions, three["variants"]):
        text = q.find("questiontext/text").text
        fields = re.findall(r"\{1:NUMERICAL:=([^:}]+):([^}]+)\}", text)
        expected = [x for p in v["answers"]["paths"]
                    for x in [*reversed(p["factor_values"]), p["value"]]]
        expected.append(v["answers"]["gradient"])
        assert [float(a) for a, _ in fields] == pytest.approx(expected, rel=1e-12)
        for answer, tol in fields:  # 1 % of each answer
            assert float(tol) == pytest.approx(abs(float(answer)) * 0.01, rel=0.01)
        assert q.find("questiontext/file").get("encoding") == "base64"


def test_markdown_has_a_table_per_path(run, tmp_path):
    md = _make(run, tmp_path, "key.md", "--key").read_text()
    assert md.count("| edge | local partial | value | pt |") == 2
    assert "```mermaid" in md and "**Total: 13 points**" in md


def test_answers_template_filled_in_is_graded_by_check(run, tmp_path, three):
    tpl = _make(run, tmp_path, "answers.yaml", "--seed", "8", "--blank", "values",
                "--answers-template")
    data = yaml.safe_load(tpl.read_text(encoding="utf-8"))
    key = three["variants"][1]  # seed 8
    assert {k: float(v) for k, v in data["values"].items()} == key["values"]
    assert [p["nodes"] for p in data["paths"]] == [p["nodes"] for p in key["answers"]["paths"]]
    empty = run("check", QUESTION, str(tpl), "--format", "json")
    # nothing filled in yet: what is given (the paths) is right, so no mistake, 2 points
    assert empty.exit_code == 0 and json.loads(empty.stdout)["score"]["earned"] == 2
    for p, k in zip(data["paths"], key["answers"]["paths"]):
        p["factors"] = [float(f"{x:.4g}") for x in k["factor_values"]]
        p["value"] = float(f"{k['value']:.4g}")
    data["gradient"] = float(f"{key['answers']['gradient']:.4g}")
    tpl.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = run("check", QUESTION, str(tpl), "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["score"] == {"earned": 13, "possible": 13}
    # when the paths are the question, the template leaves them to fill in
    blank = _make(run, tmp_path, "a2.yaml", "--answers-template")
    assert run("check", QUESTION, str(blank)).exit_code == 2


def test_no_paths_is_refused(run, tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w: 1, v: 2}\nnodes: {h: v*2, E: h^2}\n", encoding="utf-8")
    result = run("exercise", str(spec), "-w", "w", "-o", str(tmp_path / "s.tex"))
    assert result.exit_code == 2 and "no paths" in result.stderr


def test_key_comes_after_every_sheet_in_one_file(run, tmp_path):
    tex = _make(run, tmp_path, "exam.tex", "--variants", "3", "--key").read_text()
    heads = re.findall(r"\\section\*\{(Exercise|Answer key):", tex)
    assert heads == ["Exercise"] * 3 + ["Answer key"] * 3
    sheet = _make(run, tmp_path, "sheet.tex", "--variants", "3").read_text()
    assert "Answer key" not in sheet and "[1\\,pt]" not in sheet


def test_spec_text_is_escaped_in_every_format(run, tmp_path):
    spec = tmp_path / "odd.yaml"
    text = (ROOT / "examples" / "question.yaml").read_text(encoding="utf-8")
    text = text.replace("name: Two paths from w11",
                        "name: \"<b>]]> & $x$ \\\\input{/etc/passwd} # % _ ~ ^ {}\"")
    spec.write_text(text, encoding="utf-8")
    for ext in ("tex", "md", "xml"):
        out = tmp_path / f"o.{ext}"
        assert run("exercise", str(spec), "-w", "w11", "--key", "-o", str(out)).exit_code == 0
        body = out.read_text(encoding="utf-8")
        if ext == "xml":  # HTML-escaped and out of MathJax's reach
            assert '<span class="tex2jax_ignore mathjax_ignore">&lt;b&gt;]]&gt; &amp; $x$' \
                in body.replace("]]]]><![CDATA[>", "]]>")
        else:
            assert "\\input{/etc/passwd}" not in body and "<b>" not in body
    ET.parse(tmp_path / "o.xml")  # the CDATA and the escaping keep the XML well-formed
    pdflatex = need("pdflatex")
    done = subprocess.run([pdflatex, "-halt-on-error", "-interaction=nonstopmode",
                           "-no-shell-escape", "o.tex"], cwd=tmp_path, capture_output=True,
                          timeout=180)
    assert done.returncode == 0


def test_a_partial_that_is_zero_whatever_is_drawn_does_not_block_the_draw(run, tmp_path):
    """An RNN's ∂z1/∂w = h0 = 0 (h0 is an input, not varied): that path is 0 on every
    variant, and every other partial is still kept away from 0."""
    out = tmp_path / "rnn.json"
    result = run("exercise", str(ROOT / "examples" / "rnn.yaml"), "-w", "w", "--variants", "2",
                 "-o", str(out))
    assert result.exit_code == 0, result.stderr
    for v in json.loads(out.read_text())["variants"]:
        assert v["values"]["h0"] == 0
        for p in v["answers"]["paths"]:
            if p["nodes"][:2] == ["w", "z1"]:  # w enters at step 1, times h0
                assert p["factor_values"][0] == 0 and p["value"] == 0
                assert all(abs(x) > 1e-12 for x in p["factor_values"][1:])
            else:
                assert all(abs(x) > 1e-12 for x in p["factor_values"])
