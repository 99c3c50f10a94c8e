"""The Python API: `load` a spec and `explain` a derivative, from a path, YAML text or a Spec.

>>> import pathgrad
>>> ex = pathgrad.explain("examples/question.yaml", "w11")   # doctest: +SKIP
>>> ex.save("question.pdf")                                    # doctest: +SKIP

The result is a `render.notebook.Explanation`: the analyses' record (paths, sum, direct,
value, verification …) with `to_text()`, `to_latex()`, `to_html()`, `to_markdown()`,
`to_json()`, `save(path)` and the Jupyter hooks. The library never prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .analyses.explanation import DEFAULT_MAX_PATHS
from .analyses.explanation import explain as _explain
from .progress import SILENT, Reporter
from .render.notebook import Explanation, wrap
from .spec.check import load as _load
from .spec.model import Spec
from .spec.values import Limits
from .verify.deadline import DEFAULT_VERIFY_TIMEOUT

__all__ = ["load", "explain", "Explanation"]


def load(source: str | os.PathLike[str] | Spec, *, limits: Limits | None = None) -> Spec:
    """A checked Spec from a file path or YAML text (a Spec is returned as it is).

    Raises pathgrad.SpecError (and its subclasses) with a one-line message.

    >>> load("inputs: {x: 2}\\nparams: {w: 3}\\nnodes: {y: w*x, E: y^2}").loss
    'E'
    """
    if isinstance(source, Spec):
        return source
    return _load(source, limits=limits)


def explain(spec: str | os.PathLike[str] | Spec, weight: str,
            values: Mapping[str, object] | None = None, *,
            max_paths: int = DEFAULT_MAX_PATHS,
            verify_timeout: float | None = DEFAULT_VERIFY_TIMEOUT,
            limits: Limits | None = None, progress: Reporter | None = None) -> Explanation:
    """∂loss/∂weight as the sum over every path from `weight` to the loss, verified.

    `spec` is a Spec, a path or YAML text; `values` overrides inputs and params (name →
    number); `max_paths` refuses to list more paths (LimitError), and so do `limits`
    (default: Limits.from_env()) a path too long or too many factors to write out; past
    `verify_timeout` seconds (None: no limit) sympy.diff is stopped and the sum is checked by
    finite differences; `progress` receives progress reports (default: none).

    >>> ex = explain("inputs: {x: 2}\\nparams: {w: 3}\\nnodes: {h: w*x, E: h^2 + w}", "w")
    >>> [p.nodes for p in ex.paths], ex.value, ex.verified
    ([('w', 'h', 'E'), ('w', 'E')], 25.0, True)
    """
    return wrap(_explain(load(spec), weight, values, max_paths=max_paths,
                         verify_timeout=verify_timeout, limits=limits,
                         progress=progress or SILENT))
