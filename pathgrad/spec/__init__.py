"""The spec stage: YAML text → a checked `Spec`.

Read in this order: `source` (YAML with line numbers, no tags), `grammar` (the expression
language), `values` (leaf numbers and size limits), `model` (the `Spec` record), `builders`
(mlp, rnn, residual, batch: blocks that write nodes), `check` (document → Spec: the only
checker), `dump` (Spec → nodes-form YAML).
"""

from __future__ import annotations

from .check import BUILDER_KEYS, SPEC_KEYS, from_document, load
from .model import Spec, apply_values, check_weight
from .values import LIMIT_ENV, Limits, parse_value

__all__ = ["load", "from_document", "Spec", "Limits", "LIMIT_ENV", "parse_value",
           "check_weight", "apply_values", "SPEC_KEYS", "BUILDER_KEYS"]
