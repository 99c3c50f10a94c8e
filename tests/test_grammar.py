"""Tests for the expression grammar: precedence, exact numbers, printing, every error it raises."""

from __future__ import annotations

import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pathgrad.errors import ExpressionError
from pathgrad.spec.grammar import (
    FUNCTIONS,
    BinOp,
    Call,
    Name,
    Neg,
    Num,
    constant_value,
    free_names,
    parse,
    size,
    to_text,
)

a, b, c, x, y = (Name(n) for n in "abcxy")


def N(v: int | str) -> Num:
    return Num(Fraction(v))


def fails(text: str, **limits: int) -> ExpressionError:
    """Parse text that must be rejected; check the error's shape and return it."""
    with pytest.raises(ExpressionError) as info:
        parse(text, **limits)
    err = info.value
    assert err.where is None and err.excerpt == text and err.caret is not None
    return err


# --- what parses, and into what ---


@pytest.mark.parametrize(("text", "value"), [
    ("12", Fraction(12)), ("1.5", Fraction(3, 2)), (".5", Fraction(1, 2)), ("3.", Fraction(3)),
    ("1e-3", Fraction(1, 1000)), ("2.5E+2", Fraction(250)), ("0.1", Fraction(1, 10)),
    ("1.e2", Fraction(100)), ("007", Fraction(7)), ("0e999999999", Fraction(0)),
    ("0.000000000000000000000000000001", Fraction(1, 10**30)),
])
def test_numbers_are_exact_fractions(text: str, value: Fraction) -> None:
    assert parse(text) == Num(value)
    assert type(parse(text).value) is Fraction  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "tree"), [
    ("a + b*c", BinOp("+", a, BinOp("*", b, c))),
    ("a - b - c", BinOp("-", BinOp("-", a, b), c)),
    ("a/b/c", BinOp("/", BinOp("/", a, b), c)),
    ("a*b/c", BinOp("/", BinOp("*", a, b), c)),
    ("a - (b - c)", BinOp("-", a, BinOp("-", b, c))),
    ("(a + b)*c", BinOp("*", BinOp("+", a, b), c)),
    ("-x^2", Neg(BinOp("^", x, N(2)))),
    ("2^-x", BinOp("^", N(2), Neg(x))),
    ("2^-x^2", BinOp("^", N(2), Neg(BinOp("^", x, N(2))))),
    ("a^b^c", BinOp("^", a, BinOp("^", b, c))),
    ("a**b**c", BinOp("^", a, BinOp("^", b, c))),
    ("(a^b)^c", BinOp("^", BinOp("^", a, b), c)),
    ("-a*b", BinOp("*", Neg(a), b)),
    ("a*-b", BinOp("*", a, Neg(b))),
    ("a - -b", BinOp("-", a, Neg(b))),
    ("--x", Neg(Neg(x))),
    ("+x", x),
    ("+-+x", Neg(x)),
    ("(-a)^b", BinOp("^", Neg(a), b)),
    ("sigmoid(w*x + b)", Call("sigmoid", (BinOp("+", BinOp("*", Name("w"), x), b),))),
    ("max(a, b, c)", Call("max", (a, b, c))),
    ("relu", Name("relu")),  # a function name alone is just a name here
])
def test_precedence_and_associativity(text: str, tree: object) -> None:
    assert parse(text) == tree


def test_whitespace_tabs_and_newlines_are_ignored() -> None:
    assert parse("\n\ta *\n  (b\t+ c)  \n") == BinOp("*", a, BinOp("+", b, c))


def test_unicode_and_keyword_like_names_are_ordinary_names() -> None:
    tree = parse("α*lambda + E - I*pi + beta")
    assert free_names(tree) == ("α", "lambda", "E", "I", "pi", "beta")


