"""The expression grammar of a network spec: a hand-written tokenizer and Pratt parser.

Spec text comes from strangers, so nothing here evaluates it: text becomes a small frozen AST
(Num, Name, Neg, BinOp, Call) or an ExpressionError naming the offending token and its column.
Numbers are exact Fractions built from their digits. Stdlib only: this module must not load sympy.
"""

from __future__ import annotations

import keyword
import operator
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple, NoReturn, TypeAlias, TypeVar

from ..errors import ExpressionError, suggest
from .numbers import MAX_DIGITS, magnitude_problem

__all__ = ["FUNCTIONS", "Num", "Name", "Neg", "BinOp", "Call", "Expr", "parse", "free_names",
           "to_text", "size", "constant_value"]

_UNARY = ("sigmoid", "tanh", "relu", "softplus", "exp", "log", "sqrt", "abs", "sin", "cos")
# name -> (fewest, most) arguments; None means no upper bound
FUNCTIONS: dict[str, tuple[int, int | None]] = {**{f: (1, 1) for f in _UNARY},
                                                 "max": (2, None), "min": (2, None)}
_FUNCTION_LIST = ", ".join(list(FUNCTIONS)[:-1]) + f" and {list(FUNCTIONS)[-1]}"


# The AST. `col` is the 0-based column of a node's first token; equality ignores it.


@dataclass(frozen=True)
class Num:
    value: Fraction
    col: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    id: str
    col: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Neg:
    operand: Expr
    col: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * / ^
    left: Expr
    right: Expr
    col: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    col: int = field(default=0, compare=False)


Expr: TypeAlias = Num | Name | Neg | BinOp | Call

_SPACE = " \t\r\n"
_DIGITS = frozenset("0123456789")
# an exponent needs digits: '2e' is the number 2 followed by the name e
_NUMBER = re.compile(r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_ATTRIBUTE = re.compile(r"\.\s*([^\W\d]\w*)")
_ASCII_TAIL = re.compile(r"[A-Za-z0-9_]*")  # what may follow a name's first character, in ASCII
_CHAR_ERRORS = {ch: message for chars, message in [
    ("'\"", "strings are not allowed"),
    ("[]", "subscripts and brackets are not allowed; use parentheses to group"),
    ("{}", "braces are not allowed; use parentheses to group"),
    ("\\", "backslashes are not allowed; an expression may span lines without them"),
    ("#", "comments ('#') are not allowed inside an expression"),
    ("=<>!", "comparisons and assignments ('=', '<', '>', '!') are not allowed"),
    (":", "':' is not allowed: there are no lambdas, slices or annotations"),
    (";", "';' is not allowed: write one expression per node"),
    ("@", "'@' is not allowed; use '*' to multiply"),
] for ch in chars}
# what to do instead, for the characters above that have no fix in their message
_CHAR_HINTS = {
    **dict.fromkeys("'\"", "an expression has no text: remove the quotes"),
    **dict.fromkeys("=<>!", "a node is name: expression, as in E: (y - w*x)^2"),
    ":": "a node is name: expression, as in E: (y - w*x)^2",
    "#": "put the comment after the expression's line, outside any quotes",
}
_LOOKALIKES = {"−": "-", "–": "-", "×": "*", "·": "*", "÷": "/", "²": "^2", "³": "^3"}


class _Tok(NamedTuple):
    kind: str  # "num", "name", "end", or the operator itself: + - * / ^ ( ) ,
    text: str
    col: int
    value: Fraction = Fraction(0)  # a number's exact value


class _Item(NamedTuple):
    expr: Expr
    value: Fraction | None  # its constant value, when it has one
    col: int  # where its text starts, an opening parenthesis included


_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul}


class _Bad(Exception):
    """A constant that must not be computed (too large, or a division by zero)."""


def _too_big(value: Fraction, max_digits: int) -> str | None:
    return magnitude_problem(value)


