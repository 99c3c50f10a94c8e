"""Numbers at a point: the algebras (exact, mpmath, modular, degree bounds, NoValue) and one
evaluator per representation, both running any algebra: `evaluate` on sympy DAGs and
`points` on the spec's ASTs (its rules come from sympy.diff, so nothing is restated).
`exact` keeps rationals exact and decides kinks soundly; `exact.at_point` is what explain and
the pictures use, `points.point_values` what backprop, --top and the length table use."""
