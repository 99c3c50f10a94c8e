"""Read a spec's text into plain Python data that remembers the line of every key and value.

YAML is only ever parsed into events, never loaded: nothing is constructed from tags (any tag
is refused), merge keys and non-scalar keys are refused, duplicate keys are errors at every
level, and aliases are counted at every use against an item budget, so a "billion laughs"
file fails fast (an alias shares its anchor's object, as with yaml.safe_load).
Numbers are exact: `0.1` becomes Fraction(1, 10), never a binary float.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import islice
from typing import Any

import yaml

from ..errors import LimitError, Location, SpecError, suggest
from .numbers import digits_problem

__all__ = ["Document", "read", "read_text", "read_file", "kind_of"]

Path = tuple[str | int, ...]

_MAX_DEPTH = 500  # deeper data would only exhaust the recursion of whatever walks it later
_MAX_EXPONENT = 1000  # Fraction("1e999999999") would build a billion-digit integer
_MAX_NUMBER_CHARS = 1000  # a longer literal is no one's data, and int() refuses over 4,300 digits
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: fast, and caps nesting itself
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_EXP_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+")  # YAML 1.2's 1e-3
_OPEN = object()  # an anchor whose node is still being read: an alias to it would recurse


@dataclass(frozen=True)
class Document:
    """A spec's top-level mapping as plain data, with 1-based lines keyed by path tuples."""

    data: dict
    source: str
    text: str
    lines: dict[Path, int] = field(default_factory=dict, repr=False, compare=False)
    key_lines: dict[Path, int] = field(default_factory=dict, repr=False, compare=False)
    aliases: dict[Path, Path] = field(default_factory=dict, repr=False, compare=False)

    def line(self, *path: str | int) -> int | None:
        """The line of the value at `path`, e.g. doc.line("nodes", "a11")."""
        return self._find(self.lines, path)

    def key_line(self, *path: str | int) -> int | None:
        """The line of the key (or list item) at `path`."""
        return self._find(self.key_lines, path)

    def where(self, *path: str | int, key: bool = True) -> Location:
        """A Location for `path`: the key's line (or the value's, with key=False)."""
        line = (self.key_line(*path) if key else None) or self.line(*path)
        return Location(self.source, line, None, ".".join(str(p) for p in path) or None)

    def _find(self, table: dict[Path, int], path: Path) -> int | None:
        """Look `path` up; inside an alias, continue at its anchor (whose text holds the lines)."""
        for _ in range(_MAX_DEPTH):  # each step moves to an earlier anchor, so this ends
            if path in table:
                return table[path]
            for i in range(len(path) - 1, 0, -1):
                if path[:i] in self.aliases:
                    path = self.aliases[path[:i]] + path[i:]
                    break
            else:
                return None
        return None


def read(path_or_text: str | os.PathLike, *, max_bytes: int = 5_000_000,
         max_items: int = 200_000) -> Document:
    """Read a spec from a path, or from YAML text.

    A str is text if it has a newline, or a ':' (every spec is a mapping, so its text has
    one) and is neither an existing file nor a name ending in .yaml/.yml/.json.
    """
    limits = {"max_bytes": max_bytes, "max_items": max_items}
    if isinstance(path_or_text, os.PathLike):
        return read_file(path_or_text, **limits)
    text = str(path_or_text)
    if "\n" not in text and (":" not in text or text.lower().endswith((".yaml", ".yml", ".json"))
                             or os.path.exists(text)):
        return read_file(text, **limits)
    return read_text(text, **limits)


