"""A spec in the nodes form, as YAML text: every name a builder generated, ready to edit.

`to_yaml(spec)` writes name, description, inputs, params, nodes, loss and latex; loading the
text back gives the same network (the same names, expression ASTs, exact values, loss and
display names). Values are written exactly: finite decimals as numbers, others as fractions
in quotes ('1/3'), which the spec reader turns back into the same Fraction.
"""

from __future__ import annotations

import re
from fractions import Fraction

import yaml

from . import grammar as g
from .model import Spec

__all__ = ["to_yaml", "yaml_scalar"]

_RESOLVER = yaml.resolver.Resolver()
_PLAIN = re.compile(r"[A-Za-z_(][A-Za-z0-9_ .+\-*/^(),]*")  # what to_text writes, or a name
_STR = "tag:yaml.org,2002:str"


def yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar that reads back as that very string."""
    if (_PLAIN.fullmatch(text) or (text[:1] == "-" and _PLAIN.fullmatch(text[1:]))) \
            and text == text.strip() \
            and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR:
        return text
    if text.isprintable() and "'" not in text:
        return f"'{text}'"  # single quotes keep LaTeX backslashes as they are
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def _escape(ch: str) -> str:
    """One character inside a YAML double-quoted scalar: unprintables as escapes."""
    if ch in '"\\':
        return "\\" + ch
    if ch.isprintable():
        return ch
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _value(value: Fraction | None) -> str:
    if value is None:
        return "null"
    text = g.to_text(g.Num(value))
    return f"'{text}'" if "/" in text else text


def to_yaml(spec: Spec, *, header: bool = True) -> str:
    """The nodes-form YAML of `spec`; `pathgrad.load` reads it back to the same network."""
    out: list[str] = []
    if header:
        via = f" (built by {', '.join(spec.meta.get('builders') or [spec.builder])})" \
            if spec.builder else ""
        out.append(f"# The nodes form of {spec.source}{via}, written by `pathgrad expand`.")
        for line in spec.meta.get("summary", []):
            out.append(f"# {line}")
        init = spec.meta.get("init")
        if init:
            out.append(f"# Values of {len(init['initialized']):,} params come from the "
                       f"initializer (seed {init['seed']}).")
    for key in ("name", "description"):
        text = getattr(spec, key)
        if text is not None:
            out.append(f"{key}: {yaml_scalar(text)}")
    for section, leaves in (("inputs", spec.inputs), ("params", spec.params)):
        if leaves:
            out.append(f"{section}:")
            out.extend(f"  {yaml_scalar(n)}: {_value(v)}" for n, v in leaves.items())
    out.append("nodes:")
    out.extend(f"  {yaml_scalar(n)}: {yaml_scalar(g.to_text(e))}" for n, e in spec.nodes.items())
    out.append(f"loss: {yaml_scalar(spec.loss)}")
    if spec.latex:
        out.append("latex:")
        rank = {n: i for i, n in enumerate(spec.names)}
        names = sorted(spec.latex, key=lambda n: rank.get(n, len(rank)))
        out.extend(f"  {yaml_scalar(n)}: {yaml_scalar(spec.latex[n])}" for n in names)
    return "\n".join(out) + "\n"