def _fold(op: str, a: Fraction | None, b: Fraction | None, max_digits: int,
          max_exponent: int) -> Fraction | None:
    """The constant `a op b`, or None; never computes a number beyond 10^max_digits."""
    if op == "^" and b is not None and abs(b) > max_exponent:
        raise _Bad(f"exponent {b} is too large; the limit is {max_exponent:,}")
    if op == "/" and b == 0:
        raise _Bad("division by zero: the divisor is the constant 0")
    if a is None or b is None:
        return None
    if op in _ARITHMETIC:
        value = _ARITHMETIC[op](a, b)
    elif op == "/":
        value = a / b
    elif b.denominator != 1:
        return None  # a root: left symbolic
    else:
        n = int(b)
        if a == 0 and n < 0:
            raise _Bad("division by zero: 0 raised to a negative power")
        # |a^n| >= 2^(n*bits); 3.322 > log2(10), so this rejects only what is surely too big
        bits = max(abs(a.numerator).bit_length(), a.denominator.bit_length()) - 1
        if abs(n) * bits * 1000 > 3322 * (308 + max_digits):
            raise _Bad("constant out of range: '^' here makes a number beyond 1.7e308 or "
                       "below 1e-308 in size")
        value = a**n
    problem = _too_big(value, max_digits) or _unwritable(value, max_digits)
    if problem:
        raise _Bad(f"constant out of range: '{op}' here makes a number {problem}")
    return value


def _unwritable(value: Fraction, max_digits: int) -> str | None:
    """Why a folded constant could not be written back as text that parses (to_text writes a
    finite decimal, or p/q, each with at most `max_digits` significant digits)."""
    text = _num_text(value)[0].lstrip("-")
    for part in text.split("/"):
        digits = part.partition("e")[0].replace(".", "").strip("0")
        if len(digits) > max_digits:
            return f"with more than {max_digits} significant digits"
    return None