def read_file(path: str | os.PathLike, *, max_bytes: int = 5_000_000,
              max_items: int = 200_000) -> Document:
    """Read a spec file (UTF-8, an optional BOM) into a Document."""
    source = os.fsdecode(path)
    name, where = f"'{source}'", None  # the message names the file already
    if os.path.isdir(source):
        raise SpecError(f"{name} is a directory, not a spec file", where)
    try:
        with open(source, "rb") as fh:
            raw = fh.read(max_bytes + 1)  # never read more than the limit, whatever stat says
    except FileNotFoundError:
        raise SpecError(f"no such file: {name}", where, _nearby(source)) from None
    except PermissionError:
        raise SpecError(f"cannot read {name}: permission denied", where) from None
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}",
                        where) from None
    if len(raw) > max_bytes:
        raise LimitError(f"{name} is larger than the limit of {max_bytes:,} bytes", where,
                         limit="max_bytes")
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            raise SpecError(f"{name} is {encoding} text; pathgrad reads UTF-8", where,
                            "save the file as UTF-8")
    if b"\0" in raw[:8192]:
        raise SpecError(f"{name} is a binary file, not a YAML spec", where,
                        "a spec is a text file such as examples/question.yaml")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        # the location names the file; the message says what is wrong and where in it
        raise SpecError(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}",
                        Location(source, line), "save the file as UTF-8") from None
    return _parse(text.removeprefix("\ufeff"), source, name, max_items)


