"""What runs in the gateway process: the public HTTP app, routing, admission, metrics, and the runtimes that
start and reach workers. Nothing here imports `rewardgym.worker` (see docs/architecture.md)."""
