"""`pathgrad check`: a student's paths, factors, products and gradient graded exactly.

Oracles: the question's network worked out by hand (math.exp, no pathgrad), and for random
networks sympy's own derivative of each node's expression text (parsed by sympy here, in the
test, with its own sigmoid/relu) evaluated at node values computed the same way. Bad answers
files live in tests/bad_answers/, one per file, with the message they must produce.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from itertools import pairwise
from pathlib import Path

import pytest
import sympy as sp
import yaml
from hypothesis import HealthCheck, given, settings
from randomnets import networks

import pathgrad
from pathgrad.analyses.grading import grade
from pathgrad.spec.answers import read_answers

ROOT = Path(__file__).resolve().parent.parent
QUESTION = ROOT / "examples" / "question.yaml"
BAD = sorted((Path(__file__).resolve().parent / "bad_answers").glob("*.yaml"))
P1 = ["w11", "a01", "a11", "Out", "E"]
P2 = ["w11", "a01", "a12", "Out", "E"]


def _sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def question_by_hand() -> dict:
    """The question's network at its point, by hand: factors weight side first."""
    x1, y, w11, w21, w22, w31, w32 = 1.0, 0.0, 0.5, -1.2, 0.8, 1.5, -0.7
    a01 = _sig(w11 * x1)
    a11, a12 = _sig(w21 * a01), _sig(w22 * a01)
    out = w31 * a11 + w32 * a12
    f1 = [x1 * a01 * (1 - a01), w21 * a11 * (1 - a11), w31, out - y]
    f2 = [x1 * a01 * (1 - a01), w22 * a12 * (1 - a12), w32, out - y]
    return {"f1": f1, "f2": f2, "v1": math.prod(f1), "v2": math.prod(f2),
            "grad": math.prod(f1) + math.prod(f2)}


H = question_by_hand()


