"""What runs in a worker process: the worker protocol's app, the pool of scoring processes, the loop inside each
scoring process, and family resources. Nothing here imports `rewardgym.server` (see docs/architecture.md)."""
