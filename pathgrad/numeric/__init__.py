"""Numbers at a point: the algebras (mpmath, modular, degree bounds, NoValue) and the
evaluators that run them over sympy DAGs (`evaluate`) and over the spec's ASTs (`points`)."""
