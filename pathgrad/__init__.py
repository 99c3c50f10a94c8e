"""pathgrad: the multivariable chain rule made visible.

∂E/∂w is the sum over every path from w to E of the product of the local partials along it.
`load` reads a network spec, `explain` lists those paths and proves their sum equal to
sympy's derivative of the composed loss.

Attributes load lazily so `pathgrad --help` never imports sympy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load": "api",
    "Spec": "spec.model",
    "Limits": "spec.values",
    "explain": "api",
    "Explanation": "api",
    "PathTerm": "analyses.explanation",
    "top_paths": "analyses.toppaths",
    "TopPaths": "analyses.toppaths",
    "backprop": "analyses.backprop",
    "Backprop": "analyses.backprop",
    "path_lengths": "analyses.lengths",
    "LengthDistribution": "analyses.lengths",
    "Verification": "verify.methods",
    "Network": "calculus",
    "Graph": "graph",
    "PathgradError": "errors",
    "SpecError": "errors",
    "ExpressionError": "errors",
    "GraphError": "errors",
    "UsageError": "errors",
    "LimitError": "errors",
    "widget": "widget",  # the live page in Jupyter; needs the notebook extra
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'pathgrad' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(__all__)