def test_columns_point_at_each_node_first_token() -> None:
    tree = parse("  w1 * (x + b) - sigmoid(-y)")
    assert isinstance(tree, BinOp) and tree.col == 2
    product, call = tree.left, tree.right
    assert isinstance(product, BinOp) and isinstance(product.right, BinOp)
    assert (product.col, product.right.col, product.right.right.col) == (2, 8, 12)
    assert isinstance(call, Call) and call.col == 17 and call.args[0].col == 25
    assert parse("x + 1") == parse("x+1")  # equality ignores columns


def test_functions_whitelist() -> None:
    assert FUNCTIONS["sigmoid"] == (1, 1) and FUNCTIONS["max"] == (2, None)
    assert set(FUNCTIONS) == {"sigmoid", "tanh", "relu", "softplus", "exp", "log", "sqrt", "abs",
                              "sin", "cos", "max", "min"}


def test_free_names_in_order_of_first_appearance() -> None:
    assert free_names(parse("b*a + c*a + sigmoid(b) + d^b")) == ("b", "a", "c", "d")
    assert free_names(parse("2*3")) == ()


def test_size_counts_nodes() -> None:
    assert size(parse("x")) == 1
    assert size(parse("w31*a11 + w32*a12")) == 7
    assert size(parse("max(a, -b, 2)")) == 5


@pytest.mark.parametrize(("text", "value"), [
    ("2^10 - 1/4", Fraction(4095, 4)), ("-(3)", Fraction(-3)), ("2^-2", Fraction(1, 4)),
    ("0.5*4", Fraction(2)), ("x + 1", None), ("sqrt(4)", None), ("4^(1/2)", None),
])
def test_constant_value(text: str, value: Fraction | None) -> None:
    assert constant_value(parse(text)) == value


def test_constant_value_never_computes_huge_numbers_in_built_trees() -> None:
    huge = BinOp("^", N(2), BinOp("^", N(2), N(20)))  # 2^(2^20), built without the parser
    start = time.monotonic()
    assert constant_value(huge) is None
    assert constant_value(BinOp("/", N(1), N(0))) is None
    assert time.monotonic() - start < 1


def test_long_flat_sums_do_not_recurse() -> None:
    text = " + ".join(["x"] * 2500)  # a 2,500-deep left spine
    tree = parse(text)
    assert size(tree) == 4999 and free_names(tree) == ("x",)
    assert to_text(tree) == text
    assert constant_value(parse("+".join(["1"] * 4000))) == 4000


# --- to_text ---


@pytest.mark.parametrize("text", [
    "w31*a11 + w32*a12", "(Out - y)^2/2", "sigmoid(w21*a01)", "-x^2", "a - (b - c)", "a/(b*c)",
    "(a^b)^c", "(-a)^b", "a^b^c", "2^-x", "max(a, b, c)", "0.35*x", "a - -b", "--x",
    "-(a + b)", "a*-b", "-a*b",
])
def test_to_text_is_canonical_and_minimal(text: str) -> None:
    assert to_text(parse(text)) == text


@pytest.mark.parametrize(("tree", "text"), [
    (N(3), "3"), (Num(Fraction(7, 20)), "0.35"), (Num(Fraction(1, 1024)), "0.0009765625"),
    (BinOp("^", x, Num(Fraction(1, 3))), "x^(1/3)"), (BinOp("/", a, Num(Fraction(1, 3))),
                                                       "a/(1/3)"),
    (Num(Fraction(-2)), "-2"), (BinOp("^", Num(Fraction(-2)), x), "(-2)^x"),
    (parse("a^(b*c)"), "a^(b*c)"), (parse("(a*b)^c"), "(a*b)^c"),
])
def test_to_text_numbers_and_parentheses(tree: object, text: str) -> None:
    assert to_text(tree) == text  # type: ignore[arg-type]


NAMES = st.sampled_from(["x", "w1", "a_b", "α", "lambda", "E", "max", "relu", "_t"])
NUMBERS = st.one_of(st.integers(0, 10**6), st.integers(0, 10**5).map(lambda n: Fraction(n, 100)))
LEAVES = st.one_of(NAMES.map(Name), NUMBERS.map(lambda v: Num(Fraction(v))))