class _Parser:
    """One parse of one text: a lazy token stream and the grammar's recursive descent."""

    def __init__(self, text: str, max_depth: int, max_digits: int, max_exponent: int) -> None:
        self.text = text
        self.max_depth, self.max_digits, self.max_exponent = max_depth, max_digits, max_exponent
        self.open = 0  # parentheses currently open, to tell a stray ')' from a missing operand
        self.tokens = self._scan()
        self.prev: _Tok | None = None
        self.tok = next(self.tokens)

    def error(self, message: str, col: int, suggestion: str | None = None,
              limit: str | None = None) -> ExpressionError:
        return ExpressionError(message, suggestion=suggestion, excerpt=self.text, caret=col,
                               limit=limit)

    def advance(self) -> _Tok:
        self.prev, self.tok = self.tok, next(self.tokens)
        return self.prev

    # --- tokens: produced lazily, so the leftmost problem is the one reported ---

    def _scan(self) -> Iterator[_Tok]:
        text, n, i, last, end = self.text, len(self.text), 0, "", -1
        while True:
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                break
            ch = text[i]
            glued = end == i and last in ("name", ")", "num")  # '.5' is a number; 'x.5' is not
            if ch in _DIGITS or (ch == "." and text[i + 1:i + 2] in _DIGITS and not glued):
                tok = self._number(i)
            elif ch.isidentifier():
                j = i + 1
                while True:  # the characters c with ("a" + c).isidentifier(), ASCII ones at once
                    j = _ASCII_TAIL.match(text, j).end()  # type: ignore[union-attr]
                    if j < n and not text[j].isascii() and ("a" + text[j]).isidentifier():
                        j += 1
                        continue
                    break
                if text.startswith("__", i):
                    raise self.error(f"dunder name '{text[i:j]}' is not allowed", i,
                                     "use the spec's own names and the functions")
                tok = _Tok("name", text[i:j], i)
            elif text.startswith("**", i):
                tok = _Tok("^", "**", i)
            elif ch in "+-*/^(),":
                tok = _Tok(ch, ch, i)
            else:
                raise self._bad_char(i)
            i = end = tok.col + len(tok.text)
            last = tok.kind
            yield tok
        while True:
            yield _Tok("end", "", n)

    def _bad_char(self, i: int) -> ExpressionError:
        text, ch = self.text, self.text[i]
        if ch == ".":
            attribute = _ATTRIBUTE.match(text, i)
            if attribute:
                return self.error(f"attribute access '.{attribute[1]}' is not allowed", i,
                                  "names are numbers and have no attributes")
            return self.error("misplaced '.': a decimal point belongs inside a number such as "
                              "'0.5'", i)
        if ch in _CHAR_ERRORS:
            return self.error(_CHAR_ERRORS[ch], i, _CHAR_HINTS.get(ch))
        hint = f"did you mean '{_LOOKALIKES[ch]}'?" if ch in _LOOKALIKES else "remove it"
        return self.error(f"character {ch!r} is not allowed in an expression", i, hint)

    def _number(self, i: int) -> _Tok:
        match = _NUMBER.match(self.text, i)
        assert match is not None  # called only at a digit, or at '.' before a digit
        literal, whole, frac, exp = match[0], match[1], match[2] or "", match[3] or "0"
        short = literal if len(literal) <= 24 else literal[:20] + "…"
        mantissa = (whole + frac).lstrip("0")
        significant = len(mantissa)
        if significant > self.max_digits:
            raise self.error(f"number '{short}' has {significant:,} significant digits; the "
                             f"limit is {self.max_digits}", i)
        exp_digits = exp.lstrip("+-").lstrip("0")
        # leading zeros are dropped first: int() refuses strings of over 4,300 digits
        exp_value = int(exp_digits) if exp_digits and len(exp_digits) <= 6 else 0
        shift = (-exp_value if exp.startswith("-") else exp_value) * bool(significant) - len(frac)
        # judge the size from digit counts before building anything big
        order = significant + shift - 1  # the number is about 10^order
        if len(exp_digits) > 6:
            order = -10**9 if exp.startswith("-") else 10**9
        if significant and (order > 309 or order < -309):
            problem = "too large: a number must be below 1.7e308 in size" if order > 0 else \
                "too small: a number other than 0 must be at least 1e-308 in size"
            value = Fraction(0)
        else:
            m_int = int(mantissa or "0")
            value = Fraction(m_int * 10**shift) if shift >= 0 else Fraction(m_int, 10**-shift)
            problem = magnitude_problem(value)
        if problem:
            raise self.error(f"number '{short}' is {problem}", i)
        return _Tok("num", literal, i, value)

    # --- grammar: sum > product > unary minus > power > atom ---

    def parse(self) -> Expr:
        item = self._sum(0)
        if self.tok.kind != "end":
            self._fail_after_operand(None)
        return item.expr

    def _deeper(self, depth: int, tok: _Tok) -> int:
        # checked before recursing, so deep input never reaches Python's recursion limit
        if depth + 1 > self.max_depth:
            raise self.error(f"expression nested too deeply: more than {self.max_depth} levels "
                             "of parentheses, calls, powers and unary minus", tok.col,
                             "split it into several nodes", "max_depth")
        return depth + 1

    def _binop(self, op: _Tok, left: _Item, right: _Item) -> _Item:
        try:
            value = _fold(op.kind, left.value, right.value, self.max_digits, self.max_exponent)
        except _Bad as bad:
            raise self.error(str(bad), op.col) from None
        return _Item(BinOp(op.kind, left.expr, right.expr, left.col), value, left.col)

    def _sum(self, depth: int) -> _Item:
        left = self._product(depth)
        while self.tok.kind in ("+", "-"):
            op = self.advance()
            left = self._binop(op, left, self._product(depth))
        return left

    def _product(self, depth: int) -> _Item:
        left = self._unary(depth)
        while self.tok.kind in ("*", "/"):
            op = self.advance()
            left = self._binop(op, left, self._unary(depth))
        return left

    def _unary(self, depth: int) -> _Item:
        signs: list[_Tok] = []
        while self.tok.kind in ("+", "-"):  # a loop, not recursion: long chains are cheap
            tok = self.advance()
            if tok.kind == "-":
                depth = self._deeper(depth, tok)
                signs.append(tok)
        item = self._power(depth)
        for tok in reversed(signs):
            value = None if item.value is None else -item.value
            item = _Item(Neg(item.expr, tok.col), value, tok.col)
        return item

    def _power(self, depth: int) -> _Item:
        base = self._atom(depth)
        if self.tok.kind != "^":
            return base
        op = self.advance()
        exponent = self._unary(self._deeper(depth, op))  # right-assoc; allows 2^-x
        if exponent.value is not None and abs(exponent.value) > self.max_exponent:
            raise self.error(f"exponent {exponent.value} is too large; the limit is "
                             f"{self.max_exponent:,}", exponent.col)
        return self._binop(op, base, exponent)

    def _atom(self, depth: int) -> _Item:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            return _Item(Num(tok.value, tok.col), tok.value, tok.col)
        if tok.kind == "name":
            self.advance()
            if self.tok.kind == "(":
                return self._call(tok, depth)
            return _Item(Name(tok.text, tok.col), None, tok.col)
        if tok.kind == "(":
            inner_depth = self._deeper(depth, tok)
            self.advance()
            self.open += 1
            inner = self._sum(inner_depth)
            if self.tok.kind != ")":
                self._fail_after_operand(tok)
            self.advance()
            self.open -= 1
            return _Item(inner.expr, inner.value, tok.col)
        raise self._missing_operand()

    def _call(self, name: _Tok, depth: int) -> _Item:
        func = name.text
        if func not in FUNCTIONS:
            hint = suggest(func, FUNCTIONS) or (f"the functions are {_FUNCTION_LIST}; "
                                                f"to multiply, write '{func}*(...)'")
            raise self.error(f"unknown function '{func}'", name.col, hint)
        opener = self.tok
        inner_depth = self._deeper(depth, name)
        self.advance()
        self.open += 1
        args: list[_Item] = []
        if self.tok.kind != ")":
            while True:
                args.append(self._sum(inner_depth))
                if self.tok.kind != ",":
                    break
                self.advance()
            if self.tok.kind != ")":
                self._fail_after_operand(opener)
        self.advance()
        self.open -= 1
        low, high = FUNCTIONS[func]
        if len(args) < low or (high is not None and len(args) > high):
            if high == low:
                message = f"{func} takes {low} argument{'s' * (low != 1)}, got {len(args)}"
            else:
                message = f"{func} takes at least {low} arguments, got {len(args)}"
            # point at the first surplus argument, or at the name when some are missing
            col = args[high].col if high is not None and len(args) > high else name.col
            raise self.error(message, col)
        return _Item(Call(func, tuple(a.expr for a in args), name.col), None, name.col)

    # --- errors that need to know what came before ---

    def _missing_operand(self) -> ExpressionError:
        tok, prev = self.tok, self.prev
        after = f" after '{prev.text}'" if prev is not None else ""
        if tok.kind == "end":
            return self.error(f"unexpected end of expression: a number, name or '(' is missing"
                              f"{after}", tok.col)
        if tok.kind == ")" and prev is not None and prev.kind == "(":
            return self.error("empty parentheses '()': put an expression inside", prev.col)
        if tok.kind == ")" and self.open == 0:
            return self.error("unbalanced parentheses: this ')' has no matching '('", tok.col)
        return self.error(f"unexpected '{tok.text}'{after}: expected a number, name or '('",
                          tok.col)

    def _fail_after_operand(self, opener: _Tok | None) -> NoReturn:
        """Raise for what follows a complete operand when no operator or closer does."""
        tok, prev = self.tok, self.prev
        assert prev is not None
        if tok.kind in ("num", "name", "("):
            kw = next((t for t in (prev, tok)
                       if t.kind == "name" and keyword.iskeyword(t.text)), None)
            if kw is not None:
                raise self.error(f"'{kw.text}' here is Python syntax, which expressions do not "
                                 f"support", kw.col, f"'{kw.text}' is only a name in this grammar")
            if tok.kind == "(" and prev.kind == ")":
                raise self.error(f"only the functions {_FUNCTION_LIST} can be called", tok.col,
                                 "use '*' to multiply")
            hint = None
            if prev.kind == "name" and prev.text in FUNCTIONS:
                hint = f"to call {prev.text}, write {prev.text}({tok.text}...)"
            if prev.kind == "num" and tok.kind == "name" and tok.col == prev.col + len(prev.text):
                written = prev.text + tok.text  # 0x10, 1_000, 2j: Python number syntax
                if re.fullmatch(r"0[xXoObB][0-9a-fA-F_]+", written):
                    raise self.error(f"'{written}' is Python's notation for a number in base "
                                     "16, 8 or 2, which expressions do not support", prev.col,
                                     "write the number in decimal")
                if re.fullmatch(r"[0-9.]+(_[0-9]+)+", written):
                    raise self.error(f"'{written}': digit separators '_' are not supported",
                                     prev.col, f"write {written.replace('_', '')}")
            raise self.error(f"missing operator between '{prev.text}' and '{tok.text}': use '*' "
                             "to multiply", tok.col, hint)
        if tok.kind == "end" and opener is not None:
            raise self.error("unexpected end of expression: ')' missing", tok.col,
                             f"close the '(' at column {opener.col + 1}")
        if tok.kind == ")":
            raise self.error("unbalanced parentheses: this ')' has no matching '('", tok.col)
        raise self.error("',' is only allowed between the arguments of a function call",
                         tok.col)


