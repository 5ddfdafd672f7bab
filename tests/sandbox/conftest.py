"""Fixtures for the sandbox tests (the helpers live in sandbox_support.py)."""

from sandbox_support import supervisor  # noqa: F401  (the session-wide supervisor fixture)
