"""Execution sandboxes for untrusted code: the supervisor (``rewardgym_sandboxes.supervisor``) and its client."""