# byte order marks of the encodings a text editor may save in instead of UTF-8 (longest first)
_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
         (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def read_text(text: str, source: str = "<string>", *, max_bytes: int = 5_000_000,
              max_items: int = 200_000) -> Document:
    """Read a spec from YAML text; `source` names it in errors."""
    name = "the text" if source == "<string>" else f"'{source}'"
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise SpecError(f"{name} is not valid Unicode: a lone surrogate at offset {exc.start}",
                        Location(source, text.count("\n", 0, exc.start) + 1)) from None
    if size > max_bytes:
        raise LimitError(f"{name} is larger than the limit of {max_bytes:,} bytes",
                         Location(source), limit="max_bytes")
    return _parse(text.removeprefix("\ufeff"), source, name, max_items)


def _nearby(source: str) -> str | None:
    folder = os.path.dirname(source)
    try:
        with os.scandir(folder or ".") as entries:
            names = [e.name for e in islice(entries, 10_000) if e.is_file()]
    except OSError:
        return None
    hint = suggest(os.path.basename(source), names)
    return hint.replace("'", f"'{os.path.join(folder, '')}", 1) if hint and folder else hint


def _parse(text: str, source: str, name: str, max_items: int) -> Document:
    if _LOADER is yaml.SafeLoader:  # pure-Python PyYAML is quadratic in flow nesting
        depth = 0
        for ch in re.sub(r"[^\[\]{}]", "", text):
            depth = max(depth + (1 if ch in "[{" else -1), 0)
            if depth > _MAX_DEPTH:
                raise LimitError(f"the YAML nests deeper than {_MAX_DEPTH:,} levels",
                                 Location(source))
    builder = _Builder(source, max_items)
    loader = None
    try:
        loader = _LOADER(text)
        root, root_line = builder.run(loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        line = mark.line + 1 if mark else None
        if "nesting depth" in problem:
            raise LimitError(f"the YAML nests deeper than {_MAX_DEPTH:,} levels",
                             Location(source, line)) from None
        at = f" (column {mark.column + 1})" if mark else ""  # the location gives the line
        rows = text.splitlines()
        if mark and mark.column > 1024 and ("expected ','" in problem or "expected ':'" in problem):
            # PyYAML allows at most 1,024 characters in a key written without `? `: a very long
            # name, not a missing comma, is what it stumbled on
            raise SpecError(f"a key or name more than 1,024 characters long{at}: YAML allows "
                            "no longer key", Location(source, line),
                            "names are short identifiers such as w11 or a_1") from None
        excerpt = rows[mark.line] if mark and mark.line < len(rows) else None
        raise SpecError(f"not valid YAML: {problem}{at}", Location(source, line),
                        _indent_hint(rows, mark.line if mark else None) or _yaml_hint(problem),
                        excerpt, mark.column if mark else None) from None
    except yaml.YAMLError as exc:  # a ReaderError: a control character, reported by offset
        pos = min(getattr(exc, "position", 0) or 0, len(text))
        line = text.count("\n", 0, pos) + 1
        reason = getattr(exc, "reason", None) or "unreadable character"
        char = getattr(exc, "character", None)
        code = f" (#x{char:04x})" if isinstance(char, int) else ""
        raise SpecError(f"not valid YAML: {reason}{code}", Location(source, line),
                        "remove the character") from None
    except RecursionError:
        raise LimitError("the YAML nests too deeply", Location(source)) from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is _OPEN or (root is None and root_line is None):
        raise SpecError(f"{name} is empty: a spec needs at least `nodes:`")
    if not isinstance(root, dict):
        raise SpecError(f"the top level must be a mapping (key: value lines), found {_kind(root)}",
                        Location(source, root_line), "start with lines such as `params:` and "
                        "`nodes:`")
    return Document(root, source, text, builder.lines, builder.key_lines, builder.aliases)


class _Frame:
    """A list or mapping being filled while its events arrive."""

    __slots__ = ("value", "path", "anchor", "count", "height", "key", "key_line", "seen")

    def __init__(self, value: Any, path: Path, anchor: str | None, count: int) -> None:
        self.value, self.path, self.anchor, self.count = value, path, anchor, count
        self.height = 1
        self.key: str | None = None
        self.key_line = 0
        self.seen: dict[str, int] = {}


class _Builder:
    """Turns parser events into plain data, the lines of every path, and where aliases point."""

    def __init__(self, source: str, max_items: int) -> None:
        self.source, self.max_items = source, max_items
        self.lines: dict[Path, int] = {}
        self.key_lines: dict[Path, int] = {}
        self.aliases: dict[Path, Path] = {}
        self.anchors: dict[str, Any] = {}  # name -> _OPEN or (value, count, height, path, text)
        self.count = 0
        self.expanded = False

    def at(self, event: Any) -> Location:
        return Location(self.source, event.start_mark.line + 1)

    def tally(self, n: int, event: Any) -> None:
        self.count += n
        if self.count > self.max_items:
            if self.expanded:  # an alias bomb: no limit should be raised for it
                raise LimitError(f"the YAML expands to more than {self.max_items:,} items "
                                 "through its aliases (*name)", self.at(event),
                                 "write the data out instead of repeating aliases")
            raise LimitError(f"the YAML has more than {self.max_items:,} items", self.at(event),
                             limit="max_names")

    def run(self, loader: Any) -> tuple[Any, int | None]:
        stack: list[_Frame] = []
        root: Any = _OPEN
        root_line: int | None = None
        documents = 0
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        while loader.check_event():
            ev = loader.get_event()
            kind = type(ev)
            if kind is scalar_event and ev.tag is None and stack and stack[-1].key is not None \
                    and stack[-1].anchor is None and ev.anchor is None and ev.implicit[0]:
                # the common case first, quickly: a plain value in a mapping, e.g. `w: 0.5`
                parent = stack[-1]
                self.tally(1, ev)
                path = (*parent.path, parent.key)
                value = parent.value[parent.key] = _scalar(ev, self.source)
                self.lines[path] = ev.start_mark.line + 1
                self.key_lines[path], parent.key = parent.key_line, None
                continue
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise SpecError("contains more than one YAML document (a second '---' or "
                                    "'...'); keep one spec per file", self.at(ev))
                continue
            if kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                frame = stack.pop()
                if stack:
                    stack[-1].height = max(stack[-1].height, frame.height + 1)
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (frame.value, self.count - frame.count,
                                                  frame.height, frame.path, None)
                continue
            if kind is not scalar_event and kind is not alias_event \
                    and kind is not yaml.SequenceStartEvent and kind is not yaml.MappingStartEvent:
                continue  # stream start/end, document end
            if getattr(ev, "tag", None) is not None:  # nothing is ever built from a tag
                tag = ev.tag.replace("tag:yaml.org,2002:", "!!", 1)
                raise SpecError(f"YAML tags are not allowed: '{tag}'", self.at(ev),
                                "remove it: values are plain numbers and text")
            parent = stack[-1] if stack else None
            if parent is not None and isinstance(parent.value, dict) and parent.key is None:
                self.key(parent, ev)
                continue
            if len(stack) >= _MAX_DEPTH:
                raise LimitError(f"the YAML nests deeper than {_MAX_DEPTH:,} levels", self.at(ev))
            line = ev.start_mark.line + 1
            height, count_before = 0, self.count
            if parent is None:
                path: Path = ()
            elif isinstance(parent.value, list):
                path = (*parent.path, len(parent.value))
            else:
                path = (*parent.path, parent.key)
            if kind is alias_event:
                value, height = self.alias(ev, path, len(stack))
            elif kind is scalar_event:
                self.tally(1, ev)
                value = _scalar(ev, self.source)
            else:
                self.tally(1, ev)
                value = [] if isinstance(ev, yaml.SequenceStartEvent) else {}
            self.lines[path] = line
            if parent is None:
                root, root_line = value, line
                if value is None and isinstance(ev, yaml.ScalarEvent) and ev.value == "":
                    root_line = None  # a bare '---': as empty as no document at all
            elif isinstance(parent.value, list):
                parent.value.append(value)
                self.key_lines[path] = line
            else:
                parent.value[parent.key] = value
                self.key_lines[path], parent.key = parent.key_line, None
            if parent is not None:
                parent.height = max(parent.height, height + 1)
            if isinstance(ev, yaml.CollectionStartEvent):
                if ev.anchor is not None:
                    self.anchors[ev.anchor] = _OPEN
                stack.append(_Frame(value, path, ev.anchor, count_before))
            elif isinstance(ev, yaml.ScalarEvent) and ev.anchor is not None:
                self.anchors[ev.anchor] = (value, 1, 0, path, ev.value)
        return root, root_line

    def key(self, frame: _Frame, ev: Any) -> None:
        self.tally(1, ev)
        if isinstance(ev, yaml.CollectionStartEvent):
            found = "a list" if isinstance(ev, yaml.SequenceStartEvent) else "a mapping"
            raise SpecError(f"mapping keys must be plain names, found {found}", self.at(ev))
        if isinstance(ev, yaml.AliasEvent):
            text = self.anchor(ev)[4]
            if text is None:
                raise SpecError(f"mapping keys must be plain names, found the alias "
                                f"'*{ev.anchor}' of a list or mapping", self.at(ev))
        else:
            text = ev.value  # the source text: `1`, `on` and `null` stay names, not values
            if text == "<<" and ev.implicit[0]:
                raise SpecError("YAML merge keys ('<<') are not supported: write the keys out",
                                self.at(ev))
            if ev.anchor is not None:
                self.anchors[ev.anchor] = (_scalar(ev, self.source), 1, 0, (), text)
        line = ev.start_mark.line + 1
        if text in frame.seen:
            raise SpecError(f"duplicate key '{text}' (first on line {frame.seen[text]})",
                            Location(self.source, line), "rename or remove one of them")
        frame.seen[text], frame.key, frame.key_line = line, text, line

    def anchor(self, ev: Any) -> tuple:
        found = self.anchors.get(ev.anchor)
        if found is None:
            raise SpecError(f"unknown alias '*{ev.anchor}': no anchor '&{ev.anchor}' before it",
                            self.at(ev))
        if found is _OPEN:
            raise LimitError(f"the alias '*{ev.anchor}' is inside its own anchor "
                             f"'&{ev.anchor}', so it would expand forever", self.at(ev),
                             "remove the alias")
        return found

    def alias(self, ev: Any, path: Path, depth: int) -> tuple[Any, int]:
        value, count, height, target, _ = self.anchor(ev)
        self.expanded = True
        self.tally(count, ev)  # counted again at every use: this is what stops billion laughs
        if depth + height > _MAX_DEPTH:
            raise LimitError(f"the YAML nests deeper than {_MAX_DEPTH:,} levels", self.at(ev))
        if height:  # lines below the alias are found at the anchor
            self.aliases[path] = target
        return value, height


def _scalar(ev: Any, source: str) -> Any:
    """A scalar's value: None, bool, int, exact Fraction, float inf/nan, or str."""
    text = ev.value
    if not ev.implicit[0]:  # quoted and block scalars are always text
        return text
    kind = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)).rsplit(":", 1)[-1]
    if kind == "str" and not _EXP_FLOAT.fullmatch(text):
        return text
    where = Location(source, ev.start_mark.line + 1)
    if len(text) > _MAX_NUMBER_CHARS and (kind in ("int", "float") or _EXP_FLOAT.fullmatch(text)):
        raise SpecError(f"'{text[:20]}…' is not a usable number: it is {len(text):,} characters "
                        f"long; the limit is {_MAX_NUMBER_CHARS:,}", where)
    try:
        if kind == "null":
            return None
        if kind == "bool":
            return _CONSTRUCTOR.bool_values[text.lower()]
        if kind == "int":
            return _CONSTRUCTOR.construct_yaml_int(yaml.ScalarNode("", text))
        if kind == "float" or _EXP_FLOAT.fullmatch(text):
            return _number(text)
    except (ValueError, ArithmeticError) as exc:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise SpecError(f"'{shown}' is not a usable number: {exc}", where) from None
    return text


