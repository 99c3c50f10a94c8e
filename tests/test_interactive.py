"""The interactive page (`pathgrad page`, `explain --interactive`) in a real browser.

Playwright drives Debian's chromium (`executable_path`, never a downloaded browser). Every
number the page shows is compared with pathgrad's own CLI (`explain --set … --format json`,
`backprop --format json`), the lit edges with brute-force paths (tests/exporthelp.py), and the
kink conventions of the generated JavaScript with pathgrad's Python engines. Skipped with a
reason when chromium or playwright is missing locally; a failure when CI is set.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from exporthelp import EXAMPLE_FILES, example_weight, need, oracle_paths, path_edge_set

import pathgrad
from pathgrad.cli import cli
from pathgrad.render import interactive, jscode

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _cli(*args: str) -> dict:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def browser():
    binary = need("chromium", "chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if CI:
            pytest.fail("playwright is not installed; CI is set, so this test may not be skipped")
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """Write the page for (spec file, weight) with `pathgrad page` and open it; the page must
    load nothing from the network and raise no script error."""
    opened = []

    def _open(spec: Path | str, weight: str, *extra: str):
        target = tmp_path / f"page{len(opened)}.html"
        result = CliRunner().invoke(cli, ["page", str(spec), "--weight", weight, *extra,
                                          "-o", str(target)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        requests: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(target.as_uri())
        page.wait_for_function("window.pathgradPage !== undefined")
        opened.append((page, errors, requests))
        return page

    yield _open
    for page, errors, requests in opened:
        assert not errors, errors
        assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests
        page.close()


def _close(a: float | None, b: float | None, scale: float = 0.0) -> bool:
    """Equal to 1e-9 relative (both undefined counts as equal); `scale` floors the
    tolerance where a sum cancels (the sum of the absolute path values). pathgrad computes
    exactly, so where exact arithmetic cancels to 0 (0.1·0.2 + 0.3·0.4 − 0.14) double
    precision leaves ±3e-17: 1e-13 absolute is allowed too."""
    if a is None or b is None or not math.isfinite(a) or not math.isfinite(b):
        return (a is None or not math.isfinite(a)) and (b is None or not math.isfinite(b))
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), scale) + 1e-13


def _number(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    x = float(text)  # JS prints NaN / Infinity, which float() reads back
    return x if math.isfinite(x) else None


def _page_numbers(page) -> dict:
    return page.evaluate("""() => ({
      gradient: document.getElementById("gradient").getAttribute("data-value"),
      rows: Array.from(document.querySelectorAll("[data-path]")).map(r =>
        [Number(r.getAttribute("data-path")), r.getAttribute("data-value")]),
      nodes: Object.fromEntries(Array.from(document.querySelectorAll("g.node[data-name]")).map(
        g => [g.getAttribute("data-name"), g.getAttribute("data-value")])),
      lit: Array.from(document.querySelectorAll("path.edge.on-path")).map(e =>
        [e.getAttribute("data-source"), e.getAttribute("data-target")]),
      hidden: Array.from(document.querySelectorAll("[data-path]")).filter(r =>
        r.hasAttribute("hidden")).map(r => Number(r.getAttribute("data-path"))),
    })""")


def _compare_with_explain(page, spec_file: str, weight: str, sets: dict[str, float]) -> None:
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v!r}")]
    want = _cli("explain", spec_file, "--weight", weight, *args, "--format", "json")
    got = _page_numbers(page)
    scale = sum(abs(p["value"]) for p in want["paths"] if p["value"] is not None)
    assert [i for i, _ in got["rows"]] == list(range(1, want["path_count"] + 1))
    for (i, value), path in zip(got["rows"], want["paths"]):
        assert _close(_number(value), path["value"]), (i, value, path["value"], path["nodes"])
    assert _close(_number(got["gradient"]), want["value"], scale), (got["gradient"],
                                                                      want["value"])
    for name, value in want["node_values"].items():
        if name in got["nodes"]:
            assert _close(_number(got["nodes"][name]), value), (name, got["nodes"][name], value)
    for name, value in want["values"].items():
        if name in got["nodes"]:
            assert _close(_number(got["nodes"][name]), value), (name, got["nodes"][name], value)


def _set_leaves(page, sets: dict[str, float]) -> None:
    for name, value in sets.items():
        page.fill(f'input[data-leaf="{name}"]', repr(value))  # fill fires the input event


def _shifted(spec, k: int = 1) -> dict[str, float]:
    """New values for every leaf: a small shift, different per leaf."""
    out = {}
    for i, (name, value) in enumerate(spec.values().items()):
        if value is not None:
            out[name] = round(float(value) + (0.05 + 0.01 * (i % 7)) * k, 6)
    return out


def _check_clicks(page, spec, weight: str, names: list[str]) -> None:
    paths = oracle_paths(spec, weight)
    listed = _cli("explain", spec.source, "--weight", weight, "--format", "json")["paths"]
    index = {tuple(p["nodes"]): i for i, p in enumerate(listed, 1)}  # data-path order
    assert set(index) == set(paths)
    for name in names:
        page.click(f'g.node[data-name="{name}"]')
        got = _page_numbers(page)
        through = [p for p in paths if name in p]
        assert {tuple(e) for e in got["lit"]} == path_edge_set(through), name
        assert set(got["hidden"]) == {index[p] for p in paths if name not in p}, name
        page.click(f'g.node[data-name="{name}"]')  # again: everything back
        got = _page_numbers(page)
        assert got["hidden"] == []
        assert {tuple(e) for e in got["lit"]} == path_edge_set(paths)


def spec_loss(spec_file: str) -> str:
    return pathgrad.load(spec_file).loss


def _step_to_end(page, spec_file: str, weight: str, sets: dict[str, float],
                 forward: bool = False) -> None:
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v!r}")]
    want = _cli("backprop", spec_file, "--weight", weight, *args, "--format", "json",
                *(["--forward"] if forward else []))
    attr = "data-tangent" if forward else "data-delta"
    if forward:
        page.check('input.pg-mode[value="forward"]')
    page.click("#step-reset") if page.is_enabled("#step-reset") else None
    steps = want["steps"]
    for k, step in enumerate(steps, 1):
        assert page.is_enabled("#step-next")
        page.click("#step-next")
        got = page.get_attribute(f'g.node[data-name="{step["node"]}"]', attr)
        assert _close(_number(got), step["value"]), (k, step["node"], got, step["value"])
        done = page.evaluate(f"""() => Array.from(document.querySelectorAll(
            "g.node[{attr}]")).map(g => g.getAttribute("data-name"))""")
        assert sorted(done) == sorted(s["node"] for s in steps[:k])
    assert not page.is_enabled("#step-next")
    final = page.get_attribute(f'g.node[data-name="{steps[-1]["node"]}"]', attr)
    gradient = page.get_attribute("#gradient", "data-value")
    if forward:  # ṫ_loss: the same sum, added up in another order
        assert steps[-1]["node"] == spec_loss(spec_file) and _close(float(final), float(gradient))
    else:  # the contract: the weight's δ is the gradient itself
        assert steps[-1]["node"] == weight and final == gradient
    page.click("#step-back")
    assert page.get_attribute(f'g.node[data-name="{steps[-1]["node"]}"]', attr) is None
    page.click("#step-reset")
    assert page.evaluate(f'() => document.querySelectorAll("g.node[{attr}]").length') == 0
    if forward:
        page.check('input.pg-mode[value="reverse"]')


# ---------------------------------------------------------------- every example


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_in_the_browser(open_page, example):
    """Every number against `explain --format json` (at the spec's point, then with every
    leaf moved), clicks against brute-force paths, steps against `backprop --format json`."""
    weight = example_weight(example)
    spec = pathgrad.load(example)
    page = open_page(example, weight)
    _compare_with_explain(page, str(example), weight, {})
    sets = _shifted(spec)
    _set_leaves(page, sets)
    _compare_with_explain(page, str(example), weight, sets)
    paths = oracle_paths(spec, weight)
    on_paths = sorted({n for p in paths for n in p[1:-1]})
    off_paths = [n for n in spec.names if all(n not in p for p in paths)]
    rng = random.Random(example.stem)
    chosen = rng.sample(on_paths, min(3, len(on_paths))) + off_paths[:1] + [weight]
    _check_clicks(page, spec, weight, chosen)
    _step_to_end(page, str(example), weight, sets)
    _step_to_end(page, str(example), weight, sets, forward=True)


# ---------------------------------------------------------------- random DAGs

UNARY = ["sigmoid", "tanh", "relu", "softplus", "abs", "exp", "sin", "cos"]
VALUES = [0.0, 0.5, -0.5, 1.0, -1.2, 0.3, 2.0]  # 0 lands on the kinks of relu, abs, max


def random_spec(seed: int) -> tuple[str, str]:
    """A random DAG using every function of the grammar, the kinks included."""
    rng = random.Random(seed)
    params = [f"p{i}" for i in range(rng.randint(1, 3))]
    inputs = [f"x{i}" for i in range(rng.randint(0, 2))]
    names = params + inputs
    values = {n: rng.choice(VALUES) for n in names}
    nodes: dict[str, str] = {}
    for i in range(rng.randint(2, 7)):
        a, b = rng.choice(names), rng.choice(names)
        shape = rng.randrange(8)
        if shape == 0:
            expr = f"{rng.choice(UNARY)}({a} {rng.choice('+-*')} {b})"
        elif shape == 1:
            expr = f"{rng.choice(['max', 'min'])}({a}, {b})"
        elif shape == 2:
            expr = f"{a} / (1 + {b}^2)"
        elif shape == 3:
            expr = f"log(1 + {a}^2) + sqrt({b}^2 + 1)"
        elif shape == 4:
            expr = f"{a}^3 - 2*{a}*{b}"
        elif shape == 5:
            expr = f"relu({a}) * {b}"
        elif shape == 6:
            expr = f"abs({a}) + max({a}, 0)"
        else:
            expr = f"{rng.choice(UNARY)}({a}) * {rng.choice([0.5, 2, -1])}"
        nodes[f"h{i}"] = expr
        names.append(f"h{i}")
    used = {u for e in nodes.values() for u in re.findall(r"[a-z]\w*", e)}
    sinks = [n for n in nodes if n not in used]
    nodes["E"] = " + ".join(f"({n})^2" for n in sinks)
    text = "\n".join([
        "inputs: {" + ", ".join(f"{n}: {values[n]}" for n in inputs) + "}",
        "params: {" + ", ".join(f"{n}: {values[n]}" for n in params) + "}",
        "nodes:", *(f"  {n}: {e}" for n, e in nodes.items()), "loss: E"]) + "\n"
    spec = pathgrad.load(text)
    counts = spec.graph.path_counts("E")
    weight = next((n for n in [*params, *inputs] if counts.get(n)), params[0])
    return text, weight


@pytest.mark.parametrize("seed", range(12))
def test_random_dags_in_the_browser(open_page, tmp_path, seed):
    text, weight = random_spec(seed)
    spec_file = tmp_path / f"random{seed}.yaml"
    spec_file.write_text(text, encoding="utf-8")
    spec = pathgrad.load(spec_file)
    page = open_page(spec_file, weight)
    _compare_with_explain(page, str(spec_file), weight, {})
    sets = _shifted(spec)
    _set_leaves(page, sets)
    _compare_with_explain(page, str(spec_file), weight, sets)
    paths = oracle_paths(spec, weight)
    inner = sorted({n for p in paths for n in p[1:]})
    _check_clicks(page, spec, weight, inner[:3])
    if paths:
        _step_to_end(page, str(spec_file), weight, sets)


def test_a_node_as_the_weight_and_values_from_the_command_line(open_page, examples):
    """--weight a node (its δ), --set on the command line: the page starts from that point."""
    spec_file = str(examples / "question.yaml")
    page = open_page(spec_file, "a01", "--set", "x1=0.5", "--set", "w22=-2")
    assert page.input_value('input[data-leaf="x1"]') == "0.5"
    _compare_with_explain(page, spec_file, "a01", {"x1": 0.5, "w22": -2.0})
    _check_clicks(page, pathgrad.load(spec_file), "a01", ["a11", "w11"])
    _step_to_end(page, spec_file, "a01", {"x1": 0.5, "w22": -2.0})


# ---------------------------------------------------------------- kinks and undefined values


KINKS = """
params: {w: 0, u: 0}
inputs: {x: -1}
nodes:
  r: relu(w)
  m: max(w, u)
  n: min(w, u)
  a: abs(w)
  s: sqrt(w^2 + 1) * softplus(w)
  l: log(x + 2) * w
  E: r + m + n + a + s + l
