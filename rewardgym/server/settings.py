"""The gateway's limits, in a module of their own so the CLI reads its defaults without importing the app."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GatewaySettings:
    max_body_bytes: int = 64 * 1024 * 1024
    """Requests larger than this are refused with 413 before they are read."""
    max_items_per_request: int = 10_000
    max_queued_items: int = 50_000
    """Items admitted per environment (running or waiting); past this, 429 with Retry-After."""
    worker_slack_s: float = 30.0
    """Extra time granted to a worker beyond the items' deadlines before the gateway gives up on it."""
    admin_token: str | None = None
    """Bearer token of the admin routes (`/v1/images`); they exist only when a Docker runtime is given."""
