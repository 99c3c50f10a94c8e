"""Hostile and broken input: one clear line, exit status 2, nothing executed, nothing written.

The corpus in tests/bad_specs/ holds one bad spec per file. Its header comments say what
pathgrad must answer:

    # expect: unknown function 'sigmod'; did you mean 'sigmoid'?   (required: the message's
    #                                           first words, after the location)
    # where: {file}:7: nodes.h                  (the location printed before the message;
    #                                           none when the line is absent)
    # caret: 0                                  (the caret's column under the expression)
    # run: explain {file} --weight w            (the command; this one is the default)
    # exit: 2                                   (the exit status; 2 is the default)

`{file}` stands for the spec's path. A new case is one new file. Inputs a file cannot hold
(binary, not UTF-8, a directory, a missing or unreadable file) are generated below.
"""

from __future__ import annotations

import builtins
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import CodeType

import pytest
from click.testing import CliRunner

import pathgrad
from pathgrad.cli import cli
from pathgrad.errors import LimitError, PathgradError, UsageError
from pathgrad.spec import LIMIT_ENV, Limits

CORPUS = Path(__file__).resolve().parent / "bad_specs"
CASES = sorted(CORPUS.glob("*.yaml"))
HEADER_KEYS = {"expect", "where", "caret", "run", "exit"}
ENV = {"COLUMNS": "200", **{var: None for var in [*LIMIT_ENV.values(), "PATHGRAD_MAX_PATHS"]}}

# a guard against hangs, not a speed test: benchmarks/hostile.py measures the speed
HANG_GUARD = 30


@dataclass(frozen=True)
class Case:
    """One corpus file and what pathgrad must answer for it."""

    path: Path
    expect: str
    where: str | None
    caret: int | None
    run: str
    exit: int

    @classmethod
    def read(cls, path: Path) -> Case:
        header: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].strip().partition(":")
            if sep and key in HEADER_KEYS:
                assert key not in header, f"{path.name}: '{key}' given twice"
                header[key] = value.strip()
        assert "expect" in header, f"{path.name}: the header has no '# expect: …' line"
        return cls(path, header["expect"], header.get("where"),
                   int(header["caret"]) if "caret" in header else None,
                   header.get("run", "explain {file} --weight w"), int(header.get("exit", "2")))

    def fill(self, text: str) -> str:
        return text.replace("{file}", str(self.path))

    def args(self) -> list[str]:
        return [self.fill(a) for a in shlex.split(self.run)]

    def first_line(self) -> str:
        """What stderr's first line must start with."""
        where = f"{self.fill(self.where)}: " if self.where else ""
        return f"Error: {where}{self.fill(self.expect)}"


def invoke(*args: str, env: dict | None = None):
    """Run the CLI in-process; exceptions are kept in result.exception, never raised."""
    return CliRunner().invoke(cli, list(args), env={**ENV, **(env or {})})