"""


def test_kink_conventions_match_pythons_engines(open_page, tmp_path):
    """relu′(0) = 0, ∂max/∂a = ∂min/∂a = ½ at a tie, sign(0) = 0: the page's numbers are
    pathgrad's (explain's paths through r, m, n, a), not JavaScript's own conventions."""
    spec_file = tmp_path / "kinks.yaml"
    spec_file.write_text(KINKS, encoding="utf-8")
    page = open_page(spec_file, "w")
    want = _cli("explain", str(spec_file), "--weight", "w", "--format", "json")
    by_route = {tuple(p["nodes"]): p["value"] for p in want["paths"]}
    assert by_route[("w", "r", "E")] == 0.0
    assert by_route[("w", "m", "E")] == 0.5
    assert by_route[("w", "a", "E")] == 0.0
    _compare_with_explain(page, str(spec_file), "w", {})
    # and right beside the kinks
    for w in (1e-9, -1e-9):
        _set_leaves(page, {"w": w})
        _compare_with_explain(page, str(spec_file), "w", {"w": w})


def test_undefined_values_are_undefined_in_the_page_too(open_page, tmp_path):
    """log of a negative, division by zero, an even root of a negative: explain says null,
    and the page says NaN (never a number made from ±Infinity, such as exp(−∞) = 0)."""
    spec_file = tmp_path / "undefined.yaml"
    spec_file.write_text("params: {w: 1}\ninputs: {x: 0}\nnodes:\n  a: log(x) * w\n"
                         "  b: exp(-1/x) + w\n  c: (x - 1)^(1/2) * w\n  E: a + b + c\n",
                         encoding="utf-8")
    page = open_page(spec_file, "w")
    want = _cli("explain", str(spec_file), "--weight", "w", "--format", "json")
    assert all(v is None for v in want["node_values"].values())
    _compare_with_explain(page, str(spec_file), "w", {})
    assert page.text_content("#gradient") == "—"