def _write(tmp_path: Path, data: dict, name: str = "answers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _check(run, tmp_path: Path, data: dict, *extra: str) -> tuple[int, dict]:
    path = _write(tmp_path, data)
    result = run("check", str(QUESTION), str(path), "--format", "json", *extra)
    return result.exit_code, json.loads(result.stdout)


def _correct() -> dict:
    r = lambda x: float(f"{x:.4g}")  # noqa: E731 - rounded as a student would
    return {"weight": "w11", "paths": [
        {"nodes": P1, "factors": [r(x) for x in H["f1"]], "value": r(H["v1"])},
        {"nodes": P2, "factors": [r(x) for x in H["f2"]], "value": r(H["v2"])}],
        "gradient": r(H["grad"])}


def test_hand_oracle_matches_the_readme_numbers():
    assert H["v1"] == pytest.approx(-0.00432217581, rel=1e-9)
    assert H["grad"] == pytest.approx(-0.00577157355, rel=1e-9)


def test_correct_answers_exit_0_and_earn_every_point(run, tmp_path):
    code, data = _check(run, tmp_path, _correct())
    assert code == 0, data
    assert data["correct"] is True and data["missing"] == []
    assert [p["status"] for p in data["paths"]] == ["correct", "correct"]
    assert all(f["status"] == "correct" for p in data["paths"] for f in p["factors"])
    assert data["gradient"]["status"] == "correct"
    assert data["score"] == {"earned": 13, "possible": 13}  # 2 × (path + 4 factors + product) + 1
    # the JSON's expected numbers are the hand-computed ones
    assert [f["expected"] for f in data["paths"][0]["factors"]] == pytest.approx(H["f1"])
    assert data["paths"][1]["value"]["expected"] == pytest.approx(H["v2"])


def test_the_issues_example_is_accepted_with_factors_read_loss_side_first(run, tmp_path):
    data = {"weight": "w11", "paths": [
        {"nodes": P1, "factors": [0.0468, 1.5, -0.262, 0.235], "value": -0.00432},
        {"nodes": P2, "value": -0.00145}], "gradient": -0.00577}
    code, out = _check(run, tmp_path, data)
    assert code == 0
    assert out["paths"][0].get("factors_reversed") is True
    assert [f["status"] for f in out["paths"][1]["factors"]] == ["missing"] * 4
    assert out["score"] == {"earned": 9, "possible": 13}


def test_a_wrong_factor_is_named_and_the_product_it_carries_is_told_apart(run, tmp_path):
    data = _correct()
    f = data["paths"][0]["factors"]
    f[1] = round(f[1] * 1.5, 4)  # factor 2 (∂a11/∂a01) wrong
    data["paths"][0]["value"] = float(f"{math.prod(f):.4g}")  # the student's own product
    code, out = _check(run, tmp_path, data)
    assert code == 1 and out["correct"] is False
    p = out["paths"][0]
    assert [x["status"] for x in p["factors"]] == ["correct", "wrong", "correct", "correct"]
    bad = p["factors"][1]
    assert bad["index"] == 1 and bad["edge"] == ["a01", "a11"]
    assert bad["expected"] == pytest.approx(H["f1"][1]) and bad["given"] == f[1]
    assert p["value"]["status"] == "wrong" and p["value"]["reason"] == "carried"
    assert "wrong only because factor 2 is wrong" in p["value"]["message"]
    assert out["score"]["earned"] == 11


def test_an_arithmetic_slip_in_the_product_is_its_own_mistake(run, tmp_path):
    data = _correct()
    data["paths"][1]["value"] = round(H["v2"] * 10, 6)  # right factors, product off by 10
    code, out = _check(run, tmp_path, data)
    assert code == 1
    p = out["paths"][1]
    assert all(f["status"] == "correct" for f in p["factors"])
    assert p["value"]["reason"] == "arithmetic"
    assert p["value"]["from_factors"] == pytest.approx(H["v2"], rel=1e-3)
    assert "arithmetic slip" in p["value"]["message"]


def test_a_missed_path_and_a_gradient_that_sums_only_the_paths_given(run, tmp_path):
    data = _correct()
    del data["paths"][1]
    data["gradient"] = data["paths"][0]["value"]
    code, out = _check(run, tmp_path, data)
    assert code == 1
    assert out["missing"] == [P2]
    assert out["gradient"]["reason"] == "missed-path"
    assert "equals the sum of your path values, but you missed 1 path" in \
        out["gradient"]["message"]


def test_an_extra_path_names_the_first_edge_that_does_not_exist(run, tmp_path):
    data = _correct()
    data["paths"].append({"nodes": ["w11", "a01", "Out", "E"], "value": 0.001})
    data["gradient"] = float(f"{H['grad'] + 0.001:.4g}")
    code, out = _check(run, tmp_path, data)
    assert code == 1
    extra = out["paths"][2]
    assert extra["status"] == "not-a-path" and extra["missing_edge"] == ["a01", "Out"]
    assert "no edge a01 → Out" in extra["message"]
    assert out["gradient"]["reason"] == "extra-path"


def test_not_a_path_for_unknown_names_and_wrong_ends(run, tmp_path):
    data = {"weight": "w11", "paths": [{"nodes": ["w11", "a01", "a13", "Out", "E"]},
                                       {"nodes": ["a01", "a11", "Out", "E"]},
                                       {"nodes": ["w11", "a01", "a11", "Out"]}]}
    code, out = _check(run, tmp_path, data)
    assert code == 1
    msgs = [p["message"] for p in out["paths"]]
    assert "'a13' is not a name in the network; did you mean 'a11'?" in msgs[0]
    assert "starts at a01, not at w11" in msgs[1]
    assert "ends at Out, not at the loss E" in msgs[2]
    assert out["missing"] == [P1, P2]


def test_a_duplicate_path_is_flagged_and_earns_nothing(run, tmp_path):
    data = _correct()
    data["paths"].append(dict(data["paths"][0]))
    data["gradient"] = float(f"{H['grad'] + H['v1']:.4g}")
    code, out = _check(run, tmp_path, data)
    assert code == 1
    assert out["paths"][2]["status"] == "duplicate" and out["paths"][2]["duplicate_of"] == 0
    assert out["gradient"]["reason"] == "duplicate"
    assert out["score"] == {"earned": 12, "possible": 13}


@pytest.mark.parametrize("text", [
    "w21*a11*(1-a11)",               # the form explain prints
    "a11*w21 - w21*a11^2",           # expanded
    "w21*sigmoid(w21*a01)*(1 - sigmoid(w21*a01))",  # the node written out
    "w21*exp(-w21*a01)/(1 + exp(-w21*a01))^2",      # σ′ by the quotient rule
])
def test_a_right_symbolic_partial_in_any_form_is_proved_equal(run, tmp_path, text):
    data = {"weight": "w11", "paths": [
        {"nodes": P1, "factors": ["x1*a01*(1-a01)", text, "w31", "Out - y"]}, {"nodes": P2}]}
    code, out = _check(run, tmp_path, data)
    assert code == 0, out["paths"][0]["factors"][1]
    assert out["paths"][0]["factors"][1]["status"] == "correct"


@pytest.mark.parametrize(("text", "reason"), [
    ("w21*a11", "expression"),
    ("-1.2*a11*(1-a11)", "point-only"),  # the number for w21: right here, wrong elsewhere
    ("-w21*a11*(1-a11)", "sign"),
    ("w21*a01*(1-a01)", "expression"),
])
def test_a_wrong_symbolic_partial_is_diagnosed(run, tmp_path, text, reason):
    data = {"weight": "w11", "paths": [{"nodes": P1, "factors": [
        "x1*a01*(1-a01)", text, "w31", "Out - y"]}, {"nodes": P2}]}
    code, out = _check(run, tmp_path, data)
    assert code == 1
    f = out["paths"][0]["factors"][1]
    assert f["status"] == "wrong" and f["reason"] == reason
    assert f["expected"] == "w21*a11*(1 - a11)" and f["given"] == text
    assert [x["status"] for x in out["paths"][0]["factors"]] == \
        ["correct", "wrong", "correct", "correct"]


def test_the_table_tells_the_student_which_factor_is_wrong(run, tmp_path):
    data = _correct()
    data["paths"][0]["factors"][1] = "w21*a11"
    path = _write(tmp_path, data)
    result = run("check", str(QUESTION), str(path))
    assert result.exit_code == 1
    text = result.stdout
    assert "✗ factor 2 ∂a11/∂a01: wrong — expected w21·a11·(1−a11) = −0.2618, you gave" \
        in " ".join(text.split())
    assert "score 12/13" in text


def test_values_in_the_answers_file_set_the_point(run, tmp_path):
    """A variant's values: the answers file says where, and --set overrides it."""
    spec = pathgrad.load(QUESTION)
    point = {"w11": 0.3, "w21": 1.1}
    ex = pathgrad.explain(spec, "w11", values=point)
    data = {"weight": "w11", "values": point,
            "paths": [{"nodes": list(p.nodes), "value": p.value} for p in ex.paths],
            "gradient": ex.value}
    code, out = _check(run, tmp_path, data)
    assert code == 0
    code, out = _check(run, tmp_path, data, "--set", "w21=-1.1")
    assert code == 1 and out["gradient"]["status"] == "wrong"


def test_tolerance_is_relative(run, tmp_path):
    data = {"weight": "w11", "gradient": H["grad"] * 1.02}
    assert _check(run, tmp_path, data)[0] == 1
    assert _check(run, tmp_path, data, "--tolerance", "0.03")[0] == 1  # the paths are missing
    code, out = _check(run, tmp_path, data, "--tolerance", "0.03")
    assert out["gradient"]["status"] == "correct"


# --- random networks: sympy's own derivatives of the node texts are the oracle ------------

def _sympy_oracle(spec) -> dict:
    """Edge values at the spec's point from sympy parsing each node's canonical text."""
    from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

    z = sp.Symbol("z")
    funcs = {"sigmoid": sp.Lambda(z, 1 / (1 + sp.exp(-z))),
             "relu": sp.Lambda(z, sp.Piecewise((0, z <= 0), (z, True))),
             "tanh": sp.tanh, "sin": sp.sin, "exp": sp.exp}
    syms = {n: sp.Symbol(n) for n in spec.names}
    env = {syms[n]: sp.Rational(v.numerator, v.denominator) for n, v in spec.values().items()}
    exprs = {}
    for n in spec.nodes:  # the random specs declare nodes in dependency order
        exprs[n] = parse_expr(spec.text(n), local_dict={**syms, **funcs},
                              transformations=(*standard_transformations, convert_xor))
        env[syms[n]] = exprs[n].subs(env)
    edges = {}
    for v, e in exprs.items():  # every name the text mentions (sympy may cancel p0 - p0)
        for u in set(re.findall(r"[A-Za-z_]\w*", spec.text(v))) & set(syms):
            d = sp.diff(e, syms[u])
            edges[(u, v)] = float(sp.N(d.subs(env), 30))
    return edges


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(max_nodes=4))
def test_random_nets_right_answers_pass_and_each_mistake_is_found(text):
    spec = pathgrad.load(text)
    edges = _sympy_oracle(spec)
    weight = next(iter(spec.params))
    from exporthelp import oracle_paths

    paths = oracle_paths(spec, weight)
    if not paths:
        return
    given_paths = []
    for p in paths:
        factors = [edges[e] for e in pairwise(p)]
        given_paths.append({"nodes": list(p), "factors": factors, "value": math.prod(factors)})
    total = sum(g["value"] for g in given_paths)
    answers = {"weight": weight, "paths": given_paths, "gradient": total}
    result = grade(spec, read_answers(yaml.safe_dump(answers), spec))
    assert result.correct, [(p.nodes, [f.status for f in p.factors]) for p in result.paths]
    assert result.earned == result.possible
    # one factor wrong, the product carried from it
    nonzero = [(k, i) for k, p in enumerate(given_paths) for i, f in enumerate(p["factors"])
               if abs(f) > 1e-6]
    if nonzero:
        k, i = nonzero[0]
        bad = json.loads(json.dumps(answers))
        bad["paths"][k]["factors"][i] *= 3
        bad["paths"][k]["value"] = math.prod(bad["paths"][k]["factors"])
        r = grade(spec, read_answers(yaml.safe_dump(bad), spec))
        statuses = [f.status for f in r.paths[k].factors]
        assert statuses == ["wrong" if j == i else "correct" for j in range(len(statuses))]
        assert r.paths[k].value.reason == ("carried" if abs(given_paths[k]["value"]) > 1e-9
                                           else r.paths[k].value.reason)
    # a path left out is reported missing
    if len(paths) > 1:
        short = dict(answers, paths=given_paths[1:])
        r = grade(spec, read_answers(yaml.safe_dump(short), spec))
        assert r.missing == (tuple(paths[0]),)