def parse(text: str, *, max_length: int = 10_000, max_depth: int = 100,
          max_digits: int = MAX_DIGITS, max_exponent: int = 1000) -> Expr:
    """Parse one node expression; raise ExpressionError (caret = 0-based column) if it is bad."""
    if len(text) > max_length:
        raise ExpressionError(f"expression is {len(text):,} characters long; the limit is "
                              f"{max_length:,}", suggestion="split it into several nodes",
                              excerpt=text, caret=max_length, limit="max_expression_chars")
    if not text.strip(_SPACE):
        raise ExpressionError("empty expression", suggestion="write an expression such as "
                              "'w1*x + b'", excerpt=text, caret=0)
    parser = _Parser(text, max_depth, max_digits, max_exponent)
    # each level of nesting costs a few Python frames: room for max_depth levels (a raised
    # PATHGRAD_MAX_DEPTH) on top of the caller's; plain Python frames use no C stack in 3.11+
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(old + _FRAMES_PER_LEVEL * min(max_depth, len(text)))
    try:
        return parser.parse()
    except RecursionError:  # not expected: the room above is enough
        raise parser.error("expression nested too deeply for this parser", 0) from None
    finally:
        sys.setrecursionlimit(old)


_FRAMES_PER_LEVEL = 8  # _sum → _product → _unary → _power → _atom → _call, and a margin