_NUMBERS: dict[str, Fraction | float] = {}  # text → value: a spec repeats its numbers
_NUMBERS_KEPT = 100_000


def _number(text: str) -> Fraction | float:
    """A YAML float's exact value (ValueError if pathgrad's number rule refuses it)."""
    value = _NUMBERS.get(text)
    if value is None:
        value = _read_number(text)
        if len(_NUMBERS) < _NUMBERS_KEPT:
            _NUMBERS[text] = value
    return value


def _read_number(text: str) -> Fraction | float:
    plain = text.replace("_", "").lower()
    sign = -1 if plain.startswith("-") else 1
    plain = plain.lstrip("+-")
    if plain in (".inf", ".nan"):
        return sign * float(plain[1:])
    if ":" in plain:  # YAML 1.1 base 60, e.g. 1:30.5
        total = Fraction(0)
        for part in plain.split(":"):
            total = total * 60 + Fraction(part)
        return sign * total
    mantissa, _, exponent = plain.partition("e")
    if exponent and abs(int(exponent)) > _MAX_EXPONENT:  # before Fraction builds 10^exponent
        raise ValueError("too large: a number must be below 1.7e308 in size"
                         if not exponent.startswith("-") else
                         "too small: a number other than 0 must be at least 1e-308 in size")
    problem = digits_problem(mantissa.replace(".", ""))
    if problem:
        raise ValueError(problem)
    whole, _, frac = plain.partition(".")
    if not exponent and (whole + frac).isdigit() and plain.isascii():  # 0.1234: no parsing
        return Fraction(sign * int(whole + frac), 10 ** len(frac))
    return sign * Fraction(plain)