def _extend(inner: st.SearchStrategy) -> st.SearchStrategy:
    unary = st.sampled_from(sorted(f for f, (lo, _) in FUNCTIONS.items() if lo == 1))
    return st.one_of(
        inner.map(Neg),
        st.builds(BinOp, st.sampled_from("+-*/^"), inner, inner),
        st.builds(lambda f, e: Call(f, (e,)), unary, inner),
        st.builds(lambda f, es: Call(f, tuple(es)), st.sampled_from(["max", "min"]),
                  st.lists(inner, min_size=2, max_size=3)),
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=12)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_to_text_round_trips(tree: object) -> None:
    text = to_text(tree)  # type: ignore[arg-type]
    try:
        back = parse(text)
    except ExpressionError as err:
        # a constant subtree the guards refuse (1/0, 9^9^9) is the only acceptable failure
        assert err.message.startswith(("division by zero", "exponent", "constant out of range"))
        assume(False)
    assert back == tree
    assert to_text(back) == text


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_expression_error(text: str) -> None:
    try:
        parse(text)
    except ExpressionError as err:
        assert err.caret is not None and 0 <= err.caret <= len(text)


GRAMMAR_BITS = st.sampled_from(["x", "y", "1", "2.5", ".5", "1e3", "e", "+", "-", "*", "/",
                                "^", "**", "(", ")", ",", " ", "sigmoid(", "max(", "9^9^9", "0",
                                ".", "__x", "'", "lambda", "[", "sigmod("])


@settings(max_examples=500, deadline=None)
@given(st.lists(GRAMMAR_BITS, max_size=30).map("".join))
def test_grammar_like_text_parses_or_raises_expression_error(text: str) -> None:
    try:
        tree = parse(text)
    except ExpressionError as err:
        assert err.caret is not None and 0 <= err.caret <= len(text)
    else:
        assert parse(to_text(tree)) == tree


# --- errors: message words and caret column ---


@pytest.mark.parametrize(("text", "words", "caret"), [
    ("", "empty expression", 0),
    ("  \t\n", "empty expression", 0),
    ("(a + b", "unexpected end of expression: ')' missing", 6),
    ("sigmoid(x", "unexpected end of expression: ')' missing", 9),
    ("a + b)", "unbalanced parentheses", 5),
    (")", "unbalanced parentheses", 0),
    ("x +", "unexpected end of expression", 3),
    ("x * / y", "unexpected '/' after '*'", 4),
    ("*x", "unexpected '*'", 0),
    ("()", "empty parentheses", 0),
    ("max(a, )", "unexpected ')' after ','", 7),
    ("a, b", "',' is only allowed between the arguments of a function call", 1),
    ("(a, b)", "',' is only allowed between the arguments", 2),
    ("1.5.3", "misplaced '.'", 3),
])
def test_syntax_errors(text: str, words: str, caret: int) -> None:
    err = fails(text)
    assert words in err.message and err.caret == caret


@pytest.mark.parametrize(("text", "caret"), [("2 x", 2), ("w x", 2), ("2x", 1), ("2(x)", 1),
                                             ("(a) b", 4), ("2 .5", 2)])
def test_two_operands_in_a_row_says_use_star(text: str, caret: int) -> None:
    err = fails(text)
    assert "missing operator" in err.message and "use '*' to multiply" in err.message
    assert err.caret == caret


