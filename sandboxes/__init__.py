"""Execution sandboxes for untrusted code: the supervisor (``sandboxes.supervisor``) and its client."""
