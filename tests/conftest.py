"""Fixtures of the core tests; what they share with the drums plugin's tests is in support.py."""

from support import registered  # noqa: F401  (a fixture)