@pytest.mark.parametrize(("text", "words", "caret"), [
    ("'a'", "strings are not allowed", 0),
    ('x + "os"', "strings are not allowed", 4),
    ("os.system", "attribute access '.system' is not allowed", 2),
    ("(a).real", "attribute access '.real' is not allowed", 3),
    ("a[0]", "subscripts", 1),
    ("a]", "subscripts", 1),
    ("[x for x in y]", "subscripts", 0),
    ("{a}", "braces", 0),
    ("a\\\nb", "backslashes are not allowed", 1),
    ("x # note", "comments", 2),
    ("a = b", "not allowed", 2),
    ("a < b", "not allowed", 2),
    ("a > b", "not allowed", 2),
    ("!a", "not allowed", 0),
    ("a@b", "'@' is not allowed", 1),
    ("a; b", "';' is not allowed", 1),
    ("x[1:2]", "subscripts", 1),
    ("a: b", "':' is not allowed", 1),
    ("a % b", "character '%' is not allowed", 2),
    ("a $ b", "character '$' is not allowed", 2),
])
def test_characters_outside_the_grammar(text: str, words: str, caret: int) -> None:
    err = fails(text)
    assert words in err.message and err.caret == caret


def test_lookalike_characters_get_a_suggestion() -> None:
    err = fails("a − b")
    assert err.caret == 2 and err.suggestion == "did you mean '-'?"
    assert fails("x²").suggestion == "did you mean '^2'?"


@pytest.mark.parametrize(("text", "words", "caret"), [
    ("lambda x: x", "'lambda' here is Python syntax", 0),
    ("x if y else z", "'if' here is Python syntax", 2),
    ("not x", "'not' here is Python syntax", 0),
    ("lambda: 0", "':' is not allowed", 6),
])
def test_python_syntax_fails_at_the_offending_token(text: str, words: str, caret: int) -> None:
    err = fails(text)
    assert words in err.message and err.caret == caret


def test_unknown_function_suggests_the_closest() -> None:
    err = fails("2*sigmod(x)")
    assert err.message == "unknown function 'sigmod'" and err.caret == 2
    assert err.suggestion == "did you mean 'sigmoid'?"


def test_unknown_function_lists_the_whitelist_when_nothing_is_close() -> None:
    err = fails("print(x)")
    assert err.message == "unknown function 'print'" and err.caret == 0
    assert "sigmoid, tanh, relu" in (err.suggestion or "") and "max and min" in err.suggestion


@pytest.mark.parametrize(("text", "caret"), [("(a)(b)", 3), ("sigmoid(x)(y)", 10)])
def test_calling_a_non_name(text: str, caret: int) -> None:
    err = fails(text)
    assert err.message.startswith("only the functions sigmoid, tanh, relu,")
    assert err.message.endswith("max and min can be called")
    assert err.caret == caret and err.suggestion == "use '*' to multiply"


def test_calling_an_undeclared_function_result() -> None:
    err = fails("f(x)(y)")
    assert err.message == "unknown function 'f'" and err.caret == 0


@pytest.mark.parametrize(("text", "message", "caret"), [
    ("sigmoid(x, y)", "sigmoid takes 1 argument, got 2", 11),
    ("max(x)", "max takes at least 2 arguments, got 1", 0),
    ("sigmoid()", "sigmoid takes 1 argument, got 0", 0),
    ("a + min()", "min takes at least 2 arguments, got 0", 4),
])
def test_wrong_arity(text: str, message: str, caret: int) -> None:
    err = fails(text)
    assert err.message == message and err.caret == caret


