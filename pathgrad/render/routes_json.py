"""Paths by route as JSON data (`explain --format json`: "path_routes")."""

from __future__ import annotations

from typing import Any

from ..analyses.routes import RouteDistribution

__all__ = ["route_json"]


def route_json(dist: RouteDistribution) -> dict[str, Any]:
    """source, target, labels, total, gradient, routes[route, title, paths, value, share,
    lengths[length, paths, value, share]]."""
    out: dict[str, Any] = {
        "source": dist.source,
        "target": dist.target,
        "labels": dict(dist.labels),
        "total": int(dist.total),
        "gradient": dist.gradient,
        "routes": [{"route": c.route, "title": c.title, "paths": int(c.paths), "value": c.value,
                    "share": c.share,
                    "lengths": [{"length": b.length, "paths": int(b.paths), "value": b.value,
                                 "share": b.share} for b in c.bins]} for c in dist.classes],
    }
    if dist.note:
        out["note"] = dist.note
    return out