def _children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, Neg):
        return (e.operand,)
    if isinstance(e, BinOp):
        return (e.left, e.right)
    if isinstance(e, Call):
        return e.args
    return ()


_T = TypeVar("_T")


def _postorder(expr: Expr, visit: Callable[[Expr, list[_T]], _T]) -> _T:
    """visit(node, children's results) bottom-up, with an explicit stack; shared nodes once."""
    done: dict[int, _T] = {}
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        kids = _children(node)
        if kids and not expanded:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids) if id(k) not in done)
            continue
        done[id(node)] = visit(node, [done[id(k)] for k in kids])
    return done[id(expr)]


def free_names(expr: Expr) -> tuple[str, ...]:
    """Names used in `expr`, in order of first appearance, without duplicates."""
    seen: dict[str, None] = {}
    visited: set[int] = set()  # a builder's tree may share subtrees: visit each once
    stack = [expr]
    while stack:
        e = stack.pop()
        kind = type(e)
        if kind is Name:
            seen.setdefault(e.id)  # type: ignore[union-attr]
        elif kind is Num or id(e) in visited:
            continue
        else:
            visited.add(id(e))
            if kind is BinOp:
                stack += (e.right, e.left)  # type: ignore[union-attr]
            elif kind is Neg:
                stack.append(e.operand)  # type: ignore[union-attr]
            else:
                stack.extend(reversed(e.args))  # type: ignore[union-attr]
    return tuple(seen)


def size(expr: Expr) -> int:
    """Number of nodes in the tree."""
    return _postorder(expr, lambda _node, kids: 1 + sum(kids))


def constant_value(expr: Expr, *, max_digits: int = 60,
                   max_exponent: int = 1000) -> Fraction | None:
    """The exact value of a name- and call-free expression; None if it has none we can compute."""
    def visit(node: Expr, kids: list[Fraction | None]) -> Fraction | None:
        if isinstance(node, Num):
            return node.value
        if isinstance(node, Neg):
            return None if kids[0] is None else -kids[0]
        if isinstance(node, BinOp):
            return _fold(node.op, kids[0], kids[1], max_digits, max_exponent)
        return None

    try:
        return _postorder(expr, visit)
    except _Bad:
        return None


