"""Fixtures for the sandbox tests (the helpers live in sandbox_support.py)."""

from sandbox_support import (  # noqa: F401  (supervisor fixtures)
    supervisor,
    supervisor_exec,
    supervisor_no_launcher,
    supervisor_scratch,
)