def test_the_page_helpers_are_the_printers_helpers(browser):
    """Every helper the printer may call exists in the page, and the page defines no other."""
    page = browser.new_page()
    page.set_content(f"<script>{interactive.script()}</script>")
    names = page.evaluate("() => Object.keys(PathgradLive.pg).sort()")
    page.close()
    assert names == sorted(jscode.HELPERS)


# ---------------------------------------------------------------- safety


def test_generated_javascript_is_made_of_slots_numbers_and_math_only():
    for example in EXAMPLE_FILES:
        live = interactive.build(pathgrad.load(example), example_weight(example))
        body = live.model.split("\n")[2:-1]
        for line in body:
            target, _, code = line.partition(" = ")
            assert re.fullmatch(r"[vp]\[\d+\]", target), line
            jscode.check(code.rstrip(";"))
    for bad in ("alert(1)", "v[0]; fetch('x')", "v[0] + x1", "Math.random()", "'a'", "v[0]`"):
        with pytest.raises(jscode.UnprintableError):
            jscode.check(bad)


def test_spec_text_cannot_escape_into_the_page(open_page, tmp_path):
    """A name, description and display names made of markup reach the page as text."""
    evil = "</script><script>window.owned = 1</script><!-- & <b>bold</b> '\""
    spec_file = tmp_path / "evil.yaml"
    spec_file.write_text(
        f"name: {json.dumps(evil)}\ndescription: {json.dumps(evil)}\n"
        "params: {w: 0.5}\ninputs: {x: 2}\nnodes: {h: tanh(w*x), E: h^2}\n"
        f"latex: {{w: {json.dumps('w_{<img src=x onerror=alert(1)>}')}}}\n",
        encoding="utf-8")
    page = open_page(spec_file, "w")
    assert page.evaluate("() => window.owned") is None
    assert page.evaluate("() => document.querySelectorAll('img, .pg-about b, h1 b').length") == 0
    assert evil in page.text_content(".pg-about")
    _compare_with_explain(page, str(spec_file), "w", {})


