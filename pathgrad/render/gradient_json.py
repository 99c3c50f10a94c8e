"""`pathgrad gradient --format json`. The keys are a contract: extend, never rename.

`{"loss", "value", "gradient": {param: float}, "verified", "method", "steps": [{"lr", "params":
{param: new value}, "loss_before", "loss_after"}]}` (`steps` only with --lr); numbers are
floats or null. Extra keys: `verification` (detail, error_bound), `check` (the independent
derivative of each param), `paths` (exact path counts), `notes` (why an entry is null),
`values` (the point), `update` (the params the steps change) and each step's `gradient`.
"""

from __future__ import annotations

from typing import Any

from ..analyses.gradient import Gradient

__all__ = ["gradient"]


def gradient(gr: Gradient) -> dict[str, Any]:
    """The contract keys, then the extra ones."""
    out: dict[str, Any] = {
        "loss": gr.loss,
        "value": gr.value,
        "gradient": dict(gr.gradient),
        "verified": bool(gr.verified),
        "method": gr.method,
    }
    if gr.steps:
        out["steps"] = [{"lr": s.lr, "params": dict(s.params), "loss_before": s.loss_before,
                         "loss_after": s.loss_after, "gradient": dict(s.gradient),
                         "verified": bool(s.verification.verified)} for s in gr.steps]
        out["update"] = list(gr.update)
    out["verification"] = {"detail": gr.verification.detail,
                           "error_bound": gr.verification.error_bound}
    out["check"] = dict(gr.check)
    out["paths"] = {p: int(k) for p, k in gr.paths.items()}
    if gr.notes:
        out["notes"] = dict(gr.notes)
    out["values"] = {k: None if v is None else float(v) for k, v in gr.values.items()}
    return out