def test_dunder_names_are_rejected_and_nothing_runs(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    text = f"__import__('os').system('touch {sentinel}')"
    err = fails(text)
    assert err.message == "dunder name '__import__' is not allowed" and err.caret == 0
    assert fails("x + __class__").caret == 4
    assert not sentinel.exists()


# --- limits ---


def test_length_limit() -> None:
    err = fails("x" * 12_345)
    assert err.message == "expression is 12,345 characters long; the limit is 10,000"
    assert err.caret == 10_000
    assert fails("x + y", max_length=3).caret == 3


@pytest.mark.parametrize("text", ["(" * 100_000 + "x" + ")" * 100_000, "-" * 100_000 + "x",
                                  "sigmoid(" * 100_000 + "x" + ")" * 100_000, "x^" * 100_000 + "x",
                                  "-(" * 50_000 + "x" + ")" * 50_000])
def test_deep_nesting_is_refused_quickly(text: str) -> None:
    start = time.monotonic()
    err = fails(text, max_length=10**6)
    assert "nested too deeply" in err.message and "100 levels" in err.message
    assert time.monotonic() - start < 1


def test_depth_limit_is_exact() -> None:
    assert parse("(" * 100 + "x" + ")" * 100) == x
    assert parse("-" * 100 + "x") is not None
    err = fails("(" * 101 + "x" + ")" * 101)
    assert err.caret == 100
    assert fails("sigmoid(" * 4 + "x" + ")" * 4, max_depth=3).caret == 24


def test_number_literal_digit_limit() -> None:
    assert parse("9" * 60) == N("9" * 60)
    assert parse("0.000" + "9" * 60) == N("0.000" + "9" * 60)  # leading zeros are not counted
    err = fails("x + " + "1" * 61)
    assert err.message == ("number '11111111111111111111…' has 61 significant digits; the "
                           "limit is 60")
    assert err.caret == 4
    assert "too large: a number must be below 1.7e308" in fails("1e999").message
    assert "too small: a number other than 0 must be at least 1e-308" in fails("x*1e-309").message
    assert fails("1e-309").caret == 0
    assert fails("1e99999999999999999999").caret == 0


def test_the_number_rule_admits_the_range_of_a_double() -> None:
    # one rule for values, --set and expressions: 60 significant digits, 1e-308 … 1.7e308
    assert constant_value(parse("1e-70")) == Fraction(1, 10**70)
    assert constant_value(parse("1e95")) == 10**95
    assert constant_value(parse("1.5e308")) == 15 * 10**307
    assert constant_value(parse("1e-308")) == Fraction(1, 10**308)
    assert "too large" in fails("1.8e308").message


@pytest.mark.parametrize("value", ["1e-70", "1e95", "1.5e308", "1e-300", "0." + "1" * 60])
def test_long_and_tiny_literals_print_back_exactly(value: str) -> None:
    e = parse(f"x*{value}")
    assert parse(to_text(e)) == e and len(to_text(e)) < 70


@pytest.mark.parametrize(("text", "caret"), [("x^99999", 2), ("x^-1001", 2), ("2^2^2^2^2^2", 4),
                                             ("2^(2^20)", 2), ("x^(10*101)", 2)])
def test_exponent_limit(text: str, caret: int) -> None:
    start = time.monotonic()
    err = fails(text)
    assert err.message.startswith("exponent ") and "the limit is 1,000" in err.message
    assert err.caret == caret and time.monotonic() - start < 1


def test_exponent_at_the_limit_is_fine() -> None:
    assert parse("x^1000") == BinOp("^", x, N(1000))
    assert constant_value(parse("2^2^2^2")) == 65536


@pytest.mark.parametrize(("text", "caret", "why"), [
    ("10^200*10^200", 6, "too large"), ("2^1000", 1, "more than 60 significant digits"),
    ("0.5^1000", 3, "more than 60 significant digits"), ("(9^9)^99", 5, "beyond 1.7e308"),
    ("0.1^400", 3, "too small")])
def test_constant_magnitude_limit(text: str, caret: int, why: str) -> None:
    err = fails(text)
    assert err.message.startswith("constant out of range") and why in err.message, err.message
    assert err.caret == caret


def test_division_by_a_constant_zero() -> None:
    assert fails("x/0").message == "division by zero: the divisor is the constant 0"
    assert fails("x/(1 - 1)").caret == 1
    assert fails("0^-1").message.startswith("division by zero")


def test_grammar_does_not_import_sympy() -> None:
    code = "import sys, pathgrad.spec.grammar; sys.exit('sympy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
