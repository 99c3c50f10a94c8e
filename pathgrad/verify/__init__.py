"""Verification: `prove` (proof.py) picks how the sum over paths is proved equal to the direct
derivative — exact, modular, numeric (`methods`), or finite differences when no direct
derivative fits the time budget (`deadline`); `sampling` is the loop the numeric checks share."""