def check_failure(result, first: str | None = None, exit_code: int = 2) -> str:
    """Exit status, one Error line on stderr (plus caret lines), nothing on stdout."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.exit_code == exit_code, (result.exit_code, output, result.exception)
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("Error: "), result.stderr
    assert len(lines) in (1, 3), result.stderr  # the line, and maybe an excerpt with a caret
    assert result.stdout == ""
    if first is not None:
        assert lines[0].startswith(first), f"\n{lines[0]}\nshould start with\n{first}"
    return lines[0]


# --- the corpus ------------------------------------------------------------------------------


def test_the_corpus_is_there_and_every_header_is_complete() -> None:
    assert len(CASES) >= 80
    for path in CASES:
        case = Case.read(path)
        assert case.expect and case.run.split()[0] in ("explain", "show")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_case(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = Case.read(path)
    monkeypatch.chdir(tmp_path)  # a payload's SENTINEL would land here
    args = case.args()
    out = tmp_path / "out.txt"
    if args[0] == "explain":
        args += ["-o", str(out)]
    start = time.perf_counter()
    result = invoke(*args)
    elapsed = time.perf_counter() - start
    check_failure(result, case.first_line(), case.exit)
    lines = result.stderr.splitlines()
    if case.caret is not None:
        assert len(lines) == 3, result.stderr
        assert lines[2] == "    " + " " * case.caret + "^", result.stderr
    assert list(tmp_path.iterdir()) == [], "something was written"
    assert elapsed < HANG_GUARD, f"{path.name} took {elapsed:.2f} s"


@pytest.mark.parametrize("name", ["python_tag_apply", "cycle_of_three"])
def test_corpus_case_in_a_real_process(name: str, tmp_path: Path) -> None:
    case = Case.read(CORPUS / f"{name}.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATHGRAD_")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pathgrad", *case.args()], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, env=env)
    elapsed = time.perf_counter() - start
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0].startswith(case.first_line())
    assert elapsed < HANG_GUARD, f"{name} took {elapsed:.2f} s"
    assert list(tmp_path.iterdir()) == []


# --- files a corpus file cannot be -----------------------------------------------------------


def test_missing_file_suggests_a_close_name(tmp_path: Path) -> None:
    (tmp_path / "network.yaml").write_text("params: {w: 1}\nnodes: {E: w^2}\n")
    check_failure(invoke("explain", str(tmp_path / "netwrok.yaml"), "-w", "w"),
                  f"Error: no such file: '{tmp_path / 'netwrok.yaml'}'; did you mean "
                  f"'{tmp_path / 'network.yaml'}'?")


def test_a_bare_name_is_a_file_not_yaml_text(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    check_failure(invoke("explain", "mynet", "-w", "w"), "Error: no such file: 'mynet'")


def test_a_directory(tmp_path: Path) -> None:
    check_failure(invoke("explain", str(tmp_path), "-w", "w"),
                  f"Error: '{tmp_path}' is a directory, not a spec file")
    check_failure(invoke("show", str(tmp_path)), f"Error: '{tmp_path}' is a directory")


@pytest.mark.parametrize(("content", "first"), [
    (b"", "Error: '{file}' is empty: a spec needs at least `nodes:`"),
    (b"\n\n   \n", "Error: '{file}' is empty"),
    (b"---\n", "Error: '{file}' is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Error: '{file}' is a binary file, not a YAML spec"),
    (b"params: {w: 1}\x00\nnodes: {E: w}\n", "Error: '{file}' is a binary file"),
    (b"params: {w: 1}\nnodes: {E: w\xe9}\n", "Error: {file}:2: not UTF-8 text: byte 0xe9 at "
                                              "offset 27; save the file as UTF-8"),
    (b"nodes: {E: \xed\xa0\x80}\n", "Error: {file}:1: not UTF-8 text: byte 0xed at offset 11"),
    ("params: {w: 1}\nnodes: {E: w}\n".encode("utf-16"),
     "Error: '{file}' is UTF-16 text; pathgrad reads UTF-8; save the file as UTF-8"),
    ("params: {w: 1}\nnodes: {E: w}\n".encode("utf-32"), "Error: '{file}' is UTF-32 text"),
    (b"params: {w: 1}\nnodes: {E: w}\n\x07\n", "Error: {file}:3: not valid YAML: "),
])
def test_files_that_are_not_yaml_text(tmp_path: Path, content: bytes, first: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_bytes(content)
    out = tmp_path / "out.txt"
    check_failure(invoke("explain", str(spec), "-w", "w", "-o", str(out)),
                  first.replace("{file}", str(spec)))
    assert not out.exists()


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w: 1}\nnodes: {E: w}\n")
    real_open = builtins.open

    def deny(file, *args, **kwargs):  # root reads any file: simulate the permission bit
        if os.fspath(file) == str(spec):
            raise PermissionError(13, "Permission denied", str(spec))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    check_failure(invoke("explain", str(spec), "-w", "w"),
                  f"Error: cannot read '{spec}': permission denied")


def test_output_into_a_missing_folder_writes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w: 1}\nnodes: {E: w^2}\n")
    check_failure(invoke("explain", str(spec), "-w", "w", "-o", str(tmp_path / "no" / "x.txt")),
                  f"Error: -o {tmp_path / 'no' / 'x.txt'}: folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


# --- nothing runs --------------------------------------------------------------------------


PAYLOADS = [
    "__import__('os').system('touch {s}')",
    "eval(\"open('{s}', 'w')\")",
    "exec('open(\"{s}\", \"w\")')",
    "open('{s}', 'w').write('x')",
    "(lambda: __import__('os').system('touch {s}'))()",
    "().__class__.__bases__[0].__subclasses__()",
    "getattr(__builtins__, 'open')('{s}', 'w')",
    "globals()['__builtins__']",
    "Symbol('x').__class__.__init__.__globals__['os'].system('touch {s}')",
    "sympify(\"__import__('os').system('touch {s}')\")",
    "$(touch {s})",
    "`touch {s}`",
    "w; import os; os.system('touch {s}')",
]

YAML_TAGS = [
    "!!python/object/apply:os.system ['touch {s}']",
    "!!python/object/new:subprocess.Popen [['touch', '{s}']]",
    "!!python/name:os.system ''",
    "!!python/module:os ''",
    "!!binary dG91Y2g=",
]


def _quoted(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _hostile_specs(payload: str) -> list[str]:
    q = _quoted(payload)
    base = "params: {w: 1}\ninputs: {x: 2}\nnodes:\n  h: w*x\n  E: h^2\n"
    return [
        f"params: {{w: 1}}\nnodes:\n  E: {q}\n",  # an expression
        f"params: {{w: {q}}}\nnodes:\n  E: w^2\n",  # a value
        f"inputs: {{x: {q}}}\nparams: {{w: 1}}\nnodes:\n  E: w*x\n",
        f"params: {{w: 1}}\nnodes:\n  E: w^2\nloss: {q}\n",  # the loss
        f"params: {{w: 1}}\nnodes:\n  {q}: w^2\n",  # a node's name
        f"params: {{{q}: 1}}\nnodes:\n  E: w^2\n",  # a param's name
        f"{q}: 1\n{base}",  # a top-level key
        f"name: {q}\ndescription: {q}\n{base}",  # text that is printed
        f"latex: {{w: {q}}}\n{base}",  # text that is rendered
        f"version: {q}\n{base}",
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_code_in_any_field_never_runs(payload: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "SENTINEL"
    payload = payload.replace("{s}", str(sentinel))
    spec = tmp_path / "net.yaml"
    for text in _hostile_specs(payload):
        spec.write_text(text, encoding="utf-8")
        result = invoke("explain", str(spec), "-w", "w")
        assert result.exit_code in (0, 2), (text, result.output, result.exception)
        assert "Traceback" not in result.output
        if result.exit_code == 2:  # text fields (name, latex) are just text: exit 0
            check_failure(result)
    base = tmp_path / "base.yaml"
    base.write_text("params: {w: 1}\ninputs: {x: 2}\nnodes:\n  h: w*x\n  E: h^2\n")
    for args in (["-w", payload], ["-w", "w", "--set", f"x={payload}"],
                 ["-w", "w", "--set", f"{payload}=1"]):
        check_failure(invoke("explain", str(base), *args))
    assert not sentinel.exists(), f"{payload!r} ran"


@pytest.mark.parametrize("tag", YAML_TAGS)
def test_yaml_tags_never_construct_anything(tag: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "SENTINEL"
    tag = tag.replace("{s}", str(sentinel))
    spec = tmp_path / "net.yaml"
    for text in (f"params: {tag}\nnodes: {{E: w}}\n", f"params: {{w: {tag}}}\nnodes: {{E: w}}\n",
                 f"params: {{w: 1}}\nnodes: {{E: {tag}}}\n", f"{tag}\n",
                 f"params: {{w: 1}}\nnodes: {{E: w}}\nname: {tag}\n"):
        spec.write_text(text)
        check_failure(invoke("explain", str(spec), "-w", "w"), "Error: " + str(spec) + ":")
        assert "YAML tags are not allowed" in invoke("show", str(spec)).stderr
    assert not sentinel.exists()


MARKERS = ("Zq9", "SENTINEL")  # in the names and payloads of the specs below


def _mentions(value: object, depth: int = 0) -> bool:
    """Whether a value passed to eval/exec/sympify carries text from a spec."""
    if isinstance(value, str):
        return any(m in value for m in MARKERS)
    if isinstance(value, CodeType):
        return any(_mentions(v, depth + 1) for v in (*value.co_consts, *value.co_names))
    if isinstance(value, tuple | list) and depth < 3:
        return any(_mentions(v, depth + 1) for v in value)
    return False


def test_spec_text_never_reaches_eval_exec_or_sympify(tmp_path: Path) -> None:
    import sympy
    from sympy.parsing import sympy_parser

    import pathgrad.analyses.explanation
    import pathgrad.render.jsonout
    import pathgrad.render.table  # noqa: F401 - imported before the traps are set

    calls: list[str] = []

    def trap(name: str, real):
        def called(*args, **kwargs):
            if _mentions(args):  # libraries may exec their own code (networkx does)
                calls.append(f"{name}{args!r}"[:200])
                raise AssertionError(f"{name} was given spec text")
            return real(*args, **kwargs)
        return called

    spec = tmp_path / "net.yaml"
    spec.write_text("name: net Zq9\ninputs: {xZq9: 2}\nparams: {wZq9: 0.5, bZq9: -1}\n"
                    "nodes:\n  hZq9: sigmoid(wZq9*xZq9 + bZq9)\n  EZq9: (hZq9 - 1)^2\n"
                    "latex: {wZq9: 'w_{Zq9}'}\n")
    runs = [["explain", str(spec), "-w", "wZq9", "-f", fmt, "--set", "xZq9=3"]
            for fmt in ("table", "json", "latex", "markdown", "html")]
    runs += [["show", str(spec)], ["show", str(spec), "-f", "json"]]
    runs += [Case.read(path).args() for path in CASES]
    with pytest.MonkeyPatch.context() as mp:  # undone before any assertion is reported
        for module, name in [(builtins, "eval"), (builtins, "exec"),
                             (sympy_parser, "parse_expr"), (sympy, "sympify"),
                             (sys.modules["sympy.core.sympify"], "sympify")]:
            mp.setattr(module, name, trap(name, getattr(module, name)))
        results = [invoke(*args) for args in runs]
    assert calls == []
    for args, result in zip(runs, results):
        assert result.exit_code in (0, 2), (args, result.output, result.exception)
        assert "Traceback" not in result.output


# --- the graph ---------------------------------------------------------------------------------


def test_a_loss_that_does_not_depend_on_the_weight_is_not_an_error(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w: 1, v: 2}\nnodes:\n  h: v^2\n  E: sigmoid(h) + 1\n")
    result = invoke("explain", str(spec), "-w", "w")
    assert result.exit_code == 0 and result.stderr == ""
    assert "0 paths from w to E" in result.stdout
    assert "E does not depend on w: there are no paths, so ∂E/∂w = 0." in result.stdout
    assert "✓ verified" in result.stdout
    data = json.loads(invoke("explain", str(spec), "-w", "w", "-f", "json").stdout)
    assert data["path_count"] == 0 and data["paths"] == []
    assert data["sum"] == data["direct"] == "0" and data["value"] == 0.0 and data["verified"]


def test_the_cycle_is_printed_in_the_order_the_nodes_use_each_other() -> None:
    with pytest.raises(PathgradError) as info:
        pathgrad.load("params: {w: 1}\nnodes:\n  E: a\n  a: c + w\n  b: a^2\n  c: sin(b)\n")
    err = info.value
    assert err.message == "the nodes form a cycle: a uses c, c uses b, b uses a"
    assert str(err.where) == "<string>:4: nodes.a" and err.detail() == ["    c + w", "    ^"]


def test_a_long_cycle_is_shortened_but_closed() -> None:
    nodes = "".join(f"  n{i}: n{(i + 1) % 30} + w\n" for i in range(30))
    with pytest.raises(PathgradError) as info:
        pathgrad.load(f"params: {{w: 1}}\nnodes:\n{nodes}  E: n0\n")
    assert info.value.message == ("the nodes form a cycle: n0 uses n1, n1 uses n2, n2 uses n3, "
                                  "n3 uses n4, n4 uses n5, n5 uses n6, … (30 nodes), n29 uses n0")


# --- values where a function is undefined --------------------------------------------------


def _strict_json(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(("nodes", "reason", "symbolic"), [
    ("h: log(w*x)\n  E: h^2", "log of a negative number", "2·h/w"),
    # the sums as printed: simplified for reading in the network's names (E = h², so −2·h³)
    ("h: 1/(w - 1)\n  E: h^2", "division by zero", "∂E/∂w = −2·h·E"),
    ("h: sqrt(w - 3)\n  E: h*w", "square root of a negative number",
     "∂E/∂w = w/(2·sqrt(w−3)) + h"),
])
def test_undefined_values_say_why_and_keep_the_symbols(tmp_path: Path, nodes: str, reason: str,
                                                       symbolic: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(f"params: {{w: 1}}\ninputs: {{x: -2}}\nnodes:\n  {nodes}\n")
    result = invoke("explain", str(spec), "-w", "w")
    assert result.exit_code == 0, result.output
    table = result.stdout
    assert symbolic in table and "✓ verified" in table
    assert reason in table and "value           — (" in table
    assert "nan" not in table.lower() and "inf" not in table.lower()
    data = _strict_json(invoke("explain", str(spec), "-w", "w", "-f", "json").stdout)
    assert data["value"] is None and reason in data["value_note"]
    assert all(p["value"] is None and reason in p["note"] for p in data["paths"])
    assert data["verified"] is True


def test_values_beyond_a_float_say_so_instead_of_inf(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w: 1000}\nnodes:\n  E: exp(exp(w))\n")
    result = invoke("explain", str(spec), "-w", "w")
    assert result.exit_code == 0 and "too large for a float" in result.stdout
    assert " inf" not in result.stdout
    data = _strict_json(invoke("explain", str(spec), "-w", "w", "-f", "json").stdout)
    assert data["value"] is None and data["value_note"].startswith("too large for a float")
    assert data["node_values"]["E"] is None


def test_library_values_are_checked_like_set() -> None:
    from pathgrad.analyses.explanation import explain

    spec = pathgrad.load("params: {w: 1}\nnodes: {E: w^2}\n")
    for bad in (float("nan"), float("inf"), "abc", [1], "1e999"):
        with pytest.raises(UsageError, match="cannot set 'w'"):
            explain(spec, "w", {"w": bad})
    assert explain(spec, "w", {"w": Fraction(3)}).value == 6.0


# --- limits --------------------------------------------------------------------------------


def test_limits_come_from_the_environment() -> None:
    assert Limits.from_env({}) == Limits()
    env = {"PATHGRAD_MAX_NAMES": "1_000", "PATHGRAD_MAX_DEPTH": " 7 ", "PATHGRAD_MAX_BYTES": ""}
    assert Limits.from_env(env) == Limits(max_names=1000, max_depth=7)
    for raw in ("abc", "0", "-3", "1.5", "1e9"):
        with pytest.raises(UsageError, match="PATHGRAD_MAX_DEPTH=") as info:
            Limits.from_env({"PATHGRAD_MAX_DEPTH": raw})
        assert "must be a whole number of at least 1" in info.value.message
    with pytest.raises(UsageError):
        Limits(max_names=0)


@pytest.mark.parametrize(("var", "value", "text", "first"), [
    ("PATHGRAD_MAX_NAMES", "3", "params: {w: 1, v: 2}\nnodes: {h: w*v, E: h^2}\n",
     "Error: {file}: the spec declares 4 names; the limit is 3; raise the limit with "
     "PATHGRAD_MAX_NAMES=6"),
    ("PATHGRAD_MAX_EXPRESSION_CHARS", "10", "params: {w: 1}\nnodes: {E: w + w + w + w + w}\n",
     "Error: {file}:2: nodes.E: expression is 17 characters long; the limit is 10; split it "
     "into several nodes, or raise the limit with PATHGRAD_MAX_EXPRESSION_CHARS=20"),
    ("PATHGRAD_MAX_DEPTH", "2", "params: {w: 1}\nnodes: {E: ((((w))))}\n",
     "Error: {file}:2: nodes.E: expression nested too deeply: more than 2 levels"),
    ("PATHGRAD_MAX_BYTES", "20", "params: {w: 1}\nnodes: {E: w^2}\n",
     "Error: '{file}' is larger than the limit of 20 bytes; raise the limit with "
     "PATHGRAD_MAX_BYTES=40"),
    ("PATHGRAD_MAX_DEPTH", "zero", "params: {w: 1}\nnodes: {E: w^2}\n",
     "Error: environment variable PATHGRAD_MAX_DEPTH='zero' must be a whole number of at least "
     "1; for example PATHGRAD_MAX_DEPTH=1000"),
])
def test_each_limit_names_the_variable_that_raises_it(tmp_path: Path, var: str, value: str,
                                                      text: str, first: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(text)
    for command in (["explain", str(spec), "-w", "w"], ["show", str(spec)]):
        check_failure(invoke(*command, env={var: value}), first.replace("{file}", str(spec)))
    if value.isdigit():  # and without the variable, the spec is fine
        assert invoke("explain", str(spec), "-w", "w").exit_code == 0


def test_raising_the_depth_limit_really_allows_deeper_expressions() -> None:
    text = "params: {w: 1}\nnodes:\n  E: " + "(" * 600 + "w" + ")" * 600 + "\n"
    with pytest.raises(PathgradError, match="PATHGRAD_MAX_DEPTH=200"):
        pathgrad.load(text)
    spec = pathgrad.load(text, limits=Limits(max_depth=1000))
    assert spec.text("E") == "w"


def test_max_paths_from_the_option_or_the_environment(tmp_path: Path) -> None:
    layers = "".join(f"  a{i}: h{i - 1} + 1\n  b{i}: h{i - 1} - 1\n  h{i}: a{i}*b{i}\n"
                     for i in range(1, 11))
    spec = tmp_path / "net.yaml"
    spec.write_text(f"params: {{w: 1}}\nnodes:\n  h0: w\n{layers}  E: h10\n")
    first = "Error: 'w' has 1,024 paths to 'E', more than --max-paths 1,000"
    check_failure(invoke("explain", str(spec), "-w", "w", "--max-paths", "1000"), first)
    check_failure(invoke("explain", str(spec), "-w", "w", env={"PATHGRAD_MAX_PATHS": "1000"}),
                  first)
    check_failure(invoke("explain", str(spec), "-w", "w", env={"PATHGRAD_MAX_PATHS": "0"}),
                  "Error: Invalid value for '--max-paths' (env var: 'PATHGRAD_MAX_PATHS'): 0 is "
                  "not in the range x>=1; see 'cli explain --help'")


def test_every_command_refuses_an_astronomical_count_in_a_short_line(tmp_path: Path) -> None:
    # 2^400 paths: `exercise` printed all 121 digits (3,011 for 10,000 residual blocks)
    layers = "".join(f"  a{i}: h{i - 1} + 1\n  b{i}: h{i - 1} - 1\n  h{i}: a{i}*b{i}\n"
                     for i in range(1, 401))
    spec = tmp_path / "net.yaml"
    spec.write_text(f"params: {{w: 1}}\nnodes:\n  h0: w\n{layers}  E: h400\n")
    for args, first in [
        (["explain"], "Error: 'w' has ≈ 2.582·10^120 paths to 'E', more than --max-paths "
                      "10,000"),
        (["exercise", "-o", str(tmp_path / "sheet.md")],
         "Error: 'w' has ≈ 2.582·10^120 paths, too many for a sheet (more than 10,000); "
         "choose a weight nearer the loss"),
    ]:
        result = invoke(args[0], str(spec), "-w", "w", *args[1:])
        check_failure(result, first)
        assert len(result.stderr) < 300
    assert not (tmp_path / "sheet.md").exists()


def test_a_sheet_for_a_net_too_large_to_work_by_hand_is_refused(tmp_path: Path) -> None:
    # 1 → 30,000 outputs took 80 s and wrote 90,000 values (parse_vary was quadratic, too)
    from pathgrad.analyses.exercise import MAX_SHEET_NAMES

    spec = tmp_path / "wide.yaml"
    spec.write_text("mlp: {inputs: [x], layers: [500]}\n")
    out = tmp_path / "sheet.md"
    names = len(pathgrad.load(spec).names)
    assert names > MAX_SHEET_NAMES
    check_failure(invoke("exercise", str(spec), "-w", "w1_1_1", "-o", str(out)),
                  f"Error: the network has {names:,} names, more than {MAX_SHEET_NAMES:,} a "
                  "problem sheet can list; a sheet is worked by hand: write one for a smaller "
                  "net")
    assert not out.exists()


@pytest.mark.parametrize(("args", "first"), [
    (["explain", "{file}"], "Error: Missing option '-w' / '--weight'; see 'cli explain --help'"),
    (["explain", "{file}", "-w", "w", "-f", "pdf"], "Error: Invalid value for '-f' / '--format'"),
    (["explain", "{file}", "-w", "w", "--set"], "Error: Option '--set' requires an argument"),
    (["show", "{file}", "extra"], "Error: Got unexpected extra argument (extra)"),
    (["explian", "{file}"], "Error: No such command 'explian'"),
    (["--bogus"], "Error: No such option '--bogus'; see 'cli --help'"),
])
def test_command_line_mistakes_are_one_line_too(tmp_path: Path, args: list[str],
                                                first: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w: 1}\nnodes: {E: w^2}\n")
    check_failure(invoke(*[a.replace("{file}", str(spec)) for a in args]), first)


def test_too_many_names_is_refused_before_any_work(tmp_path: Path) -> None:
    nodes = "".join(f"  n{i}: w*{i}\n" for i in range(5000))
    spec = tmp_path / "net.yaml"
    spec.write_text(f"params: {{w: 1}}\nnodes:\n{nodes}  E: n1\n")
    start = time.perf_counter()
    check_failure(invoke("show", str(spec), env={"PATHGRAD_MAX_NAMES": "1000"}),
                  f"Error: {spec}: the spec declares 5,002 names; the limit is 1,000")
    assert time.perf_counter() - start < HANG_GUARD


LONG_INPUTS = {
    "one 800 kB line": "params: {w: 1}\nnodes:\n  E: " + "+".join(["w"] * 400_000) + "\n",
    "a 4 MB comment": "params: {w: 1}\nnodes:\n  E: w\n# " + "x" * 4_000_000 + "\n",
    "400,000 parentheses": "params: {w: 1}\nnodes:\n  E: " + "(" * 200_000 + "w"
                           + ")" * 200_000 + "\n",
    "100,000 params": "params: [" + ", ".join(f"w{i}" for i in range(100_000))
                      + "]\nnodes: {E: w0}\n",
    "10,000 nodes": "params: {w: 1}\nnodes:\n" + "".join(f"  n{i}: w*{i}\n" for i in range(10_000))
                    + "  E: n1\nloss: E\n",
    "200,000 brackets": "params: {w: 1}\nnodes:\n  E: w\nx: " + "[" * 100_000
                        + "]" * 100_000 + "\n",
    "a 6 MB file": "params: {w: 1}\nnodes:\n  E: w\n# " + "x" * 6_000_000 + "\n",
}


@pytest.mark.parametrize("text", LONG_INPUTS.values(), ids=LONG_INPUTS.keys())
def test_very_long_input_loads_or_fails_quickly(tmp_path: Path, text: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(text)
    start = time.perf_counter()
    try:
        pathgrad.load(spec, limits=Limits())
    except PathgradError as exc:
        assert len(exc.line()) < 300 and all(len(line) <= 80 for line in exc.detail())
    assert time.perf_counter() - start < HANG_GUARD


@pytest.mark.parametrize("name", ["one 800 kB line", "400,000 parentheses", "200,000 brackets",
                                  "a 6 MB file"])
def test_very_long_bad_input_is_one_short_line(tmp_path: Path, name: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(LONG_INPUTS[name])
    line = check_failure(invoke("explain", str(spec), "-w", "w"))
    assert len(line) < 300


def test_errors_never_print_control_characters(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text('"\\e[31mred\\u202e": 1\nparams: {w: 1}\nnodes: {E: w}\n')
    line = check_failure(invoke("explain", str(spec), "-w", "w"))
    assert line.isprintable() and "'\\x1b[31mred\\u202e'" in line


def test_caret_stays_under_the_offending_token_in_a_long_line() -> None:
    text = " + ".join(["w"] * 100) + " + sigmod(w) + " + " + ".join(["w"] * 100)
    with pytest.raises(PathgradError) as info:
        pathgrad.load(f"params: {{w: 1}}\nnodes:\n  E: {text}\n")
    shown, caret = info.value.detail()
    assert len(shown) <= 80 and shown[caret.index("^"):].startswith("sigmod(w)")


def test_recursion_deep_in_sympy_is_a_clean_error(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import pathgrad.analyses.explanation

    def too_deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pathgrad.analyses.explanation, "explain", too_deep)
    spec = tmp_path / "net.yaml"
    spec.write_text("params: {w: 1}\nnodes: {E: w^2}\n")
    check_failure(invoke("explain", str(spec), "-w", "w"),
                  "Error: the network is nested too deeply for sympy to differentiate")


def test_limit_errors_are_limit_errors() -> None:
    with pytest.raises(LimitError):
        pathgrad.load("params: {w: 1}\nnodes: {h: w, E: h}\n", limits=Limits(max_names=2))


README_CASES = {
    "inputs: {x: 2}\nparams: {w: 1}\nnodes:\n  h: sigmod(w*x)\n  E: h^2\n": ["-w", "w"],
    "params: {w: 1}\nnodes:\n  a: b*w\n  b: sigmoid(a)\n  E: a^2\n": ["-w", "w"],
    "params:\n  w: abc\nnodes: {E: w^2}\n": ["-w", "w"],
    'params: !!python/object/apply:os.system ["rm -rf ~"]\nnodes: {E: w}\n': ["-w", "w"],
    "params: {w11: 1}\nnodes: {E: w11^2}\n": ["-w", "w1l"],
    "params: {w: 1}\nnodes: {E: " + "(" * 150 + "w" + ")" * 150 + "}\n": ["-w", "w"],
}


def test_the_readme_shows_errors_as_pathgrad_prints_them(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Limits and bad input", 1)[1].split("```text", 1)[1]
    shown = section.split("```", 1)[0].strip().splitlines()
    monkeypatch.chdir(tmp_path)
    printed: list[str] = []
    for text, args in README_CASES.items():
        Path("net.yaml").write_text(text)
        printed += invoke("explain", "net.yaml", *args).stderr.splitlines()
    assert [line for line in shown if line.startswith("Error:")] == \
        [line for line in printed if line.startswith("Error:")]
    assert all(line in printed for line in shown)