_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5
# op -> (its precedence, least precedence its left / right side may have unparenthesized)
_BINARY = {"+": (_ADD, _ADD, _MUL), "-": (_ADD, _ADD, _MUL), "*": (_MUL, _MUL, _NEG),
           "/": (_MUL, _MUL, _NEG), "^": (_POW, _ATOM, _NEG)}


def _num_text(value: Fraction) -> tuple[str, int]:
    p, q = abs(value.numerator), value.denominator
    twos = (q & -q).bit_length() - 1
    rest, fives = q >> twos, 0
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    places = max(twos, fives)
    if q == 1:
        text, prec = str(p), _ATOM
    elif rest == 1 and places <= 400:  # a finite decimal: write it exactly
        digits = str(p * 10**places // q).rjust(places + 1, "0")
        text, prec = f"{digits[:-places]}.{digits[-places:]}", _ATOM
    else:
        text, prec = f"{_short(str(p))}/{_short(str(q))}", _MUL
    if prec == _ATOM:
        text = _short(text)
    return ("-" + text, min(prec, _NEG)) if value < 0 else (text, prec)


def _short(plain: str) -> str:
    """1e-70 and 1.5e308 rather than 71 or 309 characters: the same exact value."""
    return _scientific(plain) if len(plain) > 24 else plain


def _scientific(plain: str) -> str:
    """An exact decimal '0.00012' or '1500' as exact scientific text '1.2e-4', '1.5e3'."""
    whole, _, frac = plain.partition(".")
    digits = (whole + frac).lstrip("0")
    exp = len(whole) - 1 if whole.strip("0") else -(len(frac) - len(frac.lstrip("0")) + 1)
    digits = digits.rstrip("0") or "0"
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{exp}"



def _render(node: Expr, kids: list[tuple[str, int]]) -> tuple[str, int]:
    def wrap(part: tuple[str, int], least: int) -> str:
        return part[0] if part[1] >= least else f"({part[0]})"

    if isinstance(node, Num):
        return _num_text(node.value)
    if isinstance(node, Name):
        return node.id, _ATOM
    if isinstance(node, Call):
        return f"{node.func}({', '.join(text for text, _ in kids)})", _ATOM
    if isinstance(node, Neg):
        return "-" + wrap(kids[0], _NEG), _NEG
    prec, left, right = _BINARY[node.op]
    sep = " " if prec == _ADD else ""
    return f"{wrap(kids[0], left)}{sep}{node.op}{sep}{wrap(kids[1], right)}", prec


def to_text(expr: Expr) -> str:
    """Canonical text with the fewest parentheses: parse(to_text(e)) == e."""
    # _render's rules, walked with one explicit stack and no call per AST node (a builder's
    # node of 64 products is 260 of them, and `show --format json` writes thousands)
    done: dict[int, tuple[str, int]] = {}  # id → (text, precedence); shared subtrees once
    stack: list[Expr] = [expr]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in done:
            stack.pop()
            continue
        kind = type(node)
        if kind is Name:
            done[key] = (node.id, _ATOM)  # type: ignore[union-attr]
            stack.pop()
            continue
        if kind is Num:
            done[key] = _num_text(node.value)  # type: ignore[union-attr]
            stack.pop()
            continue
        if kind is BinOp:
            left, right = node.left, node.right  # type: ignore[union-attr]
            a, b = done.get(id(left)), done.get(id(right))
            if a is None or b is None:
                if b is None:
                    stack.append(right)
                if a is None:
                    stack.append(left)
                continue
            stack.pop()
            prec, least_left, least_right = _BINARY[node.op]  # type: ignore[union-attr]
            lt = a[0] if a[1] >= least_left else f"({a[0]})"
            rt = b[0] if b[1] >= least_right else f"({b[0]})"
            op = node.op  # type: ignore[union-attr]
            done[key] = (f"{lt} {op} {rt}" if prec == _ADD else f"{lt}{op}{rt}", prec)
            continue
        kids = (node.operand,) if kind is Neg else node.args  # type: ignore[union-attr]
        missing = [k for k in kids if id(k) not in done]
        if missing:
            stack.extend(reversed(missing))
            continue
        stack.pop()
        done[key] = _render(node, [done[id(k)] for k in kids])
    return done[id(expr)][0]
