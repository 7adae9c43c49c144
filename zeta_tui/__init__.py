"""Zeta: a terminal ops console for observability."""

__version__ = "0.1.0"
