"""Which identifiers may name an input, param or node, beyond `str.isidentifier`.

Every name must come back unchanged from the JSON (sympy parses those strings as Python does)
and must not look like another name or like pathgrad's own operators when printed:

- Python keywords (`lambda`, `None`, `if` …) do not parse back, so they are refused;
- Python reads identifiers in NFKC form (`µ` U+00B5 becomes `μ` U+03BC, `ﬁ` becomes `fi`), so a
  name that NFKC changes is refused with the form to write instead;
- a name mixing scripts (Latin `a` with Cyrillic `а`), or one that prints like another declared
  name, is refused; `·` (U+00B7, how pathgrad prints ×) and other punctuation are refused.
"""

from __future__ import annotations

import keyword
import unicodedata

__all__ = ["name_problem", "skeleton", "code_points"]

# letters of other scripts that print like Latin ones (Unicode TR39 confusables, the common ones)
_LOOKALIKE = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ү": "y", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D",
    # Greek
    "ο": "o", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "υ": "u", "χ": "x", "Α": "A", "Β": "B",
    "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin lookalikes of digits and each other
    "ℓ": "l", "ı": "i",
}


def code_points(text: str) -> str:
    """'а' → "'а' (U+0430 CYRILLIC SMALL LETTER A)"; ASCII text is shown as it is."""
    if text.isascii():
        return f"'{text}'"
    shown = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in text
                      if not c.isascii())
    return f"'{text}' ({shown})"


def skeleton(name: str) -> str:
    """The name with letters that print alike mapped to one letter: 'а1' and 'a1' agree."""
    return "".join(_LOOKALIKE.get(c, c) for c in name)


def _script(ch: str) -> str | None:
    """The script of a letter (LATIN, CYRILLIC, GREEK …); None for digits, '_' and marks."""
    if ch.isascii():
        return "LATIN" if ch.isalpha() else None
    if not ch.isalpha():
        return None
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


def name_problem(name: str) -> tuple[str, str | None] | None:
    """(why `name` is refused, a suggestion) or None; `name` is already an identifier.

    >>> name_problem("w11") is None
    True
    >>> name_problem("lambda")[0]
    "'lambda' is a Python keyword, so the JSON's expressions could not be read back"
    """
    if name.isascii():
        if keyword.iskeyword(name):
            return (f"'{name}' is a Python keyword, so the JSON's expressions could not be read "
                    "back", f"try '{name}_' or '{name[:3]}'")
        return None
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        return (f"the name {code_points(name)} is read as {code_points(normal)} by Python and "
                "sympy (Unicode NFKC)", f"write '{normal}'")
    for ch in name:
        if ch != "_" and unicodedata.category(ch).startswith("P"):
            hint = "write a*b to multiply" if ch == "·" else "use letters, digits and _"
            return (f"the name {code_points(name)} contains punctuation {code_points(ch)}",
                    hint)
    scripts = {s for s in map(_script, name) if s}
    if len(scripts) > 1:
        return (f"the name {code_points(name)} mixes scripts ({', '.join(sorted(scripts))}), "
                "so it can look like another name", "write it in one script")
    return None
