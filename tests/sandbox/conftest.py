"""Fixtures for the sandbox tests (the helpers live in sandbox_support.py)."""

from sandbox_support import supervisor, supervisor_exec  # noqa: F401  (session-wide supervisor fixtures)