def _indent_hint(rows: list[str], index: int | None) -> str | None:
    """A key indented unlike the key above it (YAML then blames quotes or a missing key):
    say so, naming both keys."""
    if index is None or index >= len(rows):
        return None
    m = re.match(r"( *)([^\s:#'\"{\[][^:#]*?):(\s|$)", rows[index])
    above = next((r for r in reversed(rows[:index])
                  if r.strip() and not r.lstrip().startswith("#")), None)
    if not m or above is None:
        return None
    mine, theirs = len(m.group(1)), len(above) - len(above.lstrip(" "))
    if mine == theirs or (mine > theirs and above.rstrip().endswith(":")):
        return None  # same level, or a mapping opened just above: the problem is elsewhere
    key, other = m.group(2).strip(), above.strip().split(":")[0]
    return (f"'{key}' is indented {mine} space{'s' * (mine != 1)} and '{other}' above it "
            f"{theirs}: keys of one mapping line up, so indent '{key}' like '{other}' (or like "
            "the key it belongs under)")


def _yaml_hint(problem: str) -> str | None:
    """What usually fixes the YAML error a student made."""
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "put quotes around a value that contains ': '"
    if "expected ',' or '}'" in problem or "expected ',' or ']'" in problem:
        return "close the bracket, or put quotes around a value that contains ','"
    if "cannot start any token" in problem:
        return "put quotes around the value"
    if "could not find expected ':'" in problem:
        return "write key: value, with a space after the ':'"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "a number"


def kind_of(value: object, numbers: bool = False) -> str:
    """What a value read from YAML is, for messages: 'a list', "the text 'x'", 'a number'
    (with `numbers`, 'the number 3')."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, str):
        return f"the text '{value}'" if len(value) < 40 else "a text"
    if not isinstance(value, int | float | Fraction | Decimal):
        return f"a {type(value).__name__}"
    if not numbers:
        return "a number"
    if isinstance(value, int):
        return f"the number {value}" if value.bit_length() < 64 else "a very large number"
    try:
        return f"the number {float(value):g}"
    except (OverflowError, ValueError):
        return "a number too large for a float"
