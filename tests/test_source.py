"""Tests for pathgrad.spec.source: safe YAML reading with line numbers and one-line errors."""

from __future__ import annotations

import builtins
import math
import os
import time
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathgrad.errors import LimitError, Location, SpecError
from pathgrad.spec import source
from pathgrad.spec.source import Document, read, read_file, read_text

NET = """\
# a tiny net
inputs: {x: 2}
params:
  w: 0.5
nodes:
  y: w*x
  E: y^2
"""

# a guard against hangs, not a speed test: benchmarks/hostile.py measures the speed
HANG_GUARD = 30


def error(text: str, kind: type[Exception] = SpecError, **limits: int) -> Exception:
    with pytest.raises(kind) as info:
        read_text(text, **limits)
    return info.value


@pytest.fixture(params=["libyaml", "python"])
def both_parsers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test with libyaml's parser and with PyYAML's pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr(source, "_LOADER", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("libyaml is not installed")


def test_reads_data_and_lines() -> None:
    doc = read_text(NET)
    assert isinstance(doc, Document) and doc.source == "<string>" and doc.text == NET
    assert doc.data == {"inputs": {"x": 2}, "params": {"w": Fraction(1, 2)},
                        "nodes": {"y": "w*x", "E": "y^2"}}
    assert doc.key_line("nodes") == 5 and doc.line("nodes", "E") == 7
    assert doc.key_line("params", "w") == 4 and doc.line("inputs", "x") == 2
    assert doc.line("nodes", "missing") is None and doc.key_line() is None


def test_list_items_have_lines() -> None:
    doc = read_text("inputs:\n  - x\n  - z\nnodes: {a: x}\n")
    assert doc.data["inputs"] == ["x", "z"]
    assert doc.line("inputs", 1) == 3 and doc.key_line("inputs", 0) == 2


def test_where_names_key_or_value_line() -> None:
    doc = read_text("nodes:\n  a:\n    w*x\n")
    assert doc.where("nodes", "a") == Location("<string>", 2, None, "nodes.a")
    assert doc.where("nodes", "a", key=False) == Location("<string>", 3, None, "nodes.a")
    assert doc.where("nope").line is None


def test_scalars_are_converted_exactly() -> None:
    doc = read_text("a: [~, null, true, no, On, 7, -0x1f, 0.1, 1e-3, 2.5E+2, 1_000.5, "
                    "'1', \"0.1\", 2001-12-14, x+1]\nb:\n")
    assert doc.data["a"] == [None, None, True, False, True, 7, -31, Fraction(1, 10),
                             Fraction(1, 1000), Fraction(250), Fraction(2001, 2), "1", "0.1",
                             "2001-12-14", "x+1"]
    assert doc.data["b"] is None
    assert all(isinstance(v, Fraction) for v in doc.data["a"][7:11])


def test_infinities_and_nan_stay_floats() -> None:
    inf, neg, nan = read_text("a: [.inf, -.inf, .nan]").data["a"]
    assert inf == math.inf and neg == -math.inf and math.isnan(nan)


def test_keys_keep_their_source_text() -> None:
    doc = read_text("1: a\non: b\nyes: c\nnull: d\n0.5: e\n'q': f\n")
    assert list(doc.data) == ["1", "on", "yes", "null", "0.5", "q"]
    assert doc.key_line("on") == 2


@pytest.mark.parametrize("number", ["1e999999999", "9" * 5000, "0." + "1" * 5000, "0b_"])
def test_unusable_numbers_fail_fast(number: str) -> None:
    start = time.perf_counter()
    err = error(f"a: 1\nb: {number}\n")
    assert "is not a usable number" in err.message and err.where.line == 2
    assert time.perf_counter() - start < HANG_GUARD


def test_read_dispatches_paths_and_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "net.yaml").write_text(NET)
    assert read(tmp_path / "net.yaml").source == str(tmp_path / "net.yaml")
    monkeypatch.chdir(tmp_path)
    assert read("net.yaml").data["inputs"] == {"x": 2}
    assert read("{nodes: {a: x}}").data == {"nodes": {"a": "x"}}
    assert read(NET).source == "<string>"
    with pytest.raises(SpecError) as info:
        read("other.yml")
    assert info.value.message == "no such file: 'other.yml'" and info.value.where is None


def test_missing_file_suggests_a_close_name(tmp_path: Path) -> None:
    (tmp_path / "network.yaml").write_text(NET)
    with pytest.raises(SpecError) as info:
        read_file(tmp_path / "netwrk.yaml")
    err = info.value
    assert err.message == f"no such file: '{tmp_path / 'netwrk.yaml'}'"
    assert err.suggestion == f"did you mean '{tmp_path / 'network.yaml'}'?"
    assert err.where is None  # the message names the file; no "x.yaml: … 'x.yaml'"
    with pytest.raises(SpecError) as info:
        read_file(tmp_path / "zzz.yaml")
    assert info.value.suggestion is None


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="is a directory, not a spec file"):
        read(str(tmp_path))


