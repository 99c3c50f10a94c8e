"""Verification: proving the sum over paths equal to the direct derivative (`methods`), and
the time budget with its finite-difference fallback (`deadline`)."""