def test_script_json_never_closes_its_script_element():
    text = interactive.script_json({"a": "</script><!-- \u2028 &"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- \u2028 &"}


# ---------------------------------------------------------------- using it


def test_keyboard_steps_and_plays(open_page, examples):
    page = open_page(examples / "question.yaml", "w11")
    page.click("h1")  # focus on the page, not in an input
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.text_content(".pg-step-count") == "step 2 of 6"
    page.keyboard.press("ArrowLeft")
    assert page.text_content(".pg-step-count") == "step 1 of 6"
    page.keyboard.press(" ")
    page.wait_for_function(
        "() => document.querySelector('.pg-step-count').textContent === 'step 3 of 6'",
        timeout=5000)
    page.keyboard.press(" ")  # pause
    assert "play" in page.text_content(".pg-play")
    # arrows inside a number box edit the number, not the steps
    before = page.text_content(".pg-step-count")
    page.focus('input[data-leaf="x1"]')
    page.keyboard.press("ArrowRight")
    assert page.text_content(".pg-step-count") == before


def test_sliders_move_the_numbers_like_the_number_boxes(open_page, examples):
    page = open_page(examples / "question.yaml", "w11")
    slider = page.locator('input[data-slider="w21"]')
    slider.evaluate("(s) => { s.value = '0.25'; s.dispatchEvent(new Event('input')); }")
    assert page.input_value('input[data-leaf="w21"]') == "0.25"
    _compare_with_explain(page, str(examples / "question.yaml"), "w11", {"w21": 0.25})


def test_a_click_on_an_edge_lights_the_paths_through_it(open_page, examples):
    spec = pathgrad.load(examples / "question.yaml")
    page = open_page(examples / "question.yaml", "w11")
    page.locator('path.pg-hit').nth(0)  # the invisible wide twins exist
    k = page.evaluate("""() => Array.from(document.querySelectorAll('path.edge')).findIndex(
        e => e.getAttribute('data-source') === 'a11')""")
    edge = page.locator("path.edge").nth(k)
    edge.dispatch_event("click")
    got = _page_numbers(page)
    paths = [p for p in oracle_paths(spec, "w11") if "a11" in p]
    assert {tuple(e) for e in got["lit"]} == path_edge_set(paths)
    assert "1 of 2 paths" in page.text_content(".pg-selection")


def test_explain_interactive_adds_the_verdict(tmp_path, examples):
    target = tmp_path / "q.html"
    result = CliRunner().invoke(cli, ["explain", str(examples / "question.yaml"), "-w", "w11",
                                      "--interactive", "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "✓ verified" in text and 'data-leaf="w11"' in text and 'id="step-next"' in text
    bad = CliRunner().invoke(cli, ["explain", str(examples / "question.yaml"), "-w", "w11",
                                   "--interactive", "--format", "json"])
    assert bad.exit_code == 2 and "--interactive" in bad.stderr and "Traceback" not in bad.output


def test_page_command_errors_are_one_line(tmp_path, examples):
    result = CliRunner().invoke(cli, ["page", str(examples / "question.yaml"), "-w", "w1l",
                                      "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "did you mean 'w11'" in result.stderr
    assert not (tmp_path / "x.html").exists()
    default = CliRunner().invoke(cli, ["page", str(examples / "question.yaml")])
    assert default.exit_code == 0 and 'data-leaf="w11"' in default.stdout


# ---------------------------------------------------------------- the notebook widget


def test_widget_syncs_values_both_ways(browser, examples):
    pytest.importorskip("anywidget") if not CI else None
    w = pathgrad.widget(examples / "question.yaml", "w11")
    assert w.values["x1"] == 1.0 and w.weight == "w11"
    assert w.explanation.value == pytest.approx(-0.00577157355, rel=1e-9)
    w.values = {"x1": 0.5}
    assert w.values["x1"] == 0.5 and w.values["w11"] == 0.5
    want = _cli("explain", str(examples / "question.yaml"), "-w", "w11", "--set", "x1=0.5",
                "-f", "json")
    assert w.explanation.value == pytest.approx(want["value"], rel=1e-12)
    with pytest.raises(pathgrad.UsageError):
        w.values = {"nope": 1}
    # the same ES module in a browser, with a stand-in for the notebook's model
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content('<div id="host"></div>')
    page.evaluate("""async ([esm, css, html, data, values]) => {
      const handlers = {};
      const model = {
        store: { html, data, values, result: {} }, saved: 0,
        get(k) { return this.store[k]; },
        set(k, v) { this.store[k] = v; (handlers["change:" + k] || []).forEach(f => f()); },
        save_changes() { this.saved += 1; },
        on(ev, f) { (handlers[ev] = handlers[ev] || []).push(f); },
        off(ev, f) { handlers[ev] = (handlers[ev] || []).filter(g => g !== f); },
      };
      window.model = model;
      const style = document.createElement("style"); style.textContent = css;
      document.head.appendChild(style);
      const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
      const mod = await import(url);
      mod.default.render({ model, el: document.getElementById("host") });
    }""", [w._esm, w._css, w.html, w.data, w.values])
    # Python → page: the values synced from Python are the page's
    assert page.input_value('input[data-leaf="x1"]') == "0.5"
    got = page.evaluate("() => window.model.store.result.gradient")
    assert _close(got, want["value"])
    # page → Python: a move in the page lands in `values` (and is saved)
    page.fill('input[data-leaf="w21"]', "0.25")
    synced = page.evaluate("() => [window.model.store.values, window.model.saved]")
    assert synced[0]["w21"] == 0.25 and synced[0]["x1"] == 0.5 and synced[1] >= 2
    w.values = synced[0]
    assert _close(page.evaluate("() => window.model.store.result.gradient"),
                  w.explanation.value)
    # and Python → page again, after the page has loaded
    page.evaluate("() => window.model.set('values', {...window.model.store.values, x1: 2})")
    assert page.input_value('input[data-leaf="x1"]') == "2"
    assert not errors, errors
    page.close()


def test_import_pathgrad_does_not_load_the_widget():
    import subprocess
    import sys

    code = ("import sys, pathgrad; assert 'pathgrad.widget' not in sys.modules; "
            "assert 'anywidget' not in sys.modules; print(callable(pathgrad.widget))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_a_net_too_large_for_a_live_page_is_one_line_and_no_file(tmp_path):
    # 1 → 2,600 outputs is 13,003 names; 1 → 30,000 ran for minutes and reached a gigabyte
    spec = tmp_path / "wide.yaml"
    spec.write_text("mlp: {inputs: [x], layers: [2600]}\ninputs: {x: 0.5}\n")
    out = tmp_path / "page.html"
    result = CliRunner().invoke(cli, ["page", str(spec), "-w", "w1_1_1", "-o", str(out)])
    names = len(pathgrad.load(spec).names)
    assert names > interactive.MAX_PAGE_NAMES
    assert result.exit_code == 2 and not out.exists()
    assert result.stderr.splitlines() == [
        f"Error: the network has {names:,} names, more than "
        f"{interactive.MAX_PAGE_NAMES:,} a live page can hold; write a static page with "
        "`pathgrad explain -f html -o FILE.html`, or step through a smaller net"]


def test_a_saturated_tanh_and_sigmoid_keep_their_value_in_the_page(open_page, tmp_path):
    # in doubles tanh(45) is 1.0 and 1 − tanh(45)² is 0: the page showed ∂E/∂w = 0 where
    # explain (exact) shows 4.4·10⁻³⁷; a double holds that number, so the page must too
    spec_file = tmp_path / "saturated.yaml"
    spec_file.write_text("params: {w: 1}\ninputs: {x: 45}\n"
                         "nodes: {h: tanh(w*x), s: sigmoid(2*w*x), E: 3*h + s}\n")
    page = open_page(spec_file, "w")
    want = _cli("explain", str(spec_file), "--weight", "w", "--format", "json")
    got = _page_numbers(page)
    values = [_number(v) for _, v in got["rows"]]
    assert len(values) == len(want["paths"]) == 2
    for v, path in zip(values, want["paths"]):
        assert 0 < path["value"] < 1e-30 and abs(v - path["value"]) <= 1e-9 * path["value"]
    assert abs(_number(got["gradient"]) - want["value"]) <= 1e-9 * want["value"]