@pytest.mark.parametrize("text", ["", "   \n\n", "# only\n# comments\n", "---\n", "\ufeff"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        read(path)
    assert info.value.message == f"'{path}' is empty: a spec needs at least `nodes:`"
    assert error(text).message.startswith("the text is empty")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads all")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(NET)
    path.chmod(0)
    with pytest.raises(SpecError, match="cannot read .*permission denied"):
        read(path)


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(NET)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(SpecError) as info:
        read(path)
    assert info.value.message == f"cannot read '{path}': permission denied"


def test_not_utf8_names_byte_offset_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"nodes:\n  a: \xff\n")
    with pytest.raises(SpecError) as info:
        read(path)
    assert info.value.message == "not UTF-8 text: byte 0xff at offset 12"
    assert str(info.value.where) == f"{path}:2"  # the file is named once, by the location


def test_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + NET.encode())
    assert read(path).data["nodes"] == {"y": "w*x", "E": "y^2"}
    assert read(path).line("nodes", "y") == 6


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(NET)
    with pytest.raises(LimitError, match="larger than the limit of 10 bytes"):
        read(path, max_bytes=10)
    error(NET, LimitError, max_bytes=10)


@pytest.mark.usefixtures("both_parsers")
def test_invalid_yaml_names_line_and_column() -> None:
    err = error("nodes:\n  a: [1, 2\n  b: 3\n")
    assert err.message.startswith("not valid YAML: ")
    assert " (column " in err.message and "\n" not in err.message
    with pytest.raises(yaml.MarkedYAMLError) as info:
        yaml.load("nodes:\n  a: [1, 2\n  b: 3\n", Loader=source._LOADER)
    assert err.where.line == info.value.problem_mark.line + 1
    assert err.detail()  # the offending line, with a caret


def test_control_characters_are_invalid_yaml() -> None:
    err = error("nodes:\n  a: b\x01\n")
    assert err.message.startswith("not valid YAML") and err.where.line == 2


@pytest.mark.usefixtures("both_parsers")
def test_more_than_one_document() -> None:
    err = error("nodes: {a: x}\n---\nnodes: {b: y}\n")
    assert err.message.startswith("contains more than one YAML document")
    assert err.where.line == 2


@pytest.mark.parametrize(("text", "found"), [
    ("- a\n- b\n", "a list"), ("hello", "a string"), ("'x: 1'", "a string"),
    ("42", "a number"), ("true", "true/false"), ("~", "nothing (null)"),
])
def test_top_level_must_be_a_mapping(text: str, found: str) -> None:
    err = error(text)
    assert err.message == f"the top level must be a mapping (key: value lines), found {found}"
    assert err.where.line == 1


@pytest.mark.usefixtures("both_parsers")
@pytest.mark.parametrize(("text", "line", "first"), [
    ("a: 1\nb: 2\na: 3\n", 3, 1),
    ("nodes:\n  x: 1\n\n  a11: w\n  a11: v\n", 5, 4),
    ("n: [{p: 1, q: 2, p: 3}]\n", 1, 1),
    ("1: a\n'1': b\n", 2, 1),
])
def test_duplicate_keys_at_any_level(text: str, line: int, first: int) -> None:
    err = error(text)
    assert err.message.startswith("duplicate key ") and f"(first on line {first})" in err.message
    assert err.where.line == line


def test_duplicate_key_message() -> None:
    err = error("nodes:\n  a: 1\n\n\n  a11: 2\n  a11: 3\n")
    assert str(err) == ("<string>:6: duplicate key 'a11' (first on line 5); rename or remove "
                        "one of them")


@pytest.mark.usefixtures("both_parsers")
@pytest.mark.parametrize(("text", "tag"), [
    ("!!python/name:os.system x: 1", "!!python/name:os.system"),
    ("a: !custom 1", "!custom"),
    ("a: !!str 1", "!!str"),
    ("a: !!map {b: 1}", "!!map"),
    ("a: ! x", "!"),
    ("a: !<tag:example.com,2000:x> 1", "tag:example.com,2000:x"),
    ("a: [1, !!float 2]", "!!float"),
])
def test_tags_are_refused(text: str, tag: str) -> None:
    err = error(text)
    assert err.message == f"YAML tags are not allowed: '{tag}'" and err.where.line == 1


