"""Fulcrum: end-to-end encrypted messaging with public safety designed in."""

__version__ = "0.1.0"
