"""The stage-1 loss (`loss.py`, the entry point) and its building blocks."""