@pytest.mark.usefixtures("both_parsers")
def test_python_tags_never_execute(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    text = (f"nodes: {{a: x}}\nboom: !!python/object/apply:os.system ['touch {sentinel}']\n"
            f"also: !!python/object/new:os.system ['touch {sentinel}']\n")
    err = error(text)
    assert err.message == "YAML tags are not allowed: '!!python/object/apply:os.system'"
    assert err.where.line == 2 and not sentinel.exists()


@pytest.mark.usefixtures("both_parsers")
def test_merge_keys_are_refused() -> None:
    err = error("base: &b {x: 1}\nnodes:\n  <<: *b\n  y: 2\n")
    assert err.message == "YAML merge keys ('<<') are not supported: write the keys out"
    assert err.where.line == 3
    assert read_text("'<<': 1").data == {"<<": 1}  # a quoted '<<' is just a name


@pytest.mark.usefixtures("both_parsers")
@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "{[a]: 1}", "? {a: 1}\n: 2\n",
                                  "k: &l [1]\n*l : 2\n"])
def test_keys_must_be_scalars(text: str) -> None:
    assert error(text).message.startswith("mapping keys must be plain names")


@pytest.mark.usefixtures("both_parsers")
def test_aliases_expand_with_lines_from_the_anchor() -> None:
    doc = read_text("x: &A\n  p: 1\n  q: [a, b]\ny: *A\nk: &K name\n*K : 3\nz: [*A, *K]\n"
                    "w: &W {m: *A}\nv: *W\n")
    assert doc.data["y"] == {"p": 1, "q": ["a", "b"]} and doc.data["name"] == 3
    assert doc.data["y"] is doc.data["x"]  # shared, as yaml.safe_load does
    assert doc.data["z"] == [doc.data["x"], "name"] and doc.data["v"] == {"m": doc.data["x"]}
    assert doc.line("y") == 4 and doc.line("y", "q", 1) == 3 and doc.key_line("name") == 6
    assert doc.line("z", 0, "p") == 2 and doc.line("v", "m", "q", 0) == 3
    assert doc.key_line("v", "m") == 8 and doc.line("z", 1, "p") is None


def test_unknown_alias() -> None:
    err = error("a: 1\nb: *nope\n")
    assert err.message.startswith("unknown alias '*nope'") and err.where.line == 2


@pytest.mark.usefixtures("both_parsers")
def test_billion_laughs_fails_fast() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    start = time.perf_counter()
    err = error("\n".join(lines), LimitError)
    assert time.perf_counter() - start < HANG_GUARD
    assert err.message == "the YAML expands to more than 200,000 items through its aliases (*name)"
    assert err.limit is None  # no limit to raise: the fix is in the file


@pytest.mark.usefixtures("both_parsers")
def test_recursive_alias_is_refused() -> None:
    err = error("a: &x [1, *x]\n", LimitError)
    assert "'*x' is inside its own anchor" in err.message


def test_item_limit_without_aliases() -> None:
    err = error("a: [" + ", ".join(["1"] * 50) + "]", LimitError, max_items=20)
    assert err.message == "the YAML has more than 20 items" and err.limit == "max_names"


@pytest.mark.usefixtures("both_parsers")
@pytest.mark.parametrize("text", ["[" * 100_000, "[" * 100_000 + "]" * 100_000,
                                  "a: " + "{b: " * 5000 + "1" + "}" * 5000,
                                  "".join(" " * i + "- " for i in range(3000)) + "x"])
def test_deep_nesting_is_an_error_not_a_crash(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises((LimitError, SpecError)) as info:
        read_text(text)
    assert time.perf_counter() - start < HANG_GUARD
    assert info.value.where is not None and "\n" not in str(info.value)


def test_nesting_within_limit_is_fine() -> None:
    assert read_text("a: " + "[" * 100 + "]" * 100).data["a"] == eval("[" * 100 + "]" * 100)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_reads_or_raises_spec_error(text: str) -> None:
    try:
        doc = read_text(text)
    except (SpecError, LimitError) as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(doc.data, dict)


def _plain(s: str) -> bool:
    return source._EXP_FLOAT.fullmatch(s) is None  # YAML 1.2 '1e3' deliberately reads as 1000


_scalars = (st.none() | st.booleans() | st.integers() | st.text().filter(_plain)
            | st.floats(allow_nan=False))
_data = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text().filter(_plain), inner, max_size=4), max_leaves=20)


def _expected(value: object) -> object:
    if isinstance(value, float):
        return value if math.isinf(value) else Fraction(repr(value))
    if isinstance(value, list):
        return [_expected(v) for v in value]
    if isinstance(value, dict):
        return {k: _expected(v) for k, v in value.items()}
    return value


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text().filter(_plain), _data, min_size=1, max_size=5))
def test_safe_dump_round_trips(data: dict) -> None:
    doc = read_text(yaml.safe_dump(data))
    assert doc.data == _expected(data)
    for key in data:
        assert doc.key_line(key) is not None