# --- bad answers files: one line, exit 2 ------------------------------------------------

def _header(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#\s*(\w+):\s*(.*)$", line)
        if not m:
            break
        out[m.group(1)] = m.group(2).strip()
    return out


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_answers_files_give_one_line_and_exit_2(run, path):
    head = _header(path)
    assert "expect" in head, f"{path.name} needs an '# expect:' header"
    command = head.get("run", "check examples/question.yaml {file}")
    args = [a.replace("{file}", str(path)) for a in shlex.split(command)]
    args = [str(ROOT / a) if a.startswith("examples/") else a for a in args]
    result = run(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    first = lines[0].removeprefix("Error: ")
    where = head.get("where", "").replace("{file}", str(path))
    if where:
        assert first.startswith(where + ": "), first
        first = first[len(where) + 2:]
    assert first.startswith(head["expect"].replace("{file}", str(path))), first
    extra = lines[1:]
    assert len(extra) in (0, 2), extra  # at most the expression and its caret


@pytest.mark.parametrize(("text", "reason"), [
    ("exp(exp(exp(exp(x1*1000))))", "undefined"),  # beyond any number: no value anywhere
    ("log(-1)", "undefined"),                       # iπ: not a real number
    ("(a11 + w21 + x1 + y + a01)^900", "expression"),  # expand() would explode: not tried
    ("a11/(a11 - a11)", "undefined"),
])
def test_hostile_expressions_are_wrong_quickly_not_crashes(run, tmp_path, text, reason):
    data = {"weight": "w11", "paths": [{"nodes": P1, "factors": [
        "x1*a01*(1-a01)", text, "w31", "Out - y"]}, {"nodes": P2}]}
    code, out = _check(run, tmp_path, data)
    assert code == 1
    f = out["paths"][0]["factors"][1]
    assert f["status"] == "wrong" and f["reason"] == reason
